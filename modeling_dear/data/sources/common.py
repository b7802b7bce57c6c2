# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""What the source readers share: video extensions, split names as `datasets` spells them, tables read with their
line numbers, class names and label lookups whose errors name the file and line, times in seconds."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..schema import COLUMNS, SPLITS
from .base import ClipEntry, SourceInputError

# The extensions of datasets' videofolder (mp4, avi, mkv, mov, mpeg) and WebM (SSv2, Kinetics downloads).
VIDEO_EXTENSIONS = (".mp4", ".webm", ".avi", ".mkv", ".mov", ".mpeg")

# Folder and file names of splits, as `datasets.data_files.SPLIT_KEYWORDS` reads them.
SPLIT_KEYWORDS = {
    "train": ("train", "training"),
    "validation": ("validation", "valid", "val", "dev"),
    "test": ("test", "testing", "eval", "evaluation"),
}

# Columns every prepared dataset has (`data.schema.video_features`) or the preparation may add: a source's own
# column of such a name is kept as `source_<name>`.
RESERVED_COLUMNS = frozenset(COLUMNS) | {"start", "end"}


def canonical_split(name: str) -> str | None:
    """ "train", "validation" or "test" for a split name `datasets` recognises ("val", "valid", "dev", ...)."""
    lowered = name.lower()
    for split, keywords in SPLIT_KEYWORDS.items():
        if lowered in keywords:
            return split
    return None


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS and not path.name.startswith(".")


def extra_column_name(name: str, label_sets=()) -> str:
    """A source's own column's name in the prepared dataset: `source_<name>` where the dataset has a column of that
    name itself (`RESERVED_COLUMNS`, or a label set's)."""
    return f"source_{name}" if name in RESERVED_COLUMNS or name in label_sets else name


def require_path(path: str | os.PathLike, what: str, fix: str = "") -> Path:
    path = Path(path)
    if not path.exists():
        raise SourceInputError(f"{path}: no such {what}" + (f"; {fix}" if fix else ""))
    return path


def read_table(path: str | os.PathLike, required: Sequence[str] = (), what: str = "") -> list[tuple[int, dict]]:
    """Rows of a CSV/TSV (with a header) or JSON-lines file as (line number, {column: text}); the columns in
    `required` must be present (a one-line error lists those that are not, and the file's columns)."""
    path = require_path(path, "file", f"expected {what}" if what else "")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceInputError(f"{path}: not UTF-8 text (byte {error.start})") from None
    rows: list[tuple[int, dict]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise SourceInputError(f"{path}, line {number}: malformed JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise SourceInputError(f"{path}, line {number}: expected a JSON object per line")
            rows.append((number, row))
        columns = list(dict.fromkeys(k for _, row in rows for k in row))
    else:
        first = text.split("\n", 1)[0]
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)  # quoted newlines stay in a field
        columns = [c.strip() for c in reader.fieldnames or []]
        reader.fieldnames = columns
        for row in reader:
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            if None in row:
                raise SourceInputError(
                    f"{path}, line {reader.line_num}: more fields than the {len(columns)} columns of the header"
                )
            rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
    missing = [c for c in required if c not in columns]
    if missing:
        raise SourceInputError(
            f"{path}: no column {', '.join(map(repr, missing))} (it has {columns}); "
            + (f"expected {what}" if what else "name the columns with the options of this format")
        )
    return rows


def read_class_names(path: str | os.PathLike) -> list[str]:
    """Class names in id order from a file of one name per line, `id name` lines (UCF101's classInd.txt, ids
    from 0 or 1, space or comma) or a CSV with `id` and `name` columns."""
    path = require_path(path, "class-names file")
    lines = [(n, line.strip()) for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line]
    if not lines:
        raise SourceInputError(f"{path}: the class-names file is empty")
    header = [c.strip().lower() for c in lines[0][1].split(",")]
    if "id" in header and ("name" in header or "key" in header):  # id,name or EPIC's id,key,instances,category
        column = "name" if "name" in header else "key"
        return _names_by_id(path, [(n, row["id"], row[column]) for n, row in read_table(path, ("id", column))])
    numbered = [re.match(r"^(\d+)[\s,]+(.+)$", line) for _, line in lines]
    if all(numbered):
        return _names_by_id(
            path, [(n, m.group(1), m.group(2).strip()) for (n, _), m in zip(lines, numbered, strict=True)]
        )
    names = [line for _, line in lines]
    _check_unique_names(path, [(n, line) for n, line in lines])
    return names


def _names_by_id(path: Path, entries: list[tuple[int, str, str]]) -> list[str]:
    ids = {}
    for number, raw, name in entries:
        index = int(raw)
        if index in ids:
            raise SourceInputError(f"{path}, line {number}: id {index} is given twice")
        ids[index] = (number, name)
    base = min(ids)
    if base not in (0, 1) or sorted(ids) != list(range(base, base + len(ids))):
        raise SourceInputError(f"{path}: class ids must run 0..N-1 or 1..N without gaps (found {sorted(ids)[:8]}...)")
    _check_unique_names(path, [ids[i] for i in sorted(ids)])
    return [ids[i][1] for i in sorted(ids)]


def _check_unique_names(path: Path, numbered_names: Iterable[tuple[int, str]]) -> None:
    seen: dict[str, int] = {}
    for number, name in numbered_names:
        if name in seen:
            raise SourceInputError(f"{path}, line {number}: class {name!r} is also on line {seen[name]}")
        seen[name] = number


class LabelLookup:
    """A label of a list or table → class id: a class name, or (`ids=True`) an id into `names` (`first_id`: 0,
    or 1 for files that count from 1). An unknown label is a one-line error naming the file and line."""

    def __init__(self, names: Sequence[str], names_file: str | None = None, first_id: int = 0):
        self.names, self.names_file, self.first_id = list(names), names_file, first_id
        self.index = {name: i for i, name in enumerate(self.names)}

    def __call__(self, raw: str, where: str) -> int:
        raw = str(raw).strip()
        if raw in self.index:
            return self.index[raw]
        if re.fullmatch(r"-?\d+", raw):
            value = int(raw) - self.first_id
            if 0 <= value < len(self.names):
                return value
        known = f"{self.names_file}" if self.names_file else f"the {len(self.names)} classes"
        raise SourceInputError(
            f"{where}: label {raw!r} is not among {known} (ids {self.first_id}..{self.first_id + len(self.names) - 1}"
            f" or names like {self.names[0]!r}); fix the label or the class-names file"
        )


def parse_time(raw: str, where: str, unit: str = "seconds") -> float:
    """Seconds (or a frame number) from "12.5", "00:01:02.50" or "1:02"; a one-line error otherwise."""
    raw = str(raw).strip()
    try:
        if ":" in raw and unit == "seconds":
            value = 0.0
            for part in raw.split(":"):
                value = value * 60 + float(part)
            return value
        value = float(raw)
    except ValueError:
        raise SourceInputError(f"{where}: {raw!r} is not a time (seconds, frames or HH:MM:SS.ff)") from None
    if value < 0:
        raise SourceInputError(f"{where}: negative time {raw!r}")
    return value


def check_unique(entries: Sequence[ClipEntry], wheres: Sequence[str], split: str) -> None:
    """The same clip twice in a split (same id, or same file and segment) is a one-line error naming both places."""
    by_id: dict[str, str] = {}
    by_clip: dict[tuple, str] = {}
    for entry, where in zip(entries, wheres, strict=True):
        if entry.clip_id in by_id:
            raise SourceInputError(
                f"{where}: clip {entry.clip_id!r} of the {split} split is also at {by_id[entry.clip_id]}; "
                "remove one of them"
            )
        by_id[entry.clip_id] = where
        key = (os.path.realpath(entry.path), entry.start, entry.end)
        if key in by_clip:
            raise SourceInputError(
                f"{where}: {entry.path} (the same segment) of the {split} split is also at {by_clip[key]}; "
                "remove one of them"
            )
        by_clip[key] = where


def order_splits(splits: dict[str, list]) -> dict[str, list]:
    return {s: splits[s] for s in sorted(splits, key=lambda s: (SPLITS + (s,)).index(s))}


def require_rows(splits: dict[str, list[ClipEntry]], where: dict[str, str]) -> None:
    """A split with no rows is a one-line error naming its file."""
    if not splits:
        raise SourceInputError(f"{', '.join(where.values()) or 'the source'}: no clips found")
    for split, entries in splits.items():
        if not entries:
            raise SourceInputError(
                f"{where.get(split, split)}: the {split} split has no rows; fill it or leave that split out"
            )


def keep_existing(
    entries: list[ClipEntry], wheres: list[str], split: str, skipped: list[dict], fix: str
) -> list[ClipEntry]:
    """The entries whose video file exists; the others go into `skipped` (and the report) with their file and
    line. When none exists, a one-line error: the paths are wrong as a whole (`fix` says what to check)."""
    kept = []
    for entry, where in zip(entries, wheres, strict=True):
        if os.path.isfile(entry.path):
            kept.append(entry)
            continue
        file, _, line = where.partition(", line ")
        skipped.append({"file": file, "line": int(line) if line else None, "reason": f"no video file {entry.path}"})
    if entries and not kept:
        raise SourceInputError(
            f"{wheres[0]}: none of the {len(entries)} {split} videos exists, e.g. {entries[0].path}; {fix}"
        )
    return kept


class VideoIndex:
    """The video files under a folder, found by their name without extension (`P01_01` → `P01/videos/P01_01.MP4`)
    or by their path relative to the folder."""

    def __init__(self, root: str | os.PathLike):
        self.root = require_path(root, "folder", "give the folder of the videos")
        self.by_stem: dict[str, list[Path]] = {}
        for directory, subfolders, files in os.walk(self.root):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            for name in files:
                path = Path(directory) / name
                if is_video(path):
                    self.by_stem.setdefault(path.stem, []).append(path)

    def find(self, name: str, where: str) -> Path | None:
        """The file `name` names (a relative path, or a stem); None when there is none."""
        direct = self.root / name
        if Path(name).suffix and direct.is_file():
            return direct
        key = Path(name).stem if Path(name).suffix.lower() in VIDEO_EXTENSIONS else Path(name).name
        found = self.by_stem.get(key, [])
        if len(found) > 1:
            raise SourceInputError(
                f"{where}: {name!r} matches {len(found)} files ({found[0]}, {found[1]}); name the video by its path"
            )
        return found[0] if found else None
