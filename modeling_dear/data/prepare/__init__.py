# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The preparation engine: any video dataset a source reader describes (`data.sources.SourceData`) becomes an
RGB-D dataset with estimated depth, resumably and across processes. SSv2 (`data.ssv2`) is one of its sources.

    <output_dir>/README.md                            dataset card: source format, licence, depth model and
                                                      every setting of it, splits, features
    <output_dir>/data/train-00000-of-00004.parquet    rows: video_id, video, depth, one ClassLabel column per
                                                      label set ('label' for one), the source's own columns,
                                                      num_frames, fps, height, width, depth_model
    <output_dir>/prepare_report.json                  clips that failed or were missing, entries the reader left
                                                      out, the settings
    <output_dir>/.prepare/                            plan.json and per-shard manifests (hidden from load_dataset)

`README.md` and `data/` are what `load_dataset(output_dir)` reads and what a push to the Hub uploads
(`dataset_files`).

How the work goes (`engine.run_preparation`): every input and option is checked before anything is written;
the plan (`plan`) cuts each split's clips, sorted by id, into shards of `shard_size` and records every setting
that changes the stored depth, so a resume with other settings is refused, naming them; under `accelerate
launch` each process takes every `world_size`-th shard; a shard is written atomically and marked done by a
manifest with its file's length and sha256 (checked before a re-run skips it); the main process waits for
every manifest (a file-system barrier) and writes the card and the report (`card`).

A clip is a whole file (stored as it is) or a segment of a long video (`segments`): only the segment's frames
are decoded (one open file per shard for all its segments of a video, seeking to each), depth-estimated and
stored as a clip of its own, its RGB re-encoded as H.264 MP4 (crf 17). Clips longer than
`shards.STREAM_ABOVE_FRAMES` frames stream through decode → depth → encode in chunks (`rows`). Decoding runs in
DataLoader workers (`decoding`), depth encoding in a thread pool (`shards`).
"""

from .card import REPORT_FILE
from .engine import (
    DATA_DIR,
    PreparationJob,
    PrepareSummary,
    SourceJob,
    dataset_files,
    partial_state,
    prepare_dataset,
    run_preparation,
)
from .plan import DEFAULT_SHARD_SIZE, PLAN_VERSION, STATE_DIR, Shard, depth_settings, plan_shards
from .segments import SEGMENT_VIDEO_CODEC, SEGMENT_VIDEO_OPTIONS

__all__ = [
    "DATA_DIR",
    "DEFAULT_SHARD_SIZE",
    "PLAN_VERSION",
    "REPORT_FILE",
    "SEGMENT_VIDEO_CODEC",
    "SEGMENT_VIDEO_OPTIONS",
    "STATE_DIR",
    "PreparationJob",
    "PrepareSummary",
    "Shard",
    "SourceJob",
    "dataset_files",
    "depth_settings",
    "partial_state",
    "plan_shards",
    "prepare_dataset",
    "run_preparation",
]
