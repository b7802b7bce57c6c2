# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Folders saved by release 0.1 (before DearModel: one attribute per encoder, heads inside the fusion streams)
load into today's layout with the same logits, and are saved again in today's layout."""

from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import AutoModel, AutoModelForVideoClassification

from modeling_dear import DearForVideoClassification, DearModel

pytestmark = pytest.mark.usefixtures("one_torch_thread")
RELEASE = Path(__file__).parent / "fixtures" / "release-0.1"


@pytest.mark.parametrize("name", ["tiny-dear", "tiny-late-fusion", "tiny-depth-on-the-fly"])
def test_release_folder_loads_with_the_same_logits(name, tmp_path):
    folder = RELEASE / name
    with safe_open(str(folder / "model.safetensors"), "pt") as saved:
        assert not any(key.startswith("dear.") for key in saved.keys())  # really the old layout
    expected = load_file(str(folder / "expected.safetensors"))
    inputs = {key: expected[key] for key in ("pixel_values", "depth_pixel_values") if key in expected}

    model = AutoModelForVideoClassification.from_pretrained(folder).eval()
    assert isinstance(model, DearForVideoClassification)
    with torch.no_grad():
        outputs = model(**inputs)
    torch.testing.assert_close(outputs.logits, expected["logits"], rtol=0, atol=1e-6)
    torch.testing.assert_close(outputs.stream_logits, expected["stream_logits"], rtol=0, atol=1e-6)
    assert not any(p.requires_grad for p in model.backbone.parameters())

    # saved again: today's layout, same logits
    model.save_pretrained(tmp_path)
    with safe_open(str(tmp_path / "model.safetensors"), "pt") as saved:
        prefixes = {key.split(".")[0] for key in saved.keys()}
    assert prefixes == {"dear", "classifiers"}
    reloaded = DearForVideoClassification.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        torch.testing.assert_close(reloaded(**inputs).logits, expected["logits"], rtol=0, atol=1e-6)


def test_release_folder_loads_as_the_base_model():
    model = AutoModel.from_pretrained(RELEASE / "tiny-dear").eval()
    assert isinstance(model, DearModel)
    classifier = DearForVideoClassification.from_pretrained(RELEASE / "tiny-dear").eval()
    expected = load_file(str(RELEASE / "tiny-dear" / "expected.safetensors"))
    inputs = {"pixel_values": expected["pixel_values"], "depth_pixel_values": expected["depth_pixel_values"]}
    with torch.no_grad():
        pooled = model(**inputs).pooler_output
        reference = classifier.dear(**inputs).pooler_output
    for ours, theirs in zip(pooled, reference, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
