# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""DEAR model configuration.

Why one module: it is the one configuration class of the model (transformers keeps a model's configuration in one
file, which saved folders carry), with what reads it without torch: presets, encoder specs, label sets.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
from pathlib import Path

from transformers import AutoConfig, CLIPVisionConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from .configuration_videomamba import VideoMambaConfig
from .video_transforms import CLIP_MEAN, CLIP_STD, COLORMAPS

RGB_SIDE4VIDEO = "rgb_side4video"
DEPTH_SIDE4VIDEO = "depth_side4video"
DEPTH_VIDEOMAMBA = "depth_videomamba"
ENCODERS = (RGB_SIDE4VIDEO, DEPTH_SIDE4VIDEO, DEPTH_VIDEOMAMBA)
# What builds the built-in encoders: a registered encoder type (modeling_encoders.py) and the modality it reads.
# Other encoders are described in `config.encoder_configs` the same way.
BUILTIN_ENCODER_SPECS = {
    RGB_SIDE4VIDEO: {"type": "side4video", "modality": "rgb"},
    DEPTH_SIDE4VIDEO: {"type": "side4video", "modality": "depth"},
    DEPTH_VIDEOMAMBA: {"type": "videomamba", "modality": "depth"},
}
# A fusion stream pairs the RGB encoder (rgb_side4video) with one other encoder and is named after that encoder.
STREAMS = (DEPTH_SIDE4VIDEO, DEPTH_VIDEOMAMBA)
RGB = "rgb"
DEPTH = "depth"
# How depth maps are scaled to uint8 (depth_estimation.normalize_depth); defined here so that configs load without torch
DEPTH_NORMALIZATIONS = ("clip", "frame")
DEPTH_PREPROCESSING_KEYS = (
    "size",
    "keep_aspect_ratio",
    "ensure_multiple_of",
    "image_mean",
    "image_std",
    "rescale_factor",
)

# Written into every saved config: `pipeline("video-classification", model=folder, trust_remote_code=True)`
# then runs DEAR's own pipeline (whole-clip sampling, the saved DearVideoProcessor) from the folder's
# pipeline_dear.py, which `DearForVideoClassification.save_pretrained` copies there.
DEAR_CUSTOM_PIPELINES = {
    "video-classification": {
        "impl": "pipeline_dear.DearVideoClassificationPipeline",
        "pt": ["AutoModelForVideoClassification"],
        "type": "video",
    }
}

# True when this file runs as part of the installed package, False when transformers runs the copy saved in
# a model folder (trust_remote_code).
_IMPORTED_AS_PACKAGE = __name__.startswith("modeling_dear.")


def input_name(modality: str) -> str:
    """The model input that carries a modality's frames: `pixel_values` for RGB, `<modality>_pixel_values` else."""
    return "pixel_values" if modality == RGB else f"{modality}_pixel_values"


def modality_column(modality: str) -> str:
    """The dataset column that holds a modality's videos: `video` for RGB, the modality's own name else (`depth`)."""
    return "video" if modality == RGB else modality


# CLIP ViT-B/16, the frozen backbone of the paper (transformers' CLIPVisionConfig defaults are ViT-B/32).
CLIP_VIT_B16 = {"patch_size": 16}


class DearConfig(PreTrainedConfig):
    r"""
    Configuration of [`DearForVideoClassification`]: RGB and estimated depth, encoded by Side4Video side networks
    over one frozen CLIP ViT and/or a VideoMamba, fused by gated cross-attention (Rahmani et al., 2024).

    Args:
        num_frames (`int`, defaults to 8): frames per clip.
        image_size (`int`, defaults to 224): side of the square frames; also set on the backbone and VideoMamba.
        clip_config (`dict` or `CLIPVisionConfig`): the frozen CLIP vision tower (default: ViT-B/16 shape).
        clip_name_or_path (`str`): Hub id or local folder that `load_pretrained_encoders` reads the backbone
            weights from (a `CLIPVisionModel` or `CLIPModel` checkpoint).
        side_hidden_size (`int`, defaults to 320): width D of the Side4Video side networks.
        side_head_dim (`int`, defaults to 64): attention head size of the side networks (D / 64 heads).
        side_selective_recompute (`bool`, defaults to `True`): in training, re-run the cheap parts of each side
            block (temporal branch, GELU + fc2) in backward instead of keeping their activations.
        videomamba_config (`dict` or `VideoMambaConfig`): the VideoMamba depth encoder (default: Tiny).
        videomamba_name_or_path (`str`, *optional*): released VideoMamba checkpoint to initialise it from.
        encoders (`list[str]`): the encoders to build: any of `rgb_side4video`, `depth_side4video`,
            `depth_videomamba`, and any name described in `encoder_configs`.
        encoder_configs (`dict[str, dict]`, *optional*): for encoders beyond the built-in three (or to override
            them), `{"type": <registered encoder type>, "modality": <what it reads>, **options}`; the model takes a
            modality's frames as `pixel_values` (rgb), `depth_pixel_values`, or `<modality>_pixel_values`, the
            processor as `videos` or `<modality>=`, a dataset in the column `video` or `<modality>` (`modalities`
            lists what the encoders read; see `input_name` and `modality_column`).
        fusion_streams (`list[str]`, *optional*): gated cross-attention streams, each named after the encoder it
            fuses with the RGB encoder `rgb_side4video`. `None` builds every stream the encoders allow; `[]` fuses nothing and
            averages the encoders' own heads (late fusion; with one encoder, the unimodal model).
        fusion_hidden_size (`int`, defaults to 320), fusion_num_heads (`int`, defaults to 8),
        fusion_num_layers (`int`, defaults to 1), fusion_intermediate_size (`int`, defaults to 4 × width):
            shape of each gated cross-attention stream.
        depth_colormap (`str`, defaults to `"inferno"`): how the processor turns a depth map into 3 channels.
        image_mean, image_std (`list[float]`, default to CLIP's statistics): the normalisation of `pixel_values`
            (the processor's); on-the-fly depth undoes it to recover the frames and applies it to colour-mapped depth.
        depth_estimator_config (`dict` or a transformers depth model config, *optional*): a depth model
            (`DPTConfig`, `DepthAnythingConfig`, ... any `AutoModelForDepthEstimation` config) bundled in the
            checkpoint, frozen, that computes depth from `pixel_values` when `depth_pixel_values` is not given.
            `DearForVideoClassification.attach_depth_estimator` sets it together with the weights.
        depth_estimator_name_or_path (`str`, *optional*): where the bundled depth weights came from (a record).
        depth_estimator_preprocessing (`dict`, *optional*): the depth model's input settings (`size` [h, w],
            `keep_aspect_ratio`, `ensure_multiple_of`, `image_mean`, `image_std`, `rescale_factor`), read from its
            image processor by `attach_depth_estimator`; DPT/MiDaS defaults (384x384, mean/std 0.5) when unset.
        depth_normalization (`str`, defaults to `"clip"`): min-max of on-the-fly depth to [0, 255] over the clip's
            frames or per frame, as `DepthEstimator(normalize=...)`.
        depth_estimator_batch_size (`int`, defaults to 16): frames per depth-model forward (bounds its memory).
        custom_pipelines (`dict`): the transformers custom-pipeline entry that maps "video-classification" to
            `pipeline_dear.DearVideoClassificationPipeline` for `trust_remote_code=True` loading.
        label_smoothing (`float`, defaults to 0.1): cross-entropy label smoothing of the training loss.
        label_sets (`dict[str, dict[int, str] | list[str]]`, *optional*): several label sets per clip, each with its
            classes, e.g. `{"verb": verb_id2label, "noun": noun_id2label}` for EPIC-Kitchens (the keys are also the
            dataset's label columns). The model then has one head per logit source *per label set*, returns each
            set's logits (`label_set_logits`), and `id2label` becomes the sets' classes one after the other, named
            `"<set>/<class>"` (what the concatenated `logits` index). `None` (the default): one label set,
            `id2label`, in the dataset column `label`.
        label_set_loss_weights (`dict[str, float]`, *optional*): the weight of each label set's cross-entropy in
            the loss (their weighted sum); a set left out weighs 1.
    """

    model_type = "dear"
    # with label sets, each set's logits are also in `logits` (concatenated): the Trainer need not gather them twice
    keys_to_ignore_at_inference = ["label_set_logits"]
    sub_configs_defaults = {
        "clip_config": SubConfigSpec(config_class=CLIPVisionConfig, init_kwargs=dict(CLIP_VIT_B16)),
        "videomamba_config": VideoMambaConfig,
        # any transformers depth model: the dict's own model_type picks the config class
        "depth_estimator_config": SubConfigSpec(config_class=AutoConfig, model_type="dpt", optional=True),
    }

    num_frames: int = 8
    image_size: int = 224
    num_channels: int = 3
    clip_config: dict | CLIPVisionConfig | None = None
    clip_name_or_path: str | None = "openai/clip-vit-base-patch16"
    side_hidden_size: int = 320
    side_head_dim: int = 64
    side_selective_recompute: bool = True
    videomamba_config: dict | VideoMambaConfig | None = None
    videomamba_name_or_path: str | None = None
    encoders: list[str] | None = None
    encoder_configs: dict | None = None
    fusion_streams: list[str] | None = None
    fusion_hidden_size: int = 320
    fusion_num_heads: int = 8
    fusion_num_layers: int = 1
    fusion_intermediate_size: int | None = None
    depth_colormap: str = "inferno"
    image_mean: list[float] | None = None
    image_std: list[float] | None = None
    depth_estimator_config: dict | PreTrainedConfig | None = None
    depth_estimator_name_or_path: str | None = None
    depth_estimator_preprocessing: dict | None = None
    depth_normalization: str = "clip"
    depth_estimator_batch_size: int = 16
    custom_pipelines: dict | None = None
    label_smoothing: float = 0.1
    label_sets: dict | list | None = None
    label_set_loss_weights: dict | None = None
    layer_norm_eps: float = 1e-5
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs):
        if self.label_sets is not None:
            self.label_sets = _normalize_label_sets(self.label_sets)
            # derived, never read from the arguments: the concatenation that `logits` and `stream_logits` index
            self.id2label = dict(
                enumerate(f"{name}/{label}" for name, classes in self.label_sets.items() for label in classes.values())
            )
            self.label2id = {label: index for index, label in self.id2label.items()}
            kwargs.pop("num_labels", None)
        # Configs saved before activation checkpointing became transformers' switch carry `encoder_checkpointing`
        # (True by default then): a training choice, not part of the model. It is dropped, as transformers dropped
        # `gradient_checkpointing` from configs; `model.activation_checkpointing_enable()` (or the Trainer's
        # `activation_checkpointing` / `gradient_checkpointing` argument, on in DEAR's recipe) turns it on.
        kwargs.pop("encoder_checkpointing", None)
        if self.id2label is None and kwargs.get("num_labels") is None:
            # imported by name, not with `from .data.schema import`, which would make saved folders carry the
            # dataset module (their configs always hold id2label, so they never get here)
            ssv2_label_names = importlib.import_module(".data.schema", __package__).ssv2_label_names
            self.id2label = dict(enumerate(ssv2_label_names()))
        if self.id2label is not None and self.label2id is None:
            self.label2id = {name: int(index) for index, name in self.id2label.items()}
        if self.encoders is None:
            self.encoders = list(ENCODERS)
        if isinstance(self.clip_config, dict):
            # a partial backbone dict means "ViT-B/16 except for these fields", not "ViT-B/32 except ..."
            self.clip_config = {**CLIP_VIT_B16, **self.clip_config}
        if self.fusion_intermediate_size is None:
            self.fusion_intermediate_size = 4 * self.fusion_hidden_size
        self.image_mean = [float(v) for v in (self.image_mean if self.image_mean is not None else CLIP_MEAN)]
        self.image_std = [float(v) for v in (self.image_std if self.image_std is not None else CLIP_STD)]
        if _IMPORTED_AS_PACKAGE:
            # The installed package registers DEAR's pipeline under "video-classification" itself (see
            # modeling_dear/__init__.py); the saved entry (to_dict) serves remote-code loading, and would only make
            # transformers demand trust_remote_code here.
            self.custom_pipelines = {}
        elif self.custom_pipelines is None:
            self.custom_pipelines = copy.deepcopy(DEAR_CUSTOM_PIPELINES)
        super().__post_init__(**kwargs)
        if self.depth_estimator_config is not None and self.depth_estimator_preprocessing is None:
            from .depth_estimation import read_depth_preprocessing

            # what DepthEstimator assumes for a checkpoint without an image processor
            self.depth_estimator_preprocessing = read_depth_preprocessing(None)
        # the clip geometry is stated once, here, and handed down to the encoders
        self.clip_config.image_size = self.image_size
        self.clip_config.num_channels = self.num_channels
        self.videomamba_config.image_size = self.image_size
        self.videomamba_config.num_frames = self.num_frames
        self.videomamba_config.num_channels = self.num_channels
        self._validate()

    def _validate(self):
        if not self.encoders:
            raise ValueError(f"encoders must name at least one encoder, e.g. {list(ENCODERS)}")
        if len(set(self.encoders)) != len(self.encoders):
            raise ValueError(f"encoders lists an encoder twice: {self.encoders}")
        specs = self.encoder_configs or {}
        stray = [name for name in specs if name not in self.encoders]
        if stray:
            raise ValueError(f"encoder_configs describes {stray}, which encoders {self.encoders} does not list")
        for name in self.encoders:
            spec = self.encoder_spec(name)
            if not spec:
                raise ValueError(
                    f"unknown encoder {name!r}: the built-in encoders are {list(ENCODERS)}; describe others in "
                    f"encoder_configs, e.g. {{{name!r}: {{'type': 'my_encoder', 'modality': 'rgb'}}}}"
                )
            modality = spec.get("modality")
            if not isinstance(spec.get("type"), str) or not isinstance(modality, str) or not modality.isidentifier():
                raise ValueError(
                    f"encoder_configs[{name!r}] needs a 'type' (a registered encoder type) and a 'modality' "
                    f"(an identifier such as 'rgb', 'depth', 'flow'), got {spec}"
                )
        if self.fusion_streams is not None:
            for stream in self.fusion_streams:
                if stream == RGB_SIDE4VIDEO or not (stream in self.encoders or stream in BUILTIN_ENCODER_SPECS):
                    raise ValueError(
                        f"unknown fusion stream {stream!r}; a stream is named after the encoder it fuses with "
                        f"{RGB_SIDE4VIDEO!r}, one of {[name for name in self.encoders if name != RGB_SIDE4VIDEO]}"
                    )
                if RGB_SIDE4VIDEO not in self.encoders or stream not in self.encoders:
                    raise ValueError(
                        f"fusion stream {stream!r} fuses {RGB_SIDE4VIDEO!r} with {stream!r}, but encoders are {self.encoders}"
                    )
        idle = [name for name in self.encoders if name not in (*self.logit_sources, *self._fused_encoders())]
        if idle:
            raise ValueError(
                f"encoder(s) {idle} would run without reaching the logits: with fusion_streams {self.fusion_streams} "
                f"only {self.logit_sources} are classified; add a stream for them or remove them from encoders"
            )
        if self.depth_colormap not in COLORMAPS:
            raise ValueError(f"depth_colormap must be one of {COLORMAPS}, got {self.depth_colormap!r}")
        patch_size = self.clip_config.patch_size
        if self.uses_side4video and self.image_size % patch_size:
            raise ValueError(f"image_size {self.image_size} is not a multiple of the backbone patch size {patch_size}")
        if self.uses_side4video and self.side_hidden_size % self.side_head_dim:
            raise ValueError(
                f"side_hidden_size {self.side_hidden_size} is not a multiple of side_head_dim {self.side_head_dim}"
            )
        if self.active_streams and self.fusion_hidden_size % self.fusion_num_heads:
            raise ValueError(
                f"fusion_hidden_size {self.fusion_hidden_size} is not a multiple of fusion_num_heads {self.fusion_num_heads}"
            )
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        self._validate_label_sets()
        if len(self.image_mean) != self.num_channels or len(self.image_std) != self.num_channels:
            raise ValueError(
                f"image_mean and image_std need {self.num_channels} values each, got {self.image_mean} and {self.image_std}"
            )
        if self.depth_normalization not in DEPTH_NORMALIZATIONS:
            raise ValueError(
                f"depth_normalization must be one of {DEPTH_NORMALIZATIONS}, got {self.depth_normalization!r}"
            )
        if self.depth_estimator_batch_size < 1:
            raise ValueError(f"depth_estimator_batch_size must be at least 1, got {self.depth_estimator_batch_size}")
        if self.depth_estimator_preprocessing is not None:
            missing = [key for key in DEPTH_PREPROCESSING_KEYS if key not in self.depth_estimator_preprocessing]
            if missing:
                raise ValueError(
                    f"depth_estimator_preprocessing lacks {missing}; it needs {list(DEPTH_PREPROCESSING_KEYS)}"
                )

    def _validate_label_sets(self):
        if self.label_sets is None:
            if self.label_set_loss_weights:
                raise ValueError(
                    f"label_set_loss_weights {self.label_set_loss_weights} needs label_sets (this model has one label set)"
                )
            return
        taken = {"video_id", *(modality_column(m) for m in self.modalities)}
        clash = [name for name in self.label_sets if name in taken]
        if clash:
            raise ValueError(
                f"label set name(s) {clash} are also the dataset columns of the clip id or of a modality {sorted(taken)}; "
                "name the label sets otherwise"
            )
        weights = self.label_set_loss_weights or {}
        unknown = [name for name in weights if name not in self.label_sets]
        if unknown:
            raise ValueError(
                f"label_set_loss_weights names {unknown}, which label_sets {list(self.label_sets)} does not have"
            )
        bad = {name: w for name, w in weights.items() if not isinstance(w, (int, float)) or w < 0}
        if bad:
            raise ValueError(f"label_set_loss_weights must be non-negative numbers, got {bad}")

    @property
    def label_columns(self) -> dict[str, dict[int, str]]:
        """The dataset's label column(s) and their classes: `{"label": id2label}` for a model with one label set,
        `label_sets` else (`{"verb": {...}, "noun": {...}}`)."""
        return dict(self.label_sets) if self.label_sets is not None else {"label": self.id2label}

    @property
    def label_set_sizes(self) -> dict[str, int]:
        """Classes per label column, in the order their logits are concatenated in `logits`."""
        return {name: len(classes) for name, classes in self.label_columns.items()}

    def label_set_loss_weight(self, name: str) -> float:
        return float((self.label_set_loss_weights or {}).get(name, 1.0))

    @property
    def predicts_actions(self) -> bool:
        """Whether the model scores EPIC-Kitchens-style actions: it has the label sets `verb` and `noun`."""
        return self.label_sets is not None and "verb" in self.label_sets and "noun" in self.label_sets

    def to_dict(self):
        output = super().to_dict()
        # Always the plain entry: in remote-code mode transformers' pipeline() swaps its class names for the
        # classes themselves, in place, which would not serialise.
        output["custom_pipelines"] = copy.deepcopy(DEAR_CUSTOM_PIPELINES)
        if self.label_sets is not None:
            # [[name, id2label], ...]: config.json is written with sorted keys, and the sets' order is the order of
            # their logits, heads and label columns
            output["label_sets"] = [[name, dict(classes)] for name, classes in self.label_sets.items()]
        return output

    def encoder_spec(self, name: str) -> dict:
        """`{"type", "modality", **options}` of an encoder: the built-in spec, updated by `encoder_configs[name]`."""
        return {**BUILTIN_ENCODER_SPECS.get(name, {}), **(self.encoder_configs or {}).get(name, {})}

    def _in_fixed_order(self, names) -> list[str]:
        # the built-in encoders in their historical order (it fixes the order of stream_logits), then the others
        # in the order `encoders` lists them
        names = set(names)
        return [n for n in ENCODERS if n in names] + [n for n in self.encoders if n in names and n not in ENCODERS]

    @property
    def modalities(self) -> list[str]:
        """What the encoders read, each once, in encoder order ("rgb", "depth", ...)."""
        return list(dict.fromkeys(self.encoder_spec(name)["modality"] for name in self._in_fixed_order(self.encoders)))

    def encoders_reading(self, modality: str) -> list[str]:
        """The encoders that read `modality`, in encoder order."""
        return [name for name in self._in_fixed_order(self.encoders) if self.encoder_spec(name)["modality"] == modality]

    @property
    def active_streams(self) -> list[str]:
        """The fusion streams this model builds, in a fixed order."""
        if self.fusion_streams is not None:
            return self._in_fixed_order(self.fusion_streams)
        if RGB_SIDE4VIDEO not in self.encoders:
            return []
        return self._in_fixed_order(name for name in self.encoders if name != RGB_SIDE4VIDEO)

    def _fused_encoders(self) -> list[str]:
        return [RGB_SIDE4VIDEO, *self.active_streams] if self.active_streams else []

    @property
    def unfused_encoders(self) -> list[str]:
        """Encoders classified by their own head: all of them when no stream fuses anything."""
        return [] if self.active_streams else self._in_fixed_order(self.encoders)

    @property
    def logit_sources(self) -> list[str]:
        """Names of the per-stream (or per-encoder) logits whose mean is the model's output, in output order."""
        return self.active_streams or self.unfused_encoders

    @property
    def uses_side4video(self) -> bool:
        """Whether an encoder reads the frozen CLIP backbone (the model then builds it)."""
        return any(self.encoder_spec(name)["type"] == "side4video" for name in self.encoders)

    @property
    def needs_depth(self) -> bool:
        return DEPTH in self.modalities

    @property
    def estimates_depth(self) -> bool:
        """Whether the model builds a depth estimator: it has a depth encoder and a bundled depth model."""
        return self.needs_depth and self.depth_estimator_config is not None

    @classmethod
    def get_config_dict(cls, pretrained_model_name_or_path, **kwargs):
        # a missing local folder and a folder of another model type fail here, in one line (see model_sources)
        from .model_sources import check_model_source, check_model_type

        if isinstance(pretrained_model_name_or_path, (str, os.PathLike)) and not kwargs.get("subfolder"):
            check_model_source(pretrained_model_name_or_path)
        config_dict, kwargs = super().get_config_dict(pretrained_model_name_or_path, **kwargs)
        check_model_type(config_dict.get("model_type"), pretrained_model_name_or_path, cls.model_type)
        return config_dict, kwargs

    @classmethod
    def from_preset(cls, name: str, **overrides) -> DearConfig:
        """A named configuration from `configuration/presets/` (see `list_presets()`), with keyword overrides."""
        return cls(**{**load_preset_dict(name), **overrides})

    @classmethod
    def from_preset_or_path(cls, name_or_path: str | Path, **overrides) -> DearConfig:
        """A preset name, a config JSON file, or a folder holding `config.json` (a saved model)."""
        path = Path(name_or_path)
        if path.is_dir() or path.suffix == ".json":
            if not path.exists():
                raise FileNotFoundError(f"config file {path} does not exist")
            config_file = path / "config.json" if path.is_dir() else path
            if not config_file.is_file():
                raise FileNotFoundError(f"{path} holds no config.json")
            values = json.loads(config_file.read_text(encoding="utf-8"))
            values.pop("model_type", None)
            values.pop("description", None)
            values.pop("paper_result", None)  # documentation: see paper_results()
            return cls(**{**values, **overrides})
        return cls.from_preset(str(name_or_path), **overrides)


def _normalize_label_sets(label_sets) -> dict[str, dict[int, str]]:
    """`{name: {id: class}}` with integer ids 0..n-1 in order, from dicts (JSON's string keys too) or lists; the
    sets themselves as a dict or as `[[name, classes], ...]` (how `to_dict` writes them, keeping their order)."""
    if isinstance(label_sets, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in label_sets):
        names = [name for name, _ in label_sets]
        if len(set(names)) != len(names):
            raise ValueError(f"label_sets names a label set twice: {names}")
        label_sets = dict(label_sets)
    if not isinstance(label_sets, dict) or not label_sets:
        raise ValueError(
            f"label_sets must be a non-empty dict {{name: id2label or list of class names}}, got {label_sets!r}"
        )
    normalized = {}
    for name, classes in label_sets.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"label set names must be identifiers such as 'verb' or 'noun', got {name!r}")
        if isinstance(classes, dict):
            try:
                items = sorted((int(index), str(label)) for index, label in classes.items())
            except (TypeError, ValueError):
                raise ValueError(f"label_sets[{name!r}] must map integer ids to class names, got {classes!r}") from None
        elif isinstance(classes, (list, tuple)):
            items = [(index, str(label)) for index, label in enumerate(classes)]
        else:
            raise ValueError(f"label_sets[{name!r}] must be an id2label dict or a list of class names, got {classes!r}")
        if len(items) < 2 or [index for index, _ in items] != list(range(len(items))):
            raise ValueError(
                f"label_sets[{name!r}] needs at least 2 classes with the ids 0..n-1, got ids {[i for i, _ in items][:10]}"
            )
        normalized[name] = dict(items)
    return normalized


def presets_directory() -> Path:
    """Where the preset JSON files are: inside the installed package, or `configuration/` of a source checkout."""
    candidates = [
        Path(__file__).parent / "configuration" / "presets",
        Path(__file__).parents[1] / "configuration" / "presets",
    ]
    try:
        from importlib.resources import files

        candidates.insert(0, Path(str(files("modeling_dear.configuration") / "presets")))
    except (ImportError, ModuleNotFoundError, TypeError):
        pass
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no presets folder found; looked in {[str(c) for c in candidates]}")


def list_presets() -> list[str]:
    return sorted(path.stem for path in presets_directory().glob("*.json"))


def paper_results() -> dict[frozenset, dict]:
    """The paper's Table 1 (and the poster's depth-only rows), one row per preset that carries a `paper_result`,
    keyed by the set of its encoders: `{"variant", "encoders", "fusion", "ssv2_top1"}` (display strings)."""
    rows = {}
    for name in list_presets():
        values = json.loads((presets_directory() / f"{name}.json").read_text(encoding="utf-8"))
        if "paper_result" in values:
            rows[frozenset(load_preset_dict(name).get("encoders", ENCODERS))] = {
                "preset": name,
                **values["paper_result"],
            }
    return rows


def load_preset_dict(name: str) -> dict:
    """The preset's keyword arguments, following `"extends"` to the preset it is based on."""
    path = presets_directory() / f"{name}.json"
    if not path.is_file():
        raise ValueError(f"unknown preset {name!r}; available presets: {', '.join(list_presets())}")
    values = json.loads(path.read_text(encoding="utf-8"))
    values.pop("description", None)
    values.pop("paper_result", None)  # documentation: see paper_results()
    base = values.pop("extends", None)
    if base is None:
        return values
    merged = load_preset_dict(base)
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


__all__ = ["DearConfig", "list_presets", "load_preset_dict", "input_name", "modality_column", "ENCODERS", "STREAMS"]
