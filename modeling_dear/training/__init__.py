# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Training and evaluation of DEAR with transformers' `Trainer`.

What the stock Trainer does not do and DEAR needs:
* weight decay on every trainable parameter (Side4Video's recipe), not only on weight matrices;
* clips decoded, sampled and augmented on the fly from the dataset's video bytes, with repeated
  augmentation (each video several times per batch, differently augmented);
* multi-view testing (2 clips x 3 crops, softmax averaged) inside `evaluate` / `predict`;
* checkpoints without the frozen weights (the CLIP backbone, a bundled depth estimator), which are
  written once per run and restored, hash-checked, on resume;
* checks that the dataset fits the model before any training step;
* rows whose video cannot be decoded: skipped in training (logged, counted, bounded by a fraction of the
  split), marked failed in evaluation and prediction, instead of stopping a long run;
* resuming only from complete checkpoints (a run killed while saving leaves a partial `checkpoint-N/`).

The modules: `trainer` (`DearTrainer`), `collator` (`VideoCollator`: dataset rows to model inputs),
`device_augmentation` (the training augmentation as batched tensor ops on the training device),
`dataset_checks`, `checkpoints` (which checkpoint to resume from), `metrics` (`compute_metrics`) and
`predictions` (`predictions.jsonl`). The recipe that puts them together for SSv2 and the synthetic data is
`recipe` (its arguments in `arguments`), run by `dear-train` (`modeling_dear.cli.train`) and
`examples/run_ssv2.py`; it is not imported here.

None of this is carried into saved model folders: inference needs the model, processor and pipeline only.
"""

from .checkpoints import check_resume_checkpoint, checkpoint_problem, find_resumable_checkpoint
from .collator import VideoCollator
from .dataset_checks import check_dataset_fits_model
from .device_augmentation import DeviceTrainAugmentation
from .metrics import video_accuracy_metrics
from .predictions import write_predictions
from .trainer import HUB_PUSH_FOLDER, DearTrainer, TooManyUndecodableVideos

__all__ = [
    "HUB_PUSH_FOLDER",
    "DearTrainer",
    "DeviceTrainAugmentation",
    "TooManyUndecodableVideos",
    "VideoCollator",
    "check_dataset_fits_model",
    "check_resume_checkpoint",
    "checkpoint_problem",
    "find_resumable_checkpoint",
    "video_accuracy_metrics",
    "write_predictions",
]
