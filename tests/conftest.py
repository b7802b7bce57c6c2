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
