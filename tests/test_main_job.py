# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`examples/main_job.py` as users run it, at a miniature size: it renders the synthetic actions, trains the depth
model, prepares the clips with it (estimated `depth`, exact `depth_exact`), trains and tests the three rows (RGB
only, DEAR on estimated depth, DEAR on exact depth) through examples/run_ssv2.py, and its summary is what those
runs wrote."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # a depth model and three tiny trainings in processes of their own (~50 s on 2 idle cores)
def test_main_job_summarises_the_three_runs_it_launched(tmp_path):
    output = tmp_path / "main_job"
    command = [
        sys.executable, str(ROOT / "examples" / "main_job.py"), "--output", str(output),
        "--train-per-class", "1", "--eval-per-class", "1", "--epochs", "1", "--batch-size", "4", "--workers", "0",
        "--depth-train-frames", "32", "--depth-eval-frames", "8", "--depth-epochs", "1",
        "--no-accelerate",  # one launcher less; test_training.py runs run_ssv2.py under accelerate launch
    ]  # fmt: skip
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]

    summary = json.loads((output / "summary.json").read_text())
    for name, label in (
        ("RGB", "RGB only (`tiny-s4v-rgb`)"),
        ("DEAR", "DEAR (`tiny`), estimated depth"),
        ("DEAR-oracle", "DEAR (`tiny`), exact depth (oracle)"),
    ):
        tested = json.loads((output / name / "test_results.json").read_text())
        assert summary[name]["top1"] == tested["test_top1"] and summary[name]["top5"] == tested["test_top5"]
        predictions = (output / name / "predictions.jsonl").read_text().splitlines()
        assert len(predictions) == 12  # one validation clip of each of the 12 classes, all tested
        assert f"| {label} |" in result.stdout
    # the depth the DEAR row trained on came from the depth model the job trained, the oracle's from the renderer
    import datasets

    cache = output / "synthetic_data"
    estimated = datasets.load_from_disk(str(next(cache.glob("*-prepared-estimated"))))["train"]
    oracle = datasets.load_from_disk(str(next(cache.glob("*-prepared-oracle"))))["train"]
    depth_model = Path(summary["depth_model"]["path"])
    assert set(estimated["depth_model"]) == {str(depth_model)} and (depth_model / "config.json").is_file()
    assert set(oracle["depth_model"]) == {"ground_truth"}
    assert estimated[0]["depth_exact"]["bytes"] == oracle[0]["depth"]["bytes"] != estimated[0]["depth"]["bytes"]
    assert 0 <= summary["depth_model"]["held_out"]["abs_rel"] and summary["depth_model"]["held_out"]["frames"] == 8
    assert {row["DEAR-oracle"] for row in summary["per_class"]} <= {0.0, 1.0}
    assert len(summary["per_class"]) == 12
    assert {row["depth_sensitive"] for row in summary["per_class"]} == {True, False}
    assert (output / "summary.md").read_text().strip() in result.stdout
    assert all(Path(path).is_file() for path in summary["files"].values())
