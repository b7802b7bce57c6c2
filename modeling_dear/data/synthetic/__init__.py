# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""A synthetic Something-Something-like dataset with exact depth, built so that depth is *needed*.

Every clip is a small 3-D scene (a textured ground plane, a textured back wall, boxes and balls) seen by
a pinhole camera that stays in place and only shakes in rotation, the way a hand-held phone does.
A numpy ray caster draws it: the nearest hit along each pixel's ray wins (a z-buffer), so the true depth
of every pixel comes for free. The rows follow the prepared SSv2 schema
(`data.schema.video_features`) with `depth_model = "ground_truth"`; `depth` holds inverse depth,
min-max normalised to 0..255 over the whole clip (larger = nearer), like a MiDaS estimate.

The twelve classes (SSv2 template names) and which of them only depth can tell apart: `classes`.

How a depth-sensitive pair is made ambiguous. A scaling of the whole object about the camera centre
(position and size multiplied by the same k > 0) leaves every pixel ray hitting the same point of the
object's surface, at k times the distance: same texture coordinate, same surface normal, hence the same
colour under a directional light. So each pair draws one scene in image terms (where the object is on
screen, how large it looks, how it moves, colours, background, camera, light) and only then places it
in depth according to the class, scaled so that the picture is unchanged. Scene draws are checked for
validity (object above the ground, before the wall, no overlap on screen...) under *both* placements,
so the two classes have exactly the same distribution of RGB clips: with the same random seed the RGB
frames of the two classes come out the same pixel for pixel (the test suite checks this), and the best
possible RGB-only accuracy within each pair is chance. Things that would betray depth in RGB are left
out on purpose: no shadows, no camera translation (motion parallax), no fog, no contact with the ground
for the objects whose depth is the question. The "towards / away" object is the one non-physical
element: it shrinks as it approaches.

Everything is drawn from a seed. Clip `i` of class `c` in split `s` uses the seed sequence
(seed, s, c, i), so a clip does not depend on the number of processes nor on the size of other splits.

What to render is one frozen `SyntheticSpec` (`spec`). The modules, from the bottom up: `geometry` (camera,
objects), `appearance` (colours, patterns, backdrop), `render` (the ray caster), `scenes` (one per class),
`clips` (one clip from a seed), `generate` (a whole dataset), `card`, `cache`, and `command_line`
(`python -m modeling_dear.data.synthetic`).

All of the above describes the default scene set, `scenes="identical"` (the sensor-depth upper bound). The
`"estimable"` set (`SyntheticSpec(scenes="estimable")`, `clips.SCENE_SETS`) keeps objects at their real size,
adds soft shadows and a sideways-drifting camera, so depth can be estimated from its RGB: the main job's set.
`depth_model` trains a small DPT on other synthetic scenes (the main job's stand-in for MiDaS) and `estimated`
prepares the action clips with it through `data.prepare.prepare_dataset` (estimated `depth`, exact `depth_exact`).
"""

from .cache import default_cache_dir, load_or_generate_synthetic
from .card import dataset_card, write_card
from .classes import (
    DEPTH_SENSITIVE_CLASSES,
    DEPTH_SENSITIVE_PAIRS,
    FLIP_PAIRS,
    RGB_CLEAR_CLASSES,
    SYNTHETIC_CLASSES,
    template_of,
)
from .clips import DEPTH_MODEL, RGB_CODEC, RGB_CODEC_OPTIONS, SyntheticClip, clip_seed, encode_rgb, render_clip
from .command_line import main
from .generate import generate_synthetic_dataset
from .spec import (
    DEFAULT_FPS,
    DEFAULT_HEIGHT,
    DEFAULT_MAX_FRAMES,
    DEFAULT_MIN_FRAMES,
    DEFAULT_WIDTH,
    GENERATOR_VERSION,
    SPLITS,
    SyntheticSpec,
)

__all__ = [
    "DEFAULT_FPS",
    "DEFAULT_HEIGHT",
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MIN_FRAMES",
    "DEFAULT_WIDTH",
    "DEPTH_MODEL",
    "DEPTH_SENSITIVE_CLASSES",
    "DEPTH_SENSITIVE_PAIRS",
    "FLIP_PAIRS",
    "GENERATOR_VERSION",
    "RGB_CLEAR_CLASSES",
    "RGB_CODEC",
    "RGB_CODEC_OPTIONS",
    "SPLITS",
    "SYNTHETIC_CLASSES",
    "SyntheticClip",
    "SyntheticSpec",
    "clip_seed",
    "dataset_card",
    "default_cache_dir",
    "encode_rgb",
    "generate_synthetic_dataset",
    "load_or_generate_synthetic",
    "main",
    "render_clip",
    "template_of",
    "write_card",
]
