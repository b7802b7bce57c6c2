# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""DepthEstimator on a tiny random DPT saved locally (no downloads), normalisation and visualisation."""

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import DPTForDepthEstimation

from modeling_dear.depth_estimation import DepthEstimator, model_input_size, normalize_depth, save_depth_visualization
from modeling_dear.video_io import encode_video

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def estimator(tiny_dpt):
    return DepthEstimator(tiny_dpt, batch_size=4, device="cpu")


@pytest.fixture(scope="module")
def frames(make_frames):
    return make_frames(6, 45, 61)


def test_output_shape_dtype_range(estimator, frames):
    depth = estimator(frames)
    assert depth.shape == (6, 45, 61) and depth.dtype == np.uint8
    assert depth.min() == 0 and depth.max() == 255  # per clip: the clip's extremes reach both ends
    per_frame = estimator(frames, normalize="frame")
    assert per_frame.shape == (6, 45, 61) and per_frame.dtype == np.uint8
    assert (per_frame.reshape(6, -1).min(1) == 0).all() and (per_frame.reshape(6, -1).max(1) == 255).all()


def test_batching_does_not_change_predictions(tiny_dpt, estimator, frames):
    single = DepthEstimator(tiny_dpt, batch_size=1, device="cpu").predict(frames)
    torch.testing.assert_close(single, estimator.predict(frames), rtol=1e-4, atol=1e-5)
    clips = estimator.estimate_clips([frames, frames[:2], frames[:, :40, :50]])
    np.testing.assert_array_equal(clips[0], estimator(frames))
    np.testing.assert_array_equal(clips[1], estimator(frames[:2]))
    assert clips[2].shape == (6, 40, 50)


def test_preprocessing_matches_the_image_processor(estimator, frames):
    ours = estimator._prepare(frames)
    theirs = estimator.image_processor(images=list(frames), return_tensors="pt")["pixel_values"]
    assert ours.shape == theirs.shape == (6, 3, 32, 32)
    # torch's antialiased bicubic vs PIL's bicubic: equal up to resampling rounding
    assert (ours - theirs).abs().mean() < 0.01 and (ours - theirs).abs().max() < 0.1


def test_inverse_depth_convention_and_normalisation():
    near_far = torch.tensor([[[1.0, 2.0], [3.0, 5.0]], [[1.0, 1.0], [1.0, 9.0]]])  # larger = nearer
    clip = normalize_depth(near_far, "clip")
    np.testing.assert_array_equal(clip, [[[0, 32], [64, 128]], [[0, 0], [0, 255]]])
    frame = normalize_depth(near_far, "frame")
    np.testing.assert_array_equal(frame, [[[0, 64], [128, 255]], [[0, 0], [0, 255]]])
    assert (normalize_depth(torch.ones(2, 3, 3)) == 0).all()
    with pytest.raises(ValueError, match="normalize"):
        normalize_depth(near_far, "video")


def test_model_input_size():
    assert model_input_size(240, 427, (384, 384), keep_aspect_ratio=False, ensure_multiple_of=1) == (384, 384)
    # Depth Anything: the side scaled least wins, then multiples of the 14-pixel patch
    assert model_input_size(240, 427, (518, 518), keep_aspect_ratio=True, ensure_multiple_of=14) == (294, 518)


def test_estimate_video(estimator, frames):
    data = encode_video(frames[:, :44, :60], codec="libx264")
    depth = estimator.estimate_video(data)
    assert depth.shape == (6, 44, 60) and depth.dtype == np.uint8


def test_folder_without_image_processor_uses_dpt_defaults(tmp_path, tiny_dpt):
    model = DPTForDepthEstimation.from_pretrained(tiny_dpt)
    model.save_pretrained(tmp_path)
    bare = DepthEstimator(tmp_path, device="cpu")
    assert bare.image_processor is None and bare.model_input_size(240, 427) == (384, 384)
    assert DepthEstimator(model, device="cpu").model_input_size(10, 10) == (384, 384)


def test_visualisation(tmp_path, estimator, frames):
    depth = estimator(frames)
    png, gif = tmp_path / "depth.png", tmp_path / "depth.gif"
    save_depth_visualization(frames, depth, png, gif, max_rows=4)
    with Image.open(png) as image:
        assert image.size == (2 * 61, 4 * 45)
        grid = np.asarray(image.convert("RGB"))
        np.testing.assert_array_equal(grid[:45, :61], frames[0])  # left half is the RGB frame
    with Image.open(gif) as animation:
        assert animation.n_frames == 6 and animation.size == (122, 45)
    with pytest.raises(ValueError, match="depth must be"):
        save_depth_visualization(frames, depth[:3], png)
