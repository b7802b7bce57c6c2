# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Build the Something-Something V2 RGB-D dataset from a user's own SSv2 download.

SSv2 may not be redistributed, so DEAR builds its dataset from the files each user downloads from Qualcomm:

* the videos: either the 20 archive parts `20bn-something-something-v2-00` ... `-19` (concatenated, one
  gzipped tar of `20bn-something-something-v2/<id>.webm`), or the folder they extract to;
* the labels: `labels.json` ({"template name": "id"}), `train.json` and `validation.json` (lists of
  {"id", "label", "template", "placeholders"}) and `test.json` (list of {"id"}), named either like that
  (the current download's `labels/` folder, or its zip) or `something-something-v2-<name>.json`.

Every video gets the depth of each of its frames from a monocular depth model (`DepthEstimator`), stored as
a frame-aligned depth video (`video_io.encode_depth_video`). The result is a folder that
`datasets.load_dataset(folder)` reads offline:

    <output_dir>/README.md                            dataset card: splits, data files, features
    <output_dir>/data/train-00000-of-00338.parquet    rows with the columns of `data.schema.video_features`
    <output_dir>/data/validation-...parquet, data/test-...parquet     (test: label = -1)
    <output_dir>/prepare_ssv2_report.json             videos that failed or were missing, with the reason
    <output_dir>/.prepare_ssv2/                       plan and per-shard manifests (hidden from `load_dataset`)

The Parquet files carry the features in their schema metadata and the card repeats them, so `label` comes
back as a `ClassLabel` with the 174 template names of `labels.json`.

Scale: the work is cut into shards of `shard_size` videos of one split (sorted by id, so the plan does not
depend on the order of the JSON files or on the number of processes). Under `accelerate launch` each process
(one GPU each, `accelerate.PartialState`) takes every `world_size`-th shard. A shard is written atomically
(temporary file, then rename) and then marked done by a small manifest; a restarted run skips finished
shards, so a crash or Ctrl-C loses at most the shards in flight (one per process). Processes never wait on
a collective: the main process assembles the card and the report once every shard's manifest exists (a
file-system barrier, so that a slow process cannot trip a communication time-out).

Unreadable videos (corrupt, truncated, not a video) and ids without a video file are recorded with their
error and skipped; video files with no label entry are counted and ignored.

SSv2 is one source of the preparation engine (`modeling_dear.data.prepare`: plan, shards, decoding, rows,
card), which does the work; this package holds what is SSv2's own: `labels` (label files), `archive` (archive
parts and video folders), `card` (its dataset card and report) and `prepare` (`prepare_ssv2`, which checks the
download and runs the engine on it).
"""

from ..prepare.engine import PrepareSummary, partial_state
from ..prepare.plan import DEFAULT_SHARD_SIZE, PLAN_VERSION, Shard, plan_shards
from .archive import ARCHIVE_PREFIX, VIDEO_EXTENSIONS, extract_archive, find_archive_parts, index_videos
from .card import REPORT_FILE
from .errors import SSv2InputError
from .labels import SPLITS, Annotation, normalize_template, read_annotations
from .prepare import STATE_DIR, prepare_ssv2

__all__ = [
    "ARCHIVE_PREFIX",
    "DEFAULT_SHARD_SIZE",
    "PLAN_VERSION",
    "REPORT_FILE",
    "SPLITS",
    "STATE_DIR",
    "VIDEO_EXTENSIONS",
    "Annotation",
    "PrepareSummary",
    "SSv2InputError",
    "Shard",
    "extract_archive",
    "find_archive_parts",
    "index_videos",
    "normalize_template",
    "partial_state",
    "plan_shards",
    "prepare_ssv2",
    "read_annotations",
]
