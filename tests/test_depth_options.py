# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""DepthEstimator's speed options (bench/depth_extraction.py measures them): bf16 on CPU with a clean fp32
fallback, input at the frames' aspect ratio for DPT-Hybrid, channels-last; and their command-line flags."""

import numpy as np
import pytest
import torch

from modeling_dear import depth_estimation
from modeling_dear.depth_estimation import DepthEstimator, aspect_ratio_multiple, resolve_autocast_dtype
from modeling_dear.testing_utils import tiny_hybrid_dpt

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def hybrid():
    return tiny_hybrid_dpt()


@pytest.fixture(scope="module")
def frames(make_frames):
    return make_frames(5, 60, 107)  # SSv2's 240×427 aspect ratio, at a quarter of the size


def test_aspect_ratio_input_on_hybrid_dpt(hybrid, frames):
    model, processor = hybrid
    square = DepthEstimator(model, image_processor=processor, device="cpu", batch_size=2)
    before = square.predict(frames)
    assert square.model_input_size(60, 107) == (64, 64)
    aspect = DepthEstimator(model, image_processor=processor, device="cpu", batch_size=2, keep_aspect_ratio=True)
    # the DPT rule (scale by the side that needs less) gives 64×114, rounded to multiples of 32
    assert aspect.model_input_size(60, 107) == (64, 128) and aspect_ratio_multiple(model) == 32
    assert tuple(aspect._prepare(frames).shape) == (5, 3, 64, 128)
    # the neck must see the tokens as the 4×8 grid they are (16-pixel patches), not 8×4 or a failed square
    grids = []
    handle = model.neck.reassemble_stage.register_forward_hook(
        lambda module, args, output: grids.append([tuple(o.shape[-2:]) for o in output])
    )
    try:
        with torch.inference_mode():
            predicted = model(pixel_values=aspect._prepare(frames[:1])).predicted_depth
    finally:
        handle.remove()
    assert grids[0][2:] == [(4, 8), (2, 4)]  # the two ViT stages: reassemble factors 1 and 1/2
    assert tuple(predicted.shape) == (1, 64, 128)
    depth = aspect(frames)
    assert depth.shape == (5, 60, 107) and depth.dtype == np.uint8 and depth.min() == 0 and depth.max() == 255
    # the hooks that let the hybrid model take the wider input leave square inputs bit for bit unchanged
    torch.testing.assert_close(square.predict(frames), before, rtol=0, atol=0)


def test_aspect_ratio_is_refused_for_square_only_models(tiny_dpt):
    with pytest.raises(ValueError, match="'dpt' models without a hybrid backbone only take square inputs"):
        DepthEstimator(tiny_dpt, device="cpu", keep_aspect_ratio=True)
    # asking for what the checkpoint already does is fine
    assert DepthEstimator(tiny_dpt, device="cpu", keep_aspect_ratio=False).model_input_size(60, 107) == (32, 32)


def test_bf16_on_cpu_is_close_to_fp32(hybrid, frames, monkeypatch):
    model, processor = hybrid
    monkeypatch.setattr(depth_estimation, "cpu_supports_bf16", lambda: True)
    fp32 = DepthEstimator(model, image_processor=processor, device="cpu", batch_size=5)
    bf16 = DepthEstimator(model, image_processor=processor, device="cpu", batch_size=5, autocast_dtype="auto")
    assert fp32.autocast_dtype is None and bf16.autocast_dtype == torch.bfloat16
    reference, predicted = fp32.predict(frames), bf16.predict(frames)
    relative = (predicted - reference).abs() / (reference.max() - reference.min())
    # stated tolerance, on this tiny random model: mean error under 1 % of the clip's depth range, max under 6 %;
    # after min-max to uint8, mean under 2 grey levels (bench/depth_extraction.py reports DPT-Hybrid's)
    assert relative.mean() < 0.01 and relative.max() < 0.06, (relative.mean(), relative.max())
    difference = np.abs(bf16(frames).astype(int) - fp32(frames).astype(int))
    assert difference.mean() < 2.0, difference.mean()
    assert relative.max() > 0  # bf16 really ran: a bit-identical result would mean autocast was not applied


def test_auto_precision_falls_back_to_fp32_without_native_bf16(hybrid, frames, monkeypatch):
    model, processor = hybrid
    monkeypatch.setattr(depth_estimation, "cpu_supports_bf16", lambda: False)
    auto = DepthEstimator(model, image_processor=processor, device="cpu", batch_size=5, autocast_dtype="auto")
    assert auto.autocast_dtype is None
    fp32 = DepthEstimator(model, image_processor=processor, device="cpu", batch_size=5)
    np.testing.assert_array_equal(auto(frames), fp32(frames))


def test_autocast_dtype_names():
    cpu = torch.device("cpu")
    assert resolve_autocast_dtype("bf16", cpu) == torch.bfloat16
    assert resolve_autocast_dtype("fp32", cpu) is None and resolve_autocast_dtype(torch.float32, cpu) is None
    assert resolve_autocast_dtype(None, cpu) is None  # today's CPU default stays fp32
    with pytest.raises(ValueError, match="autocast_dtype must be one of .* got 'bf8'"):
        resolve_autocast_dtype("bf8", cpu)


def test_channels_last_gives_the_same_depth(hybrid, frames):
    model, processor = hybrid
    reference = DepthEstimator(model, image_processor=processor, device="cpu", batch_size=5).predict(frames)
    fast = DepthEstimator(model, image_processor=processor, device="cpu", batch_size=5, channels_last=True)
    assert fast._prepare(frames).is_contiguous(memory_format=torch.channels_last)
    try:
        torch.testing.assert_close(fast.predict(frames), reference, rtol=1e-4, atol=1e-4)
    finally:
        model.to(memory_format=torch.contiguous_format)  # the module-scoped model is shared


def test_command_line_flags_reach_the_estimator(monkeypatch, tmp_path):
    from modeling_dear.cli import prepare_ssv2 as cli

    seen = {}
    monkeypatch.setattr(cli, "prepare_ssv2", lambda *args, **kwargs: seen.update(kwargs) or "done")
    base = ["--videos", str(tmp_path), "--labels", str(tmp_path), "--output_dir", str(tmp_path / "out")]
    # new datasets get the fast path: bf16 where native, the frames' aspect ratio where the model takes it
    assert cli.main(base) == 0
    assert seen["autocast_dtype"] == "auto" and seen["keep_aspect_ratio"] == "auto" and seen["channels_last"] is False
    assert cli.main(base + ["--depth_precision", "default", "--no_keep_aspect_ratio", "--channels_last"]) == 0
    assert seen["autocast_dtype"] is None and seen["keep_aspect_ratio"] is None and seen["channels_last"] is True


def test_aspect_ratio_auto_keeps_it_where_the_model_takes_it(hybrid, tiny_dpt):
    model, processor = hybrid
    assert DepthEstimator(model, image_processor=processor, device="cpu", keep_aspect_ratio="auto").model_input_size(
        60, 107
    ) == DepthEstimator(model, image_processor=processor, device="cpu", keep_aspect_ratio=True).model_input_size(
        60, 107
    )
    # a square-only model keeps the checkpoint's input instead of being refused
    assert DepthEstimator(tiny_dpt, device="cpu", keep_aspect_ratio="auto").model_input_size(60, 107) == (32, 32)
    with pytest.raises(ValueError, match="keep_aspect_ratio must be True, False, None or 'auto', got 'yes'"):
        DepthEstimator(tiny_dpt, device="cpu", keep_aspect_ratio="yes")
