# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`VideoCollator`: dataset rows (encoded video bytes) to model inputs, through `DearVideoProcessor`, decoding and
augmenting on the fly; rows whose video cannot be decoded are skipped in training and marked failed otherwise."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import torch

from ..configuration_dear import DEPTH, RGB, input_name, modality_column
from ..video_io import VideoDecodingError
from .device_augmentation import DeviceTrainAugmentation

logger = logging.getLogger(__name__)


@dataclass
class VideoCollator:
    """Turns dataset rows (encoded video and depth bytes) into model inputs through `DearVideoProcessor`.

    `modalities` (e.g. `config.modalities`) says which columns each row gives: `video` for RGB (always read) and, for
    every other modality, the column of its name (`depth`, `flow`, ...), each handed to the processor under the
    modality's name; the batch holds `pixel_values` and `<modality>_pixel_values`. Left out, `use_depth` decides:
    RGB and depth (the default), or RGB only (`use_depth=False`).

    `mode="train"` augments each video `repeats` times (repeated augmentation: the batch holds `repeats`
    differently augmented copies of every video); "val" takes the centre view; "test" the processor's
    multi-view set, returned with `num_views`.

    `augment_on_device=True` (training only) leaves the augmentation to the training device: the batch holds the
    decoded uint8 frames and each clip's drawn choices (`DearVideoProcessor.decode_for_training`), and
    `DearTrainer` turns them into model inputs on the device (`device_inputs`), with the same draws as the CPU path.

    `label_columns` (e.g. `list(config.label_columns)`) names the rows' label column(s): `["label"]` (the default)
    gives `labels` (B,); several (a model's label sets, `["verb", "noun"]`) give `labels` (B, sets), one column per
    set in that order. Rows without labels (a test split: the column missing, None or -1) give no `labels`.
    """

    processor: object
    mode: str = "val"
    use_depth: bool | None = None
    repeats: int = 1
    seed: int = 0
    rank: int = 0  # the process index: each process of a distributed run augments differently
    augment_on_device: bool = False
    modalities: list[str] | None = None
    label_columns: list[str] | None = None
    _calls: int = field(default=0, init=False, repr=False)
    _device_augmentation: object = field(default=None, init=False, repr=False)
    _last_good_rows: list | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        if self.modalities is None:
            self.modalities = [RGB, DEPTH] if self.use_depth in (None, True) else [RGB]
        else:
            modalities = list(self.modalities)
            self.modalities = modalities if RGB in modalities else [RGB, *modalities]
            if self.use_depth is not None and bool(self.use_depth) != (DEPTH in self.modalities):
                raise ValueError(
                    f"VideoCollator: use_depth={self.use_depth} contradicts modalities={self.modalities}; "
                    "give modalities alone"
                )
        accepted = getattr(self.processor, "modalities", None)
        if accepted is not None and any(m not in accepted for m in self.modalities):
            raise ValueError(
                f"VideoCollator: modalities {self.modalities} include {[m for m in self.modalities if m not in accepted]}, "
                f"which the processor does not take (its modalities are {list(accepted)}); build it with "
                "DearVideoProcessor.from_model_config(config)"
            )

    @property
    def columns(self) -> dict[str, str]:
        """The dataset column read for each modality (`video` for RGB, the modality's name else)."""
        return {modality: modality_column(modality) for modality in self.modalities}

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        repeats = self.repeats if self.mode == "train" else 1
        # a fresh stream per batch and per dataloader worker, reproducible from the run's seed
        worker = torch.utils.data.get_worker_info()
        self._calls += 1
        rng = np.random.default_rng(
            [self.seed, self.rank, worker.id + 1 if worker else 0, self._calls, torch.initial_seed() % 2**32]
        )
        labels = self._labels(rows)
        # Row by row (drawing from one generator in row order, as a whole-batch call would), so that one video
        # that cannot be decoded costs its row, not the batch: training skips it, evaluation marks it failed.
        processed, failed, skipped = [], [], []
        for index, row in enumerate(rows):
            name = str(row.get("video_id", index))
            missing = [column for column in self.columns.values() if column not in row]
            if missing:
                raise ValueError(
                    f"VideoCollator: the rows have no column {missing} (modalities {self.modalities}); "
                    f"their columns are {sorted(row)}"
                )
            try:
                for column in self.columns.values():
                    if row.get(column) is None:
                        raise VideoDecodingError(name, f"the row's '{column}' is empty (null)")
                videos = {
                    "videos": [row[modality_column(RGB)]] * repeats,
                    **{
                        modality: [row[column]] * repeats
                        for modality, column in self.columns.items()
                        if modality != RGB
                    },
                    "labels": [labels[index]] * repeats if labels is not None else None,
                    "seed": rng,
                    "names": [name] * repeats,
                }
                if self.mode == "train" and self.augment_on_device:
                    processed.append(self.processor.decode_for_training(**videos))
                else:
                    processed.append(self.processor(**videos, mode=self.mode, return_tensors="pt"))
                failed.append(False)
            except VideoDecodingError as error:
                logger.warning(
                    "video %s cannot be decoded, %s: %s",
                    name,
                    "skipped" if self.mode == "train" else "marked failed",
                    error,
                )
                processed.append(None)
                failed.append(True)
                skipped.append(name)
        if self.mode == "train":
            good = [(row, batch) for row, batch in zip(rows, processed, strict=True) if batch is not None]
            if not good:
                if self._last_good_rows is None:
                    raise VideoDecodingError(
                        ", ".join(skipped),
                        "no video of this training batch can be decoded, and none was decoded "
                        "before it to stand in: check the dataset",
                    )
                # stand-ins keep the step (and the learning-rate schedule) going; the skips are still counted
                logger.warning("every video of a training batch failed; training on the previous good batch's rows")
                inputs = self(self._last_good_rows)
                inputs["skipped_videos"] = skipped + inputs.get("skipped_videos", [])
                return inputs
            self._last_good_rows = [row for row, _ in good]
            processed = [batch for _, batch in good]
            if self.augment_on_device:
                inputs = _concatenate_decoded(processed)
                if skipped:
                    inputs["skipped_videos"] = skipped
                return inputs
        else:
            placeholder = self._placeholder()
            processed = [batch if batch is not None else placeholder for batch in processed]
        inputs = {"pixel_values": torch.cat([batch["pixel_values"] for batch in processed])}
        for modality in self.modalities[1:]:
            key = input_name(modality)
            inputs[key] = torch.cat([batch.get(key, batch["pixel_values"]) for batch in processed])
        if labels is not None:
            if self.mode == "train":
                inputs["labels"] = torch.cat([batch["labels"] for batch in processed])
            else:
                inputs["labels"] = torch.tensor(labels, dtype=torch.long)
        if self.mode == "test":
            inputs["num_views"] = int(self.processor.num_views)
        if self.mode == "train":
            if skipped:
                inputs["skipped_videos"] = skipped
        elif any(failed):
            inputs["failed_rows"] = torch.tensor(failed)
        return inputs

    def _labels(self, rows: list[dict]) -> list | None:
        """One label per row (an id, or a list of ids with several label columns); None for an unlabelled split."""
        columns = list(self.label_columns or ["label"])
        if not rows or any(rows[0].get(column) is None for column in columns):
            return None
        labels = [[row[column] for column in columns] for row in rows]
        if any(value is None for row in labels for value in row):
            missing = next(
                (str(row.get("video_id", i)), c) for i, row in enumerate(rows) for c in columns if row.get(c) is None
            )
            raise ValueError(
                f"VideoCollator: row {missing[0]} has no {missing[1]!r} label while others of its batch have one; "
                "a split is labelled throughout or not at all"
            )
        if min(min(row) for row in labels) < 0:
            return None  # an unlabelled (test) split
        return labels if len(columns) > 1 else [row[0] for row in labels]

    def _placeholder(self) -> dict[str, torch.Tensor]:
        """Zeros of one row's shape, standing in for a video that cannot be decoded (its scores become NaN)."""
        views = int(self.processor.num_views) if self.mode == "test" else 1
        crop = self.processor.crop_size
        values = torch.zeros(views, self.processor.num_frames, 3, crop["height"], crop["width"])
        return {input_name(modality): values for modality in self.modalities}

    def device_inputs(self, batch: dict) -> dict:
        """Model inputs from an `augment_on_device` batch, computed where the batch's tensors are."""
        if self._device_augmentation is None:
            self._device_augmentation = DeviceTrainAugmentation.from_processor(self.processor)
        inputs = self._device_augmentation(batch)
        if "labels" in batch:
            inputs["labels"] = batch["labels"]
        return inputs


def _concatenate_decoded(batches: list) -> dict[str, torch.Tensor]:
    """`decode_for_training` outputs of single rows → one batch, the frames zero-padded to the largest video."""
    height = max(int(batch["frames"].shape[2]) for batch in batches)
    width = max(int(batch["frames"].shape[3]) for batch in batches)
    inputs = {}
    keys = (*DeviceTrainAugmentation.INPUT_KEYS, *DeviceTrainAugmentation.modality_frame_keys(batches[0]), "labels")
    for key in keys:
        if key not in batches[0]:
            continue
        parts = [batch[key] for batch in batches]
        if key.endswith("frames"):
            # (B, T, H, W, C) for RGB and other modalities, (B, T, H, W) for depth
            padding = [
                (0, 0, 0, width - part.shape[3], 0, height - part.shape[2])
                if part.ndim == 5
                else (0, width - part.shape[3], 0, height - part.shape[2])
                for part in parts
            ]
            parts = [torch.nn.functional.pad(part, pad) for part, pad in zip(parts, padding, strict=True)]
        inputs[key] = torch.cat(parts)
    return inputs
