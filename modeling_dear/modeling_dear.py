"""DEAR: Side4Video (RGB), Side4Video (depth) and VideoMamba (depth) fused by gated cross-attention."""

from __future__ import annotations

import functools
import importlib
import math
import os
import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint
from transformers import AutoModelForDepthEstimation, CLIPVisionModel, PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from .configuration_dear import DEPTH_SIDE4VIDEO, DEPTH_VIDEOMAMBA, RGB_SIDE4VIDEO, DearConfig
from .depth_estimation import normalize_depth_tensor, prepare_depth_input, read_depth_preprocessing, resize_prediction
from .frozen_weights import apply_frozen_weights, read_frozen_weights
from .model_sources import check_model_type, folder_model_type
from .modeling_fusion import GatedCrossAttentionBlock, GatedCrossAttentionStream
from .modeling_side4video import Side4VideoSideNetwork
from .modeling_videomamba import VideoMambaModel
from .video_transforms import colormap_lut


@dataclass
class DearVideoClassifierOutput(ModelOutput):
    """
    loss: cross-entropy of `logits` (with the config's label smoothing) when labels are given.
    logits (B, C): the mean of `stream_logits` over its second axis.
    stream_logits (B, S, C): the logits of each stream (or of each encoder's own head when nothing is fused),
        in the order of `config.logit_sources`.
    encoder_hidden_states: on request, each encoder's final tokens: `rgb_side4video` / `depth_side4video`
        (B, T·N, D) and `depth_videomamba` (B, 1 + T·N, d).
    fused_hidden_states: on request, for each stream, the (RGB-side, depth-side) tokens after the cross-attention.
    """

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    stream_logits: torch.FloatTensor | None = None
    encoder_hidden_states: dict[str, torch.FloatTensor] | None = None
    fused_hidden_states: dict[str, tuple[torch.FloatTensor, torch.FloatTensor]] | None = None


class DearPreTrainedModel(PreTrainedModel):
    config_class = DearConfig
    config: DearConfig
    base_model_prefix = "dear"
    main_input_name = "pixel_values"
    input_modalities = ("video",)
    supports_gradient_checkpointing = True
    # The loss is a mean over the videos of the batch and never takes `num_items_in_batch`. Without this, the
    # `**kwargs` of `forward` make the Trainer believe the model normalises by the item count of the whole step,
    # so it skips its own division by gradient-accumulation steps and multiplies by the process count: losses and
    # gradients came out processes x accumulation steps too large.
    accepts_loss_kwargs = False
    _no_split_modules = ["Side4VideoBlock", "VideoMambaBlock", "CLIPEncoderLayer", "GatedCrossAttentionLayer"]

    @torch.no_grad()
    def _init_weights(self, module):
        """The released Side4Video initialisation (ARCHITECTURE.md §2); PyTorch defaults elsewhere."""
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


class DearForVideoClassification(DearPreTrainedModel):
    """
    Video classifier over RGB clips and their estimated depth.

    Inputs are `pixel_values` (B, T, 3, H, W), normalised RGB frames as transformers' video models take them,
    and `depth_pixel_values` of the same shape: the depth maps of the same frames, colour-mapped to 3 channels
    and normalised (`DearVideoProcessor` makes both). The frozen CLIP backbone is one module, read by every
    Side4Video encoder; it never receives gradients and stays in eval mode.

    With `config.depth_estimator_config` set (see `attach_depth_estimator`), the checkpoint bundles a frozen depth
    model and `depth_pixel_values` may be left out: the model then estimates depth from `pixel_values` exactly
    as `DepthEstimator` + `DearVideoProcessor` would for the same frames (see `estimate_depth`).
    """

    def __init__(self, config: DearConfig):
        super().__init__(config)
        clip_config = config.clip_config
        self.num_patches = (config.image_size // clip_config.patch_size) ** 2

        self.backbone = CLIPVisionModel(clip_config) if config.uses_side4video else None
        self.rgb_encoder = self._side_network() if RGB_SIDE4VIDEO in config.encoders else None
        self.depth_encoder = self._side_network() if DEPTH_SIDE4VIDEO in config.encoders else None
        self.videomamba_encoder = (
            VideoMambaModel(config.videomamba_config) if DEPTH_VIDEOMAMBA in config.encoders else None
        )

        encoder_widths = {
            RGB_SIDE4VIDEO: config.side_hidden_size,
            DEPTH_SIDE4VIDEO: config.side_hidden_size,
            DEPTH_VIDEOMAMBA: config.videomamba_config.hidden_size,
        }
        self.fusion = nn.ModuleDict(
            {
                stream: GatedCrossAttentionStream(
                    rgb_hidden_size=config.side_hidden_size,
                    depth_hidden_size=encoder_widths[stream],
                    hidden_size=config.fusion_hidden_size,
                    num_heads=config.fusion_num_heads,
                    num_layers=config.fusion_num_layers,
                    intermediate_size=config.fusion_intermediate_size,
                    num_labels=config.num_labels,
                    layer_norm_eps=config.layer_norm_eps,
                )
                for stream in config.active_streams
            }
        )
        self.heads = nn.ModuleDict(
            {name: nn.Linear(encoder_widths[name], config.num_labels) for name in config.unfused_encoders}
        )
        self.depth_estimator = (
            AutoModelForDepthEstimation.from_config(config.depth_estimator_config) if config.estimates_depth else None
        )
        self.post_init()
        self.freeze_backbone()
        self.freeze_depth_estimator()
        self.set_encoder_checkpointing(config.encoder_checkpointing)

    def set_encoder_checkpointing(self, enabled: bool = True):
        """Re-run every Side4Video and VideoMamba block in backward (training only) instead of keeping its activations.

        The blocks' own `gradient_checkpointing` flags, as transformers' `gradient_checkpointing_enable` sets them,
        but for the trainable encoders alone: the frozen CLIP runs without gradients, and the fusion keeps little.
        Non-reentrant checkpointing replays the RNG (drop-path), and the side networks' BatchNorms update their
        running statistics once per step, so loss and gradients are those of the plain forward.
        """
        blocks = []
        for side_network in (self.rgb_encoder, self.depth_encoder):
            if side_network is not None:
                blocks.extend(side_network.blocks)
        if self.videomamba_encoder is not None:
            blocks.extend(self.videomamba_encoder.layers)
        for block in blocks:
            block.gradient_checkpointing = bool(enabled)
            block._gradient_checkpointing_func = functools.partial(checkpoint, use_reentrant=False)
        self.config.encoder_checkpointing = bool(enabled)
        return self

    def _side_network(self) -> Side4VideoSideNetwork:
        config = self.config
        return Side4VideoSideNetwork(
            backbone_hidden_size=config.clip_config.hidden_size,
            num_backbone_layers=config.clip_config.num_hidden_layers,
            hidden_size=config.side_hidden_size,
            num_heads=config.side_hidden_size // config.side_head_dim,
            patch_size=config.clip_config.patch_size,
            num_patches=self.num_patches,
            num_channels=config.num_channels,
            layer_norm_eps=config.layer_norm_eps,
            selective_recompute=config.side_selective_recompute,
        )

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        source = args[0] if args else kwargs.get("pretrained_model_name_or_path")
        # a folder of another model type (VideoMAE, DPT) would otherwise load as a random DEAR, with a warning only
        config = kwargs.get("config")
        check_model_type(getattr(config, "model_type", None), "the config passed to from_pretrained")
        is_folder = isinstance(source, (str, os.PathLike)) and os.path.isdir(source)
        if is_folder:
            check_model_type(folder_model_type(source), source)
        # a training checkpoint (checkpoint-N/) holds no frozen weights, only a pointer to the run's copy: they are
        # restored below, so the load report must not list them as missing (others still are)
        frozen = read_frozen_weights(source) if is_folder else None
        if frozen is None:
            loaded = super().from_pretrained(*args, **kwargs)
        else:
            ignored = cls._keys_to_ignore_on_load_missing
            cls._keys_to_ignore_on_load_missing = [rf"^{re.escape(name)}$" for name in frozen]
            try:
                loaded = super().from_pretrained(*args, **kwargs)
            finally:
                cls._keys_to_ignore_on_load_missing = ignored
        model = loaded[0] if isinstance(loaded, tuple) else loaded
        if frozen is not None:
            apply_frozen_weights(model, frozen, os.fspath(source))
        # loading swaps in new Parameter objects, which come back trainable: freeze the backbone again
        model.freeze_backbone()
        model.freeze_depth_estimator()
        return loaded

    def save_pretrained(self, save_directory, *args, **kwargs):
        super().save_pretrained(save_directory, *args, **kwargs)
        if self._auto_class is not None and kwargs.get("is_main_process", True):
            # config.custom_pipelines names pipeline_dear.DearVideoClassificationPipeline: the folder must hold
            # that file (and what it imports) for pipeline(..., trust_remote_code=True) to find it. The relative
            # import below also puts it among this file's dependencies, so it is already copied (and uploaded
            # with push_to_hub) by super().save_pretrained; the explicit copy does not depend on that.
            from transformers.dynamic_module_utils import custom_object_save

            from .pipeline_dear import DearVideoClassificationPipeline

            custom_object_save(DearVideoClassificationPipeline, save_directory)

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
        self.depth_estimator = estimator.to(device=self.device, dtype=self.dtype)
        self.freeze_depth_estimator()
        return self

    def estimate_depth(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """uint8 relative inverse depth (B, T, H, W) of the frames in normalised `pixel_values` (B, T, 3, H, W),
        from the bundled depth model, min-max normalised per clip (or per frame, `config.depth_normalization`).

        The frames are recovered exactly: the processor builds `pixel_values` from uint8 frames, and rounding
        the un-normalised values gives those integers back. From there the steps are `DepthEstimator`'s (same
        resize, rescale and normalisation for the depth model, same resize back and uint8 quantisation), so the
        result equals `DepthEstimator(frames)` for the same frames.
        """
        config = self.config
        if self.depth_estimator is None:
            raise ValueError(
                "this checkpoint bundles no depth estimator (config.depth_estimator_config is None): pass "
                "`depth_pixel_values` (DearVideoProcessor(videos, depth=...)), or attach one with "
                "model.attach_depth_estimator('Intel/dpt-hybrid-midas')"
            )
        self._check_clip("pixel_values", pixel_values)
        batch_size, num_frames, _, height, width = pixel_values.shape
        # the processor's float32 arithmetic (normalize_clip), so that values round back to the same integers
        shift = torch.tensor(config.image_mean, dtype=torch.float32, device=pixel_values.device) * 255.0
        scale = torch.tensor(config.image_std, dtype=torch.float32, device=pixel_values.device) * 255.0
        frames = pixel_values.detach().float().flatten(0, 1) * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)
        frames = frames.round_().clamp_(0, 255)
        model_dtype = next(self.depth_estimator.parameters()).dtype
        predictions = []
        with torch.no_grad():
            for chunk in frames.split(config.depth_estimator_batch_size):
                inputs = prepare_depth_input(chunk, config.depth_estimator_preprocessing).to(model_dtype)
                predicted = self.depth_estimator(pixel_values=inputs).predicted_depth
                predictions.append(resize_prediction(predicted, (height, width)))
        predicted = torch.cat(predictions).view(batch_size, num_frames, height, width)
        return torch.stack([normalize_depth_tensor(clip, config.depth_normalization) for clip in predicted])

    def depth_pixel_values_from_depth(self, depth: torch.Tensor) -> torch.Tensor:
        """uint8 depth (B, T, H, W) → colour-mapped, normalised `depth_pixel_values` (B, T, 3, H, W), float32,
        as `DearVideoProcessor` makes them (`config.depth_colormap`, then `config.image_mean` / `image_std`)."""
        config = self.config
        lut = torch.from_numpy(colormap_lut(config.depth_colormap).copy()).to(depth.device)
        colored = lut[depth.long()].float()  # (B, T, H, W, 3)
        shift = torch.tensor(config.image_mean, dtype=torch.float32, device=depth.device) * 255.0
        scale = torch.tensor(config.image_std, dtype=torch.float32, device=depth.device) * 255.0
        return ((colored - shift) / scale).permute(0, 1, 4, 2, 3).contiguous()

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
        if self.videomamba_encoder is not None and videomamba_source:
            # by name, so that saved folders (which load their own weights) do not carry the conversion module
            load_videomamba_checkpoint = importlib.import_module(".convert_videomamba", __package__).load_videomamba_checkpoint

            load_videomamba_checkpoint(self.videomamba_encoder, videomamba_source)
            loaded["videomamba"] = str(videomamba_source)
        return loaded

    def _check_clip(self, name: str, values: torch.Tensor | None):
        config = self.config
        expected = f"(batch, {config.num_frames}, {config.num_channels}, {config.image_size}, {config.image_size})"
        if values is None:
            raise ValueError(f"`{name}` is required by encoders {config.encoders}; expected a tensor of shape {expected}")
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

    def _backbone_hidden_states(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, ...]:
        # pixel_values (B, T, 3, H, W) -> per-block hidden states, each (B·T, 1 + N, C)
        # no_grad rather than inference_mode: these tensors are saved by the side network's autograd graph
        with torch.no_grad():
            outputs = self.backbone(pixel_values=pixel_values.flatten(0, 1), output_hidden_states=True)
        return outputs.hidden_states

    def forward(
        self,
        pixel_values: torch.Tensor | None = None,
        depth_pixel_values: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> DearVideoClassifierOutput | tuple:
        r"""
        pixel_values (`torch.FloatTensor` of shape `(batch_size, num_frames, 3, height, width)`):
            Normalised RGB frames. Optional only for depth-only models.
        depth_pixel_values (`torch.FloatTensor` of the same shape):
            Colour-mapped, normalised depth of the same frames; required when the config has a depth encoder and
            bundles no depth estimator, else computed from `pixel_values` when left out.
        labels (`torch.LongTensor` of shape `(batch_size,)`, *optional*):
            Class ids in `[0, num_labels)`; gives the cross-entropy loss (with `config.label_smoothing`).
        """
        config = self.config
        output_hidden_states = output_hidden_states if output_hidden_states is not None else config.output_hidden_states
        return_dict = return_dict if return_dict is not None else config.return_dict

        if config.needs_rgb:
            self._check_clip("pixel_values", pixel_values)
        elif pixel_values is not None:
            self._check_clip("pixel_values", pixel_values)
        if config.needs_depth and depth_pixel_values is None and self.depth_estimator is not None:
            depth_pixel_values = self.depth_pixel_values_from_depth(self.estimate_depth(pixel_values))
            depth_pixel_values = depth_pixel_values.to(pixel_values.dtype)
        if config.needs_depth:
            if depth_pixel_values is None:
                raise ValueError(
                    f"`depth_pixel_values` is required by encoders {config.encoders}: this checkpoint bundles no depth "
                    "estimator (config.depth_estimator_config is None). Pass depth from DearVideoProcessor(videos, "
                    "depth=...) or attach a depth model with model.attach_depth_estimator('Intel/dpt-hybrid-midas')."
                )
            self._check_clip("depth_pixel_values", depth_pixel_values)
        elif depth_pixel_values is not None:
            raise ValueError(
                f"`depth_pixel_values` was given but this model has no depth encoder (encoders: {config.encoders})"
            )
        if pixel_values is not None and depth_pixel_values is not None and len(pixel_values) != len(depth_pixel_values):
            raise ValueError(
                f"`pixel_values` holds {len(pixel_values)} clips but `depth_pixel_values` {len(depth_pixel_values)}: "
                "give one depth clip per RGB clip"
            )
        if labels is not None and (labels.ndim != 1 or labels.min() < 0 or labels.max() >= config.num_labels):
            raise ValueError(
                f"`labels` must be a 1-D tensor of class ids in [0, {config.num_labels}), got shape "
                f"{tuple(labels.shape)} with values in [{labels.min().item()}, {labels.max().item()}]"
            )

        encoder_tokens = {}
        if self.rgb_encoder is not None:
            encoder_tokens[RGB_SIDE4VIDEO] = self._side4video_tokens(self.rgb_encoder, pixel_values)
        if self.depth_encoder is not None:
            encoder_tokens[DEPTH_SIDE4VIDEO] = self._side4video_tokens(self.depth_encoder, depth_pixel_values)
        pooled_videomamba = None
        if self.videomamba_encoder is not None:
            videomamba_outputs = self.videomamba_encoder(depth_pixel_values)
            encoder_tokens[DEPTH_VIDEOMAMBA] = videomamba_outputs.last_hidden_state  # (B, 1 + T·N, d)
            pooled_videomamba = videomamba_outputs.pooler_output  # (B, d): the CLS token

        all_logits, fused = [], {}
        for stream, fusion in self.fusion.items():
            stream_logits, rgb_tokens, depth_tokens = fusion(encoder_tokens[RGB_SIDE4VIDEO], encoder_tokens[stream])
            all_logits.append(stream_logits)
            fused[stream] = (rgb_tokens, depth_tokens)
        for name, head in self.heads.items():
            # S4V classifies the mean of all its tokens, VideoMamba its CLS token
            pooled = pooled_videomamba if name == DEPTH_VIDEOMAMBA else encoder_tokens[name].mean(dim=1)
            all_logits.append(head(pooled))
        stream_logits = torch.stack(all_logits, dim=1)  # (B, S, C)
        logits = stream_logits.mean(dim=1)

        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.float(), labels, label_smoothing=config.label_smoothing)

        if not return_dict:
            output = (logits, stream_logits)
            return ((loss,) + output) if loss is not None else output
        return DearVideoClassifierOutput(
            loss=loss,
            logits=logits,
            stream_logits=stream_logits,
            encoder_hidden_states=encoder_tokens if output_hidden_states else None,
            fused_hidden_states=fused if output_hidden_states else None,
        )

    def _side4video_tokens(self, side_network: Side4VideoSideNetwork, pixel_values: torch.Tensor) -> torch.Tensor:
        # (B, T, 3, H, W) -> (B, T·N, D)
        batch_size = pixel_values.shape[0]
        backbone_hidden_states = self._backbone_hidden_states(pixel_values)
        tokens, _ = side_network(pixel_values, backbone_hidden_states)
        return tokens.reshape(batch_size, -1, tokens.shape[-1])


__all__ = ["DearPreTrainedModel", "DearForVideoClassification", "DearVideoClassifierOutput"]
