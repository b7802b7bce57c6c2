# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The Trainer's `compute_metrics`: top-1, top-5 and mean class accuracy, leaving out videos not decoded; for models
with several label sets, those of each set and, with `verb` and `noun`, EPIC-Kitchens' action top-1 and top-5."""

from __future__ import annotations

import numpy as np

from ..label_sets import action_id, action_scores, probabilities_per_label_set, split_label_sets


def video_accuracy_metrics(id2label: dict[int, str], label_sets: dict[str, dict[int, str]] | None = None):
    """`compute_metrics` for the Trainer: top-1/top-5/mean class accuracy from the package's `evaluate` module.

    With `label_sets` (`config.label_sets`), the scores are the sets' concatenated scores and the label ids one
    column per set: the metrics are `<set>_top1`, `<set>_top5`, `<set>_mean_class_accuracy` per set, and, when the
    sets include `verb` and `noun`, `action_top1` and `action_top5` (a segment's action is right when both its verb
    and noun are; actions ranked as EPIC-Kitchens ranks them, `label_sets.action_scores`).

    Per-class accuracies are kept on the function (`.last_per_class`, by label set with label sets) rather than
    logged as metrics.
    """
    from ..evaluation import load_video_accuracy

    metric = load_video_accuracy()

    def compute_metrics(eval_prediction):
        scores = eval_prediction.predictions
        scores = np.asarray(scores[0] if isinstance(scores, tuple) else scores)
        # rows marked failed (NaN scores: the video could not be decoded) are left out and counted
        decoded = ~np.isnan(scores).any(axis=1)
        references = np.asarray(eval_prediction.label_ids)[decoded]
        if label_sets is None:
            result = metric.compute(predictions=scores[decoded], references=references)
            compute_metrics.last_per_class = _per_class(result, id2label)
            metrics = {key: result[key] for key in ("top1", "top5", "mean_class_accuracy")}
        else:
            metrics = label_set_metrics(scores[decoded], references.reshape(len(references), -1), label_sets, metric)
            compute_metrics.last_per_class = metrics.pop("per_class")
        metrics["failed_videos"] = int((~decoded).sum())
        return metrics

    compute_metrics.last_per_class = {}
    return compute_metrics


def label_set_metrics(scores: np.ndarray, references: np.ndarray, label_sets: dict[str, dict[int, str]], metric=None):
    """Metrics of (N, ΣC) scores against (N, number of sets) label ids: per set, and actions (see above).

    Returns the metrics and, under `"per_class"`, each set's per-class accuracies by class name."""
    if metric is None:
        from ..evaluation import load_video_accuracy

        metric = load_video_accuracy()
    sizes = {name: len(classes) for name, classes in label_sets.items()}
    parts = split_label_sets(probabilities_per_label_set(scores, sizes), sizes)
    metrics, per_class = {}, {}
    for index, (name, part) in enumerate(parts.items()):
        result = metric.compute(predictions=part, references=references[:, index])
        metrics.update({f"{name}_{key}": result[key] for key in ("top1", "top5", "mean_class_accuracy")})
        per_class[name] = _per_class(result, label_sets[name])
    if "verb" in parts and "noun" in parts:
        names = list(parts)
        truth = action_id(references[:, names.index("verb")], references[:, names.index("noun")])
        if len(truth):
            ranked, _ = action_scores(parts["verb"], parts["noun"], top_actions=5)
            hits = ranked.numpy() == truth[:, None]
            metrics["action_top1"] = float(hits[:, :1].any(axis=1).mean())
            metrics["action_top5"] = float(hits.any(axis=1).mean())
        else:
            metrics["action_top1"] = metrics["action_top5"] = 0.0
    metrics["per_class"] = per_class
    return metrics


def _per_class(result: dict, id2label: dict[int, str]) -> dict[str, float]:
    return {id2label[i]: accuracy for i, accuracy in enumerate(result["per_class_accuracy"]) if accuracy is not None}
