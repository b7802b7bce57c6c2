# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`predictions.jsonl`: one line per video of a predicted split (what
`modeling_dear.evaluation.per_class_comparison` reads)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch


def write_predictions(
    path: str | os.PathLike, scores: np.ndarray, dataset, id2label: dict[int, str], top_k: int = 5
) -> None:
    """One JSON line per video: id, true label (when known), predicted label, top-k and all class scores.

    A video that could not be decoded (NaN scores) gets `"failed": true` and no prediction, so that every row of
    the split has its line."""
    scores = np.asarray(scores[0] if isinstance(scores, tuple) else scores, dtype=np.float64)
    decoded = ~np.isnan(scores).any(axis=1)
    good = scores[decoded]
    if len(good) and (good.max() > 1 or good.min() < 0 or not np.allclose(good.sum(axis=1), 1, atol=1e-3)):
        scores[decoded] = torch.from_numpy(good).softmax(dim=-1).numpy()
    has_labels = "label" in dataset.column_names
    ids = dataset["video_id"] if "video_id" in dataset.column_names else list(range(len(dataset)))
    labels = dataset["label"] if has_labels else [None] * len(dataset)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for video_id, label, row, ok in zip(ids, labels, scores, decoded, strict=False):
            record = {
                "video_id": str(video_id),
                "label": None if label is None or label < 0 else int(label),
                "label_name": None if label is None or label < 0 else id2label[int(label)],
            }
            if ok:
                ranking = np.argsort(-row, kind="stable")[:top_k]
                record.update(
                    {
                        "prediction": int(ranking[0]),
                        "prediction_name": id2label[int(ranking[0])],
                        "top_k": [int(i) for i in ranking],
                        "scores": [round(float(s), 6) for s in row],
                    }
                )
            else:
                record.update(
                    {
                        "failed": True,
                        "error": "the video cannot be decoded (see the run's log)",
                        "prediction": None,
                        "prediction_name": None,
                        "top_k": None,
                        "scores": None,
                    }
                )
            handle.write(json.dumps(record) + "\n")
