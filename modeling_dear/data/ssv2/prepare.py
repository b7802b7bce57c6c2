# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`prepare_ssv2`: the whole preparation, from the inputs to the finished dataset, on one process of many.

It checks every input before writing anything (label files, videos or archive parts, codec options, depth
model, an earlier run's plan), writes the plan, extracts the archive parts once (main process), runs this
process's unfinished shards and, on the main process, waits for every shard's manifest (a file-system barrier,
so that a slow process cannot trip a communication time-out) and writes the card and the report.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...atomic_write import write_json
from ...depth_estimation import DEFAULT_DEPTH_MODEL, DepthEstimator
from ...video_io import DEPTH_CODEC
from ..schema import video_features
from .archive import extract_archive, find_archive_parts, index_videos, require_archive, require_videos
from .card import REPORT_FILE, write_card_and_report
from .errors import SSv2InputError
from .labels import SPLITS, read_annotations
from .plan import (
    DEFAULT_SHARD_SIZE,
    PLAN_FILE,
    STATE_DIR,
    build_plan,
    check_earlier_plan,
    discard_earlier_plan,
    plan_shards,
)
from .shards import ShardRun, manifest_path, read_manifest, run_shards

logger = logging.getLogger(__name__)


@dataclass
class PrepareSummary:
    """What a call did on this process (`videos_*`, `frames`, `bytes_written`, `seconds`) and, on the main
    process once the dataset is assembled, the totals of the whole dataset (`totals`)."""

    output_dir: str
    process_index: int = 0
    num_processes: int = 1
    shards_done: int = 0
    shards_skipped: int = 0
    videos_done: int = 0
    videos_failed: int = 0
    videos_missing: int = 0
    videos_skipped: int = 0  # in shards a previous run finished
    videos_unlabelled: int = 0  # files with no label entry, ignored
    frames: int = 0
    bytes_written: int = 0
    seconds: float = 0.0
    complete: bool = False
    report: str | None = None
    totals: dict = field(default_factory=dict)

    def __str__(self) -> str:
        rate = self.videos_done / self.seconds if self.seconds else 0.0
        frame_rate = self.frames / self.seconds if self.seconds else 0.0
        text = (
            f"process {self.process_index} of {self.num_processes}: {self.videos_done} videos done, "
            f"{self.videos_failed} failed ({self.videos_missing} missing), {self.videos_skipped} skipped as done "
            f"({self.shards_skipped} shards), {self.bytes_written / 1e6:.1f} MB written in {self.seconds:.1f} s "
            f"({rate:.2f} videos/s, {frame_rate:.1f} frames/s)"
        )
        if self.totals:
            t = self.totals
            text += (
                f"\ndataset: {', '.join(f'{s} {n}' for s, n in t['rows'].items())} rows; {t['failed']} failed, "
                f"{t['missing']} missing, {t['unlabelled']} unlabelled videos ignored; "
                f"{t['bytes'] / 1e9:.2f} GB in {self.output_dir}"
            )
        return text


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
    start = time.perf_counter()
    state = partial_state()
    rank, world = state.process_index, state.num_processes
    output_dir = Path(output_dir)
    work_dir = output_dir / STATE_DIR
    tag = f"rank{rank}-{os.getpid()}"

    # 1. Inputs, checked before anything is written.
    label_names, annotations = read_annotations(labels, splits)
    parts = find_archive_parts(videos)
    features = video_features(label_names)
    codec_options = None if depth_codec_options is None else {str(k): str(v) for k, v in depth_codec_options.items()}
    # a DepthEstimator, or anything with its `estimate_clips`, `name` and `normalize`
    estimator = depth_model if hasattr(depth_model, "estimate_clips") else None
    model_name = estimator.name if estimator is not None else os.fspath(depth_model)
    normalize = getattr(estimator, "normalize", None) or depth_model_kwargs.get("normalize", "clip")
    shards = plan_shards(annotations, shard_size)
    plan = build_plan(annotations, label_names, shards, shard_size, model_name, normalize, codec_options)
    plan_path = work_dir / PLAN_FILE
    changed = check_earlier_plan(plan, output_dir, work_dir)  # what differs from an earlier run's plan

    # Everything else that can fail before the work starts, checked before the plan is written: a plan
    # written by a run that could not start would bind the output folder to that run's (wrong) settings.
    if parts is None:
        require_videos(videos)
    else:
        require_archive(parts[0])
    _check_codec_options(codec_options)
    if estimator is None:
        estimator = _load_estimator(depth_model, state.device, batch_size, depth_model_kwargs)
    if changed and state.is_main_process:  # nothing was finished under the earlier plan: nothing to lose
        discard_earlier_plan(output_dir, work_dir, shards, changed)

    for folder in (work_dir / "shards", work_dir / "tmp", output_dir / "data"):
        folder.mkdir(parents=True, exist_ok=True)
    for leftover in (work_dir / "tmp").glob(f"*.rank{rank}-*.tmp"):
        leftover.unlink(missing_ok=True)  # this process's files in flight when a previous run stopped
    if state.is_main_process and not plan_path.exists():
        write_json(plan_path, plan, work_dir / "tmp", tag)

    # 2. Videos: extract archive parts once (main process), the others wait for the marker.
    if parts is not None:
        folder = Path(extract_dir) if extract_dir is not None else work_dir / "videos"
        if state.is_main_process:
            extract_archive(parts, folder, progress=progress)
        else:
            _wait_for([folder / ".extracted.json"], poll_seconds, "the main process to extract the archive")
    else:
        folder = Path(videos)
    folder, found = index_videos(folder)
    wanted = {e.video_id for entries in annotations.values() for e in entries}
    summary = PrepareSummary(str(output_dir), rank, world)
    summary.videos_unlabelled = sum(1 for video_id in found if video_id not in wanted)
    missing_ids = wanted - set(found)
    if state.is_main_process:
        if summary.videos_unlabelled:
            logger.warning(
                "%s: %d video files have no entry in the label files of %s and are ignored",
                folder,
                summary.videos_unlabelled,
                "/".join(splits),
            )
        if missing_ids:
            logger.warning(
                "%s: %d ids of the label files have no video file (listed in %s)",
                folder,
                len(missing_ids),
                output_dir / REPORT_FILE,
            )

    # 3. This process's shards that are not done yet.
    mine, items = [], []
    for number, shard in enumerate(shards):
        if number % world != rank:
            continue
        manifest = read_manifest(work_dir, shard)
        if manifest is not None and (manifest["rows"] == 0 or (output_dir / "data" / f"{shard.name}.parquet").exists()):
            if not (retry_failed and manifest["failed"]):
                summary.shards_skipped += 1
                summary.videos_skipped += len(shard.entries)
                continue
        for position, entry in enumerate(shard.entries):
            path = found.get(entry.video_id)
            items.append((len(mine), position, entry, None if path is None else str(path)))
        mine.append(shard)

    if mine:
        shared = ShardRun(
            folder=folder,
            estimator=estimator,
            model_name=model_name,
            features=features,
            codec_options=codec_options,
            output_dir=output_dir,
            work_dir=work_dir,
            tag=tag,
            num_workers=num_workers,
            encode_threads=encode_threads,
            decode_backend=decode_backend,
            batch_size=batch_size,
            show_progress=progress and state.is_local_main_process,
        )
        run_shards(
            mine,
            items,
            shared,
            summary,
            rank,
            world,
        )

    # 4. The main process assembles the card and the report once every shard is done.
    summary.seconds = time.perf_counter() - start
    if state.is_main_process:
        manifests = [manifest_path(work_dir, s) for s in shards]
        if world == 1 and not all(p.exists() for p in manifests):
            unfinished = [p.stem for p in manifests if not p.exists()]
            raise RuntimeError(f"{work_dir}: shards were left unfinished: {unfinished[:5]}")
        _wait_for(manifests, poll_seconds, "the other processes' shards")
        write_card_and_report(output_dir, work_dir, shards, plan, features, splits, summary, folder, tag)
        if parts is not None and extract_dir is None and not keep_extracted:
            shutil.rmtree(work_dir / "videos", ignore_errors=True)
        shutil.rmtree(work_dir / "tmp", ignore_errors=True)
        summary.complete = True
        summary.report = str(output_dir / REPORT_FILE)
    summary.seconds = time.perf_counter() - start
    return summary


def _check_codec_options(codec_options: dict | None) -> None:
    """Encode a 2-frame depth video with the chosen options, so that a bad option fails now, not per video."""
    from ...video_io import encode_depth_video

    try:
        encode_depth_video(np.zeros((2, 16, 16), np.uint8), options=codec_options)
    except Exception as error:
        raise SSv2InputError(
            f"depth codec options {codec_options}: {DEPTH_CODEC} refuses them ({type(error).__name__}: {error})"
        ) from None


def _load_estimator(depth_model, device, batch_size: int, kwargs: dict):
    """The `DepthEstimator`, or a one-line `SSv2InputError` naming the model and what to do."""
    name = os.fspath(depth_model)
    try:
        return DepthEstimator(depth_model, device=device, batch_size=batch_size, **kwargs)
    except FileNotFoundError as error:  # model_sources' "the folder does not exist": already one clear line
        raise SSv2InputError(str(error)) from None
    except Exception as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        hint = (
            "check the name, or download it first (huggingface-cli download) when offline"
            if not os.path.exists(name)
            else "the folder must hold a transformers depth-estimation checkpoint"
        )
        raise SSv2InputError(
            f"{name}: the depth model cannot be loaded ({type(error).__name__}: {first_line}); {hint}"
        ) from None


def partial_state():
    """`accelerate.PartialState`, on CPUs too when launched with `accelerate launch --cpu` (which sets
    ACCELERATE_USE_CPU; PartialState, unlike the Accelerator, does not read it)."""
    from accelerate import PartialState
    from accelerate.utils import parse_flag_from_env

    return PartialState(cpu=parse_flag_from_env("ACCELERATE_USE_CPU"))


def _wait_for(paths: list[Path], poll_seconds: float, what: str) -> None:
    waiting = [p for p in paths if not p.exists()]
    last_log = time.monotonic()
    while waiting:
        if time.monotonic() - last_log > 300:
            logger.info("waiting for %s (%d files to come, e.g. %s)", what, len(waiting), waiting[0].name)
            last_log = time.monotonic()
        time.sleep(poll_seconds)
        waiting = [p for p in waiting if not p.exists()]
