# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Reading and decoding the clips of a process's shards, in DataLoader worker processes.

`DecodeVideos` is a map-style dataset whose item i is one file of the work: the clips of one shard that read
it (a whole clip, or all of the shard's segments of one long video, so that such a video is opened once per
shard, not once per segment), each decoded or with the reason it could not be, so that a bad clip is recorded
and skipped, never fatal. A whole clip keeps its file's bytes; a segment is decoded for its frames only (the
reader seeks to the keyframe before it) and re-encoded as a video of its own (`segments`). Clips longer than
the streaming threshold are only opened; their frames are read chunk by chunk later (`rows.stream_long_clip`).
The workers die with the process that started them (`_exit_with_parent`).
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ..sources.base import ClipEntry
from .segments import SegmentReader, encode_rgb_video, frame_range


@dataclass
class DecodedVideo:
    shard: int  # position in this process's shard list
    position: int  # position in the shard
    entry: ClipEntry
    path: str | None
    data: bytes | None = None  # the stored video: the file's bytes, or a segment's re-encoded RGB
    info: object = None
    frames: np.ndarray | None = None
    error: str | None = None
    missing: bool = False
    long: bool = False  # longer than the streaming threshold: frames are left to `rows.stream_long_clip`
    frames_range: tuple[int, int] | None = None  # a segment's frames [start, end) in its file


@dataclass(frozen=True)
class WorkItem:
    """One file of the work and the clips of one shard that read it, as (position in the shard, entry)."""

    shard: int
    clips: tuple[tuple[int, ClipEntry], ...]
    path: str | None


def group_work(shard_number: int, entries: Iterable[ClipEntry], locate: Callable[[ClipEntry], str | None]):
    """A shard's clips as work items: whole clips one by one, segments grouped by their file (in the order of
    their first clip), so that each long video is opened once for the shard."""
    items: list[WorkItem] = []
    segments: dict[str, list[tuple[int, ClipEntry]]] = {}
    order: list = []
    for position, entry in enumerate(entries):
        path = locate(entry)
        if entry.is_segment and path is not None:
            if path not in segments:
                segments[path] = []
                order.append(path)
            segments[path].append((position, entry))
        else:
            order.append(WorkItem(shard_number, ((position, entry),), path))
    for key in order:
        items.append(key if isinstance(key, WorkItem) else WorkItem(shard_number, tuple(segments[key]), key))
    return items


class DecodeVideos:
    """Map-style: item i = the i-th file of this process's work, its clips read and decoded, or the reason they
    could not be. Runs in DataLoader workers."""

    def __init__(
        self,
        items: list[WorkItem],
        backend: str,
        stream_above: int | None = None,
        missing: Callable[[ClipEntry], tuple[str | None, str]] | None = None,
        segment_options: dict | None = None,
    ):
        self.items, self.backend = items, backend
        self.stream_above = stream_above
        self.missing = missing or (lambda entry: (entry.path, f"{entry.path}: no such file"))
        self.segment_options = segment_options

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> list[DecodedVideo]:
        item = self.items[i]
        if item.path is None:
            results = []
            for position, entry in item.clips:
                file, error = self.missing(entry)
                results.append(DecodedVideo(item.shard, position, entry, file, error=error, missing=True))
            return results
        if item.clips[0][1].is_segment:
            return self._segments(item)
        position, entry = item.clips[0]
        return [self._whole(item.shard, position, entry, item.path)]

    def _whole(self, shard: int, position: int, entry: ClipEntry, path: str) -> DecodedVideo:
        from ...video_io import open_video

        result = DecodedVideo(shard, position, entry, path)
        try:
            with open(path, "rb") as handle:
                result.data = handle.read()
            video = open_video(result.data, name=path, backend=self.backend)
            result.info = video.info
            if self.stream_above is not None and video.info.num_frames > self.stream_above:
                result.long = True
            else:
                result.frames = video.read(np.arange(video.info.num_frames))
        except OSError as error:
            result.error = f"{path}: cannot be read ({error.strerror or error})"
        except Exception as error:  # any decoder failure is the video's, never the job's
            result.error = _message(error, path)
        if result.error:
            result.data = result.frames = None
        return result

    def _segments(self, item: WorkItem) -> list[DecodedVideo]:
        results = [DecodedVideo(item.shard, position, entry, item.path) for position, entry in item.clips]
        try:
            reader = SegmentReader(item.path)
        except Exception as error:  # the file is bad: every segment of it fails with the same reason
            for result in results:
                result.error = _message(error, item.path)
            return results
        with reader:
            # in the order of their frames, so that the reader moves forward through the file
            ranges = {}
            for result in results:
                try:
                    ranges[id(result)] = frame_range(result.entry, reader.info)
                except ValueError as error:
                    result.error = str(error)
            ordered = sorted((r for r in results if r.error is None), key=lambda r: ranges[id(r)])
            for result in ordered:
                start, end = ranges[id(result)]
                result.frames_range = (start, end)
                result.info = reader.segment_info(end - start)
                if self.stream_above is not None and end - start > self.stream_above:
                    result.long = True
                    continue
                try:
                    frames = reader.read(start, end)
                    result.data = encode_rgb_video(frames, result.info.fps, self.segment_options)
                    result.frames = frames
                except Exception as error:
                    result.error = _message(error, item.path)
                    result.data = result.frames = None
        return results


def _message(error: Exception, path: str) -> str:
    message = str(error)
    return message if message.startswith(str(path)) else f"{path}: {type(error).__name__}: {message}"


def _identity(item):
    return item


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _exit_with_parent(parent_pid: int, worker_id: int = 0) -> None:
    """DataLoader `worker_init_fn`: the decode worker dies with the process that started it, however that
    one dies (kill -9 included). Without this, a worker whose parent was killed waits forever to hand over
    its decoded frames (its queue's feeder thread blocks on a pipe nobody reads), holding its memory.

    Linux: the kernel sends SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG). Everywhere: a daemon
    thread polls the parent's pid every half second and ends the process when it has changed."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog below still works
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def decode_loader(dataset: DecodeVideos, num_workers: int) -> Iterable[list[DecodedVideo]]:
    if num_workers <= 0:
        return (dataset[i] for i in range(len(dataset)))
    from torch.utils.data import DataLoader

    return DataLoader(
        dataset,
        batch_size=None,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=_identity,
        prefetch_factor=4,
        worker_init_fn=functools.partial(_exit_with_parent, os.getpid()),
    )
