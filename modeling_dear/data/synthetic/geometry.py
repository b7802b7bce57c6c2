# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Geometry of a synthetic scene: rotations, eased ramps and hand tremor over a clip, the pinhole camera (it
shakes in rotation; in the "estimable" scenes it also drifts sideways, for motion parallax) and the scene objects
(boxes and balls), with the homothety about the camera centre that moves an object in depth without changing its
picture."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_TAN_HALF_FOV = math.tan(math.radians(30.0))  # 60 degrees across the width


def rot_x(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def eased_ramp(num_frames: int, start: float, end: float) -> np.ndarray:
    """0 before frame `start`, 1 after frame `end`, eased in between."""
    i = np.arange(num_frames, dtype=np.float64)
    return _smoothstep((i - start) / max(end - start, 1e-6))


def wobble(rng: np.random.Generator, num_frames: int, amplitude: float) -> np.ndarray:
    """Smooth hand tremor, (T, 3)."""
    i = np.arange(num_frames)[:, None]
    freq = rng.uniform(0.6, 1.6, size=(2, 3))
    phase = rng.uniform(0, 2 * np.pi, size=(2, 3))
    weight = rng.uniform(0.3, 1.0, size=(2, 3))
    wave = sum(weight[k] * np.sin(2 * np.pi * freq[k] * i / num_frames + phase[k]) for k in range(2))
    return amplitude * wave / 2.0


@dataclass
class Camera:
    position: np.ndarray  # (3,) world; the camera never translates within a clip
    rotation: np.ndarray  # (3, 3) camera-to-world of the rest pose
    shake: np.ndarray  # (T, 3, 3) camera-to-world per frame (rest pose times a small rotation)
    wall_z: float
    height: int
    width: int
    drift: np.ndarray | None = None  # (T, 3) translation of the camera centre per frame (None: it stays put)

    def origin(self, t: int) -> np.ndarray:
        """The camera centre at frame t (the scenes place things relative to `position`, the rest pose)."""
        return self.position if self.drift is None else self.position + self.drift[t]

    def place(self, x_n, y_n, s) -> np.ndarray:
        """World point seen at normalised image coordinates (x_n, y_n) at camera depth s (rest pose)."""
        x_n, y_n, s = np.broadcast_arrays(np.asarray(x_n, float), np.asarray(y_n, float), np.asarray(s, float))
        ray = np.stack([x_n, y_n, np.ones_like(x_n)], axis=-1)
        return self.position + s[..., None] * (ray @ self.rotation.T)

    def project(self, points) -> np.ndarray:
        """(..., 3) world points -> (..., 3) normalised (x_n, y_n, camera depth), rest pose."""
        local = (np.asarray(points, float) - self.position) @ self.rotation
        return np.concatenate([local[..., :2] / local[..., 2:3], local[..., 2:3]], axis=-1)

    @property
    def half_extent(self) -> tuple[float, float]:
        """Half the image size in normalised coordinates (x, y)."""
        return _TAN_HALF_FOV, _TAN_HALF_FOV * self.height / self.width


@dataclass
class SceneObject:
    name: str
    kind: str  # "box" or "ball"
    centre: np.ndarray  # (T, 3)
    half: np.ndarray  # (T, 3) box half extents; a ball uses half[:, 0] as radius
    yaw: np.ndarray  # (T,) rotation about the vertical axis; a ball's texture turns with `spin` instead
    colour: np.ndarray  # (3,)
    colour2: np.ndarray  # (3,)
    pattern: int
    pattern_freq: float
    pattern_angle: float
    spin: np.ndarray | None = None  # (T, 3, 3) world-to-texture rotation of a ball

    def corners(self) -> np.ndarray:
        """(T, 8, 3) corners of a bounding box (exact for boxes)."""
        signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
        local = signs[None] * self.half[:, None, :]
        if self.kind == "ball":
            local = signs[None] * self.half[:, None, :1]
        c, s = np.cos(self.yaw)[:, None], np.sin(self.yaw)[:, None]
        x = c * local[..., 0] + s * local[..., 2]
        z = -s * local[..., 0] + c * local[..., 2]
        return self.centre[:, None, :] + np.stack([x, local[..., 1], z], axis=-1)

    def bottom(self) -> np.ndarray:
        return self.centre[:, 1] - (self.half[:, 0] if self.kind == "ball" else self.half[:, 1])


def homothety(obj: SceneObject, origin: np.ndarray, k) -> SceneObject:
    """Scale an object about the camera centre by k (per frame): same picture, k times the depth."""
    k = np.broadcast_to(np.asarray(k, float), (len(obj.centre),))[:, None]
    return SceneObject(**{**obj.__dict__, "centre": origin + k * (obj.centre - origin), "half": obj.half * k})


def axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation by `angle` about the unit vector `axis` (Rodrigues)."""
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k)
