# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Segments of long videos: which frames a segment is, reading only those (one open file for all of a shard's
segments of a video, seeking to the keyframe before each), and storing a segment's RGB as a video of its own.

A segment's frames are [start, end) of its file: in frame numbers as given, or in seconds, frame f being at
f / fps (a start or end between two frames rounds up to the next one). An end that overshoots the video by
at most one frame's duration (rounding of annotation times) is the video's end; more is an error, as is an
end at or before the start. Odd frame sizes lose their last row or column (H.264's 4:2:0 needs even sides).

The segment's RGB is stored as H.264 in MP4 at `SEGMENT_VIDEO_OPTIONS` (crf 17: visually lossless for
natural video, about the quality of the sources such datasets ship), recorded in the plan and the card.
"""

from __future__ import annotations

import bisect
import io
import math
from fractions import Fraction

import numpy as np

from ..sources.base import ClipEntry

SEGMENT_VIDEO_CODEC = "libx264"
SEGMENT_VIDEO_OPTIONS = {"crf": "17", "preset": "veryfast"}
_FALLBACK_FPS = 12.0  # only for the stored segment's nominal rate, when a container gives none


def frame_range(entry: ClipEntry, info) -> tuple[int, int]:
    """[start, end) frame numbers of a segment in a video with `info` (`video_io.VideoInfo`); ValueError naming
    the file, the clip and the fix when the segment is empty or outside the video."""
    total = info.num_frames
    unit = entry.time_unit
    where = f"{entry.path}: segment {entry.clip_id} ({entry.start} to {entry.end} {unit})"
    if unit == "frames":
        start = 0 if entry.start is None else int(math.ceil(entry.start))
        end = total if entry.end is None else int(math.ceil(entry.end))
        tolerance = 0
    elif unit == "seconds":
        if not info.fps:
            raise ValueError(f"{where}: the video gives no frame rate, so seconds cannot be turned into frames")
        start = 0 if entry.start is None else int(math.ceil(entry.start * info.fps - 1e-6))
        end = total if entry.end is None else int(math.ceil(entry.end * info.fps - 1e-6))
        tolerance = 1
    else:
        raise ValueError(f"{where}: time_unit must be 'seconds' or 'frames', got {unit!r}")
    if start < 0:
        raise ValueError(f"{where}: starts before the video's beginning")
    if end <= start:
        raise ValueError(f"{where}: ends at or before its start (no frames); check the start and end columns")
    if end > total:
        if end - total > tolerance:
            seconds = f", {total / info.fps:.2f} s" if info.fps else ""
            raise ValueError(f"{where}: ends past the video's end ({total} frames{seconds})")
        end = total
    if start >= end:
        raise ValueError(f"{where}: starts at or after the video's end ({total} frames)")
    return start, end


class SegmentReader:
    """One video file opened once, read segment after segment: `read(start, end)` decodes frames [start, end)
    only, seeking to the keyframe before `start` when that skips frames (or when going back). Frames come
    cropped to even sides (`segment_info`)."""

    def __init__(self, path: str):
        from ...video_io import _import_av, _Input, _probe

        self._av = _import_av()
        self.path = path
        index = _probe(_Input(path, None))
        self.info = index.info
        self._pts, self._keyframes = index.pts, index.keyframes
        self._position_of = {pts: i for i, pts in enumerate(self._pts)}
        self._container = self._av.open(path, metadata_errors="ignore")
        self._stream = self._container.streams.video[0]
        self._frames = None  # the running decode iterator
        self._last = -1  # display position of the last frame it gave
        self.height, self.width = self.info.height - self.info.height % 2, self.info.width - self.info.width % 2

    def segment_info(self, num_frames: int):
        from ...video_io import VideoInfo

        return VideoInfo(num_frames, float(self.info.fps or _FALLBACK_FPS), self.height, self.width, "h264", "yuv420p")

    def _restart(self, keyframe: int | None) -> None:
        if keyframe is not None and (self._frames is not None or keyframe > 0):
            self._container.seek(self._pts[keyframe], stream=self._stream, backward=True, any_frame=False)
        elif self._frames is not None:  # no usable timestamps: back to the beginning
            self._container.seek(0, stream=self._stream, backward=True, any_frame=False)
        self._frames = self._container.decode(self._stream)
        self._last = -1 if keyframe is None else keyframe - 1

    def read(self, start: int, end: int) -> np.ndarray:
        """(end - start, H, W, 3) uint8 RGB of frames [start, end), H and W even."""
        out: list[np.ndarray] = []
        use_seek = bool(self._pts)
        if use_seek:
            keyframe = self._keyframes[bisect.bisect_right(self._keyframes, start) - 1]
            if self._frames is None or self._last >= start or keyframe > self._last + 1:
                self._restart(keyframe)
        elif self._frames is None or self._last >= start:
            self._restart(None)
        for frame in self._frames:
            position = self._position_of.get(frame.pts) if use_seek else self._last + 1
            if position is None:
                raise ValueError(f"{self.path}: a decoded frame has a timestamp the container did not index")
            self._last = position
            if position >= start:
                out.append(frame.to_ndarray(format="rgb24")[: self.height, : self.width])
            if position >= end - 1:
                break
        if len(out) != end - start:
            raise ValueError(f"{self.path}: decoding frames {start}..{end - 1} gave {len(out)} frames")
        return np.stack(out)

    def close(self) -> None:
        self._container.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RgbVideoEncoder:
    """A segment's RGB frames fed in pieces → H.264 MP4 bytes (`SEGMENT_VIDEO_OPTIONS` unless given)."""

    def __init__(self, height: int, width: int, fps: float, options: dict | None = None):
        from ...video_io import _import_av

        self._av = _import_av()
        self.frames = 0
        self._buffer = io.BytesIO()
        # bitexact: the same frames give the same bytes on every run
        self._output = self._av.open(self._buffer, mode="w", format="mp4", options={"fflags": "+bitexact"})
        try:
            self._stream = self._output.add_stream(SEGMENT_VIDEO_CODEC, rate=Fraction(fps).limit_denominator(1001))
            self._stream.width, self._stream.height = int(width), int(height)
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = dict(SEGMENT_VIDEO_OPTIONS if options is None else options)
        except BaseException:
            self._output.close()
            raise

    def write(self, frames: np.ndarray) -> None:
        for frame in frames:
            picture = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            for packet in self._stream.encode(picture):
                self._output.mux(packet)
        self.frames += len(frames)

    def finish(self) -> bytes:
        for packet in self._stream.encode():
            self._output.mux(packet)
        self._output.close()
        return self._buffer.getvalue()

    def close(self) -> None:
        try:
            self._output.close()
        except Exception:
            pass


def encode_rgb_video(frames: np.ndarray, fps: float, options: dict | None = None) -> bytes:
    """A segment's RGB frames (T, H, W, 3), H and W even, as H.264 MP4 bytes."""
    encoder = RgbVideoEncoder(frames.shape[1], frames.shape[2], fps, options)
    try:
        encoder.write(frames)
    except BaseException:
        encoder.close()
        raise
    return encoder.finish()
