# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Checkpoints to resume from: whether a `checkpoint-N/` folder is complete (a run killed while saving leaves a
partial one), the newest complete one of a run, and whether it was written by a model of the same shape."""

from __future__ import annotations

import json
import logging
import os
import re
import zipfile
from pathlib import Path

from ..configuration_dear import DearConfig
from ..frozen_weights import FROZEN_WEIGHTS_POINTER

logger = logging.getLogger(__name__)

# Config fields that decide the shape of the network: a checkpoint must agree on all of them to be resumed.
ARCHITECTURE_FIELDS = (
    "encoders",
    "fusion_streams",
    "num_frames",
    "image_size",
    "side_hidden_size",
    "side_head_dim",
    "fusion_hidden_size",
    "fusion_num_heads",
    "fusion_num_layers",
    "fusion_intermediate_size",
    "num_labels",
)
SUB_CONFIG_ARCHITECTURE_FIELDS = {
    "clip_config": ("hidden_size", "num_hidden_layers", "intermediate_size", "patch_size"),
    "videomamba_config": ("hidden_size", "num_hidden_layers", "d_state", "patch_size", "expand"),
}


_CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)$")
WEIGHTS_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


def _safetensors_problem(path: Path) -> str | None:
    """Why a .safetensors file is cut short or corrupt (header and data length checked, no tensor read)."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as handle:
            header_length = int.from_bytes(handle.read(8), "little")
            if size < 8 or 8 + header_length > size:
                return f"{path.name} is truncated ({size} bytes)"
            header = json.loads(handle.read(header_length))
    except (OSError, ValueError, UnicodeDecodeError) as error:
        return f"{path.name} has an unreadable header ({error})"
    end = max((entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"), default=0)
    if 8 + header_length + end != size:
        return f"{path.name} is truncated ({size} of {8 + header_length + end} bytes)"
    return None


class NotADearCheckpoint(ValueError):
    """A `checkpoint-N/` folder that a DEAR run did not write (another model's folder, not a cut-short save)."""


def foreign_checkpoint(checkpoint: str | os.PathLike) -> str | None:
    """Why `checkpoint` is not a DEAR run's checkpoint at all, or None (a DEAR one, or one too cut short to tell).

    A save writes config.json whole or not at all, so a readable config.json of another `model_type` (or of
    none) is another model's folder, not an interrupted save.
    """
    config_file = Path(checkpoint) / "config.json"
    try:
        saved = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    model_type = saved.get("model_type") if isinstance(saved, dict) else None
    if model_type == DearConfig.model_type:
        return None
    return f"its config.json is a '{model_type}' model's" if model_type else "its config.json names no model_type"


def checkpoint_problem(checkpoint: str | os.PathLike, require_optimizer: bool = True) -> str | None:
    """Why `checkpoint` (a `checkpoint-N/` folder) cannot be resumed from, or None when it is complete.

    Complete means what `Trainer` reads on resume is all there and whole: `config.json`, the weights
    (safetensors lengths checked), `trainer_state.json` (written last by the Trainer), `optimizer.pt` and
    `scheduler.pt` (unless the run saved the model only), readable `.pt`/`.pth` files, and the frozen weights a
    `_frozen_weights.json` pointer names. A run killed while saving leaves a folder failing one of these.
    """
    folder = Path(checkpoint)
    if not folder.is_dir():
        return "it is not a folder"
    for name in ("config.json", "trainer_state.json"):
        file = folder / name
        if not file.is_file():
            return f"{name} is missing"
        try:
            json.loads(file.read_text())
        except (OSError, ValueError) as error:
            return f"{name} is empty or cut short ({error})"
    weights = [folder / name for name in WEIGHTS_FILES if (folder / name).is_file()]
    if not weights:
        return "it holds no model weights (model.safetensors)"
    for file in weights:
        if file.stat().st_size == 0:
            return f"{file.name} is empty"
        if file.suffix == ".safetensors" and (problem := _safetensors_problem(file)):
            return problem
    if require_optimizer:
        for name in ("optimizer.pt", "scheduler.pt"):
            if not (folder / name).is_file():
                return f"{name} is missing"
    for file in sorted([*folder.glob("*.pt"), *folder.glob("*.pth")]):
        # torch.save writes zip archives; a file cut short lacks the archive's closing directory
        if file.stat().st_size == 0:
            return f"{file.name} is empty"
        if not zipfile.is_zipfile(file):
            return f"{file.name} is cut short"
    pointer = folder / FROZEN_WEIGHTS_POINTER
    if pointer.is_file():
        try:
            target = (folder / json.loads(pointer.read_text())["file"]).resolve()
        except (OSError, ValueError, KeyError) as error:
            return f"{FROZEN_WEIGHTS_POINTER} is unreadable ({error})"
        if not target.is_file():
            return f"the frozen weights it points to, {target}, are missing"
    return None


def find_resumable_checkpoint(output_dir: str | os.PathLike, require_optimizer: bool = True) -> str | None:
    """The newest complete `checkpoint-N/` in `output_dir` (None when there is none).

    Newer incomplete ones (a run killed while saving) are skipped with a warning naming what is wrong; nothing
    is deleted: the Trainer overwrites such a folder when it saves that step again.
    """
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return None
    numbered = sorted(
        (
            (int(match.group(1)), path)
            for path in output_dir.iterdir()
            if path.is_dir() and (match := _CHECKPOINT_NAME.match(path.name))
        ),
        reverse=True,
    )
    for _, path in numbered:
        if foreign := foreign_checkpoint(path):
            raise NotADearCheckpoint(
                f"{path} is not a checkpoint of a DEAR run ({foreign}), yet the run would resume from, overwrite or "
                f"delete checkpoint-N folders in {output_dir}: move it out, or give another --output_dir"
            )
        problem = checkpoint_problem(path, require_optimizer=require_optimizer)
        if problem is None:
            return str(path)
        logger.warning("skipping incomplete checkpoint %s (%s): a run was interrupted while saving it", path, problem)
    if numbered:
        logger.warning("no complete checkpoint in %s: training starts from the beginning", output_dir)
    return None


def check_resume_checkpoint(checkpoint: str | os.PathLike, config: DearConfig) -> None:
    """Raise when a checkpoint folder was written by a differently shaped model (another preset)."""
    config_file = Path(checkpoint) / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"resume checkpoint {checkpoint} has no config.json")
    if foreign := foreign_checkpoint(checkpoint):
        raise NotADearCheckpoint(f"resume checkpoint {checkpoint} is not a checkpoint of a DEAR run ({foreign})")
    saved = json.loads(config_file.read_text())
    saved_labels = len(saved.get("id2label") or {})
    current = {name: getattr(config, name) for name in ARCHITECTURE_FIELDS}
    for sub_config, fields in SUB_CONFIG_ARCHITECTURE_FIELDS.items():
        for name in fields:
            current[f"{sub_config}.{name}"] = getattr(getattr(config, sub_config), name)
            saved[f"{sub_config}.{name}"] = (saved.get(sub_config) or {}).get(name)
    differences = []
    for name, value in current.items():
        saved_value = saved_labels if name == "num_labels" else saved.get(name)
        if name == "num_labels" and not saved_labels:
            continue
        if saved_value != value:
            differences.append(f"{name}: checkpoint {saved_value!r}, this run {value!r}")
    if differences:
        raise ValueError(f"{config_file} was written by a different model: " + "; ".join(differences))
