#!/usr/bin/env python
# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Make any video dataset RGB-D (videos + per-frame estimated depth) from the layout you already have: class
folders, split lists, UCF101/HMDB51 files, a Kinetics CSV, segments of long videos, a `datasets` dataset, SSv2.

    python examples/prepare_dataset.py --format videofolder --source /data/clips --output_dir /data/clips_depth
    accelerate launch --num_processes 8 examples/prepare_dataset.py --format kinetics --source ... --annotations ...

The same command as `dear-prepare` (`modeling_dear.cli.prepare`, which describes every format; `--help` lists the
arguments). Run it again to resume after a crash or Ctrl-C.
"""

import sys

from modeling_dear.cli.prepare import main

if __name__ == "__main__":
    sys.exit(main())
