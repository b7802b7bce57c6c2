"""Training and evaluation of DEAR with transformers' `Trainer` (used by `examples/run_ssv2.py`).

What the stock Trainer does not do and DEAR needs:
* weight decay on every trainable parameter (Side4Video's recipe), not only on weight matrices;
* clips decoded, sampled and augmented on the fly from the dataset's video bytes, with repeated
  augmentation (each video several times per batch, differently augmented);
* multi-view testing (2 clips x 3 crops, softmax averaged) inside `evaluate` / `predict`;
* checkpoints without the frozen weights (the CLIP backbone, a bundled depth estimator), which are
  written once per run and restored, hash-checked, on resume;
* checks that the dataset fits the model before any training step.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from transformers import Trainer

from .configuration_dear import DearConfig
from .device_transforms import DeviceTrainAugmentation
from .frozen_weights import FROZEN_PREFIXES, apply_frozen_weights, read_frozen_weights, write_frozen_weights

# Config fields that decide the shape of the network: a checkpoint must agree on all of them to be resumed.
ARCHITECTURE_FIELDS = (
    "encoders", "fusion_streams", "num_frames", "image_size", "side_hidden_size", "side_head_dim",
    "fusion_hidden_size", "fusion_num_heads", "fusion_num_layers", "fusion_intermediate_size", "num_labels",
)
SUB_CONFIG_ARCHITECTURE_FIELDS = {
    "clip_config": ("hidden_size", "num_hidden_layers", "intermediate_size", "patch_size"),
    "videomamba_config": ("hidden_size", "num_hidden_layers", "d_state", "patch_size", "expand"),
}


# ----------------------------------------------------------------------------------------------------------------------
# Data


def check_dataset_fits_model(dataset, config: DearConfig, split_name: str, needs_labels: bool = True) -> None:
    """Raise before training when a split cannot feed this model: missing columns, labels, class count."""
    columns = set(dataset.column_names)
    required = {"video"} | ({"depth"} if config.needs_depth else set()) | ({"label"} if needs_labels else set())
    missing = sorted(required - columns)
    if missing:
        why = " (the model has a depth encoder)" if "depth" in missing else ""
        raise ValueError(f"dataset split '{split_name}' has no column {', '.join(map(repr, missing))}{why}; "
                         f"its columns are {sorted(columns)}")
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
            first = next(i for i, (a, b) in enumerate(zip(names, model_names)) if a != b)
            raise ValueError(
                f"dataset split '{split_name}' calls class {first} {names[first]!r}, the model {model_names[first]!r}"
            )
    labels = np.asarray(dataset["label"])
    bad = labels[(labels < 0) | (labels >= config.num_labels)]
    if len(bad):
        raise ValueError(
            f"dataset split '{split_name}' has labels outside id2label [0, {config.num_labels}): e.g. {bad[:5].tolist()}"
        )


@dataclass
class VideoCollator:
    """Turns dataset rows (encoded video and depth bytes) into model inputs through `DearVideoProcessor`.

    `mode="train"` augments each video `repeats` times (repeated augmentation: the batch holds `repeats`
    differently augmented copies of every video); "val" takes the centre view; "test" the processor's
    multi-view set, returned with `num_views`.

    `augment_on_device=True` (training only) leaves the augmentation to the training device: the batch holds the
    decoded uint8 frames and each clip's drawn choices (`DearVideoProcessor.decode_for_training`), and
    `DearTrainer` turns them into model inputs on the device (`device_inputs`), with the same draws as the CPU path.
    """

    processor: object
    mode: str = "val"
    use_depth: bool = True
    repeats: int = 1
    seed: int = 0
    rank: int = 0  # the process index: each process of a distributed run augments differently
    augment_on_device: bool = False
    _calls: int = field(default=0, init=False, repr=False)

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        repeats = self.repeats if self.mode == "train" else 1
        rows = [row for row in rows for _ in range(repeats)]
        # a fresh stream per batch and per dataloader worker, reproducible from the run's seed
        worker = torch.utils.data.get_worker_info()
        self._calls += 1
        rng = np.random.default_rng(
            [self.seed, self.rank, worker.id + 1 if worker else 0, self._calls, torch.initial_seed() % 2**32]
        )
        labels = [row["label"] for row in rows] if rows and "label" in rows[0] and rows[0]["label"] is not None else None
        if labels is not None and min(labels) < 0:
            labels = None  # an unlabelled (test) split
        if self.mode == "train" and self.augment_on_device:
            batch = self.processor.decode_for_training(
                videos=[row["video"] for row in rows],
                depth=[row["depth"] for row in rows] if self.use_depth else None,
                labels=labels,
                seed=rng,
                names=[str(row.get("video_id", i)) for i, row in enumerate(rows)],
            )
            return {key: batch[key] for key in (*DeviceTrainAugmentation.INPUT_KEYS, "labels") if key in batch}
        batch = self.processor(
            videos=[row["video"] for row in rows],
            depth=[row["depth"] for row in rows] if self.use_depth else None,
            mode=self.mode,
            labels=labels,
            seed=rng,
            names=[str(row.get("video_id", i)) for i, row in enumerate(rows)],
            return_tensors="pt",
        )
        inputs = {"pixel_values": batch["pixel_values"]}
        if self.use_depth:
            inputs["depth_pixel_values"] = batch["depth_pixel_values"]
        if labels is not None:
            inputs["labels"] = batch["labels"]
        if self.mode == "test":
            inputs["num_views"] = int(self.processor.num_views)
        return inputs

    def device_inputs(self, batch: dict) -> dict:
        """Model inputs from an `augment_on_device` batch, computed where the batch's tensors are."""
        if getattr(self, "_device_augmentation", None) is None:
            self._device_augmentation = DeviceTrainAugmentation.from_processor(self.processor)
        inputs = self._device_augmentation(batch)
        if "labels" in batch:
            inputs["labels"] = batch["labels"]
        return inputs


# ----------------------------------------------------------------------------------------------------------------------
# Trainer


class DearTrainer(Trainer):
    """`Trainer` with DEAR's recipe details (see the module docstring).

    `eval_collator` and `test_collator` (e.g. `VideoCollator` in "val" and "test" mode) serve evaluation and
    prediction, `data_collator` training; `model_card` (a `huggingface_hub.ModelCard`), when set, is what
    `push_to_hub` writes as README.md instead of the Trainer's generic card.
    """

    def __init__(self, *args, eval_collator=None, test_collator=None, model_card=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.eval_collator = eval_collator
        self.test_collator = test_collator
        self.model_card = model_card

    def _with_collator(self, collator, make_dataloader, *args):
        if collator is None:
            return make_dataloader(*args)
        training_collator, self.data_collator = self.data_collator, collator
        try:
            return make_dataloader(*args)
        finally:
            self.data_collator = training_collator

    def _prepare_inputs(self, inputs):
        inputs = super()._prepare_inputs(inputs)
        if "frames" in inputs and hasattr(self.data_collator, "device_inputs"):
            inputs = self.data_collator.device_inputs(inputs)  # augment_on_device: augment here, on the device
        return inputs

    def get_eval_dataloader(self, eval_dataset=None):
        return self._with_collator(self.eval_collator, super().get_eval_dataloader, eval_dataset)

    def get_test_dataloader(self, test_dataset):
        return self._with_collator(self.test_collator, super().get_test_dataloader, test_dataset)

    def create_model_card(self, **kwargs):
        if self.model_card is None:
            return super().create_model_card(**kwargs)
        if self.is_world_process_zero():
            self.model_card.save(Path(self.args.output_dir) / "README.md")

    def get_decay_parameter_names(self, model) -> list[str]:
        # Side4Video decays every trainable parameter (norms and biases included), unlike the Trainer's default
        return [name for name, parameter in model.named_parameters() if parameter.requires_grad]

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        num_views = inputs.pop("num_views", 1)
        num_views = int(num_views.flatten()[0]) if isinstance(num_views, torch.Tensor) else int(num_views)
        if num_views == 1:
            return super().prediction_step(model, inputs, prediction_loss_only, ignore_keys=ignore_keys)
        inputs = self._prepare_inputs(inputs)
        labels = inputs.pop("labels", None)
        with torch.no_grad(), self.compute_loss_context_manager():
            logits = model(**inputs).logits.float()  # (B·V, C)
        # the views of one video are contiguous: average their softmax scores
        probabilities = logits.softmax(dim=-1).unflatten(0, (-1, num_views)).mean(dim=1)  # (B, C)
        loss = None
        if labels is not None:
            loss = F.nll_loss(probabilities.clamp_min(1e-12).log(), labels)
        if prediction_loss_only:
            return loss, None, None
        return loss, probabilities, labels

    # -- checkpoints without the frozen weights ---------------------------------------------------------------------

    def _frozen_state(self) -> dict[str, torch.Tensor]:
        model = self.accelerator.unwrap_model(self.model) if hasattr(self, "accelerator") else self.model
        return {name: tensor for name, tensor in model.state_dict().items() if name.startswith(FROZEN_PREFIXES)}

    def _save(self, output_dir: str | None = None, state_dict=None):
        output_dir = output_dir or self.args.output_dir
        if not self.args.should_save:
            # other ranks of a distributed run write nothing (the stock method returns early for them too)
            return super()._save(output_dir, state_dict=state_dict)
        frozen = self._frozen_state()
        if not (Path(output_dir).name.startswith("checkpoint-") and frozen):
            return super()._save(output_dir, state_dict=state_dict)
        # The frozen weights never change: written once per run, each checkpoint points at them.
        model = self.accelerator.unwrap_model(self.model)
        state_dict = {k: v for k, v in (state_dict or model.state_dict()).items() if not k.startswith(FROZEN_PREFIXES)}
        super()._save(output_dir, state_dict=state_dict)
        write_frozen_weights(self.args.output_dir, output_dir, frozen)

    def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
        super()._load_from_checkpoint(resume_from_checkpoint, model=model)
        frozen = read_frozen_weights(resume_from_checkpoint)
        if frozen is None:
            return
        target = self.accelerator.unwrap_model(model or self.model)
        apply_frozen_weights(target, frozen, str(resume_from_checkpoint))
        if hasattr(target, "freeze_backbone"):
            target.freeze_backbone()


def check_resume_checkpoint(checkpoint: str | os.PathLike, config: DearConfig) -> None:
    """Raise when a checkpoint folder was written by a differently shaped model (another preset)."""
    config_file = Path(checkpoint) / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"resume checkpoint {checkpoint} has no config.json")
    saved = json.loads(config_file.read_text())
    saved_labels = len(saved.get("id2label") or {})
    current = {name: getattr(config, name) for name in ARCHITECTURE_FIELDS}
    for sub_config, fields in SUB_CONFIG_ARCHITECTURE_FIELDS.items():
        for name in fields:
            current[f"{sub_config}.{name}"] = getattr(getattr(config, sub_config), name)
            saved[f"{sub_config}.{name}"] = (saved.get(sub_config) or {}).get(name)
    differences = []
    for name, value in current.items():
        saved_value = saved_labels if name == "num_labels" else saved.get(name)
        if name == "num_labels" and not saved_labels:
            continue
        if saved_value != value:
            differences.append(f"{name}: checkpoint {saved_value!r}, this run {value!r}")
    if differences:
        raise ValueError(f"{config_file} was written by a different model: " + "; ".join(differences))


def video_accuracy_metrics(id2label: dict[int, str]):
    """`compute_metrics` for the Trainer: top-1/top-5/mean class accuracy from the package's `evaluate` module.

    Per-class accuracies are kept on the function (`.last_per_class`) rather than logged as metrics.
    """
    from .metrics import load_video_accuracy

    metric = load_video_accuracy()

    def compute_metrics(eval_prediction):
        scores = eval_prediction.predictions
        scores = scores[0] if isinstance(scores, tuple) else scores
        result = metric.compute(predictions=scores, references=eval_prediction.label_ids)
        compute_metrics.last_per_class = {
            id2label[i]: accuracy for i, accuracy in enumerate(result["per_class_accuracy"]) if accuracy is not None
        }
        return {key: result[key] for key in ("top1", "top5", "mean_class_accuracy")}

    compute_metrics.last_per_class = {}
    return compute_metrics


def write_predictions(path: str | os.PathLike, scores: np.ndarray, dataset, id2label: dict[int, str], top_k: int = 5) -> None:
    """One JSON line per video: id, true label (when known), predicted label, top-k and all class scores."""
    scores = np.asarray(scores[0] if isinstance(scores, tuple) else scores, dtype=np.float64)
    if scores.max() > 1 or scores.min() < 0 or not np.allclose(scores.sum(axis=1), 1, atol=1e-3):
        scores = torch.from_numpy(scores).softmax(dim=-1).numpy()
    has_labels = "label" in dataset.column_names
    ids = dataset["video_id"] if "video_id" in dataset.column_names else list(range(len(dataset)))
    labels = dataset["label"] if has_labels else [None] * len(dataset)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for video_id, label, row in zip(ids, labels, scores):
            ranking = np.argsort(-row, kind="stable")[:top_k]
            record = {
                "video_id": str(video_id),
                "label": None if label is None or label < 0 else int(label),
                "label_name": None if label is None or label < 0 else id2label[int(label)],
                "prediction": int(ranking[0]),
                "prediction_name": id2label[int(ranking[0])],
                "top_k": [int(i) for i in ranking],
                "scores": [round(float(s), 6) for s in row],
            }
            handle.write(json.dumps(record) + "\n")
