# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The SSv2 label files: the class names of `labels.json` and the checked annotations of each split file.

The files come from a folder (`labels.json`, `train.json`, ... or `something-something-v2-<name>.json`, also
in a `labels/` subfolder) or from the download's labels zip. A split file's templates are matched to the class
names with their brackets dropped ("Putting [something] into [something]" → "Putting something into
something"); every problem is an `SSv2InputError` naming the file.
"""

from __future__ import annotations

import json
import logging
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..schema import SPLITS, ssv2_label_names
from .errors import SSv2InputError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Annotation:
    """One entry of a split file. `label` is -1 and `template` "" for the unlabelled test split."""

    video_id: str
    label: int
    template: str
    placeholders: tuple[str, ...] = ()


def normalize_template(template: str) -> str:
    """A split file's template → the class name of `labels.json`: brackets dropped, spaces collapsed.

    "Putting [something] into [something]" → "Putting something into something".
    """
    return " ".join(re.sub(r"\[([^\]]*)\]", r"\1", template).split())


class _LabelSource:
    """The four label files, from a folder or from the download's labels zip."""

    def __init__(self, location: str | os.PathLike):
        self.location = Path(location)
        if not self.location.exists():
            raise SSv2InputError(f"{self.location}: no such file or folder (expected the SSv2 label files)")
        self.zip_members: dict[str, str] | None = None
        if self.location.is_file():
            if not zipfile.is_zipfile(self.location):
                raise SSv2InputError(f"{self.location}: expected a folder or a zip holding the SSv2 label JSON files")
            with zipfile.ZipFile(self.location) as archive:
                self.zip_members = {Path(n).name: n for n in archive.namelist() if not n.endswith("/")}

    def _candidates(self, name: str) -> tuple[str, str]:
        return f"something-something-v2-{name}.json", f"{name}.json"

    def describe(self, name: str) -> str:
        first, second = self._candidates(name)
        return f"{self.location / first} (or {second})"

    def _locate(self, name: str) -> tuple[str, str] | None:
        """(display name, zip member or path) of label file `name`, or None when the source lacks it."""
        for candidate in self._candidates(name):
            if self.zip_members is not None:
                if candidate in self.zip_members:
                    member = self.zip_members[candidate]
                    return f"{self.location}:{member}", member
            else:
                for folder in (self.location, self.location / "labels"):
                    if (folder / candidate).is_file():
                        return str(folder / candidate), str(folder / candidate)
        return None

    def find(self, name: str) -> str | None:
        found = self._locate(name)
        return None if found is None else found[0]

    def read(self, name: str):
        """The parsed JSON of label file `name`; errors name the file and, for bad JSON, the position."""
        found = self._locate(name)
        if found is None:
            raise SSv2InputError(f"{self.describe(name)}: label file not found")
        where, member = found
        try:
            if self.zip_members is not None:
                with zipfile.ZipFile(self.location) as archive:
                    raw = archive.read(member)
            else:
                raw = Path(member).read_bytes()
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise SSv2InputError(f"{where}: not UTF-8 text (byte {error.start})") from None
        except OSError as error:
            raise SSv2InputError(f"{where}: cannot be read ({error.strerror or error})") from None
        try:
            return where, json.loads(text)
        except json.JSONDecodeError as error:
            raise SSv2InputError(
                f"{where}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}"
            ) from None


def read_label_names(source: _LabelSource) -> list[str]:
    """Class names in id order from `labels.json` ({"template name": "id"})."""
    where, data = source.read("labels")
    if not isinstance(data, dict) or not data:
        raise SSv2InputError(f"{where}: expected a JSON object mapping template names to ids")
    by_id: dict[int, str] = {}
    for name, value in data.items():
        try:
            index = int(value)
        except (TypeError, ValueError):
            raise SSv2InputError(f"{where}: the id of {name!r} is {value!r}, not an integer") from None
        if index in by_id:
            raise SSv2InputError(f"{where}: id {index} is given to both {by_id[index]!r} and {name!r}")
        by_id[index] = normalize_template(name)
    if sorted(by_id) != list(range(len(by_id))):
        missing = sorted(set(range(len(by_id))) - set(by_id))
        raise SSv2InputError(f"{where}: ids must be 0..{len(by_id) - 1}; missing {missing[:5]}")
    names = [by_id[i] for i in range(len(by_id))]
    packaged = ssv2_label_names()
    if names != packaged:
        differing = sum(a != b for a, b in zip(names, packaged, strict=False)) + abs(len(names) - len(packaged))
        logger.warning(
            "%s: %d classes, %d differ from the package's SSv2 list (%s); using the file's",
            where,
            len(names),
            differing,
            "modeling_dear/data/ssv2_labels.csv",
        )
    return names


def read_split(source: _LabelSource, split: str, label_names: Sequence[str]) -> list[Annotation]:
    """Annotations of one split, checked: ids unique, templates (train/validation) among `label_names`."""
    where, data = source.read(split)
    if not isinstance(data, list):
        raise SSv2InputError(f'{where}: expected a JSON list of {{"id": ...}} entries, got {type(data).__name__}')
    labelled = split != "test"
    index = {name: i for i, name in enumerate(label_names)}
    folded = {name.casefold(): i for i, name in enumerate(label_names)}
    annotations, seen, unknown = [], set(), []
    for position, entry in enumerate(data):
        if not isinstance(entry, dict) or "id" not in entry:
            raise SSv2InputError(f'{where}: entry {position} has no "id" ({str(entry)[:80]})')
        video_id = str(entry["id"]).strip()
        if not video_id or "/" in video_id or video_id.startswith("."):
            raise SSv2InputError(f"{where}: entry {position} has an invalid id {entry['id']!r}")
        if video_id in seen:
            raise SSv2InputError(f"{where}: id {video_id} appears more than once")
        seen.add(video_id)
        if not labelled:
            annotations.append(Annotation(video_id, -1, ""))
            continue
        template = entry.get("template")
        if not isinstance(template, str):
            raise SSv2InputError(f'{where}: id {video_id} has no "template" string')
        name = normalize_template(template)
        label = index.get(name, folded.get(name.casefold()))
        if label is None:
            unknown.append((video_id, template))
            continue
        placeholders = entry.get("placeholders") or []
        if not isinstance(placeholders, list):
            raise SSv2InputError(f'{where}: id {video_id}: "placeholders" must be a list')
        annotations.append(Annotation(video_id, label, template, tuple(str(p) for p in placeholders)))
    if unknown:
        shown = "; ".join(f"id {i}: {t!r}" for i, t in unknown[:5])
        more = f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""
        raise SSv2InputError(
            f"{where}: {len(unknown)} template(s) match none of the {len(label_names)} classes of labels.json "
            f"after removing the brackets: {shown}{more}"
        )
    return annotations


def read_annotations(
    labels: str | os.PathLike, splits: Sequence[str] = SPLITS
) -> tuple[list[str], dict[str, list[Annotation]]]:
    """Label names (labels.json order) and the checked annotations of `splits`, from a folder or zip."""
    for split in splits:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; SSv2 has {SPLITS}")
    source = _LabelSource(labels)
    label_names = read_label_names(source)
    annotations = {split: read_split(source, split, label_names) for split in splits}
    first_split: dict[str, str] = {}
    for split, entries in annotations.items():
        for entry in entries:
            other = first_split.setdefault(entry.video_id, split)
            if other != split:
                raise SSv2InputError(
                    f"{source.find(split)}: id {entry.video_id} is also in the {other} split ({source.find(other)})"
                )
    return label_names, annotations
