# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Temporal segments of long videos: a CSV (or TSV, JSON-lines) naming the video, the segment's start and end
(seconds, `HH:MM:SS.ff` timestamps, or frame numbers) and its label. Each segment becomes a clip of its own.

EPIC-Kitchens-100's annotation files are such tables (`narration_id`, `video_id`, `start_timestamp`,
`stop_timestamp`, `verb_class`, `noun_class`, ...): their columns are found without options, and `label_columns`
picks the label (`verb_class`), or several label sets (`verb_class,noun_class`). The table's other columns are kept.
"""

from __future__ import annotations

import os
from pathlib import Path

from .base import ClipEntry, SourceData, SourceInputError
from .common import (
    LabelLookup,
    VideoIndex,
    canonical_split,
    check_unique,
    extra_column_name,
    keep_existing,
    order_splits,
    read_class_names,
    read_table,
    require_rows,
)
from .videofolder import caster, infer_feature

# Column names tried, in order, when none is given.
VIDEO_COLUMNS = ("video", "video_id", "video_path", "path", "file_name", "youtube_id")
START_COLUMNS = {"seconds": ("start", "start_time", "start_timestamp", "time_start"), "frames": ("start_frame",)}
END_COLUMNS = {"seconds": ("end", "end_time", "stop_timestamp", "stop_time", "time_end"), "frames": ("stop_frame",)}
ID_COLUMNS = ("narration_id", "segment_id", "clip_id", "id")


def _pick(columns: list[str], given: str | None, candidates, what: str, path: Path, option: str) -> str:
    if given:
        return given
    for name in candidates:
        if name in columns:
            return name
    raise SourceInputError(f"{path}: no {what} column (it has {columns}); name it with {option}")


def read_segments(
    tables: dict[str | None, str | os.PathLike],
    videos: str | os.PathLike,
    label_columns: str | list[str] = "label",
    *,
    video_column: str | None = None,
    start_column: str | None = None,
    end_column: str | None = None,
    id_column: str | None = None,
    time_unit: str = "seconds",
    class_names: dict[str, str] | str | None = None,
    split_column: str = "split",
) -> SourceData:
    """`tables`: split → annotation file; a key None: one file whose `split_column` (or, without it, "train")
    gives each row's split. `videos`: the folder holding the long videos (found by path or by name without
    extension, anywhere below). `label_columns`: one column (the dataset's `label`), or several (label sets named
    after them, `_class` dropped). `class_names`: a file of class names in id order (for one label column) or
    {column: file}; without it, string labels are numbered in sorted order and integer labels are their own ids."""
    if time_unit not in ("seconds", "frames"):
        raise SourceInputError(f"time unit {time_unit!r}: use 'seconds' or 'frames'")
    if isinstance(label_columns, str):
        label_columns = [c.strip() for c in label_columns.split(",") if c.strip()]
    index = VideoIndex(videos)
    read: dict[str, list[tuple[Path, int, dict]]] = {}
    columns_of: dict[Path, list[str]] = {}
    for split, file in tables.items():
        rows = read_table(file, (), "an annotation table with video, start, end and label columns")
        path = Path(file)
        columns_of[path] = list(dict.fromkeys(k for _, r in rows for k in r)) or []
        for number, row in rows:
            name = split
            if name is None:
                raw = str(row.get(split_column, "train")).strip() or "train"
                name = canonical_split(raw) or ("validation" if raw.lower() == "validate" else None)
                if name is None:
                    raise SourceInputError(f"{path}, line {number}: split {raw!r} is none of train, validation, test")
            else:
                name = canonical_split(split) or split
            read.setdefault(name, []).append((path, number, row))
        if not rows:
            raise SourceInputError(f"{path}: the annotation table has no rows; fill it or leave it out")

    first = next(iter(columns_of))
    columns = columns_of[first]
    video_column = _pick(columns, video_column, VIDEO_COLUMNS, "video", first, "--video_column")
    start_column = _pick(columns, start_column, START_COLUMNS[time_unit], "start", first, "--start_column")
    end_column = _pick(columns, end_column, END_COLUMNS[time_unit], "end", first, "--end_column")
    id_column = id_column or next((c for c in ID_COLUMNS if c in columns), None)
    for path, its_columns in columns_of.items():
        needed = [video_column, start_column, end_column, *label_columns]
        absent = [c for c in needed if c not in its_columns]
        if absent and not (set(absent) <= set(label_columns) and _is_test_table(tables, path)):
            raise SourceInputError(
                f"{path}: no column {', '.join(map(repr, absent))} (it has {its_columns}); name the columns with "
                "--video_column, --start_column, --end_column, --label_column"
            )

    set_names = ["label"] if len(label_columns) == 1 else [c.removesuffix("_class") for c in label_columns]
    lookups = {}
    for set_name, column in zip(set_names, label_columns, strict=True):
        names_file = class_names.get(column) if isinstance(class_names, dict) else class_names
        values = [str(r.get(column, "")).strip() for rows in read.values() for _, _, r in rows]
        values = [v for v in values if v not in ("", "-1")]
        if names_file:
            lookups[set_name] = LabelLookup(read_class_names(names_file), str(names_file))
        elif values and all(v.isdigit() for v in values):
            lookups[set_name] = LabelLookup([str(i) for i in range(max(map(int, values)) + 1)])
        else:
            lookups[set_name] = LabelLookup(sorted(set(values)))

    used = {video_column, start_column, end_column, *label_columns, split_column}
    extra_columns = [c for c in dict.fromkeys(c for cs in columns_of.values() for c in cs) if c not in used]
    extra_columns = [c for c in extra_columns if c != id_column] + ([id_column] if id_column else [])
    all_rows = [r for rows in read.values() for _, _, r in rows]
    renamed = {c: extra_column_name(c, set_names) for c in extra_columns}  # EPIC's `verb` beside the `verb` set
    features = {renamed[c]: infer_feature([r.get(c) for r in all_rows]) for c in extra_columns}
    casts = {name: caster(feature) for name, feature in features.items()}

    skipped: list[dict] = []
    result = {}
    for split, rows in read.items():
        entries, wheres = [], []
        for path, number, row in rows:
            where = f"{path}, line {number}"
            name = str(row[video_column]).strip()
            start = _time(row[start_column], where, time_unit)
            end = _time(row[end_column], where, time_unit)
            if end <= start:
                raise SourceInputError(
                    f"{where}: the segment ends ({row[end_column]}) before it starts ({row[start_column]}); "
                    "fix the row (or the --start_column/--end_column/--time_unit options)"
                )
            labels = {}
            for set_name, column in zip(set_names, label_columns, strict=True):
                raw = str(row.get(column, "")).strip()
                labels[set_name] = -1 if raw in ("", "-1") else lookups[set_name](raw, where)
            found = index.find(name, where)
            video = str(found) if found is not None else str(index.root / name)
            clip_id = str(row[id_column]).strip() if id_column else f"{Path(name).stem}_{start:g}_{end:g}"
            extra = tuple((renamed[c], casts[renamed[c]](row.get(c), where)) for c in extra_columns)
            entries.append(ClipEntry(clip_id, video, labels, start, end, time_unit, extra))
            wheres.append(where)
        check_unique(entries, wheres, split)
        result[split] = keep_existing(entries, wheres, split, skipped, "check --videos (the folder of the videos)")
    require_rows(result, {s: str(rows[0][0]) for s, rows in read.items()})
    return SourceData(
        format="segments",
        label_sets={s: lookups[s].names for s in set_names},
        splits=order_splits(result),
        extra_features=features,
        skipped=skipped,
        description=f"segments of long videos listed in {', '.join(p.name for p in columns_of)}",
    )


def _is_test_table(tables, path: Path) -> bool:
    return any(canonical_split(str(s or "")) == "test" and Path(f) == path for s, f in tables.items())


def _time(raw, where: str, unit: str) -> float:
    from .common import parse_time

    if raw in (None, ""):
        raise SourceInputError(f"{where}: no start or end time")
    return parse_time(raw, where, unit)
