# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Video classification accuracy as an `evaluate` metric: top-1, top-5, mean class accuracy, per-class accuracy.

Shipped inside the package and loaded from its local path, since the Hub (where `evaluate.load("accuracy")`
looks) may not be reachable:

    from modeling_dear.evaluation import load_video_accuracy
    metric = load_video_accuracy()
    metric.compute(predictions=scores, references=labels)   # scores: (N, C) logits or probabilities
"""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """Top-k accuracy of (N, C) class scores against integer labels, and accuracy per class.
Mean class accuracy averages the per-class accuracies of the classes that occur in the references."""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list[list[float]]`): class scores per example (logits or probabilities), shape (N, C).
    references (`list[int]`): the true class of each example, in [0, C).
    top_k (`list[int]`, defaults to [1, 5]): which top-k accuracies to report (k larger than C is clipped).
Returns:
    top1, top5 (`float`): fraction of examples whose label is among the k highest scores.
    mean_class_accuracy (`float`): mean of the per-class top-1 accuracies over the classes present.
    per_class_accuracy (`list[float | None]`): top-1 accuracy of each class (None for a class with no example).
    per_class_count (`list[int]`): examples of each class.
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class VideoAccuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Sequence(datasets.Value("float32")), "references": datasets.Value("int64")}
            ),
        )

    def _compute(self, predictions, references, top_k=(1, 5)):
        scores = np.asarray(predictions, dtype=np.float64)
        labels = np.asarray(references, dtype=np.int64)
        if scores.ndim != 2 or len(scores) != len(labels):
            raise ValueError(f"predictions must be (N, C) scores for N={len(labels)} references, got {scores.shape}")
        num_classes = scores.shape[1]
        if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"references must be class ids in [0, {num_classes}), got [{labels.min()}, {labels.max()}]"
            )
        # stable ranking: ties broken towards the lower class id, like argmax
        ranking = np.argsort(-scores, axis=1, kind="stable")
        results = {}
        for k in top_k:
            hits = (ranking[:, : min(k, num_classes)] == labels[:, None]).any(axis=1)
            results[f"top{k}"] = float(hits.mean()) if len(labels) else 0.0
        correct = ranking[:, 0] == labels
        counts = np.bincount(labels, minlength=num_classes)
        hits_per_class = np.bincount(labels, weights=correct, minlength=num_classes)
        per_class = [float(hits_per_class[c] / counts[c]) if counts[c] else None for c in range(num_classes)]
        present = [value for value in per_class if value is not None]
        results["mean_class_accuracy"] = float(np.mean(present)) if present else 0.0
        results["per_class_accuracy"] = per_class
        results["per_class_count"] = counts.tolist()
        return results
