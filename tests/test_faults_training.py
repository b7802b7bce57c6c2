# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Faults and bad input around training, prediction and loading (issue 12): interrupted checkpoint saves,
undecodable rows, folders of other model types, mismatched inputs, and one-line errors for wrong paths/devices."""

import json
import logging
import shutil
from pathlib import Path

import datasets
import pytest
import torch
from conftest import CLASSES, Recorder, arguments, tiny_config_file
from transformers import VideoMAEConfig, VideoMAEForVideoClassification
from transformers.testing_utils import CaptureLogger
from transformers.utils import logging as transformers_logging

from modeling_dear import DearConfig, DearForVideoClassification, DearVideoProcessor
from modeling_dear.cli.predict import main as predict_main
from modeling_dear.training import TooManyUndecodableVideos, checkpoint_problem, find_resumable_checkpoint
from modeling_dear.training.arguments import parse_arguments
from modeling_dear.training.recipe import run

pytestmark = pytest.mark.usefixtures("one_torch_thread")

COMMON = [
    "--do_train",
    "--save_strategy",
    "steps",
    "--save_steps",
    "2",
    "--eval_strategy",
    "no",
    "--repeated_augmentation",
    "1",
]


@pytest.fixture(scope="module")
def trained_run(colour_dataset, tmp_path_factory):
    """A run of 4 steps with checkpoint-2 and checkpoint-4 (an RGB + depth model: frozen weights held apart)."""
    root = tmp_path_factory.mktemp("trained")
    config_file = tiny_config_file(root, "tiny-dear-rgb-depth")
    run(arguments(colour_dataset, root / "run", config_file, *COMMON, "--max_steps", "4"))
    return root / "run", config_file


def _interrupt(checkpoint, how):
    """Leave `checkpoint` as a kill at some point of the Trainer's save would (it writes the model, then the
    optimizer, scheduler, RNG state, and trainer_state.json last)."""
    if how == "empty folder":
        shutil.rmtree(checkpoint)
        checkpoint.mkdir()
    elif how == "0-byte optimizer, no trainer_state":
        (checkpoint / "optimizer.pt").write_bytes(b"")
        (checkpoint / "trainer_state.json").unlink()
    elif how == "no trainer_state":
        (checkpoint / "trainer_state.json").unlink()
    elif how == "trainer_state cut short":
        text = (checkpoint / "trainer_state.json").read_text()
        (checkpoint / "trainer_state.json").write_text(text[: len(text) // 2])
    elif how == "weights cut short":
        data = (checkpoint / "model.safetensors").read_bytes()
        (checkpoint / "model.safetensors").write_bytes(data[: len(data) - 100])
    elif how == "optimizer cut short":
        data = (checkpoint / "optimizer.pt").read_bytes()
        (checkpoint / "optimizer.pt").write_bytes(data[: len(data) // 2])
    elif how == "no scheduler":
        (checkpoint / "scheduler.pt").unlink()
    elif how == "only config":
        for path in checkpoint.iterdir():
            if path.name != "config.json":
                path.unlink()


INTERRUPTIONS = [
    "empty folder",
    "0-byte optimizer, no trainer_state",
    "no trainer_state",
    "trainer_state cut short",
    "weights cut short",
    "optimizer cut short",
    "no scheduler",
    "only config",
]


@pytest.mark.parametrize("how", INTERRUPTIONS)
def test_an_interrupted_checkpoint_is_skipped_for_the_newest_complete_one(trained_run, tmp_path, how, caplog):
    run_dir = tmp_path / "run"
    shutil.copytree(trained_run[0], run_dir)
    assert checkpoint_problem(run_dir / "checkpoint-4") is None
    _interrupt(run_dir / "checkpoint-4", how)
    assert checkpoint_problem(run_dir / "checkpoint-4") is not None
    with caplog.at_level(logging.WARNING, logger="modeling_dear.training"):
        assert find_resumable_checkpoint(run_dir) == str(run_dir / "checkpoint-2")
    assert "skipping incomplete checkpoint" in caplog.text and "checkpoint-4" in caplog.text
    assert (run_dir / "checkpoint-4").is_dir()  # nothing is deleted


def test_rerunning_after_a_kill_during_a_save_resumes_from_the_last_complete_checkpoint(
    colour_dataset, trained_run, tmp_path, caplog
):
    run_dir = tmp_path / "run"
    shutil.copytree(trained_run[0], run_dir)
    # killed while writing checkpoint-6: weights written, optimizer.pt begun, trainer_state.json not yet
    partial = run_dir / "checkpoint-6"
    shutil.copytree(run_dir / "checkpoint-4", partial)
    _interrupt(partial, "0-byte optimizer, no trainer_state")
    complete_before = {path.name for path in run_dir.glob("checkpoint-*") if checkpoint_problem(path) is None}

    recorder = Recorder()
    with caplog.at_level(logging.WARNING, logger="modeling_dear.training"):
        run(
            arguments(colour_dataset, run_dir, trained_run[1], *COMMON, "--max_steps", "6", "--save_total_limit", "5"),
            callbacks=[recorder],
        )
    assert recorder.first_step == 4
    assert "skipping incomplete checkpoint" in caplog.text and "checkpoint-6" in caplog.text
    assert json.loads((run_dir / "trainer_state.json").read_text())["global_step"] == 6
    assert checkpoint_problem(partial) is None  # written again, completely
    assert complete_before <= {path.name for path in run_dir.glob("checkpoint-*")}


class Killed(BaseException):
    """Stands for SIGKILL inside the Trainer's save (a BaseException: nothing on the way catches it)."""


@pytest.mark.parametrize(
    "stage", ["after the weights", "inside optimizer.pt", "before the RNG state", "inside trainer_state.json"]
)
def test_a_run_killed_at_any_stage_of_a_save_is_resumed_by_rerunning_it(
    colour_dataset, trained_run, tmp_path, monkeypatch, stage
):
    from transformers import TrainerState

    from modeling_dear.training import DearTrainer

    run_dir = tmp_path / "run"
    shutil.copytree(trained_run[0], run_dir)
    command = arguments(colour_dataset, run_dir, trained_run[1], *COMMON, "--max_steps", "8", "--save_total_limit", "5")

    def kill(*args, **kwargs):
        raise Killed

    def kill_inside(path, beginning: bytes):
        Path(path).write_bytes(beginning)  # the first bytes of the file, then the process is gone
        raise Killed

    with monkeypatch.context() as patch:
        if stage == "after the weights":
            patch.setattr(DearTrainer, "_save_optimizer_and_scheduler", kill)
        elif stage == "inside optimizer.pt":
            patch.setattr(
                DearTrainer,
                "_save_optimizer_and_scheduler",
                lambda self, output_dir: kill_inside(f"{output_dir}/optimizer.pt", b"PK\x03\x04" + b"\0" * 100),
            )
        elif stage == "before the RNG state":
            patch.setattr(DearTrainer, "_save_rng_state", kill)
        else:
            patch.setattr(
                TrainerState,
                "save_to_json",
                lambda self, path: kill_inside(path, b'{"best_global_step": null, "global_step": 6, "log_hi'),
            )
        with pytest.raises(Killed):
            run(command)  # resumes from checkpoint-4, killed while saving checkpoint-6
    assert (run_dir / "checkpoint-6").is_dir() and checkpoint_problem(run_dir / "checkpoint-6") is not None

    recorder = Recorder()
    run(command, callbacks=[recorder])  # the same command again
    assert recorder.first_step == 4
    assert json.loads((run_dir / "trainer_state.json").read_text())["global_step"] == 8
    assert all(checkpoint_problem(run_dir / f"checkpoint-{step}") is None for step in (2, 4, 6, 8))


def test_an_explicit_incomplete_checkpoint_is_refused_in_one_line(colour_dataset, trained_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(trained_run[0], run_dir)
    _interrupt(run_dir / "checkpoint-4", "empty folder")
    with pytest.raises(ValueError, match=r"checkpoint-4 cannot be resumed from: config.json is missing"):
        run(
            arguments(
                colour_dataset,
                run_dir,
                trained_run[1],
                *COMMON,
                "--max_steps",
                "6",
                "--resume_from_checkpoint",
                str(run_dir / "checkpoint-4"),
            )
        )


def test_loading_a_checkpoint_reports_only_genuinely_missing_weights(trained_run, tmp_path):
    from safetensors.torch import load_file, save_file

    reporter = transformers_logging.get_logger("transformers")
    with CaptureLogger(reporter) as captured:
        model = DearForVideoClassification.from_pretrained(trained_run[0] / "checkpoint-4")
    assert "backbone." not in captured.out and "MISSING" not in captured.out, captured.out
    final = DearForVideoClassification.from_pretrained(trained_run[0])
    for name, value in final.backbone.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[name], value), name

    # a weight really missing from the checkpoint is refused, named (issue 24: not filled with random values)
    checkpoint = tmp_path / "checkpoint-4"
    shutil.copytree(trained_run[0] / "checkpoint-4", checkpoint)
    shutil.copy(trained_run[0] / "_frozen_weights.safetensors", tmp_path)
    weights = load_file(checkpoint / "model.safetensors")
    dropped = next(name for name in weights if name.startswith("dear.encoders.rgb_side4video."))
    del weights[dropped]
    save_file(weights, checkpoint / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ValueError, match=r"does not fit its config.json \(tensors missing: ([\w.]+)\)") as caught:
        DearForVideoClassification.from_pretrained(checkpoint)
    assert dropped in str(caught.value) and "backbone." not in str(caught.value)


# ----------------------------------------------------------------------------------------------------------------------
# Rows that cannot be decoded


@pytest.fixture(scope="module")
def dataset_with_broken_rows(colour_dataset, tmp_path_factory):
    """The colour dataset with one training and one validation video replaced by bytes no decoder reads."""
    data = datasets.load_from_disk(str(colour_dataset))
    broken = {"train-1-2", "validation-2-0"}

    def damage(row):
        # `video` is a datasets.Video(decode=False) column: rows hold {"bytes", "path"}
        return {
            "video": {"bytes": b"\x1aE\xdf\xa3 truncated", "path": None} if row["video_id"] in broken else row["video"]
        }

    path = tmp_path_factory.mktemp("broken") / "data"
    datasets.DatasetDict({name: split.map(damage) for name, split in data.items()}).save_to_disk(str(path))
    return path


class LogRecorder(Recorder):
    def __init__(self):
        super().__init__()
        self.logs = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        super().on_log(args, state, control, logs=logs, **kwargs)
        self.logs.append(dict(logs or {}))


def test_training_skips_an_undecodable_row_logs_and_counts_it(dataset_with_broken_rows, tmp_path, caplog):
    config_file = tiny_config_file(tmp_path, "tiny-s4v-rgb")
    recorder = LogRecorder()
    # 18 training videos, one broken: within a 10 % allowance; 6 steps of 3 = every row once
    with caplog.at_level(logging.WARNING, logger="modeling_dear.training"):
        results = run(
            arguments(
                dataset_with_broken_rows,
                tmp_path / "run",
                config_file,
                "--do_train",
                "--do_eval",
                "--max_steps",
                "6",
                "--eval_strategy",
                "no",
                "--save_strategy",
                "no",
                "--max_undecodable_fraction",
                "0.1",
            ),
            callbacks=[recorder],
        )
    assert len(recorder.losses) == 6
    # evaluation (one view per video) leaves the broken validation video out of the accuracy and counts it
    assert results["eval"]["eval_failed_videos"] == 1 and 0 <= results["eval"]["eval_top1"] <= 1
    assert "train-1-2 cannot be decoded, skipped" in caplog.text
    counts = [logs["skipped_videos"] for logs in recorder.logs if "loss" in logs]
    assert counts[-1] == 1 and counts == sorted(counts)


def test_training_stops_when_undecodable_rows_pass_the_threshold(dataset_with_broken_rows, tmp_path):
    config_file = tiny_config_file(tmp_path, "tiny-s4v-rgb")
    # default allowance: 1 % of 18 videos, so the one broken video is too many
    with pytest.raises(
        TooManyUndecodableVideos,
        match=r"1 of 18 training videos cannot be decoded \(e.g. train-1-2\).*--max_undecodable_fraction 0.01",
    ):
        run(
            arguments(
                dataset_with_broken_rows,
                tmp_path / "run",
                config_file,
                "--do_train",
                "--max_steps",
                "6",
                "--eval_strategy",
                "no",
                "--save_strategy",
                "no",
            )
        )


def test_prediction_marks_an_undecodable_row_failed_and_runs_no_evaluation(dataset_with_broken_rows, tmp_path):
    config_file = tiny_config_file(tmp_path, "tiny-s4v-rgb")
    results = run(arguments(dataset_with_broken_rows, tmp_path / "run", config_file, "--do_predict"))
    # --do_predict alone: no evaluation pass (the recipe's eval_strategy used to turn do_eval on)
    assert set(results) == {"test"} and not (tmp_path / "run" / "eval_results.json").exists()
    rows = {
        row["video_id"]: row
        for row in map(json.loads, (tmp_path / "run" / "predictions.jsonl").read_text().splitlines())
    }
    assert len(rows) == 9
    assert rows["validation-2-0"]["failed"] is True and rows["validation-2-0"]["prediction"] is None
    assert all(abs(sum(row["scores"]) - 1) < 1e-3 for key, row in rows.items() if key != "validation-2-0")
    assert results["test"]["test_failed_videos"] == 1


def test_a_row_without_depth_bytes_is_skipped_like_an_undecodable_one():
    from modeling_dear.training import VideoCollator
    from modeling_dear.video_io import encode_depth_video, encode_video

    processor = DearVideoProcessor(num_frames=4, size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    frames = torch.zeros(10, 40, 48, 3, dtype=torch.uint8).numpy()
    good = {
        "video_id": "good",
        "video": encode_video(frames, codec="libx264"),
        "label": 0,
        "depth": encode_depth_video(frames[..., 0]),
    }
    rows = [good, {**good, "video_id": "no-depth", "depth": None}, {**good, "video_id": "no-video", "video": None}]
    batch = VideoCollator(processor, mode="train", use_depth=True)(rows)
    assert batch["skipped_videos"] == ["no-depth", "no-video"] and batch["pixel_values"].shape[0] == 1
    batch = VideoCollator(processor, mode="test", use_depth=True)(rows)
    assert batch["failed_rows"].tolist() == [False, True, True]
    assert batch["pixel_values"].shape[0] == 3 * processor.num_views and batch["labels"].tolist() == [0, 0, 0]


def test_do_eval_still_runs_when_asked(colour_dataset, tmp_path):
    config_file = tiny_config_file(tmp_path, "tiny-s4v-rgb")
    _, _, training_args = parse_arguments(arguments(colour_dataset, tmp_path / "run", config_file, "--do_predict"))
    assert training_args.do_predict and not training_args.do_eval
    _, _, training_args = parse_arguments(
        arguments(colour_dataset, tmp_path / "run", config_file, "--do_predict", "--do_eval")
    )
    assert training_args.do_eval
    _, _, training_args = parse_arguments(arguments(colour_dataset, tmp_path / "run", config_file, "--do_train"))
    assert training_args.do_eval  # evaluation during training, from the recipe's eval_strategy


# ----------------------------------------------------------------------------------------------------------------------
# Folders of other model types, mismatched inputs, wrong paths and devices


@pytest.fixture(scope="module")
def videomae_folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("videomae")
    config = VideoMAEConfig(
        image_size=32,
        patch_size=16,
        num_frames=4,
        tubelet_size=2,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        num_labels=3,
    )
    VideoMAEForVideoClassification(config).save_pretrained(path)
    return path


@pytest.mark.parametrize("kind", ["videomae", "dpt"])
def test_a_folder_of_another_model_type_is_refused(kind, videomae_folder, tiny_dpt, colour_dataset, tmp_path):
    folder = videomae_folder if kind == "videomae" else tiny_dpt
    with pytest.raises(ValueError, match=rf"holds a '{kind}' model, not a DEAR"):
        DearForVideoClassification.from_pretrained(folder)
    with pytest.raises(ValueError, match=rf"holds a '{kind}' model, not a DEAR"):
        DearConfig.from_pretrained(folder)
    with pytest.raises(ValueError, match=rf"holds a '{kind}' model, not a DEAR"):
        run(
            arguments(
                colour_dataset,
                tmp_path / "run",
                tiny_config_file(tmp_path),
                "--model_name_or_path",
                str(folder),
                "--do_predict",
            )
        )
    assert not (tmp_path / "run" / "predictions.jsonl").exists()


def test_rgb_and_depth_batch_sizes_must_match(tmp_path):
    config = DearConfig.from_json_file(tiny_config_file(tmp_path, "tiny-dear-rgb-depth"))
    model = DearForVideoClassification(config).eval()
    shape = (config.num_frames, 3, config.image_size, config.image_size)
    with pytest.raises(ValueError, match=r"`pixel_values` holds 1 clips but `depth_pixel_values` 2"):
        model(pixel_values=torch.zeros(1, *shape), depth_pixel_values=torch.zeros(2, *shape))


def test_a_local_folder_that_does_not_exist_says_so(tmp_path, capsys):
    missing = tmp_path / "no-such-run"
    for name in (str(missing), "./no-such-run", "outputs/a/b"):
        with pytest.raises(FileNotFoundError, match=r"the folder does not exist"):
            DearForVideoClassification.from_pretrained(name)
    with pytest.raises(FileNotFoundError, match=rf"--model_name_or_path {missing}: the folder does not exist"):
        parse_arguments(["--model_name_or_path", str(missing), "--output_dir", str(tmp_path / "out")])
    from modeling_dear.depth_estimation import DepthEstimator

    with pytest.raises(FileNotFoundError, match=rf"depth model {missing}: the folder does not exist"):
        DepthEstimator(str(missing))
    assert predict_main(["clip.webm", "--model", str(missing)]) == 1
    error = capsys.readouterr().err
    assert error.strip() == f"dear-predict: error: --model {missing}: the folder does not exist (check the path)"


@pytest.mark.parametrize(
    "device,message",
    [
        ("tpu9", "--device tpu9: not a torch device; use cpu, cuda or cuda:N"),
        pytest.param(
            "cuda",
            "--device cuda: CUDA is not available on this machine; use --device cpu",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA"),
        ),
    ],
)
def test_dear_predict_refuses_a_device_in_one_line(device, message, capsys):
    assert predict_main(["clip.webm", "--model", "any", "--device", device]) == 1
    assert capsys.readouterr().err.strip() == f"dear-predict: error: {message}"


@pytest.fixture(scope="module")
def rgb_model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("rgb-only")
    config = DearConfig.from_preset("tiny-s4v-rgb", num_frames=4, image_size=32, id2label=dict(enumerate(CLASSES)))
    DearForVideoClassification(config).save_pretrained(path)
    DearVideoProcessor(num_frames=4, size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(
        path
    )
    return path


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory, make_frames):
    from modeling_dear.video_io import encode_video

    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    path.write_bytes(encode_video(make_frames(12, 40, 48), codec="libx264"))
    return path


def test_visualize_with_an_rgb_only_model_prints_predictions_and_shows_rgb(rgb_model_dir, clip_file, tmp_path, capsys):
    from PIL import Image

    prefix = tmp_path / "vis" / "clip"
    assert (
        predict_main([str(clip_file), "--model", str(rgb_model_dir), "--visualize", str(prefix), "--top-k", "2"]) == 0
    )
    out = capsys.readouterr().out
    assert out.count(". 0.") + out.count(". 1.") == 2 and "RGB only" in out
    assert Image.open(prefix.with_suffix(".png")).size == (32, 4 * 32)  # 4 frames, no depth column


def test_dear_predict_without_depth_names_the_depth_flag(tmp_path, clip_file, capsys):
    path = tmp_path / "depth-model"
    config = DearConfig.from_preset(
        "tiny-dear-rgb-depth", num_frames=4, image_size=32, id2label=dict(enumerate(CLASSES))
    )
    DearForVideoClassification(config).save_pretrained(path)
    DearVideoProcessor(num_frames=4, size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(
        path
    )
    capsys.readouterr()
    assert predict_main([str(clip_file), "--model", str(path), "--visualize", str(tmp_path / "v")]) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]  # after transformers' loading progress bar
    assert (
        error.startswith("dear-predict: error: --model")
        and "pass --depth <depth video>" in error
        and "depth=<" not in error
    )
