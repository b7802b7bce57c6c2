# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""One clip of a class, drawn from a seed and rendered: RGB frames and 8-bit inverse depth, and the RGB
frames as WebM/VP9 bytes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...video_io import encode_video
from .appearance import draw_backdrop
from .classes import SYNTHETIC_CLASSES, template_of
from .render import render_scene
from .scenes import SCENES, draw_camera
from .spec import DEFAULT_FPS, DEFAULT_HEIGHT, DEFAULT_MAX_FRAMES, DEFAULT_MIN_FRAMES, DEFAULT_WIDTH, SPLITS

# SSv2 ships VP9 in WebM. Single-threaded, speed-oriented libvpx settings keep the bytes a function of the
# frames alone and encoding far cheaper than rendering; crf 24 keeps the small textures legible.
RGB_CODEC = "libvpx-vp9"
RGB_CODEC_OPTIONS = {"threads": "1", "deadline": "realtime", "cpu-used": "8", "crf": "24", "b": "0"}
DEPTH_MODEL = "ground_truth"  # the `depth_model` of every row: the renderer's exact depth

SCENE_SETS = {
    "identical": "the depth-sensitive pairs have byte-identical RGB (no picture cue to depth): what depth from a "
    "sensor adds, an upper bound that no depth estimated from RGB can reach",
    "estimable": "objects keep their real size (nearer looks larger, occlusion), stand on or float above the "
    "ground with soft shadows, and the camera drifts sideways (parallax): depth can be estimated from RGB",
}


@dataclass
class SyntheticClip:
    label: int
    template: str
    placeholders: list[str]
    frames: np.ndarray  # (T, H, W, 3) uint8
    depth: np.ndarray  # (T, H, W) uint8 inverse depth, min-max over the clip (larger = nearer)


def render_clip(
    label: int | str,
    seed,
    height: int = DEFAULT_HEIGHT,
    width: int = DEFAULT_WIDTH,
    min_frames: int = DEFAULT_MIN_FRAMES,
    max_frames: int = DEFAULT_MAX_FRAMES,
    scenes: str = "identical",
) -> SyntheticClip:
    """Draw and render one clip of a class. `seed` is anything `numpy.random.default_rng` accepts.

    `scenes="identical"` (the sensor-depth set): the two classes of a depth-sensitive pair consume the random
    stream identically, so the same seed gives the same RGB frames for both and only the depth differs.
    `scenes="estimable"`: objects keep their real size, the camera drifts sideways and objects cast soft
    shadows, so depth can be read (and estimated) from the RGB frames; see `SCENE_SETS`.
    """
    if scenes not in SCENE_SETS:
        raise ValueError(f"scenes must be one of {sorted(SCENE_SETS)}, got {scenes!r}")
    physical = scenes == "estimable"
    name = SYNTHETIC_CLASSES[label] if isinstance(label, (int, np.integer)) else label
    scene, variant = SCENES[name]
    rng = np.random.default_rng(seed)
    num_frames = int(rng.integers(min_frames, max_frames + 1))
    camera = draw_camera(rng, height, width, num_frames, drift=physical)
    backdrop = draw_backdrop(rng)
    for _ in range(1000):
        drawn = scene(rng, camera, variant, physical=physical)
        if drawn is not None:
            break
    else:  # pragma: no cover - the samplers accept a good fraction of draws
        raise RuntimeError(f"could not draw a valid scene for {name!r}")
    objects, placeholders = drawn
    frames, inv_depth = render_scene(camera, backdrop, objects, shadows=physical)
    lo, hi = inv_depth.min(), inv_depth.max()
    depth = np.round((inv_depth - lo) / max(hi - lo, 1e-12) * 255.0).astype(np.uint8)
    return SyntheticClip(SYNTHETIC_CLASSES.index(name), template_of(name), list(placeholders), frames, depth)


def encode_rgb(frames: np.ndarray, fps: float = DEFAULT_FPS) -> bytes:
    """WebM/VP9 bytes of RGB frames, a function of the frames alone (single-threaded, bit-exact muxing)."""
    return encode_video(frames, fps=fps, codec=RGB_CODEC, options=RGB_CODEC_OPTIONS)


def clip_seed(seed: int, split: str, label: int, index: int) -> np.random.SeedSequence:
    """The seed of clip `index` of class `label` in `split`: it depends on nothing else (not on the number of
    processes, nor on the size of other splits)."""
    return np.random.SeedSequence([seed, SPLITS.index(split), label, index])
