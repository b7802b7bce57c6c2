# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Which frames of a video make a clip. Pure functions: a frame count in, sorted index arrays out.

Segment sampling (TSN, the SSv2 recipe) splits the n frames into T = `num_samples` consecutive segments,
segment i holding frames [s_i, s_(i+1)) with s_i = floor(i·n/T) (lengths differ by at most one), and takes
one frame from each:

* train: a uniformly random frame of each segment;
* val: the segment's centre frame, s_i + floor(len_i / 2);
* test: `num_clips` clips, clip c taking s_i + floor(len_i · (2c + 1) / (2·num_clips)) from every segment.
  With the default 2 clips that is 1/4 and 3/4 of the way through each segment: the clips interleave,
  never share a frame once n ≥ 2T, and a single test clip is the val clip.

Fixed-stride sampling takes T frames `frame_stride` apart: a random start in training, centred for
val, and for test clip c the start (2c + 1)/(2·num_clips) of the way through the slack (the same
placement rule as the segments). When the span (T−1)·stride+1 does not fit, the stride shrinks to the
largest that does.

A video with fewer frames than T gives every frame once plus repeats, sorted, so the clip stays in
temporal order: evenly spread repeats for val/test (the rules above, with empty segments taking s_i),
random ones for train.
"""

from __future__ import annotations

import numpy as np

MODES = ("train", "val", "test")
SAMPLINGS = ("segment", "stride")


def _as_generator(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _check_counts(num_frames: int, num_samples: int) -> None:
    if int(num_frames) < 1:
        raise ValueError(f"cannot sample from a video with {num_frames} frames")
    if int(num_samples) < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")


def _segment_starts(num_frames: int, num_samples: int) -> np.ndarray:
    """s_0..s_T: segment i is frames [s_i, s_(i+1)). Integer arithmetic, so no rounding moves an edge."""
    return np.arange(num_samples + 1, dtype=np.int64) * num_frames // num_samples


def _positions(num_frames: int, num_samples: int, numerator: int, denominator: int) -> np.ndarray:
    """s_i + floor(len_i · numerator / denominator): a fixed fraction of the way through every segment.
    For n < T, empty segments give s_i, which runs through 0..n-1 with repeats, in order."""
    starts = _segment_starts(num_frames, num_samples)
    lengths = np.diff(starts)
    return np.minimum(starts[:-1] + lengths * numerator // denominator, num_frames - 1)


def segment_train_indices(num_frames: int, num_samples: int, rng=None) -> np.ndarray:
    """One uniformly random frame from each of `num_samples` equal segments (TSN). `rng` is a
    `numpy.random.Generator` or a seed."""
    _check_counts(num_frames, num_samples)
    rng = _as_generator(rng)
    if num_frames < num_samples:
        repeats = rng.integers(0, num_frames, size=num_samples - num_frames)
        return np.sort(np.concatenate([np.arange(num_frames), repeats])).astype(np.int64)
    starts = _segment_starts(num_frames, num_samples)
    lengths = np.diff(starts)
    return starts[:-1] + np.minimum(np.floor(rng.random(num_samples) * lengths).astype(np.int64), lengths - 1)


def segment_center_indices(num_frames: int, num_samples: int) -> np.ndarray:
    """The centre frame of each of `num_samples` equal segments (validation)."""
    _check_counts(num_frames, num_samples)
    return _positions(num_frames, num_samples, 1, 2)


def segment_test_indices(num_frames: int, num_samples: int, num_clips: int = 2) -> np.ndarray:
    """(num_clips, num_samples): clip c takes the frame (2c + 1)/(2·num_clips) of the way through every segment."""
    _check_counts(num_frames, num_samples)
    if num_clips < 1:
        raise ValueError(f"num_clips must be at least 1, got {num_clips}")
    return np.stack([_positions(num_frames, num_samples, 2 * c + 1, 2 * num_clips) for c in range(num_clips)])


def _fitting_stride(num_frames: int, num_samples: int, frame_stride: int) -> int:
    if num_samples == 1:
        return frame_stride
    return max(1, min(frame_stride, (num_frames - 1) // (num_samples - 1)))


def stride_indices(
    num_frames: int,
    num_samples: int,
    frame_stride: int,
    mode: str = "val",
    num_clips: int = 2,
    rng=None,
) -> np.ndarray:
    """`num_samples` frames `frame_stride` apart; (num_clips, num_samples) in test mode, else (num_samples,)."""
    _check_counts(num_frames, num_samples)
    if frame_stride < 1:
        raise ValueError(f"frame_stride must be at least 1, got {frame_stride}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if num_frames < num_samples:
        if mode == "train":
            return segment_train_indices(num_frames, num_samples, rng)
        clip = segment_center_indices(num_frames, num_samples)
        return np.stack([clip] * num_clips) if mode == "test" else clip
    stride = _fitting_stride(num_frames, num_samples, frame_stride)
    offsets = np.arange(num_samples, dtype=np.int64) * stride
    slack = num_frames - 1 - int(offsets[-1])
    if mode == "train":
        return int(_as_generator(rng).integers(0, slack + 1)) + offsets
    if mode == "val":
        return slack // 2 + offsets
    starts = [(2 * c + 1) * slack // (2 * num_clips) for c in range(num_clips)]
    return np.stack([start + offsets for start in starts])


def sample_frame_indices(
    num_frames: int,
    num_samples: int = 8,
    mode: str = "val",
    sampling: str = "segment",
    frame_stride: int = 4,
    num_clips: int = 2,
    rng=None,
) -> np.ndarray:
    """Indices of the frames forming a clip: (num_samples,) for train/val, (num_clips, num_samples) for test.

    `sampling` is "segment" (TSN segments, see the module docstring) or "stride" (fixed `frame_stride`);
    `rng` (a `numpy.random.Generator` or a seed) only matters in train mode.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if sampling == "stride":
        return stride_indices(num_frames, num_samples, frame_stride, mode, num_clips, rng)
    if sampling != "segment":
        raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
    if mode == "train":
        return segment_train_indices(num_frames, num_samples, rng)
    if mode == "val":
        return segment_center_indices(num_frames, num_samples)
    return segment_test_indices(num_frames, num_samples, num_clips)
