# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The training augmentation as batched tensor ops (device path) against the numpy/PIL path (CPU path)."""

import numpy as np
import pytest
import torch

from modeling_dear.processing_dear import DearVideoProcessor
from modeling_dear.training import DeviceTrainAugmentation, VideoCollator
from modeling_dear.video_transforms import (
    RANDAUGMENT_OPS,
    AugmentationParams,
    AugmentOp,
    TrainAugmentation,
    encode_params,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# a value for each parametrised op, away from the magnitude-0 identity
OP_VALUES = {
    "Rotate": 17.0,
    "ShearX": -0.2,
    "ShearY": 0.2,
    "TranslateX": 0.3,
    "TranslateY": -0.3,
    "Posterize": 2.0,
    "Solarize": 77.0,
    "SolarizeAdd": 70.0,
    "Color": 1.6,
    "Contrast": 0.4,
    "Brightness": 1.5,
    "Sharpness": 1.9,
}


@pytest.fixture(scope="module")
def noisy_clip(make_frames):
    frames = make_frames(2, 60, 90, seed=1).astype(np.int16)
    frames += np.random.default_rng(0).integers(-20, 20, frames.shape, dtype=np.int16)  # texture for the filters
    frames = (40 + 0.6 * np.clip(frames, 0, 255)).astype(np.uint8)  # low contrast, for AutoContrast to act on
    return frames, frames[..., 1].copy()


def grey_level_differences(device_values: torch.Tensor, cpu_values: np.ndarray) -> torch.Tensor:
    return (device_values - torch.from_numpy(np.ascontiguousarray(cpu_values)).float()).abs()


@pytest.mark.parametrize("name", [*RANDAUGMENT_OPS, None])
def test_each_op_matches_the_cpu_path(noisy_clip, name):
    """Same drawn choices → same clip, RGB and depth: Pillow's arithmetic reproduced up to rounding in the two
    resamplings (and the pixels that rounding moves across a threshold: Solarize, Posterize)."""
    frames, depth = noisy_clip
    augmentation = TrainAugmentation(resize=(64, 80), crop_size=(56, 56))
    ops = () if name is None else (AugmentOp(name, OP_VALUES.get(name)),)
    params = AugmentationParams(ops, box=(3, 5, 50, 60), flipped=True)
    cpu_rgb, cpu_depth = augmentation.apply(frames, depth, params)
    batch = {
        "frames": torch.from_numpy(frames)[None],
        "depth_frames": torch.from_numpy(depth)[None],
        "frame_sizes": torch.tensor([[60, 90]]),
        **encode_params([params], 4),
    }
    rgb, device_depth = DeviceTrainAugmentation(augmentation, (0.5,) * 3, (0.5,) * 3).augment(batch)
    assert rgb.shape == (1, 2, 3, 56, 56) and device_depth.shape == (1, 2, 1, 56, 56)
    parity = []
    for got, expected in ((rgb[0].permute(0, 2, 3, 1), cpu_rgb), (device_depth[0, :, 0], cpu_depth)):
        difference = grey_level_differences(got, expected)
        parity.append(float(difference.mean()))
        assert difference.mean() < 0.8, (name, float(difference.mean()))  # AutoContrast/Equalize stretch rounding
        assert (difference > 2).float().mean() < 0.02, (name, float((difference > 2).float().mean()))
    # the op did something: the clip without it is much further from it than the two paths are from each other
    if name is not None:
        plain, _ = augmentation.apply(frames, depth, AugmentationParams((), (3, 5, 50, 60), True))
        assert np.abs(plain.astype(int) - cpu_rgb.astype(int)).mean() > 2 * parity[0]


def test_processor_device_path_gives_the_cpu_path_clips(make_frames):
    """`decode_for_training` + `DeviceTrainAugmentation` against `preprocess(mode="train")`, same seed: same frame
    indices, same swapped labels, same pixels up to rounding; videos of different sizes in one batch."""
    processor = DearVideoProcessor(
        num_frames=4, train_size={"height": 64, "width": 80}, crop_size={"height": 56, "width": 56}
    )
    videos = [make_frames(12, 48 + 6 * i, 70 + 4 * i, seed=i) for i in range(5)]
    depth = [video[..., 0].copy() for video in videos]
    labels = [86, 1, 93, 166, 3]
    for seed in range(3):
        expected = processor(videos, depth=depth, mode="train", labels=labels, seed=seed)
        decoded = processor.decode_for_training(videos, depth=depth, labels=labels, seed=seed)
        assert decoded["frames"].dtype == torch.uint8 and decoded["frames"].shape == (5, 4, 72, 86, 3)
        assert decoded["frame_sizes"].tolist() == [[48 + 6 * i, 70 + 4 * i] for i in range(5)]
        torch.testing.assert_close(decoded["frame_indices"], expected["frame_indices"])
        torch.testing.assert_close(decoded["labels"], expected["labels"])
        got = DeviceTrainAugmentation.from_processor(processor)(dict(decoded))
        for key in ("pixel_values", "depth_pixel_values"):
            assert got[key].shape == expected[key].shape and got[key].dtype == torch.float32
            # in grey levels: the normalised values times 255·std
            difference = (got[key] - expected[key]).abs() * 255 * torch.tensor(processor.image_std).view(1, 1, 3, 1, 1)
            assert difference.flatten(1).mean(1).max() < 1.0, (seed, key, difference.flatten(1).mean(1))


def test_device_path_draws_the_recipe_distribution(make_frames):
    """Flip rate and crop area fractions of the device path's draws follow the recipe (p = 0.5, area ~ U(0.08, 1)
    of the 256x320 frame before the ten-try fallback), and RandAugment applies about num_ops x 0.5 ops per clip."""
    processor = DearVideoProcessor(num_frames=2)
    video = make_frames(4, 24, 32)
    decoded = processor.decode_for_training([video] * 600, seed=0)
    flip_rate = decoded["flips"].float().mean().item()
    assert 0.44 < flip_rate < 0.56, flip_rate
    boxes = decoded["crop_boxes"].double()
    area = boxes[:, 2] * boxes[:, 3] / (256 * 320)
    assert area.min() >= 0.07 and area.max() <= 1.0
    assert 0.45 < area.mean().item() < 0.60, area.mean().item()  # U(0.08, 1) has mean 0.54
    ops_per_clip = (decoded["augment_ops"] >= 0).sum(1).double().mean().item()
    assert 1.8 < ops_per_clip < 2.2, ops_per_clip
    assert set(decoded["augment_ops"][decoded["augment_ops"] >= 0].tolist()) == set(range(len(RANDAUGMENT_OPS)))


def test_collator_on_device_and_trainer_hook_give_the_cpu_batch(make_frames):
    """`VideoCollator(augment_on_device=True)` carries decoded frames; `device_inputs` (what `DearTrainer` runs on
    the training device) gives the CPU collator's batch, same seed."""
    from modeling_dear.video_io import encode_depth_video, encode_video

    processor = DearVideoProcessor(
        num_frames=4, train_size={"height": 64, "width": 80}, crop_size={"height": 56, "width": 56}
    )
    rows = []
    for i in range(3):
        frames = make_frames(10, 48 if i != 2 else 40, 64 if i != 2 else 56, seed=i)  # one smaller: padded
        rows.append(
            {
                "video": encode_video(frames, fps=12),
                "depth": encode_depth_video(frames[..., 0].copy()),
                "label": [86, 2, 93][i],
                "video_id": str(i),
            }
        )
    on_cpu = VideoCollator(processor, mode="train", seed=5)(rows)
    device_collator = VideoCollator(processor, mode="train", seed=5, augment_on_device=True)
    raw = device_collator(rows)
    assert "pixel_values" not in raw and raw["frames"].dtype == torch.uint8 and raw["frames"].shape[2:4] == (48, 64)
    assert raw["frame_sizes"].tolist() == [[48, 64], [48, 64], [40, 56]]
    inputs = device_collator.device_inputs(raw)
    assert set(inputs) == set(on_cpu)
    torch.testing.assert_close(inputs["labels"], on_cpu["labels"])
    for key in ("pixel_values", "depth_pixel_values"):
        assert (inputs[key] - on_cpu[key]).abs().mean() < 1.0 / (255 * 0.26), key


def test_device_path_carries_other_modalities_like_depth(make_frames):
    """A modality besides RGB and depth (`flow`): decoded as `flow_frames`, augmented on the device with RGB's geometric
    ops and fill, normalised like RGB; the CPU path's clips, videos of different sizes in one batch."""
    processor = DearVideoProcessor(
        num_frames=4,
        train_size={"height": 64, "width": 80},
        crop_size={"height": 56, "width": 56},
        randaugment_magnitude=9,
        modalities=["rgb", "depth", "flow"],
    )
    videos = [make_frames(12, 48 + 6 * i, 70 + 4 * i, seed=i) for i in range(4)]
    flows = [make_frames(12, 48 + 6 * i, 70 + 4 * i, seed=10 + i) for i in range(4)]
    depth = [video[..., 0].copy() for video in videos]
    for seed in range(3):
        expected = processor(videos, depth=depth, flow=flows, mode="train", seed=seed)
        decoded = processor.decode_for_training(videos, depth=depth, flow=flows, seed=seed)
        assert decoded["flow_frames"].shape == decoded["frames"].shape and decoded["flow_frames"].dtype == torch.uint8
        got = DeviceTrainAugmentation.from_processor(processor)(dict(decoded))
        assert set(got) == {"pixel_values", "depth_pixel_values", "flow_pixel_values"}
        for key in got:
            difference = (got[key] - expected[key]).abs() * 255 * torch.tensor(processor.image_std).view(1, 1, 3, 1, 1)
            assert difference.flatten(1).mean(1).max() < 1.0, (seed, key, difference.flatten(1).mean(1))
        # the flow clips are flow's, not copies of RGB
        assert (got["flow_pixel_values"] - got["pixel_values"]).abs().mean() > 0.1
