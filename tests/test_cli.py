# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The command lines: the installed console scripts are the `modeling_dear.cli` modules' `main`, and each module
runs with `python -m`. (The examples/ scripts run as users run them in test_training.py, test_prepare_ssv2.py and
test_prepare_sources.py.)"""

import importlib
import os
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

COMMANDS = {
    "dear-train": "modeling_dear.cli.train",
    "dear-predict": "modeling_dear.cli.predict",
    "dear-prepare-ssv2": "modeling_dear.cli.prepare_ssv2",
    "dear-prepare": "modeling_dear.cli.prepare",
}
A_FLAG = {
    "dear-train": "--preset",
    "dear-predict": "--top-k",
    "dear-prepare-ssv2": "--depth_model",
    "dear-prepare": "--format",
}


def test_console_scripts_run_the_cli_modules():
    scripts = {script.name: script for script in entry_points(group="console_scripts") if script.name in COMMANDS}
    assert {name: script.value for name, script in scripts.items()} == {
        name: f"{module}:main" for name, module in COMMANDS.items()
    }
    for name, script in scripts.items():
        assert script.load() is importlib.import_module(COMMANDS[name]).main, name


@pytest.mark.parametrize("name", COMMANDS)
def test_python_dash_m_runs_each_command(name):
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", COMMANDS[name], "--help"], capture_output=True, text=True, env=environment, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("usage: ") and A_FLAG[name] in result.stdout
