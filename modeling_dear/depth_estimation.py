# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Monocular depth for every frame of a clip, stored as uint8 relative inverse depth.

`DepthEstimator` wraps any transformers depth model (`AutoModelForDepthEstimation`: DPT/MiDaS,
Depth Anything, ...) and reads its preprocessing settings from the checkpoint's image processor. The
models predict relative INVERSE depth (disparity-like: larger = nearer, no metric scale), and that
convention is kept: in the stored uint8 maps 255 is the nearest point of the clip (or frame), 0 the
farthest, and the "inferno" colour map shows near as bright.

Resizing and normalisation of the model input are done in torch on the model's device, batched over
frames, instead of frame by frame through the PIL image processor: on a GPU that keeps the accelerator
fed, and the result matches the processor's to within resampling differences (see the tests).

Speed options (measured by bench/depth_extraction.py; off by default here, so that `DepthEstimator()` and the
processor keep giving what the checkpoint's own preprocessing and fp32/CUDA-autocast give; `dear-prepare-ssv2`
turns the first two on for new datasets): `autocast_dtype="auto"` also runs bf16 on CPUs with native bf16
instructions, `keep_aspect_ratio=True` (or `"auto"`, where the model allows it) feeds frames at their own aspect
ratio (fewer pixels than the 384² square of DPT-Hybrid), `channels_last` stores convolution weights and inputs NHWC.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence

import numpy as np
import torch

from .configuration_dear import DEPTH_NORMALIZATIONS

DEFAULT_DEPTH_MODEL = "Intel/dpt-hybrid-midas"  # the paper's MiDaS choice


logger = logging.getLogger(__name__)

_AUTOCAST_NAMES = {
    "auto": "auto",
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp16": torch.float16,
    "float16": torch.float16,
    "fp32": torch.float32,
    "float32": torch.float32,
    "none": torch.float32,
}

# Per-clip is the default [ours]: per-frame min-max rescales the whole frame at each arrival or approach of a
# near object, so the depth of static pixels flickers; per-clip leaves it still unless the model's own
# per-frame scale drift is large, at the cost of fewer grey levels for the static scene when a near object
# sets the clip's maximum (bench/depth_normalization.py measures both). The encoders should see motion in
# depth, not the background being rescaled whenever a hand comes close.
DEFAULT_NORMALIZATION = "clip"

# Used when a checkpoint ships no image processor: what the DPT/MiDaS checkpoints on the Hub use, a square
# 384×384 input (transformers' plain-ViT DPT only accepts square inputs).
_FALLBACK_PREPROCESSING = {
    "size": (384, 384),
    "keep_aspect_ratio": False,
    "ensure_multiple_of": 1,
    "image_mean": (0.5, 0.5, 0.5),
    "image_std": (0.5, 0.5, 0.5),
    "rescale_factor": 1 / 255,
}


def _constrain_to_multiple(value: float, multiple: int, min_value: int = 0, max_value: int | None = None) -> int:
    x = int(round(value / multiple) * multiple)
    if max_value is not None and x > max_value:
        x = int(math.floor(value / multiple) * multiple)
    if x < min_value:
        x = int(math.ceil(value / multiple) * multiple)
    return x


def model_input_size(
    height: int, width: int, size: tuple[int, int], keep_aspect_ratio: bool, ensure_multiple_of: int
) -> tuple[int, int]:
    """The (height, width) the DPT-family image processors resize a frame to: with `keep_aspect_ratio`, the
    frame is scaled by whichever of the two target ratios is closer to 1 (as little as possible), then each
    side is rounded to a multiple of `ensure_multiple_of`."""
    scale_h, scale_w = size[0] / height, size[1] / width
    if keep_aspect_ratio:
        if abs(1 - scale_w) < abs(1 - scale_h):
            scale_h = scale_w
        else:
            scale_w = scale_h
    return (
        _constrain_to_multiple(scale_h * height, ensure_multiple_of),
        _constrain_to_multiple(scale_w * width, ensure_multiple_of),
    )


def normalize_depth_tensor(prediction: torch.Tensor, normalize: str = DEFAULT_NORMALIZATION) -> torch.Tensor:
    """Float inverse depth (T, H, W) → uint8 tensor on the same device, min-max over the whole clip (`"clip"`)
    or each frame (`"frame"`). A constant prediction maps to 0. `DearForVideoClassification` computes its
    on-the-fly depth with this same function, so stored and on-the-fly depth agree level for level."""
    if normalize not in DEPTH_NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {DEPTH_NORMALIZATIONS}, got {normalize!r}")
    prediction = torch.as_tensor(prediction).float()
    if prediction.ndim != 3:
        raise ValueError(f"normalize_depth expects (T, H, W), got {tuple(prediction.shape)}")
    if normalize == "clip":
        low, high = prediction.min(), prediction.max()
    else:
        flat = prediction.flatten(1)
        low, high = flat.min(1).values[:, None, None], flat.max(1).values[:, None, None]
    span = (high - low).clamp_min(torch.finfo(torch.float32).tiny)
    scaled = ((prediction - low) / span * 255.0).round().clamp_(0, 255)
    return scaled.to(torch.uint8)


def normalize_depth(prediction: np.ndarray | torch.Tensor, normalize: str = DEFAULT_NORMALIZATION) -> np.ndarray:
    """Float inverse depth (T, H, W) → uint8 numpy array, min-max over the whole clip (`"clip"`) or each frame
    (`"frame"`). A constant prediction maps to 0."""
    return normalize_depth_tensor(prediction, normalize).cpu().numpy()


def read_depth_preprocessing(processor=None) -> dict:
    """The input settings of a depth checkpoint's image processor, as a JSON-friendly dict: `size` [h, w],
    `keep_aspect_ratio`, `ensure_multiple_of`, `image_mean`, `image_std`, `rescale_factor`. DPT/MiDaS defaults
    when `processor` is None."""
    settings = dict(_FALLBACK_PREPROCESSING)
    if processor is not None:
        size = getattr(processor, "size", None)
        size = dict(size) if size is not None else {}
        if "height" in size and "width" in size:
            settings["size"] = (int(size["height"]), int(size["width"]))
        elif "shortest_edge" in size:
            settings["size"] = (int(size["shortest_edge"]),) * 2
        for key in ("keep_aspect_ratio", "ensure_multiple_of", "image_mean", "image_std", "rescale_factor"):
            value = getattr(processor, key, None)
            if value is not None:
                settings[key] = tuple(value) if isinstance(value, (list, tuple)) else value
        if not getattr(processor, "do_normalize", True):
            settings["image_mean"], settings["image_std"] = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
        if getattr(processor, "do_pad", False):
            raise ValueError(
                f"{type(processor).__name__} pads its inputs (do_pad=True), which DEAR's depth estimation does not reproduce"
            )
    return {
        "size": [int(v) for v in settings["size"]],
        "keep_aspect_ratio": bool(settings["keep_aspect_ratio"]),
        "ensure_multiple_of": int(settings["ensure_multiple_of"]),
        "image_mean": [float(v) for v in settings["image_mean"]],
        "image_std": [float(v) for v in settings["image_std"]],
        "rescale_factor": float(settings["rescale_factor"]),
    }


def prepare_depth_input(frames: torch.Tensor, preprocessing: dict) -> torch.Tensor:
    """RGB frames (N, 3, H, W) as floats on the 0..255 scale → the depth model's `pixel_values`: resized to
    its input size, rescaled and normalised as its image processor would (`read_depth_preprocessing`)."""
    p = preprocessing
    target = model_input_size(*frames.shape[-2:], tuple(p["size"]), p["keep_aspect_ratio"], p["ensure_multiple_of"])
    if tuple(frames.shape[-2:]) != target:
        # antialiasing makes torch's bicubic downscaling follow PIL's, which the image processors use
        frames = torch.nn.functional.interpolate(
            frames, size=target, mode="bicubic", align_corners=False, antialias=True
        )
    frames = frames * p["rescale_factor"]
    mean = torch.tensor(p["image_mean"], device=frames.device, dtype=frames.dtype).view(1, -1, 1, 1)
    std = torch.tensor(p["image_std"], device=frames.device, dtype=frames.dtype).view(1, -1, 1, 1)
    return (frames - mean) / std


def resize_prediction(predicted_depth: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A depth model's `predicted_depth` (N, h, w) → float32 (N, H, W) at the frames' own size."""
    return torch.nn.functional.interpolate(
        predicted_depth.float().unsqueeze(1), size=tuple(size), mode="bicubic", align_corners=False
    )[:, 0]


def cpu_supports_bf16() -> bool:
    """Whether this CPU has native bf16 matrix instructions (AVX512-BF16 or AMX-BF16, Linux /proc/cpuinfo).

    Without them torch still runs bf16 autocast on CPU, but by emulation and slower than fp32, so "auto"
    precision only picks bf16 when this is True. Unknown (not Linux): False, the safe answer."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return "avx512_bf16" in flags or "amx_bf16" in flags
    except OSError:
        pass
    return False


def resolve_autocast_dtype(autocast_dtype, device: torch.device) -> torch.dtype | None:
    """The autocast dtype `DepthEstimator` runs with on `device`, or None for plain fp32.

    None keeps the historical default (CUDA: bf16, or fp16 without bf16 support; CPU: fp32). "auto" is that
    plus bf16 on CPUs with native bf16 (`cpu_supports_bf16`), fp32 on the others. A dtype (or "bf16", "fp16",
    "fp32") is used as given; float32 means no autocast."""
    if isinstance(autocast_dtype, str):
        key = autocast_dtype.lower()
        if key not in _AUTOCAST_NAMES:
            raise ValueError(
                f"autocast_dtype must be one of {sorted(_AUTOCAST_NAMES)} or a torch dtype, got {autocast_dtype!r}"
            )
        autocast_dtype = _AUTOCAST_NAMES[key]
    if autocast_dtype is None or autocast_dtype == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if autocast_dtype == "auto" and device.type == "cpu":
            if cpu_supports_bf16():
                return torch.bfloat16
            logger.info("this CPU has no native bf16 (avx512_bf16/amx_bf16): depth estimation runs in fp32")
        return None
    if not isinstance(autocast_dtype, torch.dtype):
        raise ValueError(f"autocast_dtype must be a torch dtype or a name, got {autocast_dtype!r}")
    return None if autocast_dtype == torch.float32 else autocast_dtype


def aspect_ratio_multiple(model) -> int:
    """The multiple each side of a non-square input must be for `model`, or a ValueError naming the fix.

    Depth Anything (DINOv2 backbone): its patch size. DPT-Hybrid (BiT stem, 16-pixel tokens, one neck stage
    at half that resolution): 32. transformers' plain-ViT DPT (e.g. Intel/dpt-large) only takes its square
    training size."""
    config = model.config
    if config.model_type == "depth_anything":
        return int(getattr(config.backbone_config, "patch_size", 14))
    if config.model_type == "dpt" and getattr(config, "is_hybrid", False):
        return 2 * int(config.patch_size)
    if config.model_type == "dpt" and getattr(config, "backbone_config", None) is not None:
        return int(getattr(config.backbone_config, "patch_size", 16))  # its neck gets the token grid
    raise ValueError(
        f"keep_aspect_ratio=True: {config.model_type!r} models "
        f"{'without a hybrid backbone ' if config.model_type == 'dpt' else ''}only take square inputs in transformers; "
        "leave keep_aspect_ratio unset (the checkpoint's own preprocessing)"
    )


def _let_hybrid_dpt_take_any_aspect_ratio(model) -> None:
    """transformers' hybrid DPT can embed any input size (it interpolates its position embeddings) but only
    does so when asked, and passes the token grid to its neck only for backbone-based models, so the neck
    assumes a square grid. Forward pre-hooks ask for the interpolation and hand the neck the grid of the
    actual input (both no-ops at the square training size). Installed once per model."""
    if getattr(model, "_dear_grid_hooks", False):
        return
    patch_size = int(model.config.patch_size)
    grid: dict[str, tuple[int, int]] = {}

    def interpolate_positions(module, args, kwargs):
        return args, {**kwargs, "interpolate_pos_encoding": True}

    def remember_grid(module, args, kwargs):
        pixel_values = kwargs.get("pixel_values", args[0] if args else None)
        grid["size"] = (pixel_values.shape[-2] // patch_size, pixel_values.shape[-1] // patch_size)

    def give_grid_to_neck(module, args):
        if len(args) == 3 and args[1] is None and args[2] is None and "size" in grid:
            return (args[0], *grid["size"])
        return None

    model.register_forward_pre_hook(remember_grid, with_kwargs=True)
    model.dpt.embeddings.register_forward_pre_hook(interpolate_positions, with_kwargs=True)
    model.neck.register_forward_pre_hook(give_grid_to_neck)
    model._dear_grid_hooks = True


class DepthEstimator:
    """Relative inverse depth for video frames with a transformers depth model.

    Args:
        model: a checkpoint name or local path for `AutoModelForDepthEstimation`, or a loaded model.
        image_processor: the checkpoint's image processor; loaded from `model` when it is a name/path,
            DPT defaults (384×384, mean/std 0.5) when there is none.
        device: where the model runs; defaults to CUDA when available, else CPU.
        batch_size: frames per forward pass.
        normalize: `"clip"` (default, see `DEFAULT_NORMALIZATION`) or `"frame"` min-max to uint8.
        autocast_dtype: mixed precision on CUDA, `torch.bfloat16` when supported else `torch.float16`;
            pass `torch.float32` to disable it. On CPU the model runs in float32 unless a dtype is given;
            `"auto"` adds bf16 on CPUs with native bf16 (`cpu_supports_bf16`), fp32 elsewhere.
        keep_aspect_ratio: None (default) resizes as the checkpoint's image processor does; True keeps the
            frames' aspect ratio, scaled as the DPT image processors do (by the side that needs less
            scaling), sides rounded to what the model needs (`aspect_ratio_multiple`): 240×427 → 224×384 for
            DPT-Hybrid, 0.58× the pixels of 384². Depth Anything's processor already does this. False forces
            the square size. `"auto"`: True for the models that take non-square inputs, else the checkpoint's
            own preprocessing (what `dear-prepare-ssv2` uses for new datasets).
        channels_last: NHWC weights and inputs for the convolutions (the BiT stem, the DPT neck and head).
        **from_pretrained_kwargs: passed to `from_pretrained` (`local_files_only`, `revision`, ...).
    """

    def __init__(
        self,
        model=DEFAULT_DEPTH_MODEL,
        image_processor=None,
        device: str | torch.device | None = None,
        batch_size: int = 16,
        normalize: str = DEFAULT_NORMALIZATION,
        autocast_dtype: torch.dtype | str | None = None,
        keep_aspect_ratio: bool | str | None = None,
        channels_last: bool = False,
        **from_pretrained_kwargs,
    ):
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation

        if normalize not in DEPTH_NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {DEPTH_NORMALIZATIONS}, got {normalize!r}")
        if isinstance(model, (str, os.PathLike)):
            from .model_sources import check_model_source

            self.name = os.fspath(model)
            check_model_source(self.name, "depth model")  # a local folder that does not exist: say so
            if image_processor is None:
                try:
                    image_processor = AutoImageProcessor.from_pretrained(self.name, **from_pretrained_kwargs)
                except (OSError, ValueError):
                    image_processor = None  # a bare model folder: DPT defaults below
            model = AutoModelForDepthEstimation.from_pretrained(self.name, **from_pretrained_kwargs)
        else:
            self.name = getattr(getattr(model, "config", None), "_name_or_path", "") or type(model).__name__
        self.device = (
            torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
        )
        self.model = model.to(self.device).eval()
        self.image_processor = image_processor
        self.batch_size = int(batch_size)
        self.normalize = normalize
        self.autocast_dtype = resolve_autocast_dtype(autocast_dtype, self.device)
        self._preprocessing = self._read_preprocessing(image_processor)
        if keep_aspect_ratio == "auto":
            try:
                aspect_ratio_multiple(self.model)
                keep_aspect_ratio = True
            except ValueError:
                logger.info("%s only takes square inputs: depth keeps the checkpoint's input size", self.name)
                keep_aspect_ratio = None
        elif isinstance(keep_aspect_ratio, str):
            raise ValueError(f"keep_aspect_ratio must be True, False, None or 'auto', got {keep_aspect_ratio!r}")
        if keep_aspect_ratio is not None and bool(keep_aspect_ratio) != self._preprocessing["keep_aspect_ratio"]:
            if keep_aspect_ratio:
                multiple = aspect_ratio_multiple(self.model)
                if self.model.config.model_type == "dpt" and getattr(self.model.config, "is_hybrid", False):
                    _let_hybrid_dpt_take_any_aspect_ratio(self.model)
                current = self._preprocessing["ensure_multiple_of"]
                self._preprocessing["ensure_multiple_of"] = current * multiple // math.gcd(current, multiple)
            self._preprocessing["keep_aspect_ratio"] = bool(keep_aspect_ratio)
        self.channels_last = bool(channels_last)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)

    @staticmethod
    def _read_preprocessing(processor) -> dict:
        return read_depth_preprocessing(processor)

    def model_input_size(self, height: int, width: int) -> tuple[int, int]:
        """The size frames of `height`×`width` are resized to before the model."""
        p = self._preprocessing
        return model_input_size(height, width, p["size"], p["keep_aspect_ratio"], p["ensure_multiple_of"])

    def _prepare(self, frames: np.ndarray) -> torch.Tensor:
        # NCHW-contiguous, as in DearForVideoClassification.estimate_depth: same memory layout, same kernels,
        # so stored and on-the-fly depth of the same frames agree
        batch = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device).permute(0, 3, 1, 2).float().contiguous()
        pixel_values = prepare_depth_input(batch, self._preprocessing)
        return pixel_values.contiguous(memory_format=torch.channels_last) if self.channels_last else pixel_values

    def predict(self, frames: np.ndarray) -> torch.Tensor:
        """Float relative inverse depth (T, H, W) at the frames' own size, on the CPU."""
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"DepthEstimator expects (T, H, W, 3) uint8 frames, got {frames.shape} {frames.dtype}")
        height, width = frames.shape[1:3]
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(frames), self.batch_size):
                pixel_values = self._prepare(frames[start : start + self.batch_size])
                if self.autocast_dtype is not None:
                    with torch.autocast(self.device.type, dtype=self.autocast_dtype):
                        predicted = self.model(pixel_values=pixel_values).predicted_depth
                else:
                    predicted = self.model(pixel_values=pixel_values).predicted_depth
                outputs.append(resize_prediction(predicted, (height, width)).cpu())
        return torch.cat(outputs)

    def __call__(self, frames: np.ndarray, normalize: str | None = None) -> np.ndarray:
        """uint8 inverse depth (T, H, W) for RGB frames (T, H, W, 3), normalised per clip or per frame."""
        return normalize_depth(self.predict(frames), normalize or self.normalize)

    def estimate_clips(self, clips: Sequence[np.ndarray], normalize: str | None = None) -> list[np.ndarray]:
        """Depth for several clips. Frames of same-sized clips share forward passes, so short clips (SSv2
        averages 45 frames) still fill large batches; normalisation stays per clip (or per frame)."""
        results: list[np.ndarray | None] = [None] * len(clips)
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, clip in enumerate(clips):
            by_size.setdefault(tuple(np.asarray(clip).shape[1:3]), []).append(i)
        for members in by_size.values():
            lengths = [len(clips[i]) for i in members]
            predicted = self.predict(np.concatenate([np.asarray(clips[i]) for i in members]))
            for i, part in zip(members, torch.split(predicted, lengths), strict=True):
                results[i] = normalize_depth(part, normalize or self.normalize)
        return results

    def estimate_video(
        self, source, name: str | None = None, backend: str = "auto", normalize: str | None = None
    ) -> np.ndarray:
        """uint8 inverse depth for every frame of a video file (path, bytes or file object), ready for
        `video_io.encode_depth_video`."""
        from .video_io import open_video

        video = open_video(source, name=name, backend=backend)
        frames = video.read(np.arange(video.info.num_frames))
        return self(frames, normalize=normalize)


def _resize_to(depth: np.ndarray, height: int, width: int) -> np.ndarray:
    from .video_transforms import resize_clip

    return resize_clip(depth, (height, width))


def save_depth_visualization(
    frames: np.ndarray,
    depth: np.ndarray,
    path_png: str | os.PathLike | None = None,
    path_gif: str | os.PathLike | None = None,
    colormap: str = "inferno",
    max_rows: int = 8,
    fps: float = 12.0,
) -> None:
    """Write RGB | colour-mapped depth side by side: a PNG grid (one row per frame, at most `max_rows`
    evenly spaced frames) and/or an animated GIF of every frame. Depth is uint8 inverse depth, near bright."""
    # in a try block so that transformers' remote-code import check does not demand Pillow of a saved folder,
    # which carries this file for the model's depth helpers (only this writer needs Pillow)
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError("writing depth visualisations (PNG/GIF) needs Pillow: pip install 'pillow>=10'") from error

    from .video_transforms import colormap_depth

    frames, depth = np.asarray(frames), np.asarray(depth)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    if depth.ndim != 3 or depth.dtype != np.uint8 or len(depth) != len(frames):
        raise ValueError(f"depth must be (T, H, W) uint8 with {len(frames)} frames, got {depth.shape} {depth.dtype}")
    height, width = frames.shape[1:3]
    colored = colormap_depth(_resize_to(depth, height, width), colormap)
    pairs = np.concatenate([frames, colored], axis=2)  # (T, H, 2W, 3)
    if path_png is not None:
        rows = np.unique(np.linspace(0, len(pairs) - 1, num=min(max_rows, len(pairs))).round().astype(int))
        Image.fromarray(np.concatenate(list(pairs[rows]), axis=0)).save(path_png)
    if path_gif is not None:
        images = [Image.fromarray(pair) for pair in pairs]
        images[0].save(
            path_gif, save_all=True, append_images=images[1:], duration=max(20, int(round(1000 / fps))), loop=0
        )
