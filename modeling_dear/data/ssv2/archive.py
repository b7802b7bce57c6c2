# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Reading the SSv2 videos: the archive parts (streamed, never concatenated on disk) and the folder of videos.

The download's videos come as 20 parts `20bn-something-something-v2-00` ... `-19` of one gzipped tar of
`20bn-something-something-v2/<id>.webm`, or as the folder they extract to. `find_archive_parts` tells which
was given, `extract_archive` streams the parts into a folder (resumably), `index_videos` maps ids to files,
and `require_videos` / `require_archive` refuse a wrong folder or file before any work starts.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import tarfile
import zlib
from collections.abc import Sequence
from pathlib import Path

from .errors import SSv2InputError

logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".webm", ".mp4")
ARCHIVE_PREFIX = "20bn-something-something-v2"


def find_archive_parts(path: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path] | None:
    """The archive parts to read, in order, or None when `path` is a folder of videos.

    Accepts the folder holding `20bn-something-something-v2-00` ... `-NN`, any one part (its siblings are
    found), a list of parts, or one whole `.tar`/`.tar.gz`. Numbered parts must run 00, 01, ... without gaps.
    """
    if not isinstance(path, (str, os.PathLike)):
        parts = [Path(p) for p in path]
        for part in parts:
            if not part.is_file():
                raise SSv2InputError(f"{part}: archive part not found")
        return parts
    path = Path(path)
    if not path.exists():
        raise SSv2InputError(f"{path}: no such file or folder (expected SSv2 videos or archive parts)")
    numbered = re.compile(r"^(.*)-(\d{2})$")
    if path.is_dir():
        parts = sorted(p for p in path.glob(f"{ARCHIVE_PREFIX}-[0-9][0-9]") if p.is_file())
        if not parts:
            return None
    else:
        match = numbered.match(path.name)
        if not match:
            return [path]  # one whole archive
        parts = sorted(p for p in path.parent.glob(f"{match.group(1)}-[0-9][0-9]") if p.is_file())
    numbers = [int(numbered.match(p.name).group(2)) for p in parts]
    if numbers != list(range(len(numbers))):
        gap = next(i for i, n in enumerate(range(len(numbers) + 1)) if i >= len(numbers) or numbers[i] != n)
        stem = numbered.match(parts[0].name).group(1)
        missing = parts[0].parent / f"{stem}-{gap:02d}"
        raise SSv2InputError(f"{missing}: archive part missing (found {len(parts)} parts)")
    return parts


class _ChainedParts(io.RawIOBase):
    """The archive parts read back to back as one stream; remembers which part it is in for errors."""

    def __init__(self, parts: Sequence[Path], on_read=None):
        self.parts = list(parts)
        self.index = 0
        self.handle = open(self.parts[0], "rb")
        self.on_read = on_read

    @property
    def current(self) -> Path:
        return self.parts[min(self.index, len(self.parts) - 1)]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            count = self.handle.readinto(buffer)
            if count:
                if self.on_read:
                    self.on_read(count)
                return count
            if self.index + 1 >= len(self.parts):
                return 0
            self.handle.close()
            self.index += 1
            self.handle = open(self.parts[self.index], "rb")

    def close(self):
        if not self.closed:
            self.handle.close()
        super().close()


def extract_archive(parts: Sequence[str | os.PathLike], output_dir: str | os.PathLike, progress: bool = True) -> Path:
    """Stream the archive parts (never concatenated on disk) and write each video to `output_dir/<id>.webm`.

    Resumable: each file is written to a temporary name and renamed, files already there with the right
    size are not rewritten, and a marker (`.extracted.json`) makes a finished extraction a no-op. A
    truncated or damaged archive raises `SSv2InputError` naming the part; the files extracted so far stay.
    """
    from tqdm.auto import tqdm

    parts = [Path(p) for p in parts]
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    signature = [{"name": p.name, "bytes": p.stat().st_size} for p in parts]
    marker = output_dir / ".extracted.json"
    if marker.exists():
        try:
            if json.loads(marker.read_text()).get("parts") == signature:
                return output_dir
        except (OSError, json.JSONDecodeError):
            pass
    total = sum(s["bytes"] for s in signature)
    bar = tqdm(total=total, unit="B", unit_scale=True, desc="extracting SSv2 videos", disable=not progress)
    stream = _ChainedParts(parts, on_read=bar.update)
    written = kept = 0
    try:
        with tarfile.open(fileobj=io.BufferedReader(stream, 1 << 20), mode="r|*") as archive:
            for member in archive:
                name = Path(member.name).name
                if not member.isfile() or Path(name).suffix.lower() not in VIDEO_EXTENSIONS or name.startswith("."):
                    continue
                target = output_dir / name
                if target.exists() and target.stat().st_size == member.size:
                    kept += 1
                    continue
                source = archive.extractfile(member)
                temporary = output_dir / f".{name}.partial"
                with open(temporary, "wb") as handle:
                    shutil.copyfileobj(source, handle, 1 << 20)
                os.replace(temporary, target)
                written += 1
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise SSv2InputError(
            f"{stream.current}: the archive is damaged or ends early while reading this part "
            f"({type(error).__name__}: {error}); {written + kept} videos extracted so far are kept"
        ) from None
    finally:
        bar.close()
        stream.close()
    marker.write_text(json.dumps({"parts": signature, "videos": written + kept}) + "\n")
    logger.info("extracted %d videos to %s (%d were already there)", written + kept, output_dir, kept)
    return output_dir


def index_videos(folder: str | os.PathLike) -> tuple[Path, dict[str, Path]]:
    """{id: path} of the videos in `folder` (or in its `20bn-something-something-v2` subfolder)."""
    folder = Path(folder)
    nested = folder / ARCHIVE_PREFIX
    videos = _scan(folder)
    if not videos and nested.is_dir():
        folder, videos = nested, _scan(nested)
    return folder, videos


def _scan(folder: Path) -> dict[str, Path]:
    videos = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            stem, suffix = os.path.splitext(entry.name)
            if suffix.lower() in VIDEO_EXTENSIONS and not entry.name.startswith(".") and entry.is_file():
                other = videos.setdefault(stem, Path(entry.path))
                if other.name != entry.name:
                    first, second = sorted((other.name, entry.name))
                    raise SSv2InputError(
                        f"{folder}: two files for video id {stem} ({first} and {second}); keep the one to use "
                        "and move the other away"
                    )
    return videos


def require_videos(videos) -> None:
    """A folder of videos must hold some: an empty or wrong folder would otherwise report every id missing."""
    folder, found = index_videos(videos)
    if not found:
        raise SSv2InputError(
            f"{folder}: no {'/'.join(VIDEO_EXTENSIONS)} video files here (nor in a {ARCHIVE_PREFIX} subfolder); "
            f"give the folder of the extracted SSv2 videos or the archive parts {ARCHIVE_PREFIX}-00..19"
        )


def require_archive(first_part: Path) -> None:
    """The first archive part must start like a (compressed) tar, which is cheap to tell from its head."""
    try:
        with open(first_part, "rb") as handle:
            head = handle.read(512)
    except OSError as error:
        raise SSv2InputError(f"{first_part}: cannot be read ({error.strerror or error})") from None
    compressed = head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"))
    if not (compressed or head[257:262] == b"ustar"):
        raise SSv2InputError(
            f"{first_part}: not a tar or tar.gz archive; give the SSv2 archive parts "
            f"{ARCHIVE_PREFIX}-00..19 (or their folder), or the folder of extracted videos"
        )
