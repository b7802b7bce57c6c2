# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Checks on where a model is loaded from, so that a wrong path or a folder of another model fails in one line.

Without them, a local folder that does not exist reaches huggingface_hub as a malformed repo id ("Repo id must
be in the form 'repo_name'..."), and a folder of another `model_type` (VideoMAE, DPT) loads as a randomly
initialised DEAR with only a warning.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def looks_local(name_or_path: str | os.PathLike) -> bool:
    """Whether `name_or_path` can only mean a local path: a Hub id is `name` or `owner/name`, nothing else."""
    if isinstance(name_or_path, os.PathLike):
        return True
    text = str(name_or_path)
    if os.path.isabs(text) or text.startswith((".", "~")) or "\\" in text or text.count("/") > 1:
        return True
    # "outputs/run": the first part exists here as a folder, so the whole is meant as a path
    return "/" in text and Path(text.split("/", 1)[0]).is_dir()


def check_model_source(name_or_path: str | os.PathLike, option: str = "model") -> None:
    """Raise `FileNotFoundError` naming `option` when `name_or_path` is meant as a local folder that does not exist
    (or is not a model folder); Hub ids pass through to huggingface_hub."""
    path = Path(os.path.expanduser(os.fspath(name_or_path)))
    if path.is_dir():  # (a file passes: config loaders also take a config.json itself)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"{option} {name_or_path}: the folder holds no config.json, so it is not a saved model"
            )
        return
    if not path.exists() and looks_local(name_or_path):
        raise FileNotFoundError(f"{option} {name_or_path}: the folder does not exist (check the path)")


def folder_model_type(name_or_path: str | os.PathLike) -> str | None:
    """The `model_type` in a local folder's config.json, None for anything else (a Hub id, no config)."""
    config_file = Path(os.path.expanduser(os.fspath(name_or_path))) / "config.json"
    if not config_file.is_file():
        return None
    try:
        return json.loads(config_file.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError):
        return None


def check_model_type(model_type: str | None, source, expected: str = "dear") -> None:
    """Refuse a checkpoint of another model type: loading it would build a randomly initialised model."""
    if model_type is not None and model_type != expected:
        raise ValueError(
            f"{source} holds a '{model_type}' model, not a DEAR ('{expected}') model: give a folder saved by "
            "DearForVideoClassification.save_pretrained (or examples/run_ssv2.py), or build a new model with --preset"
        )
