# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The contract between a source reader and the preparation: `SourceData` holding `ClipEntry`s.

A clip is a whole video file, or a segment of one (`start`/`end`, in seconds or frame numbers): then only the
segment's frames are decoded, depth-estimated and stored, as a clip of its own. Several segments may name the
same file; the preparation opens such a file once per shard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


class SourceInputError(ValueError):
    """An input of a source that cannot be used: the message is one line naming the file (and line) and the fix."""


@dataclass(frozen=True)
class ClipEntry:
    """One clip to prepare.

    clip_id: unique within its split; stored in the `video_id` column and used to order the clips into shards.
    path: the video file it is read from.
    labels: class id per label set (the keys of `SourceData.label_sets`); -1 where a split carries no labels
        (a test split).
    start, end: the segment of `path` this clip is (None: from the beginning / to the end); `end` is exclusive.
    time_unit: what `start` and `end` count: "seconds" or "frames".
    extra: the source's other columns for this clip, as (name, value) pairs, in `SourceData.extra_features` order.
    """

    clip_id: str
    path: str
    labels: dict[str, int]
    start: float | None = None
    end: float | None = None
    time_unit: Literal["seconds", "frames"] = "seconds"
    extra: tuple[tuple[str, Any], ...] = ()

    @property
    def is_segment(self) -> bool:
        return self.start is not None or self.end is not None


@dataclass
class SourceData:
    """What a source reader found.

    format: the layout's name ("videofolder", "split_lists", "ucf101", "hmdb51", "kinetics", "segments",
        "datasets", "ssv2"), written to the dataset card.
    label_sets: column name -> class names in id order; {"label": [...]} for a dataset with one label set,
        e.g. {"verb": [...], "noun": [...]} for EPIC-Kitchens.
    splits: split name ("train", "validation", "test") -> its clips.
    extra_features: the `datasets` features of the columns in `ClipEntry.extra`, in column order.
    license: the source's licence (the dataset card's `license`); None when unknown. A source whose licence
        forbids redistribution says so in `redistribution_forbidden` (the reason), and pushing it is refused.
    skipped: entries the reader left out, each {"file", "line", "reason"}: they go into the preparation report.
    description: one line for the card on where the clips came from.
    """

    format: str
    label_sets: dict[str, list[str]]
    splits: dict[str, list[ClipEntry]]
    extra_features: dict[str, Any] = field(default_factory=dict)
    license: str | None = None
    redistribution_forbidden: str | None = None
    skipped: list[dict] = field(default_factory=list)
    description: str = ""
