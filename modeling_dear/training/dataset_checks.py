# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Checks that a dataset split can feed a model, run before any training step."""

from __future__ import annotations

import numpy as np

from ..configuration_dear import RGB, DearConfig, modality_column


def check_dataset_fits_model(dataset, config: DearConfig, split_name: str, needs_labels: bool = True) -> None:
    """Raise before training when a split cannot feed this model: missing columns, labels, class count.

    The columns a model needs follow `config.modalities`: `video` (RGB; always, as the processor samples the clip
    from it), then each other modality's column, named after the modality (`depth`, `flow`, ...)."""
    columns = set(dataset.column_names or [])
    missing = []
    if modality_column(RGB) not in columns:
        missing.append(f"{modality_column(RGB)!r} (the RGB videos)")
    for modality in config.modalities:
        column = modality_column(modality)
        if modality != RGB and column not in columns:
            readers = config.encoders_reading(modality)
            missing.append(
                f"{column!r} (the model has a {modality} encoder): {', '.join(readers)} "
                f"read{'s' if len(readers) == 1 else ''} it"
            )
    label_columns = config.label_columns  # {"label": id2label}, or the model's label sets by column
    if needs_labels:
        missing += [
            f"{column!r}" + (" (a label set)" if config.label_sets else "")
            for column in label_columns
            if column not in columns
        ]
    if missing:
        raise ValueError(
            f"dataset split '{split_name}' has no column "
            + "; no column ".join(missing)
            + f"; its columns are {sorted(columns)}"
        )
    if not needs_labels:
        return
    for column, id2label in label_columns.items():
        _check_label_column(dataset, column, id2label, split_name, config.label_sets is not None)


def _check_label_column(dataset, column: str, id2label: dict[int, str], split_name: str, is_set: bool) -> None:
    num_labels = len(id2label)
    what = f"label set {column!r}" if is_set else "the model"
    # a model with one label set reads the column "label": its messages need not name it
    in_column = f" in column {column!r}" if is_set else ""
    of_column = f" of column {column!r}" if is_set else ""
    label_feature = dataset.features.get(column)
    names = getattr(label_feature, "names", None)
    if names is not None and len(names) != num_labels:
        raise ValueError(
            f"dataset split '{split_name}' has {len(names)} classes{in_column} but {what} has {num_labels} "
            f"({'label_sets' if is_set else 'id2label'}); build the config with the dataset's labels or choose a matching preset"
        )
    if names is not None:
        model_names = [id2label[i] for i in range(num_labels)]
        if names != model_names:
            first = next(i for i, (a, b) in enumerate(zip(names, model_names, strict=True)) if a != b)
            raise ValueError(
                f"dataset split '{split_name}' calls class {first}{of_column} {names[first]!r}, {what} "
                f"{model_names[first]!r}"
            )
    if not hasattr(dataset, "__len__"):
        return  # a stream (--streaming): its labels are checked as the rows pass (training.streaming.RepeatedStream)
    labels = np.asarray(dataset[column])
    bad = labels[(labels < 0) | (labels >= num_labels)]
    if len(bad):
        raise ValueError(
            f"dataset split '{split_name}' has labels{in_column} outside "
            f"{'the label set' if is_set else 'id2label'} [0, {num_labels}): e.g. {bad[:5].tolist()}"
        )
