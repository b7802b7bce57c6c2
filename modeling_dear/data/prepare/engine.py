# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The preparation from start to finish on one process of many: `run_preparation` for any `PreparationJob`
(`prepare_dataset` makes one from a source reader's `SourceData`; `data.ssv2` makes SSv2's).

It checks every input before writing anything (the options, codec options, depth model, an earlier run's plan
with every setting that changes the stored depth), writes the plan, lets the job make its videos ready (SSv2
extracts its archive parts once, on the main process), runs this process's unfinished shards and, on the main
process, waits for every shard's manifest (a file-system barrier, so that a slow process cannot trip a
communication time-out) and writes the card and the report.

Why over 300 lines: the summary, the option checks, the job both sources share and the run that ties plan,
shards and card together are one sequence; split up, each part would need the others' state passed around.
"""

from __future__ import annotations

import json
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
from ..schema import prepared_features
from ..sources.base import ClipEntry, SourceData, SourceInputError
from .card import REPORT_FILE, collect_manifests, write_generic_card_and_report
from .decoding import group_work
from .plan import (
    DEFAULT_SHARD_SIZE,
    PLAN_FILE,
    STATE_DIR,
    build_plan,
    check_earlier_plan,
    clips_digest,
    depth_settings,
    discard_earlier_plan,
    model_display_name,
    plan_shards,
    read_plan,
)
from .segments import SEGMENT_VIDEO_CODEC, SEGMENT_VIDEO_OPTIONS
from .shards import ShardRun, manifest_path, read_manifest, run_shards, shard_is_intact

logger = logging.getLogger(__name__)

DATA_DIR = "data"  # the Parquet shards: <output_dir>/data/<split>-NNNNN-of-NNNNN.parquet, beside README.md
CRF_RANGE = (0, 51)  # libx264's crf and qp for 8-bit video


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
            left_out = (
                f"{t['skipped']} left out by the source reader"
                if "skipped" in t
                else f"{t['unlabelled']} unlabelled videos ignored"
            )
            text += (
                f"\ndataset: {', '.join(f'{s} {n}' for s, n in t['rows'].items())} rows; {t['failed']} failed, "
                f"{t['missing']} missing, {left_out}; {t['bytes'] / 1e9:.2f} GB in {self.output_dir}"
            )
        return text


class PreparationJob:
    """What a source gives the engine: its clips, label sets and extra columns, and the hooks where sources
    differ (where the videos are, what a missing file means, the card and the report)."""

    state_dir = STATE_DIR
    report_file = REPORT_FILE
    error: type[Exception] = SourceInputError
    writer = "dear-prepare"  # in "not written by ..." when the output folder holds someone else's files

    def __init__(self, splits: dict[str, list[ClipEntry]], label_sets: dict[str, list[str]], extra_features=None):
        self.splits, self.label_sets = splits, label_sets
        self.extra_features = dict(extra_features or {})

    def features(self):
        return prepared_features(self.label_sets, self.extra_features)

    def labels_digest(self) -> str:
        import hashlib

        return hashlib.sha256(json.dumps(self.label_sets, sort_keys=True).encode()).hexdigest()

    def ids_digest(self, entries: Sequence[ClipEntry]) -> str:
        return clips_digest(entries)

    def plan_extra(self) -> dict:
        return {}

    def uses_segments(self) -> bool:
        return any(e.is_segment for entries in self.splits.values() for e in entries)

    def prepare_videos(self, state, work_dir: Path, progress: bool, poll_seconds: float) -> None:
        """Make the videos readable (after the plan is written, before the work)."""

    def locate(self, entry: ClipEntry) -> str | None:
        """The file to read for `entry`, None when there is none."""
        return entry.path if entry.path and os.path.isfile(entry.path) else None

    def missing(self, entry: ClipEntry) -> tuple[str | None, str]:
        """(file, error) reported for a clip without a file."""
        return entry.path, f"{entry.path}: no such file (clip {entry.clip_id})"

    def note_inputs(self, state, output_dir: Path, summary: PrepareSummary) -> None:
        """Counts and warnings about the inputs, once the videos are ready."""

    def write_card_and_report(self, output_dir, work_dir, shards, plan, features, summary, tag) -> None:
        raise NotImplementedError

    def finish(self, work_dir: Path) -> None:
        """Clean up once the dataset is complete (main process)."""


class SourceJob(PreparationJob):
    """The job of a source reader's `SourceData` (videofolder, split lists, Kinetics, segments, ...)."""

    def __init__(self, source: SourceData, splits: Sequence[str] | None = None):
        chosen = dict(source.splits) if splits is None else {s: source.splits.get(s, []) for s in splits}
        unknown = [s for s in (splits or ()) if s not in source.splits]
        if unknown:
            raise SourceInputError(
                f"{source.format} source: no split {unknown[0]!r} (it has {sorted(source.splits)}); "
                "choose among those with --splits"
            )
        for split, entries in chosen.items():
            seen: set[str] = set()
            for entry in entries:
                if entry.clip_id in seen:
                    raise SourceInputError(
                        f"{entry.path}: clip id {entry.clip_id!r} appears twice in the {split} split; ids must be unique"
                    )
                seen.add(entry.clip_id)
                if entry.start is not None and entry.end is not None and entry.end <= entry.start:
                    raise SourceInputError(
                        f"{entry.path}: segment {entry.clip_id} ends ({entry.end} {entry.time_unit}) at or before "
                        f"its start ({entry.start}); fix its start and end"
                    )
        super().__init__(chosen, source.label_sets, source.extra_features)
        self.source = source

    def plan_extra(self) -> dict:
        extra = {"source_format": self.source.format}
        if self.uses_segments():
            extra["source_segment_video"] = {"codec": SEGMENT_VIDEO_CODEC, "options": dict(SEGMENT_VIDEO_OPTIONS)}
        return extra

    def write_card_and_report(self, output_dir, work_dir, shards, plan, features, summary, tag) -> None:
        write_generic_card_and_report(
            self.source, output_dir, work_dir, shards, plan, features, list(self.splits), summary, tag
        )


def check_options(
    error: type[Exception],
    *,
    shard_size: int,
    batch_size: int,
    num_workers: int,
    encode_threads: int,
    codec_options: dict | None,
) -> None:
    """Values that cannot be right, refused in one line naming the option before anything is written."""
    for name, value, low in (
        ("shard_size", shard_size, 1),
        ("batch_size", batch_size, 1),
        ("num_workers", num_workers, 0),
        ("encode_threads", encode_threads, 1),
    ):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise error(f"--{name} {value}: must be an integer of at least {low}")
    for key in ("crf", "qp"):
        if codec_options and key in codec_options:
            text = codec_options[key]
            try:
                number = float(text)
            except ValueError:
                number = None
            if number is None or not CRF_RANGE[0] <= number <= CRF_RANGE[1]:
                raise error(
                    f"depth codec option {key}={text!r} (--depth_crf): must be a number in {CRF_RANGE[0]}..{CRF_RANGE[1]} "
                    "(0 is lossless; leave --depth_crf unset for the default lossless depth)"
                )


def check_codec_options(codec_options: dict | None, error: type[Exception]) -> None:
    """Encode a 2-frame depth video with the chosen options, so that a bad option fails now, not per video."""
    from ...video_io import encode_depth_video

    try:
        encode_depth_video(np.zeros((2, 16, 16), np.uint8), options=codec_options)
    except Exception as failure:
        raise error(
            f"depth codec options {codec_options}: {DEPTH_CODEC} refuses them ({type(failure).__name__}: {failure})"
        ) from None


def load_estimator(depth_model, device, batch_size: int, kwargs: dict, error: type[Exception]):
    """The `DepthEstimator`, or a one-line `error` naming the model and what to do."""
    name = os.fspath(depth_model)
    try:
        return DepthEstimator(depth_model, device=device, batch_size=batch_size, **kwargs)
    except FileNotFoundError as failure:  # model_sources' "the folder does not exist": already one clear line
        raise error(str(failure)) from None
    except Exception as failure:
        first_line = (str(failure).strip().splitlines() or [type(failure).__name__])[0][:300]
        hint = (
            "check the name, or download it first (huggingface-cli download) when offline"
            if not os.path.exists(name)
            else "the folder must hold a transformers depth-estimation checkpoint"
        )
        raise error(
            f"{name}: the depth model cannot be loaded ({type(failure).__name__}: {first_line}); {hint}"
        ) from None


def partial_state():
    """`accelerate.PartialState`, on CPUs too: when launched with `accelerate launch --cpu` (which sets
    ACCELERATE_USE_CPU; PartialState, unlike the Accelerator, does not read it), and when several processes are
    launched on a machine without CUDA (e.g. configuration/accelerate/multi_cpu_2.yaml, whose multi-GPU launcher
    sets WORLD_SIZE but not ACCELERATE_USE_CPU): without `cpu=True` each of them would be a world of one and
    do every shard."""
    import torch
    from accelerate import PartialState
    from accelerate.utils import parse_flag_from_env

    several = int(os.environ.get("WORLD_SIZE", "1")) > 1
    return PartialState(cpu=parse_flag_from_env("ACCELERATE_USE_CPU") or (several and not torch.cuda.is_available()))


def wait_for(paths: list[Path], poll_seconds: float, what: str) -> None:
    waiting = [p for p in paths if not p.exists()]
    last_log = time.monotonic()
    while waiting:
        if time.monotonic() - last_log > 300:
            logger.info("waiting for %s (%d files to come, e.g. %s)", what, len(waiting), waiting[0].name)
            last_log = time.monotonic()
        time.sleep(poll_seconds)
        waiting = [p for p in waiting if not p.exists()]


def run_preparation(
    job: PreparationJob,
    output_dir: str | os.PathLike,
    depth_model=DEFAULT_DEPTH_MODEL,
    *,
    shard_size: int = DEFAULT_SHARD_SIZE,
    batch_size: int = 32,
    num_workers: int = 4,
    encode_threads: int = 2,
    decode_backend: str = "auto",
    depth_codec_options: dict[str, str] | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    poll_seconds: float = 10.0,
    **depth_model_kwargs,
) -> PrepareSummary:
    """Build (or resume building) `job`'s dataset in `output_dir`. See `prepare_dataset` for the arguments."""
    start = time.perf_counter()
    error = job.error
    codec_options = None if depth_codec_options is None else {str(k): str(v) for k, v in depth_codec_options.items()}
    # 1. Everything that can fail, checked before anything is written: a plan written by a run that could not
    # start would bind the output folder to that run's (wrong) settings.
    check_options(
        error,
        shard_size=shard_size,
        batch_size=batch_size,
        num_workers=num_workers,
        encode_threads=encode_threads,
        codec_options=codec_options,
    )
    state = partial_state()
    rank, world = state.process_index, state.num_processes
    output_dir = Path(output_dir)
    work_dir = output_dir / job.state_dir
    tag = f"rank{rank}-{os.getpid()}"
    features = job.features()
    check_codec_options(codec_options, error)
    # a DepthEstimator, or anything with its `estimate_clips`, `name` and `normalize`
    estimator = depth_model if hasattr(depth_model, "estimate_clips") else None
    requested = estimator.name if estimator is not None else os.fspath(depth_model)
    if estimator is None:
        estimator = load_estimator(depth_model, state.device, batch_size, depth_model_kwargs, error)
    normalize = getattr(estimator, "normalize", None) or depth_model_kwargs.get("normalize", "clip")
    settings = depth_settings(estimator, requested, depth_model_kwargs.get("revision"))
    model_name = model_display_name(requested)
    shards = plan_shards(job.splits, shard_size)

    def make_plan(name: str) -> dict:
        return build_plan(
            job.splits,
            shards,
            shard_size,
            name,
            normalize,
            codec_options,
            labels_digest=job.labels_digest(),
            ids_digest=job.ids_digest,
            settings={**settings, "model": name},
            extra=job.plan_extra(),
        )

    plan = make_plan(model_name)
    changed = check_earlier_plan(plan, output_dir, work_dir, error, job.writer)
    earlier = read_plan(work_dir)
    if not changed and earlier is not None and earlier.get("depth_model") not in (None, model_name):
        # the same model spelled otherwise (`path/`, a relative path): the rows keep the first run's name
        model_name = earlier["depth_model"]
        plan = make_plan(model_name)
    if changed and state.is_main_process:  # nothing was finished under the earlier plan: nothing to lose
        discard_earlier_plan(output_dir, work_dir, shards, changed)

    for folder in (work_dir / "shards", work_dir / "tmp", output_dir / DATA_DIR):
        folder.mkdir(parents=True, exist_ok=True)
    for leftover in (work_dir / "tmp").glob(f"*.rank{rank}-*.tmp"):
        leftover.unlink(missing_ok=True)  # this process's files in flight when a previous run stopped
    if state.is_main_process and not (work_dir / PLAN_FILE).exists():
        write_json(work_dir / PLAN_FILE, plan, work_dir / "tmp", tag)
    elif not state.is_main_process:
        # a shard written before the main process's check of the folder would be taken for a stranger's file
        wait_for([work_dir / PLAN_FILE], min(poll_seconds, 0.5), "the main process's checks and plan")

    # 2. The videos (SSv2: archive parts extracted once, by the main process).
    job.prepare_videos(state, work_dir, progress, poll_seconds)
    summary = PrepareSummary(str(output_dir), rank, world)
    job.note_inputs(state, output_dir, summary)

    # 3. This process's shards that are not done yet (a finished shard whose file is not the one its manifest
    # describes, cut or altered since, is done again).
    mine, items = [], []
    for number, shard in enumerate(shards):
        if number % world != rank:
            continue
        manifest = read_manifest(work_dir, shard)
        if manifest is not None:
            damage = shard_is_intact(output_dir, shard, manifest)
            if damage is None and not (retry_failed and manifest["failed"]):
                summary.shards_skipped += 1
                summary.videos_skipped += len(shard.entries)
                continue
            if damage is not None:
                logger.warning("%s; preparing shard %s again", damage, shard.name)
                manifest_path(work_dir, shard).unlink(missing_ok=True)
        items.extend(group_work(len(mine), shard.entries, job.locate))
        mine.append(shard)

    if mine:
        shared = ShardRun(
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
            missing=job.missing,
            segment_options=dict(SEGMENT_VIDEO_OPTIONS),
        )
        run_shards(mine, items, shared, summary, rank, world)

    # 4. The main process assembles the card and the report once every shard is done.
    summary.seconds = time.perf_counter() - start
    if state.is_main_process:
        manifests = [manifest_path(work_dir, s) for s in shards]
        if world == 1 and not all(p.exists() for p in manifests):
            unfinished = [p.stem for p in manifests if not p.exists()]
            raise RuntimeError(f"{work_dir}: shards were left unfinished: {unfinished[:5]}")
        wait_for(manifests, poll_seconds, "the other processes' shards")
        job.write_card_and_report(output_dir, work_dir, shards, plan, features, summary, tag)
        job.finish(work_dir)
        shutil.rmtree(work_dir / "tmp", ignore_errors=True)
        summary.complete = True
        summary.report = str(output_dir / job.report_file)
    summary.seconds = time.perf_counter() - start
    return summary


def prepare_dataset(
    source: SourceData,
    output_dir: str | os.PathLike,
    depth_model=DEFAULT_DEPTH_MODEL,
    *,
    splits: Sequence[str] | None = None,
    shard_size: int = DEFAULT_SHARD_SIZE,
    batch_size: int = 32,
    num_workers: int = 4,
    encode_threads: int = 2,
    decode_backend: str = "auto",
    depth_codec_options: dict[str, str] | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    poll_seconds: float = 10.0,
    **depth_model_kwargs,
) -> PrepareSummary:
    """Build (or resume building) the RGB-D dataset of a source reader's `source` in `output_dir`.

    Args:
        source: the clips, label sets and extra columns a source reader found (`data.sources.SourceData`).
        output_dir: the dataset folder (`README.md` and `data/<split>-*.parquet`); `datasets.load_dataset`
            reads it, and it is what a push to the Hub uploads (`dataset_files`).
        depth_model: a transformers depth checkpoint (name or path) or a ready `DepthEstimator`.
        splits: which of the source's splits to build (default: all).
        shard_size: clips per Parquet shard: the unit of resumption.
        batch_size: frames per depth-model forward pass.
        num_workers: DataLoader processes that read and decode videos (0: in this process).
        encode_threads: threads encoding depth videos (PyAV releases the GIL while encoding).
        decode_backend: "auto", "decord" or "pyav" for whole clips (segments are read with PyAV, seeking).
        depth_codec_options: FFmpeg options for the depth video (default `video_io.DEPTH_CODEC_OPTIONS`,
            lossless); a `crf` or `qp` must lie in 0..51.
        retry_failed: redo finished shards that recorded failed or missing clips.
        progress: tqdm progress bar (on the local main process).
        poll_seconds: how often the main process checks for the other processes' shards at the end.
        **depth_model_kwargs: passed to `DepthEstimator` (`normalize`, `autocast_dtype`, `keep_aspect_ratio`,
            `revision`, `local_files_only`, ...); each one that changes the depth is recorded in the plan.

    Returns a `PrepareSummary` (printable) of this process's work; on the main process, with the totals.
    Bad input raises `SourceInputError` (one line naming the file or option) before anything is written.
    """
    job = SourceJob(source, splits)
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


def dataset_files(output_dir: str | os.PathLike) -> list[Path]:
    """What a finished dataset folder holds for `load_dataset` and a push to the Hub: the card (`README.md`) and
    the Parquet shards (`data/*.parquet`); not the report or the hidden state folder."""
    output_dir = Path(output_dir)
    files = sorted((output_dir / DATA_DIR).glob("*.parquet"))
    if (output_dir / "README.md").is_file():
        files.insert(0, output_dir / "README.md")
    return files


__all__ = [
    "DATA_DIR",
    "PrepareSummary",
    "PreparationJob",
    "SourceJob",
    "collect_manifests",
    "dataset_files",
    "partial_state",
    "prepare_dataset",
    "run_preparation",
]
