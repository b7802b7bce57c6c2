# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Bilinear clip resizing: Pillow vs the numpy port that runs where Pillow is not installed (a saved folder in an
environment with only transformers). Both give the same bytes (tests/test_video_transforms.py); this prints how
much slower the port is, on an SSv2-sized clip resized as evaluation does (short side 240 -> 224).

    python bench/resize.py

Measured on 2 x86-64 cores: the numpy port takes 7.0× Pillow's time when the machine is idle (Pillow 16.6-16.9 ms,
port 116.8-118.1 ms, 2 runs), 7.1-7.7× while other work shares the cores.
"""

from __future__ import annotations

import time

import numpy as np

from modeling_dear.video_transforms import _resample_bilinear, _resample_bilinear_numpy


def best_of(function, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    clip = np.random.default_rng(0).integers(0, 256, size=(16, 240, 427, 3), dtype=np.uint8)
    size = (224, 398)
    assert np.array_equal(_resample_bilinear(clip, size), _resample_bilinear_numpy(clip, size))
    pil = best_of(lambda: _resample_bilinear(clip, size))
    port = best_of(lambda: _resample_bilinear_numpy(clip, size))
    print(
        f"16 frames 240x427 -> 224x398: Pillow {pil * 1e3:.1f} ms, numpy port {port * 1e3:.1f} ms, "
        f"port/Pillow = {port / pil:.1f}x"
    )


if __name__ == "__main__":
    main()
