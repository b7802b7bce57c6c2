# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Clip-level image transforms (numpy; PIL for RandAugment only), applied identically to every frame of a clip.

Clips are uint8 arrays: RGB (T, H, W, 3), depth (T, H, W). Every random choice (RandAugment ops and
magnitudes, crop box, flip) is drawn once per clip and applied to all its frames, and a depth clip goes
through exactly the same geometric steps as its RGB clip: same resize, same rotation/shear/translation
when RandAugment draws one, same crop box, same flip. Photometric steps (colour, contrast, posterize, ...)
are RGB only: they would change the depth values themselves.

Why one module: the geometry of every transform (resize, crops, flips, RandAugment, test views) is replayed
identically on RGB, depth and other modalities from one set of drawn parameters, and saved folders carry it; one
module keeps that shared geometry in one place.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import numpy as np

from .colormap_tables import INFERNO

# Importing this module (the config, the processor and the model do) needs numpy only: evaluation transforms and
# resizing are numpy, and PIL is imported by the RandAugment ops alone (training), so that a saved folder loads and
# predicts with what transformers itself needs.

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
COLORMAPS = ("inferno", "gray")


def _pil():
    """PIL's Image, ImageEnhance and ImageOps, for the RandAugment ops (training only)."""
    try:
        from PIL import Image, ImageEnhance, ImageOps
    except ImportError as error:
        raise ImportError("RandAugment (training-time augmentation) needs Pillow: pip install 'pillow>=10'") from error
    return Image, ImageEnhance, ImageOps


# --------------------------------------------------------------------------------------------- depth colours


@functools.cache
def colormap_lut(name: str = "inferno") -> np.ndarray:
    """(256, 3) uint8 lookup table of a colour map (matplotlib's "inferno", stored as data in colormap_tables)."""
    if name == "gray":
        lut = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    elif name == "inferno":
        lut = np.array(INFERNO, dtype=np.uint8)
    else:
        raise ValueError(f"depth colour map must be one of {COLORMAPS}, got {name!r}")
    lut.setflags(write=False)
    return lut


def colormap_depth(depth: np.ndarray, name: str = "inferno") -> np.ndarray:
    """Map uint8 depth (..., H, W) to colours (..., H, W, 3) uint8. With "inferno" (the MiDaS
    visualisation) near (large inverse depth) is bright yellow, far is black; "gray" repeats the value."""
    depth = np.asarray(depth)
    if depth.dtype != np.uint8:
        raise ValueError(f"colormap_depth expects uint8 depth, got {depth.dtype}")
    return colormap_lut(name)[depth]


# ------------------------------------------------------------------------------------------- label flipping

_LEFT_RIGHT = re.compile(r"\b(left|right)\b", flags=re.IGNORECASE)


def _swap_left_right(name: str) -> str:
    def swap(match: re.Match) -> str:
        word = match.group(0)
        other = "right" if word.lower() == "left" else "left"
        if word.isupper():
            return other.upper()
        return other.capitalize() if word[0].isupper() else other

    return _LEFT_RIGHT.sub(swap, name)


def build_flip_label_map(id2label) -> dict[int, int]:
    """Label ids that a horizontal flip exchanges: a class whose name, with the words left and right swapped,
    is also a class name. `id2label` is a dict {id: name} or a list of names. Returns both directions
    ({86: 87, 87: 86, ...} on SSv2); classes without a mirrored partner are absent (a flip keeps them)."""
    if isinstance(id2label, dict):
        items = [(int(i), str(n)) for i, n in id2label.items()]
    else:
        items = list(enumerate(str(n) for n in id2label))
    by_name = {}
    for i, n in items:
        by_name.setdefault(n.strip().lower(), i)
    mapping = {}
    for i, n in items:
        partner = by_name.get(_swap_left_right(n).strip().lower())
        if partner is not None and partner != i:
            mapping[i] = partner
    return mapping


def flip_label_pairs(flip_map: dict[int, int]) -> list[list[int]]:
    """[[a, b], ...] with a < b: the JSON-friendly form a processor config stores."""
    return sorted([a, b] for a, b in flip_map.items() if a < b)


# ------------------------------------------------------------------------------------------ shape handling


def _to_images(clip: np.ndarray) -> list:
    Image = _pil()[0]
    return [Image.fromarray(frame) for frame in clip]


def _from_images(images: list) -> np.ndarray:
    return np.stack([np.asarray(image) for image in images])


# Bilinear resampling of uint8 frames, computed as Pillow's `Image.resize(..., BILINEAR, box=...)` computes it
# (Resample.c: a triangle filter widened by the downscaling factor, which antialiases; weights normalised per
# output pixel, then rounded to 22-bit fixed point; a horizontal pass rounded to uint8, then a vertical one), so
# that results are bit-identical to PIL's (tests/test_video_transforms.py checks it) without needing PIL.
_PRECISION_BITS = 32 - 8 - 2


def _bilinear_taps(in_size: int, start: float, stop: float, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """First input index (out_size,) and fixed-point weights (out_size, taps) of each output pixel."""
    scale = (stop - start) / out_size
    filter_scale = max(scale, 1.0)
    support = filter_scale  # the triangle filter's support, 1, widened
    taps = int(math.ceil(support)) * 2 + 1
    centers = start + (np.arange(out_size) + 0.5) * scale
    first = np.maximum((centers - support + 0.5).astype(np.int64), 0)  # C's (int) cast truncates, as astype
    count = np.minimum((centers + support + 0.5).astype(np.int64), in_size) - first
    offsets = np.arange(taps)
    weights = np.maximum(0.0, 1.0 - np.abs((offsets + first[:, None] - centers[:, None] + 0.5) / filter_scale))
    weights = np.where(offsets < count[:, None], weights, 0.0)
    totals = weights.sum(axis=1, keepdims=True)
    weights = np.divide(weights, totals, out=weights, where=totals != 0)
    fixed = (0.5 + weights * (1 << _PRECISION_BITS)).astype(np.int64)
    return first, fixed


def _resample_axis(clip: np.ndarray, axis: int, first: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """One pass along `axis` (1: rows, 2: columns) of (T, H, W, C) uint8 → uint8."""
    in_size = clip.shape[axis]
    shape = list(clip.shape)
    shape[axis] = len(first)
    total = np.full(shape, 1 << (_PRECISION_BITS - 1), dtype=np.int64)
    weight_shape = [1] * clip.ndim
    weight_shape[axis] = len(first)
    for tap in range(weights.shape[1]):
        tap_weights = weights[:, tap]
        if not tap_weights.any():
            continue
        source = np.take(clip, np.minimum(first + tap, in_size - 1), axis=axis)
        total += source * tap_weights.reshape(weight_shape)
    return np.clip(total >> _PRECISION_BITS, 0, 255).astype(np.uint8)


def _resample_bilinear(clip: np.ndarray, size: tuple[int, int], box: tuple[float, float, float, float] | None = None):
    """(T, H, W[, C]) uint8 → (T, height, width[, C]); `box` = (left, top, right, bottom) of the source, as PIL's.
    PIL computes it faster when it is installed (bench/resize.py); the numpy port gives the same bytes where it is
    not."""
    clip = np.asarray(clip)
    if clip.dtype != np.uint8:
        raise ValueError(f"resizing expects uint8 frames, got {clip.dtype}")
    try:
        from PIL import Image
    except ImportError:
        return _resample_bilinear_numpy(clip, size, box)
    height, width = size
    return np.stack(
        [
            np.asarray(Image.fromarray(frame).resize((width, height), Image.Resampling.BILINEAR, box=box))
            for frame in clip
        ]
    )


def _resample_bilinear_numpy(clip: np.ndarray, size: tuple[int, int], box=None) -> np.ndarray:
    """`_resample_bilinear` without PIL."""
    grey = clip.ndim == 3
    frames = clip[..., None] if grey else clip
    in_height, in_width = frames.shape[1:3]
    height, width = size
    left, top, right, bottom = box if box is not None else (0, 0, in_width, in_height)
    row_first, row_weights = _bilinear_taps(in_height, top, bottom, height)
    column_first, column_weights = _bilinear_taps(in_width, left, right, width)
    need_horizontal = width != in_width or left != 0 or right != width
    need_vertical = height != in_height or top != 0 or bottom != height
    # Pillow >= 13 runs the vertical pass first when the height shrinks by more than twice as many pixels as the
    # width (earlier releases always go horizontal first; the two orders can differ by one grey level)
    horizontal_first = not (0 < in_height - height and in_height - height > (in_width - width) * 2)
    if horizontal_first:
        if need_horizontal:
            # only the source rows the vertical pass reads
            low = int(row_first[0])
            high = min(int(row_first.max()) + row_weights.shape[1], in_height)
            frames = _resample_axis(frames[:, low:high], 2, column_first, column_weights)
            row_first = row_first - low
        if need_vertical:
            frames = _resample_axis(frames, 1, row_first, row_weights)
    else:
        if need_vertical:
            frames = _resample_axis(frames, 1, row_first, row_weights)
        if need_horizontal:
            frames = _resample_axis(frames, 2, column_first, column_weights)
    return np.ascontiguousarray(frames[..., 0] if grey else frames)


def resize_clip(clip: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize every frame to `size` = (height, width), bilinear (as PIL's BILINEAR, bit for bit)."""
    height, width = size
    if clip.shape[1:3] == (height, width):
        return clip
    return _resample_bilinear(clip, (height, width))


def short_side_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """(height, width) with the shorter side set to `short_side` and the aspect ratio kept."""
    if height <= width:
        return short_side, max(short_side, int(round(width * short_side / height)))
    return max(short_side, int(round(height * short_side / width))), short_side


def crop_clip(clip: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    return clip[:, top : top + height, left : left + width]


def resized_crop_clip(clip: np.ndarray, box: tuple[int, int, int, int], size: tuple[int, int]) -> np.ndarray:
    """Crop `box` = (top, left, height, width) and resize it to `size` = (height, width) in one resampling."""
    top, left, height, width = box
    return _resample_bilinear(clip, size, box=(left, top, left + width, top + height))


def flip_clip(clip: np.ndarray) -> np.ndarray:
    """Mirror left-right (axis 2 for both (T, H, W, 3) and (T, H, W))."""
    return np.ascontiguousarray(clip[:, :, ::-1])


def random_resized_crop_box(
    height: int,
    width: int,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    rng=None,
) -> tuple[int, int, int, int]:
    """Inception-style crop (top, left, h, w): area fraction uniform in `scale`, aspect ratio w/h log-uniform
    in `ratio`; ten tries, then the largest centred crop whose ratio is within bounds."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(*log_ratio))
        crop_w = int(round(math.sqrt(target_area * aspect)))
        crop_h = int(round(math.sqrt(target_area / aspect)))
        if 0 < crop_w <= width and 0 < crop_h <= height:
            top = int(rng.integers(0, height - crop_h + 1))
            left = int(rng.integers(0, width - crop_w + 1))
            return top, left, crop_h, crop_w
    in_ratio = width / height
    if in_ratio < ratio[0]:
        crop_w, crop_h = width, int(round(width / ratio[0]))
    elif in_ratio > ratio[1]:
        crop_h, crop_w = height, int(round(height * ratio[1]))
    else:
        crop_w, crop_h = width, height
    return (height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w


def three_crop_boxes(height: int, width: int, crop_h: int, crop_w: int) -> list[tuple[int, int, int, int]]:
    """Three crop boxes (top, left, h, w) spanning the longer side: left/centre/right, or top/centre/bottom
    for a portrait frame."""
    if height < crop_h or width < crop_w:
        raise ValueError(f"a {height}x{width} frame is smaller than the {crop_h}x{crop_w} crop")
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    if width >= height:
        return [(top, x, crop_h, crop_w) for x in (0, left, width - crop_w)]
    return [(y, left, crop_h, crop_w) for y in (0, top, height - crop_h)]


def center_crop_box(height: int, width: int, crop_h: int, crop_w: int) -> tuple[int, int, int, int]:
    if height < crop_h or width < crop_w:
        raise ValueError(f"a {height}x{width} frame is smaller than the {crop_h}x{crop_w} crop")
    return (height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w


def normalize_clip(clip: np.ndarray, mean=CLIP_MEAN, std=CLIP_STD) -> np.ndarray:
    """uint8 (T, H, W, 3) → float32 (T, 3, H, W), scaled to [0, 1] then standardised per channel."""
    scale = np.asarray(std, dtype=np.float32) * 255.0
    shift = np.asarray(mean, dtype=np.float32) * 255.0
    out = (clip.astype(np.float32) - shift) / scale
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


# -------------------------------------------------------------------------------------------- RandAugment

# The fifteen operations of RandAugment in its "increasing" form (a larger magnitude is always a stronger
# distortion). Magnitudes live on a 0..10 scale; `_MAX_*` give the strength at 10. Geometric ops warp
# pixel positions and are replayed on depth; photometric ones change values and are RGB only.
_MAGNITUDE_SCALE = 10.0
_MAX_ROTATE_DEGREES = 30.0
_MAX_SHEAR = 0.3
_MAX_TRANSLATE = 0.45  # fraction of the side
_MAX_ENHANCE = 0.9  # factor 1 ± 0.9
_MAX_SOLARIZE_ADD = 110
_RGB_FILL = (128, 128, 128)
# Areas uncovered by a rotation or shift get inverse depth 0: "no depth information" reads as far away.
_DEPTH_FILL = 0

GEOMETRIC_OPS = ("Rotate", "ShearX", "ShearY", "TranslateX", "TranslateY")
PHOTOMETRIC_OPS = (
    "AutoContrast",
    "Equalize",
    "Invert",
    "Posterize",
    "Solarize",
    "SolarizeAdd",
    "Color",
    "Contrast",
    "Brightness",
    "Sharpness",
)
RANDAUGMENT_OPS = (
    "AutoContrast",
    "Equalize",
    "Invert",
    "Rotate",
    "Posterize",
    "Solarize",
    "SolarizeAdd",
    "Color",
    "Contrast",
    "Brightness",
    "Sharpness",
    "ShearX",
    "ShearY",
    "TranslateX",
    "TranslateY",
)


@dataclass(frozen=True)
class AugmentOp:
    """One drawn RandAugment step: which op and its concrete, signed parameter (None for parameterless ops)."""

    name: str
    value: float | None = None

    @property
    def geometric(self) -> bool:
        return self.name in GEOMETRIC_OPS


def _op_value(name: str, level: float, sign: float) -> float | None:
    strength = level / _MAGNITUDE_SCALE
    if name in ("AutoContrast", "Equalize", "Invert"):
        return None
    if name == "Rotate":
        return sign * strength * _MAX_ROTATE_DEGREES
    if name in ("ShearX", "ShearY"):
        return sign * strength * _MAX_SHEAR
    if name in ("TranslateX", "TranslateY"):
        return sign * strength * _MAX_TRANSLATE
    if name == "Posterize":
        return float(4 - int(strength * 4))  # bits kept: 4 at magnitude 0 down to 0 at 10
    if name == "Solarize":
        return float(256 - int(strength * 256))  # threshold
    if name == "SolarizeAdd":
        return float(int(strength * _MAX_SOLARIZE_ADD))
    return 1.0 + sign * strength * _MAX_ENHANCE  # Color, Contrast, Brightness, Sharpness


def sample_randaugment(
    rng,
    num_ops: int = 4,
    magnitude: float = 7.0,
    magnitude_std: float = 0.5,
    prob: float = 0.5,
) -> list[AugmentOp]:
    """Draw the RandAugment steps for one clip: `num_ops` ops chosen with replacement, each applied with
    probability `prob`, its magnitude drawn from N(`magnitude`, `magnitude_std`) clipped to [0, 10] and its
    direction (rotation sense, shift side, ...) at random. The result is applied to every frame."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    ops = []
    for _ in range(num_ops):
        name = RANDAUGMENT_OPS[int(rng.integers(len(RANDAUGMENT_OPS)))]
        apply = rng.random() < prob
        level = magnitude + (rng.normal(0.0, magnitude_std) if magnitude_std > 0 else 0.0)
        level = float(np.clip(level, 0.0, _MAGNITUDE_SCALE))
        sign = -1.0 if rng.random() < 0.5 else 1.0
        if apply:
            ops.append(AugmentOp(name, _op_value(name, level, sign)))
    return ops


def _affine(image, matrix: tuple, fill):
    Image = _pil()[0]
    return image.transform(
        image.size, Image.Transform.AFFINE, matrix, resample=Image.Resampling.BILINEAR, fillcolor=fill
    )


def _apply_op(image, op: AugmentOp, fill):
    Image, ImageEnhance, ImageOps = _pil()
    name, value = op.name, op.value
    if name == "Rotate":
        return image.rotate(value, resample=Image.Resampling.BILINEAR, fillcolor=fill)
    if name == "ShearX":
        return _affine(image, (1, value, 0, 0, 1, 0), fill)
    if name == "ShearY":
        return _affine(image, (1, 0, 0, value, 1, 0), fill)
    if name == "TranslateX":
        return _affine(image, (1, 0, value * image.size[0], 0, 1, 0), fill)
    if name == "TranslateY":
        return _affine(image, (1, 0, 0, 0, 1, value * image.size[1]), fill)
    if name == "AutoContrast":
        return ImageOps.autocontrast(image)
    if name == "Equalize":
        return ImageOps.equalize(image)
    if name == "Invert":
        return ImageOps.invert(image)
    if name == "Posterize":
        return ImageOps.posterize(image, int(value)) if value >= 1 else Image.new(image.mode, image.size)
    if name == "Solarize":
        return ImageOps.solarize(image, int(value))
    if name == "SolarizeAdd":
        array = np.asarray(image).astype(np.int16)
        added = np.where(array < 128, np.minimum(array + int(value), 255), array)
        return Image.fromarray(added.astype(np.uint8))
    enhancer = {
        "Color": ImageEnhance.Color,
        "Contrast": ImageEnhance.Contrast,
        "Brightness": ImageEnhance.Brightness,
        "Sharpness": ImageEnhance.Sharpness,
    }[name]
    return enhancer(image).enhance(value)


def apply_randaugment(clip: np.ndarray, ops: list[AugmentOp], geometric_only: bool = False) -> np.ndarray:
    """Apply drawn ops to every frame. RGB clips get all ops; depth clips (T, H, W), or `geometric_only`,
    get the geometric ones only, with the same parameters, so they stay aligned with their RGB frames."""
    depth = clip.ndim == 3
    ops = [op for op in ops if op.geometric or not (depth or geometric_only)]
    if not ops:
        return clip
    fill = _DEPTH_FILL if depth else _RGB_FILL
    images = _to_images(clip)
    for op in ops:
        images = [_apply_op(image, op, fill) for image in images]
    return _from_images(images)


# ----------------------------------------------------------------------------------- whole-clip pipelines


@dataclass
class TrainAugmentation:
    """The SSv2 training recipe for one clip; the processor's settings fill it in."""

    resize: tuple[int, int] = (256, 320)
    crop_size: tuple[int, int] = (224, 224)
    crop_scale: tuple[float, float] = (0.08, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_prob: float = 0.5
    randaugment_num_ops: int = 4
    randaugment_magnitude: float = 7.0
    randaugment_magnitude_std: float = 0.5

    def sample(self, rng=None) -> AugmentationParams:
        """Draw one clip's random choices, in the order `__call__` draws them: RandAugment ops, crop box, flip."""
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        ops = []
        if self.randaugment_num_ops > 0:
            ops = sample_randaugment(
                rng, self.randaugment_num_ops, self.randaugment_magnitude, self.randaugment_magnitude_std
            )
        box = random_resized_crop_box(*self.resize, scale=self.crop_scale, ratio=self.crop_ratio, rng=rng)
        flipped = bool(rng.random() < self.flip_prob)
        return AugmentationParams(tuple(ops), box, flipped)

    def apply(self, frames: np.ndarray, depth: np.ndarray | None, params: AugmentationParams):
        """Apply drawn choices to a clip (and its depth): resize, RandAugment, resized crop, flip."""
        frames = resize_clip(frames, self.resize)
        if params.ops:
            frames = apply_randaugment(frames, list(params.ops))
        frames = resized_crop_clip(frames, params.box, self.crop_size)
        if params.flipped:
            frames = flip_clip(frames)
        return frames, None if depth is None else self.apply_aligned(depth, params)

    def apply_aligned(self, clip: np.ndarray, params: AugmentationParams) -> np.ndarray:
        """Apply drawn choices to a clip aligned with the RGB frames (depth (T, H, W), or any other modality's
        (T, H, W, 3)): the same resize, geometric RandAugment ops, resized crop and flip, so that it stays aligned;
        the photometric ops are the RGB frames' own."""
        clip = resize_clip(clip, self.resize)
        if params.ops:
            clip = apply_randaugment(clip, list(params.ops), geometric_only=True)
        clip = resized_crop_clip(clip, params.box, self.crop_size)
        return flip_clip(clip) if params.flipped else clip

    def __call__(self, frames: np.ndarray, depth: np.ndarray | None = None, rng=None):
        """Returns (frames, depth or None, flipped): uint8 crops of `crop_size` (h, w) and whether they were mirrored
        (the caller swaps left/right labels when they were)."""
        params = self.sample(rng)
        frames, depth = self.apply(frames, depth, params)
        return frames, depth, params.flipped


@dataclass(frozen=True)
class AugmentationParams:
    """One clip's drawn training augmentation: RandAugment steps, crop box (top, left, h, w) in the resized
    frame, and whether it is mirrored. RGB and depth of the clip share them."""

    ops: tuple[AugmentOp, ...]
    box: tuple[int, int, int, int]
    flipped: bool


# Drawn choices as tensors, for augmentation on the training device (`DearVideoProcessor.decode_for_training`, then
# `modeling_dear.training.device_augmentation`): each op by its index in RANDAUGMENT_OPS, NO_OP for a skipped slot.
OP_INDEX = {name: index for index, name in enumerate(RANDAUGMENT_OPS)}
NO_OP = -1


def encode_params(params: list[AugmentationParams], num_ops: int) -> dict:
    """Drawn choices → tensors that travel with the batch: `augment_ops` (B, num_ops) op index or -1 (skipped),
    `augment_values` (B, num_ops) their parameters, `crop_boxes` (B, 4) (top, left, h, w), `flips` (B,)."""
    import torch

    ops = torch.full((len(params), max(num_ops, 1)), NO_OP, dtype=torch.long)
    values = torch.zeros(len(params), max(num_ops, 1), dtype=torch.float64)
    for row, clip in enumerate(params):
        for slot, op in enumerate(clip.ops):
            ops[row, slot] = OP_INDEX[op.name]
            values[row, slot] = 0.0 if op.value is None else op.value
    return {
        "augment_ops": ops,
        "augment_values": values,
        "crop_boxes": torch.tensor([clip.box for clip in params], dtype=torch.long).view(-1, 4),
        "flips": torch.tensor([clip.flipped for clip in params], dtype=torch.bool),
    }


def eval_views(
    frames: np.ndarray,
    depth: np.ndarray | None = None,
    short_side: int = 224,
    crop_size: tuple[int, int] = (224, 224),
    num_crops: int = 1,
) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Resize the shorter side to `short_side`, then one centre crop (`num_crops=1`) or left/centre/right
    crops (`num_crops=3`) of `crop_size` (h, w). Depth is resized to the RGB frames' new size and cut with
    the same boxes."""
    if num_crops not in (1, 3):
        raise ValueError(f"num_crops must be 1 or 3, got {num_crops}")
    size = short_side_size(frames.shape[1], frames.shape[2], short_side)
    frames = resize_clip(frames, size)
    if depth is not None:
        depth = resize_clip(depth, size)
    if num_crops == 1:
        boxes = [center_crop_box(*size, *crop_size)]
    else:
        boxes = three_crop_boxes(*size, *crop_size)
    return [(crop_clip(frames, *box), None if depth is None else crop_clip(depth, *box)) for box in boxes]
