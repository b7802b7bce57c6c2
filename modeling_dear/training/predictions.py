# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`predictions.jsonl`: one line per video of a predicted split (what
`modeling_dear.evaluation.per_class_comparison` reads); for models with label sets, the same fields per set (and
the top actions for verb and noun sets), and an EPIC-Kitchens leaderboard file (`write_action_submission`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch


def write_predictions(
    path: str | os.PathLike,
    scores: np.ndarray,
    dataset,
    id2label: dict[int, str],
    top_k: int = 5,
    label_sets: dict[str, dict[int, str]] | None = None,
) -> None:
    """One JSON line per video: id, true label (when known), predicted label, top-k and all class scores.

    A video that could not be decoded (NaN scores) gets `"failed": true` and no prediction, so that every row of
    the split has its line.

    With `label_sets` (`config.label_sets`; `scores` then holds the sets' scores one after the other, the dataset a
    column per set), a line is `{"video_id", "label_sets": [names], <set>: {the fields above for that set}, ...}`
    and, for `verb` and `noun` sets, `"action"`: the true action id (verb × 1000 + noun, when known) and the
    `top_k` actions (ids, `"verb noun"` names, scores) as EPIC-Kitchens ranks them."""
    if label_sets is not None:
        return _write_label_set_predictions(path, scores, dataset, label_sets, top_k)
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


def _label_record(label, row, ok: bool, id2label: dict[int, str], top_k: int) -> dict:
    known = label is not None and label >= 0
    record = {"label": int(label) if known else None, "label_name": id2label[int(label)] if known else None}
    if not ok:
        return {**record, "prediction": None, "prediction_name": None, "top_k": None, "scores": None}
    ranking = np.argsort(-row, kind="stable")[:top_k]
    return {
        **record,
        "prediction": int(ranking[0]),
        "prediction_name": id2label[int(ranking[0])],
        "top_k": [int(i) for i in ranking],
        "scores": [round(float(s), 6) for s in row],
    }


def _write_label_set_predictions(path, scores, dataset, label_sets: dict[str, dict[int, str]], top_k: int) -> None:
    from ..label_sets import (
        ACTION_VERB_MULTIPLIER,
        action_id,
        action_scores,
        probabilities_per_label_set,
        split_label_sets,
    )

    sizes = {name: len(classes) for name, classes in label_sets.items()}
    scores = np.asarray(scores[0] if isinstance(scores, tuple) else scores, dtype=np.float64)
    decoded = ~np.isnan(scores).any(axis=1)
    parts = split_label_sets(probabilities_per_label_set(scores, sizes), sizes)
    columns = dataset.column_names
    labels = {
        name: dataset[name] if name in columns else [None] * len(dataset) for name in label_sets
    }  # a test split has no label columns
    ids = dataset["video_id"] if "video_id" in columns else list(range(len(dataset)))
    actions = "verb" in label_sets and "noun" in label_sets
    if actions:
        ranked, ranked_scores = np.full((len(scores), top_k), -1), np.full((len(scores), top_k), np.nan)
        if decoded.any():
            found, found_scores = action_scores(parts["verb"][decoded], parts["noun"][decoded], top_actions=top_k)
            ranked[decoded], ranked_scores[decoded] = found.numpy(), found_scores.numpy()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for index, video_id in enumerate(ids):
            ok = bool(decoded[index])
            record = {"video_id": str(video_id), "label_sets": list(label_sets)}
            if not ok:
                record.update({"failed": True, "error": "the video cannot be decoded (see the run's log)"})
            for name, classes in label_sets.items():
                record[name] = _label_record(labels[name][index], parts[name][index], ok, classes, top_k)
            if actions:
                verb, noun = record["verb"]["label"], record["noun"]["label"]
                action = {"label": None if verb is None or noun is None else int(action_id(verb, noun))}
                if ok:
                    pairs = [divmod(int(a), ACTION_VERB_MULTIPLIER) for a in ranked[index]]
                    action.update(
                        {
                            "prediction": int(ranked[index][0]),
                            "top_k": [int(a) for a in ranked[index]],
                            "top_k_names": [f"{label_sets['verb'][v]} {label_sets['noun'][n]}" for v, n in pairs],
                            "top_k_scores": [round(float(s), 6) for s in ranked_scores[index]],
                        }
                    )
                else:
                    action.update({"prediction": None, "top_k": None, "top_k_names": None, "top_k_scores": None})
                record["action"] = action
            handle.write(json.dumps(record) + "\n")


def write_action_submission(
    path: str | os.PathLike, scores: np.ndarray, dataset, label_sets: dict[str, dict[int, str]]
) -> dict:
    """The EPIC-Kitchens-100 action-recognition leaderboard's results file (before zipping it as `test.json`):

        {"version": "0.2", "challenge": "action_recognition", "sls_pt": null, "sls_tl": null, "sls_td": null,
         "results": {"<narration_id>": {"verb": {"0": score, ..., "96": score},
                                        "noun": {"0": score, ..., "299": score}}, ...}}

    one entry per segment (keyed by the dataset's `video_id`, the narration id for EPIC-Kitchens), each with every
    verb's and noun's score (the probabilities averaged over the test views); the server ranks the actions
    itself. The supervision levels `sls_pt`, `sls_tl`, `sls_td` (0-5, pretraining, training labels, training
    data) are left null: the submitter states them. Videos that could not be decoded get no entry (the run's log
    names them). Returns the dictionary written."""
    from ..label_sets import probabilities_per_label_set, split_label_sets

    sizes = {name: len(classes) for name, classes in label_sets.items()}
    scores = np.asarray(scores[0] if isinstance(scores, tuple) else scores, dtype=np.float64)
    parts = split_label_sets(probabilities_per_label_set(scores, sizes), sizes)
    ids = dataset["video_id"] if "video_id" in dataset.column_names else [str(i) for i in range(len(dataset))]
    results = {}
    for index, video_id in enumerate(ids):
        if np.isnan(scores[index]).any():
            continue
        results[str(video_id)] = {
            name: {str(i): round(float(s), 6) for i, s in enumerate(parts[name][index])} for name in ("verb", "noun")
        }
    submission = {
        "version": "0.2",
        "challenge": "action_recognition",
        "sls_pt": None,
        "sls_tl": None,
        "sls_td": None,
        "results": results,
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(submission), encoding="utf-8")
    return submission
