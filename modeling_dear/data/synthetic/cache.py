# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""A cache of generated datasets: `load_or_generate_synthetic` renders a spec's dataset once, saves it under
`<cache_dir>/<spec.cache_key>` and loads it from there afterwards; an interrupted run resumes at its split."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .card import write_card
from .generate import check_spec, generate_splits
from .spec import SyntheticSpec


def default_cache_dir() -> Path:
    from datasets import config

    return Path(config.HF_DATASETS_CACHE) / "dear_synthetic"


def load_or_generate_synthetic(
    spec: SyntheticSpec | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    num_proc: int | None = None,
    progress: bool = False,
):
    """`generate_synthetic_dataset(spec)` with a cache: the first call saves to `cache_dir/<spec.cache_key>`
    (a hash of what changes the data), later calls load from there. `cache_dir` defaults to
    `default_cache_dir()`.

    Each split is kept as soon as it is done, so an interrupted run resumes at the split it was on; the
    finished dataset appears under its final name in one rename, so a reader never sees half of it.
    """
    from datasets import DatasetDict, load_from_disk

    spec = check_spec(spec)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    key = spec.cache_key
    final = root / key
    if (final / "dataset_dict.json").exists():
        return load_from_disk(str(final))
    with _lock(root / f"{key}.lock"):
        if (final / "dataset_dict.json").exists():  # another process finished it while we waited
            return load_from_disk(str(final))
        partial = root / f"{key}.partial"
        partial.mkdir(exist_ok=True)
        done = {}
        for split in spec.splits:
            if (partial / split / ".complete").exists():
                done[split] = load_from_disk(str(partial / split))
        todo = [s for s in spec.splits if s not in done]
        for split, dataset in generate_splits(spec, todo, num_proc, progress):
            shutil.rmtree(partial / split, ignore_errors=True)
            dataset.save_to_disk(str(partial / split))
            (partial / split / ".complete").touch()
            done[split] = dataset
        staging = root / f"{key}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        dataset = DatasetDict({s: done[s] for s in spec.splits})
        dataset.save_to_disk(str(staging))
        write_card(staging, spec, {s: len(d) for s, d in dataset.items()})
        os.replace(staging, final)
        shutil.rmtree(partial, ignore_errors=True)
    return load_from_disk(str(final))


class _lock:
    """An exclusive lock on a file, so that concurrent callers generate a cache entry once."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = None

    def __enter__(self):
        self.handle = open(self.path, "a+")
        try:
            import fcntl

            fcntl.flock(self.handle, fcntl.LOCK_EX)
        except ImportError:  # not POSIX: no lock, a concurrent caller may render the same data again
            pass
        return self

    def __exit__(self, *exc):
        self.handle.close()  # closing releases the lock
