"""DEAR's encoders behind one interface, and the registry that builds them from the config.

An encoder reads the frames of one modality (`rgb`, `depth`, or any other name: the model takes them as
`pixel_values`, `depth_pixel_values`, `<modality>_pixel_values`), has a `hidden_size`, and returns a
`DearEncoderOutput`: its final tokens (B, L, hidden_size) and a pooled vector (B, hidden_size), which is what its
own head classifies when nothing is fused. Encoders that set `reads_backbone = True` also receive the per-layer
hidden states of the one frozen CLIP backbone that `DearModel` owns and runs (Side4Video).

`config.encoders` names the encoders; `config.encoder_spec(name)` says which registered type builds each one and
for which modality. A new encoder type is a `DearEncoder` subclass registered with `@register_encoder("type")`;
see README, "Adding an encoder".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers.utils import ModelOutput

from .modeling_side4video import Side4VideoSideNetwork
from .modeling_videomamba import VideoMambaModel

ENCODER_TYPES: dict[str, type[DearEncoder]] = {}


def register_encoder(encoder_type: str):
    """Class decorator: `DearConfig` encoder specs with `"type": encoder_type` build this class."""

    def register(cls):
        if not (isinstance(cls, type) and issubclass(cls, DearEncoder)):
            raise TypeError(f"register_encoder({encoder_type!r}) needs a DearEncoder subclass, got {cls!r}")
        ENCODER_TYPES[encoder_type] = cls
        cls.encoder_type = encoder_type
        return cls

    return register


def build_encoder(config, name: str) -> DearEncoder:
    """The encoder `config.encoders` calls `name`, built by the class registered for its spec's type."""
    spec = dict(config.encoder_spec(name))
    encoder_type = spec.pop("type")
    if encoder_type not in ENCODER_TYPES:
        raise ValueError(
            f"encoder {name!r} has type {encoder_type!r}, which no class is registered for (registered: "
            f"{sorted(ENCODER_TYPES)}); register one with @register_encoder({encoder_type!r}) before building the model"
        )
    encoder = ENCODER_TYPES[encoder_type](config, **spec)
    if encoder.modality != spec["modality"] or not isinstance(encoder.hidden_size, int):
        raise TypeError(f"encoder class {type(encoder).__name__} must set .modality and an int .hidden_size")
    return encoder


@dataclass
class DearEncoderOutput(ModelOutput):
    """
    last_hidden_state (B, L, hidden_size): the encoder's final tokens.
    pooler_output (B, hidden_size): what its own head classifies.
    hidden_states: on request, the tokens after the embedding and after each layer.
    attentions: on request, the attention weights of each layer (B, heads, Q, K), where the encoder has attention.
    """

    last_hidden_state: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class DearEncoder(nn.Module):
    """The interface every DEAR encoder implements.

    Subclasses take `(config, modality, **options)` (the options are the extra keys of the encoder's spec in
    `config.encoder_configs`), set `self.modality` and `self.hidden_size`, and implement `forward` below.
    """

    encoder_type: str = ""
    # True: forward also gets `backbone_hidden_states`, the frozen CLIP's per-layer outputs for the same frames
    reads_backbone: bool = False
    modality: str
    hidden_size: int

    def forward(
        self,
        pixel_values: torch.Tensor,
        backbone_hidden_states: tuple[torch.Tensor, ...] | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
        attn_implementation: str | None = "sdpa",
    ) -> DearEncoderOutput:
        raise NotImplementedError


@register_encoder("side4video")
class Side4VideoEncoder(Side4VideoSideNetwork, DearEncoder):
    """A Side4Video side network over the shared frozen CLIP: tokens (B, T·N, D), pooled = their mean."""

    reads_backbone = True

    def __init__(self, config, modality: str):
        clip_config = config.clip_config
        super().__init__(
            backbone_hidden_size=clip_config.hidden_size,
            num_backbone_layers=clip_config.num_hidden_layers,
            hidden_size=config.side_hidden_size,
            num_heads=config.side_hidden_size // config.side_head_dim,
            patch_size=clip_config.patch_size,
            num_patches=(config.image_size // clip_config.patch_size) ** 2,
            num_channels=config.num_channels,
            layer_norm_eps=config.layer_norm_eps,
            selective_recompute=config.side_selective_recompute,
        )
        self.modality = modality

    def forward(
        self,
        pixel_values,
        backbone_hidden_states=None,
        output_hidden_states=False,
        output_attentions=False,
        attn_implementation="sdpa",
    ) -> DearEncoderOutput:
        if backbone_hidden_states is None:
            raise ValueError("a Side4Video encoder needs the frozen backbone's hidden states (backbone_hidden_states)")
        batch_size = pixel_values.shape[0]
        tokens, hidden_states, attentions = super().forward(
            pixel_values, backbone_hidden_states, output_hidden_states, attn_implementation
        )
        tokens = tokens.reshape(batch_size, -1, tokens.shape[-1])  # (B·T, N, D) -> (B, T·N, D)
        return DearEncoderOutput(
            last_hidden_state=tokens,
            pooler_output=tokens.mean(dim=1),  # S4V classifies the mean of all its tokens
            hidden_states=hidden_states,
            attentions=attentions if output_attentions else None,
        )


@register_encoder("videomamba")
class VideoMambaEncoder(DearEncoder):
    """A VideoMamba (no attention): tokens (B, 1 + T·N, d), pooled = the final CLS token."""

    def __init__(self, config, modality: str):
        super().__init__()
        self.modality = modality
        self.hidden_size = config.videomamba_config.hidden_size
        self.videomamba = VideoMambaModel(config.videomamba_config)

    def forward(
        self,
        pixel_values,
        backbone_hidden_states=None,
        output_hidden_states=False,
        output_attentions=False,
        attn_implementation="sdpa",
    ) -> DearEncoderOutput:
        outputs = self.videomamba(pixel_values, output_hidden_states=output_hidden_states, return_dict=True)
        return DearEncoderOutput(
            last_hidden_state=outputs.last_hidden_state,
            pooler_output=outputs.pooler_output,
            hidden_states=outputs.hidden_states,
        )


__all__ = ["DearEncoder", "DearEncoderOutput", "ENCODER_TYPES", "register_encoder", "build_encoder"]
