# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Training with several processes and with gradient accumulation gives the numbers of one large batch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import distributed_one_step  # tests/distributed_one_step.py, also launched as a script below
import pytest
import torch
from conftest import free_port
from safetensors.torch import load_file

from modeling_dear import DearConfig, DearForVideoClassification
from modeling_dear.configuration_dear import list_presets

ROOT = Path(__file__).resolve().parents[1]
BATCH = 2  # B: videos per process and per accumulation step
DDP_UNUSED_WARNING = "find_unused_parameters=True was specified in DDP constructor, but did not find any unused"


def assert_gradients_equal(found: dict, expected: dict, what: str) -> None:
    assert found.keys() == expected.keys()
    for name, value in expected.items():
        difference = (found[name] - value).norm()
        assert difference <= 1e-5 * value.norm() + 1e-10, (
            f"{what}: gradient of {name} differs by {difference / value.norm():.3g}"
        )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """1 process x 2B, 1 process x B with 2 accumulation steps (in this process), 2 processes x B (two real
    processes, gloo, through `accelerate launch` and the shipped config): one step each, same model and data."""
    output = tmp_path_factory.mktemp("one_step")
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(ROOT / "configuration" / "accelerate" / "multi_cpu_2.yaml"),
        "--main_process_port",
        str(free_port()),
        str(ROOT / "tests" / "distributed_one_step.py"),
        str(output),
        str(BATCH),
    ]
    launched = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for batchnorm in ("running", "batch"):
                distributed_one_step.run_one_step(output, f"1proc-2B-{batchnorm}", 2 * BATCH, 1, 2 * BATCH, batchnorm)
                distributed_one_step.run_one_step(output, f"1proc-Bx2-{batchnorm}", BATCH, 2, 2 * BATCH, batchnorm)
        finally:
            torch.set_num_threads(threads)
        log, _ = launched.communicate(timeout=300)
    finally:
        if launched.poll() is None:
            launched.kill()
    assert launched.returncode == 0, log[-3000:]

    def read(name):
        return json.loads((output / f"{name}.json").read_text()), load_file(str(output / f"{name}.safetensors"))

    names = [f"{setup}-{bn}" for setup in ("1proc-2B", "1proc-Bx2", "2procs") for bn in ("running", "batch")]
    return {name: read(name) for name in names}, log


@pytest.mark.slow  # shares the ~30 s fixture (two launched processes) with the tests below
def test_two_processes_and_accumulation_match_one_large_batch(runs):
    """With BatchNorm on its running statistics, each video's loss depends on that video alone, so the three
    setups compute the same mean over the same 2B videos: train loss, eval loss, gradient norm and every
    gradient agree to float rounding. (Before the fix the Trainer skipped its 1/accumulation scaling and
    multiplied by the process count: 2x losses and gradients for the last two setups.)"""
    results, log = runs
    reference_record, reference_gradients = results["1proc-2B-running"]
    for name in ("1proc-Bx2-running", "2procs-running"):
        record, gradients = results[name]
        for key in ("train_loss", "eval_loss", "grad_norm"):
            assert record[key] == pytest.approx(reference_record[key], rel=1e-5), (name, key)
        assert_gradients_equal(gradients, reference_gradients, name)
    assert results["2procs-running"][0]["world_size"] == 2


def test_two_processes_match_accumulation_with_batch_statistics(runs):
    """With BatchNorm in training mode (as trained), a forward of B videos normalises over those B: two
    processes x B (SyncBatchNorm needs GPUs, so gloo runs normalise per process) and one process x B with 2
    accumulation steps see the same batches and agree; one batch of 2B normalises over 2B and does not (a
    property of BatchNorm, not of the loss scaling). Eval loss is not compared here: the running statistics
    each setup accumulated during its step differ."""
    results, _ = runs
    (accumulated, accumulated_gradients), (distributed, distributed_gradients) = (
        results["1proc-Bx2-batch"],
        results["2procs-batch"],
    )
    for key in ("train_loss", "grad_norm"):
        assert distributed[key] == pytest.approx(accumulated[key], rel=1e-5), key
    assert_gradients_equal(distributed_gradients, accumulated_gradients, "2 processes vs accumulation")
    # the large batch does differ, but only a little (same loss scale): a 2x scaling error would show here too
    large = results["1proc-2B-batch"][0]
    assert large["train_loss"] != pytest.approx(accumulated["train_loss"], rel=1e-7)
    assert large["train_loss"] == pytest.approx(accumulated["train_loss"], rel=0.2)


def test_ddp_is_not_told_to_search_for_unused_parameters(runs):
    _, log = runs
    assert DDP_UNUSED_WARNING not in log


@pytest.mark.parametrize("preset", [name for name in list_presets() if name.startswith("tiny")])
def test_every_trainable_parameter_gets_a_gradient(preset):
    """Why DearTrainer sets ddp_find_unused_parameters=False: no configuration leaves a trainable parameter out
    of the loss (the tiny presets have the full presets' structure, only smaller)."""
    config = DearConfig.from_preset(preset, num_frames=2, image_size=32)
    torch.manual_seed(0)
    model = DearForVideoClassification(config).train()
    video = torch.randn(2, 2, 3, 32, 32)
    model(
        pixel_values=video,
        depth_pixel_values=video.flip(0) if config.needs_depth else None,
        labels=torch.tensor([0, 1]),
    ).loss.backward()
    unused = [
        name for name, parameter in model.named_parameters() if parameter.requires_grad and parameter.grad is None
    ]
    assert not unused
