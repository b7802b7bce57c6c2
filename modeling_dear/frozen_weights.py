# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Checkpoints that leave out the frozen weights (the CLIP backbone, a bundled depth model).

Training writes those weights once per run (`<output_dir>/_frozen_weights.safetensors`) and each
`checkpoint-N/` gets a small pointer to them with their hash, instead of a copy per checkpoint. The files
are underscored so that `Trainer.push_to_hub` (which skips `_*`) does not upload them: a final model
carries its frozen weights itself.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from .atomic_write import write_atomic

FROZEN_WEIGHTS_FILE = "_frozen_weights.safetensors"
FROZEN_WEIGHTS_POINTER = "_frozen_weights.json"
# Frozen modules of DearForVideoClassification, by parameter-name prefix.
FROZEN_PREFIXES = ("dear.backbone.", "dear.on_the_fly_depth.")


def tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        # reshape first: 0-d buffers (BatchNorm's num_batches_tracked) cannot be viewed as bytes directly
        digest.update(tensors[name].detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def write_frozen_weights(
    run_dir: str | os.PathLike, checkpoint_dir: str | os.PathLike, frozen: dict[str, torch.Tensor]
) -> None:
    """Write `frozen` once into `run_dir` (again only if it changed) and point `checkpoint_dir` at it."""
    from safetensors.torch import save_file

    run_dir, checkpoint_dir = Path(run_dir), Path(checkpoint_dir)
    digest = tensor_digest(frozen)
    frozen_file, run_pointer = run_dir / FROZEN_WEIGHTS_FILE, run_dir / FROZEN_WEIGHTS_POINTER
    if (
        not frozen_file.is_file()
        or not run_pointer.is_file()
        or json.loads(run_pointer.read_text()).get("sha256") != digest
    ):
        run_dir.mkdir(parents=True, exist_ok=True)
        tensors = {name: tensor.contiguous() for name, tensor in frozen.items()}
        write_atomic(frozen_file, lambda path: save_file(tensors, str(path)))
        write_atomic(run_pointer, lambda path: path.write_text(json.dumps({"sha256": digest})))
    pointer = {"file": os.path.relpath(frozen_file, checkpoint_dir), "sha256": digest, "keys": len(frozen)}
    write_atomic(checkpoint_dir / FROZEN_WEIGHTS_POINTER, lambda path: path.write_text(json.dumps(pointer, indent=2)))


def read_frozen_weights(checkpoint_dir: str | os.PathLike) -> dict[str, torch.Tensor] | None:
    """The frozen weights a checkpoint points at (hash-checked), or None for a folder that carries its own."""
    pointer_file = Path(checkpoint_dir) / FROZEN_WEIGHTS_POINTER
    if not pointer_file.is_file():
        return None
    pointer = json.loads(pointer_file.read_text())
    if "file" not in pointer:
        return None  # the run folder's own record, not a checkpoint's pointer
    from safetensors.torch import load_file

    frozen_file = (Path(checkpoint_dir) / pointer["file"]).resolve()
    if not frozen_file.is_file():
        raise FileNotFoundError(
            f"{pointer_file}: the frozen weights it points to, {frozen_file}, are missing; "
            f"checkpoints of a run share that file in the run's output_dir"
        )
    frozen = load_file(str(frozen_file))
    if tensor_digest(frozen) != pointer["sha256"]:
        raise ValueError(f"{frozen_file} does not match the hash recorded in {pointer_file}")
    return frozen


def apply_frozen_weights(model: torch.nn.Module, frozen: dict[str, torch.Tensor], source: str) -> None:
    missing, unexpected = model.load_state_dict(frozen, strict=False)
    if unexpected:
        raise ValueError(f"{source}: frozen weights this model does not have: {unexpected[:5]}")
