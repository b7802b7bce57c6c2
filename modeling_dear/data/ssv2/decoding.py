# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Reading and decoding the videos of a process's shards, in DataLoader worker processes.

`DecodeVideos` is a map-style dataset: item i is the i-th video of the work, read and decoded (all frames), or
the reason it could not be, so that a bad video is recorded and skipped, never fatal. Videos longer than the
streaming threshold are only opened; their frames are read chunk by chunk later (`rows.stream_long_video`).
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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .labels import Annotation


@dataclass
class DecodedVideo:
    shard: int  # position in this process's shard list
    position: int  # position in the shard
    entry: Annotation
    path: str | None
    data: bytes | None = None
    info: object = None
    frames: np.ndarray | None = None
    error: str | None = None
    missing: bool = False
    long: bool = False  # longer than STREAM_ABOVE_FRAMES: frames are left to `rows.stream_long_video`


class DecodeVideos:
    """Map-style: item i = the i-th video of this process's work, read and decoded (all frames), or the
    reason it could not be. Runs in DataLoader workers."""

    def __init__(
        self,
        items: list[tuple[int, int, Annotation, str | None]],
        folder: Path,
        backend: str,
        stream_above: int | None = None,
    ):
        self.items, self.folder, self.backend = items, folder, backend
        self.stream_above = stream_above

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> DecodedVideo:
        from ...video_io import open_video

        shard, position, entry, path = self.items[i]
        result = DecodedVideo(shard, position, entry, path)
        if path is None:
            result.error = f"{self.folder / (entry.video_id + '.webm')}: no video file for this id"
            result.missing = True
            return result
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
            message = str(error)
            result.error = message if message.startswith(str(path)) else f"{path}: {type(error).__name__}: {message}"
        if result.error:
            result.data = result.frames = None
        return result


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


def decode_loader(dataset: DecodeVideos, num_workers: int) -> Iterable[DecodedVideo]:
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
