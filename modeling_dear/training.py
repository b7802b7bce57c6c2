"""Training and evaluation of DEAR with transformers' `Trainer` (used by `examples/run_ssv2.py`).

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
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from transformers import PreTrainedModel, Trainer

from .configuration_dear import DEPTH, RGB, DearConfig, input_name, modality_column
from .device_transforms import DeviceTrainAugmentation
from .frozen_weights import (
    FROZEN_PREFIXES,
    FROZEN_WEIGHTS_POINTER,
    apply_frozen_weights,
    read_frozen_weights,
    write_frozen_weights,
)
from .video_io import VideoDecodingError

logger = logging.getLogger(__name__)

# Whole-model copies of checkpoints, uploaded by Hub pushes during training (underscored: never uploaded as such).
HUB_PUSH_FOLDER = "_hub_push"
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
    """Raise before training when a split cannot feed this model: missing columns, labels, class count.

    The columns a model needs follow `config.modalities`: `video` (RGB; always, as the processor samples the clip
    from it), then each other modality's column, named after the modality (`depth`, `flow`, ...)."""
    columns = set(dataset.column_names)
    missing = []
    if modality_column(RGB) not in columns:
        missing.append(f"{modality_column(RGB)!r} (the RGB videos)")
    for modality in config.modalities:
        column = modality_column(modality)
        if modality != RGB and column not in columns:
            readers = config.encoders_reading(modality)
            missing.append(f"{column!r} (the model has a {modality} encoder): {', '.join(readers)} "
                           f"read{'s' if len(readers) == 1 else ''} it")
    if needs_labels and "label" not in columns:
        missing.append("'label'")
    if missing:
        raise ValueError(f"dataset split '{split_name}' has no column " + "; no column ".join(missing)
                         + f"; its columns are {sorted(columns)}")
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

    `modalities` (e.g. `config.modalities`) says which columns each row gives: `video` for RGB (always read) and, for
    every other modality, the column of its name (`depth`, `flow`, ...), each handed to the processor under the
    modality's name; the batch holds `pixel_values` and `<modality>_pixel_values`. Left out, `use_depth` decides:
    RGB and depth (the default), or RGB only (`use_depth=False`).

    `mode="train"` augments each video `repeats` times (repeated augmentation: the batch holds `repeats`
    differently augmented copies of every video); "val" takes the centre view; "test" the processor's
    multi-view set, returned with `num_views`.

    `augment_on_device=True` (training only) leaves the augmentation to the training device: the batch holds the
    decoded uint8 frames and each clip's drawn choices (`DearVideoProcessor.decode_for_training`), and
    `DearTrainer` turns them into model inputs on the device (`device_inputs`), with the same draws as the CPU path.
    """

    processor: object
    mode: str = "val"
    use_depth: bool | None = None
    repeats: int = 1
    seed: int = 0
    rank: int = 0  # the process index: each process of a distributed run augments differently
    augment_on_device: bool = False
    modalities: list[str] | None = None
    _calls: int = field(default=0, init=False, repr=False)
    _device_augmentation: object = field(default=None, init=False, repr=False)
    _last_good_rows: list | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        if self.modalities is None:
            self.modalities = [RGB, DEPTH] if self.use_depth in (None, True) else [RGB]
        else:
            modalities = list(self.modalities)
            self.modalities = modalities if RGB in modalities else [RGB, *modalities]
            if self.use_depth is not None and bool(self.use_depth) != (DEPTH in self.modalities):
                raise ValueError(
                    f"VideoCollator: use_depth={self.use_depth} contradicts modalities={self.modalities}; "
                    "give modalities alone"
                )
        accepted = getattr(self.processor, "modalities", None)
        if accepted is not None and any(m not in accepted for m in self.modalities):
            raise ValueError(
                f"VideoCollator: modalities {self.modalities} include {[m for m in self.modalities if m not in accepted]}, "
                f"which the processor does not take (its modalities are {list(accepted)}); build it with "
                "DearVideoProcessor.from_model_config(config)"
            )

    @property
    def columns(self) -> dict[str, str]:
        """The dataset column read for each modality (`video` for RGB, the modality's name else)."""
        return {modality: modality_column(modality) for modality in self.modalities}

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        repeats = self.repeats if self.mode == "train" else 1
        # a fresh stream per batch and per dataloader worker, reproducible from the run's seed
        worker = torch.utils.data.get_worker_info()
        self._calls += 1
        rng = np.random.default_rng(
            [self.seed, self.rank, worker.id + 1 if worker else 0, self._calls, torch.initial_seed() % 2**32]
        )
        labels = [row["label"] for row in rows] if rows and "label" in rows[0] and rows[0]["label"] is not None else None
        if labels is not None and min(labels) < 0:
            labels = None  # an unlabelled (test) split
        # Row by row (drawing from one generator in row order, as a whole-batch call would), so that one video
        # that cannot be decoded costs its row, not the batch: training skips it, evaluation marks it failed.
        processed, failed, skipped = [], [], []
        for index, row in enumerate(rows):
            name = str(row.get("video_id", index))
            missing = [column for column in self.columns.values() if column not in row]
            if missing:
                raise ValueError(
                    f"VideoCollator: the rows have no column {missing} (modalities {self.modalities}); "
                    f"their columns are {sorted(row)}"
                )
            try:
                for column in self.columns.values():
                    if row.get(column) is None:
                        raise VideoDecodingError(name, f"the row's '{column}' is empty (null)")
                videos = {
                    "videos": [row[modality_column(RGB)]] * repeats,
                    **{modality: [row[column]] * repeats for modality, column in self.columns.items() if modality != RGB},
                    "labels": [labels[index]] * repeats if labels is not None else None,
                    "seed": rng,
                    "names": [name] * repeats,
                }
                if self.mode == "train" and self.augment_on_device:
                    processed.append(self.processor.decode_for_training(**videos))
                else:
                    processed.append(self.processor(**videos, mode=self.mode, return_tensors="pt"))
                failed.append(False)
            except VideoDecodingError as error:
                logger.warning("video %s cannot be decoded, %s: %s", name,
                               "skipped" if self.mode == "train" else "marked failed", error)
                processed.append(None)
                failed.append(True)
                skipped.append(name)
        if self.mode == "train":
            good = [(row, batch) for row, batch in zip(rows, processed) if batch is not None]
            if not good:
                if self._last_good_rows is None:
                    raise VideoDecodingError(
                        ", ".join(skipped), "no video of this training batch can be decoded, and none was decoded "
                        "before it to stand in: check the dataset"
                    )
                # stand-ins keep the step (and the learning-rate schedule) going; the skips are still counted
                logger.warning("every video of a training batch failed; training on the previous good batch's rows")
                inputs = self(self._last_good_rows)
                inputs["skipped_videos"] = skipped + inputs.get("skipped_videos", [])
                return inputs
            self._last_good_rows = [row for row, _ in good]
            processed = [batch for _, batch in good]
            if self.augment_on_device:
                inputs = _concatenate_decoded(processed)
                if skipped:
                    inputs["skipped_videos"] = skipped
                return inputs
        else:
            placeholder = self._placeholder()
            processed = [batch if batch is not None else placeholder for batch in processed]
        inputs = {"pixel_values": torch.cat([batch["pixel_values"] for batch in processed])}
        for modality in self.modalities[1:]:
            key = input_name(modality)
            inputs[key] = torch.cat([batch.get(key, batch["pixel_values"]) for batch in processed])
        if labels is not None:
            if self.mode == "train":
                inputs["labels"] = torch.cat([batch["labels"] for batch in processed])
            else:
                inputs["labels"] = torch.tensor(labels, dtype=torch.long)
        if self.mode == "test":
            inputs["num_views"] = int(self.processor.num_views)
        if self.mode == "train":
            if skipped:
                inputs["skipped_videos"] = skipped
        elif any(failed):
            inputs["failed_rows"] = torch.tensor(failed)
        return inputs

    def _placeholder(self) -> dict[str, torch.Tensor]:
        """Zeros of one row's shape, standing in for a video that cannot be decoded (its scores become NaN)."""
        views = int(self.processor.num_views) if self.mode == "test" else 1
        crop = self.processor.crop_size
        values = torch.zeros(views, self.processor.num_frames, 3, crop["height"], crop["width"])
        return {input_name(modality): values for modality in self.modalities}

    def device_inputs(self, batch: dict) -> dict:
        """Model inputs from an `augment_on_device` batch, computed where the batch's tensors are."""
        if self._device_augmentation is None:
            self._device_augmentation = DeviceTrainAugmentation.from_processor(self.processor)
        inputs = self._device_augmentation(batch)
        if "labels" in batch:
            inputs["labels"] = batch["labels"]
        return inputs


def _concatenate_decoded(batches: list) -> dict[str, torch.Tensor]:
    """`decode_for_training` outputs of single rows → one batch, the frames zero-padded to the largest video."""
    height = max(int(batch["frames"].shape[2]) for batch in batches)
    width = max(int(batch["frames"].shape[3]) for batch in batches)
    inputs = {}
    keys = (*DeviceTrainAugmentation.INPUT_KEYS, *DeviceTrainAugmentation.modality_frame_keys(batches[0]), "labels")
    for key in keys:
        if key not in batches[0]:
            continue
        parts = [batch[key] for batch in batches]
        if key.endswith("frames"):
            # (B, T, H, W, C) for RGB and other modalities, (B, T, H, W) for depth
            padding = [(0, 0, 0, width - part.shape[3], 0, height - part.shape[2]) if part.ndim == 5
                       else (0, width - part.shape[3], 0, height - part.shape[2]) for part in parts]
            parts = [torch.nn.functional.pad(part, pad) for part, pad in zip(parts, padding)]
        inputs[key] = torch.cat(parts)
    return inputs


# ----------------------------------------------------------------------------------------------------------------------
# Trainer


class DearTrainer(Trainer):
    """`Trainer` with DEAR's recipe details (see the module docstring).

    `eval_collator` and `test_collator` (e.g. `VideoCollator` in "val" and "test" mode) serve evaluation and
    prediction, `data_collator` training; `model_card` (a `huggingface_hub.ModelCard`), when set, is what
    `push_to_hub` writes as README.md instead of the Trainer's generic card.

    Training rows whose video cannot be decoded are skipped by the collator; the trainer counts the distinct
    skipped videos (logged as `skipped_videos`) and stops with `TooManyUndecodableVideos` once they exceed
    `max_skipped_fraction` of the training split.
    """

    def __init__(self, *args, eval_collator=None, test_collator=None, model_card=None, max_skipped_fraction=0.01, **kwargs):
        model = kwargs.get("model", args[0] if args else None)
        training_args = kwargs.get("args", args[1] if len(args) > 1 else None)
        if (isinstance(model, PreTrainedModel) and isinstance(model.config, DearConfig) and training_args is not None
                and training_args.ddp_find_unused_parameters is None):
            # Every trainable parameter of every DEAR configuration reaches the loss (tested for each preset), so
            # DDP need not search for unused ones; the Trainer's default (True) warns about it on every step.
            training_args.ddp_find_unused_parameters = False
        super().__init__(*args, **kwargs)
        self.eval_collator = eval_collator
        self.test_collator = test_collator
        self.model_card = model_card
        self.max_skipped_fraction = max_skipped_fraction
        self.skipped_videos: set[str] = set()

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

    # -- rows that cannot be decoded --------------------------------------------------------------------------------

    def training_step(self, model, inputs, num_items_in_batch=None):
        self._count_skipped(inputs.pop("skipped_videos", None))
        return super().training_step(model, inputs, num_items_in_batch)

    def _count_skipped(self, video_ids) -> None:
        if not video_ids:
            return
        self.skipped_videos.update(map(str, video_ids))
        split_size = len(self.train_dataset) if self.train_dataset is not None else 0
        if len(self.skipped_videos) > self.max_skipped_fraction * split_size:
            examples = ", ".join(sorted(self.skipped_videos)[:5])
            raise TooManyUndecodableVideos(
                f"{len(self.skipped_videos)} of {split_size} training videos cannot be decoded (e.g. {examples}), more "
                f"than --max_undecodable_fraction {self.max_skipped_fraction:g} allows: repair or drop those rows "
                "(the warnings above give each one's reason), or raise the fraction"
            )

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        if "loss" in logs:
            logs["skipped_videos"] = len(self.skipped_videos)
        super().log(logs, *args, **kwargs)

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        num_views = inputs.pop("num_views", 1)
        num_views = int(num_views.flatten()[0]) if isinstance(num_views, torch.Tensor) else int(num_views)
        failed = inputs.pop("failed_rows", None)
        if num_views == 1 and failed is None:
            return super().prediction_step(model, inputs, prediction_loss_only, ignore_keys=ignore_keys)
        if num_views == 1:
            return self._prediction_step_with_failed_rows(model, inputs, failed, prediction_loss_only, ignore_keys)
        inputs = self._prepare_inputs(inputs)
        labels = inputs.pop("labels", None)
        with torch.no_grad(), self.compute_loss_context_manager():
            logits = model(**inputs).logits.float()  # (B·V, C)
        # the views of one video are contiguous: average their softmax scores
        probabilities = logits.softmax(dim=-1).unflatten(0, (-1, num_views)).mean(dim=1)  # (B, C)
        good = torch.ones(len(probabilities), dtype=torch.bool, device=probabilities.device)
        if failed is not None:
            # a video that could not be decoded has no scores: NaN marks it for the metrics and predictions.jsonl
            good = ~failed.to(probabilities.device)
            probabilities[~good] = float("nan")
        loss = None
        if labels is not None:
            loss = F.nll_loss(probabilities[good].clamp_min(1e-12).log(), labels[good]) if good.any() else None
        if prediction_loss_only:
            return loss, None, None
        return loss, probabilities, labels

    def _prediction_step_with_failed_rows(self, model, inputs, failed, prediction_loss_only, ignore_keys):
        """One view per video, some videos not decoded: the stock step on the decoded rows, NaN scores for the rest
        (the outputs keep the stock step's structure, so that batches with and without failures concatenate)."""
        good = ~failed
        rows = good if good.any() else torch.ones_like(good)  # none decoded: run the placeholders for the shapes
        subset = {key: value[rows] if isinstance(value, torch.Tensor) and value.shape[:1] == rows.shape else value
                  for key, value in inputs.items()}
        loss, logits, _ = super().prediction_step(model, subset, prediction_loss_only, ignore_keys=ignore_keys)
        loss = loss if good.any() else None
        if prediction_loss_only:
            return loss, None, None

        def with_failed_rows(tensor):
            full = tensor.new_full((len(good), *tensor.shape[1:]), float("nan"))
            if good.any():
                full[good.to(tensor.device)] = tensor
            return full

        logits = tuple(map(with_failed_rows, logits)) if isinstance(logits, (tuple, list)) else with_failed_rows(logits)
        labels = inputs.get("labels")
        return loss, logits, None if labels is None else labels.to(self.args.device)

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

    # -- Hub pushes during training: whole models ----------------------------------------------------------------

    def _push_from_checkpoint(self, checkpoint_folder: str) -> None:
        # The Trainer pushes a checkpoint by copying its config and weight files into output_dir and uploading
        # that. A checkpoint-N folder lacks the frozen weights (kept once per run, in `_*` files the upload skips),
        # and no code files are copied: each revision would load with a random backbone, or not at all with
        # trust_remote_code. So the Trainer is handed a whole model instead: the checkpoint's files with complete
        # weights and the code, written next to it in `_hub_push/` (which the root upload skips too).
        from transformers.trainer_utils import HubStrategy

        in_progress = self.push_in_progress is not None and not self.push_in_progress.is_done()
        if (not self.is_world_process_zero() or self.args.hub_strategy == HubStrategy.END
                or (in_progress and not self.args.hub_always_push) or self.is_deepspeed_enabled or self.is_fsdp_enabled):
            return super()._push_from_checkpoint(checkpoint_folder)  # pushes nothing, or the stock way
        staging_root = Path(self.args.output_dir) / HUB_PUSH_FOLDER
        if not in_progress and staging_root.is_dir():
            shutil.rmtree(staging_root)  # earlier revisions are uploaded
        staging = staging_root / Path(checkpoint_folder).name  # same name: `all_checkpoints` uploads it as that
        self.accelerator.unwrap_model(self.model).save_pretrained(staging)  # complete weights, config, code
        for item in Path(checkpoint_folder).iterdir():  # optimiser state etc., for `checkpoint` hub strategies
            if item.is_file() and item.name != FROZEN_WEIGHTS_POINTER and not (staging / item.name).exists():
                try:
                    os.link(item, staging / item.name)
                except OSError:
                    shutil.copy2(item, staging / item.name)
        for code_file in staging.glob("*.py"):  # the Trainer copies only config and weights into output_dir
            shutil.copy2(code_file, Path(self.args.output_dir) / code_file.name)
        super()._push_from_checkpoint(str(staging))

    def push_to_hub(self, *args, **kwargs):
        result = super().push_to_hub(*args, **kwargs)  # waits for the pushes from checkpoints first
        staging_root = Path(self.args.output_dir) / HUB_PUSH_FOLDER
        if self.is_world_process_zero() and staging_root.is_dir() and kwargs.get("blocking", True):
            shutil.rmtree(staging_root)
        return result

    def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
        super()._load_from_checkpoint(resume_from_checkpoint, model=model)
        frozen = read_frozen_weights(resume_from_checkpoint)
        if frozen is None:
            return
        target = self.accelerator.unwrap_model(model or self.model)
        apply_frozen_weights(target, frozen, str(resume_from_checkpoint))
        if hasattr(target, "freeze_backbone"):
            target.freeze_backbone()


class TooManyUndecodableVideos(RuntimeError):
    """More training videos could not be decoded than `--max_undecodable_fraction` of the split allows."""


# ----------------------------------------------------------------------------------------------------------------------
# Checkpoints

_CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)$")
WEIGHTS_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


def _safetensors_problem(path: Path) -> str | None:
    """Why a .safetensors file is cut short or corrupt (header and data length checked, no tensor read)."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as handle:
            header_length = int.from_bytes(handle.read(8), "little")
            if size < 8 or 8 + header_length > size:
                return f"{path.name} is truncated ({size} bytes)"
            header = json.loads(handle.read(header_length))
    except (OSError, ValueError, UnicodeDecodeError) as error:
        return f"{path.name} has an unreadable header ({error})"
    end = max((entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"), default=0)
    if 8 + header_length + end != size:
        return f"{path.name} is truncated ({size} of {8 + header_length + end} bytes)"
    return None


def checkpoint_problem(checkpoint: str | os.PathLike, require_optimizer: bool = True) -> str | None:
    """Why `checkpoint` (a `checkpoint-N/` folder) cannot be resumed from, or None when it is complete.

    Complete means what `Trainer` reads on resume is all there and whole: `config.json`, the weights
    (safetensors lengths checked), `trainer_state.json` (written last by the Trainer), `optimizer.pt` and
    `scheduler.pt` (unless the run saved the model only), readable `.pt`/`.pth` files, and the frozen weights a
    `_frozen_weights.json` pointer names. A run killed while saving leaves a folder failing one of these.
    """
    folder = Path(checkpoint)
    if not folder.is_dir():
        return "it is not a folder"
    for name in ("config.json", "trainer_state.json"):
        file = folder / name
        if not file.is_file():
            return f"{name} is missing"
        try:
            json.loads(file.read_text())
        except (OSError, ValueError) as error:
            return f"{name} is empty or cut short ({error})"
    weights = [folder / name for name in WEIGHTS_FILES if (folder / name).is_file()]
    if not weights:
        return "it holds no model weights (model.safetensors)"
    for file in weights:
        if file.stat().st_size == 0:
            return f"{file.name} is empty"
        if file.suffix == ".safetensors" and (problem := _safetensors_problem(file)):
            return problem
    if require_optimizer:
        for name in ("optimizer.pt", "scheduler.pt"):
            if not (folder / name).is_file():
                return f"{name} is missing"
    for file in sorted([*folder.glob("*.pt"), *folder.glob("*.pth")]):
        # torch.save writes zip archives; a file cut short lacks the archive's closing directory
        if file.stat().st_size == 0:
            return f"{file.name} is empty"
        if not zipfile.is_zipfile(file):
            return f"{file.name} is cut short"
    pointer = folder / FROZEN_WEIGHTS_POINTER
    if pointer.is_file():
        try:
            target = (folder / json.loads(pointer.read_text())["file"]).resolve()
        except (OSError, ValueError, KeyError) as error:
            return f"{FROZEN_WEIGHTS_POINTER} is unreadable ({error})"
        if not target.is_file():
            return f"the frozen weights it points to, {target}, are missing"
    return None


def find_resumable_checkpoint(output_dir: str | os.PathLike, require_optimizer: bool = True) -> str | None:
    """The newest complete `checkpoint-N/` in `output_dir` (None when there is none).

    Newer incomplete ones (a run killed while saving) are skipped with a warning naming what is wrong; nothing
    is deleted: the Trainer overwrites such a folder when it saves that step again.
    """
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return None
    numbered = sorted(
        ((int(match.group(1)), path) for path in output_dir.iterdir()
         if path.is_dir() and (match := _CHECKPOINT_NAME.match(path.name))),
        reverse=True,
    )
    for _, path in numbered:
        problem = checkpoint_problem(path, require_optimizer=require_optimizer)
        if problem is None:
            return str(path)
        logger.warning("skipping incomplete checkpoint %s (%s): a run was interrupted while saving it", path, problem)
    if numbered:
        logger.warning("no complete checkpoint in %s: training starts from the beginning", output_dir)
    return None


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
    from .evaluation import load_video_accuracy

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


def write_predictions(path: str | os.PathLike, scores: np.ndarray, dataset, id2label: dict[int, str], top_k: int = 5) -> None:
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
        for video_id, label, row, ok in zip(ids, labels, scores, decoded):
            record = {
                "video_id": str(video_id),
                "label": None if label is None or label < 0 else int(label),
                "label_name": None if label is None or label < 0 else id2label[int(label)],
            }
            if ok:
                ranking = np.argsort(-row, kind="stable")[:top_k]
                record.update({
                    "prediction": int(ranking[0]),
                    "prediction_name": id2label[int(ranking[0])],
                    "top_k": [int(i) for i in ranking],
                    "scores": [round(float(s), 6) for s in row],
                })
            else:
                record.update({"failed": True, "error": "the video cannot be decoded (see the run's log)",
                               "prediction": None, "prediction_name": None, "top_k": None, "scores": None})
            handle.write(json.dumps(record) + "\n")
