# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Frame index rules: TSN train, segment centres, 2 test clips at 1/4 and 3/4, short videos, strides."""

import numpy as np
import pytest

from modeling_dear.frame_sampling import (
    sample_frame_indices,
    segment_center_indices,
    segment_test_indices,
    segment_train_indices,
    stride_indices,
)

LENGTHS = [8, 9, 26, 45, 66, 120]  # SSv2: min 8, 5th-95th percentile 26-66, max 120


def segment_bounds(n, t):
    return [(i * n // t, (i + 1) * n // t) for i in range(t)]  # [start, end) of each segment


@pytest.mark.parametrize("n", LENGTHS)
def test_val_takes_segment_centres(n):
    indices = segment_center_indices(n, 8)
    assert indices.dtype == np.int64 and indices.shape == (8,)
    np.testing.assert_array_equal(indices, [s + (e - s) // 2 for s, e in segment_bounds(n, 8)])
    assert (np.diff(indices) > 0).all()
    for index, (start, end) in zip(indices, segment_bounds(n, 8), strict=True):
        assert start <= index < end


def test_val_example():
    # segments of 45 frames: [0,5) [5,11) [11,16) [16,22) [22,28) [28,33) [33,39) [39,45)
    np.testing.assert_array_equal(segment_center_indices(45, 8), [2, 8, 13, 19, 25, 30, 36, 42])
    np.testing.assert_array_equal(
        segment_test_indices(45, 8), [[1, 6, 12, 17, 23, 29, 34, 40], [3, 9, 14, 20, 26, 31, 37, 43]]
    )


@pytest.mark.parametrize("n", LENGTHS)
def test_train_takes_one_random_frame_per_segment(n):
    seen = [set() for _ in range(8)]
    rng = np.random.default_rng(0)
    for _ in range(300):
        indices = segment_train_indices(n, 8, rng)
        assert indices.shape == (8,) and (np.diff(indices) > 0).all()
        for i, (index, (start, end)) in enumerate(zip(indices, segment_bounds(n, 8), strict=True)):
            assert start <= index < end
            seen[i].add(int(index))
    # every frame of every segment gets drawn: the choice is uniform within segments, not fixed
    assert all(seen[i] == set(range(start, end)) for i, (start, end) in enumerate(segment_bounds(n, 8)))


def test_train_is_reproducible_from_a_seed_or_generator():
    a = segment_train_indices(45, 8, 123)
    np.testing.assert_array_equal(a, segment_train_indices(45, 8, np.random.default_rng(123)))
    assert any(not np.array_equal(a, segment_train_indices(45, 8, s)) for s in range(5))


@pytest.mark.parametrize("n", LENGTHS)
def test_test_clips_at_quarter_and_three_quarters(n):
    clips = segment_test_indices(n, 8, num_clips=2)
    assert clips.shape == (2, 8)
    bounds = segment_bounds(n, 8)
    np.testing.assert_array_equal(clips[0], [s + (e - s) // 4 for s, e in bounds])
    np.testing.assert_array_equal(clips[1], [s + 3 * (e - s) // 4 for s, e in bounds])
    for clip in clips:
        assert all(s <= index < e for index, (s, e) in zip(clip, bounds, strict=True))
    assert (np.diff(clips, axis=1) > 0).all()
    if n >= 16:  # n ≥ 2T: the two clips never share a frame
        assert not set(clips[0]) & set(clips[1])
    np.testing.assert_array_equal(segment_test_indices(n, 8, num_clips=1)[0], segment_center_indices(n, 8))


@pytest.mark.parametrize("n", [1, 3, 5, 7])
@pytest.mark.parametrize("mode", ["train", "val", "test"])
@pytest.mark.parametrize("sampling", ["segment", "stride"])
def test_short_video_gives_all_frames_plus_sorted_repeats(n, mode, sampling):
    indices = sample_frame_indices(n, 8, mode=mode, sampling=sampling, rng=0)
    clips = indices if mode == "test" else indices[None]
    assert clips.shape[1] == 8
    for clip in clips:
        assert set(clip.tolist()) == set(range(n))
        assert (np.diff(clip) >= 0).all()


def test_short_video_example():
    np.testing.assert_array_equal(segment_center_indices(5, 8), [0, 0, 1, 1, 2, 3, 3, 4])


def test_stride_sampling():
    val = stride_indices(45, 8, 4, mode="val")
    np.testing.assert_array_equal(val, 8 + 4 * np.arange(8))  # 29-frame span centred in 45
    rng = np.random.default_rng(0)
    starts = {int(stride_indices(45, 8, 4, mode="train", rng=rng)[0]) for _ in range(300)}
    assert starts == set(range(0, 45 - 28))
    test = stride_indices(45, 8, 4, mode="test", num_clips=2)
    assert test.shape == (2, 8) and (np.diff(test, axis=1) == 4).all()
    np.testing.assert_array_equal(test[:, 0], [4, 12])  # at 1/4 and 3/4 of the 16 spare frames
    # a span that does not fit shrinks the stride to the largest that does
    np.testing.assert_array_equal(stride_indices(20, 8, 4, mode="val"), 2 + 2 * np.arange(8))
    np.testing.assert_array_equal(sample_frame_indices(45, 8, "val", sampling="stride", frame_stride=4), val)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="mode"):
        sample_frame_indices(45, 8, mode="eval")
    with pytest.raises(ValueError, match="sampling"):
        sample_frame_indices(45, 8, sampling="uniform")
    with pytest.raises(ValueError, match="0 frames"):
        sample_frame_indices(0, 8)
    with pytest.raises(ValueError, match="frame_stride"):
        stride_indices(45, 8, 0)
