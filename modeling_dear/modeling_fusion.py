# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Gated cross-attention fusion of the RGB encoder's tokens with one other encoder's tokens.

One `GatedCrossAttentionStream` per fused encoder: both token sets are projected to the fusion width, each side
attends to the other through tanh gates that start at zero (so training starts from the unimodal encoders), and
both sides are mean-pooled and joined; `DearForVideoClassification` classifies that pooled vector with the
stream's own head (docs/architecture.md §4).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers.modeling_layers import GradientCheckpointingLayer

from .modeling_attention import multi_head_attention


class GatedCrossAttentionBlock(nn.Module):
    """`x + tanh(g_attn)·CrossAttn(LN(x), LN(context))`, then `x + tanh(g_mlp)·MLP(LN(x))`."""

    def __init__(self, hidden_size: int, num_heads: int, intermediate_size: int, layer_norm_eps: float = 1e-5):
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"fusion width {hidden_size} is not divisible by fusion heads {num_heads}")
        self.num_heads = num_heads
        self.query_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.context_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.q_proj = nn.Linear(hidden_size, hidden_size)
        self.k_proj = nn.Linear(hidden_size, hidden_size)
        self.v_proj = nn.Linear(hidden_size, hidden_size)
        self.out_proj = nn.Linear(hidden_size, hidden_size)
        self.attention_gate = nn.Parameter(torch.zeros(1))
        self.mlp_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.fc1 = nn.Linear(hidden_size, intermediate_size)
        self.fc2 = nn.Linear(intermediate_size, hidden_size)
        self.mlp_gate = nn.Parameter(torch.zeros(1))

    def forward(
        self, hidden_states: torch.Tensor, context: torch.Tensor, attn_implementation: str | None = "sdpa"
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        # hidden_states (B, Lq, F) the side being updated; context (B, Lk, F) the other modality
        queries = self.query_norm(hidden_states)
        context = self.context_norm(context)
        q, k, v = (
            proj(x).unflatten(-1, (self.num_heads, -1)).transpose(1, 2)
            for proj, x in ((self.q_proj, queries), (self.k_proj, context), (self.v_proj, context))
        )
        attended, weights = multi_head_attention(self, q, k, v, attn_implementation)
        hidden_states = hidden_states + torch.tanh(self.attention_gate) * self.out_proj(
            attended.flatten(2)
        )  # (B, Lq, F)
        mlp_output = self.fc2(F.gelu(self.fc1(self.mlp_norm(hidden_states))))
        return hidden_states + torch.tanh(self.mlp_gate) * mlp_output, weights


class GatedCrossAttentionLayer(GradientCheckpointingLayer):
    """Both directions at once: RGB queries depth and depth queries RGB, each reading the other's input tokens.

    Re-run in backward instead of keeping its activations when `gradient_checkpointing` is set (by
    `activation_checkpointing_enable`, which the training recipe turns on): bench/train_step.py measured the fusion
    streams keeping 307 MiB of a DEAR step's 887 MiB, the largest part once the encoders were checkpointed."""

    def __init__(self, hidden_size: int, num_heads: int, intermediate_size: int, layer_norm_eps: float = 1e-5):
        super().__init__()
        self.rgb_from_depth = GatedCrossAttentionBlock(hidden_size, num_heads, intermediate_size, layer_norm_eps)
        self.depth_from_rgb = GatedCrossAttentionBlock(hidden_size, num_heads, intermediate_size, layer_norm_eps)

    def forward(
        self, rgb_tokens: torch.Tensor, depth_tokens: torch.Tensor, attn_implementation: str | None = "sdpa"
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        # the fused tokens of both sides, and each direction's attention weights (eager only)
        new_rgb, rgb_weights = self.rgb_from_depth(rgb_tokens, depth_tokens, attn_implementation)
        new_depth, depth_weights = self.depth_from_rgb(depth_tokens, rgb_tokens, attn_implementation)
        return new_rgb, new_depth, rgb_weights, depth_weights


class GatedCrossAttentionStream(nn.Module):
    """One fusion stream: RGB ⇄ one other encoder, both sides pooled and joined into a (B, 2F) vector."""

    def __init__(
        self,
        rgb_hidden_size: int,
        depth_hidden_size: int,
        hidden_size: int,
        num_heads: int,
        num_layers: int,
        intermediate_size: int,
        layer_norm_eps: float = 1e-5,
    ):
        super().__init__()
        self.rgb_projection = nn.Linear(rgb_hidden_size, hidden_size)
        self.depth_projection = nn.Linear(depth_hidden_size, hidden_size)
        self.layers = nn.ModuleList(
            [
                GatedCrossAttentionLayer(hidden_size, num_heads, intermediate_size, layer_norm_eps)
                for _ in range(num_layers)
            ]
        )
        self.output_size = 2 * hidden_size

    def forward(
        self, rgb_tokens: torch.Tensor, depth_tokens: torch.Tensor, attn_implementation: str | None = "sdpa"
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
        """rgb_tokens (B, Lr, Dr), depth_tokens (B, Ld, Dd) -> the pooled vector (B, 2F); the (RGB side, other side)
        tokens after each layer, the last pair last; and the attention weights of every block (eager only)."""
        rgb_tokens = self.rgb_projection(rgb_tokens)
        depth_tokens = self.depth_projection(depth_tokens)
        layer_outputs, attentions = (), ()
        for layer in self.layers:
            rgb_tokens, depth_tokens, rgb_weights, depth_weights = layer(rgb_tokens, depth_tokens, attn_implementation)
            layer_outputs += (rgb_tokens, depth_tokens)
            attentions += tuple(w for w in (rgb_weights, depth_weights) if w is not None)
        pooled = torch.cat([rgb_tokens.mean(dim=1), depth_tokens.mean(dim=1)], dim=-1)  # (B, 2F)
        return pooled, layer_outputs, attentions
