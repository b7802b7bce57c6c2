"""Atomic writes of the preparation's files: written under a temporary name in the work folder, then renamed
into place, so that a file that exists is whole. `tag` (process rank and pid) keeps processes apart."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_atomic(path: Path, write, temporary_dir: Path, tag: str) -> None:
    """Call `write(temporary_path)`, then rename the result to `path`."""
    temporary_dir.mkdir(parents=True, exist_ok=True)
    temporary = temporary_dir / f"{path.name}.{tag}.tmp"
    write(temporary)
    os.replace(temporary, path)


def write_json(path: Path, data, temporary_dir: Path, tag: str) -> None:
    write_atomic(path, lambda p: p.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n"), temporary_dir, tag)
