# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The plan of a preparation: the shards (which clips each one holds) and `plan.json`, which binds an output
folder to its inputs and settings so that a resumed run cannot mix two preparations.

Each split's clips are sorted by id and cut into shards of `shard_size` clips, so the plan depends neither on
the order of the source's files nor on the number of processes. A run that finds a `plan.json` with other
inputs or settings refuses to continue once a shard is finished, naming each setting (then and now), and
replaces the old plan when none is. The settings include everything that changes the stored depth
(`depth_settings`): the model (for a local folder, a digest of its files, so changed weights at the same path
are caught, and `path/`, `path` or a relative spelling of the same folder are the same model), its revision,
the precision it runs in, its input size and aspect handling, the normalisation and the codec options.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...video_io import DEPTH_CODEC, DEPTH_CODEC_OPTIONS
from ..sources.base import ClipEntry, SourceInputError

logger = logging.getLogger(__name__)

DEFAULT_SHARD_SIZE = 500
STATE_DIR = ".prepare"  # a leading dot: datasets' data-file resolution skips it
PLAN_FILE = "plan.json"  # in the state folder
PLAN_VERSION = 1  # later keys were only added, and an earlier plan without them still resumes


@dataclass(frozen=True)
class Shard:
    split: str
    index: int
    num_shards: int
    entries: tuple[ClipEntry, ...]

    @property
    def name(self) -> str:
        return f"{self.split}-{self.index:05d}-of-{self.num_shards:05d}"


def sort_key(clip_id: str):
    return (0, int(clip_id), "") if clip_id.isdigit() else (1, 0, clip_id)


def plan_shards(splits: dict[str, list[ClipEntry]], shard_size: int) -> list[Shard]:
    """Every split's clips sorted by id and cut into shards of `shard_size` (all of one split)."""
    if shard_size < 1:
        raise ValueError(f"shard_size must be at least 1, got {shard_size}")
    shards = []
    for split, entries in splits.items():
        ordered = sorted(entries, key=lambda e: sort_key(e.clip_id))
        count = -(-len(ordered) // shard_size)  # an empty split has no shards
        for k in range(count):
            shards.append(Shard(split, k, count, tuple(ordered[k * shard_size : (k + 1) * shard_size])))
    return shards


def clips_digest(entries: Sequence[ClipEntry]) -> str:
    """What a split's clips are: ids, labels, files and segments."""
    ordered = sorted(entries, key=lambda e: sort_key(e.clip_id))
    lines = (
        f"{e.clip_id}\t{json.dumps(e.labels, sort_keys=True)}\t{e.path}\t{e.start}\t{e.end}\t{e.time_unit}"
        for e in ordered
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------- depth settings


def model_display_name(name: str) -> str:
    """How a depth model is named in the rows and the card: a local folder without a trailing separator."""
    return os.path.normpath(name) if os.path.isdir(os.path.expanduser(name)) else name


def model_files_digest(folder: str) -> str | None:
    """sha256 over the files of a local model folder (weights, config, preprocessing; not its README), so that
    changed weights at the same path are told apart; None for a Hub id."""
    path = Path(os.path.expanduser(folder))
    if not path.is_dir():
        return None
    digest = hashlib.sha256()
    for file in sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")):
        if file.suffix.lower() == ".md":
            continue
        inner = hashlib.sha256()
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                inner.update(block)
        digest.update(f"{file.name}\0{inner.hexdigest()}\n".encode())
    return digest.hexdigest()


def depth_settings(estimator, model_name: str, revision: str | None = None) -> dict:
    """Every setting of `estimator` that changes the stored depth, JSON-friendly: the model (name, digest of a
    local folder's files, revision and resolved commit), precision (autocast dtype), input preprocessing (size,
    aspect handling, mean/std) and memory layout. A stand-in without these attributes records None for them
    (unknown: not compared on resume)."""
    dtype = getattr(estimator, "autocast_dtype", None)
    model = getattr(estimator, "model", None)
    config = getattr(model, "config", None)
    preprocessing = getattr(estimator, "_preprocessing", None)
    return {
        "model": model_display_name(model_name),
        "model_files_sha256": model_files_digest(model_name),
        "revision": revision,
        "commit": getattr(config, "_commit_hash", None),
        "precision": None
        if not hasattr(estimator, "autocast_dtype")
        else "float32"
        if dtype is None
        else str(dtype).replace("torch.", ""),
        "input": None if preprocessing is None else json.loads(json.dumps(preprocessing)),
        "channels_last": getattr(estimator, "channels_last", None),
    }


def build_plan(
    splits: dict[str, list[ClipEntry]],
    shards: Sequence[Shard],
    shard_size: int,
    model_name: str,
    normalize: str,
    codec_options: dict | None,
    *,
    labels_digest: str,
    ids_digest: Callable[[Sequence[ClipEntry]], str] = clips_digest,
    settings: dict | None = None,
    extra: dict | None = None,
) -> dict:
    """The content of `plan.json`: what the output folder is bound to."""
    plan = {
        "version": PLAN_VERSION,
        "shard_size": int(shard_size),
        "splits": {
            split: {
                "videos": len(entries),
                "shards": sum(s.split == split for s in shards),
                "ids_sha256": ids_digest(entries),
            }
            for split, entries in splits.items()
        },
        "label_names_sha256": labels_digest,
        "depth_model": model_name,
        "normalize": normalize,
        "depth_codec": DEPTH_CODEC,
        "depth_codec_options": codec_options or dict(DEPTH_CODEC_OPTIONS),
    }
    if settings is not None:
        plan["depth_settings"] = settings
    plan.update(extra or {})
    return plan


_SAME_KEYS = ("version", "shard_size", "normalize", "depth_codec", "depth_codec_options")


def _model_changes(previous: dict, plan: dict) -> list[str]:
    before, now = previous.get("depth_settings"), plan.get("depth_settings")
    if before is None or now is None:  # a plan of an earlier version: compare the names it has
        old, new = previous.get("depth_model"), plan.get("depth_model")
        if old is not None and model_display_name(str(old)) != model_display_name(str(new)):
            return [f"depth_model: {old!r} then, {new!r} now"]
        if before is None and now is not None:
            logger.warning("the earlier plan does not record the depth model's precision and input settings")
        return []
    changes = []
    if before.get("model_files_sha256") and now.get("model_files_sha256"):
        # a local folder: the files decide, wherever the folder is and however it is spelled
        if before["model_files_sha256"] != now["model_files_sha256"]:
            changes.append(
                f"depth model files ({now['model']}): sha256 {before['model_files_sha256'][:12]}... then, "
                f"{now['model_files_sha256'][:12]}... now (the weights or config changed)"
            )
    elif before.get("model") != now.get("model"):
        changes.append(f"depth_model: {before.get('model')!r} then, {now.get('model')!r} now")
    for key in ("revision", "commit", "precision", "input", "channels_last"):
        if key != "revision" and (before.get(key) is None or now.get(key) is None):
            continue  # unknown on one side (a stand-in estimator without the attribute, a local folder's commit)
        if before.get(key) != now.get(key):
            changes.append(f"depth {key}: {before.get(key)!r} then, {now.get(key)!r} now")
    return changes


def plan_changes(previous: dict, plan: dict) -> list[str]:
    """What differs between the plan of an earlier run and this one, in words."""
    changes = []
    for key in _SAME_KEYS:
        if previous.get(key) != plan.get(key):
            changes.append(f"{key}: {previous.get(key)!r} then, {plan.get(key)!r} now")
    changes += _model_changes(previous, plan)
    for key in sorted(set(previous) | set(plan)):
        if key.startswith("source_") and previous.get(key) != plan.get(key):
            changes.append(f"{key}: {previous.get(key)!r} then, {plan.get(key)!r} now")
    if previous.get("label_names_sha256") != plan.get("label_names_sha256"):
        changes.append("the class names changed")
    before, now = previous.get("splits", {}), plan["splits"]
    if sorted(before) != sorted(now):
        changes.append(f"splits: {sorted(before)} then, {sorted(now)} now")
    for split in sorted(set(before) & set(now)):
        if before[split].get("ids_sha256") != now[split]["ids_sha256"]:
            changes.append(f"the clips or labels of the {split} split changed")
    return changes


def _finished_shards(work_dir: Path) -> int:
    folder = work_dir / "shards"
    return sum(1 for _ in folder.glob("*.json")) if folder.is_dir() else 0


def read_plan(work_dir: Path) -> dict | None:
    try:
        return json.loads((work_dir / PLAN_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def check_earlier_plan(
    plan: dict, output_dir: Path, work_dir: Path, error=SourceInputError, writer: str = "this preparation"
) -> list[str]:
    """What differs from the plan an earlier run left in `output_dir` ([] when none, or the same one).

    Raises `error` when the earlier plan differs and finished shards depend on it, or when `output_dir/data`
    holds files that no preparation of this kind wrote.
    """
    plan_path = work_dir / PLAN_FILE
    changed: list[str] = []
    if plan_path.exists():
        try:
            changed = plan_changes(json.loads(plan_path.read_text()), plan)
        except (OSError, json.JSONDecodeError, AttributeError, KeyError, TypeError):
            changed = ["plan.json is unreadable"]
        if changed:
            finished = _finished_shards(work_dir)
            if finished:
                raise error(
                    f"{plan_path}: {output_dir} holds a preparation started with other settings or inputs "
                    f"({'; '.join(changed)}) and {finished} finished shard(s); resume it with the same ones, "
                    f"or write to a new folder"
                )
            # nothing was finished under the old plan: nothing to lose
    elif (output_dir / "data").exists() and any((output_dir / "data").iterdir()):
        raise error(f"{output_dir / 'data'}: not empty and not written by {writer}; choose another folder")
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
