# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""EPIC-Kitchens-100 as a segment source: its annotation CSVs and videos → `SourceData` with `verb` and `noun`
label sets (one clip per annotated segment of a long video).

The annotation folder is the one https://github.com/epic-kitchens/epic-kitchens-100-annotations holds:

    EPIC_100_train.csv, EPIC_100_validation.csv    narration_id, participant_id, video_id, narration_timestamp,
                                                   start_timestamp, stop_timestamp, start_frame, stop_frame,
                                                   narration, verb, verb_class, noun, noun_class, all_nouns,
                                                   all_noun_classes
    EPIC_100_test_timestamps.csv                   the same without the narration and labels
    EPIC_100_verb_classes.csv, EPIC_100_noun_classes.csv    id, key, instances, category

and the videos are `<videos>/<participant>/videos/<video_id>.MP4` (the download script's layout), or all in one
folder (`<videos>/<video_id>.MP4`). Each segment becomes a clip whose `video_id` is its `narration_id` (what the
leaderboard's results file is keyed by); the test split has no labels (-1).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from .base import ClipEntry, SourceData, SourceInputError

SPLIT_FILES = {
    "train": "EPIC_100_train.csv",
    "validation": "EPIC_100_validation.csv",
    "test": "EPIC_100_test_timestamps.csv",
}
CLASS_FILES = {"verb": "EPIC_100_verb_classes.csv", "noun": "EPIC_100_noun_classes.csv"}
SEGMENT_COLUMNS = ("narration_id", "participant_id", "video_id", "start_timestamp", "stop_timestamp")
FRAME_COLUMNS = ("start_frame", "stop_frame")
LABEL_COLUMNS = {"verb": "verb_class", "noun": "noun_class"}
VIDEO_EXTENSIONS = (".MP4", ".mp4")
LICENSE = "cc-by-nc-4.0"
_TIMESTAMP = re.compile(r"^(\d+):([0-5]?\d):([0-5]?\d(?:\.\d+)?)$")


def read_epic_kitchens(
    annotations: str | Path,
    videos: str | Path,
    splits: dict[str, str] | None = None,
    time_unit: str = "seconds",
    skip_missing_videos: bool = False,
) -> SourceData:
    """Read EPIC-Kitchens-100's annotations (the folder `annotations`) and find each segment's video under `videos`.

    Args:
        splits: split name → annotation file name in `annotations` (default: train, validation and test, those
            whose file is there).
        time_unit: "seconds" cuts the segments at `start_timestamp`/`stop_timestamp`; "frames" at
            `start_frame`/`stop_frame` (EPIC numbers frames from 1 and includes the stop frame: the clip holds
            frames start_frame-1 .. stop_frame-1 of the decoded video, counted from 0).
        skip_missing_videos: report segments whose video is not under `videos` (in `skipped`) instead of stopping
            at the first one (for a partial download).

    Raises `SourceInputError` (one line: the file, the line, the fix) for a missing file or column, a class id
    outside the class file, a segment that ends before it starts, a narration id given twice, a missing video.
    """
    annotations, videos = Path(annotations), Path(videos)
    if time_unit not in ("seconds", "frames"):
        raise SourceInputError(f"time_unit must be 'seconds' or 'frames', got {time_unit!r}")
    if not annotations.is_dir():
        raise SourceInputError(
            f"{annotations}: no such folder; point it at a clone of epic-kitchens-100-annotations (the EPIC_100_*.csv files)"
        )
    if not videos.is_dir():
        raise SourceInputError(f"{videos}: no such folder; it should hold <participant>/videos/<video_id>.MP4")
    label_sets = {name: _read_classes(annotations / file_name) for name, file_name in CLASS_FILES.items()}
    if splits is None:
        splits = {name: file_name for name, file_name in SPLIT_FILES.items() if (annotations / file_name).is_file()}
        if not splits:
            raise SourceInputError(
                f"{annotations}: none of {list(SPLIT_FILES.values())} is there; download the EPIC-Kitchens-100 annotations"
            )
    video_index = _VideoIndex(videos)
    skipped: list[dict] = []
    clips_by_split = {}
    for split, file_name in splits.items():
        clips_by_split[split] = _read_split(
            annotations / file_name, label_sets, video_index, time_unit, skip_missing_videos, skipped
        )
    from datasets import Value

    return SourceData(
        format="epic_kitchens",
        label_sets={name: list(classes) for name, classes in label_sets.items()},
        splits=clips_by_split,
        extra_features={
            "participant_id": Value("string"),
            "parent_video_id": Value("string"),
            "narration": Value("string"),
            "start_timestamp": Value("string"),
            "stop_timestamp": Value("string"),
        },
        license=LICENSE,
        skipped=skipped,
        description=(
            "EPIC-Kitchens-100 action segments (verb and noun classes), cut from the long videos at the "
            f"annotations' {'timestamps' if time_unit == 'seconds' else 'frame numbers'}"
        ),
    )


def _read_classes(path: Path) -> list[str]:
    """Class keys in id order from a class file (`id,key,instances,category`)."""
    if not path.is_file():
        raise SourceInputError(f"{path}: no such file; it comes with the EPIC-Kitchens-100 annotations")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("id", "key") if c not in (reader.fieldnames or [])]
        if missing:
            raise SourceInputError(
                f"{path}:1: no column {missing}; a class file has the columns id,key,instances,category"
            )
        classes = {}
        for line, row in enumerate(reader, start=2):
            try:
                index = int(row["id"])
            except (TypeError, ValueError):
                raise SourceInputError(f"{path}:{line}: id {row['id']!r} is not an integer") from None
            if index in classes:
                raise SourceInputError(f"{path}:{line}: class id {index} is given twice")
            classes[index] = row["key"]
    if sorted(classes) != list(range(len(classes))) or len(classes) < 2:
        raise SourceInputError(f"{path}: class ids must be 0..n-1 (n ≥ 2), got {sorted(classes)[:5]}...")
    return [classes[i] for i in range(len(classes))]


class _VideoIndex:
    """Where each long video is: `<root>/<participant>/videos/<id>.MP4`, or `<root>/<id>.MP4`."""

    def __init__(self, root: Path):
        self.root = root
        self._found: dict[tuple[str, str], Path | None] = {}

    def candidates(self, participant: str, video_id: str) -> list[Path]:
        return [
            folder / f"{video_id}{extension}"
            for folder in (self.root / participant / "videos", self.root / participant, self.root)
            for extension in VIDEO_EXTENSIONS
        ]

    def find(self, participant: str, video_id: str) -> Path | None:
        key = (participant, video_id)
        if key not in self._found:
            self._found[key] = next((p for p in self.candidates(participant, video_id) if p.is_file()), None)
        return self._found[key]


def _timestamp_seconds(value: str, where: str, column: str) -> float:
    match = _TIMESTAMP.match(value.strip())
    if not match:
        raise SourceInputError(f"{where}: {column} {value!r} is not a timestamp HH:MM:SS.ff")
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _read_split(path: Path, label_sets, video_index: _VideoIndex, time_unit, skip_missing, skipped) -> list[ClipEntry]:
    if not path.is_file():
        raise SourceInputError(f"{path}: no such file; it comes with the EPIC-Kitchens-100 annotations")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        labelled = all(c in columns for c in LABEL_COLUMNS.values())
        needed = [*SEGMENT_COLUMNS, *(FRAME_COLUMNS if time_unit == "frames" else ())]
        missing = [c for c in needed if c not in columns]
        if not labelled and any(c in columns for c in LABEL_COLUMNS.values()):  # one label column of two
            missing += [c for c in LABEL_COLUMNS.values() if c not in columns]
        if missing:
            raise SourceInputError(
                f"{path}:1: no column {missing}; an EPIC-Kitchens-100 annotation file has {list(needed)} "
                f"(and {list(LABEL_COLUMNS.values())} for a labelled split)"
            )
        clips, seen = [], {}
        for line, row in enumerate(reader, start=2):
            where = f"{path}:{line}"
            clip_id = row["narration_id"].strip()
            if not clip_id:
                raise SourceInputError(f"{where}: narration_id is empty")
            if clip_id in seen:
                raise SourceInputError(f"{where}: narration_id {clip_id} was already given on line {seen[clip_id]}")
            seen[clip_id] = line
            if time_unit == "seconds":
                start = _timestamp_seconds(row["start_timestamp"], where, "start_timestamp")
                end = _timestamp_seconds(row["stop_timestamp"], where, "stop_timestamp")
            else:
                try:
                    start, end = int(row["start_frame"]) - 1, int(row["stop_frame"])
                except (TypeError, ValueError):
                    raise SourceInputError(f"{where}: start_frame/stop_frame must be integers") from None
                if start < 0:
                    raise SourceInputError(f"{where}: start_frame {row['start_frame']} (EPIC counts frames from 1)")
            if end <= start:
                raise SourceInputError(
                    f"{where}: segment {clip_id} ends ({row['stop_timestamp']}) before or where it starts "
                    f"({row['start_timestamp']}); fix or remove the line"
                )
            labels = {name: -1 for name in LABEL_COLUMNS}
            if labelled:
                for name, column in LABEL_COLUMNS.items():
                    try:
                        labels[name] = int(row[column])
                    except (TypeError, ValueError):
                        raise SourceInputError(
                            f"{where}: {column} {row[column]!r} is not an integer class id"
                        ) from None
                    if not 0 <= labels[name] < len(label_sets[name]):
                        raise SourceInputError(
                            f"{where}: {column} {labels[name]} is outside {CLASS_FILES[name]} (ids 0..{len(label_sets[name]) - 1}); "
                            "use the class files of the same annotation release"
                        )
            participant, video_id = row["participant_id"].strip(), row["video_id"].strip()
            video = video_index.find(participant, video_id)
            if video is None:
                looked = video_index.candidates(participant, video_id)
                reason = f"video {video_id} not found (looked for {looked[0]} and {looked[-1]})"
                if skip_missing:
                    skipped.append({"file": str(path), "line": line, "reason": reason})
                    continue
                raise SourceInputError(
                    f"{where}: {reason}; download it, or skip the segments of missing videos (skip_missing_videos)"
                )
            clips.append(
                ClipEntry(
                    clip_id=clip_id,
                    path=str(video),
                    labels=labels,
                    start=start,
                    end=end,
                    time_unit=time_unit,
                    extra=(
                        ("participant_id", participant),
                        ("parent_video_id", video_id),
                        ("narration", row.get("narration")),
                        ("start_timestamp", row["start_timestamp"]),
                        ("stop_timestamp", row["stop_timestamp"]),
                    ),
                )
            )
    if not clips and not skipped:
        raise SourceInputError(f"{path}: no segments (the file has only its header)")
    return clips


__all__ = ["read_epic_kitchens", "SPLIT_FILES", "CLASS_FILES"]
