# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Scores of models with several label sets (`DearConfig.label_sets`): per-set probabilities and actions.

A model with label sets returns, besides each set's logits, their concatenation in `logits` (the order of
`config.label_sets`); these helpers split such (N, ΣC) arrays back into the sets, softmax each set on its own,
and combine `verb` and `noun` scores into EPIC-Kitchens actions. They take torch tensors or numpy arrays.

Saved model folders carry this file (the pipeline imports it), so it imports nothing from the package.
"""

from __future__ import annotations

import numpy as np
import torch

# EPIC-Kitchens-100 numbers an action (a verb, noun pair) as verb × 1000 + noun: the action-recognition challenge's
# evaluation code does (epic-kitchens/C1-Action-Recognition, utils/actions.py `action_id_from_verb_noun`), and it
# keeps the top 100 verbs and top 100 nouns of a segment when it scores actions (utils/scoring.py
# `compute_action_scores`, called with top_n=100 by its evaluate.py).
ACTION_VERB_MULTIPLIER = 1000
ACTION_TOP_N = 100


def action_id(verb, noun):
    """EPIC-Kitchens' action id of a (verb, noun) pair: verb × 1000 + noun (ints or arrays)."""
    return verb * ACTION_VERB_MULTIPLIER + noun


def split_label_sets(scores, sizes: dict[str, int]) -> dict:
    """(..., ΣC) scores → {set: (..., C_set)}, the sets in the order of `sizes` (`config.label_set_sizes`)."""
    total = sum(sizes.values())
    if scores.shape[-1] != total:
        raise ValueError(f"scores have {scores.shape[-1]} columns, the label sets {dict(sizes)} have {total} classes")
    parts, start = {}, 0
    for name, size in sizes.items():
        parts[name] = scores[..., start : start + size]
        start += size
    return parts


def softmax_per_label_set(logits: torch.Tensor, sizes: dict[str, int]) -> torch.Tensor:
    """(..., ΣC) logits → the same shape, each label set's slice soft-maxed on its own."""
    return torch.cat([part.softmax(dim=-1) for part in split_label_sets(logits, sizes).values()], dim=-1)


def probabilities_per_label_set(scores: np.ndarray, sizes: dict[str, int]) -> np.ndarray:
    """(N, ΣC) numpy scores → probabilities per label set: a set whose rows are already distributions is kept,
    logits are soft-maxed (rows of NaN, videos not decoded, stay NaN)."""
    scores = np.asarray(scores, dtype=np.float64)
    parts = []
    for part in split_label_sets(scores, sizes).values():
        good = part[~np.isnan(part).any(axis=-1)]
        is_distribution = not len(good) or (
            good.min() >= 0 and good.max() <= 1 and np.allclose(good.sum(axis=-1), 1, atol=1e-3)
        )
        parts.append(part if is_distribution else torch.from_numpy(part).softmax(dim=-1).numpy())
    return np.concatenate(parts, axis=-1)


def action_scores(verb_scores, noun_scores, top_n: int = ACTION_TOP_N, top_actions: int = ACTION_TOP_N):
    """EPIC-Kitchens' action scores: the outer product of the verb and noun probabilities of each segment,
    restricted to its `top_n` verbs and `top_n` nouns.

    `verb_scores` (N, C_v) and `noun_scores` (N, C_n) are probabilities (or logits: each is soft-maxed over its
    top `top_n`, as the challenge's `compute_action_scores` does; for probabilities that is their top `top_n`
    renormalised, which is the same thing for probabilities that came from those logits).

    Returns `(action_ids, scores)`, each (N, min(top_actions, top_n_v · top_n_n)), best first: action ids
    verb × 1000 + noun and their probabilities (ties broken towards the lower verb, then noun).
    """
    verb_scores = torch.as_tensor(np.asarray(verb_scores) if not torch.is_tensor(verb_scores) else verb_scores)
    noun_scores = torch.as_tensor(np.asarray(noun_scores) if not torch.is_tensor(noun_scores) else noun_scores)
    verb_scores, noun_scores = verb_scores.double(), noun_scores.double()
    is_probability = bool(
        (verb_scores.min() >= 0) & (noun_scores.min() >= 0) & (verb_scores.max() <= 1) & (noun_scores.max() <= 1)
    )
    top = {}
    for name, scores in (("verb", verb_scores), ("noun", noun_scores)):
        # stable: equal scores keep the lower class first, as argmax does
        order = torch.sort(scores, dim=-1, descending=True, stable=True).indices[:, :top_n]
        values = scores.gather(-1, order)
        values = values / values.sum(-1, keepdim=True) if is_probability else values.softmax(-1)
        top[name] = (order, values)
    (verbs, verb_probs), (nouns, noun_probs) = top["verb"], top["noun"]
    products = (verb_probs[:, :, None] * noun_probs[:, None, :]).flatten(1)  # (N, top_v · top_n)
    ids = action_id(verbs[:, :, None], nouns[:, None, :]).flatten(1)
    # rank by probability, equal probabilities by action id (the lower verb, then noun)
    by_id = ids.argsort(dim=-1, stable=True)
    order = by_id.gather(-1, products.gather(-1, by_id).argsort(dim=-1, descending=True, stable=True))
    order = order[:, :top_actions]
    return ids.gather(-1, order), products.gather(-1, order)


__all__ = [
    "ACTION_VERB_MULTIPLIER",
    "ACTION_TOP_N",
    "action_id",
    "split_label_sets",
    "softmax_per_label_set",
    "probabilities_per_label_set",
    "action_scores",
]
