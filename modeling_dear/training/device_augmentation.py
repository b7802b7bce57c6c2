# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The training augmentation as batched tensor ops on the training device.

`DearVideoProcessor.decode_for_training` does on the CPU only what must run there: it decodes the sampled frames
of each video and of its depth (or other-modality) videos and draws each clip's random choices
(`TrainAugmentation.sample`, the same draws in the same order as the CPU path), encoded as tensors
(`video_transforms.encode_params`). `DeviceTrainAugmentation` then applies them to the whole batch wherever the
batch lives: resize to the training size, RandAugment (geometric ops on RGB, depth and any other modality with the
same parameters, photometric ops on RGB only), the resized crop, the flip, the depth colour map and the
normalisation. Each step reproduces Pillow's arithmetic (bilinear sampling and fills of its affine transforms,
its lookup tables for the photometric ops, uint8 rounding after every op), so both paths give the same clips
up to interpolation details at crop borders (see tests/test_device_augmentation.py for the tolerances).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..video_transforms import (
    _DEPTH_FILL,
    _RGB_FILL,
    GEOMETRIC_OPS,
    NO_OP,
    RANDAUGMENT_OPS,
    TrainAugmentation,
    colormap_lut,
)

# ---------------------------------------------------------------------------------------------- geometry


def _rotate_matrix(degrees: float, width: int, height: int) -> list[float]:
    # Pillow's Image.rotate (expand=False, centre of the image): the inverse map from output to input pixels
    angle = -math.radians(degrees % 360.0)
    a, b, d, e = math.cos(angle), math.sin(angle), -math.sin(angle), math.cos(angle)
    cx, cy = width / 2.0, height / 2.0
    c = a * -cx + b * -cy + cx
    f = d * -cx + e * -cy + cy
    return [a, b, c, d, e, f]


def _op_matrix(name: str, value: float, width: int, height: int) -> list[float]:
    """The (a, b, c, d, e, f) output→input map Pillow's `Image.transform(AFFINE)` gets for each geometric op."""
    if name == "Rotate":
        return _rotate_matrix(value, width, height)
    if name == "ShearX":
        return [1, value, 0, 0, 1, 0]
    if name == "ShearY":
        return [1, 0, 0, value, 1, 0]
    if name == "TranslateX":
        return [1, 0, value * width, 0, 1, 0]
    if name == "TranslateY":
        return [1, 0, 0, 0, 1, value * height]
    raise ValueError(f"{name} is not a geometric op")


def pil_affine(images: torch.Tensor, matrices: torch.Tensor, fill: float) -> torch.Tensor:
    """Pillow's bilinear affine transform of (N, C, H, W) images, one (a, b, c, d, e, f) matrix per image (N, 6).

    Output pixel (x, y) reads input point (a·(x+½) + b·(y+½) + c, d·(x+½) + e·(y+½) + f): bilinear with the edge
    pixels repeated when the point lies inside the image, `fill` when it lies outside. Rounded to integers.
    """
    n, _, height, width = images.shape
    device = images.device
    ys = torch.arange(height, device=device, dtype=torch.float64) + 0.5
    xs = torch.arange(width, device=device, dtype=torch.float64) + 0.5
    m = matrices.to(device=device, dtype=torch.float64).view(n, 6, 1, 1)
    x_in = m[:, 0] * xs.view(1, 1, -1) + m[:, 1] * ys.view(1, -1, 1) + m[:, 2]
    y_in = m[:, 3] * xs.view(1, 1, -1) + m[:, 4] * ys.view(1, -1, 1) + m[:, 5]
    inside = (x_in >= 0) & (x_in < width) & (y_in >= 0) & (y_in < height)
    # grid_sample's align_corners=False coordinates: -1 and 1 are the outer edges, pixel i's centre at i + ½
    grid = torch.stack([2 * x_in / width - 1, 2 * y_in / height - 1], dim=-1).to(images.dtype)
    sampled = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
    sampled = torch.where(inside.unsqueeze(1), sampled, torch.full_like(sampled, fill))
    return sampled.round_().clamp_(0, 255)


# ------------------------------------------------------------------------------------------ photometric


def _luminance(images: torch.Tensor) -> torch.Tensor:
    # Pillow's RGB → L: (R·19595 + G·38470 + B·7471 + 2¹⁵) >> 16, in integers
    rgb = images.to(torch.int32)
    weighted = rgb[:, 0] * 19595 + rgb[:, 1] * 38470 + rgb[:, 2] * 7471 + 32768
    return (weighted >> 16).to(images.dtype).unsqueeze(1)


def _blend(degenerate: torch.Tensor, images: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    # Pillow's Image.blend for uint8: degenerate + factor·(image − degenerate), clipped and truncated
    factor = factor.view(-1, 1, 1, 1).to(images.dtype)
    return (degenerate + factor * (images - degenerate)).clamp_(0, 255).floor_()


def _smooth(images: torch.Tensor) -> torch.Tensor:
    # ImageFilter.SMOOTH: 3×3 kernel [1 1 1; 1 5 1; 1 1 1] / 13, rounded; the one-pixel border is copied
    channels = images.shape[1]
    kernel = torch.ones(3, 3, device=images.device, dtype=images.dtype)
    kernel[1, 1] = 5
    kernel = (kernel / 13).expand(channels, 1, 3, 3)
    smoothed = F.conv2d(images, kernel, groups=channels).round_().clamp_(0, 255)
    out = images.clone()
    out[..., 1:-1, 1:-1] = smoothed
    return out


def _histograms(images: torch.Tensor) -> torch.Tensor:
    # (N, C, H, W) integer-valued → (N, C, 256) counts
    n, c = images.shape[:2]
    values = images.reshape(n * c, -1).long()
    counts = torch.zeros(n * c, 256, dtype=torch.long, device=images.device)
    counts.scatter_add_(1, values, torch.ones_like(values))
    return counts.view(n, c, 256)


def _apply_lut(images: torch.Tensor, lut: torch.Tensor) -> torch.Tensor:
    # lut (N, C, 256) per image and channel
    n, c = images.shape[:2]
    flat = images.reshape(n, c, -1).long()
    return torch.gather(lut.to(images.dtype), 2, flat).view_as(images)


def _autocontrast(images: torch.Tensor) -> torch.Tensor:
    # ImageOps.autocontrast (cutoff 0): each channel stretched from its [min, max] to [0, 255], truncated
    flat = images.flatten(2)
    low, high = flat.amin(-1, keepdim=True), flat.amax(-1, keepdim=True)
    scale = 255.0 / (high - low).clamp_min(1)
    stretched = (flat * scale - low * scale).floor_().clamp_(0, 255)
    return torch.where(high > low, stretched, flat).view_as(images)


def _equalize(images: torch.Tensor) -> torch.Tensor:
    # ImageOps.equalize: per channel, lut[i] = (step // 2 + Σ_{j<i} h[j]) // step, step = (total − h[last]) // 255
    counts = _histograms(images)
    levels = torch.arange(256, device=images.device)
    last = torch.where(counts > 0, levels, -1).amax(-1, keepdim=True)
    last_count = torch.gather(counts, 2, last.clamp_min(0))
    step = (counts.sum(-1, keepdim=True) - last_count) // 255
    before = torch.cumsum(counts, -1) - counts
    lut = ((step // 2 + before) // step.clamp_min(1)).clamp_(0, 255)
    keep = (step == 0) | ((counts > 0).sum(-1, keepdim=True) <= 1)
    lut = torch.where(keep, levels.expand_as(lut), lut)
    return _apply_lut(images, lut)


def _photometric(images: torch.Tensor, name: str, values: torch.Tensor) -> torch.Tensor:
    """One photometric RandAugment op on (N, 3, H, W) integer-valued RGB, `values` (N,) its parameters."""
    v = values.to(images.dtype).view(-1, 1, 1, 1)
    if name == "AutoContrast":
        return _autocontrast(images)
    if name == "Equalize":
        return _equalize(images)
    if name == "Invert":
        return 255 - images
    if name == "Posterize":
        # keep the top `bits` bits; 0 bits is a black image
        quantum = torch.pow(2.0, 8 - v.floor())
        return torch.where(v >= 1, (images / quantum).floor_() * quantum, torch.zeros_like(images))
    if name == "Solarize":
        return torch.where(images < v.floor(), images, 255 - images)
    if name == "SolarizeAdd":
        return torch.where(images < 128, (images + v.floor()).clamp_(max=255), images)
    if name == "Color":
        return _blend(_luminance(images).expand_as(images), images, values)
    if name == "Contrast":
        mean = (_luminance(images).flatten(1).mean(-1) + 0.5).floor_()
        return _blend(mean.view(-1, 1, 1, 1).expand_as(images), images, values)
    if name == "Brightness":
        return _blend(torch.zeros_like(images), images, values)
    if name == "Sharpness":
        return _blend(_smooth(images), images, values)
    raise ValueError(f"unknown RandAugment op {name!r}")


# ------------------------------------------------------------------------------------------- the pipeline


def _resize(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    # Pillow's bilinear resize (a triangle filter widened when downscaling) is interpolate's antialiased bilinear
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    return (
        F.interpolate(images, size=size, mode="bilinear", antialias=True, align_corners=False).round_().clamp_(0, 255)
    )


class DeviceTrainAugmentation:
    """Applies `TrainAugmentation`'s drawn choices to a decoded batch as tensor ops, where the batch is.

    Takes what `DearVideoProcessor.decode_for_training` returns (moved to the device): `frames` (B, T, H, W, 3)
    uint8, `depth_frames` (B, T, H, W) uint8 and `<modality>_frames` (B, T, H, W, 3) uint8 of other modalities
    (optional), `frame_sizes` (B, 2) each clip's true (H, W) in the zero-padded arrays, and the encoded choices
    (`video_transforms.encode_params`). Returns `pixel_values`, `depth_pixel_values` and `<modality>_pixel_values`
    (B, T, 3, h, w) float32, normalised as `DearVideoProcessor` makes them.
    """

    INPUT_KEYS = ("frames", "depth_frames", "frame_sizes", "augment_ops", "augment_values", "crop_boxes", "flips")

    @staticmethod
    def modality_frame_keys(batch) -> list[str]:
        """The keys of `batch` that hold frames of a modality other than RGB and depth (`<modality>_frames`)."""
        return [key for key in batch if key.endswith("_frames") and key != "depth_frames"]

    def __init__(self, augmentation: TrainAugmentation, image_mean, image_std, depth_colormap: str = "inferno"):
        self.augmentation = augmentation
        self.image_mean = tuple(float(x) for x in image_mean)
        self.image_std = tuple(float(x) for x in image_std)
        self.depth_colormap = depth_colormap

    @classmethod
    def from_processor(cls, processor) -> DeviceTrainAugmentation:
        return cls(processor._train_augmentation(), processor.image_mean, processor.image_std, processor.depth_colormap)

    def __call__(self, batch: dict) -> dict:
        rgb, aligned = self.augment_modalities(batch)
        mean = torch.tensor(self.image_mean, device=rgb.device).view(1, 1, 3, 1, 1) * 255.0
        std = torch.tensor(self.image_std, device=rgb.device).view(1, 1, 3, 1, 1) * 255.0
        out = {"pixel_values": ((rgb - mean) / std).contiguous()}
        for key, clips in aligned.items():
            if key == "depth_frames":
                # colour map by lookup, then the same normalisation as RGB
                lut = torch.from_numpy(np.asarray(colormap_lut(self.depth_colormap), dtype=np.float32)).to(clips.device)
                clips = lut[clips[:, :, 0].long()].permute(0, 1, 4, 2, 3)  # (B, T, 3, h, w)
            out[key.removesuffix("_frames") + "_pixel_values"] = ((clips - mean) / std).contiguous()
        return out

    def augment(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The augmented clips before colour map and normalisation: RGB (B, T, 3, h, w) and depth (B, T, 1, h, w),
        float tensors holding the integers 0..255 the CPU path's uint8 arrays hold."""
        rgb, aligned = self.augment_modalities(batch)
        return rgb, aligned.get("depth_frames")

    def augment_modalities(self, batch: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """As `augment`, for every modality in the batch: RGB, and by batch key (`depth_frames`, `<modality>_frames`)
        the aligned clips, depth (B, T, 1, h, w) and other modalities (B, T, 3, h, w)."""
        frames = batch["frames"]
        sizes = batch["frame_sizes"].tolist()
        batch_size, num_frames = frames.shape[:2]
        resize = tuple(self.augmentation.resize)

        # 1. each clip from its own size to the training size (the only per-clip loop besides the crop)
        def resized(clips):  # (B, T, H, W, C) uint8 -> (B, T, C, H', W') float
            return torch.stack(
                [_resize(clips[b, :, :h, :w].permute(0, 3, 1, 2).float(), resize) for b, (h, w) in enumerate(sizes)]
            )

        rgb = resized(frames)  # (B, T, 3, H', W')
        aligned = {}
        if batch.get("depth_frames") is not None:
            aligned["depth_frames"] = resized(batch["depth_frames"][..., None])
        for key in self.modality_frame_keys(batch):
            aligned[key] = resized(batch[key])
        fills = {key: _DEPTH_FILL if key == "depth_frames" else _RGB_FILL[0] for key in aligned}

        # 2. RandAugment, slot by slot: the clips that drew the same op in a slot are transformed together
        ops, values = batch["augment_ops"].tolist(), batch["augment_values"]
        height, width = resize
        for slot in range(len(ops[0]) if ops else 0):
            by_op: dict[int, list[int]] = {}
            for b in range(batch_size):
                if ops[b][slot] != NO_OP:
                    by_op.setdefault(ops[b][slot], []).append(b)
            for op_index, clips in by_op.items():
                name = RANDAUGMENT_OPS[op_index]
                index = torch.tensor(clips, device=rgb.device)
                clip_values = values[index, slot].repeat_interleave(num_frames)
                if name in GEOMETRIC_OPS:
                    matrices = torch.tensor(
                        [_op_matrix(name, float(values[b, slot]), width, height) for b in clips], dtype=torch.float64
                    ).repeat_interleave(num_frames, dim=0)
                    rgb[index] = pil_affine(rgb[index].flatten(0, 1), matrices, _RGB_FILL[0]).unflatten(
                        0, (-1, num_frames)
                    )
                    for key, clips in aligned.items():
                        clips[index] = pil_affine(clips[index].flatten(0, 1), matrices, fills[key]).unflatten(
                            0, (-1, num_frames)
                        )
                else:
                    rgb[index] = _photometric(rgb[index].flatten(0, 1), name, clip_values).unflatten(
                        0, (-1, num_frames)
                    )

        # 3. resized crop, 4. flip
        crop = tuple(self.augmentation.crop_size)
        boxes = batch["crop_boxes"].tolist()

        def crop_resize(clips):
            return torch.stack(
                [
                    _resize(clips[b, :, :, top : top + h, left : left + w], crop)
                    for b, (top, left, h, w) in enumerate(boxes)
                ]
            )

        flips = batch["flips"].to(rgb.device).view(-1, 1, 1, 1, 1)
        rgb = crop_resize(rgb)
        rgb = torch.where(flips, rgb.flip(-1), rgb)
        for key, clips in aligned.items():
            clips = crop_resize(clips)
            aligned[key] = torch.where(flips, clips.flip(-1), clips)
        return rgb, aligned


__all__ = ["DeviceTrainAugmentation", "pil_affine"]
