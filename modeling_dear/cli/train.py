# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`dear-train`: train, evaluate and test DEAR on any prepared video dataset (Something-Something V2 with depth, a
dataset `dear-prepare` made, the built-in synthetic one), with Side4Video's SSv2 recipe as the defaults
(`modeling_dear.training.recipe`).

    accelerate launch -m modeling_dear.cli.train --preset dear --dataset /data/ssv2_depth \\
        --output_dir outputs/dear-ssv2 --do_train --do_eval --do_predict
    dear-train --preset tiny --dataset synthetic --output_dir outputs/tiny --do_train --do_eval   # one process

`examples/run_video_classification.py` (any dataset) and `examples/run_ssv2.py` (SSv2) are the same command as
scripts (`accelerate launch examples/run_video_classification.py ...`). Arguments: `--help`, or one JSON file
holding them all. A value that cannot work (`--frame_stride 0`, `--streaming` without `--max_steps`, ...) ends the
command with one line naming the option and the fix, and exit status 2.
"""

from __future__ import annotations

import sys

from ..training.arguments import ArgumentError
from ..training.recipe import run


def main(argv: list[str] | None = None) -> int:
    """Run the recipe with the command line's arguments (or `argv`); 0 when it finished, 2 for unusable arguments."""
    try:
        run(argv)
    except ArgumentError as error:
        print(f"dear-train: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
