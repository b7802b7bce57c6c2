# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`prepare_ssv2`: SSv2 as one source of the preparation engine (`data.prepare`).

It reads and checks the label files and the videos or archive parts, then hands the engine an `SSv2Job`:
the annotations as clips, SSv2's columns (`label`, `template`, `placeholders`), its state folder
(`.prepare_ssv2`), report (`prepare_ssv2_report.json`) and card, the extraction of the archive parts (once,
on the main process, after the plan is written) and what a missing file means (an id of the label files
without a video).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from ...depth_estimation import DEFAULT_DEPTH_MODEL
from ..prepare.engine import PreparationJob, PrepareSummary, partial_state, run_preparation, wait_for
from ..prepare.plan import DEFAULT_SHARD_SIZE, sort_key
from ..schema import video_features
from ..sources.base import ClipEntry
from .archive import extract_archive, find_archive_parts, index_videos, require_archive, require_videos
from .card import REPORT_FILE, write_card_and_report
from .errors import SSv2InputError
from .labels import SPLITS, Annotation, read_annotations

logger = logging.getLogger(__name__)

STATE_DIR = ".prepare_ssv2"  # a leading dot: datasets' data-file resolution skips it


def _clip(annotation: Annotation) -> ClipEntry:
    return ClipEntry(
        clip_id=annotation.video_id,
        path="",  # known once the videos are indexed (after extraction): `SSv2Job.locate`
        labels={"label": annotation.label},
        extra=(("template", annotation.template), ("placeholders", list(annotation.placeholders))),
    )


class SSv2Job(PreparationJob):
    state_dir = STATE_DIR
    report_file = REPORT_FILE
    error = SSv2InputError
    writer = "prepare_ssv2"

    def __init__(self, label_names, annotations, videos, parts, extract_dir, keep_extracted):
        from datasets import List, Value

        super().__init__(
            {split: [_clip(a) for a in entries] for split, entries in annotations.items()},
            {"label": list(label_names)},
            {"template": Value("string"), "placeholders": List(Value("string"))},
        )
        self.label_names = list(label_names)
        self.videos, self.parts = videos, parts
        self.extract_dir, self.keep_extracted = extract_dir, keep_extracted
        self.folder: Path | None = None
        self.found: dict[str, Path] = {}

    def features(self):
        return video_features(self.label_names)

    def labels_digest(self) -> str:
        return hashlib.sha256("\n".join(self.label_names).encode()).hexdigest()

    def ids_digest(self, entries) -> str:
        ordered = sorted(entries, key=lambda e: sort_key(e.clip_id))
        return hashlib.sha256("\n".join(f"{e.clip_id}\t{e.labels['label']}" for e in ordered).encode()).hexdigest()

    def prepare_videos(self, state, work_dir: Path, progress: bool, poll_seconds: float) -> None:
        if self.parts is not None:
            folder = Path(self.extract_dir) if self.extract_dir is not None else work_dir / "videos"
            if state.is_main_process:
                extract_archive(self.parts, folder, progress=progress)
            else:
                wait_for([folder / ".extracted.json"], poll_seconds, "the main process to extract the archive")
        else:
            folder = Path(self.videos)
        self.folder, self.found = index_videos(folder)

    def locate(self, entry: ClipEntry) -> str | None:
        path = self.found.get(entry.clip_id)
        return None if path is None else str(path)

    def missing(self, entry: ClipEntry) -> tuple[str | None, str]:
        return None, f"{self.folder / (entry.clip_id + '.webm')}: no video file for this id"

    def note_inputs(self, state, output_dir: Path, summary: PrepareSummary) -> None:
        wanted = {e.clip_id for entries in self.splits.values() for e in entries}
        summary.videos_unlabelled = sum(1 for video_id in self.found if video_id not in wanted)
        missing_ids = wanted - set(self.found)
        if state.is_main_process:
            if summary.videos_unlabelled:
                logger.warning(
                    "%s: %d video files have no entry in the label files of %s and are ignored",
                    self.folder,
                    summary.videos_unlabelled,
                    "/".join(self.splits),
                )
            if missing_ids:
                logger.warning(
                    "%s: %d ids of the label files have no video file (listed in %s)",
                    self.folder,
                    len(missing_ids),
                    output_dir / REPORT_FILE,
                )

    def write_card_and_report(self, output_dir, work_dir, shards, plan, features, summary, tag) -> None:
        write_card_and_report(
            output_dir, work_dir, shards, plan, features, list(self.splits), summary, self.folder, tag
        )

    def finish(self, work_dir: Path) -> None:
        if self.parts is not None and self.extract_dir is None and not self.keep_extracted:
            shutil.rmtree(work_dir / "videos", ignore_errors=True)


def prepare_ssv2(
    videos: str | os.PathLike | Sequence[str | os.PathLike],
    labels: str | os.PathLike,
    output_dir: str | os.PathLike,
    depth_model=DEFAULT_DEPTH_MODEL,
    *,
    splits: Sequence[str] = SPLITS,
    shard_size: int = DEFAULT_SHARD_SIZE,
    batch_size: int = 32,
    num_workers: int = 4,
    encode_threads: int = 2,
    decode_backend: str = "auto",
    depth_codec_options: dict[str, str] | None = None,
    extract_dir: str | os.PathLike | None = None,
    keep_extracted: bool = False,
    retry_failed: bool = False,
    progress: bool = True,
    poll_seconds: float = 10.0,
    **depth_model_kwargs,
) -> PrepareSummary:
    """Build (or resume building) the SSv2 RGB-D dataset in `output_dir`. See `modeling_dear.data.ssv2`.

    Args:
        videos: the folder of `<id>.webm` files, or the archive parts (their folder, one part, a list, or
            one whole tar.gz), which are first streamed into `extract_dir`.
        labels: the folder (or zip) with labels.json, train.json, validation.json, test.json.
        output_dir: the dataset folder; `datasets.load_dataset(output_dir)` reads it.
        depth_model: a transformers depth checkpoint (name or path) or a ready `DepthEstimator`.
        splits: which splits to build (only their label files are needed).
        shard_size: videos per Parquet shard: the unit of resumption.
        batch_size: frames per depth-model forward pass.
        num_workers: DataLoader processes that read and decode videos (0: in this process).
        encode_threads: threads encoding depth videos (PyAV releases the GIL while encoding).
        decode_backend: "auto", "decord" or "pyav" (see `video_io`).
        depth_codec_options: FFmpeg options for the depth video (default `video_io.DEPTH_CODEC_OPTIONS`,
            lossless); e.g. `{"crf": "10", "preset": "veryfast", "tune": "fastdecode"}` for smaller, slightly lossy
            files (bench/depth_storage.py).
        extract_dir: where archive parts are extracted (default `output_dir/.prepare_ssv2/videos`, deleted
            when the dataset is complete unless `keep_extracted`).
        retry_failed: redo finished shards that recorded failed or missing videos.
        progress: tqdm progress bar (on the local main process).
        poll_seconds: how often the main process checks for the other processes' shards at the end.
        **depth_model_kwargs: passed to `DepthEstimator` (`normalize`, `local_files_only`, ...).

    Returns a `PrepareSummary` (printable) of this process's work; on the main process, with the totals.
    """
    # The download, checked before anything is written.
    label_names, annotations = read_annotations(labels, splits)
    parts = find_archive_parts(videos)
    if parts is None:
        require_videos(videos)
    else:
        require_archive(parts[0])
    job = SSv2Job(label_names, annotations, videos, parts, extract_dir, keep_extracted)
    return run_preparation(
        job,
        output_dir,
        depth_model,
        shard_size=shard_size,
        batch_size=batch_size,
        num_workers=num_workers,
        encode_threads=encode_threads,
        decode_backend=decode_backend,
        depth_codec_options=depth_codec_options,
        retry_failed=retry_failed,
        progress=progress,
        poll_seconds=poll_seconds,
        **depth_model_kwargs,
    )


__all__ = ["STATE_DIR", "SSv2Job", "partial_state", "prepare_ssv2"]
