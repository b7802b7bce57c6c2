# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Side4Video: a trainable side network reading a frozen CLIP ViT (docs/architecture.md §2).

The frozen backbone (transformers' `CLIPVisionModel`) is owned by `DearForVideoClassification` and run
once per input; this module only holds the trainable part and consumes the backbone's per-block hidden
states. Both the RGB and the depth encoder are instances of `Side4VideoSideNetwork` over the same
backbone module.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint
from transformers.modeling_layers import GradientCheckpointingLayer

from .modeling_attention import multi_head_attention


class _RunningStatisticsOnce:
    """Mixin for BatchNorm classes: running statistics move once per training step, even when the forward is re-run.

    Activation recomputation (gradient checkpointing, or the selective recomputation of the side blocks)
    runs the forward a second time inside backward; a plain BatchNorm would then apply its running-average
    update twice. The re-run computes exactly what the first pass did, but its update lands in throw-away
    copies of the buffers (the op itself, and what it saves for backward, stay as they were, which
    non-reentrant checkpointing checks).
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        # a compiled graph never re-runs the Python forward in backward (torch.compile plans the recomputation)
        if torch.compiler.is_compiling() or not (
            self.training and self.track_running_stats and torch._C._current_graph_task_id() != -1
        ):
            return super().forward(input)
        kept = {name: getattr(self, name) for name in ("running_mean", "running_var", "num_batches_tracked")}
        for name, buffer in kept.items():
            setattr(self, name, buffer.clone())
        try:
            return super().forward(input)
        finally:
            for name, buffer in kept.items():
                setattr(self, name, buffer)


class RecomputeSafeBatchNorm3d(_RunningStatisticsOnce, nn.BatchNorm3d):
    """BatchNorm3d that updates its running statistics once per step under activation recomputation."""


class RecomputeSafeSyncBatchNorm(_RunningStatisticsOnce, nn.SyncBatchNorm):
    """SyncBatchNorm with the same guarantee, for multi-GPU training (see `convert_to_sync_batchnorm`)."""


def convert_to_sync_batchnorm(model: nn.Module) -> nn.Module:
    """`nn.SyncBatchNorm.convert_sync_batchnorm`, keeping the once-per-step running statistics of the side networks."""
    model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    for module in model.modules():
        if type(module) is nn.SyncBatchNorm:
            module.__class__ = RecomputeSafeSyncBatchNorm  # adds behaviour only, no state
    return model


def tokens_to_volume(tokens: torch.Tensor, batch_size: int, num_frames: int, grid_size: int) -> torch.Tensor:
    # (B·T, N, D) -> (B, D, T, h, w): the layout of the 3-D convolutions and BatchNorm3d
    channels = tokens.shape[-1]
    volume = tokens.reshape(batch_size, num_frames, grid_size, grid_size, channels)
    return volume.permute(0, 4, 1, 2, 3)


def volume_to_tokens(volume: torch.Tensor) -> torch.Tensor:
    # (B, D, T, h, w) -> (B·T, N, D)
    batch_size, channels, num_frames = volume.shape[:3]
    return volume.permute(0, 2, 3, 4, 1).reshape(batch_size * num_frames, -1, channels)


def shift_cls_tokens(cls_tokens: torch.Tensor, batch_size: int, num_frames: int) -> torch.Tensor:
    """Exchange half of the CLS channels with the neighbouring frames (zeros past the clip ends).

    cls_tokens: (B·T, 1, D). Channels [0, D/2) take frame t+1's values, channels [D/2, D) frame t−1's.
    """
    channels = cls_tokens.shape[-1]
    half = channels // 2
    cls_tokens = cls_tokens.reshape(batch_size, num_frames, channels)
    shifted = torch.zeros_like(cls_tokens)
    shifted[:, :-1, :half] = cls_tokens[:, 1:, :half]
    shifted[:, 1:, half:] = cls_tokens[:, :-1, half:]
    return shifted.reshape(batch_size * num_frames, 1, channels)


class Side4VideoAttention(nn.Module):
    """Multi-head attention with one packed in-projection (rows q | k | v), as the released weights store it."""

    def __init__(self, hidden_size: int, num_heads: int):
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"side width {hidden_size} is not divisible by the number of side heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.in_proj_weight = nn.Parameter(torch.randn(3 * hidden_size, hidden_size) * hidden_size**-0.5)
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * hidden_size))
        self.out_proj = nn.Linear(hidden_size, hidden_size)

    def forward(
        self, queries: torch.Tensor, keys_values: torch.Tensor, attn_implementation: str | None = "sdpa"
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        # queries (B', Q, D); keys_values (B', K, D) -> (B', Q, D) and, with "eager", the weights (B', heads, Q, K)
        hidden_size = queries.shape[-1]
        w_q, w_kv = self.in_proj_weight.split([hidden_size, 2 * hidden_size])
        b_q, b_kv = self.in_proj_bias.split([hidden_size, 2 * hidden_size])
        q = F.linear(queries, w_q, b_q)
        k, v = F.linear(keys_values, w_kv, b_kv).chunk(2, dim=-1)
        q, k, v = (x.unflatten(-1, (self.num_heads, self.head_dim)).transpose(1, 2) for x in (q, k, v))
        attended, weights = multi_head_attention(self, q, k, v, attn_implementation)  # (B', Q, heads, head_dim)
        return self.out_proj(attended.flatten(2)), weights


class Side4VideoMLP(nn.Module):
    def __init__(self, hidden_size: int, intermediate_size: int):
        super().__init__()
        self.fc1 = nn.Linear(hidden_size, intermediate_size)
        self.fc2 = nn.Linear(intermediate_size, hidden_size)

    def forward(self, hidden_states: torch.Tensor, recompute_activation: bool = False) -> torch.Tensor:
        hidden_states = self.fc1(hidden_states)  # (..., 4D)
        if recompute_activation:
            # keep only fc1's output for backward and re-run GELU + fc2 there: drops one (..., 4D) tensor per block
            return checkpoint(self._activation_and_fc2, hidden_states, use_reentrant=False)
        return self._activation_and_fc2(hidden_states)

    def _activation_and_fc2(self, hidden_states: torch.Tensor) -> torch.Tensor:
        # exact GELU here, although the CLIP backbone uses QuickGELU: this is what the side network was trained with
        return self.fc2(F.gelu(hidden_states))


class Side4VideoBlock(GradientCheckpointingLayer):
    """One side block: temporal depthwise conv, CLS shift + spatial attention, MLP (three residual sub-layers)."""

    def __init__(self, hidden_size: int, num_heads: int, mlp_ratio: int = 4, selective_recompute: bool = True):
        super().__init__()
        self.selective_recompute = selective_recompute
        self.temporal_norm = RecomputeSafeBatchNorm3d(hidden_size)
        # pointwise -> depthwise over time only -> pointwise, no activation in between
        self.temporal_conv = nn.Sequential(
            nn.Conv3d(hidden_size, hidden_size, kernel_size=1),
            nn.Conv3d(hidden_size, hidden_size, kernel_size=(3, 1, 1), padding=(1, 0, 0), groups=hidden_size),
            nn.Conv3d(hidden_size, hidden_size, kernel_size=1),
        )
        self.attention_norm = nn.LayerNorm(hidden_size)
        self.attention = Side4VideoAttention(hidden_size, num_heads)
        self.mlp_norm = RecomputeSafeBatchNorm3d(hidden_size)
        self.mlp = Side4VideoMLP(hidden_size, mlp_ratio * hidden_size)

    def forward(
        self,
        hidden_states: torch.Tensor,
        cls_tokens: torch.Tensor,
        position_embedding: torch.Tensor,
        num_frames: int,
        attn_implementation: str | None = "sdpa",
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        # hidden_states (B·T, N, D) side tokens; cls_tokens (B·T, 1, D) the projected backbone CLS of this layer;
        # position_embedding (N, D) shared by all blocks
        batch_size = hidden_states.shape[0] // num_frames
        grid_size = int(round(hidden_states.shape[1] ** 0.5))
        # Selective recomputation: the temporal branch (a norm and three linear convolutions) and GELU + fc2 are
        # cheap to re-run in backward compared with the activations they would keep (4 of the ~14 (B·T, N, ≥D)
        # tensors per block). Pointless when the whole block is already checkpointed.
        recompute = (
            self.selective_recompute and self.training and torch.is_grad_enabled() and not self.gradient_checkpointing
        )

        volume = tokens_to_volume(hidden_states, batch_size, num_frames, grid_size)
        if recompute:
            temporal = checkpoint(self._temporal_branch, volume, use_reentrant=False)
        else:
            temporal = self._temporal_branch(volume)
        hidden_states = hidden_states + volume_to_tokens(temporal)

        cls_tokens = shift_cls_tokens(cls_tokens, batch_size, num_frames)
        # the positional embedding steers the attention but is not added to the residual stream
        tokens = self.attention_norm(torch.cat([cls_tokens, hidden_states + position_embedding], dim=1))
        attended, attention_weights = self.attention(tokens[:, 1:], tokens, attn_implementation)
        hidden_states = hidden_states + attended

        volume = tokens_to_volume(hidden_states, batch_size, num_frames, grid_size)
        hidden_states = hidden_states + self.mlp(
            volume_to_tokens(self.mlp_norm(volume)), recompute_activation=recompute
        )
        return hidden_states, attention_weights

    def _temporal_branch(self, volume: torch.Tensor) -> torch.Tensor:
        # (B, D, T, h, w) -> (B, D, T, h, w)
        return self.temporal_conv(self.temporal_norm(volume))


class Side4VideoSideNetwork(nn.Module):
    """The trainable part of a Side4Video encoder.

    Reads the pixels (stem) and the hidden states of every block of the frozen backbone (taps), and
    returns its tokens (B·T, N, D) after the output BatchNorm.
    """

    def __init__(
        self,
        backbone_hidden_size: int,
        num_backbone_layers: int,
        hidden_size: int,
        num_heads: int,
        patch_size: int,
        num_patches: int,
        num_channels: int = 3,
        layer_norm_eps: float = 1e-5,
        selective_recompute: bool = True,
    ):
        super().__init__()
        self.hidden_size = hidden_size
        self.stem = nn.Conv3d(
            num_channels,
            hidden_size,
            kernel_size=(3, patch_size, patch_size),
            stride=(1, patch_size, patch_size),
            padding=(1, 0, 0),
        )
        self.stem_norm = RecomputeSafeBatchNorm3d(hidden_size)
        self.tap_norms = nn.ModuleList(
            [nn.LayerNorm(backbone_hidden_size, eps=layer_norm_eps) for _ in range(num_backbone_layers)]
        )
        self.tap_projections = nn.ModuleList(
            [nn.Linear(backbone_hidden_size, hidden_size) for _ in range(num_backbone_layers)]
        )
        self.position_embedding = nn.Parameter(torch.zeros(num_patches, hidden_size))
        self.blocks = nn.ModuleList(
            [
                Side4VideoBlock(hidden_size, num_heads, selective_recompute=selective_recompute)
                for _ in range(num_backbone_layers)
            ]
        )
        self.output_norm = RecomputeSafeBatchNorm3d(hidden_size)

    def forward(
        self,
        pixel_values: torch.Tensor,
        backbone_hidden_states: tuple[torch.Tensor, ...],
        output_hidden_states: bool = False,
        attn_implementation: str | None = "sdpa",
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None, tuple[torch.Tensor, ...]]:
        # pixel_values (B, T, 3, H, W); backbone_hidden_states[k + 1] (B·T, 1 + N, C) = output of backbone block k
        batch_size, num_frames = pixel_values.shape[:2]
        # inputs come as float32 from the processor; cast to the weights' dtype (bf16 after model.to(bf16)) as
        # transformers' vision models do at their patch embedding
        pixel_values = pixel_values.to(self.stem.weight.dtype)
        volume = self.stem_norm(self.stem(pixel_values.transpose(1, 2)))  # (B, D, T, h, w)
        grid_size = volume.shape[-1]
        hidden_states = volume_to_tokens(volume)  # (B·T, N, D)
        all_hidden_states = (hidden_states,) if output_hidden_states else None
        all_attentions = ()

        for layer_index, block in enumerate(self.blocks):
            tapped = self._tap(layer_index, backbone_hidden_states[layer_index + 1])
            cls_tokens, patch_tokens = tapped[:, :1], tapped[:, 1:]
            # fixed, not learned: equal parts of the side stream and the backbone's projected patches
            hidden_states = 0.5 * hidden_states + 0.5 * patch_tokens
            hidden_states, attention_weights = block(
                hidden_states, cls_tokens, self.position_embedding, num_frames, attn_implementation=attn_implementation
            )
            if attention_weights is not None:
                all_attentions += (attention_weights,)
            if output_hidden_states:
                all_hidden_states += (hidden_states,)

        volume = tokens_to_volume(hidden_states, batch_size, num_frames, grid_size)
        hidden_states = volume_to_tokens(self.output_norm(volume))
        return hidden_states, all_hidden_states, all_attentions

    def _tap(self, layer_index: int, backbone_hidden: torch.Tensor) -> torch.Tensor:
        """LayerNorm then Linear of a frozen backbone block output: (B·T, 1 + N, C) -> (B·T, 1 + N, D)."""
        norm, projection = self.tap_norms[layer_index], self.tap_projections[layer_index]
        # The backbone output is frozen, so its standardisation x̂ needs no gradient; the LayerNorm's affine is
        # folded into the projection, (x̂·w + b)Wᵀ + c = x̂(W·diag(w))ᵀ + (Wb + c). Same function and gradients,
        # but autograd keeps x̂ alone rather than the LayerNorm's input and output (12 × (B·T, 197, C) floats).
        # (An adapter trained inside the backbone, such as a LoRA, makes its outputs need gradients: they flow then.)
        with torch.set_grad_enabled(torch.is_grad_enabled() and backbone_hidden.requires_grad):
            standardized = F.layer_norm(backbone_hidden, norm.normalized_shape, eps=norm.eps)
        weight = projection.weight * norm.weight
        bias = projection.bias + projection.weight @ norm.bias
        return F.linear(standardized, weight, bias)
