# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Atomic file writes: written under a temporary name, then renamed into place (`os.replace`), so that a file
that exists is whole even when a run is killed mid-write. Used by checkpoints (frozen weights) and dataset
preparation."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_atomic(
    path: str | os.PathLike, write, temporary_dir: str | os.PathLike | None = None, tag: str | None = None
) -> None:
    """Call `write(temporary_path)`, then rename the result to `path`.

    The temporary file lies in `temporary_dir` (default: beside `path`; it must be on the same filesystem) and is
    named after `path` and `tag` (default: the process id), which keeps concurrent writers apart.
    """
    path = Path(path)
    directory = Path(temporary_dir) if temporary_dir is not None else path.parent
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f"{path.name}.{tag if tag is not None else os.getpid()}.tmp"
    write(temporary)
    os.replace(temporary, path)


def write_json(
    path: str | os.PathLike, data, temporary_dir: str | os.PathLike | None = None, tag: str | None = None
) -> None:
    """`data` as sorted, indented JSON, written atomically."""
    write_atomic(path, lambda p: p.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n"), temporary_dir, tag)
