# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Per-clip vs per-frame min-max normalisation of estimated inverse depth: temporal flicker on a generated clip.

The scene is what SSv2 clips look like to a depth model: a static wall and table, and a near object (a
hand with something in it) that enters, comes towards the camera and leaves. The "estimate" is the exact
inverse depth times a per-frame scale 1 + sigma * N(0, 1), standing in for the frame-to-frame scale drift
of an affine-invariant model such as MiDaS (per-frame min-max removes such drift exactly, per-clip keeps
it). Flicker = mean |q_t - q_(t-1)| in grey levels over the pixels the object never covers, i.e. how much
the uint8 depth of things that do not move changes from frame to frame.

    python bench/depth_normalization.py

What it measured (the reason per-clip is the default, `depth_estimation.DEFAULT_NORMALIZATION`): with a
temporally consistent estimate (σ = 0) per-frame min-max moves the static pixels by 2.79 grey levels per frame,
per-clip by 0; per-clip flickers more only once the drift exceeds about 8 % (σ = 0.02: 0.68 vs 2.79; 0.05: 1.71
vs 2.79; 0.10: 3.19 vs 2.79; 0.20: 5.58 vs 2.79). Its cost: the near object setting the clip's maximum leaves
the static scene 72 grey levels instead of 168.
"""

from __future__ import annotations

import numpy as np

from modeling_dear.depth_estimation import normalize_depth


def generated_scene(num_frames: int = 45, height: int = 120, width: int = 160):
    """Inverse depth (T, H, W) and the mask of pixels the moving object ever covers."""
    rows = np.arange(height, dtype=np.float32)[:, None]
    horizon = height // 3
    table = 0.3 + 0.7 * np.clip((rows - horizon) / (height - horizon), 0, 1)  # nearer towards the bottom
    static = np.where(rows < horizon, 0.2, table) * np.ones((1, width), np.float32)
    yy, xx = np.mgrid[0:height, 0:width]
    clip = np.repeat(static[None], num_frames, axis=0)
    covered = np.zeros((height, width), bool)
    enter, leave = num_frames // 5, num_frames * 4 // 5
    for t in range(enter, leave):
        progress = (t - enter) / (leave - enter)  # 0 → 1
        cx = width * (1.1 - 0.6 * np.sin(np.pi * progress))  # in from the right, back out
        cy = height * 0.6
        nearness = 1.0 + 2.0 * np.sin(np.pi * progress)  # inverse depth 1 → 3 → 1: comes close, goes back
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < (height * 0.22) ** 2
        clip[t][disc] = nearness
        covered |= disc
    return clip, ~covered


def flicker(depth_uint8: np.ndarray, static: np.ndarray) -> float:
    steps = np.abs(np.diff(depth_uint8.astype(np.int16), axis=0))
    return float(steps[:, static].mean())


def main() -> None:
    clip, static = generated_scene()
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(len(clip)).astype(np.float32)
    print("| per-frame scale drift σ | flicker per-clip (grey levels/frame) | flicker per-frame |")
    print("|---|---|---|")
    for sigma in (0.0, 0.02, 0.05, 0.1, 0.2):
        estimate = clip * (1.0 + sigma * noise)[:, None, None]
        per_clip = flicker(normalize_depth(estimate, "clip"), static)
        per_frame = flicker(normalize_depth(estimate, "frame"), static)
        print(f"| {sigma:.2f} | {per_clip:.2f} | {per_frame:.2f} |")
    levels_clip = normalize_depth(clip, "clip")[:, static]
    levels_frame = normalize_depth(clip, "frame")[:, static]
    print(
        f"\nGrey levels spanned by the static scene (mean over frames): per-clip "
        f"{np.ptp(levels_clip, axis=1).mean():.0f}, per-frame {np.ptp(levels_frame, axis=1).mean():.0f}"
    )


if __name__ == "__main__":
    main()
