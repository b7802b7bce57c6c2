# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The one card mechanism: every card DEAR writes (model cards, the SSv2 and synthetic dataset cards) is a Jinja
template in the top-level `hub_cards/` folder (installed as `modeling_dear.hub_cards`), rendered by
`huggingface_hub`'s `from_template` with its metadata block in front."""

from __future__ import annotations

from importlib import resources


def card_template_path(name: str) -> str:
    """Path of the template `hub_cards/<name>`, in a source checkout and in an installed package alike."""
    template = resources.files("modeling_dear.hub_cards") / name
    if not template.is_file():
        available = sorted(
            p.name for p in resources.files("modeling_dear.hub_cards").iterdir() if p.name.endswith(".md")
        )
        raise FileNotFoundError(f"no card template {name!r} in modeling_dear.hub_cards (available: {available})")
    return str(template)


def render_model_card(card_data, template: str, **values):
    """A `huggingface_hub.ModelCard`: `card_data` (`ModelCardData`) as its metadata, `template` filled with `values`."""
    from huggingface_hub import ModelCard

    return ModelCard.from_template(card_data, template_path=card_template_path(template), **values)


def render_dataset_card(card_data, template: str, **values):
    """A `huggingface_hub.DatasetCard`: `card_data` (`DatasetCardData`) as its metadata, `template` filled with `values`."""
    from huggingface_hub import DatasetCard

    return DatasetCard.from_template(card_data, template_path=card_template_path(template), **values)
