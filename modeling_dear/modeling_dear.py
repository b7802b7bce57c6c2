# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""DEAR: encoders of RGB and estimated depth (Side4Video over a frozen CLIP, VideoMamba, or any registered encoder),
fused by gated cross-attention.

`DearModel` holds the encoders (one `nn.ModuleDict` keyed by `config.encoders`), the frozen CLIP backbone the
Side4Video encoders read, the fusion streams and, optionally, a bundled depth model; it returns one pooled vector
per logit source. `DearForVideoClassification` adds one linear head per logit source, averages their logits and
computes the loss.

Why one module: transformers keeps a model's PreTrainedModel, base model and task heads in one modeling file, which
is also the file a `trust_remote_code` folder loads; the encoders, fusion and attention are their own modules
already.
"""

import contextlib
import importlib
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoModelForDepthEstimation, CLIPVisionModel, PreTrainedModel
from transformers import initialization as init
from transformers.processing_utils import Unpack
from transformers.utils import ModelOutput, TransformersKwargs
from transformers.utils.generic import can_return_tuple

from .configuration_dear import RGB_SIDE4VIDEO, DearConfig, input_name
from .depth_estimation import normalize_depth_tensor, prepare_depth_input, read_depth_preprocessing, resize_prediction
from .frozen_weights import apply_frozen_weights, read_frozen_weights
from .model_sources import check_model_source, check_model_type, folder_model_type
from .modeling_encoders import build_encoder, check_encoder_output, save_custom_encoders
from .modeling_fusion import GatedCrossAttentionBlock, GatedCrossAttentionStream
from .modeling_side4video import Side4VideoSideNetwork
from .video_transforms import colormap_lut

# Checkpoints saved before DearModel existed (release 0.1) name their weights from the classifier's point of view,
# with one attribute per encoder; these renamings (applied in order, first match) load them into today's layout.
RELEASE_0_1_KEY_MAPPING = {
    r"^backbone\.": "dear.backbone.",
    r"^rgb_encoder\.": "dear.encoders.rgb_side4video.",
    r"^depth_encoder\.": "dear.encoders.depth_side4video.",
    r"^videomamba_encoder\.": "dear.encoders.depth_videomamba.videomamba.",
    r"^fusion\.(\w+)\.classifier\.": r"classifiers.\1.",
    r"^fusion\.": "dear.fusion.",
    r"^heads\.": "classifiers.",
    r"^depth_estimator\.": "dear.on_the_fly_depth.estimator.",
}

# keyword arguments `forward` takes besides its named ones (transformers' typed kwargs)
_TRANSFORMERS_KWARGS = frozenset(TransformersKwargs.__annotations__)


@dataclass
class DearModelOutput(ModelOutput):
    """
    pooler_output: one vector per logit source (`config.logit_sources`), what its head classifies: (B, 2F) for a
        fusion stream (its RGB side and the other side, each mean-pooled), the encoder's pooled output for an
        encoder classified on its own.
    hidden_states: on request, a tuple of tensors: for each encoder in `config.encoders` order, its tokens after
        the embedding and after each layer; then for each fusion stream, the RGB-side and other-side tokens after
        each of its layers.
    attentions: on request, a tuple of tensors (B, heads, Q, K), from the eager path: the CLIP backbone's layers
        (once per modality it reads), each Side4Video encoder's blocks, then each fusion block (RGB side, other side).
    encoder_hidden_states: on request (`output_hidden_states`), each encoder's final tokens, by encoder name.
    fused_hidden_states: on request, for each stream, the (RGB-side, other-side) tokens after the cross-attention.
    """

    pooler_output: tuple[torch.FloatTensor, ...] | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None
    encoder_hidden_states: dict[str, torch.FloatTensor] | None = None
    fused_hidden_states: dict[str, tuple[torch.FloatTensor, torch.FloatTensor]] | None = None


@dataclass
class DearVideoClassifierOutput(ModelOutput):
    """
    loss: cross-entropy of `logits` (with the config's label smoothing) when labels are given; with
        `config.label_sets`, the weighted sum of each label set's cross-entropy (`config.label_set_loss_weights`).
    logits (B, C): the mean of `stream_logits` over its second axis. With `config.label_sets`, the label sets'
        logits one after the other (B, ΣC), as `config.id2label` names them.
    stream_logits (B, S, C): the logits of each stream (or of each encoder's own head when nothing is fused),
        in the order of `config.logit_sources` (with label sets, each stream's sets concatenated likewise).
    label_set_logits: only with `config.label_sets`: each label set's logits (B, C_set), by set name.
    hidden_states, attentions, encoder_hidden_states, fused_hidden_states: as in `DearModelOutput`.
    """

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    stream_logits: torch.FloatTensor | None = None
    label_set_logits: dict[str, torch.FloatTensor] | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None
    encoder_hidden_states: dict[str, torch.FloatTensor] | None = None
    fused_hidden_states: dict[str, tuple[torch.FloatTensor, torch.FloatTensor]] | None = None


def check_forward_kwargs(model: nn.Module, kwargs: dict, extra_inputs: tuple[str, ...] = ()) -> None:
    """A misspelt or unknown keyword argument is an error, not something silently ignored."""
    unknown = [key for key in kwargs if key not in _TRANSFORMERS_KWARGS and key not in extra_inputs]
    if unknown:
        known = ["pixel_values", *extra_inputs, "labels", "output_hidden_states", "output_attentions", "return_dict"]
        raise TypeError(
            f"{type(model).__name__}.forward() got unexpected keyword argument(s) {unknown}; it takes {known} "
            "(and transformers' TransformersKwargs)"
        )


@contextlib.contextmanager
def _attention_implementation(config, implementation: str | None):
    """Temporarily run a transformers sub-model (the CLIP backbone) with another attention implementation."""
    previous = config._attn_implementation_internal
    config._attn_implementation_internal = implementation
    try:
        yield
    finally:
        config._attn_implementation_internal = previous


class OnTheFlyDepth(nn.Module):
    """A bundled, frozen depth model that turns normalised RGB `pixel_values` into `depth_pixel_values`.

    The frames are recovered exactly (the processor builds `pixel_values` from uint8 frames, and rounding the
    un-normalised values gives those integers back); from there the steps are `DepthEstimator`'s and then
    `DearVideoProcessor`'s (depth model preprocessing, resize back, per-clip min-max to uint8, colour map,
    normalisation), so the result equals the processor's for the same frames and the same depth model.
    """

    def __init__(self, config: DearConfig, estimator: PreTrainedModel | None = None):
        super().__init__()
        self.config = config
        self.estimator = (
            estimator
            if estimator is not None
            else AutoModelForDepthEstimation.from_config(config.depth_estimator_config)
        )

    def _statistics(self, device) -> tuple[torch.Tensor, torch.Tensor]:
        # the processor's float32 arithmetic (normalize_clip): x = (v - 255·mean) / (255·std), per channel
        shift = torch.tensor(self.config.image_mean, dtype=torch.float32, device=device) * 255.0
        scale = torch.tensor(self.config.image_std, dtype=torch.float32, device=device) * 255.0
        return shift, scale

    def estimate_depth(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """uint8 relative inverse depth (B, T, H, W) of the frames in normalised `pixel_values` (B, T, 3, H, W),
        min-max normalised per clip (or per frame, `config.depth_normalization`), as `DepthEstimator(frames)`."""
        config = self.config
        batch_size, num_frames, _, height, width = pixel_values.shape
        shift, scale = self._statistics(pixel_values.device)
        frames = pixel_values.detach().float().flatten(0, 1) * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)
        frames = frames.round_().clamp_(0, 255)
        model_dtype = next(self.estimator.parameters()).dtype
        predictions = []
        with torch.no_grad():
            for chunk in frames.split(config.depth_estimator_batch_size):
                inputs = prepare_depth_input(chunk, config.depth_estimator_preprocessing).to(model_dtype)
                predicted = self.estimator(pixel_values=inputs).predicted_depth
                predictions.append(resize_prediction(predicted, (height, width)))
        predicted = torch.cat(predictions).view(batch_size, num_frames, height, width)
        return torch.stack([normalize_depth_tensor(clip, config.depth_normalization) for clip in predicted])

    def depth_pixel_values(self, depth: torch.Tensor) -> torch.Tensor:
        """uint8 depth (B, T, H, W) → colour-mapped, normalised `depth_pixel_values` (B, T, 3, H, W), float32."""
        lut = torch.from_numpy(colormap_lut(self.config.depth_colormap).copy()).to(depth.device)
        colored = lut[depth.long()].float()  # (B, T, H, W, 3)
        shift, scale = self._statistics(depth.device)
        return ((colored - shift) / scale).permute(0, 1, 4, 2, 3).contiguous()

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.depth_pixel_values(self.estimate_depth(pixel_values)).to(pixel_values.dtype)


class DearPreTrainedModel(PreTrainedModel):
    config_class = DearConfig
    config: DearConfig
    base_model_prefix = "dear"
    main_input_name = "pixel_values"
    input_modalities = ("video",)
    supports_gradient_checkpointing = True
    # every attention module (CLIP, the side networks, the fusion) runs eager or SDPA, as config._attn_implementation says
    _supports_sdpa = True
    # The loss is a mean over the videos of the batch and never takes `num_items_in_batch`. Without this, the
    # `**kwargs` of `forward` make the Trainer believe the model normalises by the item count of the whole step,
    # so it skips its own division by gradient-accumulation steps and multiplies by the process count: losses and
    # gradients came out processes x accumulation steps too large.
    accepts_loss_kwargs = False
    _no_split_modules = ["Side4VideoBlock", "VideoMambaBlock", "CLIPEncoderLayer", "GatedCrossAttentionLayer"]

    @classmethod
    def is_custom_code(cls) -> bool:
        # transformers guards custom code that initialises in place without transformers.initialization by skipping
        # modules that own no parameters directly; it passes that guard down to the nested CLIP backbone, whose
        # CLIPAttention / CLIPMLP then keep the generic std 0.02 instead of CLIP's scaled init whenever the model is
        # initialised after construction (meta device, then init_weights). DEAR initialises only through
        # transformers.initialization, so the guard is not needed.
        return False

    @torch.no_grad()
    def _init_weights(self, module):
        """The released Side4Video initialisation (docs/architecture.md §2); PyTorch defaults elsewhere. The CLIP
        backbone, VideoMamba and the depth model are transformers models and initialise themselves."""
        side_width = self.config.side_hidden_size
        # 24 = 2 × 12 residual branches per depth of the CLIP-style scaled init the side network follows
        residual_std = side_width**-0.5 * (2 * self.config.clip_config.num_hidden_layers) ** -0.5
        if isinstance(module, Side4VideoSideNetwork):
            # Done here rather than per submodule: transformers skips, in custom code, modules that own no
            # parameters directly (such as Side4VideoMLP). Children are initialised before their parents, so
            # these values replace the PyTorch defaults their Linear layers got.
            init.normal_(module.position_embedding, mean=0.0, std=0.01)
            for block in module.blocks:
                init.normal_(block.attention.in_proj_weight, mean=0.0, std=side_width**-0.5)
                init.zeros_(block.attention.in_proj_bias)
                init.normal_(block.attention.out_proj.weight, mean=0.0, std=residual_std)
                init.zeros_(block.attention.out_proj.bias)
                init.normal_(block.mlp.fc1.weight, mean=0.0, std=(2 * side_width) ** -0.5)
                init.normal_(block.mlp.fc2.weight, mean=0.0, std=residual_std)
        elif isinstance(module, GatedCrossAttentionBlock):
            # Flamingo-style: closed gates, so fusion starts as the identity on both sides
            init.zeros_(module.attention_gate)
            init.zeros_(module.mlp_gate)
        elif isinstance(module, (nn.LayerNorm, nn.BatchNorm3d)):
            init.ones_(module.weight)
            init.zeros_(module.bias)
            if isinstance(module, nn.BatchNorm3d):
                init.zeros_(module.running_mean)
                init.ones_(module.running_var)
                init.zeros_(module.num_batches_tracked)
        elif isinstance(module, (nn.Linear, nn.Conv3d)):
            # taps, convolutions and heads keep PyTorch's default initialisation, as released
            init.kaiming_uniform_(module.weight, a=math.sqrt(5))
            if module.bias is not None:
                bound = module.weight[0].numel() ** -0.5
                init.uniform_(module.bias, -bound, bound)

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        if kwargs.get("key_mapping") is None:
            # harmless for today's checkpoints: no key of theirs starts with a release-0.1 prefix
            kwargs["key_mapping"] = RELEASE_0_1_KEY_MAPPING if cls is not DearModel else _BASE_KEY_MAPPING
        source = args[0] if args else kwargs.get("pretrained_model_name_or_path")
        # a folder of another model type (VideoMAE, DPT) would otherwise load as a random DEAR, with a warning only
        config = kwargs.get("config")
        check_model_type(getattr(config, "model_type", None), "the config passed to from_pretrained")
        if config is None and isinstance(source, (str, os.PathLike)):
            # a local folder that does not exist, said before transformers looks for an adapter in it (with peft
            # installed it asks the Hub first, and fails on the path as a malformed repo id)
            check_model_source(source)
        is_folder = isinstance(source, (str, os.PathLike)) and os.path.isdir(source)
        if is_folder:
            check_model_type(folder_model_type(source), source)
        carried = _carried_model_class(cls, source, config, kwargs)
        if carried is not None:
            kwargs.pop("config", None)  # the folder's code reads its own config class
            return carried.from_pretrained(*args, **kwargs)
        # a training checkpoint (checkpoint-N/) holds no frozen weights, only a pointer to the run's copy: they are
        # restored below, so the load report must not list them as missing (others still are)
        frozen = read_frozen_weights(source) if is_folder else None
        if is_folder:
            _check_weights_fit_config(cls, source, kwargs, frozen)
        if frozen is None:
            loaded = super().from_pretrained(*args, **kwargs)
        else:
            if cls is DearModel:  # the run's copy names the weights as the classifier holds them
                frozen = {name.removeprefix("dear."): value for name, value in frozen.items()}
            ignored = cls._keys_to_ignore_on_load_missing
            cls._keys_to_ignore_on_load_missing = [rf"^{re.escape(name)}$" for name in frozen]
            try:
                loaded = super().from_pretrained(*args, **kwargs)
            finally:
                cls._keys_to_ignore_on_load_missing = ignored
        model = loaded[0] if isinstance(loaded, tuple) else loaded
        # save in today's layout, not back in the layout the weights came in
        model._weight_conversions = None
        if frozen is not None:
            apply_frozen_weights(model, frozen, os.fspath(source))
        # loading swaps in new Parameter objects, which come back trainable: freeze the backbone again
        model.freeze_backbone()
        model.freeze_depth_estimator()
        return loaded

    def save_pretrained(self, save_directory, *args, **kwargs):
        # With push_to_hub=True, transformers uploads at the end of its save_pretrained, before the files below
        # exist: hold that upload back until they are written (they are newer than its timestamps, so they go too).
        held_uploads = self.__dict__["_held_uploads"] = []
        try:
            super().save_pretrained(save_directory, *args, **kwargs)
        finally:
            del self.__dict__["_held_uploads"]
        self._carry_code(save_directory, **kwargs)
        for upload_args, upload_kwargs in held_uploads:
            PreTrainedModel._upload_modified_files(self, *upload_args, **upload_kwargs)

    def _upload_modified_files(self, *args, **kwargs):
        held_uploads = self.__dict__.get("_held_uploads")
        if held_uploads is not None:
            held_uploads.append((args, kwargs))
            return None
        return super()._upload_modified_files(*args, **kwargs)

    def _carry_code(self, save_directory, **kwargs):
        """The code a `trust_remote_code` load of the folder needs beyond what transformers copies itself."""
        if self._auto_class is not None and kwargs.get("is_main_process", True):
            # config.custom_pipelines names pipeline_dear.DearVideoClassificationPipeline: the folder must hold
            # that file (and what it imports) for pipeline(..., trust_remote_code=True) to find it.
            from transformers.dynamic_module_utils import custom_object_save

            from .pipeline_dear import DearVideoClassificationPipeline

            custom_object_save(DearVideoClassificationPipeline, save_directory)
            # encoders registered from outside the package (a user's module) travel too, registered before the model
            # classes are built: config.json's auto_map then names those through modeling_dear_custom.py
            save_custom_encoders(self.config, save_directory, model_module=type(self).__module__.split(".")[-1])

    def _dear_model(self) -> "DearModel":
        return self if isinstance(self, DearModel) else self.dear

    def get_input_embeddings(self) -> nn.Module:
        """The module that embeds the frames, as transformers' vision models return their patch embedding: the frozen
        CLIP's (which every Side4Video encoder reads), or the first VideoMamba's in a model without CLIP."""
        from .modeling_encoders import VideoMambaEncoder

        dear = self._dear_model()
        if dear.backbone is not None:
            return dear.backbone.get_input_embeddings()
        for encoder in dear.encoders.values():
            if isinstance(encoder, VideoMambaEncoder):
                return encoder.videomamba.get_input_embeddings()
        raise NotImplementedError(f"no encoder of {self.config.encoders} has a patch embedding transformers can reach")

    @property
    def depth_estimator(self) -> PreTrainedModel | None:
        """The bundled frozen depth model (None when depth comes from the processor)."""
        on_the_fly = self._dear_model().on_the_fly_depth
        return None if on_the_fly is None else on_the_fly.estimator

    def freeze_backbone(self):
        """Take the CLIP backbone out of training: no gradients, no optimiser state, eval mode."""
        if self.backbone is not None:
            self.backbone.requires_grad_(False)
            self.backbone.eval()

    def freeze_depth_estimator(self):
        """Take the bundled depth model out of training, as the backbone: no gradients, no optimiser state, eval."""
        if self.depth_estimator is not None:
            self.depth_estimator.requires_grad_(False)
            self.depth_estimator.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        if self.backbone is not None:
            # dropout-free CLIP has no train-time behaviour today, but keep it honest for any future backbone
            self.backbone.eval()
        if self.depth_estimator is not None:
            # depth must not change between training and evaluation (DPT has dropout and BatchNorm options)
            self.depth_estimator.eval()
        return self

    def attach_depth_estimator(self, model="Intel/dpt-hybrid-midas", image_processor=None, **from_pretrained_kwargs):
        """Bundle a pretrained depth model, so that this model computes depth itself when `depth_pixel_values`
        is not given, and `save_pretrained` / `from_pretrained` carry it along.

        Args:
            model: a Hub id or local folder for `AutoModelForDepthEstimation`, or a loaded depth model.
            image_processor: the depth model's image processor; loaded from `model` when it is a name or path
                (DPT/MiDaS defaults, 384x384 and mean/std 0.5, when the checkpoint has none). Its size, mean and
                std are stored in `config.depth_estimator_preprocessing`.
            **from_pretrained_kwargs: passed to both `from_pretrained` calls (`revision`, `local_files_only`, ...).

        Returns:
            `self`, with `config.depth_estimator_config` set and the depth model frozen.
        """
        from transformers import AutoImageProcessor

        if not self.config.needs_depth:
            raise ValueError(
                f"this model has no depth encoder (encoders: {self.config.encoders}), so a depth estimator would never run"
            )
        if isinstance(model, (str, os.PathLike)):
            name = os.fspath(model)
            _check_depth_model_source(name)
            estimator = AutoModelForDepthEstimation.from_pretrained(name, **from_pretrained_kwargs)
            if image_processor is None:
                try:
                    image_processor = AutoImageProcessor.from_pretrained(name, **from_pretrained_kwargs)
                except (OSError, ValueError):
                    image_processor = None  # a bare model folder: DPT defaults
        else:
            if not isinstance(model, PreTrainedModel):
                raise TypeError(
                    f"attach_depth_estimator needs a transformers depth model or its name/path, got {type(model).__name__}"
                )
            estimator = model
            name = getattr(estimator.config, "_name_or_path", "") or None
        self.config.depth_estimator_preprocessing = read_depth_preprocessing(image_processor)
        self.config.depth_estimator_config = estimator.config
        self.config.depth_estimator_name_or_path = name
        estimator = estimator.to(device=self.device, dtype=self.dtype)
        self._dear_model().on_the_fly_depth = OnTheFlyDepth(self.config, estimator)
        self.freeze_depth_estimator()
        return self

    def estimate_depth(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """uint8 relative inverse depth (B, T, H, W) of the frames in normalised `pixel_values`, from the bundled
        depth model (see `OnTheFlyDepth`)."""
        dear = self._dear_model()
        dear._require_depth_estimator()
        dear._check_clip("pixel_values", pixel_values)
        return dear.on_the_fly_depth.estimate_depth(pixel_values)

    def depth_pixel_values_from_depth(self, depth: torch.Tensor) -> torch.Tensor:
        """uint8 depth (B, T, H, W) → colour-mapped, normalised `depth_pixel_values` (B, T, 3, H, W), float32,
        as `DearVideoProcessor` makes them (`config.depth_colormap`, then `config.image_mean` / `image_std`)."""
        dear = self._dear_model()
        dear._require_depth_estimator()
        return dear.on_the_fly_depth.depth_pixel_values(depth)

    def load_pretrained_encoders(
        self,
        clip_name_or_path: str | None = None,
        videomamba_name_or_path: str | None = None,
        **from_pretrained_kwargs,
    ) -> dict[str, str]:
        """Load the pretrained frozen backbone (and VideoMamba weights, when given) before training.

        Defaults come from the config (`clip_name_or_path`, `videomamba_name_or_path`). Accepts a
        `CLIPVisionModel` or a full `CLIPModel` checkpoint, by Hub id or local folder. Returns what was loaded.
        """
        from .modeling_encoders import VideoMambaEncoder

        loaded = {}
        backbone_source = clip_name_or_path or self.config.clip_name_or_path
        if self.backbone is not None and backbone_source:
            pretrained = CLIPVisionModel.from_pretrained(backbone_source, **from_pretrained_kwargs)
            own_state = self.backbone.state_dict()
            source_state = pretrained.state_dict()
            mismatched = [
                f"{key}: checkpoint {tuple(source_state[key].shape)} vs model {tuple(value.shape)}"
                for key, value in own_state.items()
                if key in source_state and source_state[key].shape != value.shape
            ]
            missing = sorted(set(own_state) - set(source_state))
            if mismatched or missing:
                raise ValueError(
                    f"backbone checkpoint {backbone_source!r} does not fit this model's clip_config: "
                    + "; ".join(mismatched + [f"missing {key}" for key in missing[:5]])
                )
            self.backbone.load_state_dict(source_state)
            self.freeze_backbone()
            loaded["backbone"] = str(backbone_source)
        videomamba_source = videomamba_name_or_path or self.config.videomamba_name_or_path
        videomambas = [e for e in self._dear_model().encoders.values() if isinstance(e, VideoMambaEncoder)]
        if videomambas and videomamba_source:
            # by name, so that saved folders (which load their own weights) do not carry the conversion module
            conversion = importlib.import_module(".conversion.videomamba", __package__)

            for encoder in videomambas:
                conversion.load_videomamba_checkpoint(encoder.videomamba, videomamba_source)
            loaded["videomamba"] = str(videomamba_source)
        return loaded


class DearModel(DearPreTrainedModel):
    """
    The DEAR encoders and their fusion, without a classification head.

    Inputs are named by modality: `pixel_values` (B, T, 3, H, W), normalised RGB frames as transformers' video models
    take them, `depth_pixel_values` of the same shape (the depth maps of the same frames, colour-mapped to 3 channels
    and normalised; `DearVideoProcessor` makes both) and `<modality>_pixel_values` for any other modality an encoder
    reads. The frozen CLIP backbone is one module, read by every Side4Video encoder; it never receives gradients and
    stays in eval mode. With `config.depth_estimator_config` set (see `attach_depth_estimator`), the checkpoint bundles
    a frozen depth model and `depth_pixel_values` may be left out: the model then computes them from `pixel_values`.
    """

    def __init__(self, config: DearConfig):
        super().__init__(config)
        backbone = CLIPVisionModel(config.clip_config) if config.uses_side4video else None
        self.encoders = nn.ModuleDict({name: build_encoder(config, name) for name in config.encoders})
        # registered after the encoders (built before them, as always): the first checkpointable layer in
        # `modules()` order is then one that trains, which is what transformers' checkpointing tests probe; the
        # frozen CLIP runs without gradients and is never checkpointed
        self.backbone = backbone
        self.fusion = nn.ModuleDict(
            {
                stream: GatedCrossAttentionStream(
                    rgb_hidden_size=self.encoders[RGB_SIDE4VIDEO].hidden_size,
                    depth_hidden_size=self.encoders[stream].hidden_size,
                    hidden_size=config.fusion_hidden_size,
                    num_heads=config.fusion_num_heads,
                    num_layers=config.fusion_num_layers,
                    intermediate_size=config.fusion_intermediate_size,
                    layer_norm_eps=config.layer_norm_eps,
                )
                for stream in config.active_streams
            }
        )
        self.on_the_fly_depth = OnTheFlyDepth(config) if config.estimates_depth else None
        self.post_init()
        self.freeze_backbone()
        self.freeze_depth_estimator()

    @property
    def output_sizes(self) -> dict[str, int]:
        """Width of each pooled output, by logit source."""
        sizes = {stream: fusion.output_size for stream, fusion in self.fusion.items()}
        sizes.update({name: self.encoders[name].hidden_size for name in self.config.unfused_encoders})
        return {name: sizes[name] for name in self.config.logit_sources}

    @property
    def modality_inputs(self) -> tuple[str, ...]:
        """The forward arguments that carry frames, one per modality the encoders read."""
        return tuple(input_name(modality) for modality in self.config.modalities)

    def _require_depth_estimator(self):
        if self.on_the_fly_depth is None:
            raise ValueError(
                "this checkpoint bundles no depth estimator (config.depth_estimator_config is None): pass "
                "`depth_pixel_values` (DearVideoProcessor(videos, depth=...)), or attach one with "
                "model.attach_depth_estimator('Intel/dpt-hybrid-midas')"
            )

    def _check_clip(self, name: str, values: torch.Tensor | None):
        config = self.config
        expected = f"(batch, {config.num_frames}, {config.num_channels}, {config.image_size}, {config.image_size})"
        if values is None:
            raise ValueError(
                f"`{name}` is required by encoders {config.encoders}; expected a tensor of shape {expected}"
            )
        if values.ndim != 5:
            raise ValueError(f"`{name}` must have shape {expected}, got {tuple(values.shape)} ({values.ndim}-D)")
        if not values.is_floating_point():
            raise TypeError(
                f"`{name}` is {values.dtype}, but this model expects floating-point frames normalised with "
                f"config.image_mean/image_std (what DearVideoProcessor returns), not raw {values.dtype} pixels: "
                "pass the video through DearVideoProcessor (or normalise it yourself) first"
            )
        _, frames, channels, height, width = values.shape
        if frames != config.num_frames:
            raise ValueError(f"`{name}` has {frames} frames, this model takes {config.num_frames}: shape {expected}")
        if channels != config.num_channels:
            raise ValueError(f"`{name}` has {channels} channels, expected {config.num_channels}: shape {expected}")
        if (height, width) != (config.image_size, config.image_size):
            raise ValueError(
                f"`{name}` frames are {height}x{width}, this model takes {config.image_size}x{config.image_size}"
            )

    def _modality_inputs(self, pixel_values, depth_pixel_values, kwargs) -> dict[str, torch.Tensor]:
        """Checked frames by modality, with on-the-fly depth filled in; pops the `<modality>_pixel_values` kwargs."""
        config = self.config
        given = {"rgb": pixel_values, "depth": depth_pixel_values}
        for modality in config.modalities:
            if modality not in given:
                given[modality] = kwargs.pop(input_name(modality), None)
        if pixel_values is not None and "rgb" not in config.modalities:
            # depth-only models take RGB for on-the-fly depth; check it all the same
            self._check_clip("pixel_values", pixel_values)
        if "depth" in config.modalities and depth_pixel_values is None and self.on_the_fly_depth is not None:
            self._check_clip("pixel_values", pixel_values)
            given["depth"] = self.on_the_fly_depth(pixel_values)
        if "depth" not in config.modalities and depth_pixel_values is not None:
            raise ValueError(
                f"`depth_pixel_values` was given but this model has no depth encoder (encoders: {config.encoders})"
            )
        inputs = {}
        for modality in config.modalities:
            name = input_name(modality)
            if modality == "depth" and given[modality] is None:
                raise ValueError(
                    f"`depth_pixel_values` is required by encoders {config.encoders}: this checkpoint bundles no depth "
                    "estimator (config.depth_estimator_config is None). Pass depth from DearVideoProcessor(videos, "
                    "depth=...) or attach a depth model with model.attach_depth_estimator('Intel/dpt-hybrid-midas')."
                )
            self._check_clip(name, given[modality])
            inputs[modality] = given[modality]
        batch_sizes = {input_name(m): len(values) for m, values in inputs.items()}
        if len(set(batch_sizes.values())) > 1:
            first, *others = batch_sizes.items()
            raise ValueError(
                f"`{first[0]}` holds {first[1]} clips but "
                + ", ".join(f"`{name}` {size}" for name, size in others)
                + ": give one clip of each modality per RGB clip (the inputs have different batch sizes)"
            )
        return inputs

    def _backbone_outputs(self, pixel_values: torch.Tensor, output_attentions: bool):
        # pixel_values (B, T, 3, H, W) -> per-block hidden states, each (B·T, 1 + N, C), and the attentions on request.
        # no_grad rather than inference_mode: these tensors are saved by the side network's autograd graph. Gradients
        # flow only where something in the frozen CLIP trains (an adapter such as PEFT's LoRA on its projections).
        adapted = torch.is_grad_enabled() and any(p.requires_grad for p in self.backbone.parameters())
        frames = pixel_values.flatten(0, 1)
        if not output_attentions:
            # The per-layer states read layer by layer: CLIP's output_hidden_states goes through transformers'
            # output capturing, whose lock torch.compile cannot trace (fullgraph=True fails on it). Same states:
            # the embedding (after CLIP's pre-LayerNorm), then each layer's output.
            backbone = self.backbone
            with torch.set_grad_enabled(adapted):
                hidden_states = backbone.pre_layrnorm(backbone.embeddings(frames))
                all_hidden_states = [hidden_states]
                for layer in backbone.encoder.layers:
                    hidden_states = layer(hidden_states, None)
                    all_hidden_states.append(hidden_states)
            return tuple(all_hidden_states), ()
        with torch.set_grad_enabled(adapted), _attention_implementation(self.backbone.config, "eager"):
            outputs = self.backbone(pixel_values=frames, output_hidden_states=True, output_attentions=True)
        return outputs.hidden_states, outputs.attentions or ()

    @can_return_tuple
    def forward(
        self,
        pixel_values: torch.Tensor | None = None,
        depth_pixel_values: torch.Tensor | None = None,
        frame_indices: torch.Tensor | None = None,
        num_views: int | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> DearModelOutput:
        r"""
        pixel_values (`torch.FloatTensor` of shape `(batch_size, num_frames, 3, height, width)`):
            Normalised RGB frames. Optional only for models without an RGB encoder and without on-the-fly depth.
        depth_pixel_values (`torch.FloatTensor` of the same shape):
            Colour-mapped, normalised depth of the same frames; required when the config has a depth encoder and
            bundles no depth estimator, else computed from `pixel_values` when left out.
        frame_indices, num_views:
            What `DearVideoProcessor` returns besides the frames (which frames were sampled; views per video in
            "test" mode, contiguous in the batch): accepted so that `model(**processor(...))` works, and unused.
        <modality>_pixel_values (in `kwargs`): the frames of any other modality a registered encoder reads.
        """
        config = self.config
        output_hidden_states = kwargs.pop("output_hidden_states", None)
        output_hidden_states = output_hidden_states if output_hidden_states is not None else config.output_hidden_states
        # transformers' convention: a list of indices keeps only those hidden states (the others come back as None)
        selected_hidden_states = output_hidden_states if isinstance(output_hidden_states, (list, tuple)) else None
        output_hidden_states = bool(output_hidden_states)
        output_attentions = kwargs.pop("output_attentions", None)
        output_attentions = output_attentions if output_attentions is not None else config.output_attentions
        inputs = self._modality_inputs(pixel_values, depth_pixel_values, kwargs)
        check_forward_kwargs(self, kwargs, self.modality_inputs[1:])
        # attention weights exist only on the eager path
        attn_implementation = "eager" if output_attentions else config._attn_implementation

        all_hidden_states, all_attentions = (), ()
        # the frozen CLIP runs once, on the frames of every modality a Side4Video encoder reads stacked along the
        # batch (each clip's outputs are those of a run on it alone)
        backbone_modalities = list(dict.fromkeys(e.modality for e in self.encoders.values() if e.reads_backbone))
        backbone_states = {}
        if backbone_modalities:
            stacked = torch.cat([inputs[modality] for modality in backbone_modalities])
            hidden_states, attentions = self._backbone_outputs(stacked, output_attentions)
            # (M·B·T, 1 + N, C) -> M chunks of (B·T, 1 + N, C)
            per_modality = [h.chunk(len(backbone_modalities)) for h in hidden_states]
            per_modality_attentions = [a.chunk(len(backbone_modalities)) for a in attentions]
            for index, modality in enumerate(backbone_modalities):
                backbone_states[modality] = tuple(chunks[index] for chunks in per_modality)
                all_attentions += tuple(chunks[index] for chunks in per_modality_attentions)

        encoder_outputs = {}
        for name, encoder in self.encoders.items():
            outputs = encoder(
                inputs[encoder.modality],
                backbone_hidden_states=backbone_states.get(encoder.modality) if encoder.reads_backbone else None,
                output_hidden_states=output_hidden_states,
                output_attentions=output_attentions,
                attn_implementation=attn_implementation,
            )
            check_encoder_output(
                name, encoder, outputs, inputs[encoder.modality].shape[0], name in config.unfused_encoders
            )
            encoder_outputs[name] = outputs
            all_hidden_states += tuple(outputs.hidden_states or ())
            all_attentions += tuple(outputs.attentions or ())

        pooled, fused = {}, {}
        for stream, fusion in self.fusion.items():
            pooled[stream], layer_outputs, attentions = fusion(
                encoder_outputs[RGB_SIDE4VIDEO].last_hidden_state,
                encoder_outputs[stream].last_hidden_state,
                attn_implementation,
            )
            fused[stream] = layer_outputs[-2:]
            all_hidden_states += layer_outputs
            all_attentions += attentions
        for name in config.unfused_encoders:
            pooled[name] = encoder_outputs[name].pooler_output
        if selected_hidden_states is not None:
            kept = {index % len(all_hidden_states) for index in selected_hidden_states}
            all_hidden_states = tuple(h if i in kept else None for i, h in enumerate(all_hidden_states))

        return DearModelOutput(
            pooler_output=tuple(pooled[name] for name in config.logit_sources),
            hidden_states=all_hidden_states if output_hidden_states else None,
            attentions=all_attentions if output_attentions else None,
            encoder_hidden_states=(
                {name: outputs.last_hidden_state for name, outputs in encoder_outputs.items()}
                if output_hidden_states
                else None
            ),
            fused_hidden_states=fused if output_hidden_states else None,
        )


def _check_weights_fit_config(cls, folder, kwargs: dict, frozen: dict | None) -> None:
    """Refuse a saved folder whose model.safetensors does not fit its own config.json (an edited config, a weight
    removed), naming the tensors: transformers would refuse it without names, or fill the gaps with random weights
    and only log it. Skipped where the caller changes the config or asked for mismatches to be re-initialised."""
    from safetensors import SafetensorError, safe_open

    weights_file = Path(folder) / "model.safetensors"
    config_file = Path(folder) / "config.json"
    if not weights_file.is_file():
        return
    try:
        with safe_open(str(weights_file), "pt") as handle:
            shapes = {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}
    except (SafetensorError, OSError, ValueError) as error:
        raise OSError(
            f"{weights_file} is cut short or damaged ({error}): copy or download the folder again (a training "
            "checkpoint: resume from an earlier checkpoint-N)"
        ) from None
    if kwargs.get("ignore_mismatched_sizes") or kwargs.get("output_loading_info") or "config" in kwargs:
        return  # the caller re-initialises mismatches, reads transformers' loading report, or changes the config
    saved = json.loads(config_file.read_text(encoding="utf-8"))
    if cls.__name__ not in (saved.get("architectures") or []) or any(
        key in saved or key == "num_labels" for key in kwargs
    ):
        return  # another class's folder (a DearModel's into a classifier: a new head is expected), or overrides
    mapping = kwargs.get("key_mapping") or {}
    for key in list(shapes):
        renamed = key
        for pattern, target in mapping.items():
            renamed, count = re.subn(pattern, target, renamed)
            if count:
                break
        shapes[renamed] = shapes.pop(key)
    config = cls.config_class.from_pretrained(folder)
    with torch.device("meta"):
        expected = {key: tuple(value.shape) for key, value in cls(config).state_dict().items()}
    held_apart = set(frozen or ())
    if cls is DearModel:
        held_apart = {name.removeprefix("dear.") for name in held_apart}
    ignored = [re.compile(pattern) for pattern in (cls._keys_to_ignore_on_load_missing or [])]
    missing = [
        key
        for key in expected
        if key not in shapes and key not in held_apart and not any(pattern.search(key) for pattern in ignored)
    ]
    unexpected = [key for key in shapes if key not in expected]
    mismatched = [
        f"{key} {list(shapes[key])} (config: {list(expected[key])})"
        for key in shapes
        if key in expected and shapes[key] != expected[key]
    ]
    problems = [
        f"{label} {', '.join(items[:4])}{f' and {len(items) - 4} more' if len(items) > 4 else ''}"
        for label, items in (
            ("shaped otherwise:", mismatched),
            ("missing:", missing),
            ("not in the model:", unexpected),
        )
        if items
    ]
    if problems:
        raise ValueError(
            f"{folder}: model.safetensors does not fit its config.json (tensors {'; '.join(problems)}): the config "
            "was edited or the weights damaged; restore the folder as saved, or pass ignore_mismatched_sizes=True "
            "to start the mismatched tensors afresh"
        )


def _check_depth_model_source(name: str) -> None:
    """A missing folder, or a folder of a model that estimates no depth, refused in one line naming it."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_DEPTH_ESTIMATION_MAPPING_NAMES

    check_model_source(name, "attach_depth_estimator: depth model")
    model_type = folder_model_type(name)
    if model_type is not None and model_type not in MODEL_FOR_DEPTH_ESTIMATION_MAPPING_NAMES:
        raise ValueError(
            f"attach_depth_estimator: {name} holds a '{model_type}' model, not a depth estimation model: give the "
            "folder or Hub id of one AutoModelForDepthEstimation loads (DPT, Depth Anything, ...; e.g. "
            "Intel/dpt-hybrid-midas)"
        )


def _carried_model_class(cls, source, config, kwargs) -> type | None:
    """With `trust_remote_code=True`, a folder whose encoders this process has no class for (a user's encoder that
    `save_pretrained` carried into it) loads through the folder's own code, as in a process without this package:
    transformers prefers the package's registered classes to a folder's code, and those cannot build that encoder."""
    from .modeling_encoders import ENCODER_TYPES

    if not kwargs.get("trust_remote_code") or not __name__.startswith("modeling_dear."):
        return None  # not asked to, or already the folder's code
    if not isinstance(source, (str, os.PathLike)):
        return None
    hub_kwargs = {key: kwargs[key] for key in ("revision", "cache_dir", "local_files_only", "token") if key in kwargs}
    if config is None:
        config = cls.config_class.from_pretrained(source, **hub_kwargs)
    if all(config.encoder_spec(name)["type"] in ENCODER_TYPES for name in config.encoders):
        return None
    reference = next(
        (ref for ref in (getattr(config, "auto_map", None) or {}).values() if ref.split(".")[-1] == cls.__name__), None
    )
    if reference is None:
        return None  # nothing carried: building the model raises, naming the encoder type and the fix
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    return get_class_from_dynamic_module(reference, os.fspath(source), **hub_kwargs)


# DearModel's own checkpoints: the classifier's keys without their "dear." prefix
_BASE_KEY_MAPPING = {
    pattern: target.removeprefix("dear.")
    for pattern, target in RELEASE_0_1_KEY_MAPPING.items()
    if target.startswith("dear.")
}


class DearForVideoClassification(DearPreTrainedModel):
    """
    `DearModel` and one linear head per logit source (each fusion stream, or each encoder when nothing is fused);
    the logits are the mean of the heads' logits. Inputs as `DearModel`, plus `labels`.

    With `config.label_sets` (e.g. EPIC-Kitchens' verbs and nouns), one head per logit source per label set
    (`classifiers[<set>][<source>]`), averaged over the sources per set.
    """

    def __init__(self, config: DearConfig):
        super().__init__(config)
        self.dear = DearModel(config)
        sizes = self.dear.output_sizes
        if config.label_sets is None:
            self.classifiers = nn.ModuleDict({name: nn.Linear(size, config.num_labels) for name, size in sizes.items()})
        else:
            self.classifiers = nn.ModuleDict(
                {
                    label_set: nn.ModuleDict({name: nn.Linear(size, len(classes)) for name, size in sizes.items()})
                    for label_set, classes in config.label_sets.items()
                }
            )
        self.post_init()

    @property
    def backbone(self) -> CLIPVisionModel | None:
        """The frozen CLIP vision tower the Side4Video encoders read (None when no encoder reads it)."""
        return self.dear.backbone

    @can_return_tuple
    def forward(
        self,
        pixel_values: torch.Tensor | None = None,
        depth_pixel_values: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        frame_indices: torch.Tensor | None = None,
        num_views: int | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> DearVideoClassifierOutput:
        r"""
        pixel_values, depth_pixel_values, `<modality>_pixel_values`, frame_indices, num_views: as in `DearModel`.
        labels (`torch.LongTensor` of shape `(batch_size,)`, *optional*):
            Class ids in `[0, num_labels)`; gives the cross-entropy loss (with `config.label_smoothing`). With
            `config.label_sets`: a dict of such tensors by label set (`{"verb": ..., "noun": ...}`), or one
            `(batch_size, num_label_sets)` tensor whose columns follow `config.label_sets` (what the collator makes).
        """
        config = self.config
        # Trainer passes it to models with **kwargs; the loss here is a batch mean (accepts_loss_kwargs = False)
        kwargs.pop("num_items_in_batch", None)
        check_forward_kwargs(self, kwargs, self.dear.modality_inputs[1:])
        label_columns = self._label_columns(labels) if labels is not None else None
        outputs = self.dear(pixel_values, depth_pixel_values, return_dict=True, **kwargs)
        heads = self.classifiers if config.label_sets is not None else {"label": self.classifiers}
        per_set_stream_logits = {
            label_set: torch.stack(
                [
                    set_heads[name](pooled)
                    for name, pooled in zip(config.logit_sources, outputs.pooler_output, strict=True)
                ],
                dim=1,
            )  # (B, S, C_set)
            for label_set, set_heads in heads.items()
        }
        per_set_logits = {label_set: value.mean(dim=1) for label_set, value in per_set_stream_logits.items()}
        stream_logits = torch.cat(list(per_set_stream_logits.values()), dim=-1)
        logits = torch.cat(list(per_set_logits.values()), dim=-1)
        if label_columns is not None and len(next(iter(label_columns.values()))) != logits.shape[0]:
            given = len(next(iter(label_columns.values())))
            raise ValueError(f"`labels` has {given} entries for a batch of {logits.shape[0]} clips")

        loss = None
        if label_columns is not None:
            loss = sum(
                config.label_set_loss_weight(label_set)
                * F.cross_entropy(
                    per_set_logits[label_set].float(), label_columns[label_set], label_smoothing=config.label_smoothing
                )
                for label_set in per_set_logits
            )
        return DearVideoClassifierOutput(
            loss=loss,
            logits=logits,
            stream_logits=stream_logits,
            label_set_logits=per_set_logits if config.label_sets is not None else None,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            encoder_hidden_states=outputs.encoder_hidden_states,
            fused_hidden_states=outputs.fused_hidden_states,
        )

    def _label_columns(self, labels) -> dict[str, torch.Tensor]:
        """`labels` as {label set: (B,) class ids}, checked against each set's classes."""
        sizes = self.config.label_set_sizes
        names = list(sizes)
        if isinstance(labels, dict):
            if sorted(labels) != sorted(names):
                raise ValueError(f"`labels` names the label sets {sorted(labels)}, this model has {names}")
            columns = {name: labels[name] for name in names}
        elif self.config.label_sets is None:
            columns = {"label": labels}
        else:
            if labels.ndim != 2 or labels.shape[1] != len(names):
                raise ValueError(
                    f"`labels` must be a dict {{set: (batch,) ids}} or a (batch, {len(names)}) tensor whose columns are "
                    f"the label sets {names}, got shape {tuple(labels.shape)}"
                )
            columns = {name: labels[:, index] for index, name in enumerate(names)}
        for name, values in columns.items():
            what = "`labels`" if self.config.label_sets is None else f"`labels` of label set {name!r}"
            # (the value check reads the labels, which a compiled graph cannot branch on: cross-entropy refuses them there)
            bad_shape = values.ndim != 1 or values.numel() == 0
            compiling = torch.compiler.is_compiling()
            if bad_shape or (not compiling and bool(values.min() < 0 or values.max() >= sizes[name])):
                low, high = (values.min().item(), values.max().item()) if values.numel() else (None, None)
                raise ValueError(
                    f"{what} must be a 1-D tensor of class ids in [0, {sizes[name]}), got shape "
                    f"{tuple(values.shape)} with values in [{low}, {high}]"
                )
        if len({len(values) for values in columns.values()}) > 1:
            raise ValueError(
                f"the label sets' `labels` have different lengths: { {k: len(v) for k, v in columns.items()} }"
            )
        return {name: values.long() for name, values in columns.items()}


__all__ = [
    "DearPreTrainedModel",
    "DearModel",
    "DearForVideoClassification",
    "DearModelOutput",
    "DearVideoClassifierOutput",
    "OnTheFlyDepth",
]
