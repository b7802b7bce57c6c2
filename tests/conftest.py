"""Shared test helpers. Keep this small and generic: test-specific fixtures belong in their test files."""

import numpy as np
import pytest

try:
    # decord ships its own FFmpeg with global symbols; if it is imported before PyAV, PyAV's VP9 encoder
    # fails to open. Importing PyAV first, for the whole session, keeps test order from mattering.
    import av  # noqa: F401
except ImportError:
    pass


def smooth_moving_frames(num_frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """(T, H, W, 3) uint8 frames with smooth colour gradients sliding over time: compressible, so lossy
    codecs stay close to the source, and every frame differs from the others."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, size=3)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    for t in range(num_frames):
        for c in range(3):
            wave = np.sin(xx / (9.0 + 4 * c) + yy / (13.0 + 3 * c) + 0.35 * t + phase[c])
            frames[t, :, :, c] = np.round(127.5 + 110 * wave)
    return frames


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


def tiny_dpt_config():
    """A DPT (MiDaS-style) depth model small enough for tests: 32x32 input, 4 layers of width 32."""
    from transformers import DPTConfig

    return DPTConfig(
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=37,
        image_size=32,
        patch_size=8,
        backbone_out_indices=[0, 1, 2, 3],
        neck_hidden_sizes=[8, 16, 16, 32],
        fusion_hidden_size=16,
        use_auxiliary_head=False,
    )


@pytest.fixture(scope="session")
def tiny_dpt(tmp_path_factory):
    """Folder of a random tiny DPT with its image processor, as a depth model checkpoint is laid out."""
    import torch
    from transformers import DPTForDepthEstimation, DPTImageProcessorPil

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-dpt")
    DPTForDepthEstimation(tiny_dpt_config()).save_pretrained(path)
    DPTImageProcessorPil(size={"height": 32, "width": 32}).save_pretrained(path)
    return path


# Start of a `python -c` script that must run without this package: importing it fails, as in a process where
# only a saved model folder (with its code, for trust_remote_code) is available.
WITHOUT_PACKAGE_PRELUDE = '''
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
'''


# ======================================================================================================================
# Training runs, shared by test_training.py, test_faults_training.py and test_hub_push.py: a dataset of three colour
# classes, a tiny config file with its classes, the recipe's command line for them (`modeling_dear.training.recipe`)
# and a callback that records what the Trainer did.

import torch  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

CLASSES = ["red things", "green things", "blue things"]


@pytest.fixture(scope="module")
def colour_dataset(tmp_path_factory):
    """3 classes told apart by colour (and by depth level), 6 training and 3 validation videos each."""
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
