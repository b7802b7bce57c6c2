# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""House rules of the repository that a reviewer would otherwise check by eye: every Python file starts with
the one-line licence header, and no module grows past ~500 lines without saying why at its top. (That the flat
modules of modeling_dear/ are what a saved folder carries is checked by test_saved_folder.py.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEADER = "# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0"
MAX_LINES = 500
# A long module states its reason in a line starting with this, near its top.
LONG_MODULE_MARK = "Why one module:"


def tracked_python_files() -> list[Path]:
    try:
        listing = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"not a git checkout ({error}): the layout rules are checked on the repository's tracked files")
    return [ROOT / name for name in listing.stdout.split() if not name.startswith("tests/fixtures/")]


def test_every_python_file_starts_with_the_licence_header():
    missing = []
    for path in tracked_python_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        first = lines[1] if lines and lines[0].startswith("#!") else (lines[0] if lines else "")
        if first != HEADER:
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"files without the header line {HEADER!r}: {missing}"


def test_long_modules_say_why():
    unexplained = []
    for path in tracked_python_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and not any(LONG_MODULE_MARK in line for line in lines[:40]):
            unexplained.append(f"{path.relative_to(ROOT)} ({len(lines)} lines)")
    assert not unexplained, (
        f"modules over {MAX_LINES} lines without a {LONG_MODULE_MARK!r} line at the top: {unexplained}"
    )
