#!/usr/bin/env python
# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Train and evaluate DEAR on Something-Something V2 (with depth), or on the built-in synthetic dataset.

    accelerate launch examples/run_ssv2.py --preset dear --dataset /data/ssv2_depth \\
        --output_dir outputs/dear-ssv2 --do_train --do_eval --do_predict

The same command as `dear-train` (`modeling_dear.cli.train`) and `examples/run_video_classification.py`; SSv2's
conventions (TSN segment sampling, flips that swap its left/right classes) are the defaults. The recipe and its
arguments are in `modeling_dear.training.recipe` (`--help` lists them).
"""

import sys

from modeling_dear.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
