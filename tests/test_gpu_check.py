"""bench/gpu_check.py without a GPU: it says so and exits cleanly, and (--smoke) every row runs with tiny
models on the CPU, so the script is ready for the first GPU machine."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "gpu_check.py"


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    return gpu_check


def test_without_a_gpu_it_says_so_and_exits_cleanly(monkeypatch, capsys):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # no GPU, even on a machine that has one
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "no CUDA device" in result.stdout and "|" not in result.stdout  # no table of made-up numbers
    gpu_check = load_script()
    monkeypatch.setattr(gpu_check.torch.cuda, "is_available", lambda: False)
    assert gpu_check.main(["--require-gpu"]) == 3
    assert "no CUDA device" in capsys.readouterr().out


@pytest.mark.usefixtures("one_torch_thread")
def test_smoke_run_walks_every_row_on_cpu(tmp_path):
    gpu_check = load_script()
    out = tmp_path / "rows.json"
    assert gpu_check.main(["--smoke", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    checks = [row["check"] for row in rows]
    assert [c.split(",")[0] for c in checks] == [
        "DEAR training step", "DEAR inference", "depth extraction", "depth extraction", "selective scan fwd+bwd",
    ], checks
    assert all(row.get("ok", True) for row in rows) and not any(row["value"] == "ERROR" for row in rows)
    assert rows[0]["seconds"] > 0 and rows[1]["clips_per_s"] > 0
    square, aspect = rows[2], rows[3]
    assert "64×64 input" in square["detail"] and "64×128 input" in aspect["detail"]
    assert square["frames_per_s"] > 0 and aspect["gflop_per_frame"] > square["gflop_per_frame"]
    assert rows[4]["value"] == "match"
