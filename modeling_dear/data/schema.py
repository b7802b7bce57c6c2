# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The columns of an SSv2-style dataset with depth, shared by the SSv2 preparation and the synthetic data."""

from __future__ import annotations

import csv
from pathlib import Path

SSV2_LABELS_FILE = Path(__file__).with_name("ssv2_labels.csv")
# The splits of an SSv2-style dataset, in this order (the synthetic data seeds clips by a split's index here).
SPLITS = ("train", "validation", "test")

# Columns every prepared split carries. `video` and `depth` hold whole encoded files so that a dataset
# is self-contained: `video` as the source ships it (WebM/VP9 for SSv2), `depth` a frame-aligned grey
# video (see `video_io.encode_depth_video`). Both are `datasets.Video(decode=False)`: rows give
# `{"bytes": ..., "path": ...}` (the processor and `video_io` take that as it is), nothing is decoded on
# access (no torchcodec needed), and the Hub's dataset viewer shows them as videos.
#
# A modality's column is named after it (`configuration_dear.modality_column`): `video` for RGB, `depth`, and
# `<modality>` for the modality of any other encoder (`flow`, ...), each a frame-aligned video of the same kind.
COLUMNS = (
    "video_id",
    "video",
    "depth",
    "label",
    "template",
    "placeholders",
    "num_frames",
    "fps",
    "height",
    "width",
    "depth_model",
)


def ssv2_label_names() -> list[str]:
    """The 174 SSv2 template names, in id order."""
    with open(SSV2_LABELS_FILE, newline="", encoding="utf-8") as handle:
        rows = sorted(((int(row["id"]), row["name"]) for row in csv.DictReader(handle)), key=lambda r: r[0])
    if [i for i, _ in rows] != list(range(len(rows))):
        raise ValueError(f"{SSV2_LABELS_FILE}: ids are not 0..{len(rows) - 1}")
    return [name for _, name in rows]


def modality_columns(modalities=("rgb", "depth")) -> list[str]:
    """The video columns a dataset for these modalities holds, RGB's (`video`) first."""
    from ..configuration_dear import RGB, modality_column

    return [modality_column(m) for m in dict.fromkeys((RGB, *modalities))]


def video_features(label_names: list[str], modalities=("rgb", "depth")):
    """`datasets.Features` of an SSv2-style split (the test split uses the same features, label = -1): one
    `Video(decode=False)` column per modality (`video`, `depth`, `<modality>`: see `modality_columns`), `label`,
    SSv2's `template` and `placeholders`; `depth_model` only with depth. `prepared_features` with SSv2's columns."""
    from datasets import List, Value

    return prepared_features(
        {"label": list(label_names)},
        {"template": Value("string"), "placeholders": List(Value("string"))},
        modalities,
    )


def prepared_features(label_sets: dict, extra_features: dict | None = None, modalities=("rgb", "depth")):
    """`datasets.Features` of a prepared dataset of any source, in column order: `video_id`, one
    `Video(decode=False)` column per modality, one `ClassLabel` per label set (`label` for a single one), the
    source's own columns (`extra_features`), `num_frames`, `fps`, `height`, `width` and, with depth, `depth_model`."""
    from datasets import ClassLabel, Features, Value, Video

    return Features(
        {
            "video_id": Value("string"),
            **{column: Video(decode=False) for column in modality_columns(modalities)},
            **{column: ClassLabel(names=list(names)) for column, names in label_sets.items()},
            **dict(extra_features or {}),
            "num_frames": Value("int32"),
            "fps": Value("float32"),
            "height": Value("int32"),
            "width": Value("int32"),
            # which model estimated the depth column
            **({"depth_model": Value("string")} if "depth" in modalities else {}),
        }
    )
