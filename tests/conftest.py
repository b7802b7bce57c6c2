# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Shared test helpers. Keep this small and generic: test-specific fixtures belong in their test files; tiny
random models and generated frames are in `modeling_dear.testing_utils`, shared with the benches."""

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from modeling_dear.testing_utils import save_tiny_dpt, smooth_moving_frames
from modeling_dear.testing_utils import (
    tiny_dpt_config as tiny_dpt_config,  # re-exported for tests/fixtures/make_release_checkpoints.py
)

try:
    # decord ships its own FFmpeg with global symbols; if it is imported before PyAV, PyAV's VP9 encoder
    # fails to open. Importing PyAV first, for the whole session, keeps test order from mattering.
    import av  # noqa: F401
except ImportError:
    pass


@pytest.fixture(scope="session")
def make_frames():
    """Factory for `smooth_moving_frames(num_frames, height, width, seed=0)`."""
    return smooth_moving_frames


@pytest.fixture(scope="module")
def one_torch_thread():
    """For modules of tiny models: on a shared, busy machine OpenMP synchronisation between threads costs
    50-100x the work itself. Use with `pytestmark = pytest.mark.usefixtures("one_torch_thread")`."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_dpt(tmp_path_factory):
    """Folder of a random tiny DPT with its image processor, as a depth model checkpoint is laid out."""
    return save_tiny_dpt(tmp_path_factory.mktemp("tiny-dpt"))


# Start of a `python -c` script that must run without this package: importing it fails, as in a process where
# only a saved model folder (with its code, for trust_remote_code) is available.
WITHOUT_PACKAGE_PRELUDE = """
import sys, importlib.abc

class BlockPackage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "modeling_dear" or name.startswith("modeling_dear."):
            raise ImportError("modeling_dear is blocked in this process")

sys.meta_path.insert(0, BlockPackage())
try:
    import modeling_dear
    raise SystemExit("the package was importable")
except ImportError:
    pass
"""


def free_port() -> int:
    """A localhost TCP port nothing listens on now (for a served app or a distributed run's rendezvous)."""
    with socket.socket() as handle:
        handle.bind(("127.0.0.1", 0))
        return handle.getsockname()[1]


def run_without_package(script: str, cwd, *preludes: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `script` (dedented) in a fresh interpreter where this package cannot be imported
    (`WITHOUT_PACKAGE_PRELUDE`, then `preludes`), offline (`HF_HUB_OFFLINE`, an empty `HF_HOME` under `cwd`),
    with one OpenMP thread and nothing of this process's environment but `env`. Text output."""
    environment = {
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(Path(cwd) / "hf"),
        "PATH": "/usr/bin:/bin",
        "OMP_NUM_THREADS": "1",
    }
    program = WITHOUT_PACKAGE_PRELUDE + "".join(preludes) + textwrap.dedent(script)
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=cwd, env={**environment, **(env or {})}
    )


# ======================================================================================================================
# Training runs, shared by test_training.py, test_faults_training.py and test_hub_push.py: a dataset of three colour
# classes, a tiny config file with its classes, the recipe's command line for them (`modeling_dear.training.recipe`)
# and a callback that records what the Trainer did.

import torch  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

CLASSES = ["red things", "green things", "blue things"]


@pytest.fixture(scope="session")
def colour_dataset(tmp_path_factory):
    """3 classes told apart by colour (and by depth level), 6 training and 3 validation videos each. Generated once
    per session (its modules only read it; tests that change it write a copy)."""
    import datasets
    import numpy

    from modeling_dear.data.schema import video_features
    from modeling_dear.video_io import encode_depth_video, encode_video

    root = tmp_path_factory.mktemp("colour_data")
    rng = numpy.random.default_rng(0)
    splits = {}
    for split, per_class in (("train", 6), ("validation", 3)):
        rows = []
        for label in range(3):
            for i in range(per_class):
                frames = rng.integers(0, 60, size=(10, 40, 48, 3), dtype=numpy.uint8)
                frames[..., label] += 150
                depth = numpy.full((10, 40, 48), 60 + 80 * label, dtype=numpy.uint8)
                rows.append(
                    {
                        "video_id": f"{split}-{label}-{i}",
                        "video": encode_video(frames, codec="libx264"),
                        "depth": encode_depth_video(depth),
                        "label": label,
                        "template": CLASSES[label],
                        "placeholders": [],
                        "num_frames": 10,
                        "fps": 12.0,
                        "height": 40,
                        "width": 48,
                        "depth_model": "ground_truth",
                    }
                )
        splits[split] = datasets.Dataset.from_list(rows, features=video_features(CLASSES))
    datasets.DatasetDict(splits).save_to_disk(str(root / "data"))
    return root / "data"


def tiny_config_file(directory, preset: str = "tiny", **overrides):
    """`directory/<preset>.json`: the preset at 4 frames of 32x32, with the colour classes."""
    from modeling_dear import DearConfig

    config = DearConfig.from_preset(preset, num_frames=4, image_size=32, id2label=dict(enumerate(CLASSES)), **overrides)
    path = directory / f"{preset}.json"
    config.to_json_file(path)
    return path


# a tiny run: batches of 3, no loader workers, no RandAugment, seed 0, a log every step
TINY_RUN = (
    "--per_device_train_batch_size 3 --per_device_eval_batch_size 3 --dataloader_num_workers 0 --warmup_epochs 0 "
    "--randaugment_num_ops 0 --crop_scale_min 0.5 --seed 0 --report_to none --disable_tqdm true --logging_steps 1"
).split()


def arguments(data, output, config_file, *extra) -> list[str]:
    """The recipe's command line for a tiny run (`TINY_RUN`) of `config_file` on `data`, then `extra`."""
    return ["--preset", str(config_file), "--dataset", str(data), "--output_dir", str(output), *TINY_RUN, *extra]


class Recorder(TrainerCallback):
    """The step training started at, the optimiser's state and parameters then, and every logged loss."""

    def __init__(self):
        self.first_step, self.optimizer_state, self.losses = None, None, []
        self.trainer = None

    def on_step_begin(self, args, state, control, optimizer=None, model=None, **kwargs):
        if self.first_step is None:
            self.first_step = state.global_step
            self.optimizer_state = {k: v.clone() for k, v in _flat_optimizer_state(optimizer).items()}
            groups = getattr(optimizer, "optimizer", optimizer).param_groups
            self.optimised = [p for group in groups for p in group["params"]]
            self.weight_decays = {group["weight_decay"] for group in groups if group["params"]}
            self.trainable = [p for p in model.parameters() if p.requires_grad]
            self.activation_checkpointing = model.is_activation_checkpointing

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.losses.append(float(logs["loss"]))


def _flat_optimizer_state(optimizer) -> dict:
    optimizer = getattr(optimizer, "optimizer", optimizer)
    flat = {}
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                flat[f"{index}.{key}"] = value
    return flat
