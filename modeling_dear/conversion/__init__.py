# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Converters from released checkpoints to DEAR's modules, each a command line:

    python -m modeling_dear.conversion.side4video --checkpoint side4video_ssv2.pth --output s4v-ssv2
    python -m modeling_dear.conversion.videomamba CKPT OUT --variant tiny

`checkpoints` holds what they share: the checkpoint reader and the conversion report. The converters are not
imported here, so that `python -m` runs each one once.
"""

from .checkpoints import ConversionReport, read_checkpoint

__all__ = ["ConversionReport", "read_checkpoint"]
