# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Class folders, as `datasets`' videofolder reads them: `root/<split>/<class>/<clip>.<ext>` (or `root/<class>/...`,
all train), or a `metadata.csv` / `metadata.jsonl` with `file_name` and `label` (and any other columns, kept).

Class ids are the sorted class-folder names over all splits, as `load_dataset("videofolder", data_dir=root)`
numbers them; with a metadata file, the sorted label names (or the ids as written, with `class_names`). WebM
files are read too (`datasets`' videofolder skips them: a class whose clips are all WebM is a class here only).
"""

from __future__ import annotations

import os
from pathlib import Path

from .base import ClipEntry, SourceData, SourceInputError
from .common import (
    LabelLookup,
    canonical_split,
    check_unique,
    extra_column_name,
    is_video,
    keep_existing,
    order_splits,
    read_class_names,
    read_table,
    require_path,
    require_rows,
)

METADATA_FILES = ("metadata.csv", "metadata.jsonl")


def split_folders(root: Path) -> dict[str, Path]:
    """The split folders directly under `root` ("train", "val", "validation", "test", ...), by canonical name."""
    found: dict[str, Path] = {}
    for child in sorted(root.iterdir()):
        split = canonical_split(child.name) if child.is_dir() else None
        if split is None:
            continue
        if split in found:
            raise SourceInputError(
                f"{root}: both {found[split].name}/ and {child.name}/ are the {split} split; merge or rename one"
            )
        found[split] = child
    return found


def looks_like_videofolder(root: str | os.PathLike) -> bool:
    """True when `root` is a folder of split or class folders holding videos (for --format auto-detection)."""
    root = Path(root)
    if not root.is_dir():
        return False
    if any((root / name).is_file() for name in METADATA_FILES):
        return True
    for folder in split_folders(root).values() or [root]:
        if any((folder / name).is_file() for name in METADATA_FILES):
            return True
        for child in folder.iterdir():
            if child.is_dir() and any(is_video(p) for p in child.iterdir()):
                return True
    return False


def read_videofolder(
    root: str | os.PathLike, splits: list[str] | None = None, class_names: str | None = None
) -> SourceData:
    """The clips of a videofolder tree (see the module). `splits`: only these; `class_names`: a file naming the
    classes in id order, for a metadata file whose labels are ids."""
    root = require_path(root, "folder", "give the dataset's root folder")
    if not root.is_dir():
        raise SourceInputError(f"{root}: expected a folder of class folders (or split folders of them)")
    folders = split_folders(root) or {"train": root}
    if splits:
        absent = [s for s in splits if s not in folders]
        if absent:
            raise SourceInputError(f"{root}: no folder for split(s) {absent} (found {sorted(folders)})")
        folders = {s: folders[s] for s in splits}
    metadata = _metadata_files(root, folders)
    if metadata:
        return _read_metadata(root, folders, metadata, class_names)

    skipped: list[dict] = []
    found: dict[str, list[tuple[Path, str]]] = {}
    for split, folder in folders.items():
        videos = []
        for directory, subfolders, files in os.walk(folder):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            directory = Path(directory)
            here = [directory / f for f in sorted(files) if is_video(Path(f))]
            if directory == folder:
                if here:
                    raise SourceInputError(
                        f"{here[0]}: a video outside a class folder; move it into {folder}/<class>/ (or add a "
                        "metadata.csv naming its label)"
                    )
                for name in subfolders:
                    if not any(is_video(Path(f)) for _, _, fs in os.walk(directory / name) for f in fs):
                        skipped.append(
                            {"file": str(directory / name), "line": None, "reason": "class folder with no videos"}
                        )
            videos.extend((path, path.parent.name) for path in here)
        found[split] = videos
    names = sorted({label for videos in found.values() for _, label in videos})
    if not names:
        raise SourceInputError(f"{root}: no videos ({', '.join(e for e in ('.mp4', '.webm', '.avi', '.mkv', '.mov'))})")
    index = {name: i for i, name in enumerate(names)}
    result = {}
    for split, videos in found.items():
        result[split] = [
            ClipEntry(str(path.relative_to(folders[split]).with_suffix("")), str(path), {"label": index[label]})
            for path, label in videos
        ]
    require_rows(result, {s: str(f) for s, f in folders.items()})
    return SourceData(
        format="videofolder",
        label_sets={"label": names},
        splits=order_splits(result),
        skipped=skipped,
        description=f"class folders under {root.name}/",
    )


def _metadata_files(root: Path, folders: dict[str, Path]) -> dict[str, Path]:
    """split → its metadata file: in the split's folder, or one at the root for every split."""
    found = {}
    for split, folder in folders.items():
        for name in METADATA_FILES:
            for place in (folder, root):
                if (place / name).is_file() and split not in found:
                    found[split] = place / name
    return found


def _read_metadata(root: Path, folders: dict[str, Path], metadata: dict[str, Path], class_names) -> SourceData:
    tables = {}
    for split, path in metadata.items():
        rows = read_table(path, ("file_name", "label"), "a metadata file with file_name and label columns")
        folder = path.parent
        if folder == root and folders.get(split) != root:  # one root metadata file: rows of this split's folder
            prefix = folders[split].name + "/"
            rows = [(n, r) for n, r in rows if str(r["file_name"]).startswith(prefix)]
        tables[split] = (path, folder, rows)
    raw_labels = [str(r["label"]).strip() for _, _, rows in tables.values() for _, r in rows]
    given = [label for label in raw_labels if label not in ("", "-1")]
    if class_names:
        lookup = LabelLookup(read_class_names(class_names), str(class_names))
    elif given and all(label.isdigit() for label in given):
        lookup = LabelLookup([str(i) for i in range(max(int(x) for x in given) + 1)])
    else:
        lookup = LabelLookup(sorted(set(given)))
    if not lookup.names:
        raise SourceInputError(f"{next(iter(metadata.values()))}: no row has a label")

    extra_columns = []
    for _, _, rows in tables.values():
        for _, row in rows:
            extra_columns.extend(k for k in row if k not in ("file_name", "label") and k not in extra_columns)
    values = {c: [r.get(c) for _, _, rows in tables.values() for _, r in rows] for c in extra_columns}
    features = {extra_column_name(c): infer_feature(values[c]) for c in extra_columns}
    casts = {extra_column_name(c): caster(features[extra_column_name(c)]) for c in extra_columns}

    result, skipped = {}, []
    for split, (path, folder, rows) in tables.items():
        entries, wheres = [], []
        for number, row in rows:
            where = f"{path}, line {number}"
            file_name = str(row["file_name"]).strip()
            label = str(row["label"]).strip()
            extra = tuple((extra_column_name(c), casts[extra_column_name(c)](row.get(c), where)) for c in extra_columns)
            clip_id = str(Path(file_name).with_suffix(""))
            labels = {"label": -1 if label in ("", "-1") else lookup(label, where)}
            entries.append(ClipEntry(clip_id, str(folder / file_name), labels, extra=extra))
            wheres.append(where)
        check_unique(entries, wheres, split)
        result[split] = keep_existing(entries, wheres, split, skipped, "file_name is relative to the metadata file")
    require_rows(result, {s: str(p) for s, (p, _, _) in tables.items()})
    return SourceData(
        format="videofolder",
        label_sets={"label": lookup.names},
        splits=order_splits(result),
        extra_features=features,
        skipped=skipped,
        description=f"videos listed in {', '.join(sorted({p.name for p in metadata.values()}))} under {root.name}/",
    )


def infer_feature(values: list):
    """The `datasets` feature of a metadata column: int64, float64, bool or string from CSV text; JSON values as
    `datasets` infers them."""
    from datasets import Dataset, Value

    present = [v for v in values if v not in (None, "")]
    if present and all(isinstance(v, str) for v in present):
        for kind, test in (("int64", _is_int), ("float64", _is_float)):
            if all(test(v) for v in present):
                return Value(kind)
        return Value("string")
    if not present:
        return Value("string")
    return Dataset.from_dict({"x": values}).features["x"]


def caster(feature):
    from datasets import Value

    if isinstance(feature, Value) and feature.dtype in ("int64", "float64"):
        kind = int if feature.dtype == "int64" else float

        def cast(value, where):
            if value in (None, ""):
                return None
            try:
                return kind(value)
            except (TypeError, ValueError):
                raise SourceInputError(f"{where}: {value!r} is not a number like the rest of its column") from None

        return cast
    return lambda value, where: value


def _is_int(text: str) -> bool:
    try:
        int(text)
        return True
    except ValueError:
        return False


def _is_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
