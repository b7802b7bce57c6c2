# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The Trainer's `compute_metrics`: top-1, top-5 and mean class accuracy, leaving out videos not decoded."""

from __future__ import annotations

import numpy as np


def video_accuracy_metrics(id2label: dict[int, str]):
    """`compute_metrics` for the Trainer: top-1/top-5/mean class accuracy from the package's `evaluate` module.

    Per-class accuracies are kept on the function (`.last_per_class`) rather than logged as metrics.
    """
    from ..evaluation import load_video_accuracy

    metric = load_video_accuracy()

    def compute_metrics(eval_prediction):
        scores = eval_prediction.predictions
        scores = np.asarray(scores[0] if isinstance(scores, tuple) else scores)
        # rows marked failed (NaN scores: the video could not be decoded) are left out and counted
        decoded = ~np.isnan(scores).any(axis=1)
        result = metric.compute(predictions=scores[decoded], references=np.asarray(eval_prediction.label_ids)[decoded])
        compute_metrics.last_per_class = {
            id2label[i]: accuracy for i, accuracy in enumerate(result["per_class_accuracy"]) if accuracy is not None
        }
        metrics = {key: result[key] for key in ("top1", "top5", "mean_class_accuracy")}
        metrics["failed_videos"] = int((~decoded).sum())
        return metrics

    compute_metrics.last_per_class = {}
    return compute_metrics
