# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The ray caster: every pixel's rays (2x2 supersampled) against the wall, the ground and the objects; the
nearest hit wins (a z-buffer), so the exact depth of every pixel comes with the colour."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .appearance import Backdrop, pattern_weight
from .geometry import Camera, SceneObject

_SUPERSAMPLE = 2  # rays per pixel side; averaging 4 rays removes most staircase flicker at 96x128


def render_scene(
    camera: Camera, backdrop: Backdrop, objects: Sequence[SceneObject], shadows: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """RGB frames (T, H, W, 3) uint8 and inverse camera depth (T, H, W) float64 of one clip. `shadows` darkens
    the ground under each object (`_shadow`); a camera with `drift` moves its centre frame by frame."""
    h, w, ss = camera.height, camera.width, _SUPERSAMPLE
    ax, ay = camera.half_extent
    xs = ((np.arange(w * ss) + 0.5) / (w * ss) * 2 - 1) * ax
    ys = (1 - (np.arange(h * ss) + 0.5) / (h * ss) * 2) * ay
    grid = np.stack(np.broadcast_arrays(xs[None, :], ys[:, None], np.ones((1, 1))), axis=-1).reshape(-1, 3)
    num_frames = len(camera.shake)
    rgb = np.empty((num_frames, h, w, 3))
    inv_depth = np.empty((num_frames, h, w))
    light, ambient = backdrop.light, backdrop.ambient
    g1, g2, gkind, gfreq, gangle, gphase = backdrop.ground
    w1, w2, waves, stripes = backdrop.wall

    wall_shade = np.float32(ambient + (1 - ambient) * max(-light[2], 0.0))
    ground_shade = np.float32(ambient + (1 - ambient) * max(light[1], 0.0))
    w1, w2, g1, g2 = (np.asarray(c, np.float32) for c in (w1, w2, g1, g2))
    f32 = np.float32
    for t in range(num_frames):
        origin = camera.origin(t)
        # Ray directions with a unit camera-z component, so that every hit distance is the camera depth.
        d = grid @ camera.shake[t].T
        # The wall is behind every ray (the camera never turns far enough to miss it); the ground is in
        # front of it for the rays that go down steeply enough. The backdrop is shaded in float32 (numpy's
        # float32 sine is many times faster) on each surface's own rays only; objects keep float64, so that
        # a scaled copy of an object hits the same surface points to the last bit.
        d32 = d.astype(f32)
        depth = f32(camera.wall_z - origin[2]) / d32[:, 2]
        on_ground = d32[:, 1] * depth < -f32(origin[1])
        depth[on_ground] = f32(-origin[1]) / d32[on_ground, 1]
        colour = np.empty((len(d), 3), f32)

        wall = ~on_ground
        wx = f32(origin[0]) + depth[wall] * d32[wall, 0]
        wy = f32(origin[1]) + depth[wall] * d32[wall, 1]
        m = sum(f32(wt) * np.sin(f32(fx) * wx + f32(fy) * wy + f32(ph)) for fx, fy, ph, wt in waves) * f32(0.5)
        if stripes:
            m += f32(0.8) * np.sign(np.sin(f32(stripes) * wx))
        m = np.clip(f32(0.5) + f32(0.6) * m, 0, 1)[:, None]
        colour[wall] = (w1 + m * (w2 - w1)) * wall_shade

        px = f32(origin[0]) + depth[on_ground] * d32[on_ground, 0]
        pz = f32(origin[2]) + depth[on_ground] * d32[on_ground, 2]
        f, ph = f32(gfreq), f32(gphase)
        if gkind == 0:
            m = f32(2.0) * np.sin(2 * f * px + ph) * np.sin(2 * f * pz + ph)
        elif gkind == 1:
            m = np.sin(3 * f * (px * f32(math.cos(gangle)) + pz * f32(math.sin(gangle))) + ph)
        else:
            m = (np.sin(f32(1.3) * f * px + ph) + np.sin(f32(1.7) * f * pz - ph)) * f32(0.5)
        m = np.clip(f32(0.5) + f32(1.5) * m, 0, 1)[:, None]
        colour[on_ground] = (g1 + m * (g2 - g1)) * ground_shade
        if shadows:
            colour[on_ground] *= _shadow(objects, t, px, pz, light)[:, None]
        depth = depth.astype(np.float64)

        depth = depth.reshape(h * ss, w * ss)
        colour = colour.reshape(h * ss, w * ss, 3)
        d = d.reshape(h * ss, w * ss, 3)
        for obj in objects:
            # Only the rays inside the object's screen rectangle can hit it; most of the cost is saved here.
            rows, cols = _window(obj, t, camera, ax, ay, h * ss, w * ss)
            if rows.start >= rows.stop or cols.start >= cols.stop:
                continue
            sub = d[rows, cols]
            th, rgb_obj = _intersect(obj, t, origin, sub.reshape(-1, 3), light, ambient)
            th = th.reshape(sub.shape[:2])
            hit = th < depth[rows, cols]
            depth[rows, cols] = np.where(hit, th, depth[rows, cols])
            colour[rows, cols] = np.where(hit[..., None], rgb_obj.reshape(sub.shape), colour[rows, cols])

        rgb[t] = _box_filter(colour, ss)
        inv_depth[t] = _box_filter(1.0 / depth, ss)
    return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8), inv_depth


def _shadow(objects: Sequence[SceneObject], t: int, px: np.ndarray, pz: np.ndarray, light: np.ndarray) -> np.ndarray:
    """How much light reaches ground points (px, 0, pz), float32 in (0, 1]: each object casts a soft elliptic
    shadow where its centre projects along the light onto the ground, sharp and dark where it stands on the ground,
    wider, fainter and farther from it the higher it floats (a contact cue and a height cue, as in photographs)."""
    f32 = np.float32
    lit = np.ones(len(px), f32)
    for obj in objects:
        centre, half = obj.centre[t], obj.half[t]
        radius = half[0] if obj.kind == "ball" else math.hypot(half[0], half[2]) * 0.85
        lift = max(float(obj.bottom()[t]), 0.0)  # gap between the object and the ground
        shadow_x = centre[0] - light[0] * centre[1] / light[1]
        shadow_z = centre[2] - light[2] * centre[1] / light[1]
        softness = 0.03 + 0.5 * lift
        distance = np.sqrt((px - f32(shadow_x)) ** 2 + (pz - f32(shadow_z)) ** 2)
        x = np.clip((distance - f32(radius)) / f32(softness) + f32(0.5), 0, 1)
        strength = f32(0.55 / (1.0 + 4.0 * lift))
        lit *= f32(1) - strength * (f32(1) - x * x * (f32(3) - f32(2) * x))
    return lit


def _box_filter(image: np.ndarray, factor: int) -> np.ndarray:
    """Mean over factor x factor blocks (strided sums: much faster than a reshaped mean)."""
    total = sum(image[i::factor, j::factor] for i in range(factor) for j in range(factor))
    return total / (factor * factor)


def _window(
    obj: SceneObject, t: int, camera: Camera, ax: float, ay: float, rows: int, cols: int
) -> tuple[slice, slice]:
    """Pixel rows and columns (of the supersampled grid) covered by the object's bounding box at frame t."""
    local = (obj.corners()[t] - camera.origin(t)) @ camera.shake[t]
    x, y = local[:, 0] / local[:, 2], local[:, 1] / local[:, 2]
    c0 = int(math.floor((x.min() / ax + 1) / 2 * cols)) - 1
    c1 = int(math.ceil((x.max() / ax + 1) / 2 * cols)) + 1
    r0 = int(math.floor((1 - y.max() / ay) / 2 * rows)) - 1
    r1 = int(math.ceil((1 - y.min() / ay) / 2 * rows)) + 1
    return slice(max(r0, 0), min(r1, rows)), slice(max(c0, 0), min(c1, cols))


def _intersect(obj: SceneObject, t: int, origin: np.ndarray, d: np.ndarray, light: np.ndarray, ambient: float):
    """Hit distance (inf where missed) and lit colour of every ray against one object at frame t."""
    centre, half = obj.centre[t], obj.half[t]
    oc = origin - centre
    rows = np.arange(len(d))
    if obj.kind == "ball":
        r = half[0]
        a = np.einsum("ij,ij->i", d, d)
        b = d @ oc
        disc = b * b - a * (oc @ oc - r * r)
        ok = disc >= 0
        th = np.where(ok, (-b - np.sqrt(np.where(ok, disc, 0.0))) / a, np.inf)
        th = np.where(th > 0, th, np.inf)
        normal = (oc + np.where(np.isfinite(th), th, 0.0)[:, None] * d) / r
        local = normal @ obj.spin[t].T if obj.spin is not None else normal
        u = np.arctan2(local[:, 0], local[:, 2]) * (2.0 / np.pi)
        v = local[:, 1] * 1.5
    else:
        cy, sy = math.cos(obj.yaw[t]), math.sin(obj.yaw[t])

        def to_box(vec):  # world -> box frame (rotation by -yaw about the vertical)
            return np.stack([cy * vec[..., 0] - sy * vec[..., 2], vec[..., 1], sy * vec[..., 0] + cy * vec[..., 2]], -1)

        o, dl = to_box(oc), to_box(d)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / np.where(np.abs(dl) < 1e-12, 1e-12, dl)
        t1, t2 = (-half - o) * inv, (half - o) * inv
        tnear, tfar = np.minimum(t1, t2), np.maximum(t1, t2)
        axis = np.argmax(tnear, axis=1)
        tmin = tnear[rows, axis]
        ok = (tfar.min(axis=1) >= tmin) & (tmin > 0)
        th = np.where(ok, tmin, np.inf)
        p = (o + np.where(ok, tmin, 0.0)[:, None] * dl) / half
        nl = np.zeros_like(p)
        nl[rows, axis] = -np.sign(dl[rows, axis])
        normal = np.stack([cy * nl[:, 0] + sy * nl[:, 2], nl[:, 1], -sy * nl[:, 0] + cy * nl[:, 2]], -1)
        u = np.where(axis == 0, p[:, 2], p[:, 0])
        v = np.where(axis == 1, p[:, 2], p[:, 1])
    m = pattern_weight(obj.pattern, u, v, obj.pattern_freq, obj.pattern_angle)[:, None]
    shade = ambient + (1.0 - ambient) * np.clip(normal @ light, 0.0, None)
    return th, ((1 - m) * obj.colour + m * obj.colour2) * shade[:, None]
