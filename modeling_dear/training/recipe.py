# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Train and evaluate DEAR on any prepared video dataset (Something-Something V2 with depth, any dataset `dear-prepare`
wrote, the built-in synthetic one) with its own classes: the recipe behind `dear-train`, `python -m
modeling_dear.cli.train`, `examples/run_video_classification.py` and `examples/run_ssv2.py`.

Arguments (`arguments.py`): the model (`--preset` name from configuration/presets or a config file, pretrained
weights, `--encoder_module` for encoders registered outside the package), the data (`--dataset`: "synthetic"
(default), a `save_to_disk` folder, a folder of Parquet shards or a Hub id; `--streaming` to read the training split
as a stream, `training.streaming`), SSv2's frame sampling and flipping as overridable defaults (`--sampling`,
`--frame_stride`, `--flip`), and every `TrainingArguments` option. Defaults follow Side4Video's SSv2 recipe:
AdamW lr 1e-3, weight decay 0.15 on all trainable parameters, 4 warm-up epochs then cosine to 0, 30 epochs,
label smoothing 0.1, 2 augmented copies of each video per batch, bf16 on GPUs that support it, SyncBatchNorm
with more than one process. `per_device_train_batch_size` counts videos; each appears
`--repeated_augmentation` times, differently augmented, in its batch.

Evaluation during training uses one centre view per video; `--do_predict` tests with 2 clips x 3 crops
(softmax averaged) and writes `predictions.jsonl` for `python -m modeling_dear.evaluation.per_class_comparison`.
`--label_columns verb noun` trains one head per label set (EPIC-Kitchens-100), tested per set and for actions.

Why one module: `run` reads top to bottom as one run does (arguments, data, config, processor, model, trainer,
card); the parts with concerns of their own live beside it (streaming, encoder_modules, checkpoints, collator).
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import transformers
from transformers import set_seed

from .. import DearConfig, DearForVideoClassification, DearVideoProcessor
from ..configuration_dear import modality_column
from ..modeling_side4video import convert_to_sync_batchnorm
from .arguments import ArgumentError, DataArguments, ModelArguments, parse_arguments
from .checkpoints import check_resume_checkpoint, checkpoint_problem, find_resumable_checkpoint
from .collator import VideoCollator
from .dataset_checks import check_dataset_fits_model
from .metrics import video_accuracy_metrics
from .predictions import write_action_submission, write_predictions
from .trainer import DearTrainer

logger = logging.getLogger(__name__)


def load_video_dataset(data_args: DataArguments):
    """The `DatasetDict` `--dataset` names: the synthetic data (generated once, then cached), a `save_to_disk`
    folder, or a folder of data files such as `dear-prepare-ssv2` writes."""
    import datasets

    if data_args.dataset == "synthetic":
        from ..data.synthetic import SyntheticSpec, load_or_generate_synthetic

        spec = SyntheticSpec(
            num_train_per_class=data_args.synthetic_train_per_class,
            num_validation_per_class=data_args.synthetic_eval_per_class,
            seed=data_args.synthetic_seed,
        )
        return load_or_generate_synthetic(spec, cache_dir=data_args.synthetic_cache_dir)
    path = Path(data_args.dataset).expanduser()
    if (path / "dataset_dict.json").is_file():
        return datasets.load_from_disk(str(path))
    if path.is_dir():
        return datasets.load_dataset(str(path))
    raise FileNotFoundError(f"--dataset {data_args.dataset}: not 'synthetic', a save_to_disk folder, or a data folder")


def build_config(
    model_args: ModelArguments, label_names: list[str] | None, label_sets: dict[str, list[str]] | None = None
) -> DearConfig:
    """The saved model's config, a config file as is, or a preset with the dataset's classes (`label_names`, or
    `label_sets`: class names by label column, for a model with several label sets)."""
    if model_args.model_name_or_path:
        config = DearConfig.from_pretrained(model_args.model_name_or_path)
    elif Path(model_args.preset).suffix == ".json" or Path(model_args.preset).is_dir():
        # an explicit config keeps its own classes (checked against the data before training)
        config = DearConfig.from_preset_or_path(model_args.preset)
    elif label_sets is not None:
        config = DearConfig.from_preset(model_args.preset, label_sets=label_sets)
    else:
        if label_names is None:
            raise ValueError(
                "the dataset's 'label' column is not a ClassLabel, so the class names are unknown: "
                "cast it to ClassLabel or pass a config file with id2label as --preset"
            )
        # a preset takes the dataset's classes
        config = DearConfig.from_preset(model_args.preset, id2label=dict(enumerate(label_names)))
    if model_args.label_smoothing is not None:
        config.label_smoothing = model_args.label_smoothing
    return config


def build_processor(config: DearConfig, data_args: DataArguments, model_args: ModelArguments) -> DearVideoProcessor:
    """The saved model's processor when it has one, else one for `config` with the recipe's augmentation; either way
    with the frame sampling and flipping the arguments give (saved with it: evaluation and the pipeline then sample
    as training did)."""
    processor = None
    if model_args.model_name_or_path:
        try:
            processor = DearVideoProcessor.from_pretrained(model_args.model_name_or_path)
        except OSError:
            logger.warning("%s has no processor; building one from the config", model_args.model_name_or_path)
    if processor is None:
        # the model's clip, modalities and classes; the recipe's 256x320 resize before the 224 crop, scaled to its
        # frames; a flip swaps the classes whose names differ by left/right (none: a flip keeps every label)
        processor = DearVideoProcessor.from_model_config(
            config,
            crop_scale=[data_args.crop_scale_min, 1.0],
            randaugment_num_ops=data_args.randaugment_num_ops,
            randaugment_magnitude=data_args.randaugment_magnitude,
            decode_backend=data_args.decode_backend,
        )
    # None: SSv2's defaults, or what the saved processor holds
    if data_args.sampling is not None:
        processor.sampling = data_args.sampling
    if data_args.frame_stride is not None:
        if processor.sampling != "stride":
            raise ArgumentError(
                f"--frame_stride {data_args.frame_stride} applies to --sampling stride only (this processor samples "
                f"{processor.sampling!r}): add --sampling stride, or leave --frame_stride out"
            )
        processor.frame_stride = int(data_args.frame_stride)
    if data_args.flip is not None:
        processor.flip_prob = (processor.flip_prob or 0.5) if data_args.flip else 0.0
    processor._validate()
    logger.info(
        "frames: %s; training flips: %s",
        f"{processor.num_frames} {processor.frame_stride} apart"
        if processor.sampling == "stride"
        else f"{processor.num_frames} segments",
        "off"
        if not processor.flip_prob
        else f"p={processor.flip_prob:g}, swapping the labels of class pairs {processor.flip_label_pairs}"
        # by label set ({"verb": [...], "noun": [...]}) for a model with label sets
        if any(
            processor.flip_label_pairs.values()
            if isinstance(processor.flip_label_pairs, dict)
            else [processor.flip_label_pairs]
        )
        else f"p={processor.flip_prob:g}, keeping every label (no left/right class pairs)",
    )
    return processor


def build_model(config: DearConfig, model_args: ModelArguments) -> DearForVideoClassification:
    """The saved model, or a new one with the pretrained encoders the arguments (or the config) name."""
    if model_args.model_name_or_path:
        return DearForVideoClassification.from_pretrained(model_args.model_name_or_path, config=config)
    model = DearForVideoClassification(config)
    clip_source = model_args.clip_name_or_path or config.clip_name_or_path
    if clip_source and clip_source.lower() != "none" and model.backbone is not None:
        model.load_pretrained_encoders(clip_name_or_path=clip_source)
        logger.info("frozen backbone loaded from %s", clip_source)
    elif model.backbone is not None:
        logger.warning("the frozen CLIP backbone keeps RANDOM weights (no --clip_name_or_path); fine for tests only")
    if model_args.videomamba_name_or_path:
        model.load_pretrained_encoders(videomamba_name_or_path=model_args.videomamba_name_or_path)
    if model_args.side4video_checkpoint:
        from ..conversion.side4video import load_side4video_checkpoint

        logger.info("Side4Video checkpoint: %s", load_side4video_checkpoint(model, model_args.side4video_checkpoint))
    return model


def _dataset_label_sets(split, label_columns: list[str] | None) -> dict[str, list[str]] | None:
    """Class names by label column when `--label_columns` names several columns (or one other than `label`)."""
    if not label_columns or list(label_columns) == ["label"]:
        return None
    label_sets = {}
    for column in label_columns:
        if column not in split.column_names:
            raise ValueError(
                f"--label_columns {column}: the dataset has no such column; its columns are {split.column_names}"
            )
        names = getattr(split.features[column], "names", None)
        if names is None:
            raise ValueError(
                f"--label_columns {column}: the column is not a ClassLabel, so its class names are unknown; cast it "
                "to ClassLabel or pass a config file with label_sets as --preset"
            )
        label_sets[column] = list(names)
    return label_sets


def _is_labelled(dataset, label_columns: list[str]) -> bool:
    """Whether every label column is there with ids (a test split has none, or -1)."""
    return (
        len(dataset) > 0
        and all(column in dataset.column_names for column in label_columns)
        and all(min(dataset[column]) >= 0 for column in label_columns)
    )


def run(argv: list[str] | None = None, callbacks: list | None = None) -> dict:
    """Run the recipe with command-line arguments (or `argv`, or one JSON file of them); returns the train / eval /
    test metrics. `callbacks` are handed to the Trainer."""
    model_args, data_args, training_args = parse_arguments(argv)

    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        level=logging.INFO if training_args.should_log else logging.WARNING,
    )
    transformers.utils.logging.set_verbosity_warning()
    set_seed(training_args.seed)
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched > training_args.world_size:
        # e.g. torchrun's processes on a machine without GPUs: each would train alone, on all the data, into one folder
        raise ArgumentError(
            f"{launched} processes were launched but each would train alone (world size {training_args.world_size}): "
            "on CPUs add --use_cpu true, which joins them with gloo"
        )
    if model_args.encoder_module:
        from .encoder_modules import import_encoder_module

        import_encoder_module(model_args.encoder_module)  # every process runs this, before any model is built

    if data_args.streaming:
        from .streaming import StreamingSplits

        # the training split streams; evaluation and prediction read theirs whole (see StreamingSplits)
        raw = StreamingSplits(data_args, data_args.train_split, training_args.world_size)
    else:
        raw = load_video_dataset(data_args)
    splits = {
        "train": data_args.train_split,
        "eval": data_args.eval_split,
        "predict": data_args.predict_split or data_args.eval_split,
    }
    for purpose, enabled in (
        ("train", training_args.do_train),
        ("eval", training_args.do_eval),
        ("predict", training_args.do_predict),
    ):
        if enabled and splits[purpose] not in raw:
            raise ValueError(
                f"--dataset {data_args.dataset} has no split {splits[purpose]!r} for {purpose}; it has {list(raw)}"
            )
    reference_split = next(raw[name] for name in (*splits.values(), *raw) if name in raw)
    label_names = getattr(reference_split.features.get("label"), "names", None)
    label_sets = _dataset_label_sets(reference_split, data_args.label_columns)

    config = build_config(model_args, label_names, label_sets)
    label_columns = list(config.label_columns)  # ["label"], or the model's label sets
    # a predict split is checked like the others when it has labels (test metrics), only for columns otherwise
    predict_labelled = (
        training_args.do_predict and splits["predict"] in raw and _is_labelled(raw[splits["predict"]], label_columns)
    )
    checks = [
        ("train", training_args.do_train, True),
        ("eval", training_args.do_eval, True),
        ("predict", training_args.do_predict, predict_labelled),
    ]
    for purpose, enabled, needs_labels in checks:
        if enabled:
            check_dataset_fits_model(raw[splits[purpose]], config, splits[purpose], needs_labels=needs_labels)

    last_checkpoint = None
    if training_args.do_train:
        require_optimizer = not training_args.save_only_model
        if training_args.resume_from_checkpoint:
            last_checkpoint = training_args.resume_from_checkpoint
            if (Path(last_checkpoint) / "config.json").is_file():
                check_resume_checkpoint(last_checkpoint, config)  # another model: the more useful message first
            problem = checkpoint_problem(last_checkpoint, require_optimizer=require_optimizer)
            if problem:
                raise ValueError(
                    f"--resume_from_checkpoint {last_checkpoint} cannot be resumed from: {problem} (a run interrupted "
                    "while saving it?); pick an earlier checkpoint-N, or leave the option out to take the newest complete one"
                )
        elif os.path.isdir(training_args.output_dir) and model_args.resume_latest:
            last_checkpoint = find_resumable_checkpoint(training_args.output_dir, require_optimizer=require_optimizer)
        if last_checkpoint:
            check_resume_checkpoint(last_checkpoint, config)
            logger.info("resuming from %s", last_checkpoint)

    def prepare(split_name: str, limit: int | None):
        dataset = raw[split_name]
        if limit is not None and hasattr(dataset, "select"):
            dataset = dataset.select(range(min(limit, len(dataset))))
        # the id, the label and the column of each modality the model reads (video, depth, ...)
        wanted = ("video_id", *dict.fromkeys(modality_column(m) for m in ("rgb", *config.modalities)), *label_columns)
        return dataset.select_columns([c for c in wanted if c in dataset.column_names])

    train_dataset = prepare(splits["train"], data_args.max_train_samples) if training_args.do_train else None
    if data_args.streaming and train_dataset is not None:
        from .streaming import RepeatedStream, process_share

        train_dataset = RepeatedStream(
            process_share(
                train_dataset,
                rank=training_args.process_index,
                world_size=training_args.world_size,
                seed=training_args.data_seed if training_args.data_seed is not None else training_args.seed,
                buffer_size=data_args.shuffle_buffer_size,
            ),
            # with label sets the rows' ids are checked by the model's forward (one message per set)
            num_labels=config.num_labels if config.label_sets is None else None,
            num_rows=raw.num_rows(splits["train"]),
            rank=training_args.process_index,
        )
        # each process reads its own share: accelerate must neither read for all (dispatch) nor split it again
        training_args.accelerator_config.dispatch_batches = False
        if "epoch" in (str(getattr(s, "value", s)) for s in (training_args.eval_strategy, training_args.save_strategy)):
            logger.info("--streaming has no epochs: evaluation / saving 'epoch' happens once, after --max_steps")
    eval_dataset = prepare(splits["eval"], data_args.max_eval_samples) if training_args.do_eval else None

    processor = build_processor(config, data_args, model_args)
    # what the run used (also when the saved processor decided), for the model card
    data_args.sampling, data_args.flip = processor.sampling, bool(processor.flip_prob)
    data_args.frame_stride = processor.frame_stride if processor.sampling == "stride" else None
    model = build_model(config, model_args)
    if training_args.world_size > 1 and training_args.device.type == "cuda":
        # small per-device batches: normalise the side networks over the global batch (SyncBatchNorm is GPU-only)
        model = convert_to_sync_batchnorm(model)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    logger.info(
        "model %s: %.2f M trainable of %.2f M parameters",
        model_args.model_name_or_path or model_args.preset,
        trainable / 1e6,
        sum(p.numel() for p in model.parameters()) / 1e6,
    )

    if training_args.do_train and data_args.warmup_epochs and not training_args.warmup_steps:
        videos_per_step = (
            training_args.per_device_train_batch_size
            * training_args.world_size
            * training_args.gradient_accumulation_steps
        )
        train_rows = getattr(train_dataset, "num_rows", None) if data_args.streaming else len(train_dataset)
        if train_rows:
            steps_per_epoch = math.ceil(train_rows / videos_per_step)
            training_args.warmup_steps = int(math.ceil(data_args.warmup_epochs * steps_per_epoch))
        else:
            # a stream of unknown length: the recipe's share of warm-up (4 of 30 epochs) of --max_steps
            share = min(1.0, data_args.warmup_epochs / training_args.num_train_epochs)
            training_args.warmup_steps = int(math.ceil(share * training_args.max_steps))
            logger.info(
                "--streaming: the split's length is unknown, so --warmup_epochs %g of --num_train_epochs %g becomes "
                "%d of the %d steps (or give --warmup_steps)",
                data_args.warmup_epochs,
                training_args.num_train_epochs,
                training_args.warmup_steps,
                training_args.max_steps,
            )

    modalities = config.modalities  # the collators read the dataset column of each
    trainer = DearTrainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=processor,
        data_collator=VideoCollator(
            processor,
            mode="train",
            modalities=modalities,
            label_columns=label_columns,
            repeats=data_args.repeated_augmentation,
            seed=training_args.seed,
            rank=training_args.process_index,
            # on an accelerator the CPU workers only decode; augmentation runs batched on the device
            augment_on_device=training_args.device.type != "cpu",
        ),
        eval_collator=VideoCollator(
            processor,
            mode="val",
            modalities=modalities,
            label_columns=label_columns,
            seed=training_args.seed,
            rank=training_args.process_index,
        ),
        test_collator=VideoCollator(
            processor,
            mode="test",
            modalities=modalities,
            label_columns=label_columns,
            seed=training_args.seed,
            rank=training_args.process_index,
        ),
        compute_metrics=video_accuracy_metrics(config.id2label, config.label_sets),
        callbacks=callbacks,
        max_skipped_fraction=data_args.max_undecodable_fraction,
    )

    results = {}
    if training_args.do_train:
        train_result = trainer.train(resume_from_checkpoint=last_checkpoint)
        trainer.save_model()
        trainer.log_metrics("train", train_result.metrics)
        trainer.save_metrics("train", train_result.metrics)
        trainer.save_state()
        results["train"] = train_result.metrics
    if training_args.do_eval:
        metrics = trainer.evaluate()
        metrics["eval_per_class_accuracy"] = trainer.compute_metrics.last_per_class
        trainer.log_metrics("eval", {k: v for k, v in metrics.items() if not isinstance(v, dict)})
        trainer.save_metrics("eval", metrics)
        results["eval"] = metrics
    if training_args.do_predict:
        predict_dataset = prepare(splits["predict"], data_args.max_predict_samples)
        has_labels = _is_labelled(predict_dataset, label_columns)
        if not has_labels:
            predict_dataset = predict_dataset.remove_columns(
                [c for c in label_columns if c in predict_dataset.column_names]
            )
        prediction = trainer.predict(predict_dataset, metric_key_prefix="test")
        metrics = dict(prediction.metrics)
        if has_labels:
            metrics["test_per_class_accuracy"] = trainer.compute_metrics.last_per_class
        trainer.log_metrics("test", {k: v for k, v in metrics.items() if not isinstance(v, dict)})
        trainer.save_metrics("test", metrics)
        if trainer.is_world_process_zero():
            write_predictions(
                Path(training_args.output_dir) / "predictions.jsonl",
                prediction.predictions,
                predict_dataset,
                config.id2label,
                label_sets=config.label_sets,
            )
            if config.predicts_actions:
                # the EPIC-Kitchens-100 leaderboard's results layout (README, "EPIC-Kitchens-100")
                write_action_submission(
                    Path(training_args.output_dir) / "submission.json",
                    prediction.predictions,
                    predict_dataset,
                    config.label_sets,
                )
        results["test"] = metrics

    if trainer.is_world_process_zero() and (
        training_args.do_train or training_args.do_eval or training_args.do_predict
    ):
        trainer.model_card = model_card_for(config, training_args, data_args, results, model_args)
        trainer.model_card.save(Path(training_args.output_dir) / "README.md")
        if training_args.push_to_hub:
            trainer.push_to_hub()
    return results


def model_card_for(config, training_args, data_args, results, model_args=None):
    """The model card of a run: its test (else evaluation) metrics, data, backbone, schedule and usage code."""
    from ..hub.model_card import build_model_card

    test, evaluation = results.get("test", {}), results.get("eval", {})
    # the card's results table: top-1, top-5, mean class accuracy (per label set, and actions, with label sets)
    keys = [
        f"{prefix}{key}"
        for prefix in ([f"{name}_" for name in config.label_sets] if config.label_sets else [""])
        for key in ("top1", "top5", "mean_class_accuracy")
    ] + (["action_top1", "action_top5"] if config.predicts_actions else [])
    if f"test_{keys[0]}" in test:
        metrics, split, views = (
            {key: test[f"test_{key}"] for key in keys if f"test_{key}" in test},
            data_args.predict_split or data_args.eval_split,
            "2 clips x 3 crops",
        )
    elif f"eval_{keys[0]}" in evaluation:
        metrics, split, views = (
            {key: evaluation[f"eval_{key}"] for key in keys if f"eval_{key}" in evaluation},
            data_args.eval_split,
            "1 centre view",
        )
    else:
        metrics, split, views = {}, data_args.eval_split, ""
    synthetic = data_args.dataset == "synthetic"
    dataset_name, dataset_id, dataset_license = dataset_identity(data_args, config)
    repo_id = training_args.hub_model_id or Path(training_args.output_dir).name
    model_args = model_args or ModelArguments()
    # what the frozen backbone holds: the starting model's, a CLIP checkpoint's, or random weights (as build_model)
    if model_args.model_name_or_path:
        backbone_source = model_args.model_name_or_path
    else:
        clip_source = model_args.clip_name_or_path or config.clip_name_or_path
        backbone_source = clip_source if clip_source and clip_source.lower() != "none" else None
    usage_source, usage_note = repo_id, ""
    if not training_args.do_train and model_args.model_name_or_path:
        # this run saved no weights: the card's code loads the model it evaluated
        usage_source = model_args.model_name_or_path
        usage_note = (
            f"This folder holds the evaluation of `{usage_source}`, not a model of its own: "
            "the code below loads that model."
        )
    elif not training_args.do_train:
        usage_note = (
            "This run evaluated a freshly initialised model and saved no weights: the code below is how "
            "a trained DEAR folder or Hub repository is used."
        )
    scheduler = getattr(
        training_args.lr_scheduler_type, "value", training_args.lr_scheduler_type
    )  # not "SchedulerType.COSINE"
    return build_model_card(
        config,
        repo_id=repo_id,
        metrics=metrics,
        eval_dataset=dataset_name,
        eval_dataset_id=dataset_id,
        eval_split=split,
        eval_views=views,
        depth_description=(
            "Depth is the renderer's exact depth (the synthetic dataset's `ground_truth`)."
            if synthetic
            else "Depth was estimated for every frame with the depth model recorded in the dataset's `depth_model` column."
        ),
        training_description=(
            "This run trained nothing (evaluation only)."
            if not training_args.do_train
            else f"{f'{training_args.max_steps} steps' if training_args.max_steps > 0 else f'{training_args.num_train_epochs:g} epochs'}, "
            f"{training_args.world_size} process(es) x {training_args.gradient_accumulation_steps} accumulation step(s), AdamW lr {training_args.learning_rate:g}, weight decay "
            f"{training_args.weight_decay:g} on all trainable parameters, {training_args.warmup_steps} warm-up steps then "
            f"{scheduler}, "
            f"{training_args.per_device_train_batch_size} videos x {data_args.repeated_augmentation} augmentations per device batch, "
            f"label smoothing {config.label_smoothing:g}; {sampling_description(data_args)}."
        ),
        license=dataset_license,
        datasets=[dataset_id],
        extra_limitations=(
            "- Trained on the synthetic dataset: a demonstration of the pipeline, not a model for real videos.\n"
            if synthetic
            else ""
        ),
        backbone_source=backbone_source,
        base_model=model_args.model_name_or_path or backbone_source,
        usage_source=usage_source,
        usage_note=usage_note,
    )


def dataset_identity(data_args, config) -> tuple[str, str, str]:
    """(name, id, licence) of the trained-on dataset for the model card: the synthetic data, SSv2 (its 174 classes),
    or any other dataset, named by its Hub id or folder, with the licence its prepared card states (else unknown)."""
    from ..data.schema import ssv2_label_names

    if data_args.dataset == "synthetic":
        return "DEAR synthetic depth-sensitive actions", "dear-synthetic", "apache-2.0"
    if [config.id2label[i] for i in range(config.num_labels)] == ssv2_label_names():
        return "Something-Something V2", "something-something-v2", "other"
    path = Path(data_args.dataset).expanduser()
    name = path.resolve().name if path.exists() else data_args.dataset
    license = "unknown"
    if (path / "README.md").is_file():  # a prepared folder's card states its source's licence
        from huggingface_hub import DatasetCard

        try:
            license = DatasetCard.load(path / "README.md").data.license or license
        except Exception as error:  # a card without metadata: the licence stays unknown
            logger.warning("%s: no licence read from the dataset card (%s)", path / "README.md", error)
    return name, name, license


def sampling_description(data_args) -> str:
    """How the run sampled frames and flipped clips, for the model card."""
    sampling = data_args.sampling or "segment"
    frames = (
        f"frames sampled {data_args.frame_stride or 4} apart"
        if sampling == "stride"
        else "frames sampled by TSN segments"
    )
    return f"{frames}, {'no flips' if data_args.flip is False else 'random horizontal flips'}"
