# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`examples/main_job.py` as users run it, at a miniature size: it generates the synthetic data, trains and tests
both models through examples/run_ssv2.py, and its summary is what those runs wrote."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # two tiny trainings in processes of their own (~25 s on 2 busy cores)
def test_main_job_summarises_the_two_runs_it_launched(tmp_path):
    output = tmp_path / "main_job"
    command = [
        sys.executable, str(ROOT / "examples" / "main_job.py"), "--output", str(output),
        "--train-per-class", "1", "--eval-per-class", "1", "--epochs", "1", "--batch-size", "4", "--workers", "0",
        "--no-accelerate",  # one launcher less; test_training.py runs run_ssv2.py under accelerate launch
    ]  # fmt: skip
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]

    summary = json.loads((output / "summary.json").read_text())
    for name, preset in (("RGB", "tiny-s4v-rgb"), ("DEAR", "tiny")):
        tested = json.loads((output / name / "test_results.json").read_text())
        assert summary[name]["top1"] == tested["test_top1"] and summary[name]["top5"] == tested["test_top5"]
        predictions = (output / name / "predictions.jsonl").read_text().splitlines()
        assert len(predictions) == 12  # one validation clip of each of the 12 classes, all tested
        assert f"| {name} ({preset}) |" in result.stdout
    assert len(summary["per_class"]) == 12
    assert {row["depth_sensitive"] for row in summary["per_class"]} == {True, False}
    assert (output / "summary.md").read_text().strip() in result.stdout
    assert all(Path(path).is_file() for path in summary["files"].values())
