#!/usr/bin/env python
# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Build the Something-Something V2 RGB-D dataset (videos + per-frame estimated depth) from your own download.

    python examples/prepare_ssv2.py --videos /data/ssv2/downloads --labels /data/ssv2/labels \\
        --output_dir /data/ssv2_depth
    accelerate launch --num_processes 8 examples/prepare_ssv2.py --videos ... --labels ... --output_dir ...

The same command as `dear-prepare-ssv2` (`modeling_dear.cli.prepare_ssv2`, which describes it; `--help` lists the
arguments). Run it again to resume after a crash or Ctrl-C.
"""

import sys

from modeling_dear.cli.prepare_ssv2 import main

if __name__ == "__main__":
    sys.exit(main())
