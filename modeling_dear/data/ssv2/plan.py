# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The plan of a preparation: the shards (which videos each one holds) and `plan.json`, which binds an output
folder to its inputs and settings so that a resumed run cannot mix two preparations.

Each split's entries are sorted by id and cut into shards of `shard_size` videos, so the plan depends neither
on the order of the label files nor on the number of processes. A run that finds a `plan.json` with other
inputs or settings refuses to continue once a shard is finished, and replaces the old plan when none is.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...video_io import DEPTH_CODEC, DEPTH_CODEC_OPTIONS
from .errors import SSv2InputError
from .labels import Annotation

logger = logging.getLogger(__name__)

DEFAULT_SHARD_SIZE = 500
STATE_DIR = ".prepare_ssv2"  # a leading dot: datasets' data-file resolution skips it
PLAN_FILE = "plan.json"  # in STATE_DIR
PLAN_VERSION = 1


@dataclass(frozen=True)
class Shard:
    split: str
    index: int
    num_shards: int
    entries: tuple[Annotation, ...]

    @property
    def name(self) -> str:
        return f"{self.split}-{self.index:05d}-of-{self.num_shards:05d}"


def _sort_key(video_id: str):
    return (0, int(video_id), "") if video_id.isdigit() else (1, 0, video_id)


def plan_shards(annotations: dict[str, list[Annotation]], shard_size: int) -> list[Shard]:
    """Every split's entries sorted by id and cut into shards of `shard_size` (all of one split)."""
    if shard_size < 1:
        raise ValueError(f"shard_size must be at least 1, got {shard_size}")
    shards = []
    for split, entries in annotations.items():
        ordered = sorted(entries, key=lambda e: _sort_key(e.video_id))
        count = -(-len(ordered) // shard_size)  # an empty split has no shards
        for k in range(count):
            shards.append(Shard(split, k, count, tuple(ordered[k * shard_size : (k + 1) * shard_size])))
    return shards


def _ids_digest(entries: Sequence[Annotation]) -> str:
    ordered = sorted(entries, key=lambda e: _sort_key(e.video_id))
    return hashlib.sha256("\n".join(f"{e.video_id}\t{e.label}" for e in ordered).encode()).hexdigest()


def build_plan(
    annotations: dict[str, list[Annotation]],
    label_names: Sequence[str],
    shards: Sequence[Shard],
    shard_size: int,
    model_name: str,
    normalize: str,
    codec_options: dict | None,
) -> dict:
    """The content of `plan.json`: what the output folder is bound to."""
    return {
        "version": PLAN_VERSION,
        "shard_size": int(shard_size),
        "splits": {
            split: {
                "videos": len(entries),
                "shards": sum(s.split == split for s in shards),
                "ids_sha256": _ids_digest(entries),
            }
            for split, entries in annotations.items()
        },
        "label_names_sha256": hashlib.sha256("\n".join(label_names).encode()).hexdigest(),
        "depth_model": model_name,
        "normalize": normalize,
        "depth_codec": DEPTH_CODEC,
        "depth_codec_options": codec_options or dict(DEPTH_CODEC_OPTIONS),
    }


def _plan_changes(previous: dict, plan: dict) -> list[str]:
    """What differs between the plan of an earlier run and this one, in words."""
    changes = []
    for key in ("version", "shard_size", "depth_model", "normalize", "depth_codec", "depth_codec_options"):
        if previous.get(key) != plan.get(key):
            changes.append(f"{key}: {previous.get(key)!r} then, {plan.get(key)!r} now")
    if previous.get("label_names_sha256") != plan.get("label_names_sha256"):
        changes.append("labels.json changed")
    before, now = previous.get("splits", {}), plan["splits"]
    if sorted(before) != sorted(now):
        changes.append(f"splits: {sorted(before)} then, {sorted(now)} now")
    for split in sorted(set(before) & set(now)):
        if before[split].get("ids_sha256") != now[split]["ids_sha256"]:
            changes.append(f"the ids or labels of {split}.json changed")
    return changes


def _finished_shards(work_dir: Path) -> int:
    folder = work_dir / "shards"
    return sum(1 for _ in folder.glob("*.json")) if folder.is_dir() else 0


def check_earlier_plan(plan: dict, output_dir: Path, work_dir: Path) -> list[str]:
    """What differs from the plan an earlier run left in `output_dir` ([] when none, or the same one).

    Raises `SSv2InputError` when the earlier plan differs and finished shards depend on it, or when
    `output_dir/data` holds files that no preparation of this kind wrote.
    """
    plan_path = work_dir / PLAN_FILE
    changed: list[str] = []
    if plan_path.exists():
        try:
            changed = _plan_changes(json.loads(plan_path.read_text()), plan)
        except (OSError, json.JSONDecodeError, AttributeError, KeyError, TypeError):
            changed = ["plan.json is unreadable"]
        if changed:
            finished = _finished_shards(work_dir)
            if finished:
                raise SSv2InputError(
                    f"{plan_path}: {output_dir} holds a preparation started with other settings or inputs "
                    f"({'; '.join(changed)}) and {finished} finished shard(s); resume it with the same ones, "
                    f"or write to a new folder"
                )
            # nothing was finished under the old plan: nothing to lose
    elif (output_dir / "data").exists() and any((output_dir / "data").iterdir()):
        raise SSv2InputError(f"{output_dir / 'data'}: not empty and not written by prepare_ssv2; choose another folder")
    return changed


def discard_earlier_plan(output_dir: Path, work_dir: Path, shards: Sequence[Shard], changed: Sequence[str]) -> None:
    """Remove the plan of an earlier run that finished no shard, and the unfinished shard files it left."""
    plan_path = work_dir / PLAN_FILE
    logger.warning(
        "%s: replacing the plan of an earlier run that finished no shard (%s)", plan_path, "; ".join(changed)
    )
    keep = {f"{s.name}.parquet" for s in shards}
    for stale in (output_dir / "data").glob("*.parquet") if (output_dir / "data").is_dir() else ():
        if stale.name not in keep:
            stale.unlink(missing_ok=True)  # unfinished shard of the old plan, no manifest vouches for it
    plan_path.unlink(missing_ok=True)
