# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`DearVideoProcessor`: videos (and the depth or other-modality videos aligned with them) in, model-ready clip
tensors out.

It decodes only the sampled frames, samples them (TSN segments or a fixed stride), applies the training
or evaluation transforms identically to the RGB frames and to the frames of every other modality (depth maps,
or any modality a registered encoder reads), colour-maps depth and normalises everything with the CLIP
statistics. It is a transformers image processor (saved as
`preprocessor_config.json`, loaded with `from_pretrained` or `AutoImageProcessor`) that needs neither
torchvision nor torchcodec.

Why one module: it is one class, the processor (one processing file per model, as in transformers), and saved
folders carry it; decoding, frame sampling and the transforms it applies live in video_io, frame_sampling and
video_transforms.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from transformers.image_processing_utils import BaseImageProcessor, BatchFeature

# the module's class, not `transformers.AutoImageProcessor`: without Pillow the top-level name is a placeholder that
# raises, and this file must import (and register) in a saved folder's Pillow-free environment too
from transformers.models.auto.image_processing_auto import AutoImageProcessor
from transformers.processing_utils import ImagesKwargs

from .configuration_dear import DEPTH, RGB, input_name
from .frame_sampling import MODES, SAMPLINGS, sample_frame_indices
from .video_io import VideoDecodingError, check_aligned, from_dataset_video, open_video
from .video_transforms import (
    CLIP_MEAN,
    CLIP_STD,
    COLORMAPS,
    TrainAugmentation,
    colormap_depth,
    eval_views,
    normalize_clip,
    resize_clip,
)
from .video_transforms import build_flip_label_map as _build_flip_label_map
from .video_transforms import flip_label_pairs as _flip_label_pairs

# Something-Something V2's mirrored classes (86↔87 "Pulling something from left to right / right to
# left", 93↔94 "Pushing ...", 166↔167 "Turning the camera left / right ..."), the default because the
# package targets SSv2; other datasets pass `id2label` (or `flip_label_pairs=[]`).
SSV2_FLIP_LABEL_PAIRS = [[86, 87], [93, 94], [166, 167]]

_PATH_TYPES = (str, os.PathLike, bytes, bytearray, memoryview)

# What a processor takes when its modalities are not stated (and what processors saved before they were stated
# took): RGB videos and, optionally, their depth.
DEFAULT_MODALITIES = (RGB, DEPTH)
# keyword arguments of `preprocess` that a modality's name must not shadow
_RESERVED_NAMES = frozenset({"videos", "mode", "labels", "return_tensors", "seed", "names"})


def _pairs_to_map(pairs) -> dict[int, int]:
    mapping = {}
    for a, b in pairs:
        mapping[a], mapping[b] = b, a
    return mapping


class DearVideoProcessorKwargs(ImagesKwargs, total=False):
    """Settings `from_pretrained(..., **kwargs)` may override, beyond the standard image-processor ones."""

    num_frames: int
    train_size: dict[str, int]
    depth_colormap: str
    sampling: str
    frame_stride: int
    num_test_clips: int
    num_test_crops: int
    randaugment_num_ops: int
    randaugment_magnitude: float
    randaugment_magnitude_std: float
    flip_prob: float
    crop_scale: list[float]
    crop_ratio: list[float]
    flip_label_pairs: list[list[int]] | dict[str, list[list[int]]]
    label_set_names: list[str]
    decode_backend: str
    modalities: list[str]


def _is_file_source(item) -> bool:
    return isinstance(item, _PATH_TYPES) or (hasattr(item, "read") and not isinstance(item, np.ndarray))


def _to_numpy(item):
    if hasattr(item, "detach") and hasattr(item, "cpu"):  # a torch tensor, without importing torch here
        return item.detach().cpu().numpy()
    return item


def _is_image(item) -> bool:
    """A PIL image, recognised without importing PIL (array, path and bytes inputs do not need it)."""
    return any(cls.__module__ == "PIL.Image" and cls.__name__ == "Image" for cls in type(item).__mro__)


def _split_batch(inputs, frame_ndim: int, what: str) -> list:
    """A single video or a batch of them → list of videos. `frame_ndim` is a frame's ndim (3 for RGB and other
    modalities (H, W, 3), 2 for depth (H, W)); a video is one more, a batch two more."""
    inputs = _to_numpy(from_dataset_video(inputs))
    if _is_file_source(inputs):
        return [inputs]
    if isinstance(inputs, np.ndarray):
        if inputs.ndim == frame_ndim + 1:
            return [inputs]
        if inputs.ndim == frame_ndim + 2:
            return list(inputs)
        raise ValueError(
            f"{what}: an array must be one video of {frame_ndim + 1} dims or a batch of {frame_ndim + 2}, "
            f"got shape {inputs.shape}"
        )
    if isinstance(inputs, (list, tuple)):
        inputs = [from_dataset_video(item) for item in inputs]  # rows of a dataset's `video` / `depth` / ... column
        if len(inputs) == 0:
            raise ValueError(f"{what}: got an empty list")
        first = _to_numpy(inputs[0])
        if _is_image(first) or (isinstance(first, np.ndarray) and first.ndim == frame_ndim):
            return [list(inputs)]  # the frames of one video
        return list(inputs)
    if _is_image(inputs):
        raise ValueError(f"{what}: got a single image; a video is a list of frames, an array, a path or bytes")
    raise TypeError(f"{what}: unsupported input type {type(inputs).__name__}")


def _frames_array(video, name: str, modality: str) -> np.ndarray:
    """Decoded frames (a list of PIL images/arrays or an array) → uint8 (T, H, W, 3), or (T, H, W) for depth.
    Frames of a modality other than RGB and depth may have one channel, (T, H, W, 1): it is repeated to three."""
    depth = modality == DEPTH
    if isinstance(video, (list, tuple)):
        frames = []
        for frame in video:
            frame = _to_numpy(frame)
            if _is_image(frame):
                frame = np.asarray(frame.convert("L" if depth else "RGB"))
            frames.append(np.asarray(frame))
        try:
            video = np.stack(frames)
        except ValueError:
            raise VideoDecodingError(name, "frames of different sizes") from None
    video = np.asarray(_to_numpy(video))
    if depth and video.ndim == 4 and video.shape[-1] == 1:
        video = video[..., 0]
    if modality not in (RGB, DEPTH) and video.ndim == 4 and video.shape[-1] == 1:
        video = np.repeat(video, 3, axis=-1)
    if depth:
        expected = "(T, H, W) uint8 depth"
    elif modality == RGB:
        expected = "(T, H, W, 3) uint8 RGB"
    else:
        expected = f"(T, H, W, 3) or (T, H, W, 1) uint8 {modality}"
    if video.dtype != np.uint8 or video.ndim != (3 if depth else 4) or (not depth and video.shape[-1] != 3):
        raise VideoDecodingError(name, f"expected {expected} frames, got {video.shape} {video.dtype}")
    if len(video) == 0:
        raise VideoDecodingError(name, "contains no frames")
    return video


class _Clip:
    """One input video (file or decoded frames) behind a common interface: a frame count and a reader."""

    def __init__(self, item, name: str, modality: str, backend: str):
        self.name = name
        self.depth = modality == DEPTH
        self.file = None
        self.frames = None
        if _is_file_source(item):
            self.file = open_video(item, name=name, backend=backend)
            self.num_frames = self.file.info.num_frames
            self.size = (self.file.info.height, self.file.info.width)
        else:
            self.frames = _frames_array(item, name, modality)
            self.num_frames = len(self.frames)
            self.size = self.frames.shape[1:3]

    def read(self, indices: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
        if self.frames is not None:
            return self.frames[indices]
        if self.depth:
            return self.file.read_depth(indices, size=size)
        return self.file.read(indices)


class DearVideoProcessor(BaseImageProcessor):
    r"""
    Turns videos (and the depth or other-modality videos aligned with them) into DEAR's inputs.

    Each modality in `modalities` is one input: RGB is `videos` and becomes `pixel_values`; every other modality is
    the keyword argument of its name (`depth=...`, `flow=...`) and becomes `<modality>_pixel_values`. How its frames
    become the 3 normalised channels an encoder reads depends on the modality:

    - `rgb`: (H, W, 3) uint8 frames, normalised with `image_mean` / `image_std`.
    - `depth`: (H, W) uint8 inverse depth (a grey depth video, see `video_io.encode_depth_video`), colour-mapped with
      `depth_colormap`, then normalised as RGB.
    - any other modality (a registered encoder's, e.g. `flow`, `infrared`): (H, W, 3) uint8 frames, or (H, W, 1)
      whose one channel is repeated to three (a video file is decoded as RGB; a grey one gives three equal
      channels), normalised as RGB. Frames of another size than the RGB frames are resized to it.

    Every modality's frames must be aligned with the RGB video frame for frame (same count); they get the same frame
    indices, resize, crop, flip and the geometric RandAugment ops, so that they stay aligned (the photometric ops
    are for RGB only). Note that a horizontal flip mirrors the frames of every modality as images: it does not, for
    instance, negate the x component of an optical flow.

    Args:
        num_frames (`int`, *optional*, defaults to 8):
            Frames per clip (T).
        size (`dict[str, int]`, *optional*, defaults to `{"shortest_edge": 224}`):
            Evaluation resize: the shorter side becomes `shortest_edge`, the aspect ratio is kept.
        crop_size (`dict[str, int]`, *optional*, defaults to `{"height": 224, "width": 224}`):
            Output frame size in every mode.
        train_size (`dict[str, int]`, *optional*, defaults to `{"height": 256, "width": 320}`):
            Training resize, exact (the aspect ratio is not kept), before RandAugment and the random crop.
        image_mean, image_std (`list[float]`, *optional*, default to CLIP's statistics):
            Normalisation of RGB and of colour-mapped depth alike.
        depth_colormap (`str`, *optional*, defaults to `"inferno"`):
            How uint8 inverse depth becomes 3 channels: `"inferno"` (the MiDaS visualisation) or `"gray"`.
        sampling (`str`, *optional*, defaults to `"segment"`):
            `"segment"` (TSN: T equal segments) or `"stride"` (T frames `frame_stride` apart).
        frame_stride (`int`, *optional*, defaults to 4):
            Spacing for `sampling="stride"`.
        num_test_clips, num_test_crops (`int`, *optional*, default to 2 and 3):
            Test-time views: temporal clips × spatial crops (left/centre/right).
        randaugment_num_ops, randaugment_magnitude, randaugment_magnitude_std (*optional*, default to 4, 7, 0.5):
            RandAugment: ops per clip, magnitude on the 0..10 scale and its per-op jitter. 0 ops disables it.
        flip_prob (`float`, *optional*, defaults to 0.5):
            Probability of a horizontal flip in training.
        crop_scale, crop_ratio (*optional*, default to (0.08, 1.0) and (3/4, 4/3)):
            Area fraction and aspect ratio range of the training crop.
        flip_label_pairs (`list[list[int]]`, *optional*, defaults to SSv2's `[[86, 87], [93, 94], [166, 167]]`):
            Classes a horizontal flip exchanges. `id2label` (a dict or list of class names) computes them. For a
            model with several label sets, a dict of such lists by label set (`label_sets` computes it); labels are
            then one row of ids per video, one column per label set in the order of `label_set_names`.
        label_set_names (`list[str]`, *optional*): with `flip_label_pairs` by label set, the sets in the order of
            the label columns (default: the dict's order; `label_sets` sets both).
        decode_backend (`str`, *optional*, defaults to `"auto"`):
            `"decord"`, `"pyav"`, or `"auto"` (decord, with PyAV as fallback).
        modalities (`list[str]`, *optional*, defaults to `["rgb", "depth"]`):
            The modalities this processor takes (`rgb`, the `videos` argument, is always one: it is added first when
            left out). `DearVideoProcessor.from_model_config(config)` takes the model's (`config.modalities`). Saved
            and loaded with the processor; processors saved before this setting existed take RGB and depth.
    """

    valid_kwargs = DearVideoProcessorKwargs

    def __init__(
        self,
        num_frames: int = 8,
        size: dict[str, int] | None = None,
        crop_size: dict[str, int] | None = None,
        train_size: dict[str, int] | None = None,
        image_mean: list[float] | None = None,
        image_std: list[float] | None = None,
        depth_colormap: str = "inferno",
        sampling: str = "segment",
        frame_stride: int = 4,
        num_test_clips: int = 2,
        num_test_crops: int = 3,
        randaugment_num_ops: int = 4,
        randaugment_magnitude: float = 7.0,
        randaugment_magnitude_std: float = 0.5,
        flip_prob: float = 0.5,
        crop_scale: list[float] | None = None,
        crop_ratio: list[float] | None = None,
        flip_label_pairs: list[list[int]] | None = None,
        id2label: dict | list | None = None,
        label_sets: dict | None = None,
        label_set_names: list[str] | None = None,
        decode_backend: str = "auto",
        modalities: list[str] | None = None,
        **kwargs,
    ):
        kwargs.pop("image_processor_type", None)
        super().__init__(**kwargs)
        self.num_frames = int(num_frames)
        self.size = dict(size) if size is not None else {"shortest_edge": 224}
        self.crop_size = dict(crop_size) if crop_size is not None else {"height": 224, "width": 224}
        self.train_size = dict(train_size) if train_size is not None else {"height": 256, "width": 320}
        self.image_mean = list(image_mean) if image_mean is not None else list(CLIP_MEAN)
        self.image_std = list(image_std) if image_std is not None else list(CLIP_STD)
        self.depth_colormap = depth_colormap
        self.sampling = sampling
        self.frame_stride = int(frame_stride)
        self.num_test_clips = int(num_test_clips)
        self.num_test_crops = int(num_test_crops)
        self.randaugment_num_ops = int(randaugment_num_ops)
        self.randaugment_magnitude = float(randaugment_magnitude)
        self.randaugment_magnitude_std = float(randaugment_magnitude_std)
        self.flip_prob = float(flip_prob)
        self.crop_scale = list(crop_scale) if crop_scale is not None else [0.08, 1.0]
        self.crop_ratio = list(crop_ratio) if crop_ratio is not None else [3 / 4, 4 / 3]
        if label_sets is not None:
            flip_label_pairs = {
                name: _flip_label_pairs(_build_flip_label_map(classes)) for name, classes in label_sets.items()
            }
        elif id2label is not None:
            flip_label_pairs = _flip_label_pairs(_build_flip_label_map(id2label))
        if isinstance(flip_label_pairs, dict):  # one list of pairs per label set
            # the sets' order (the columns of `labels`) is kept apart: saved JSON sorts a dict's keys
            order = list(label_set_names) if label_set_names is not None else list(flip_label_pairs)
            if sorted(order) != sorted(flip_label_pairs):
                raise ValueError(
                    f"label_set_names {order} and the label sets of flip_label_pairs {sorted(flip_label_pairs)} differ"
                )
            self.label_set_names = order
            self.flip_label_pairs = {
                str(name): [list(map(int, pair)) for pair in flip_label_pairs[name]] for name in order
            }
        else:
            self.label_set_names = None
            self.flip_label_pairs = (
                [list(map(int, pair)) for pair in flip_label_pairs]
                if flip_label_pairs is not None
                else [list(pair) for pair in SSV2_FLIP_LABEL_PAIRS]
            )
        self.decode_backend = decode_backend
        modalities = list(modalities) if modalities is not None else list(DEFAULT_MODALITIES)
        self.modalities = modalities if RGB in modalities else [RGB, *modalities]
        self._validate()

    @classmethod
    def from_model_config(cls, config, **kwargs) -> DearVideoProcessor:
        """A processor for the model `config` (a `DearConfig`) describes: its clip length and frame size, its
        modalities, normalisation, depth colour map and (through `id2label`) the classes a flip exchanges; the
        training resize is the recipe's 256x320, scaled with the frame size. `kwargs` override any setting."""
        scale = config.image_size / 224
        settings = {
            "num_frames": config.num_frames,
            "size": {"shortest_edge": config.image_size},
            "crop_size": {"height": config.image_size, "width": config.image_size},
            "train_size": {"height": round(256 * scale), "width": round(320 * scale)},
            "image_mean": config.image_mean,
            "image_std": config.image_std,
            "depth_colormap": config.depth_colormap,
            "modalities": list(config.modalities),
        }
        if "flip_label_pairs" not in kwargs and getattr(config, "label_sets", None) is not None:
            settings["label_sets"] = config.label_sets
        elif "flip_label_pairs" not in kwargs:
            settings["id2label"] = config.id2label
        return cls(**{**settings, **kwargs})

    @property
    def model_input_names(self) -> list[str]:
        """The inputs this processor makes, one per modality: `pixel_values`, `depth_pixel_values`, ..."""
        return [input_name(modality) for modality in self.modalities]

    def _validate(self) -> None:
        problems = []
        if self.num_frames < 1:
            problems.append(f"num_frames must be ≥ 1, got {self.num_frames}")
        if self.depth_colormap not in COLORMAPS:
            problems.append(f"depth_colormap must be one of {COLORMAPS}, got {self.depth_colormap!r}")
        if self.sampling not in SAMPLINGS:
            problems.append(f"sampling must be one of {SAMPLINGS}, got {self.sampling!r}")
        if self.num_test_crops not in (1, 3):
            problems.append(f"num_test_crops must be 1 or 3, got {self.num_test_crops}")
        if "shortest_edge" not in self.size:
            problems.append(f"size must be {{'shortest_edge': int}}, got {self.size}")
        for field in ("crop_size", "train_size"):
            if set(getattr(self, field)) != {"height", "width"}:
                problems.append(f"{field} must be {{'height': int, 'width': int}}, got {getattr(self, field)}")
        if len(self.image_mean) != 3 or len(self.image_std) != 3:
            problems.append("image_mean and image_std need 3 values each")
        if not all(isinstance(m, str) and m.isidentifier() for m in self.modalities):
            problems.append(
                f"modalities must be names such as 'rgb', 'depth', 'flow' (identifiers), got {self.modalities}"
            )
        elif len(set(self.modalities)) != len(self.modalities):
            problems.append(f"modalities lists a modality twice: {self.modalities}")
        elif set(self.modalities) & _RESERVED_NAMES:
            problems.append(
                f"modalities {sorted(set(self.modalities) & _RESERVED_NAMES)} would shadow arguments of preprocess "
                f"({sorted(_RESERVED_NAMES)}); name the modality otherwise"
            )
        if problems:
            raise ValueError(f"{type(self).__name__}: " + "; ".join(problems))

    @property
    def flip_label_map(self) -> dict[int, int] | dict[str, dict[int, int]]:
        """{class: the class a flip gives}; by label set when `flip_label_pairs` is by label set."""
        if isinstance(self.flip_label_pairs, dict):
            return {name: _pairs_to_map(pairs) for name, pairs in self.flip_label_pairs.items()}
        return _pairs_to_map(self.flip_label_pairs)

    def _flipped_label(self, label, flip_map):
        """`label` (an id, or one id per label set) after a horizontal flip."""
        if not isinstance(label, list):
            return flip_map.get(label, label)
        maps = [flip_map[name] for name in self.label_set_names] if self.label_set_names else [flip_map]
        if len(maps) != len(label):
            if len(maps) == 1 and not maps[0]:
                return label  # no class changes under a flip
            raise ValueError(
                f"labels have {len(label)} columns (label sets) but the processor's flip_label_pairs cover "
                f"{len(maps) if isinstance(self.flip_label_pairs, dict) else 'one label set'}: build it with "
                "DearVideoProcessor.from_model_config(config)"
            )
        return [m.get(value, value) for m, value in zip(maps, label, strict=True)]

    @property
    def num_views(self) -> int:
        """Views per video in test mode (temporal clips × spatial crops)."""
        return self.num_test_clips * self.num_test_crops

    def _train_augmentation(self) -> TrainAugmentation:
        return TrainAugmentation(
            resize=(self.train_size["height"], self.train_size["width"]),
            crop_size=(self.crop_size["height"], self.crop_size["width"]),
            crop_scale=tuple(self.crop_scale),
            crop_ratio=tuple(self.crop_ratio),
            flip_prob=self.flip_prob,
            randaugment_num_ops=self.randaugment_num_ops,
            randaugment_magnitude=self.randaugment_magnitude,
            randaugment_magnitude_std=self.randaugment_magnitude_std,
        )

    def __call__(self, videos, depth=None, **kwargs) -> BatchFeature:
        return self.preprocess(videos, depth=depth, **kwargs)

    def preprocess(
        self,
        videos,
        depth=None,
        mode: str = "val",
        labels=None,
        return_tensors: str | None = "pt",
        seed: int | np.random.Generator | None = None,
        names: list[str] | None = None,
        **modality_videos,
    ) -> BatchFeature:
        """
        Args:
            videos: one video or a batch. A video is a path, bytes, a binary file object, a list of frames
                (PIL images or (H, W, 3) uint8 arrays) or a (T, H, W, 3) uint8 array; a batch is a list of
                videos or a (B, T, H, W, 3) array.
            depth: optional depth for each video, aligned frame for frame: paths/bytes of depth videos
                (see `video_io.encode_depth_video`), (T, H, W) uint8 arrays, or lists of (H, W) frames.
            mode: "train" (TSN random frames, RandAugment, random crop, flip), "val" (segment centres,
                centre crop) or "test" (`num_test_clips` × `num_test_crops` views per video).
            labels: class ids (an int for a single video, else one per video; with label sets, one row of ids per
                video, a column per set). In train mode a flipped clip's label is swapped through
                `flip_label_pairs`.
            return_tensors: "pt", "np" or None (numpy).
            seed: an int or `numpy.random.Generator` for train-mode randomness; None draws fresh entropy.
            names: one name per video for error messages (e.g. dataset ids of in-memory videos).
            **modality_videos: the videos of each other modality in `modalities`, by its name (`flow=...`),
                aligned with `videos` as depth is: paths/bytes of videos, (T, H, W, 3) or (T, H, W, 1) uint8
                arrays, or lists of frames (see the class docstring).

        Returns:
            `BatchFeature` with `pixel_values` (B, T, 3, H, W) float32, `depth_pixel_values` (same shape,
            when `depth` is given) and `<modality>_pixel_values` for each other modality given, `frame_indices`
            (B, T) and `labels` (B,) when given. In test mode the first dimension is B·num_views with each video's
            views contiguous (clip-major: clip 0's left/centre/right crops, then clip 1's), `frame_indices`
            follows it, `labels` stays (B,), and `num_views` says how many views each video has.

        Raises:
            `VideoDecodingError` (a `ValueError`) naming the video when it cannot be read, another modality's
            video is not aligned with it, or decoded frames are fewer than `num_frames`; `TypeError` for a
            keyword argument that is none of this processor's modalities.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        extras = self._modality_arguments(depth, modality_videos)
        video_list, extra_lists, label_list = self._batch_arguments(videos, extras, labels, names)

        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        flip_map = self.flip_label_map
        pixel_values, extra_values, frame_indices, out_labels = [], {m: [] for m in extra_lists}, [], []
        for i, video in enumerate(video_list):
            name = str(names[i]) if names is not None else self._default_name(video, i, "videos")
            views, indices, flipped = self._process_one(
                video, {m: items[i] for m, items in extra_lists.items()}, name, mode, rng
            )
            for (frames, extra_frames), view_indices in zip(views, indices, strict=True):
                pixel_values.append(normalize_clip(frames, self.image_mean, self.image_std))
                for modality, clip in extra_frames.items():
                    if modality == DEPTH:
                        clip = colormap_depth(clip, self.depth_colormap)
                    extra_values[modality].append(normalize_clip(clip, self.image_mean, self.image_std))
                frame_indices.append(view_indices)
            if label_list is not None:
                label = label_list[i]
                out_labels.append(self._flipped_label(label, flip_map) if flipped else label)

        data: dict[str, Any] = {
            "pixel_values": np.stack(pixel_values),
            "frame_indices": np.stack(frame_indices).astype(np.int64),
        }
        for modality, values in extra_values.items():
            data[input_name(modality)] = np.stack(values)
        if label_list is not None:
            data["labels"] = np.asarray(out_labels, dtype=np.int64)
        if mode == "test":
            data["num_views"] = self.num_views
        return BatchFeature(data=data, tensor_type=return_tensors)

    def _modality_arguments(self, depth, modality_videos: dict) -> dict:
        """The given inputs of the modalities other than RGB, by modality, in `modalities` order; a keyword that
        names none of them is refused."""
        given = {DEPTH: depth, **modality_videos} if depth is not None else dict(modality_videos)
        unknown = [name for name in given if name not in self.modalities or name == RGB]
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got {', '.join(f'{name}=' for name in unknown)} but takes the videos of its "
                f"modalities {self.modalities} (RGB as `videos`, the others by name) and mode, labels, return_tensors, "
                "seed, names; a processor for a model with other modalities is "
                "DearVideoProcessor.from_model_config(model.config), or set `modalities`"
            )
        return {m: given[m] for m in self.modalities if given.get(m) is not None}

    @staticmethod
    def _batch_arguments(videos, extras: dict, labels, names):
        """Validated per-video lists: videos, each other modality's inputs (by modality), integer labels (or None)."""
        video_list = _split_batch(videos, 3, "videos")
        extra_lists = {}
        for modality, inputs in extras.items():
            extra_lists[modality] = _split_batch(inputs, 2 if modality == DEPTH else 3, modality)
            if len(extra_lists[modality]) != len(video_list):
                raise ValueError(f"got {len(video_list)} videos but {len(extra_lists[modality])} {modality} inputs")
        if names is not None and len(names) != len(video_list):
            raise ValueError(f"got {len(video_list)} videos but {len(names)} names")
        label_list = None
        if labels is not None:
            label_array = np.atleast_1d(np.asarray(_to_numpy(labels))).astype(np.int64)
            if label_array.ndim not in (1, 2) or len(label_array) != len(video_list):
                raise ValueError(f"got {len(video_list)} videos but labels of shape {label_array.shape}")
            label_list = label_array.tolist()
        return video_list, extra_lists, label_list

    def decode_for_training(
        self,
        videos,
        depth=None,
        labels=None,
        seed: int | np.random.Generator | None = None,
        names: list[str] | None = None,
        **modality_videos,
    ) -> BatchFeature:
        """The CPU half of `preprocess(mode="train")`: decode the sampled frames and draw each clip's augmentation.

        Frame indices and augmentation choices are drawn from `seed` exactly as `preprocess(mode="train")` draws
        them, so `DeviceTrainAugmentation.from_processor(self)` (`modeling_dear.training`: training code, which
        saved folders do not carry) applied to this batch (on any device) gives that method's clips. Labels of
        mirrored clips are already swapped.

        Returns a `BatchFeature` of torch tensors: `frames` (B, T, H, W, 3) uint8, `depth_frames` (B, T, H, W)
        (when `depth` is given) and `<modality>_frames` (B, T, H, W, 3) for each other modality given, zero-padded
        to the largest video of the batch, `frame_sizes` (B, 2) each video's (H, W), `frame_indices` (B, T),
        `labels` (B,) when given, and the drawn choices (`augment_ops`, `augment_values`, `crop_boxes`, `flips`;
        see `video_transforms.encode_params`).
        """
        import torch

        from .video_transforms import encode_params

        extras = self._modality_arguments(depth, modality_videos)
        video_list, extra_lists, label_list = self._batch_arguments(videos, extras, labels, names)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        augmentation = self._train_augmentation()
        flip_map = self.flip_label_map
        clips, extra_clips, params, frame_indices, out_labels = [], {m: [] for m in extra_lists}, [], [], []
        for i, video in enumerate(video_list):
            name = str(names[i]) if names is not None else self._default_name(video, i, "videos")
            frames, extra_frames, indices, inverse = self._decode_one(
                video, {m: items[i] for m, items in extra_lists.items()}, name, "train", rng
            )
            drawn = augmentation.sample(rng)
            clips.append(frames[inverse])
            for modality, clip in extra_frames.items():
                extra_clips[modality].append(clip[inverse])
            params.append(drawn)
            frame_indices.append(indices)
            if label_list is not None:
                label = label_list[i]
                out_labels.append(self._flipped_label(label, flip_map) if drawn.flipped else label)

        height = max(clip.shape[1] for clip in clips)
        width = max(clip.shape[2] for clip in clips)

        def padded(batch_clips):
            out = torch.zeros(
                len(batch_clips), self.num_frames, height, width, *batch_clips[0].shape[3:], dtype=torch.uint8
            )
            for b, clip in enumerate(batch_clips):
                out[b, :, : clip.shape[1], : clip.shape[2]] = torch.from_numpy(clip)
            return out

        data = {
            "frames": padded(clips),
            "frame_sizes": torch.tensor([clip.shape[1:3] for clip in clips], dtype=torch.long),
            "frame_indices": torch.from_numpy(np.stack(frame_indices).astype(np.int64)),
            **encode_params(params, self.randaugment_num_ops),
        }
        for modality, batch_clips in extra_clips.items():
            data[f"{modality}_frames"] = padded(batch_clips)
        if label_list is not None:
            data["labels"] = torch.tensor(out_labels, dtype=torch.long)
        return BatchFeature(data=data)

    @staticmethod
    def _default_name(video, index: int, what: str) -> str:
        if isinstance(video, (str, os.PathLike)):
            return os.fspath(video)
        return f"{what}[{index}]"

    def _process_one(self, video, extras: dict, name: str, mode: str, rng: np.random.Generator):
        """One video's views: a list of (RGB frames, {modality: its frames}), the frame indices of each view, and
        whether the (training) clip was mirrored."""
        frames, extra_frames, indices, inverse = self._decode_one(video, extras, name, mode, rng)
        crop = (self.crop_size["height"], self.crop_size["width"])
        if mode == "train":
            augmentation = self._train_augmentation()
            params = augmentation.sample(rng)
            frames, _ = augmentation.apply(frames[inverse], None, params)
            aligned = {m: augmentation.apply_aligned(clip[inverse], params) for m, clip in extra_frames.items()}
            return [(frames, aligned)], [indices], params.flipped
        clips = [indices] if mode == "val" else list(indices)
        crops = 1 if mode == "val" else self.num_test_crops
        depth = extra_frames.get(DEPTH)
        views, view_indices = [], []

        def cut(clip, clip_inverse, other=None):
            return eval_views(
                clip[clip_inverse],
                None if other is None else other[clip_inverse],
                short_side=self.size["shortest_edge"],
                crop_size=crop,
                num_crops=crops,
            )

        for clip_indices, clip_inverse in zip(clips, [inverse] if mode == "val" else list(inverse), strict=True):
            rgb_views = cut(frames, clip_inverse, depth)
            # other modalities have the RGB frames' size (see _decode_one), so they get the same boxes
            other_views = {
                m: [view for view, _ in cut(clip, clip_inverse)] for m, clip in extra_frames.items() if m != DEPTH
            }
            for index, (rgb_view, depth_view) in enumerate(rgb_views):
                aligned = {m: depth_view if m == DEPTH else other_views[m][index] for m in extra_frames}
                views.append((rgb_view, aligned))
                view_indices.append(clip_indices)
        return views, view_indices, False

    def _decode_one(self, video, extras: dict, name: str, mode: str, rng: np.random.Generator):
        """Sample the frame indices and decode each distinct sampled frame once: RGB, depth at the RGB size, other
        modalities resized to the RGB frames' size when theirs differs."""
        clip = _Clip(video, name, RGB, backend=self.decode_backend)
        others = {}
        for modality, item in extras.items():
            other_name = os.fspath(item) if isinstance(item, (str, os.PathLike)) else f"{modality} of {name}"
            other = _Clip(item, other_name, modality, backend=self.decode_backend)
            if modality == DEPTH and clip.file is not None and other.file is not None:
                check_aligned(clip.file.info, other.file.info, name)
            elif clip.num_frames != other.num_frames:
                raise VideoDecodingError(
                    name, f"{modality} has {other.num_frames} frames but the RGB video has {clip.num_frames}"
                )
            others[modality] = other
        if clip.frames is not None and clip.num_frames < self.num_frames:
            # Decoded frames are usually a clip sampled upstream; padding them with repeats would hide a
            # sampling mistake, whereas short video files are padded (see frame_sampling).
            raise VideoDecodingError(name, f"has {clip.num_frames} decoded frames, {self.num_frames} are needed")

        indices = sample_frame_indices(
            clip.num_frames,
            self.num_frames,
            mode=mode,
            sampling=self.sampling,
            frame_stride=self.frame_stride,
            num_clips=self.num_test_clips,
            rng=rng,
        )
        # Decode each distinct frame once, even when test clips or short videos repeat it.
        unique, inverse = np.unique(indices, return_inverse=True)
        inverse = inverse.reshape(indices.shape)
        frames = clip.read(unique)
        extra_frames = {}
        for modality, other in others.items():
            if modality == DEPTH:
                extra_frames[modality] = other.read(unique, size=tuple(clip.size))
            else:
                other_frames = other.read(unique)
                if other_frames.shape[1:3] != frames.shape[1:3]:
                    other_frames = resize_clip(other_frames, tuple(frames.shape[1:3]))
                extra_frames[modality] = other_frames
        return frames, extra_frames, indices, inverse


def _register() -> None:
    """Make `AutoImageProcessor` / `AutoVideoProcessor.from_pretrained` resolve saved DEAR processors, with or
    without torchvision."""
    from .configuration_dear import DearConfig

    DearVideoProcessor.register_for_auto_class("AutoImageProcessor")
    # Both backend slots name this class: it needs neither, and filling both spares users who have
    # torchvision installed a "falling back to pil backend" warning.
    AutoImageProcessor.register(
        DearConfig,
        image_processor_classes={"pil": DearVideoProcessor, "torchvision": DearVideoProcessor},
        exist_ok=True,
    )
    # transformers' "video-classification" pipeline also asks AutoVideoProcessor; without a local entry it
    # would find the saved auto_map and prompt for trust_remote_code although the package is installed. (The
    # top-level `transformers.AutoVideoProcessor` is a placeholder without torchvision; the module's is real.)
    from transformers.models.auto.video_processing_auto import AutoVideoProcessor

    AutoVideoProcessor.register(
        DearConfig,
        video_processor_classes={"pil": DearVideoProcessor, "torchvision": DearVideoProcessor},
        exist_ok=True,
    )


_register()
