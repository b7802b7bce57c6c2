# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Rendering a whole dataset from a `SyntheticSpec`: every clip of every split as a row of the prepared SSv2
schema (`data.schema.video_features`), in worker processes when asked, as a `datasets.DatasetDict`."""

from __future__ import annotations

from collections.abc import Sequence

from ...video_io import encode_depth_video
from ..schema import COLUMNS, video_features
from .classes import SYNTHETIC_CLASSES
from .clips import DEPTH_MODEL, clip_seed, encode_rgb, render_clip
from .spec import SyntheticSpec


def render_row(task: tuple[SyntheticSpec, str, int, int]) -> dict:
    """The row of clip `index` of class `label` in `split` (`video_id` is left to the caller)."""
    spec, split, index, label = task
    labelled = spec.labelled(split)
    clip = render_clip(
        label,
        clip_seed(spec.seed, split, label, index),
        spec.height,
        spec.width,
        spec.min_frames,
        spec.max_frames,
        scenes=spec.scenes,
    )
    return {
        "video_id": "",  # numbered by the caller, in row order
        "video": encode_rgb(clip.frames, spec.fps),
        "depth": encode_depth_video(clip.depth, spec.fps),
        "label": clip.label if labelled else -1,
        "template": clip.template if labelled else "",
        "placeholders": clip.placeholders if labelled else [],
        "num_frames": len(clip.frames),
        "fps": float(spec.fps),
        "height": spec.height,
        "width": spec.width,
        "depth_model": DEPTH_MODEL,
    }


def _tasks(spec: SyntheticSpec, split: str) -> list[tuple]:
    # Rows interleave the classes, so that any prefix of a split is balanced.
    return [(spec, split, i, c) for i in range(spec.num_per_class(split)) for c in range(len(SYNTHETIC_CLASSES))]


def generate_splits(spec: SyntheticSpec, splits: Sequence[str], num_proc: int | None, progress: bool):
    """Yields (split, datasets.Dataset) in order."""
    from datasets import Dataset

    features = video_features(list(SYNTHETIC_CLASSES))
    jobs = {split: _tasks(spec, split) for split in splits}
    total = sum(len(j) for j in jobs.values())
    bar = _progress_bar(total, progress)
    executor = None
    num_proc = max(1, int(num_proc or 1))
    if num_proc > 1 and total > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # Fork where there is one (as datasets' own multiprocessing does): a spawned worker re-imports the
        # package, transformers and torch included, which costs seconds per worker. The workers only run
        # numpy and PyAV, so threads the parent may hold (torch's pool) are never touched in a child.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        executor = ProcessPoolExecutor(num_proc, mp_context=multiprocessing.get_context(method))
    try:
        for split, tasks in jobs.items():
            results = executor.map(render_row, tasks, chunksize=4) if executor else map(render_row, tasks)
            rows = []
            for row in results:
                row["video_id"] = f"synthetic-{split}-{len(rows):06d}"
                rows.append(row)
                bar.update(1)
            columns = {name: [row[name] for row in rows] for name in COLUMNS}  # also right for 0 rows
            yield split, Dataset.from_dict(columns, features=features, split=split)
    finally:
        bar.close()
        if executor:
            executor.shutdown()


def _progress_bar(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="rendering synthetic clips", unit="clip", disable=not enabled)


def check_spec(spec) -> SyntheticSpec:
    """`spec`, or `SyntheticSpec()` for None; anything else is refused with what to pass instead."""
    if spec is None:
        return SyntheticSpec()
    if not isinstance(spec, SyntheticSpec):
        raise TypeError(
            f"expected a SyntheticSpec (e.g. SyntheticSpec(num_train_per_class=2, seed=0)), got "
            f"{type(spec).__name__} {spec!r}"
        )
    return spec


def generate_synthetic_dataset(
    spec: SyntheticSpec | None = None, *, num_proc: int | None = None, progress: bool = False
):
    """Render the synthetic dataset of `spec` (default `SyntheticSpec()`): a `datasets.DatasetDict` with its
    train / validation / test splits.

    The features are `data.schema.video_features(SYNTHETIC_CLASSES)`. Like SSv2, the test split is
    unlabelled (label -1, empty template and placeholders) unless `spec.label_test_split`. A split asked for
    with 0 clips per class is left out. The same spec gives the same bytes whatever `num_proc`.
    """
    from datasets import DatasetDict

    spec = check_spec(spec)
    return DatasetDict(dict(generate_splits(spec, spec.splits, num_proc, progress)))
