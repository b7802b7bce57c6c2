# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""What every converter shares: reading a released checkpoint, and reporting what became of its tensors.

`read_checkpoint` never unpickles code: `.safetensors` files go through safetensors, anything else through
`torch.load(weights_only=True)`. `ConversionReport` is the one account both converters give back.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

# Keys under which training scripts nest the weights, tried in this order; only the first one found is
# unwrapped. Side4Video saves {"model_state_dict": …}, DeiT/VideoMamba {"model": …}, Lightning {"state_dict": …},
# DeepSpeed {"module": …}.
WRAPPER_KEYS = ("model_state_dict", "state_dict", "model_state", "model", "module")
# DistributedDataParallel prefixes every key with "module."
DDP_PREFIX = "module."
# at most this many shape mismatches are listed in an error; one wrong hyper-parameter breaks many keys
SHOWN_MISMATCHES = 8


def read_checkpoint(
    source: str | os.PathLike | Mapping, kind: str = "checkpoint", strip_prefixes: tuple[str, ...] = (DDP_PREFIX,)
) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint, as a flat state dict.

    Args:
        source: a `.safetensors` file, a `.pth` / `.pt` / `.bin` file (read with `weights_only=True`), or a
            state dict already in memory.
        kind: what the checkpoint is, for error messages ("Side4Video checkpoint").
        strip_prefixes: removed from the start of every key, in this order (each at most once).

    A dict nested under one of `WRAPPER_KEYS` is unwrapped; entries that are not tensors (epochs, optimizer
    steps) are left out.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = f"{kind} {path}"
        if not path.is_file():
            raise FileNotFoundError(f"{name} does not exist")
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
            except pickle.UnpicklingError as error:
                # torch names the refused class after "Unsupported global:"; its advice to unpickle anyway is left out
                refused = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
                detail = f"it holds an object of class {refused.group(1)}" if refused else "not a tensor checkpoint"
                raise ValueError(
                    f"{name} cannot be read with torch.load(weights_only=True): {detail}. Python objects are never "
                    f"unpickled here; save the state dict alone (or as .safetensors) and convert that."
                ) from error
    else:
        name = f"{kind} <state dict>"
        state = source
    if not isinstance(state, Mapping):
        raise ValueError(f"{name}: expected a state dict, got {type(state).__name__}")
    for key in WRAPPER_KEYS:
        if isinstance(state.get(key), Mapping):
            state = state[key]
            break
    flat = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            continue
        for prefix in strip_prefixes:
            key = key.removeprefix(prefix)
        flat[key] = value
    if not flat:
        raise ValueError(f"{name} holds no tensors")
    return flat


def source_name(source) -> str:
    """How messages name a checkpoint: its path, or `<state dict>`."""
    return os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<state dict>"


@dataclass
class ConversionReport:
    """What a converter did with each tensor.

    Model-side names (`loaded`, `adapted`, `zero_initialised`, `missing`, `mismatched`) are the keys of the module
    the converter loads into; checkpoint-side names (`dropped`, `unexpected`) are the checkpoint's own keys after
    `read_checkpoint`.

    loaded: copied into the model (the adapted ones included).
    adapted: loaded after a change of shape or layout, with how.
    zero_initialised: absent from the checkpoint and set to zero by the converter.
    dropped: in the checkpoint and deliberately not loaded, with why.
    missing: in the model, not in the checkpoint; they keep their initialisation.
    unexpected: in the checkpoint, with no place in the model.
    mismatched: shapes that cannot be repaired, as (checkpoint shape, model shape); see `raise_for_mismatches`.
    """

    loaded: list[str] = field(default_factory=list)
    adapted: dict[str, str] = field(default_factory=dict)
    zero_initialised: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = field(default_factory=dict)

    def add_mismatch(self, key: str, checkpoint_shape, model_shape) -> None:
        self.mismatched[key] = (tuple(checkpoint_shape), tuple(model_shape))

    def raise_for_mismatches(self, source: str, hint: str = "") -> None:
        """One ValueError listing every shape mismatch (the first `SHOWN_MISMATCHES`), if there is any."""
        if not self.mismatched:
            return
        lines = [
            f"{key} has shape {checkpoint} in the checkpoint but {model} in the model"
            for key, (checkpoint, model) in self.mismatched.items()
        ]
        if len(lines) > SHOWN_MISMATCHES:
            lines = lines[:SHOWN_MISMATCHES] + [f"... and {len(lines) - SHOWN_MISMATCHES} more"]
        hint = f" ({hint})" if hint else ""
        raise ValueError(f"{source} does not fit the model's config{hint}:\n  " + "\n  ".join(lines))

    def raise_if_incomplete(self, source: str) -> None:
        """A ValueError naming every missing and unexpected key, if there is any."""
        problems = [f"missing {key}" for key in self.missing] + [f"unexpected {key}" for key in self.unexpected]
        if problems:
            raise ValueError(f"{source} does not match the model: " + "; ".join(problems))

    def __str__(self) -> str:
        counts = [f"loaded {len(self.loaded)} tensors"]
        for label, entries in (
            ("adapted", self.adapted),
            ("set to zero", self.zero_initialised),
            ("dropped", self.dropped),
            ("missing", self.missing),
            ("unexpected", self.unexpected),
            ("mismatched", self.mismatched),
        ):
            counts.append(f"{label} {len(entries)}")
        return ", ".join(counts)

    def summary(self) -> str:
        """Counts, then one line per tensor that was not simply copied."""
        lines = [str(self)]
        lines += [f"adapted {key}: {how}" for key, how in self.adapted.items()]
        lines += [f"set to zero {key}" for key in self.zero_initialised]
        lines += [f"dropped {key}: {why}" for key, why in self.dropped.items()]
        lines += [f"missing {key}" for key in self.missing]
        lines += [f"unexpected {key}" for key in self.unexpected]
        lines += [f"mismatched {key}: checkpoint {c}, model {m}" for key, (c, m) in self.mismatched.items()]
        return "\n".join(lines)


__all__ = ["ConversionReport", "DDP_PREFIX", "WRAPPER_KEYS", "read_checkpoint", "source_name"]
