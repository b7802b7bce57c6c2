# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""What both converters share: the checkpoint reader, the conversion report, the `python -m` entry points."""

import argparse
import re
import subprocess
import sys

import pytest
import torch
from safetensors.torch import save_file

from modeling_dear.conversion import ConversionReport, read_checkpoint
from modeling_dear.conversion.checkpoints import WRAPPER_KEYS


@pytest.mark.parametrize("wrapper", [None, *WRAPPER_KEYS])
def test_wrappers_ddp_prefixes_and_non_tensors_are_taken_off(tmp_path, wrapper):
    weight, bias = torch.randn(3, 2), torch.randn(3)
    state = {"module.layer.weight": weight, "layer.bias": bias, "step": 7}
    path = tmp_path / "ckpt.pth"
    torch.save(state if wrapper is None else {wrapper: state, "epoch": 3, "optimizer": {"lr": 0.1}}, path)
    read = read_checkpoint(path)
    assert list(read) == ["layer.weight", "layer.bias"]
    assert torch.equal(read["layer.weight"], weight) and torch.equal(read["layer.bias"], bias)


def test_prefixes_are_stripped_in_order_and_only_those_asked_for():
    tensor = torch.ones(1)
    state = {"module.videomamba.norm.weight": tensor, "backbone.x": tensor, "videomamba.module.y": tensor}
    assert list(read_checkpoint(state)) == ["videomamba.norm.weight", "backbone.x", "videomamba.module.y"]
    stripped = read_checkpoint(state, strip_prefixes=("module.", "videomamba.", "backbone."))
    # each prefix once, in the given order: "videomamba.module." keeps its "module."
    assert list(stripped) == ["norm.weight", "x", "module.y"]


def test_safetensors_and_pickle_files_read_the_same(tmp_path):
    state = {"a": torch.randn(4, 4), "b": torch.arange(3)}
    save_file(state, str(tmp_path / "ckpt.safetensors"))
    torch.save({"model": state}, tmp_path / "ckpt.pth")
    from_safetensors, from_pickle = (
        read_checkpoint(tmp_path / "ckpt.safetensors"),
        read_checkpoint(tmp_path / "ckpt.pth"),
    )
    assert from_safetensors.keys() == from_pickle.keys() == state.keys()
    assert all(torch.equal(from_safetensors[k], state[k]) and torch.equal(from_pickle[k], state[k]) for k in state)


def test_python_objects_are_refused_not_unpickled(tmp_path):
    # DeiT-style training checkpoints store the command-line arguments beside the weights
    path = tmp_path / "training.pth"
    torch.save({"model": {"w": torch.ones(1)}, "args": argparse.Namespace(lr=1e-3)}, path)
    with pytest.raises(ValueError, match=r"weights_only=True\): it holds an object of class argparse\.Namespace"):
        read_checkpoint(path, kind="VideoMamba checkpoint")
    (tmp_path / "garbage.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="garbage.pth cannot be read"):
        read_checkpoint(tmp_path / "garbage.pth")


def test_unreadable_sources_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Side4Video checkpoint .*missing\.pth does not exist"):
        read_checkpoint(tmp_path / "missing.pth", kind="Side4Video checkpoint")
    torch.save([torch.ones(1)], tmp_path / "list.pth")
    with pytest.raises(ValueError, match="expected a state dict, got list"):
        read_checkpoint(tmp_path / "list.pth")
    with pytest.raises(ValueError, match=r"checkpoint <state dict> holds no tensors"):
        read_checkpoint({"model": {"epoch": 3}})


def test_mismatches_are_listed_together_in_one_format():
    report = ConversionReport()
    report.raise_for_mismatches("ckpt.pth")  # nothing to say: no error
    for i in range(10):
        report.add_mismatch(f"layers.{i}.weight", torch.Size([4, 2]), (4, 3))
    with pytest.raises(ValueError) as raised:
        report.raise_for_mismatches("ckpt.pth", hint="check d_state")
    lines = str(raised.value).splitlines()
    assert lines[0] == "ckpt.pth does not fit the model's config (check d_state):"
    assert lines[1].strip() == "layers.0.weight has shape (4, 2) in the checkpoint but (4, 3) in the model"
    assert len(lines) == 1 + 8 + 1 and lines[-1].strip() == "... and 2 more"


def test_report_counts_and_lines():
    report = ConversionReport(
        loaded=["a", "b"],
        adapted={"b": "reshaped"},
        zero_initialised=["t"],
        dropped={"head.weight": "5 classes"},
        missing=["m"],
        unexpected=["u"],
    )
    assert str(report) == (
        "loaded 2 tensors, adapted 1, set to zero 1, dropped 1, missing 1, unexpected 1, mismatched 0"
    )
    assert report.summary().splitlines()[1:] == [
        "adapted b: reshaped",
        "set to zero t",
        "dropped head.weight: 5 classes",
        "missing m",
        "unexpected u",
    ]
    with pytest.raises(ValueError, match=re.escape("x.pth does not match the model: missing m; unexpected u")):
        report.raise_if_incomplete("x.pth")
    ConversionReport(loaded=["a"]).raise_if_incomplete("x.pth")


@pytest.mark.parametrize("module", ["side4video", "videomamba"])
def test_converters_run_as_modules(module):
    result = subprocess.run(
        [sys.executable, "-m", f"modeling_dear.conversion.{module}", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout and "RuntimeWarning" not in result.stderr
