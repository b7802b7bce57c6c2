# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The classes of the synthetic dataset (SSv2 template names), and which of them only depth can tell apart.

==========================================  ==========  ============================================
class                                       from RGB?   why
==========================================  ==========  ============================================
Moving something towards the camera         no          the object grows physically in proportion to
Moving something away from the camera       no          its distance: the picture never changes size
Holding something in front of something     no          the held object never overlaps the reference
Holding something behind something          no          box on screen, so no occlusion tells the order
Putting something into something            no          a bin taller than the camera's eye height hides
Putting something behind something          no          both identically as the object is lowered
Putting something next to something         yes         the object lands beside the bin and stays seen
Pushing something from left to right        yes         a flip pair: the names differ only by
Pushing something from right to left        yes         left <-> right, the scenes are mirror images
Rolling something on a flat surface         yes         a textured ball turning as it travels
Moving something up                         yes         vertical motion on screen
Moving something down                       yes
==========================================  ==========  ============================================
"""

from __future__ import annotations

SYNTHETIC_CLASSES: tuple[str, ...] = (
    "Moving something towards the camera",
    "Moving something away from the camera",
    "Holding something in front of something",
    "Holding something behind something",
    "Putting something into something",
    "Putting something behind something",
    "Putting something next to something",
    "Pushing something from left to right",
    "Pushing something from right to left",
    "Rolling something on a flat surface",
    "Moving something up",
    "Moving something down",
)

# Pairs whose two classes have the same distribution of RGB clips and differ only in depth.
DEPTH_SENSITIVE_PAIRS: tuple[tuple[str, str], ...] = (
    ("Moving something towards the camera", "Moving something away from the camera"),
    ("Holding something in front of something", "Holding something behind something"),
    ("Putting something into something", "Putting something behind something"),
)
DEPTH_SENSITIVE_CLASSES: tuple[str, ...] = tuple(name for pair in DEPTH_SENSITIVE_PAIRS for name in pair)
RGB_CLEAR_CLASSES: tuple[str, ...] = tuple(c for c in SYNTHETIC_CLASSES if c not in DEPTH_SENSITIVE_CLASSES)
# Horizontal flip maps one onto the other (the augmentation swaps their labels).
FLIP_PAIRS: tuple[tuple[str, str], ...] = (
    ("Pushing something from left to right", "Pushing something from right to left"),
)


def template_of(name: str) -> str:
    """SSv2 writes a class's template with bracketed placeholders: "Putting [something] into [something]"."""
    return name.replace("something", "[something]")
