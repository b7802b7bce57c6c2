# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""bench/gpu_check.py run as users run it (`python bench/gpu_check.py ...` from the repository root), on a machine
without a GPU: it says so and exits cleanly, and (--smoke) every row runs with tiny models on the CPU, so the
script is ready for the first GPU machine."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_gpu_check(*arguments: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}  # no GPU, even on a machine with one
    return subprocess.run(
        [sys.executable, "bench/gpu_check.py", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )


def test_without_a_gpu_it_says_so_and_exits_cleanly():
    result = run_gpu_check()
    assert result.returncode == 0, result.stderr
    assert "no CUDA device" in result.stdout and "|" not in result.stdout  # no table of made-up numbers
    required = run_gpu_check("--require-gpu")
    assert required.returncode == 3, required.stderr
    assert "no CUDA device" in required.stdout and "|" not in required.stdout


def test_smoke_run_walks_every_row_on_cpu(tmp_path):
    out = tmp_path / "rows.json"
    result = run_gpu_check("--smoke", "--json", str(out))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.startswith("CPU, torch ") and "(smoke: tiny models)" in result.stdout
    report = json.loads(out.read_text())
    assert report["device"] == "CPU"
    rows = report["rows"]
    checks = [row["check"] for row in rows]
    assert [c.split(",")[0] for c in checks] == [
        "DEAR training step",
        "DEAR inference",
        "depth extraction",
        "depth extraction",
        "selective scan fwd+bwd",
    ], checks
    assert all(row.get("ok", True) for row in rows) and not any(row["value"] == "ERROR" for row in rows)
    assert rows[0]["seconds"] > 0 and rows[1]["clips_per_s"] > 0
    square, aspect = rows[2], rows[3]
    assert "64×64 input" in square["detail"] and "64×128 input" in aspect["detail"]
    assert square["frames_per_s"] > 0 and aspect["gflop_per_frame"] > square["gflop_per_frame"]
    assert rows[4]["value"] == "match"
    # the printed table has the rows of the JSON file, one line each
    table = [line for line in result.stdout.splitlines() if line.startswith("| ") and "|---" not in line]
    assert [line.split(" | ")[0][2:] for line in table[1:]] == checks
