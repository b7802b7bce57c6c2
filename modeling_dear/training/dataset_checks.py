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
    if needs_labels and "label" not in columns:
        missing.append("'label'")
    if missing:
        raise ValueError(
            f"dataset split '{split_name}' has no column "
            + "; no column ".join(missing)
            + f"; its columns are {sorted(columns)}"
        )
    if not needs_labels:
        return
    label_feature = dataset.features.get("label")
    names = getattr(label_feature, "names", None)
    if names is not None and len(names) != config.num_labels:
        raise ValueError(
            f"dataset split '{split_name}' has {len(names)} classes but the model has {config.num_labels} "
            f"(id2label); build the config with the dataset's labels or choose a matching preset"
        )
    if names is not None:
        model_names = [config.id2label[i] for i in range(config.num_labels)]
        if names != model_names:
            first = next(i for i, (a, b) in enumerate(zip(names, model_names, strict=True)) if a != b)
            raise ValueError(
                f"dataset split '{split_name}' calls class {first} {names[first]!r}, the model {model_names[first]!r}"
            )
    if not hasattr(dataset, "__len__"):
        return  # a stream (--streaming): its labels are checked as the rows pass (training.streaming.RepeatedStream)
    labels = np.asarray(dataset["label"])
    bad = labels[(labels < 0) | (labels >= config.num_labels)]
    if len(bad):
        raise ValueError(
            f"dataset split '{split_name}' has labels outside id2label [0, {config.num_labels}): e.g. {bad[:5].tolist()}"
        )
