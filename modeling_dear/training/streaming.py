# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`--streaming`: the training split read as a `datasets.IterableDataset` (nothing copied to disk first), each
process reading its own shards; evaluation and prediction read their split whole (see `StreamingSplits`).

How the training stream is cut: the Parquet shards (files) of the split are shuffled with the run's seed (the same
order in every process), then `datasets.distributed.split_dataset_by_node` gives each process its share. When the
shard count is a multiple of the process count, each process reads whole shards of its own; otherwise every process
reads every shard and keeps one row in `world_size` (slower, and said so in the log). Rows then pass a shuffle
buffer (`--shuffle_buffer_size`). The stream repeats, reshuffled each pass (`set_epoch`), so that every process
takes exactly `--max_steps` steps whatever its share's length; the DataLoader's workers divide the process's shards
among themselves (`datasets` does that).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from pathlib import Path

import torch

logger = logging.getLogger(__name__)


def _is_local(dataset: str) -> bool:
    return dataset == "synthetic" or dataset.startswith((".", "/", "~")) or Path(dataset).expanduser().exists()


class StreamingSplits(Mapping):
    """The splits of `--dataset` by name, as the recipe reads them with `--streaming`: `train_split` as a
    `datasets.IterableDataset` (unsplit, unshuffled), every other split loaded on first use as a regular `Dataset`.

    Why evaluation does not stream: a map-style split is sharded over processes by the Trainer's sampler, every
    clip exactly once, so accuracies are exact; an evaluation split is small next to the training one. Only that
    split's files are read (and, for a Hub id, downloaded). A `save_to_disk` folder (or "synthetic") is read as
    it is and its training split turned into a stream of `world_size`-divisible shards."""

    def __init__(self, data_args, train_split: str, world_size: int = 1):
        import datasets

        self.data_args, self.train_split, self.world_size = data_args, train_split, world_size
        self._loaded: dict = {}
        path = Path(data_args.dataset).expanduser()
        self._on_disk = None
        if data_args.dataset == "synthetic" or (path / "dataset_dict.json").is_file():
            from .recipe import load_video_dataset

            self._on_disk = load_video_dataset(data_args)
            self._names = list(self._on_disk)
            return
        if _is_local(data_args.dataset) and not path.is_dir():
            raise FileNotFoundError(
                f"--dataset {data_args.dataset}: no such folder; --streaming reads a folder of Parquet shards or a "
                "Hub dataset id"
            )
        self._builder = datasets.load_dataset_builder(str(path) if path.is_dir() else data_args.dataset)
        self._data_files = dict(self._builder.config.data_files or {})
        if not self._data_files:
            raise ValueError(
                f"--dataset {data_args.dataset}: no data files found for --streaming (expected Parquet shards such as "
                "data/train-00000-of-00004.parquet)"
            )
        self._names = list(self._data_files)

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, name: str):
        if name not in self._names:
            raise KeyError(name)
        if name not in self._loaded:
            self._loaded[name] = self._load(name)
        return self._loaded[name]

    def _load(self, name: str):
        import datasets

        if self._on_disk is not None:
            split = self._on_disk[name]
            if name != self.train_split:
                return split
            files = max(1, len(split.cache_files))
            shards = -(-max(files, self.world_size) // self.world_size) * self.world_size  # a multiple of it
            return split.to_iterable_dataset(num_shards=min(shards, max(1, len(split))))
        path = Path(self.data_args.dataset).expanduser()
        location = str(path) if path.is_dir() else self.data_args.dataset
        if name == self.train_split:
            stream = datasets.load_dataset(location, split=name, streaming=True)
            if stream.features is None:
                stream = stream._resolve_features()  # a format without a schema: read from the first rows
            return stream
        # only this split's files: not the training shards too
        return datasets.load_dataset(location, data_files={name: list(self._data_files[name])}, split=name)

    def num_rows(self, name: str) -> int | None:
        """The split's row count when the dataset says it without being read (its card's `dataset_info`), else None."""
        if self._on_disk is not None:
            return len(self._on_disk[name])
        splits = self._builder.info.splits
        if splits and name in splits and splits[name].num_examples:
            return int(splits[name].num_examples)
        return None


def process_share(stream, *, rank: int, world_size: int, seed: int, buffer_size: int):
    """This process's share of the training `stream`, shuffled (shards, then rows in a buffer of `buffer_size`) with
    `seed`, which must be the same in every process: they then agree on the shard order and read disjoint shards."""
    from datasets.distributed import split_dataset_by_node

    stream = stream.shuffle(seed=seed, buffer_size=buffer_size)
    if world_size > 1:
        shards = stream.num_shards
        if shards % world_size:
            logger.warning(
                "--streaming: the training split has %d shard(s), not a multiple of the %d processes, so every "
                "process reads all of them and keeps one row in %d (each process decodes only its rows, but reads "
                "%dx the bytes): re-shard the split into a multiple of %d files to give each process its own",
                shards,
                world_size,
                world_size,
                world_size,
                world_size,
            )
        else:
            logger.info("--streaming: %d shards over %d processes, %d each", shards, world_size, shards // world_size)
        stream = split_dataset_by_node(stream, rank=rank, world_size=world_size)
    return stream


class RepeatedStream(torch.utils.data.IterableDataset):
    """A process's share of a training stream, repeated (reshuffled each pass) so that it never runs out: every
    process then takes the same number of steps (`--max_steps`), whatever the length of its share. Rows are checked
    as they pass: a label outside the model's classes is an error naming the row.

    `num_rows` is the whole split's row count when known (for the undecodable-video fraction), else None. Left
    without `__len__` on purpose: the Trainer then counts in steps. `DearTrainer` reads `is_process_share` and does
    not split the stream between processes a second time."""

    is_process_share = True

    def __init__(self, stream, num_labels: int | None = None, num_rows: int | None = None, rank: int = 0):
        self.stream, self.num_labels, self.num_rows, self.rank = stream, num_labels, num_rows, rank
        self.skip_batches, self.batch_size = 0, 1

    def resume_after(self, num_batches: int, batch_size: int) -> None:
        """Start the next iteration after the first `num_batches` batches of `batch_size` rows (a resumed run): the
        stream gives the same rows in the same order again (seeded shuffles), so their rows are passed over as
        they are read, never decoded. Counted per DataLoader worker, which each build whole batches in turn; as
        the DataLoader takes the first batch from worker 0 again, the batches of one round of workers may come in
        another order than in the uninterrupted run (the same batches: none lost, none repeated)."""
        self.skip_batches, self.batch_size = int(num_batches), int(batch_size)

    def __iter__(self):
        worker = torch.utils.data.get_worker_info()
        workers, index = (worker.num_workers, worker.id) if worker is not None else (1, 0)
        to_skip = len(range(index, self.skip_batches, workers)) * self.batch_size
        for epoch in itertools.count():
            self.stream.set_epoch(epoch)
            empty = True
            for row in self.stream:
                empty = False
                if to_skip:
                    to_skip -= 1
                    continue
                label = row.get("label")
                if self.num_labels is not None and label is not None and not 0 <= int(label) < self.num_labels:
                    raise ValueError(
                        f"training row {row.get('video_id', '?')!r} has label {label}, outside the model's "
                        f"[0, {self.num_labels}) classes: fix the dataset's label column"
                    )
                yield row
            if empty:
                if worker is not None and worker.id > 0:
                    return  # more loader workers than this process has shards: this one has none
                raise ValueError(
                    f"--streaming: process {self.rank} got no training rows from its share of the stream "
                    f"({self.stream.num_shards} shard(s)): use fewer processes or --dataloader_num_workers, or more "
                    "shards"
                )
