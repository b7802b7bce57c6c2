#!/usr/bin/env python
# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Train and evaluate DEAR on any prepared video dataset: a folder or Hub id that `dear-prepare` (or
`dear-prepare-ssv2`) wrote, with its own classes, or the built-in synthetic dataset.

    # Kinetics-like data: frames at a fixed stride, no SSv2 left/right label swaps needed (flips keep labels)
    accelerate launch examples/run_video_classification.py --preset dear --dataset /data/k400_depth \\
        --sampling stride --frame_stride 8 --output_dir outputs/dear-k400 --do_train --do_eval

    # beyond one disk: stream the Parquet shards (each process its own), a fixed number of steps
    accelerate launch examples/run_video_classification.py --preset dear --dataset me/k400-depth --streaming \\
        --max_steps 60000 --sampling stride --frame_stride 8 --output_dir outputs/dear-k400 --do_train --do_eval

The same command as `dear-train` and `examples/run_ssv2.py` (`modeling_dear.cli.train`); the recipe and its
arguments are in `modeling_dear.training.recipe` (`--help` lists them).
"""

import sys

from modeling_dear.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
