# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Where the clips of a dataset to prepare come from: one reader per layout people already have (class folders,
split lists, UCF101/HMDB51 files, a Kinetics CSV, segments of long videos, a `datasets` dataset, SSv2's download).

Every reader returns one `SourceData`: the label sets with their class names and, per split, the `ClipEntry`s to
prepare. The preparation (`modeling_dear.data.prepare`) needs nothing else, so a new layout is one new reader.
"""

from .base import ClipEntry, SourceData, SourceInputError

__all__ = ["ClipEntry", "SourceData", "SourceInputError"]
