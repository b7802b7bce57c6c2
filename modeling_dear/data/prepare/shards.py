# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Running a process's shards: decode the clips, estimate depth in batches across clips, encode the depth
videos, write each shard's Parquet file and then its manifest.

A shard is written atomically and then marked done by a small manifest (`<work>/shards/<name>.json`: rows,
failed and missing clips, the data file's length and sha256), so a restarted run skips finished shards (after
checking that the data file is still the one the manifest describes: `shard_is_intact`) and a crash or Ctrl-C
loses at most the shard in flight. Decoding runs in DataLoader workers (`decoding`), depth encoding in a
thread pool.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ...atomic_write import write_atomic, write_json
from ...configuration_dear import DEPTH_NORMALIZATIONS
from ..sources.base import ClipEntry
from .decoding import DecodedVideo, DecodeVideos, decode_loader
from .plan import Shard
from .rows import DepthError, DepthFailures, encode_row, make_row, stream_long_clip

logger = logging.getLogger(__name__)

_PARQUET_ROW_GROUP = 64  # rows per row group: ~10-20 MB of video + depth bytes
# Videos longer than this are not decoded whole: they stream through decode -> depth -> encode in chunks
# (see `rows.stream_long_clip`), so that memory does not grow with a video's length. SSv2 clips have 20-120
# frames and take the batched path, which groups frames of several clips per forward pass.
STREAM_ABOVE_FRAMES = 256
STREAM_CHUNK_FRAMES = 32  # frames per chunk of a streamed video (rounded up to whole depth-model batches)


def manifest_path(work_dir: Path, shard: Shard) -> Path:
    """Where a finished shard's manifest is: it exists once the shard's data file is whole."""
    return work_dir / "shards" / f"{shard.name}.json"


def read_manifest(work_dir: Path, shard: Shard) -> dict | None:
    """A finished shard's manifest, or None while the shard is not done."""
    try:
        return json.loads(manifest_path(work_dir, shard).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def shard_is_intact(output_dir: Path, shard: Shard, manifest: dict) -> str | None:
    """None when a finished shard's data file is the one its manifest describes; else what is wrong with it
    (missing, another length, another sha256), e.g. a file cut or altered after it was written."""
    if manifest.get("rows", 0) == 0:
        return None
    data_file = output_dir / "data" / f"{shard.name}.parquet"
    try:
        size = data_file.stat().st_size
    except OSError:
        return f"{data_file}: missing although its manifest says the shard is done"
    if "bytes" in manifest and size != manifest["bytes"]:
        return f"{data_file}: {size} bytes, its manifest says {manifest['bytes']} (cut or altered)"
    if "sha256" in manifest and file_sha256(data_file) != manifest["sha256"]:
        return f"{data_file}: its sha256 differs from its manifest's (altered)"
    return None


def _write_parquet(rows: list[dict], features, path: Path, temporary_dir: Path, tag: str) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = list(features)
    rows = [features.encode_example({c: r[c] for c in columns}) for r in rows]  # video bytes -> Video structs
    table = pa.Table.from_pydict({c: [r[c] for r in rows] for c in columns}, schema=features.arrow_schema)
    # The video and depth bytes, nearly all of a row, are compressed already. Column statistics (min and max
    # of every column chunk) copy the smallest and largest value, which for these columns are whole videos,
    # several times over, so they are off (the writer's memory: bench/prepare_memory.py). A dictionary and
    # Snappy copy the bytes again to win nothing on them. The other columns are a few kB per shard either way.
    options = dict(row_group_size=_PARQUET_ROW_GROUP, use_dictionary=False, compression="none", write_statistics=False)
    write_atomic(path, lambda p: pq.write_table(table, p, **options), temporary_dir, tag)
    return path.stat().st_size


@dataclass(frozen=True)
class ShardRun:
    """What every shard of one preparation run shares: where videos are read and written, the depth model, the
    dataset features and depth codec, and how the work is spread (decode workers, encode threads, batch size)."""

    estimator: object  # a DepthEstimator (or a stand-in with estimate_clips)
    model_name: str
    features: object  # datasets.Features of the rows
    codec_options: dict
    output_dir: Path
    work_dir: Path
    tag: str  # this process's rank and pid, in temporary file names
    num_workers: int
    encode_threads: int
    decode_backend: str
    batch_size: int
    show_progress: bool
    missing: object = None  # entry -> (file, message) for a clip without a file (`decoding.DecodeVideos`)
    segment_options: dict | None = None  # the stored RGB of segments (`segments.SEGMENT_VIDEO_OPTIONS`)


def run_shards(mine, items, run: ShardRun, summary, rank, world):
    """Do the shards `mine` (their files listed in `items`, `decoding.WorkItem`s), counting into `summary`; each
    shard's file and manifest are written as soon as its last clip is done."""
    from tqdm.auto import tqdm

    total_videos = sum(len(item.clips) for item in items)
    bar = tqdm(
        total=total_videos,
        unit="video",
        dynamic_ncols=True,
        disable=not run.show_progress,
        desc=f"depth ({len(mine)} shards" + (f", process {rank} of {world})" if world > 1 else ")"),
    )
    slots: list[list] = [[None] * len(shard.entries) for shard in mine]
    remaining = [len(shard.entries) for shard in mine]
    failures: list[list[dict]] = [[] for _ in mine]
    failed_so_far = 0
    group: list[DecodedVideo] = []
    group_frames = 0
    flush_at = max(4 * int(run.batch_size), 64)
    depth_failures = DepthFailures()
    started = time.perf_counter()
    executor = ThreadPoolExecutor(max(1, run.encode_threads), thread_name_prefix="depth-encode")

    def fail(shard_number: int, entry: ClipEntry, path: str | None, error: str, missing: bool = False):
        nonlocal failed_so_far
        failures[shard_number].append(
            {"id": entry.clip_id, "split": mine[shard_number].split, "file": path, "error": error, "missing": missing}
        )
        failed_so_far += 1

    def estimate(batch: list[DecodedVideo]):
        try:
            depths = run.estimator.estimate_clips([b.frames for b in batch])
            for _ in batch:
                depth_failures.record(False)
        except Exception as error:  # retry one by one so that one bad video does not sink its group
            if len(batch) == 1:
                depths = [error]
            else:
                depths = []
                for b in batch:
                    try:
                        depths.append(run.estimator.estimate_clips([b.frames])[0])
                    except Exception as single:
                        depths.append(single)
            for d in depths:
                depth_failures.record(isinstance(d, Exception), d if isinstance(d, Exception) else None)
        for b, depth in zip(batch, depths, strict=True):
            summary.frames += len(b.frames)
            b.frames = None
            if isinstance(depth, Exception):
                fail(b.shard, b.entry, b.path, f"{b.path}: depth estimation failed ({type(depth).__name__}: {depth})")
            else:
                slots[b.shard][b.position] = (
                    executor.submit(encode_row, b, depth, run.model_name, run.codec_options),
                    b.path,
                )

    # long videos stream in chunks of whole forward batches, so that a chunk's frames are batched as they
    # would be on their own; stand-ins without `predict` (float depth) get whole clips as before
    streams = (
        callable(getattr(run.estimator, "predict", None))
        and getattr(run.estimator, "normalize", None) in DEPTH_NORMALIZATIONS
    )
    model_batch = max(1, int(getattr(run.estimator, "batch_size", run.batch_size) or run.batch_size))
    chunk_frames = model_batch * max(1, -(-STREAM_CHUNK_FRAMES // model_batch))

    def stream(item: DecodedVideo):
        scratch = run.work_dir / "tmp" / f"{item.entry.clip_id}.depth.{run.tag}.tmp"
        try:
            encoded = stream_long_clip(
                item, run.estimator, run.codec_options, chunk_frames, scratch, run.decode_backend, run.segment_options
            )
        except DepthError as wrapped:
            error = wrapped.__cause__
            depth_failures.record(True, error)
            fail(
                item.shard,
                item.entry,
                item.path,
                f"{item.path}: depth estimation failed ({type(error).__name__}: {error})",
            )
            return
        except OSError:
            raise  # the scratch file (disk full, ...): the job's problem, not the video's
        except Exception as error:  # a decoder or encoder failure is the video's
            message = str(error)
            if not message.startswith(str(item.path)):
                message = f"{item.path}: {type(error).__name__}: {message}"
            fail(item.shard, item.entry, item.path, message)
            return
        depth_failures.record(False)
        summary.frames += item.info.num_frames
        slots[item.shard][item.position] = (executor.submit(make_row, item, encoded, run.model_name), item.path)

    def finish(shard_number: int):
        shard = mine[shard_number]
        rows = []
        for position, slot in enumerate(slots[shard_number]):
            if slot is None:
                continue  # failed before depth estimation, already recorded
            future, path = slot
            try:
                rows.append(future.result())
            except Exception as error:
                message = str(error)
                if not message.startswith(str(path)):
                    message = f"{path}: depth video: {type(error).__name__}: {message}"
                fail(shard_number, shard.entries[position], path, message)
        data_file = run.output_dir / "data" / f"{shard.name}.parquet"
        if rows:
            size = _write_parquet(rows, run.features, data_file, run.work_dir / "tmp", run.tag)
            checksum = file_sha256(data_file)
        else:  # no file for an empty shard: datasets' Parquet reader rejects files without rows
            data_file.unlink(missing_ok=True)
            size, checksum = 0, None
        broken = sum(1 for f in failures[shard_number] if not f["missing"])
        missing = sum(1 for f in failures[shard_number] if f["missing"])
        manifest = {
            "shard": shard.name,
            "split": shard.split,
            "rows": len(rows),
            "videos": len(shard.entries),
            "failed": failures[shard_number],
            "bytes": size,
            "sha256": checksum,
            "frames": int(sum(r["num_frames"] for r in rows)),
            "process": rank,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        write_json(manifest_path(run.work_dir, shard), manifest, run.work_dir / "tmp", run.tag)
        summary.shards_done += 1
        summary.videos_done += len(rows)
        summary.videos_failed += broken + missing
        summary.videos_missing += missing
        summary.bytes_written += size
        slots[shard_number] = []
        logger.info("%s: %d rows, %d failed, %d missing, %.1f MB", shard.name, len(rows), broken, missing, size / 1e6)

    try:
        decoder = DecodeVideos(
            items,
            run.decode_backend,
            STREAM_ABOVE_FRAMES if streams else None,
            missing=run.missing,
            segment_options=run.segment_options,
        )
        for clips in decode_loader(decoder, run.num_workers):
            for item in clips:
                if item.error is not None:
                    fail(item.shard, item.entry, item.path, item.error, item.missing)
                elif item.long:
                    stream(item)
                else:
                    group.append(item)
                    group_frames += len(item.frames)
                remaining[item.shard] -= 1
                last_of_shard = remaining[item.shard] == 0
                if group and (group_frames >= flush_at or last_of_shard):
                    estimate(group)
                    group, group_frames = [], 0
                if last_of_shard:
                    finish(item.shard)
                bar.update(1)
            elapsed = time.perf_counter() - started
            bar.set_postfix(
                frames_per_s=f"{summary.frames / max(elapsed, 1e-9):.1f}", failed=failed_so_far, refresh=False
            )
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        bar.close()
