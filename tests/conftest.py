"""Shared test helpers. Keep this small and generic: test-specific fixtures belong in their test files; tiny
random models and generated frames are in `modeling_dear.testing_utils`, shared with the benches."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from modeling_dear.testing_utils import save_tiny_dpt, smooth_moving_frames
from modeling_dear.testing_utils import tiny_dpt_config as tiny_dpt_config  # re-exported: tests import it from here

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
