# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`DearTrainer`: transformers' `Trainer` with DEAR's recipe details (see `modeling_dear.training`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel, Trainer

from ..configuration_dear import DearConfig
from ..frozen_weights import (
    FROZEN_PREFIXES,
    FROZEN_WEIGHTS_POINTER,
    apply_frozen_weights,
    read_frozen_weights,
    write_frozen_weights,
)

# Whole-model copies of checkpoints, uploaded by Hub pushes during training (underscored: never uploaded as such).
HUB_PUSH_FOLDER = "_hub_push"


class DearTrainer(Trainer):
    """`Trainer` with DEAR's recipe details (see the `modeling_dear.training` docstring).

    `eval_collator` and `test_collator` (e.g. `VideoCollator` in "val" and "test" mode) serve evaluation and
    prediction, `data_collator` training; `model_card` (a `huggingface_hub.ModelCard`), when set, is what
    `push_to_hub` writes as README.md instead of the Trainer's generic card.

    Training rows whose video cannot be decoded are skipped by the collator; the trainer counts the distinct
    skipped videos (logged as `skipped_videos`) and stops with `TooManyUndecodableVideos` once they exceed
    `max_skipped_fraction` of the training split.
    """

    def __init__(
        self, *args, eval_collator=None, test_collator=None, model_card=None, max_skipped_fraction=0.01, **kwargs
    ):
        model = kwargs.get("model", args[0] if args else None)
        training_args = kwargs.get("args", args[1] if len(args) > 1 else None)
        if (
            isinstance(model, PreTrainedModel)
            and isinstance(model.config, DearConfig)
            and training_args is not None
            and training_args.ddp_find_unused_parameters is None
        ):
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

    def get_train_dataloader(self):
        dataloader = super().get_train_dataloader()
        if getattr(self.train_dataset, "is_process_share", False) and self.args.world_size > 1:
            # already this process's share (`training.streaming`): accelerate's wrapper, which would keep one batch
            # in `world_size` of it, passes every row through instead
            from accelerate.data_loader import IterableDatasetShard

            shard = getattr(dataloader, "dataset", None)
            if not isinstance(shard, IterableDatasetShard):
                raise RuntimeError(
                    "a per-process training stream needs accelerate's dispatch_batches=False "
                    "(TrainingArguments.accelerator_config), or each process's rows are not its own"
                )
            shard.num_processes, shard.process_index = 1, 0
        return dataloader

    def get_resumed_dataloader(self, dataloader, num_batches):
        if getattr(self.train_dataset, "is_process_share", False):
            # a stream repeats its rows in the same order: it passes over the trained ones undecoded, where the stock
            # way would decode and collate every skipped batch
            self.train_dataset.resume_after(num_batches, self._train_batch_size)
            return dataloader
        return super().get_resumed_dataloader(dataloader, num_batches)

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
        split_size = self._training_rows()
        if len(self.skipped_videos) > self.max_skipped_fraction * split_size:
            examples = ", ".join(sorted(self.skipped_videos)[:5])
            raise TooManyUndecodableVideos(
                f"{len(self.skipped_videos)} of {split_size} training videos cannot be decoded (e.g. {examples}), more "
                f"than --max_undecodable_fraction {self.max_skipped_fraction:g} allows: repair or drop those rows "
                "(the warnings above give each one's reason), or raise the fraction"
            )

    def _training_rows(self) -> int:
        """The training split's size; for a stream of unknown length (`--streaming`), the videos read so far."""
        if self.train_dataset is None:
            return 0
        if hasattr(self.train_dataset, "__len__"):
            return len(self.train_dataset)
        if getattr(self.train_dataset, "num_rows", None):
            return int(self.train_dataset.num_rows)
        args = self.args
        steps = self.state.global_step + 1
        return steps * args.per_device_train_batch_size * args.gradient_accumulation_steps * args.world_size

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
        subset = {
            key: value[rows] if isinstance(value, torch.Tensor) and value.shape[:1] == rows.shape else value
            for key, value in inputs.items()
        }
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
        if (
            not self.is_world_process_zero()
            or self.args.hub_strategy == HubStrategy.END
            or (in_progress and not self.args.hub_always_push)
            or self.is_deepspeed_enabled
            or self.is_fsdp_enabled
        ):
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
