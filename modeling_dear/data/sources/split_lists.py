# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Split lists: one file per split of `path label` lines, as MMAction2 and PySlowFast write them (space or comma;
labels as ids into a class-names file, or as names; paths under a prefix), and the two classic benchmarks' own
files: UCF101's `classInd.txt` with `trainlistNN.txt` / `testlistNN.txt`, HMDB51's `<class>_test_splitN.txt`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .base import ClipEntry, SourceData, SourceInputError
from .common import (
    LabelLookup,
    canonical_split,
    check_unique,
    keep_existing,
    order_splits,
    read_class_names,
    require_path,
    require_rows,
)


def _lines(path: Path) -> list[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceInputError(f"{path}: not UTF-8 text (byte {error.start})") from None
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _fields(line: str) -> list[str]:
    """`path label` (space), `path,label` (comma), `path frames label` (MMAction2 rawframes) or `path` alone."""
    if "," in line:
        return [f.strip() for f in line.split(",")]
    return line.split()


def _clip_id(relative: str) -> str:
    return str(Path(relative).with_suffix(""))


def read_split_lists(
    lists: dict[str, str | os.PathLike],
    data_prefix: str | os.PathLike = "",
    class_names: str | os.PathLike | None = None,
) -> SourceData:
    """`lists`: split name → list file (split names as `datasets` spells them: "val" is "validation").
    `data_prefix`: the folder the list's paths are relative to. `class_names`: one class name per line (or
    `id name` lines) in id order; without it, labels must be names (ids are then the sorted names)."""
    parsed: dict[str, tuple[Path, list[tuple[int, str, str | None]]]] = {}
    for split, file in lists.items():
        name = canonical_split(split)
        if name is None:
            raise SourceInputError(f"{file}: split {split!r} is none of train, validation (val), test")
        path = require_path(file, "list file", "give one `path label` file per split")
        rows = []
        for number, line in _lines(path):
            fields = _fields(line)
            if len(fields) > 2 and fields[1].isdigit() and len(fields) == 3:  # MMAction2 rawframes: path frames label
                fields = [fields[0], fields[2]]
            if len(fields) > 2:
                raise SourceInputError(f"{path}, line {number}: expected `path label`, got {line[:80]!r}")
            label = fields[1] if len(fields) == 2 else None
            if label is None and name != "test":
                raise SourceInputError(f"{path}, line {number}: no label after the path (only a test list may omit it)")
            rows.append((number, fields[0], label))
        parsed[name] = (path, rows)
    given = [label for _, rows in parsed.values() for _, _, label in rows if label is not None]
    if class_names is not None:
        lookup = LabelLookup(read_class_names(class_names), str(class_names))
    elif given and all(re.fullmatch(r"\d+", g) for g in given):
        first_list = next(iter(parsed.values()))[0]
        raise SourceInputError(
            f"{first_list}: the labels are ids; give the class names in id order with --class_names (one per line)"
        )
    else:
        lookup = LabelLookup(sorted(set(given)))
    prefix = Path(data_prefix) if data_prefix else None
    skipped: list[dict] = []
    result = {}
    for split, (path, rows) in parsed.items():
        base = prefix if prefix is not None else path.parent
        entries, wheres = [], []
        for number, relative, label in rows:
            where = f"{path}, line {number}"
            labels = {"label": -1 if label is None else lookup(label, where)}
            entries.append(ClipEntry(_clip_id(relative), str(base / relative), labels))
            wheres.append(where)
        check_unique(entries, wheres, split)
        result[split] = keep_existing(entries, wheres, split, skipped, "check --data_prefix")
    require_rows(result, {s: str(p) for s, (p, _) in parsed.items()})
    return SourceData(
        format="split_lists",
        label_sets={"label": lookup.names},
        splits=order_splits(result),
        skipped=skipped,
        description=f"split lists {', '.join(p.name for p, _ in parsed.values())}",
    )


def read_ucf101(videos: str | os.PathLike, annotations: str | os.PathLike, split_number: int = 1) -> SourceData:
    """UCF101: `videos` holds `<Class>/v_<Class>_gXX_cYY.avi`; `annotations` (ucfTrainTestlist) holds classInd.txt
    (`1 ApplyEyeMakeup`, ...), trainlistNN.txt (`Class/file.avi id`) and testlistNN.txt (`Class/file.avi`: the
    class is the folder)."""
    annotations, videos = require_path(annotations, "folder", "the ucfTrainTestlist folder"), Path(videos)
    names = read_class_names(annotations / "classInd.txt")
    lookup = LabelLookup(names, str(annotations / "classInd.txt"), first_id=1)
    by_name = LabelLookup(names, str(annotations / "classInd.txt"))
    skipped: list[dict] = []
    result, files = {}, {}
    for split, stem in (("train", "trainlist"), ("test", "testlist")):
        path = require_path(annotations / f"{stem}{split_number:02d}.txt", "list file", "check --split_number (1-3)")
        files[split] = str(path)
        entries, wheres = [], []
        for number, line in _lines(path):
            where = f"{path}, line {number}"
            fields = line.split()
            relative = fields[0]
            folder_class = Path(relative).parent.name
            if not folder_class:
                raise SourceInputError(f"{where}: {relative!r} has no class folder (expected Class/file.avi)")
            label = by_name(folder_class, where)
            if len(fields) > 1 and lookup(fields[1], where) != label:
                raise SourceInputError(
                    f"{where}: label {fields[1]} is {names[lookup(fields[1], where)]!r} but the folder is "
                    f"{folder_class!r}; fix the line or classInd.txt"
                )
            entries.append(ClipEntry(_clip_id(relative), str(videos / relative), {"label": label}))
            wheres.append(where)
        check_unique(entries, wheres, split)
        result[split] = keep_existing(entries, wheres, split, skipped, "--videos must be the folder of class folders")
    require_rows(result, files)
    return SourceData(
        format="ucf101",
        label_sets={"label": names},
        splits=result,
        skipped=skipped,
        description=f"UCF101, split {split_number} (classInd.txt, trainlist{split_number:02d}.txt, "
        f"testlist{split_number:02d}.txt)",
    )


HMDB51_SPLIT = {"1": "train", "2": "test", "0": None}


def read_hmdb51(videos: str | os.PathLike, annotations: str | os.PathLike, split_number: int = 1) -> SourceData:
    """HMDB51: `videos` holds `<class>/<name>.avi`; `annotations` (testTrainMulti_7030_splits) holds
    `<class>_test_split<N>.txt` files of `<name>.avi <1|2|0>` lines (1 train, 2 test, 0 unused). Class ids are
    the sorted class names."""
    annotations, videos = require_path(annotations, "folder", "the testTrainMulti_7030_splits folder"), Path(videos)
    pattern = re.compile(rf"^(.+)_test_split{split_number}\.txt$")
    lists = sorted((m.group(1), p) for p in annotations.iterdir() if (m := pattern.match(p.name)))
    if not lists:
        raise SourceInputError(
            f"{annotations}: no <class>_test_split{split_number}.txt files; check the folder and --split_number (1-3)"
        )
    names = [name for name, _ in lists]
    skipped: list[dict] = []
    found: dict[str, tuple[list, list]] = {"train": ([], []), "test": ([], [])}
    for label, (name, path) in enumerate(lists):
        for number, line in _lines(path):
            where = f"{path}, line {number}"
            fields = line.split()
            if len(fields) != 2 or fields[1] not in HMDB51_SPLIT:
                raise SourceInputError(f"{where}: expected `<video>.avi <1|2|0>` (1 train, 2 test, 0 unused)")
            split = HMDB51_SPLIT[fields[1]]
            if split is None:
                continue
            entries, wheres = found[split]
            entries.append(ClipEntry(_clip_id(fields[0]), str(videos / name / fields[0]), {"label": label}))
            wheres.append(where)
    result = {}
    for split, (entries, wheres) in found.items():
        check_unique(entries, wheres, split)
        result[split] = keep_existing(entries, wheres, split, skipped, "--videos must be the folder of class folders")
    require_rows(result, {s: f"{annotations}/*_test_split{split_number}.txt" for s in found})
    return SourceData(
        format="hmdb51",
        label_sets={"label": names},
        splits=result,
        skipped=skipped,
        description=f"HMDB51, split {split_number} (<class>_test_split{split_number}.txt)",
    )
