# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""An existing `datasets` dataset (a local folder `load_dataset` reads, `save_to_disk` output, or a Hub id) with a
video column (paths, `{"bytes", "path"}` dicts or a `Video` feature) and a label column (`ClassLabel`, strings or
integers). Depth is added; every other column is kept (a name the prepared dataset uses itself gets `source_`).

The video column is read as `Video(decode=False)`, so nothing needs torchcodec. Videos held as bytes are written
once to `video_cache` (one file per row), since the preparation reads files.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .base import ClipEntry, SourceData, SourceInputError
from .common import canonical_split, extra_column_name, keep_existing, order_splits, require_rows

VIDEO_COLUMN_NAMES = ("video", "videos", "video_path", "path", "file_name", "file")
LABEL_COLUMN_NAMES = ("label", "labels", "class", "action", "category")


def load_source_dataset(name_or_path: str | os.PathLike, config_name: str | None = None, revision: str | None = None):
    """A `DatasetDict` from a `save_to_disk` folder, a folder `load_dataset` reads, or a Hub id."""
    import datasets

    path = Path(name_or_path)
    if path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file()):
        loaded = datasets.load_from_disk(str(path))
    else:
        if not path.exists() and (str(name_or_path).startswith((".", "/")) or str(name_or_path).count("/") > 1):
            raise SourceInputError(f"{name_or_path}: no such folder (nor a Hub dataset id: user/name)")
        try:
            loaded = datasets.load_dataset(str(name_or_path), config_name, revision=revision)
        except Exception as error:
            first = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
            raise SourceInputError(
                f"{name_or_path}: `datasets` cannot load it ({type(error).__name__}: {first})"
            ) from None
    if isinstance(loaded, datasets.Dataset):
        loaded = datasets.DatasetDict({"train": loaded})
    return loaded


def _find_column(features, given: str | None, names, kind, where: str, option: str, video: bool = False) -> str:
    from datasets import Video

    columns = list(features)
    if given:
        if given not in columns:
            raise SourceInputError(f"{where}: no column {given!r} (it has {columns}); fix {option}")
        return given
    if video:
        typed = [c for c in columns if isinstance(features[c], Video)]
        if len(typed) == 1:
            return typed[0]
    for name in names:
        if name in columns:
            return name
    raise SourceInputError(f"{where}: no {kind} column (it has {columns}); name it with {option}")


def read_datasets(
    name_or_path: str | os.PathLike,
    video_cache: str | os.PathLike,
    *,
    video_column: str | None = None,
    label_column: str | None = None,
    splits: list[str] | None = None,
    config_name: str | None = None,
    revision: str | None = None,
    dataset=None,
) -> SourceData:
    """The clips of a `datasets` dataset (see the module). `video_cache`: where videos held as bytes are written.
    `dataset`: an already loaded `DatasetDict` (else it is loaded from `name_or_path`)."""
    from datasets import ClassLabel, Value, Video

    where = str(name_or_path)
    loaded = dataset if dataset is not None else load_source_dataset(name_or_path, config_name, revision)
    if splits:
        absent = [s for s in splits if s not in loaded]
        if absent:
            raise SourceInputError(f"{where}: no split(s) {absent} (it has {list(loaded)})")
        loaded = {s: loaded[s] for s in splits}
    first = next(iter(loaded.values()))
    video_column = _find_column(
        first.features, video_column, VIDEO_COLUMN_NAMES, "video", where, "--video_column", True
    )
    label_column = _find_column(first.features, label_column, LABEL_COLUMN_NAMES, "label", where, "--label_column")
    label_feature = first.features[label_column]
    if isinstance(label_feature, ClassLabel):
        names = list(label_feature.names)
    elif isinstance(label_feature, Value) and label_feature.dtype.startswith(("int", "uint")):
        values = [v for d in loaded.values() for v in d[label_column] if v is not None and v >= 0]
        names = [str(i) for i in range(max(values) + 1)] if values else []
    elif isinstance(label_feature, Value) and label_feature.dtype in ("string", "large_string"):
        names = sorted({v for d in loaded.values() for v in d[label_column] if v})
    else:
        raise SourceInputError(
            f"{where}: label column {label_column!r} is {label_feature}; expected a ClassLabel, strings or integers"
        )
    if not names:
        raise SourceInputError(f"{where}: label column {label_column!r} holds no label")
    index = {name: i for i, name in enumerate(names)}

    base = Path(name_or_path) if Path(name_or_path).is_dir() else None
    extra_columns = [c for c in first.features if c not in (video_column, label_column)]
    extra_features = {extra_column_name(c): first.features[c] for c in extra_columns}
    result, skipped = {}, []
    for split_name, data in loaded.items():
        split = canonical_split(split_name) or split_name
        if isinstance(data.features[video_column], Video):
            data = data.cast_column(video_column, Video(decode=False))
        entries, wheres = [], []
        for number, row in enumerate(data):
            row_where = f"{where}, {split_name} row {number}"
            path = _video_path(row[video_column], row_where, base, Path(video_cache) / split)
            raw = row[label_column]
            if raw is None or (isinstance(raw, int) and raw < 0) or raw == "":
                label = -1
            elif isinstance(raw, str):
                label = index[raw]
            else:
                label = int(raw)
                if label >= len(names):
                    raise SourceInputError(
                        f"{row_where}: label {label} is past the {len(names)} classes {names[:3]}..."
                    )
            extra = tuple((extra_column_name(c), row[c]) for c in extra_columns)
            entries.append(ClipEntry(f"{number:08d}", path, {"label": label}, extra=extra))
            wheres.append(row_where)
        result[split] = keep_existing(entries, wheres, split, skipped, "the video paths must be readable from here")
    require_rows(result, {s: f"{where} ({s})" for s in result})
    return SourceData(
        format="datasets",
        label_sets={"label": names},
        splits=order_splits(result),
        extra_features=extra_features,
        license=getattr(first.info, "license", None) or None,
        skipped=skipped,
        description=f"the `datasets` dataset {Path(str(name_or_path)).name if base else name_or_path}",
    )


def _video_path(value, where: str, base: Path | None, cache: Path) -> str:
    """The file of one row's video: its path, or its bytes written (once) to `cache`."""
    if isinstance(value, str):
        path, data = value, None
    elif isinstance(value, dict) and ("bytes" in value or "path" in value):
        path, data = value.get("path"), value.get("bytes")
    else:
        raise SourceInputError(f"{where}: the video is {type(value).__name__}; expected a path or {{'bytes', 'path'}}")
    if data:
        suffix = Path(path).suffix if path else ".mp4"
        target = cache / f"{hashlib.sha256(data).hexdigest()[:24]}{suffix or '.mp4'}"
        if not target.is_file() or target.stat().st_size != len(data):
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            temporary.write_bytes(data)
            os.replace(temporary, target)
        return str(target)
    if not path:
        raise SourceInputError(f"{where}: the video has neither bytes nor a path")
    if not os.path.isabs(path) and base is not None and (base / path).exists():
        return str(base / path)
    return path
