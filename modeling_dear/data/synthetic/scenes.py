# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The scene of each class: a random draw of where things are and how they move, checked for validity.

A scene function takes the random stream, the camera and a variant (which class of its family) and returns
the objects and the placeholder names, or None for a draw to reject. The two classes of a depth-sensitive
pair consume the random stream identically and differ only in where the object is placed in depth.

With `physical=True` (the "estimable" scenes) an object keeps its real size wherever it is placed: nearer looks
larger, and it may pass in front of or behind the other object on screen (occlusion); the bin's rim is below the
camera's eye. Depth is then readable from the picture, as it is in real video, instead of hidden from it.
Over 300 lines: one scene per class family, each with its checks, side by side so the pairs stay comparable.
"""

from __future__ import annotations

import math

import numpy as np

from .appearance import draw_appearance, make_object
from .classes import SYNTHETIC_CLASSES
from .geometry import Camera, SceneObject, axis_angle, eased_ramp, homothety, rot_x, rot_y, rot_z, wobble


def draw_camera(rng: np.random.Generator, height: int, width: int, num_frames: int, drift: bool = False) -> Camera:
    eye = rng.uniform(0.45, 0.6)
    rest = rot_y(math.radians(rng.uniform(-8, 8))) @ rot_x(math.radians(rng.uniform(5, 11)))
    # Rotation only unless `drift`: a translating camera gives motion parallax, an RGB cue to depth.
    angles = np.radians(wobble(rng, num_frames, rng.uniform(0.2, 0.6)))
    shake = np.stack([rest @ rot_y(a) @ rot_x(b) @ rot_z(c) for a, b, c in angles])
    moved = None
    if drift:  # a slow sideways step of a hand-held camera, plus tremor
        step = rng.uniform(0.04, 0.12) * (1.0 if rng.random() < 0.5 else -1.0)
        moved = (rest @ np.array([step, 0.0, 0.0]))[None] * np.linspace(-0.5, 0.5, num_frames)[:, None]
        moved = moved + wobble(rng, num_frames, 0.01)
    return Camera(np.array([0.0, eye, 0.0]), rest, shake, float(rng.uniform(4.0, 6.0)), height, width, moved)


def _at_scale(obj: SceneObject, origin: np.ndarray, k, size_scale: float) -> SceneObject:
    """The object moved along the camera rays by k (per frame), as `homothety`, but with the real size
    `size_scale` times its unit-depth size whatever its depth: nearer looks larger (the "estimable" scenes)."""
    moved = homothety(obj, origin, k)
    moved.half = obj.half * size_scale
    return moved


def _ground_point(cam: Camera, x_n: float, z: float) -> np.ndarray:
    """Point on the ground at world depth z, about where image column x_n looks (rest pose)."""
    direction = cam.rotation @ np.array([x_n, 0.0, 1.0])
    direction[1] = 0.0
    point = cam.position + direction * ((z - cam.position[2]) / direction[2])
    point[1] = 0.0
    return point


def _rect(cam: Camera, obj: SceneObject) -> np.ndarray:
    """(T, 4) screen bounding rectangle (x_min, x_max, y_min, y_max), normalised, rest pose."""
    p = cam.project(obj.corners())
    return np.stack([p[..., 0].min(1), p[..., 0].max(1), p[..., 1].min(1), p[..., 1].max(1)], axis=1)


def _in_image(cam: Camera, obj: SceneObject, margin: float = 0.02) -> bool:
    ax, ay = cam.half_extent
    r = _rect(cam, obj)
    return bool(
        (r[:, 0] > -ax + margin).all()
        and (r[:, 1] < ax - margin).all()
        and (r[:, 2] > -ay + margin).all()
        and (r[:, 3] < ay - margin).all()
    )


def _in_room(cam: Camera, obj: SceneObject, floating: bool = True) -> bool:
    """Clear of the ground (or standing on it) and of the wall, and not against the lens."""
    corners = obj.corners()
    return bool(
        (obj.bottom() > (0.02 if floating else -1e-9)).all()
        and (corners[..., 2] < cam.wall_z - 0.15).all()
        and (cam.project(corners)[..., 2] > 0.3).all()
    )


def _apart(a: np.ndarray, b: np.ndarray, gap: float) -> bool:
    """Screen rectangles (T, 4) never closer than `gap`, in any frame."""
    separated = (a[:, 1] + gap < b[:, 0]) | (b[:, 1] + gap < a[:, 0])
    separated |= (a[:, 3] + gap < b[:, 2]) | (b[:, 3] + gap < a[:, 2])
    return bool(separated.all())


def _shape_name(kind: str, half) -> str:
    if kind == "ball":
        return "ball"
    half = np.asarray(half, float)
    return "cube" if half.max() / half.min() < 1.25 else "box"


def _held_object(rng: np.random.Generator, exclude=()) -> tuple[str, dict, np.ndarray]:
    """Kind, look and proportions (half extents relative to the largest horizontal one) of a held thing."""
    kind = "ball" if rng.random() < 0.4 else "box"
    look = draw_appearance(rng, exclude)
    aspect = np.array([1.0, rng.uniform(0.7, 1.3), rng.uniform(0.7, 1.3)])
    return kind, look, aspect if kind == "box" else np.ones(3)


def _unit_path_object(cam, kind, look, aspect, size, x_n, y_n, yaw, num_frames) -> SceneObject:
    """An object seen at screen path (x_n, y_n) with angular half size `size`, placed at camera depth 1."""
    centre = cam.place(x_n, y_n, np.ones(num_frames))
    name = f"{look['colour_name']} {_shape_name(kind, aspect)}"
    return make_object(name, kind, look, centre, size * aspect, yaw, num_frames)


def _scene_towards_away(rng, cam: Camera, variant: int, physical: bool = False):
    """0: towards the camera, 1: away. The object's size grows with its distance, so its picture is fixed
    (`physical`: its size is that at the middle of its path, so it looms or shrinks, and it casts a shadow)."""
    T = len(cam.shake)
    kind, look, aspect = _held_object(rng)
    size = rng.uniform(0.06, 0.10)
    x = rng.uniform(-0.3, 0.3) + rng.uniform(-0.12, 0.12) * np.linspace(0, 1, T)
    y = rng.uniform(0.0, 0.3) + rng.uniform(-0.06, 0.06) * np.linspace(0, 1, T)
    shake = wobble(rng, T, 0.01)
    yaw = rng.uniform(-0.6, 0.6) + rng.uniform(-0.3, 0.3) * np.linspace(0, 1, T)
    unit = _unit_path_object(cam, kind, look, aspect, size, x + shake[:, 0], y + shake[:, 1], yaw, T)
    near, ratio = rng.uniform(0.7, 1.0), rng.uniform(2.0, 2.8)
    ramp = eased_ramp(T, rng.uniform(0, 0.25) * (T - 1), rng.uniform(0.75, 1.0) * (T - 1))
    away = near * ratio**ramp  # geometric: equal ratios per step, so inverse depth moves evenly too
    towards = near * ratio ** (1.0 - ramp)
    if physical:
        middle = near * math.sqrt(ratio)
        variants = [_at_scale(unit, cam.position, k, middle) for k in (towards, away)]
        if not all(_in_image(cam, v, margin=-0.03) for v in variants):
            return None
    else:
        variants = [homothety(unit, cam.position, k) for k in (towards, away)]
    if not (_in_image(cam, unit) and all(_in_room(cam, v) for v in variants)):
        return None
    return [variants[variant]], [unit.name]


def _ground_box(rng, cam: Camera, look: dict, z, x_n, width, height, depth, yaw) -> SceneObject:
    """A box standing on the ground; every size argument is a (low, high) range to draw from."""
    T = len(cam.shake)
    half = np.array([rng.uniform(*width), rng.uniform(*height), rng.uniform(*depth)]) / 2
    base = _ground_point(cam, rng.uniform(*x_n), rng.uniform(*z))
    return make_object("", "box", look, base + [0, half[1], 0], half, rng.uniform(*yaw), T)


def _scene_holding(rng, cam: Camera, variant: int, physical: bool = False):
    """0: held in front of a box, 1: behind it. On screen the two never overlap, so no occlusion cue
    (`physical`: they may overlap, and the held object has the same real size in front as behind)."""
    T = len(cam.shake)
    ref_look = draw_appearance(rng)
    ref = _ground_box(rng, cam, ref_look, (1.8, 2.6), (-0.3, 0.3), (0.3, 0.5), (0.25, 0.45), (0.25, 0.4), (-0.4, 0.4))
    ref.name = f"{ref_look['colour_name']} {_shape_name('box', ref.half[0])}"
    kind, look, aspect = _held_object(rng, exclude=(ref_look["colour_name"],))
    size = rng.uniform(0.05, 0.08)
    x0, x1, y0, y1 = _rect(cam, ref)[0]
    gap = size * aspect.max() * 1.5 + rng.uniform(0.03, 0.12)
    if rng.random() < 0.5:  # above the box
        x, y = rng.uniform(x0, x1), y1 + gap
    else:  # beside it
        x = x1 + gap if rng.random() < 0.5 else x0 - gap
        y = rng.uniform(y0, y1 + 0.1)
    drift = rng.uniform(-0.1, 0.1) * np.linspace(-0.5, 0.5, T)
    shake = wobble(rng, T, 0.012)
    yaw = rng.uniform(-0.6, 0.6) + rng.uniform(-0.2, 0.2) * np.linspace(0, 1, T)
    unit = _unit_path_object(cam, kind, look, aspect, size, x + drift + shake[:, 0], y + shake[:, 1], yaw, T)
    ref_depth = cam.project(ref.corners()[0])[:, 2]
    reach = size * np.abs(aspect).max() * math.sqrt(2)  # the object's depth extent at unit scale
    front = rng.uniform(0.45, 0.8) * (ref_depth.min() - 0.1) / (1 + reach)
    behind = (ref_depth.max() + rng.uniform(0.3, 1.3)) / (1 - reach)
    depth_shake = 1 + wobble(rng, T, 0.02)[:, 2]
    if physical:
        # the object is drawn close to the box on screen (often overlapping it), with a real size of what the
        # drawn picture would be at the box's depth
        centre_x, centre_y = (x0 + x1) / 2, (y0 + y1) / 2
        pull = rng.uniform(0.3, 0.8)
        x2 = x + drift + shake[:, 0]
        y2 = y + shake[:, 1]
        unit = _unit_path_object(
            cam, kind, look, aspect, size, x2 + pull * (centre_x - x2), y2 + pull * (centre_y - y2), yaw, T
        )
        scale = float(ref_depth.mean())
        variants = [_at_scale(unit, cam.position, s * depth_shake, scale) for s in (front, behind)]
        ok = front > 0.45 and _in_image(cam, ref) and all(_in_image(cam, v, margin=-0.03) for v in variants)
        ok = ok and all(_in_room(cam, v) for v in variants)
        return ([ref, variants[variant]], [unit.name, ref.name]) if ok else None
    variants = [homothety(unit, cam.position, s * depth_shake) for s in (front, behind)]
    ok = (
        front > 0.45
        and _in_image(cam, unit)
        and _in_image(cam, ref)
        and _apart(_rect(cam, unit), _rect(cam, ref), 0.02)
        and all(_in_room(cam, v) for v in variants)
    )
    return ([ref, variants[variant]], [unit.name, ref.name]) if ok else None


def _scene_putting(rng, cam: Camera, variant: int, physical: bool = False):
    """0: into a bin, 1: behind it, 2: next to it. The bin's rim is above the camera, so its inside is
    never seen: an object lowered into it and one lowered behind it vanish behind the same front wall.
    (`physical`: the rim is below the eye, and "behind" puts the same object down on the ground behind the bin,
    where it stays partly in view over the rim and casts its shadow.)"""
    T = len(cam.shake)
    bin_look = draw_appearance(rng)
    rim = cam.position[1] + (rng.uniform(-0.3, -0.15) if physical else rng.uniform(0.02, 0.08))
    bin_ = _ground_box(
        rng, cam, bin_look, (1.3, 1.9), (-0.25, 0.25), (0.5, 0.7), (rim, rim), (0.45, 0.6), (-0.25, 0.25)
    )
    bin_.name = f"{bin_look['colour_name']} bin"
    kind, look, aspect = _held_object(rng, exclude=(bin_look["colour_name"],))
    half = rng.uniform(0.1, 0.14) * aspect
    room = bin_.half[0] - half - 0.03  # slack inside the bin, box frame
    if room[0] < 0 or room[2] < 0:
        return None
    yaw = bin_.yaw[0]
    offset = np.array([rng.uniform(-1, 1) * room[0], 0.0, rng.uniform(-1, 1) * room[2]])
    side = 1.0 if rng.random() < 0.5 else -1.0
    beside = np.array([side * (bin_.half[0, 0] + half[0] + rng.uniform(0.12, 0.3)), 0.0, rng.uniform(-0.1, 0.1)])
    c, s = math.cos(yaw), math.sin(yaw)
    to_world = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    start = rim + half[1] + rng.uniform(0.05, 0.15)
    held, gone = rng.uniform(1.5, 4.5), rng.uniform(1.5, 3.0)
    ramp = eased_ramp(T, held, T - 1 - gone)
    sway = wobble(rng, T, 0.01)
    sway[:, 1] = 0
    tilt = rng.uniform(-0.3, 0.3)
    name = f"{look['colour_name']} {_shape_name(kind, half)}"

    def lowered(where: np.ndarray, end_height: float) -> SceneObject:
        centre = np.repeat((bin_.centre[0] + to_world @ where)[None], T, 0)
        centre[:, 1] = start + (end_height - start) * ramp
        # The hand sways and the object is tilted only while all of it is above the rim. Any part below the
        # rim must be inside the bin, where the front wall hides it exactly as it hides the same part of the
        # "behind" copy further along the same rays.
        free = np.clip((centre[:, 1] - half[1] - rim) / 0.03, 0.0, 1.0)
        return make_object(name, kind, look, centre + sway * free[:, None], half, yaw + tilt * free, T)

    into = lowered(offset, rim - 0.02 - half[1])
    nxt = lowered(beside, half[1])
    inner = cam.project(into.corners()).reshape(-1, 3)[:, 2]
    far = cam.project(bin_.corners()[0])[:, 2].max()
    behind = homothety(into, cam.position, (far + 0.05) / inner.min() * rng.uniform(1.2, 1.6))
    if physical:
        back = np.array([offset[0], 0.0, bin_.half[0, 2] + half[2] + rng.uniform(0.1, 0.35)])
        behind = lowered(back, half[1])
    ok = (
        _in_image(cam, bin_)
        and _in_image(cam, into)
        and _in_image(cam, nxt)
        and _in_room(cam, behind, floating=not physical)
        and _in_room(cam, nxt, floating=False)
        and _rect(cam, into)[0, 2] > _rect(cam, bin_)[0, 3] + 0.02  # first seen whole, above the bin
    )
    return ([bin_, (into, behind, nxt)[variant]], [name, bin_.name]) if ok else None


def _scene_pushing(rng, cam: Camera, variant: int, physical: bool = False):
    """0: left to right, 1: right to left; mirror images of one another in distribution."""
    T = len(cam.shake)
    sign = 1.0 if variant == 0 else -1.0
    look = draw_appearance(rng)
    half = np.array([rng.uniform(0.08, 0.16), rng.uniform(0.06, 0.13), rng.uniform(0.07, 0.13)])
    z = rng.uniform(1.0, 2.2)
    start_n = -sign * rng.uniform(0.15, 0.4)
    end_n = start_n + sign * rng.uniform(0.3, 0.6)
    start, end = _ground_point(cam, start_n, z), _ground_point(cam, end_n, z)
    t0 = rng.uniform(0, 0.3) * (T - 1)
    tau = np.clip((np.arange(T) - t0) / (rng.uniform(0.5, 0.7) * (T - 1)), 0, 1)
    progress = 1 - (1 - tau) ** 2  # a shove, then friction
    centre = start + progress[:, None] * (end - start) + [0, half[1], 0]
    yaw = rng.uniform(-0.4, 0.4) + rng.uniform(-0.3, 0.3) * progress
    obj = make_object(f"{look['colour_name']} {_shape_name('box', half)}", "box", look, centre, half, yaw, T)
    return ([obj], [obj.name]) if _in_image(cam, obj, margin=-0.05) else None


def _scene_rolling(rng, cam: Camera, variant: int, physical: bool = False):
    T = len(cam.shake)
    look = draw_appearance(rng)
    look["pattern"] = int(rng.integers(1, 4))  # a plain ball would not show that it turns
    radius = rng.uniform(0.09, 0.16)
    z = rng.uniform(1.0, 2.2)
    sign = 1.0 if rng.random() < 0.5 else -1.0
    start_n = -sign * rng.uniform(0.15, 0.4)
    end_n = start_n + sign * rng.uniform(0.35, 0.7)
    start, end = _ground_point(cam, start_n, z), _ground_point(cam, end_n, z)
    t0 = rng.uniform(0, 0.2) * (T - 1)
    tau = np.clip((np.arange(T) - t0) / (rng.uniform(0.8, 1.0) * (T - 1)), 0, 1)
    progress = tau * (1.3 - 0.3 * tau)  # rolls on, slowing a little
    centre = start + progress[:, None] * (end - start) + [0, radius, 0]
    travelled = (centre - centre[0]) @ (end - start) / np.linalg.norm(end - start)
    axis = np.cross([0.0, 1.0, 0.0], (end - start) / np.linalg.norm(end - start))  # rolling axis
    initial = rot_y(rng.uniform(0, 2 * np.pi)) @ rot_x(rng.uniform(0, 2 * np.pi))
    spin = np.stack([initial.T @ axis_angle(axis, -d / radius).T for d in travelled])
    obj = make_object(f"{look['colour_name']} ball", "ball", look, centre, np.full(3, radius), 0.0, T)
    obj.spin = spin
    return ([obj], [obj.name]) if _in_image(cam, obj, margin=-0.05) else None


def _scene_up_down(rng, cam: Camera, variant: int, physical: bool = False):
    """0: up, 1: down; a held object moved vertically."""
    T = len(cam.shake)
    kind, look, aspect = _held_object(rng)
    s = rng.uniform(1.0, 2.2)
    half = rng.uniform(0.05, 0.08) * s * aspect
    travel = rng.uniform(0.2, 0.32) * s
    low = rng.uniform(half[1] + 0.05, cam.position[1] + 0.1)
    base = _ground_point(cam, rng.uniform(-0.3, 0.3), s)
    ramp = eased_ramp(T, rng.uniform(0, 0.25) * (T - 1), rng.uniform(0.75, 1.0) * (T - 1))
    heights = low + travel * (ramp if variant == 0 else 1 - ramp)
    centre = np.repeat(base[None], T, 0) + wobble(rng, T, 0.012 * s)
    centre[:, 1] = heights
    yaw = rng.uniform(-0.6, 0.6) + rng.uniform(-0.3, 0.3) * np.linspace(0, 1, T)
    obj = make_object(f"{look['colour_name']} {_shape_name(kind, aspect)}", kind, look, centre, half, yaw, T)
    return ([obj], [obj.name]) if _in_image(cam, obj) and _in_room(cam, obj) else None


SCENES = {
    "Moving something towards the camera": (_scene_towards_away, 0),
    "Moving something away from the camera": (_scene_towards_away, 1),
    "Holding something in front of something": (_scene_holding, 0),
    "Holding something behind something": (_scene_holding, 1),
    "Putting something into something": (_scene_putting, 0),
    "Putting something behind something": (_scene_putting, 1),
    "Putting something next to something": (_scene_putting, 2),
    "Pushing something from left to right": (_scene_pushing, 0),
    "Pushing something from right to left": (_scene_pushing, 1),
    "Rolling something on a flat surface": (_scene_rolling, 0),
    "Moving something up": (_scene_up_down, 0),
    "Moving something down": (_scene_up_down, 1),
}
assert tuple(SCENES) == SYNTHETIC_CLASSES
