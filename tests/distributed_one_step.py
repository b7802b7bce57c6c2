# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""One DearTrainer step of a tiny DEAR on fixed inputs, for tests/test_distributed_training.py.

Run in the test's own process (one process) or under `accelerate launch` (several, gloo on CPU):

    accelerate launch --config_file configuration/accelerate/multi_cpu_2.yaml tests/distributed_one_step.py OUT B

The main process writes `<OUT>/<name>.json` (train loss, eval loss, logged gradient norm) and
`<OUT>/<name>.safetensors` (the gradient of every trainable parameter when the optimiser steps).
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import torch
from torch import nn
from transformers import TrainerCallback, TrainingArguments

from modeling_dear import DearConfig, DearForVideoClassification
from modeling_dear.training import DearTrainer

CLASSES = ["a", "b", "c"]


def fixed_videos(count: int, config: DearConfig, seed: int) -> list[dict]:
    generator = torch.Generator().manual_seed(seed)
    shape = (config.num_frames, 3, config.image_size, config.image_size)
    return [
        {
            "pixel_values": torch.randn(shape, generator=generator),
            "depth_pixel_values": torch.randn(shape, generator=generator),
            "labels": index % config.num_labels,
        }
        for index in range(count)
    ]


def keep_batchnorm_in_eval_mode(model: nn.Module) -> None:
    """BatchNorm normalises with its running statistics, in training too: each video's output then no longer
    depends on which other videos share its batch (see the test's docstring)."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.train = types.MethodType(lambda self, mode=True: nn.Module.train(self, False), module)
            module.eval()


class GradientRecorder(TrainerCallback):
    def __init__(self):
        self.gradients, self.logs = None, {}

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        if self.gradients is None:
            self.gradients = {
                name: parameter.grad.detach().clone()
                for name, parameter in model.named_parameters()
                if parameter.requires_grad
            }

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logs.update(logs or {})


def run_one_step(
    output: Path, name: str, batch_size: int, accumulation: int, num_videos: int, batchnorm: str = "batch"
) -> None:
    config = DearConfig.from_preset("tiny", num_frames=4, image_size=32, id2label=dict(enumerate(CLASSES)))
    torch.manual_seed(0)
    model = DearForVideoClassification(config)
    if batchnorm == "running":
        keep_batchnorm_in_eval_mode(model)
    args = TrainingArguments(
        output_dir=str(output / f"run-{name}"),
        use_cpu=True,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        gradient_accumulation_steps=accumulation,
        max_steps=1,
        learning_rate=1e-3,
        max_grad_norm=1e9,  # the norm is computed and logged, the gradients left as they are
        logging_steps=1,
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        dataloader_num_workers=0,
        remove_unused_columns=False,
        seed=0,
        disable_tqdm=True,
    )
    recorder = GradientRecorder()
    trainer = DearTrainer(
        model=model,
        args=args,
        train_dataset=fixed_videos(num_videos, config, seed=1),
        eval_dataset=fixed_videos(num_videos, config, seed=2),
        callbacks=[recorder],
    )
    train_loss = trainer.train().metrics["train_loss"]
    eval_loss = trainer.evaluate()["eval_loss"]
    if trainer.is_world_process_zero():
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in recorder.gradients.items()}, str(output / f"{name}.safetensors"))
        record = {
            "train_loss": train_loss,
            "eval_loss": eval_loss,
            "grad_norm": float(recorder.logs["grad_norm"]),
            "world_size": args.world_size,
        }
        (output / f"{name}.json").write_text(json.dumps(record))


if __name__ == "__main__":
    output, batch_size = Path(sys.argv[1]), int(sys.argv[2])
    for batchnorm in ("running", "batch"):
        run_one_step(
            output, f"2procs-{batchnorm}", batch_size, accumulation=1, num_videos=2 * batch_size, batchnorm=batchnorm
        )
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
