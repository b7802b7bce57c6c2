# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The attention kernels of DEAR's own attention modules (side networks, fusion), chosen as transformers chooses them.

`config._attn_implementation` names the kernel: "sdpa" (the default) runs `torch.nn.functional.scaled_dot_product_attention`
through transformers' `ALL_ATTENTION_FUNCTIONS`, "eager" the explicit softmax(QKᵀ/√d)V below, which also returns the
attention weights (`output_attentions=True` always takes this path).
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS


def eager_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor]:
    # query (B, heads, Q, d), key/value (B, heads, K, d) -> output (B, Q, heads, d), weights (B, heads, Q, K)
    weights = torch.matmul(query, key.transpose(-1, -2)) * scaling
    if attention_mask is not None:
        weights = weights + attention_mask
    weights = nn.functional.softmax(weights, dim=-1, dtype=torch.float32).to(query.dtype)
    weights = nn.functional.dropout(weights, p=dropout, training=module.training)
    output = torch.matmul(weights, value).transpose(1, 2).contiguous()
    return output, weights


def multi_head_attention(
    module: nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, implementation: str | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Unmasked, non-causal attention with the 1/√head_dim scaling; (B, Q, heads, d) output and the weights (eager only)."""
    if implementation in (None, "eager"):
        attention = eager_attention_forward
    else:
        attention = ALL_ATTENTION_FUNCTIONS[implementation]
    return attention(module, query, key, value, None, scaling=query.shape[-1] ** -0.5, dropout=0.0, is_causal=False)
