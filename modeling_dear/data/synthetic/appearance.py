# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""How things look: object colours and surface patterns (plain, stripes, checks, dots), and the backdrop
(textured ground and back wall, directional light)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .geometry import SceneObject

_COLOURS = {
    "red": (0.85, 0.14, 0.12),
    "green": (0.18, 0.68, 0.24),
    "blue": (0.14, 0.30, 0.86),
    "yellow": (0.95, 0.84, 0.14),
    "orange": (0.96, 0.50, 0.10),
    "purple": (0.56, 0.22, 0.72),
    "pink": (0.96, 0.52, 0.70),
    "cyan": (0.10, 0.76, 0.80),
    "white": (0.93, 0.93, 0.90),
    "black": (0.14, 0.14, 0.15),
    "brown": (0.50, 0.30, 0.14),
}
_COLOUR_NAMES = tuple(_COLOURS)


def draw_appearance(rng: np.random.Generator, exclude: Sequence[str] = ()) -> dict:
    names = [n for n in _COLOUR_NAMES if n not in exclude]
    name = names[rng.integers(len(names))]
    colour = np.clip(np.array(_COLOURS[name]) + rng.uniform(-0.05, 0.05, 3), 0, 1)
    if name == "black":
        colour2 = np.clip(colour + rng.uniform(0.25, 0.45), 0, 1)
    else:
        colour2 = colour * rng.uniform(0.4, 0.65)
    return {
        "colour_name": name,
        "colour": colour,
        "colour2": colour2,
        "pattern": int(rng.integers(0, 4)),  # plain, stripes, checks, dots
        "pattern_freq": float(rng.uniform(2.0, 4.0)),
        "pattern_angle": float(rng.uniform(0, np.pi)),
    }


def make_object(name: str, kind: str, look: dict, centre, half, yaw, num_frames: int) -> SceneObject:
    centre = np.broadcast_to(np.asarray(centre, float), (num_frames, 3)).copy()
    half = np.broadcast_to(np.asarray(half, float), (num_frames, 3)).copy()
    yaw = np.broadcast_to(np.asarray(yaw, float), (num_frames,)).copy()
    return SceneObject(
        name=name,
        kind=kind,
        centre=centre,
        half=half,
        yaw=yaw,
        colour=look["colour"],
        colour2=look["colour2"],
        pattern=look["pattern"],
        pattern_freq=look["pattern_freq"],
        pattern_angle=look["pattern_angle"],
    )


def pattern_weight(pattern: int, u, v, freq: float, angle: float):
    """Weight of the second colour at surface coordinates (u, v) in [-1, 1]."""
    if pattern == 0:
        return np.zeros_like(u)
    if pattern == 1:
        w = np.sin(np.pi * freq * (u * math.cos(angle) + v * math.sin(angle)))
    elif pattern == 2:
        w = np.sin(np.pi * freq * u) * np.sin(np.pi * freq * v) * 2.0
    else:
        w = np.cos(np.pi * freq * u) * np.cos(np.pi * freq * v) * 2.0 - 1.0
    return np.clip(0.5 + 2.5 * w, 0.0, 1.0)


@dataclass
class Backdrop:
    ground: tuple  # (colour, colour2, kind, freq, angle, phase)
    wall: tuple  # (colour, colour2, waves (K, 4) of fx, fy, phase, weight, stripe frequency or 0)
    light: np.ndarray  # (3,) unit vector towards the light
    ambient: float


def draw_backdrop(rng: np.random.Generator) -> Backdrop:
    def muted(lo, hi):
        base = rng.uniform(lo, hi, 3)
        grey = base.mean()
        return np.clip(grey + (base - grey) * rng.uniform(0.2, 0.7), 0, 1)

    g1 = muted(0.25, 0.75)
    ground = (
        g1,
        g1 * rng.uniform(0.55, 0.85),
        int(rng.integers(0, 3)),
        float(rng.uniform(2.0, 5.0)),
        float(rng.uniform(0, np.pi)),
        float(rng.uniform(0, 2 * np.pi)),
    )
    w1 = muted(0.35, 0.9)
    waves = np.stack(
        [
            rng.uniform(-4, 4, 4),  # fx
            rng.uniform(-4, 4, 4),  # fy
            rng.uniform(0, 2 * np.pi, 4),
            rng.uniform(0.3, 1.0, 4),
        ],
        axis=1,
    )
    wall = (w1, w1 * rng.uniform(0.55, 0.85), waves, float(rng.choice([0.0, rng.uniform(3.0, 8.0)])))
    light = np.array([rng.choice([-1, 1]) * rng.uniform(0.2, 0.7), rng.uniform(0.6, 1.0), -rng.uniform(0.2, 0.8)])
    return Backdrop(ground, wall, light / np.linalg.norm(light), float(rng.uniform(0.35, 0.5)))
