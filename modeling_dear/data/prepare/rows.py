# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""One row of the dataset: a decoded clip's depth estimated, encoded as a frame-aligned depth video and checked.

Short clips get their depth in batches of several clips (`shards.run_shards`) and are encoded here
(`encode_row`); long ones (whole videos or segments) stream through decode → depth → encode in chunks
(`stream_long_clip`), so that memory does not grow with a clip's length. `DepthFailures` stops the job when the depth model fails for many
videos in a row: that is the model or the device, not the videos.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .decoding import DecodedVideo


def _depth_fps(info) -> float:
    return float(info.fps) if info.fps else 12.0


def encode_row(item: DecodedVideo, depth: np.ndarray, depth_model: str, codec_options: dict | None) -> dict:
    from ...video_io import encode_depth_video

    encoded = encode_depth_video(depth, fps=_depth_fps(item.info), options=codec_options)
    return make_row(item, encoded, depth_model)


def stream_long_clip(
    item: DecodedVideo,
    estimator,
    codec_options: dict | None,
    chunk_frames: int,
    scratch: Path,
    backend: str = "auto",
    segment_options: dict | None = None,
) -> bytes:
    """The depth video of a long clip, made chunk by chunk: decode `chunk_frames` frames, estimate their
    float depth, and (per-clip normalisation) park it as float32 in `scratch` while the clip's min and max
    accumulate; then read it back chunk by chunk, normalise with the clip's min and max and encode. Memory
    holds one chunk, whatever the clip's length; the result equals `estimate_clips([all frames])` level for
    level (the same float predictions, the same normalisation arithmetic, see the tests). A segment is read from
    its file (one open, frames `item.frames_range` only) and its RGB re-encoded chunk by chunk into `item.data`.

    Raises `DepthError` around failures of the depth model, so the caller can tell them from bad videos."""
    import torch

    from ...depth_estimation import normalize_depth
    from ...video_io import DepthVideoEncoder, open_video
    from .segments import RgbVideoEncoder, SegmentReader

    rgb = None
    if item.frames_range is not None:  # a segment: its frames only, its RGB stored as a video of its own
        video = SegmentReader(item.path)
        first, last = item.frames_range
        total, (height, width), fps = last - first, (video.height, video.width), item.info.fps
        read = lambda start, stop: video.read(first + start, first + stop)  # noqa: E731
        rgb = RgbVideoEncoder(height, width, fps, segment_options)
    else:
        video = open_video(item.data, name=item.path, backend=backend)
        total, (height, width), fps = video.info.num_frames, (video.info.height, video.info.width), video.info.fps
        read = lambda start, stop: video.read(np.arange(start, stop))  # noqa: E731
    normalize = estimator.normalize
    encoder = DepthVideoEncoder(height, width, fps=float(fps) if fps else 12.0, options=codec_options)
    low = high = None
    try:
        with open(scratch, "wb") as parked:
            for start in range(0, total, chunk_frames):
                frames = read(start, min(start + chunk_frames, total))
                if rgb is not None:
                    rgb.write(frames)
                try:
                    predicted = estimator.predict(frames)
                except Exception as error:
                    raise DepthError(error) from error
                if normalize == "frame":
                    encoder.write(normalize_depth(predicted, "frame"))
                    continue
                predicted = predicted.float()
                chunk_low, chunk_high = predicted.min(), predicted.max()
                low = chunk_low if low is None else torch.minimum(low, chunk_low)
                high = chunk_high if high is None else torch.maximum(high, chunk_high)
                parked.write(predicted.numpy().tobytes())
        if normalize != "frame":
            # the arithmetic of depth_estimation.normalize_depth_tensor, with the whole clip's min and max
            span = (high - low).clamp_min(torch.finfo(torch.float32).tiny)
            with open(scratch, "rb") as parked:
                for start in range(0, total, chunk_frames):
                    count = min(chunk_frames, total - start) * height * width
                    values = np.fromfile(parked, dtype=np.float32, count=count)
                    if values.size != count:
                        raise OSError(f"{scratch}: parked depth ends early ({values.size} of {count} values)")
                    prediction = torch.from_numpy(values).view(-1, height, width)
                    scaled = ((prediction - low) / span * 255.0).round().clamp_(0, 255)
                    encoder.write(scaled.to(torch.uint8).numpy())
        if rgb is not None:
            item.data = rgb.finish()
        return encoder.finish()
    except BaseException:
        encoder.close()
        if rgb is not None:
            rgb.close()
        raise
    finally:
        scratch.unlink(missing_ok=True)
        if item.frames_range is not None:
            video.close()


class DepthError(Exception):
    """The depth model failed on a chunk of a long video (the cause is chained)."""


def make_row(item: DecodedVideo, encoded: bytes, depth_model: str) -> dict:
    """The row of a clip: `video_id`, `video`, `depth`, its labels (one column per label set), the source's own
    columns, `num_frames`, `fps`, `height`, `width`, `depth_model`."""
    from ...video_io import probe_video

    info = item.info
    stored = probe_video(encoded, name=f"{item.path} (depth)").num_frames
    if stored != info.num_frames:
        raise ValueError(f"{item.path}: the depth video has {stored} frames, the RGB video {info.num_frames}")
    entry = item.entry
    if item.frames_range is not None:  # a segment's re-encoded RGB must hold its frames, one for one
        rgb = probe_video(item.data, name=f"{item.path} (segment {entry.clip_id})").num_frames
        if rgb != info.num_frames:
            raise ValueError(
                f"{item.path}: segment {entry.clip_id} was stored with {rgb} frames, not {info.num_frames}"
            )
    return {
        "video_id": entry.clip_id,
        "video": item.data,
        "depth": encoded,
        **entry.labels,
        **dict(entry.extra),
        "num_frames": info.num_frames,
        "fps": float(info.fps),
        "height": info.height,
        "width": info.width,
        "depth_model": depth_model,
    }


class DepthFailures:
    """Stops the job when depth estimation fails for many videos in a row: that is the model or the device,
    not the videos."""

    LIMIT = 20

    def __init__(self):
        self.in_a_row = 0

    def record(self, failed: bool, error: BaseException | None = None):
        self.in_a_row = self.in_a_row + 1 if failed else 0
        if self.in_a_row >= self.LIMIT:
            raise RuntimeError(
                f"depth estimation failed for {self.in_a_row} videos in a row; last error: {error}"
            ) from error
