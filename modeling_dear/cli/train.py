# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`dear-train`: train, evaluate and test DEAR on Something-Something V2 (with depth), or on the built-in synthetic
dataset, with Side4Video's recipe as the defaults (`modeling_dear.training.recipe`).

    accelerate launch -m modeling_dear.cli.train --preset dear --dataset /data/ssv2_depth \\
        --output_dir outputs/dear-ssv2 --do_train --do_eval --do_predict
    dear-train --preset tiny --dataset synthetic --output_dir outputs/tiny --do_train --do_eval   # one process

`examples/run_ssv2.py` is the same command as a script (`accelerate launch examples/run_ssv2.py ...`). Arguments:
`--help`, or one JSON file holding them all.
"""

from __future__ import annotations

import sys

from ..training.recipe import run


def main(argv: list[str] | None = None) -> int:
    """Run the recipe with the command line's arguments (or `argv`); 0 when it finished."""
    run(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
