# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The training recipe (`modeling_dear.training.recipe`) and DearTrainer end to end on a tiny dataset: learning,
freezing, resume, metrics, 6 views; `examples/run_ssv2.py` under `accelerate launch`, as users run it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import CLASSES, Recorder, arguments, free_port, tiny_config_file
from transformers import TrainingArguments

from modeling_dear import DearConfig, DearForVideoClassification
from modeling_dear.frozen_weights import FROZEN_WEIGHTS_FILE
from modeling_dear.training import DearTrainer
from modeling_dear.training.arguments import parse_arguments
from modeling_dear.training.recipe import run

ROOT = Path(__file__).resolve().parents[1]


def test_training_lowers_the_loss_and_leaves_frozen_weights_alone(colour_dataset, tmp_path):
    config_file = tiny_config_file(tmp_path)
    start = tmp_path / "start"
    torch.manual_seed(1)
    DearForVideoClassification(DearConfig.from_json_file(config_file)).save_pretrained(start)
    recorder = Recorder()
    results = run(
        arguments(
            colour_dataset,
            tmp_path / "run",
            config_file,
            "--model_name_or_path",
            str(start),
            "--do_train",
            "--do_eval",
            "--max_steps",
            "24",
            "--learning_rate",
            "3e-3",
            "--eval_strategy",
            "no",
            "--save_strategy",
            "no",
            "--repeated_augmentation",
            "1",
        ),
        callbacks=[recorder],
    )
    assert len(recorder.losses) == 24
    # only trainable parameters reach AdamW, all of them, and all with the recipe's weight decay (norms and biases too)
    assert {id(p) for p in recorder.optimised} == {id(p) for p in recorder.trainable}
    assert recorder.weight_decays == {0.15}
    assert recorder.activation_checkpointing  # the recipe's default (a bare model has it off)
    assert np.mean(recorder.losses[-6:]) < 0.7 * np.mean(recorder.losses[:6])
    assert results["eval"]["eval_top1"] > 0.6  # 3 balanced classes: chance is 1/3

    trained = DearForVideoClassification.from_pretrained(tmp_path / "run")
    initial = DearForVideoClassification.from_pretrained(start)
    for name, value in initial.backbone.state_dict().items():
        assert torch.equal(trained.backbone.state_dict()[name], value), name
    assert not torch.equal(
        trained.dear.encoders["rgb_side4video"].stem.weight, initial.dear.encoders["rgb_side4video"].stem.weight
    )

    # evaluation writes the metrics, per class too
    written = json.loads((tmp_path / "run" / "eval_results.json").read_text())
    assert {"eval_top1", "eval_top5", "eval_mean_class_accuracy"} <= set(written)
    assert set(written["eval_per_class_accuracy"]) == set(CLASSES)
    assert (tmp_path / "run" / "README.md").read_text().count("video-classification") >= 1


def test_resume_continues_at_the_step_with_the_saved_optimiser_state(colour_dataset, tmp_path):
    config_file = tiny_config_file(tmp_path, "tiny-dear-rgb-depth")
    common = [
        "--do_train",
        "--max_steps",
        "4",
        "--save_strategy",
        "steps",
        "--save_steps",
        "2",
        "--eval_strategy",
        "no",
    ]
    run(arguments(colour_dataset, tmp_path / "run", config_file, *common))
    checkpoint = tmp_path / "run" / "checkpoint-2"
    # checkpoints hold the trained weights only; the frozen backbone is written once for the run
    assert (tmp_path / "run" / FROZEN_WEIGHTS_FILE).is_file()
    from safetensors import safe_open

    with safe_open(checkpoint / "model.safetensors", "pt") as handle:
        keys = list(handle.keys())
    assert keys and not any(key.startswith("backbone.") for key in keys)

    recorder = Recorder()
    run(
        arguments(colour_dataset, tmp_path / "run", config_file, *common, "--resume_from_checkpoint", str(checkpoint)),
        callbacks=[recorder],
    )
    assert recorder.first_step == 2
    saved = {}
    for index, state in torch.load(checkpoint / "optimizer.pt", weights_only=True)["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                saved[f"{index}.{key}"] = value
    assert saved.keys() == recorder.optimizer_state.keys() and saved
    for key, value in saved.items():
        assert torch.equal(recorder.optimizer_state[key], value), key
    state = json.loads((tmp_path / "run" / "trainer_state.json").read_text())
    assert state["global_step"] == 4

    # a checkpoint folder still loads as a complete model: its frozen weights come from the run's shared file
    final = DearForVideoClassification.from_pretrained(tmp_path / "run")
    from_checkpoint = DearForVideoClassification.from_pretrained(checkpoint)
    for name, value in final.backbone.state_dict().items():
        assert torch.equal(from_checkpoint.backbone.state_dict()[name], value), name
    assert not any(p.requires_grad for p in from_checkpoint.backbone.parameters())


def test_six_view_prediction_averages_the_views_softmax(tmp_path):
    class ViewEcho(torch.nn.Module):
        """Logits read straight off the input: view v of video b gets logits pixel_values[b·6 + v, 0, :3, 0, 0]."""

        def forward(self, pixel_values=None, labels=None, **kwargs):
            from transformers.modeling_outputs import ImageClassifierOutput

            return ImageClassifierOutput(logits=pixel_values[:, 0, :3, 0, 0])

    trainer = DearTrainer(
        model=ViewEcho(), args=TrainingArguments(output_dir=str(tmp_path), report_to="none", use_cpu=True)
    )
    logits = torch.randn(2 * 6, 3)
    pixel_values = torch.zeros(12, 1, 3, 2, 2)
    pixel_values[:, 0, :, 0, 0] = logits
    loss, probabilities, labels = trainer.prediction_step(
        trainer.model,
        {"pixel_values": pixel_values, "labels": torch.tensor([0, 2]), "num_views": 6},
        prediction_loss_only=False,
    )
    expected = logits.softmax(-1).reshape(2, 6, 3).mean(1)
    torch.testing.assert_close(probabilities, expected)
    torch.testing.assert_close(loss, -(expected[[0, 1], [0, 2]]).log().mean())
    assert labels.tolist() == [0, 2]


def test_predict_writes_six_view_predictions(colour_dataset, tmp_path):
    config_file = tiny_config_file(tmp_path, "tiny-s4v-rgb")
    results = run(arguments(colour_dataset, tmp_path / "run", config_file, "--do_predict"))
    rows = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 9 and {"video_id", "label", "prediction", "top_k", "scores"} <= set(rows[0])
    assert all(abs(sum(row["scores"]) - 1) < 1e-3 for row in rows)
    assert "test_top1" in results["test"]


@pytest.mark.parametrize(
    "change,message",
    [
        ("drop_depth", "has no column 'depth' (the model has a depth encoder)"),
        ("bad_label", "has labels outside id2label [0, 3)"),
        ("wrong_classes", "has 3 classes but the model has 5"),
    ],
)
def test_bad_data_is_refused_before_training(colour_dataset, tmp_path, change, message):
    import datasets

    data = datasets.load_from_disk(str(colour_dataset))
    config_file = tiny_config_file(tmp_path)
    if change == "drop_depth":
        data = datasets.DatasetDict({k: v.remove_columns("depth") for k, v in data.items()})
    elif change == "bad_label":
        features = data["train"].features.copy()
        features["label"] = datasets.Value("int64")
        data = datasets.DatasetDict(
            {
                k: v.cast(features).map(lambda row: {"label": 7 if row["video_id"].endswith("-0") else row["label"]})
                for k, v in data.items()
            }
        )
    elif change == "wrong_classes":
        config_file = tmp_path / "five.json"
        DearConfig.from_preset(
            "tiny", num_frames=4, image_size=32, id2label={i: f"c{i}" for i in range(5)}
        ).to_json_file(config_file)
    data.save_to_disk(str(tmp_path / "data"))
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        run(arguments(tmp_path / "data", tmp_path / "run", config_file, "--do_train"))
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").glob("checkpoint-*"))


def test_resume_from_another_preset_is_refused(colour_dataset, tmp_path):
    run_dir = tmp_path / "run"
    checkpoint = run_dir / "checkpoint-2"
    checkpoint.mkdir(parents=True)
    DearConfig.from_preset("tiny-s4v-rgb", num_frames=4, image_size=32, id2label=dict(enumerate(CLASSES))).to_json_file(
        checkpoint / "config.json"
    )
    with pytest.raises(ValueError, match=r"checkpoint-2/config.json was written by a different model: encoders"):
        run(
            arguments(
                colour_dataset,
                run_dir,
                tiny_config_file(tmp_path),
                "--do_train",
                "--resume_from_checkpoint",
                str(checkpoint),
            )
        )


def test_recipe_defaults_hold_for_command_line_and_json(tmp_path):
    json_file = tmp_path / "args.json"
    json_file.write_text(json.dumps({"output_dir": str(tmp_path / "out"), "num_train_epochs": 3}))
    for argv in (["--output_dir", str(tmp_path / "out"), "--num_train_epochs", "3"], [str(json_file)]):
        _, data_args, training_args = parse_arguments(argv)
        assert (training_args.learning_rate, training_args.weight_decay, training_args.num_train_epochs) == (
            1e-3,
            0.15,
            3,
        )
        assert training_args.lr_scheduler_type == "cosine" and training_args.remove_unused_columns is False
        assert data_args.repeated_augmentation == 2
        assert training_args.activation_checkpointing is True  # the recipe's memory default
    for argv in (["--gradient_checkpointing", "false"], ["--activation_checkpointing", "false"]):
        assert parse_arguments(["--output_dir", str(tmp_path / "out"), *argv])[2].activation_checkpointing is False


def test_only_the_writing_process_saves_checkpoints(tmp_path, monkeypatch):
    model = DearForVideoClassification(DearConfig.from_json_file(tiny_config_file(tmp_path)))
    trainer = DearTrainer(
        model=model, args=TrainingArguments(output_dir=str(tmp_path / "run"), report_to="none", use_cpu=True)
    )
    monkeypatch.setattr(TrainingArguments, "should_save", property(lambda self: False))
    trainer._save(str(tmp_path / "run" / "checkpoint-1"))  # another rank of a distributed run: writes nothing
    assert not (tmp_path / "run" / "checkpoint-1").exists() and not (tmp_path / "run" / FROZEN_WEIGHTS_FILE).exists()


def test_resume_from_a_model_with_another_videomamba_is_refused(colour_dataset, tmp_path):
    checkpoint = tmp_path / "run" / "checkpoint-2"
    checkpoint.mkdir(parents=True)
    DearConfig.from_preset(
        "tiny",
        num_frames=4,
        image_size=32,
        id2label=dict(enumerate(CLASSES)),
        videomamba_config={"hidden_size": 64, "num_hidden_layers": 2, "d_state": 8, "patch_size": 16},
    ).to_json_file(checkpoint / "config.json")
    with pytest.raises(ValueError, match=r"videomamba_config.hidden_size: checkpoint 64, this run 32"):
        run(
            arguments(
                colour_dataset,
                tmp_path / "run",
                tiny_config_file(tmp_path),
                "--do_train",
                "--resume_from_checkpoint",
                str(checkpoint),
            )
        )


def test_frozen_weights_digest_covers_scalar_buffers():
    from modeling_dear.frozen_weights import tensor_digest

    # a bundled depth model with BatchNorm has 0-d num_batches_tracked buffers
    assert tensor_digest({"n": torch.tensor(3)}) != tensor_digest({"n": torch.tensor(4)})


def test_collator_modalities_name_the_columns_and_must_fit_the_processor():
    from modeling_dear import DearVideoProcessor
    from modeling_dear.training import VideoCollator

    processor = DearVideoProcessor(num_frames=4)  # takes RGB and depth, as every processor saved before modalities
    assert VideoCollator(processor).modalities == ["rgb", "depth"]
    assert VideoCollator(processor, use_depth=False).columns == {"rgb": "video"}
    assert VideoCollator(processor, modalities=["depth"]).columns == {"rgb": "video", "depth": "depth"}
    with pytest.raises(ValueError, match=r"use_depth=False contradicts modalities=\['rgb', 'depth'\]"):
        VideoCollator(processor, use_depth=False, modalities=["rgb", "depth"])
    with pytest.raises(ValueError, match=r"include \['flow'\], which the processor does not take.*from_model_config"):
        VideoCollator(processor, modalities=["rgb", "flow"])
    flow_collator = VideoCollator(
        DearVideoProcessor(num_frames=4, modalities=["rgb", "flow"]), modalities=["rgb", "flow"]
    )
    assert flow_collator.columns == {"rgb": "video", "flow": "flow"}
    with pytest.raises(ValueError, match=r"the rows have no column \['flow'\]"):
        flow_collator([{"video_id": "0", "video": b"", "label": 0}])


def test_the_example_script_under_accelerate_launch_runs_the_recipe(colour_dataset, tmp_path):
    """`examples/run_ssv2.py` as users run it (`accelerate launch`, as the main job does, in a process of its own)
    trains, tests and writes exactly what the recipe run in this process does: the same losses and predictions."""
    config_file = tiny_config_file(tmp_path, "tiny-s4v-rgb")
    extra = ["--do_train", "--do_predict", "--max_steps", "2", "--eval_strategy", "no", "--save_strategy", "no"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the launched process (OMP_NUM_THREADS=1): the same float sums
    try:
        run(arguments(colour_dataset, tmp_path / "here" / "run", config_file, *extra))
    finally:
        torch.set_num_threads(threads)
    launch = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--cpu",
        "--num_processes",
        "1",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
    ]
    command = [
        *launch,
        str(ROOT / "examples" / "run_ssv2.py"),
        *arguments(colour_dataset, tmp_path / "launched" / "run", config_file, *extra),
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    def losses(folder):
        return [
            entry["loss"]
            for entry in json.loads((folder / "trainer_state.json").read_text())["log_history"]
            if "loss" in entry
        ]

    here, launched = tmp_path / "here" / "run", tmp_path / "launched" / "run"  # same name: the card names the folder
    assert len(losses(here)) == 2 and losses(launched) == losses(here)
    for name in ("predictions.jsonl", "model.safetensors", "README.md"):
        assert (launched / name).read_bytes() == (here / name).read_bytes(), name


@pytest.mark.slow  # two launched processes (~15 s)
def test_the_example_script_with_two_real_processes_ends_cleanly(colour_dataset, tmp_path):
    """`examples/run_ssv2.py` under `accelerate launch` with two gloo processes (configuration/accelerate/
    multi_cpu_2.yaml), as the README tells users to run it on CPU: it trains, tests, writes its predictions and
    exits 0, no rank aborted at exit (tests/distributed_one_step.py was, until it ended its process group)."""
    config_file = tiny_config_file(tmp_path, "tiny-s4v-rgb")
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(ROOT / "configuration" / "accelerate" / "multi_cpu_2.yaml"),
        "--main_process_port",
        str(free_port()),
        str(ROOT / "examples" / "run_ssv2.py"),
        *arguments(
            colour_dataset,
            tmp_path / "run",
            config_file,
            "--do_train",
            "--do_predict",
            "--max_steps",
            "2",
            "--eval_strategy",
            "no",
            "--save_strategy",
            "no",
            "--use_cpu",  # joins the two processes with gloo (without it each trained alone, as a one-process run)
            "true",
        ),
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=300)
    assert result.returncode == 0 and "terminate called" not in result.stderr, result.stderr[-3000:]
    assert (tmp_path / "run" / "predictions.jsonl").is_file()
