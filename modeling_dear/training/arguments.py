# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The recipe's command-line arguments: `ModelArguments`, `DataArguments` and transformers' `TrainingArguments`,
with Side4Video's SSv2 recipe as the defaults (`RECIPE_DEFAULTS`; any can be given on the command line)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import HfArgumentParser, TrainingArguments
from transformers.trainer_utils import IntervalStrategy

from ..model_sources import check_model_source

# Side4Video's SSv2 recipe, as TrainingArguments defaults (any can still be given on the command line).
RECIPE_DEFAULTS = {
    "output_dir": "outputs/dear",
    "learning_rate": 1e-3,
    "weight_decay": 0.15,
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "num_train_epochs": 30.0,
    "lr_scheduler_type": "cosine",
    "per_device_train_batch_size": 16,
    "per_device_eval_batch_size": 16,
    "eval_strategy": "epoch",
    "save_strategy": "epoch",
    "save_total_limit": 2,
    "logging_steps": 10,
    "remove_unused_columns": False,
    "report_to": "none",
    "dataloader_num_workers": 4,
}


@dataclass
class ModelArguments:
    preset: str = field(
        default="tiny",
        metadata={"help": "preset name (see configuration/presets; e.g. dear, s4v-rgb, tiny) or a config JSON/folder"},
    )
    model_name_or_path: str | None = field(
        default=None, metadata={"help": "a saved DEAR model (folder or Hub id) to fine-tune or evaluate instead"}
    )
    clip_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "CLIP weights for the frozen backbone (default: the preset's, openai/clip-vit-base-patch16; "
            "'none' keeps random weights)"
        },
    )
    videomamba_name_or_path: str | None = field(
        default=None, metadata={"help": "released VideoMamba checkpoint (.pth/.safetensors) to initialise VideoMamba"}
    )
    side4video_checkpoint: str | None = field(
        default=None, metadata={"help": "released Side4Video SSv2 checkpoint to initialise the RGB side network"}
    )
    label_smoothing: float | None = field(default=None, metadata={"help": "overrides the config's (0.1)"})
    resume_latest: bool = field(
        default=True,
        metadata={
            "help": "resume from the newest checkpoint-* in output_dir when there is one (re-running an "
            "interrupted command continues it)"
        },
    )
    encoder_module: str | None = field(
        default=None,
        metadata={
            "help": "a Python file (my_encoders.py) or module name imported in every process before the model is "
            "built: its @register_encoder classes become encoder types a --preset config file can name"
        },
    )


@dataclass
class DataArguments:
    dataset: str = field(
        default="synthetic",
        metadata={"help": "'synthetic', a save_to_disk folder, or a folder of Parquet shards (prepare_ssv2.py)"},
    )
    synthetic_train_per_class: int = field(default=40, metadata={"help": "synthetic data: training clips per class"})
    synthetic_eval_per_class: int = field(default=12, metadata={"help": "synthetic data: validation clips per class"})
    synthetic_seed: int = field(default=0, metadata={"help": "synthetic data: generator seed"})
    synthetic_cache_dir: str | None = field(
        default=None, metadata={"help": "synthetic data cache (default ~/.cache/dear)"}
    )
    train_split: str = field(default="train")
    eval_split: str = field(default="validation")
    predict_split: str | None = field(default=None, metadata={"help": "split for --do_predict (default: eval_split)"})
    max_train_samples: int | None = field(default=None)
    max_eval_samples: int | None = field(default=None)
    max_predict_samples: int | None = field(default=None)
    repeated_augmentation: int = field(default=2, metadata={"help": "augmented copies of each video per batch"})
    warmup_epochs: float = field(default=4.0, metadata={"help": "linear warm-up length in epochs (then cosine)"})
    crop_scale_min: float = field(default=0.08, metadata={"help": "smallest area fraction of the random crop"})
    randaugment_num_ops: int = field(default=4, metadata={"help": "RandAugment ops per clip (0 disables it)"})
    randaugment_magnitude: float = field(default=7.0)
    decode_backend: str = field(default="auto", metadata={"help": "decord, pyav or auto"})
    label_columns: list[str] | None = field(
        default=None,
        metadata={
            "help": "the dataset's label column(s) (default: label); several, e.g. `verb noun` for EPIC-Kitchens-100, "
            "give the model one head per label set (a preset takes each column's ClassLabel names)"
        },
    )
    # SSv2's conventions are the defaults; None means "SSv2's, or the saved processor's with --model_name_or_path"
    sampling: str | None = field(
        default=None,
        metadata={
            "help": "how a clip's frames are picked: 'segment' (TSN segments over the whole video; SSv2's, the "
            "default) or 'stride' (frames --frame_stride apart; Kinetics-like data). Saved with the processor, so "
            "evaluation and the pipeline sample the same way"
        },
    )
    frame_stride: int | None = field(
        default=None, metadata={"help": "frames between sampled frames with --sampling stride (default 4)"}
    )
    flip: str | None = field(
        default=None,
        metadata={
            "help": "on or off: random horizontal flips in training (default on, SSv2's); a flip swaps the labels "
            "of classes whose names differ only by left/right, and keeps every other label"
        },
    )
    streaming: bool = field(
        default=False,
        metadata={
            "help": "train from --dataset (a Hub id or a folder of Parquet shards) as a datasets IterableDataset, "
            "shards split across processes; needs --max_steps. Evaluation and prediction read their split whole"
        },
    )
    shuffle_buffer_size: int = field(
        default=1000, metadata={"help": "--streaming: rows in the shuffle buffer (seeded by --data_seed or --seed)"}
    )
    max_undecodable_fraction: float = field(
        default=0.01,
        metadata={
            "help": "training skips (and logs) videos that cannot be decoded; it stops once more than this "
            "fraction of the training split was skipped"
        },
    )


def parse_arguments(argv: list[str] | None = None):
    """(ModelArguments, DataArguments, TrainingArguments) from `argv`, the command line, or one JSON file, with
    the recipe's defaults in every case."""
    parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments))
    arguments = argv if argv is not None else sys.argv[1:]
    json_file = arguments[0] if len(arguments) == 1 and arguments[0].endswith(".json") else None
    given = json.loads(Path(json_file).read_text()) if json_file else None
    defaults = dict(RECIPE_DEFAULTS)
    # The recipe trains in mixed precision: bf16 on GPUs that have it, unless asked otherwise (on CPU: --bf16).
    # Decided before parsing, because TrainingArguments fixes its precision when it is built.
    mentioned = set(given) if given is not None else {arg.split("=")[0].lstrip("-") for arg in arguments}
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported() and not {"bf16", "fp16"} & mentioned:
        defaults["bf16"] = True
    # Activation checkpointing of the trainable encoder blocks (every Side4Video and VideoMamba block re-run in
    # backward: same loss and gradients, a fraction of the step memory; README, Performance) is on in the recipe,
    # unless asked otherwise by either of transformers' names for it. A bare model has it off, as every
    # transformers model.
    if not {"activation_checkpointing", "gradient_checkpointing"} & mentioned:
        defaults["activation_checkpointing"] = True
    if given is not None:
        model_args, data_args, training_args = parser.parse_dict({**defaults, **given})
    else:
        parser.set_defaults(**defaults)
        model_args, data_args, training_args = parser.parse_args_into_dataclasses(args=argv)
    # TrainingArguments turns do_eval on whenever eval_strategy is set (the recipe's "epoch"): that is evaluation
    # during training, so without --do_train only an explicit --do_eval runs an evaluation pass
    if not training_args.do_train:
        training_args.eval_strategy = IntervalStrategy.NO  # nothing to evaluate during
        if "do_eval" not in mentioned:
            training_args.do_eval = False
    if model_args.model_name_or_path:
        check_model_source(model_args.model_name_or_path, "--model_name_or_path")
    check_data_arguments(data_args, training_args)
    check_argument_values(model_args, data_args, training_args)
    return model_args, data_args, training_args


FLIP_VALUES = {"on": True, "off": False, "true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


class ArgumentError(ValueError):
    """A command-line value that cannot work; `dear-train` prints the message as one line."""


def check_data_arguments(data_args: DataArguments, training_args: TrainingArguments) -> None:
    """Refuse values of the sampling, flipping and streaming options that cannot work, naming the option and the fix."""
    from ..frame_sampling import SAMPLINGS

    if data_args.sampling is not None and data_args.sampling not in SAMPLINGS:
        raise ArgumentError(
            f"--sampling {data_args.sampling}: must be one of {', '.join(SAMPLINGS)} (segment: SSv2's TSN segments; "
            "stride: frames --frame_stride apart, for Kinetics-like data)"
        )
    if data_args.flip is not None and not isinstance(data_args.flip, bool):
        value = str(data_args.flip).strip().lower()
        if value not in FLIP_VALUES:
            raise ArgumentError(f"--flip {data_args.flip}: must be on or off (also true/false, yes/no, 1/0)")
        data_args.flip = FLIP_VALUES[value]
    if data_args.frame_stride is not None and data_args.frame_stride < 1:
        raise ArgumentError(
            f"--frame_stride {data_args.frame_stride}: must be a whole number of frames >= 1 (e.g. 4, or 8 for "
            "30 fps Kinetics clips)"
        )
    if data_args.frame_stride is not None and data_args.sampling == "segment":
        raise ArgumentError(
            f"--frame_stride {data_args.frame_stride} applies to --sampling stride only: add --sampling stride, "
            "or leave --frame_stride out"
        )
    if data_args.streaming:
        if training_args.do_train and training_args.max_steps <= 0:
            raise ArgumentError(
                "--streaming: a stream has no length, so training needs --max_steps N (the number of optimiser "
                "steps) instead of --num_train_epochs"
            )
        if data_args.max_train_samples is not None:
            raise ArgumentError(
                "--max_train_samples does not apply to --streaming: --max_steps bounds the run; leave it out"
            )
        if data_args.shuffle_buffer_size < 1:
            raise ArgumentError(
                f"--shuffle_buffer_size {data_args.shuffle_buffer_size}: must be >= 1 (rows held for shuffling, "
                "e.g. 1000)"
            )


# (option, the values it takes as a test, what they are): checked at start, before anything is loaded or trained
_ARGUMENT_RANGES = (
    ("max_undecodable_fraction", lambda v: 0 <= v <= 1, "a fraction between 0 and 1"),
    ("repeated_augmentation", lambda v: v >= 1, "a whole number >= 1 (1: each video once per batch)"),
    ("crop_scale_min", lambda v: 0 < v <= 1, "an area fraction in (0, 1]"),
    ("randaugment_num_ops", lambda v: v >= 0, "a whole number >= 0 (0 disables RandAugment)"),
    ("warmup_epochs", lambda v: v >= 0, "a number of epochs >= 0"),
    ("synthetic_train_per_class", lambda v: v >= 1, "a whole number >= 1"),
    ("synthetic_eval_per_class", lambda v: v >= 1, "a whole number >= 1"),
    ("max_train_samples", lambda v: v is None or v >= 1, "a whole number >= 1 (or left out for all)"),
    ("max_eval_samples", lambda v: v is None or v >= 1, "a whole number >= 1 (or left out for all)"),
    ("max_predict_samples", lambda v: v is None or v >= 1, "a whole number >= 1 (or left out for all)"),
    ("label_smoothing", lambda v: v is None or 0 <= v < 1, "a number in [0, 1)"),
    ("per_device_train_batch_size", lambda v: v >= 1, "a whole number of videos >= 1"),
    ("per_device_eval_batch_size", lambda v: v >= 1, "a whole number of videos >= 1"),
    ("gradient_accumulation_steps", lambda v: v >= 1, "a whole number >= 1"),
    ("dataloader_num_workers", lambda v: v >= 0, "a whole number >= 0 (0 loads in the training process)"),
)


def check_argument_values(*argument_groups) -> None:
    """Refuse, in one line naming the option, a value that cannot be right (a negative fraction, no videos per
    batch, ...), before anything is loaded: some would otherwise fail only deep into training, or never."""
    for name, valid, meaning in _ARGUMENT_RANGES:
        for group in argument_groups:
            if hasattr(group, name):
                value = getattr(group, name)
                if not valid(value):
                    shown = f"{value:g}" if isinstance(value, float) else value
                    raise ValueError(f"--{name} {shown}: must be {meaning}")
                break
