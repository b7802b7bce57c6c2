# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Evaluation: DEAR's `evaluate` metric (loaded from its local file, no Hub access needed) and the per-class
comparison of two prediction files (`per_class_comparison`)."""

from pathlib import Path

VIDEO_ACCURACY_PATH = str(Path(__file__).with_name("video_accuracy.py"))


def load_video_accuracy(**kwargs):
    """`evaluate.load` of the package's video accuracy metric (top-1, top-5, mean class and per-class accuracy)."""
    import evaluate

    return evaluate.load(VIDEO_ACCURACY_PATH, **kwargs)
