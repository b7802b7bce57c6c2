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
