# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Kinetics-style CSVs (`label,youtube_id,time_start,time_end,split`, one file per split or one with a `split`
column): the clips either already trimmed (`<youtube_id>_<start:06d>_<end:06d>.<ext>`, in class folders or flat,
as the download scripts write them) or cut from the full YouTube videos (`<youtube_id>.<ext>`) by
`time_start`/`time_end`, as segments. Class ids are the sorted class names (the published Kinetics order).
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
    keep_existing,
    order_splits,
    parse_time,
    read_class_names,
    read_table,
    require_rows,
)

REQUIRED = ("youtube_id", "time_start", "time_end")


def _split_of(path: Path, row: dict, where: str) -> str:
    raw = str(row.get("split", "")).strip() or path.stem.split("_")[-1]
    split = canonical_split(raw) or ("validation" if raw.lower() == "validate" else None)
    if split is None:
        raise SourceInputError(
            f"{where}: split {raw!r} is none of train, validate/val, test (add a split column or name the file so)"
        )
    return split


def read_kinetics(
    csvs: list[str | os.PathLike],
    videos: str | os.PathLike,
    trimmed: bool | None = None,
    class_names: str | os.PathLike | None = None,
) -> SourceData:
    """`csvs`: the annotation files (train.csv, validate.csv, test.csv; the split comes from a `split` column or
    the file name). `videos`: the folder of the clips (any depth). `trimmed`: True for trimmed clips, False for
    full videos cut by the CSV's times, None to decide by what the folder holds."""
    index = VideoIndex(videos)
    rows_by_split: dict[str, list[tuple[str, dict]]] = {}
    files: dict[str, str] = {}
    for file in csvs:
        path = Path(file)
        rows = read_table(path, REQUIRED, "a Kinetics CSV (label,youtube_id,time_start,time_end,split)")
        if not rows:
            raise SourceInputError(f"{path}: the CSV has no rows; fill it or leave it out")
        for number, row in rows:
            where = f"{path}, line {number}"
            split = _split_of(path, row, where)
            rows_by_split.setdefault(split, []).append((where, row))
            files.setdefault(split, str(path))
    labels = [str(r.get("label", "")).strip() for rows in rows_by_split.values() for _, r in rows]
    if class_names is not None:
        lookup = LabelLookup(read_class_names(class_names), str(class_names))
    else:
        lookup = LabelLookup(sorted({label for label in labels if label}))
    if not lookup.names:
        raise SourceInputError(f"{', '.join(files.values())}: no row has a label (the label column is empty)")

    def trimmed_name(row, where):
        start = int(parse_time(row["time_start"], where))
        end = int(parse_time(row["time_end"], where))
        return f"{row['youtube_id'].strip()}_{start:06d}_{end:06d}"

    if trimmed is None:
        sample = [(w, r) for rows in rows_by_split.values() for w, r in rows[:50]]
        trimmed = any(trimmed_name(r, w) in index.by_stem for w, r in sample) or not any(
            r["youtube_id"].strip() in index.by_stem for _, r in sample
        )

    skipped: list[dict] = []
    result = {}
    for split, rows in rows_by_split.items():
        entries, wheres = [], []
        for where, row in rows:
            start = parse_time(row["time_start"], where)
            end = parse_time(row["time_end"], where)
            if end <= start:
                raise SourceInputError(
                    f"{where}: time_end {row['time_end']} is not after time_start {row['time_start']}"
                )
            raw = str(row.get("label", "")).strip()
            label = {"label": -1 if not raw else lookup(raw, where)}
            clip_id = trimmed_name(row, where)
            if trimmed:
                found = index.find(clip_id, where)
                entry = ClipEntry(clip_id, str(found or index.root / f"{clip_id}.mp4"), label)
            else:
                found = index.find(row["youtube_id"].strip(), where)
                video = str(found or index.root / f"{row['youtube_id'].strip()}.mp4")
                entry = ClipEntry(clip_id, video, label, start, end, "seconds")
            entries.append(entry)
            wheres.append(where)
        check_unique(entries, wheres, split)
        fix = "check --videos" + ("" if trimmed else " (full videos named <youtube_id>.<ext>)")
        result[split] = keep_existing(entries, wheres, split, skipped, fix)
    require_rows(result, files)
    return SourceData(
        format="kinetics",
        label_sets={"label": lookup.names},
        splits=order_splits(result),
        skipped=skipped,
        description=f"Kinetics-style CSV ({', '.join(Path(c).name for c in csvs)}), "
        + ("trimmed clips" if trimmed else "clips cut from the full videos"),
    )
