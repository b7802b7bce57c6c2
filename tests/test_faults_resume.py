# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Faults around resuming and starting a training run (issue 24): resume is bit-exact wherever the run was killed and
with any number of dataloader workers; a folder of another model named like a checkpoint is refused; option values
that cannot be right are refused at start."""

import shutil
from pathlib import Path

import pytest
import torch
from conftest import Recorder, arguments, tiny_config_file

from modeling_dear import DearVideoProcessor
from modeling_dear.training import find_resumable_checkpoint
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


class Killed(BaseException):
    """Stands for SIGKILL or SIGTERM (a BaseException: nothing on the way catches it)."""


# ----------------------------------------------------------------------------------------------------------------------
# Resume is bit-exact at any kill point and any number of dataloader workers

# 18 training videos in batches of 3: 6 steps an epoch, 8 steps cross one epoch boundary; RandAugment on
EXACT_RUN = [
    *COMMON,
    "--max_steps",
    "8",
    "--save_steps",
    "3",
    "--randaugment_num_ops",
    "2",
    "--save_total_limit",
    "5",
]


class KillAtStep(Recorder):
    """Stands for SIGKILL/SIGTERM: the process is gone as step `step` begins (before the checkpoint it would save)."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step + 1 == self.step:
            raise Killed


def _trained_weights(folder):
    from safetensors.torch import load_file

    return load_file(Path(folder) / "model.safetensors")


@pytest.fixture(scope="module")
def uninterrupted_run(colour_dataset, tmp_path_factory):
    root = tmp_path_factory.mktemp("uninterrupted")
    config_file = tiny_config_file(root, "tiny-s4v-rgb")
    run(arguments(colour_dataset, root / "run", config_file, *EXACT_RUN, "--dataloader_num_workers", "2"))
    return config_file, _trained_weights(root / "run")


@pytest.mark.slow  # three tiny training runs of 8 steps, two with dataloader worker processes (~15 s each)
@pytest.mark.parametrize(
    "killed_at,workers_before,workers_after",
    [(6, 2, 0), (8, 0, 2)],  # killed in step 6: resumes from checkpoint-3 (mid-epoch); in step 8: checkpoint-6
    ids=["mid-epoch checkpoint, 2 workers then 0", "epoch-boundary checkpoint, 0 workers then 2"],
)
def test_a_run_killed_anywhere_and_rerun_ends_with_the_uninterrupted_runs_weights(
    colour_dataset, uninterrupted_run, tmp_path, killed_at, workers_before, workers_after
):
    config_file, expected = uninterrupted_run
    command = arguments(colour_dataset, tmp_path / "run", config_file, *EXACT_RUN)
    with pytest.raises(Killed):
        run([*command, "--dataloader_num_workers", str(workers_before)], callbacks=[KillAtStep(killed_at)])
    recorder = Recorder()
    run([*command, "--dataloader_num_workers", str(workers_after)], callbacks=[recorder])
    assert recorder.first_step == 3 * ((killed_at - 1) // 3)  # the newest checkpoint before the kill
    resumed = _trained_weights(tmp_path / "run")
    assert resumed.keys() == expected.keys()
    for name, value in expected.items():
        assert torch.equal(resumed[name], value), name


def test_training_batch_draws_depend_on_seed_epoch_and_rows_not_on_call_order(make_frames):
    from modeling_dear.training import VideoCollator
    from modeling_dear.video_io import encode_video

    processor = DearVideoProcessor(num_frames=4, size={"shortest_edge": 32}, crop_size={"height": 24, "width": 24})
    rows = [
        {"video_id": str(i), "video": encode_video(make_frames(10, 40, 48, seed=i), codec="libx264"), "label": i}
        for i in range(4)
    ]
    collator = VideoCollator(processor, mode="train", use_depth=False, seed=1)
    first = collator(rows[:2])["pixel_values"]
    collator(rows[2:])
    assert torch.equal(collator(rows[:2])["pixel_values"], first)  # a later call, the same batch: the same draws
    fresh = VideoCollator(processor, mode="train", use_depth=False, seed=1)
    assert torch.equal(fresh(rows[:2])["pixel_values"], first)  # another process (a resumed run) too
    fresh.set_epoch(1)
    assert not torch.equal(fresh(rows[:2])["pixel_values"], first)  # the next epoch augments anew
    other_seed = VideoCollator(processor, mode="train", use_depth=False, seed=2)
    assert not torch.equal(other_seed(rows[:2])["pixel_values"], first)


def test_a_folder_of_another_model_named_like_a_checkpoint_is_refused_not_skipped(colour_dataset, tiny_dpt, tmp_path):
    from modeling_dear.training.checkpoints import NotADearCheckpoint

    run_dir = tmp_path / "run"
    shutil.copytree(tiny_dpt, run_dir / "checkpoint-5")
    command = arguments(colour_dataset, run_dir, tiny_config_file(tmp_path), *COMMON, "--max_steps", "2")
    with pytest.raises(
        NotADearCheckpoint,
        match=r"checkpoint-5 is not a checkpoint of a DEAR run \(its config.json is a 'dpt' model's\).*move it out",
    ):
        find_resumable_checkpoint(run_dir)
    with pytest.raises(NotADearCheckpoint, match=r"checkpoint-5 is not a checkpoint of a DEAR run"):
        run(command)
    with pytest.raises(NotADearCheckpoint, match=r"resume checkpoint .*checkpoint-5 is not a checkpoint of a DEAR run"):
        run([*command, "--resume_from_checkpoint", str(run_dir / "checkpoint-5")])
    assert sorted(path.name for path in run_dir.iterdir()) == ["checkpoint-5"]  # nothing trained, nothing deleted
    assert (run_dir / "checkpoint-5" / "config.json").is_file()


@pytest.mark.parametrize(
    "option,value,meaning",
    [
        ("max_undecodable_fraction", "-0.5", "a fraction between 0 and 1"),
        ("max_undecodable_fraction", "1.5", "a fraction between 0 and 1"),
        ("repeated_augmentation", "0", "a whole number >= 1"),
        ("per_device_train_batch_size", "0", "a whole number of videos >= 1"),
        ("per_device_eval_batch_size", "0", "a whole number of videos >= 1"),
        ("dataloader_num_workers", "-1", "a whole number >= 0"),
        ("gradient_accumulation_steps", "0", "a whole number >= 1"),
        ("crop_scale_min", "0", r"an area fraction in \(0, 1\]"),
        ("randaugment_num_ops", "-1", "a whole number >= 0"),
        ("warmup_epochs", "-1", "a number of epochs >= 0"),
        ("max_train_samples", "0", "a whole number >= 1"),
        ("label_smoothing", "1", r"a number in \[0, 1\)"),
    ],
)
def test_training_values_that_cannot_be_right_are_refused_at_start(tmp_path, option, value, meaning):
    with pytest.raises(ValueError, match=rf"^--{option} {value}: must be {meaning}"):
        run(["--output_dir", str(tmp_path / "run"), "--dataset", str(tmp_path / "not-read"), f"--{option}", value])
    assert not (tmp_path / "run").exists()


def test_a_full_disk_while_checkpointing_names_the_checkpoint_and_what_to_do(colour_dataset, tmp_path, monkeypatch):
    import errno

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)  # optimizer.pt, the first torch.save of a checkpoint
    config_file = tiny_config_file(tmp_path, "tiny-s4v-rgb")
    with pytest.raises(OSError, match=r"no space left on the device while writing checkpoint .*checkpoint-1 .*re-run"):
        run(arguments(colour_dataset, tmp_path / "run", config_file, *COMMON, "--max_steps", "1", "--save_steps", "1"))
