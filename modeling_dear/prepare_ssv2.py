"""Build the Something-Something V2 RGB-D dataset from a user's own SSv2 download.

SSv2 may not be redistributed, so DEAR builds its dataset from the files each user downloads from Qualcomm:

* the videos: either the 20 archive parts `20bn-something-something-v2-00` ... `-19` (concatenated, one
  gzipped tar of `20bn-something-something-v2/<id>.webm`), or the folder they extract to;
* the labels: `labels.json` ({"template name": "id"}), `train.json` and `validation.json` (lists of
  {"id", "label", "template", "placeholders"}) and `test.json` (list of {"id"}), named either like that
  (the current download's `labels/` folder, or its zip) or `something-something-v2-<name>.json`.

Every video gets the depth of each of its frames from a monocular depth model (`DepthEstimator`), stored as
a frame-aligned depth video (`video_io.encode_depth_video`). The result is a folder that
`datasets.load_dataset(folder)` reads offline:

    <output_dir>/README.md                            dataset card: splits, data files, features
    <output_dir>/data/train-00000-of-00338.parquet    rows with the columns of `dataset_schema.video_features`
    <output_dir>/data/validation-...parquet, data/test-...parquet     (test: label = -1)
    <output_dir>/prepare_ssv2_report.json             videos that failed or were missing, with the reason
    <output_dir>/.prepare_ssv2/                       plan and per-shard manifests (hidden from `load_dataset`)

The Parquet files carry the features in their schema metadata and the card repeats them, so `label` comes
back as a `ClassLabel` with the 174 template names of `labels.json`.

Scale: the work is cut into shards of `shard_size` videos of one split (sorted by id, so the plan does not
depend on the order of the JSON files or on the number of processes). Under `accelerate launch` each process
(one GPU each, `accelerate.PartialState`) takes every `world_size`-th shard. A shard is written atomically
(temporary file, then rename) and then marked done by a small manifest; a restarted run skips finished
shards, so a crash or Ctrl-C loses at most the shards in flight (one per process). Processes never wait on
a collective: the main process assembles the card and the report once every shard's manifest exists (a
file-system barrier, so that a slow process cannot trip a communication time-out).

Unreadable videos (corrupt, truncated, not a video) and ids without a video file are recorded with their
error and skipped; video files with no label entry are counted and ignored.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import io
import json
import logging
import os
import re
import shutil
import signal
import sys
import tarfile
import threading
import time
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .dataset_schema import COLUMNS, ssv2_label_names, video_features
from .depth_estimation import DEFAULT_DEPTH_MODEL, DepthEstimator
from .video_io import DEPTH_CODEC, DEPTH_CODEC_OPTIONS

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
LABEL_FILES = ("labels", "train", "validation", "test")
VIDEO_EXTENSIONS = (".webm", ".mp4")
ARCHIVE_PREFIX = "20bn-something-something-v2"
DEFAULT_SHARD_SIZE = 500
STATE_DIR = ".prepare_ssv2"  # a leading dot: datasets' data-file resolution skips it
REPORT_FILE = "prepare_ssv2_report.json"
PLAN_VERSION = 1
_PARQUET_ROW_GROUP = 64  # rows per row group: ~10-20 MB of video + depth bytes
# Videos longer than this are not decoded whole: they stream through decode -> depth -> encode in chunks
# (see `_stream_long_video`), so that memory does not grow with a video's length. SSv2 clips have 20-120
# frames and take the batched path, which groups frames of several clips per forward pass.
STREAM_ABOVE_FRAMES = 256
STREAM_CHUNK_FRAMES = 32  # frames per chunk of a streamed video (rounded up to whole depth-model batches)


class SSv2InputError(ValueError):
    """The SSv2 download is incomplete or malformed. The message starts with the file at fault."""


# ------------------------------------------------------------------------------------------------- labels


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
        differing = sum(a != b for a, b in zip(names, packaged)) + abs(len(names) - len(packaged))
        logger.warning(
            "%s: %d classes, %d differ from the package's SSv2 list (%s); using the file's",
            where, len(names), differing, "modeling_dear/ssv2_labels.csv",
        )
    return names


def read_split(source: _LabelSource, split: str, label_names: Sequence[str]) -> list[Annotation]:
    """Annotations of one split, checked: ids unique, templates (train/validation) among `label_names`."""
    where, data = source.read(split)
    if not isinstance(data, list):
        raise SSv2InputError(f"{where}: expected a JSON list of {{\"id\": ...}} entries, got {type(data).__name__}")
    labelled = split != "test"
    index = {name: i for i, name in enumerate(label_names)}
    folded = {name.casefold(): i for i, name in enumerate(label_names)}
    annotations, seen, unknown = [], set(), []
    for position, entry in enumerate(data):
        if not isinstance(entry, dict) or "id" not in entry:
            raise SSv2InputError(f"{where}: entry {position} has no \"id\" ({str(entry)[:80]})")
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
            raise SSv2InputError(f"{where}: id {video_id} has no \"template\" string")
        name = normalize_template(template)
        label = index.get(name, folded.get(name.casefold()))
        if label is None:
            unknown.append((video_id, template))
            continue
        placeholders = entry.get("placeholders") or []
        if not isinstance(placeholders, list):
            raise SSv2InputError(f"{where}: id {video_id}: \"placeholders\" must be a list")
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


# ------------------------------------------------------------------------------------------------- videos


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


def extract_archive(
    parts: Sequence[str | os.PathLike], output_dir: str | os.PathLike, progress: bool = True
) -> Path:
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
                videos.setdefault(stem, Path(entry.path))
    return videos


# ------------------------------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Shard:
    split: str
    index: int
    num_shards: int
    entries: tuple[Annotation, ...]

    @property
    def name(self) -> str:
        return f"{self.split}-{self.index:05d}-of-{self.num_shards:05d}"


def _sort_key(video_id: str):
    return (0, int(video_id), "") if video_id.isdigit() else (1, 0, video_id)


def plan_shards(annotations: dict[str, list[Annotation]], shard_size: int) -> list[Shard]:
    """Every split's entries sorted by id and cut into shards of `shard_size` (all of one split)."""
    if shard_size < 1:
        raise ValueError(f"shard_size must be at least 1, got {shard_size}")
    shards = []
    for split, entries in annotations.items():
        ordered = sorted(entries, key=lambda e: _sort_key(e.video_id))
        count = -(-len(ordered) // shard_size)  # an empty split has no shards
        for k in range(count):
            shards.append(Shard(split, k, count, tuple(ordered[k * shard_size : (k + 1) * shard_size])))
    return shards


# ------------------------------------------------------------------------------------------------- work


@dataclass
class PrepareSummary:
    """What a call did on this process (`videos_*`, `frames`, `bytes_written`, `seconds`) and, on the main
    process once the dataset is assembled, the totals of the whole dataset (`totals`)."""

    output_dir: str
    process_index: int = 0
    num_processes: int = 1
    shards_done: int = 0
    shards_skipped: int = 0
    videos_done: int = 0
    videos_failed: int = 0
    videos_missing: int = 0
    videos_skipped: int = 0  # in shards a previous run finished
    videos_unlabelled: int = 0  # files with no label entry, ignored
    frames: int = 0
    bytes_written: int = 0
    seconds: float = 0.0
    complete: bool = False
    report: str | None = None
    totals: dict = field(default_factory=dict)

    def __str__(self) -> str:
        rate = self.videos_done / self.seconds if self.seconds else 0.0
        frame_rate = self.frames / self.seconds if self.seconds else 0.0
        text = (
            f"process {self.process_index} of {self.num_processes}: {self.videos_done} videos done, "
            f"{self.videos_failed} failed ({self.videos_missing} missing), {self.videos_skipped} skipped as done "
            f"({self.shards_skipped} shards), {self.bytes_written / 1e6:.1f} MB written in {self.seconds:.1f} s "
            f"({rate:.2f} videos/s, {frame_rate:.1f} frames/s)"
        )
        if self.totals:
            t = self.totals
            text += (
                f"\ndataset: {', '.join(f'{s} {n}' for s, n in t['rows'].items())} rows; {t['failed']} failed, "
                f"{t['missing']} missing, {t['unlabelled']} unlabelled videos ignored; "
                f"{t['bytes'] / 1e9:.2f} GB in {self.output_dir}"
            )
        return text


@dataclass
class _Decoded:
    shard: int  # position in this process's shard list
    position: int  # position in the shard
    entry: Annotation
    path: str | None
    data: bytes | None = None
    info: object = None
    frames: np.ndarray | None = None
    error: str | None = None
    missing: bool = False
    long: bool = False  # longer than STREAM_ABOVE_FRAMES: frames are left to `_stream_long_video`


class _DecodeVideos:
    """Map-style: item i = the i-th video of this process's work, read and decoded (all frames), or the
    reason it could not be. Runs in DataLoader workers."""

    def __init__(self, items: list[tuple[int, int, Annotation, str | None]], folder: Path, backend: str,
                 stream_above: int | None = None):
        self.items, self.folder, self.backend = items, folder, backend
        self.stream_above = stream_above

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> _Decoded:
        from .video_io import open_video

        shard, position, entry, path = self.items[i]
        result = _Decoded(shard, position, entry, path)
        if path is None:
            result.error = f"{self.folder / (entry.video_id + '.webm')}: no video file for this id"
            result.missing = True
            return result
        try:
            with open(path, "rb") as handle:
                result.data = handle.read()
            video = open_video(result.data, name=path, backend=self.backend)
            result.info = video.info
            if self.stream_above is not None and video.info.num_frames > self.stream_above:
                result.long = True
            else:
                result.frames = video.read(np.arange(video.info.num_frames))
        except OSError as error:
            result.error = f"{path}: cannot be read ({error.strerror or error})"
        except Exception as error:  # any decoder failure is the video's, never the job's
            message = str(error)
            result.error = message if message.startswith(str(path)) else f"{path}: {type(error).__name__}: {message}"
        if result.error:
            result.data = result.frames = None
        return result


def _identity(item):
    return item


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _exit_with_parent(parent_pid: int, worker_id: int = 0) -> None:
    """DataLoader `worker_init_fn`: the decode worker dies with the process that started it, however that
    one dies (kill -9 included). Without this, a worker whose parent was killed waits forever to hand over
    its decoded frames (its queue's feeder thread blocks on a pipe nobody reads), holding its memory.

    Linux: the kernel sends SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG). Everywhere: a daemon
    thread polls the parent's pid every half second and ends the process when it has changed."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog below still works
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _loader(dataset: _DecodeVideos, num_workers: int) -> Iterable[_Decoded]:
    if num_workers <= 0:
        return (dataset[i] for i in range(len(dataset)))
    from torch.utils.data import DataLoader

    return DataLoader(dataset, batch_size=None, shuffle=False, num_workers=num_workers, collate_fn=_identity,
                      prefetch_factor=4, worker_init_fn=functools.partial(_exit_with_parent, os.getpid()))


def _depth_fps(info) -> float:
    return float(info.fps) if info.fps else 12.0


def _encode_row(item: _Decoded, depth: np.ndarray, depth_model: str, codec_options: dict | None) -> dict:
    from .video_io import encode_depth_video

    encoded = encode_depth_video(depth, fps=_depth_fps(item.info), options=codec_options)
    return _make_row(item, encoded, depth_model)


def _stream_long_video(item: _Decoded, estimator, codec_options: dict | None, chunk_frames: int,
                       scratch: Path, backend: str = "auto") -> bytes:
    """The depth video of a long clip, made chunk by chunk: decode `chunk_frames` frames, estimate their
    float depth, and (per-clip normalisation) park it as float32 in `scratch` while the clip's min and max
    accumulate; then read it back chunk by chunk, normalise with the clip's min and max and encode. Memory
    holds one chunk, whatever the clip's length; the result equals `estimate_clips([all frames])` level for
    level (the same float predictions, the same normalisation arithmetic, see the tests).

    Raises `_DepthError` around failures of the depth model, so the caller can tell them from bad videos."""
    import torch

    from .depth_estimation import normalize_depth
    from .video_io import DepthVideoEncoder, open_video

    video = open_video(item.data, name=item.path, backend=backend)
    total, (height, width) = video.info.num_frames, (video.info.height, video.info.width)
    normalize = estimator.normalize
    encoder = DepthVideoEncoder(height, width, fps=_depth_fps(video.info), options=codec_options)
    low = high = None
    try:
        with open(scratch, "wb") as parked:
            for start in range(0, total, chunk_frames):
                frames = video.read(np.arange(start, min(start + chunk_frames, total)))
                try:
                    predicted = estimator.predict(frames)
                except Exception as error:
                    raise _DepthError(error) from error
                if normalize == "frame":
                    encoder.write(normalize_depth(predicted, "frame"))
                    continue
                predicted = predicted.float()
                chunk_low, chunk_high = predicted.min(), predicted.max()
                low = chunk_low if low is None else torch.minimum(low, chunk_low)
                high = chunk_high if high is None else torch.maximum(high, chunk_high)
                parked.write(predicted.numpy().tobytes())
        if normalize != "frame":
            # the arithmetic of depth_estimation.normalize_depth_tensor, with the whole clip's min and max
            span = (high - low).clamp_min(torch.finfo(torch.float32).tiny)
            with open(scratch, "rb") as parked:
                for start in range(0, total, chunk_frames):
                    count = min(chunk_frames, total - start) * height * width
                    values = np.fromfile(parked, dtype=np.float32, count=count)
                    if values.size != count:
                        raise OSError(f"{scratch}: parked depth ends early ({values.size} of {count} values)")
                    prediction = torch.from_numpy(values).view(-1, height, width)
                    scaled = ((prediction - low) / span * 255.0).round().clamp_(0, 255)
                    encoder.write(scaled.to(torch.uint8).numpy())
        return encoder.finish()
    except BaseException:
        encoder.close()
        raise
    finally:
        scratch.unlink(missing_ok=True)


class _DepthError(Exception):
    """The depth model failed on a chunk of a long video (the cause is chained)."""


def _make_row(item: _Decoded, encoded: bytes, depth_model: str) -> dict:
    from .video_io import probe_video

    info = item.info
    stored = probe_video(encoded, name=f"{item.path} (depth)").num_frames
    if stored != info.num_frames:
        raise ValueError(f"{item.path}: the depth video has {stored} frames, the RGB video {info.num_frames}")
    entry = item.entry
    return {
        "video_id": entry.video_id,
        "video": item.data,
        "depth": encoded,
        "label": entry.label,
        "template": entry.template,
        "placeholders": list(entry.placeholders),
        "num_frames": info.num_frames,
        "fps": float(info.fps),
        "height": info.height,
        "width": info.width,
        "depth_model": depth_model,
    }


def _write_atomic(path: Path, write, temporary_dir: Path, tag: str) -> None:
    temporary_dir.mkdir(parents=True, exist_ok=True)
    temporary = temporary_dir / f"{path.name}.{tag}.tmp"
    write(temporary)
    os.replace(temporary, path)


def _write_json(path: Path, data, temporary_dir: Path, tag: str) -> None:
    _write_atomic(path, lambda p: p.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n"), temporary_dir, tag)


def _write_parquet(rows: list[dict], features, path: Path, temporary_dir: Path, tag: str) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [features.encode_example({c: r[c] for c in COLUMNS}) for r in rows]  # video bytes -> Video structs
    table = pa.Table.from_pydict({c: [r[c] for r in rows] for c in COLUMNS}, schema=features.arrow_schema)
    # The video and depth bytes, nearly all of a row, are compressed already. Column statistics (min and max
    # of every column chunk) copy the smallest and largest value, which for these columns are whole videos,
    # several times over: with them the writer took 5-6x a row group's bytes (250 MB for one 2,500-frame
    # clip, bench/prepare_memory.py), without them 1x. A dictionary and Snappy copy the bytes again to win
    # nothing on them. The other columns are a few kB per shard either way.
    options = dict(row_group_size=_PARQUET_ROW_GROUP, use_dictionary=False, compression="none",
                   write_statistics=False)
    _write_atomic(path, lambda p: pq.write_table(table, p, **options), temporary_dir, tag)
    return path.stat().st_size


class _DepthFailures:
    """Stops the job when depth estimation fails for many videos in a row: that is the model or the device,
    not the videos."""

    LIMIT = 20

    def __init__(self):
        self.in_a_row = 0

    def record(self, failed: bool, error: BaseException | None = None):
        self.in_a_row = self.in_a_row + 1 if failed else 0
        if self.in_a_row >= self.LIMIT:
            raise RuntimeError(
                f"depth estimation failed for {self.in_a_row} videos in a row; last error: {error}"
            ) from error


def prepare_ssv2(
    videos: str | os.PathLike | Sequence[str | os.PathLike],
    labels: str | os.PathLike,
    output_dir: str | os.PathLike,
    depth_model=DEFAULT_DEPTH_MODEL,
    *,
    splits: Sequence[str] = SPLITS,
    shard_size: int = DEFAULT_SHARD_SIZE,
    batch_size: int = 32,
    num_workers: int = 4,
    encode_threads: int = 2,
    decode_backend: str = "auto",
    depth_codec_options: dict[str, str] | None = None,
    extract_dir: str | os.PathLike | None = None,
    keep_extracted: bool = False,
    retry_failed: bool = False,
    progress: bool = True,
    poll_seconds: float = 10.0,
    **depth_model_kwargs,
) -> PrepareSummary:
    """Build (or resume building) the SSv2 RGB-D dataset in `output_dir`. See the module docstring.

    Args:
        videos: the folder of `<id>.webm` files, or the archive parts (their folder, one part, a list, or
            one whole tar.gz), which are first streamed into `extract_dir`.
        labels: the folder (or zip) with labels.json, train.json, validation.json, test.json.
        output_dir: the dataset folder; `datasets.load_dataset(output_dir)` reads it.
        depth_model: a transformers depth checkpoint (name or path) or a ready `DepthEstimator`.
        splits: which splits to build (only their label files are needed).
        shard_size: videos per Parquet shard: the unit of resumption.
        batch_size: frames per depth-model forward pass.
        num_workers: DataLoader processes that read and decode videos (0: in this process).
        encode_threads: threads encoding depth videos (PyAV releases the GIL while encoding).
        decode_backend: "auto", "decord" or "pyav" (see `video_io`).
        depth_codec_options: FFmpeg options for the depth video (default `video_io.DEPTH_CODEC_OPTIONS`,
            lossless); e.g. `{"crf": "10", "preset": "veryfast", "tune": "fastdecode"}` for ~4x smaller files.
        extract_dir: where archive parts are extracted (default `output_dir/.prepare_ssv2/videos`, deleted
            when the dataset is complete unless `keep_extracted`).
        retry_failed: redo finished shards that recorded failed or missing videos.
        progress: tqdm progress bar (on the local main process).
        poll_seconds: how often the main process checks for the other processes' shards at the end.
        **depth_model_kwargs: passed to `DepthEstimator` (`normalize`, `local_files_only`, ...).

    Returns a `PrepareSummary` (printable) of this process's work; on the main process, with the totals.
    """
    start = time.perf_counter()
    state = _partial_state()
    rank, world = state.process_index, state.num_processes
    output_dir = Path(output_dir)
    work_dir = output_dir / STATE_DIR
    tag = f"rank{rank}-{os.getpid()}"

    # 1. Inputs, checked before anything is written.
    label_names, annotations = read_annotations(labels, splits)
    parts = find_archive_parts(videos)
    features = video_features(label_names)
    codec_options = None if depth_codec_options is None else {str(k): str(v) for k, v in depth_codec_options.items()}
    # a DepthEstimator, or anything with its `estimate_clips`, `name` and `normalize`
    estimator = depth_model if hasattr(depth_model, "estimate_clips") else None
    model_name = estimator.name if estimator is not None else os.fspath(depth_model)
    normalize = getattr(estimator, "normalize", None) or depth_model_kwargs.get("normalize", "clip")
    shards = plan_shards(annotations, shard_size)
    plan = {
        "version": PLAN_VERSION,
        "shard_size": int(shard_size),
        "splits": {
            split: {
                "videos": len(entries),
                "shards": sum(s.split == split for s in shards),
                "ids_sha256": _ids_digest(entries),
            }
            for split, entries in annotations.items()
        },
        "label_names_sha256": hashlib.sha256("\n".join(label_names).encode()).hexdigest(),
        "depth_model": model_name,
        "normalize": normalize,
        "depth_codec": DEPTH_CODEC,
        "depth_codec_options": codec_options or dict(DEPTH_CODEC_OPTIONS),
    }
    plan_path = work_dir / "plan.json"
    replace_plan = False
    if plan_path.exists():
        try:
            changed = _plan_changes(json.loads(plan_path.read_text()), plan)
        except (OSError, json.JSONDecodeError, AttributeError, KeyError, TypeError):
            changed = ["plan.json is unreadable"]
        if changed:
            finished = _finished_shards(work_dir)
            if finished:
                raise SSv2InputError(
                    f"{plan_path}: {output_dir} holds a preparation started with other settings or inputs "
                    f"({'; '.join(changed)}) and {finished} finished shard(s); resume it with the same ones, "
                    f"or write to a new folder"
                )
            replace_plan = True  # nothing was finished under the old plan: nothing to lose
    elif (output_dir / "data").exists() and any((output_dir / "data").iterdir()):
        raise SSv2InputError(f"{output_dir / 'data'}: not empty and not written by prepare_ssv2; choose another folder")

    # Everything else that can fail before the work starts, checked before the plan is written: a plan
    # written by a run that could not start would bind the output folder to that run's (wrong) settings.
    if parts is None:
        _require_videos(videos)
    else:
        _require_archive(parts[0])
    _check_codec_options(codec_options)
    if estimator is None:
        estimator = _load_estimator(depth_model, state.device, batch_size, depth_model_kwargs)
    if replace_plan and state.is_main_process:
        logger.warning("%s: replacing the plan of an earlier run that finished no shard (%s)",
                       plan_path, "; ".join(changed))
        keep = {f"{s.name}.parquet" for s in shards}
        for stale in (output_dir / "data").glob("*.parquet") if (output_dir / "data").is_dir() else ():
            if stale.name not in keep:
                stale.unlink(missing_ok=True)  # unfinished shard of the old plan, no manifest vouches for it
        plan_path.unlink(missing_ok=True)

    for folder in (work_dir / "shards", work_dir / "tmp", output_dir / "data"):
        folder.mkdir(parents=True, exist_ok=True)
    for leftover in (work_dir / "tmp").glob(f"*.rank{rank}-*.tmp"):
        leftover.unlink(missing_ok=True)  # this process's files in flight when a previous run stopped
    if state.is_main_process and not plan_path.exists():
        _write_json(plan_path, plan, work_dir / "tmp", tag)

    # 2. Videos: extract archive parts once (main process), the others wait for the marker.
    if parts is not None:
        folder = Path(extract_dir) if extract_dir is not None else work_dir / "videos"
        if state.is_main_process:
            extract_archive(parts, folder, progress=progress)
        else:
            _wait_for([folder / ".extracted.json"], poll_seconds, "the main process to extract the archive")
    else:
        folder = Path(videos)
    folder, found = index_videos(folder)
    wanted = {e.video_id for entries in annotations.values() for e in entries}
    summary = PrepareSummary(str(output_dir), rank, world)
    summary.videos_unlabelled = sum(1 for video_id in found if video_id not in wanted)
    missing_ids = wanted - set(found)
    if state.is_main_process:
        if summary.videos_unlabelled:
            logger.warning("%s: %d video files have no entry in the label files of %s and are ignored",
                           folder, summary.videos_unlabelled, "/".join(splits))
        if missing_ids:
            logger.warning("%s: %d ids of the label files have no video file (listed in %s)",
                           folder, len(missing_ids), output_dir / REPORT_FILE)

    # 3. This process's shards that are not done yet.
    mine, items = [], []
    for number, shard in enumerate(shards):
        if number % world != rank:
            continue
        manifest = _read_manifest(work_dir, shard)
        if manifest is not None and (manifest["rows"] == 0 or (output_dir / "data" / f"{shard.name}.parquet").exists()):
            if not (retry_failed and manifest["failed"]):
                summary.shards_skipped += 1
                summary.videos_skipped += len(shard.entries)
                continue
        for position, entry in enumerate(shard.entries):
            path = found.get(entry.video_id)
            items.append((len(mine), position, entry, None if path is None else str(path)))
        mine.append(shard)

    if mine:
        _run_shards(mine, items, folder, estimator, model_name, features, codec_options, output_dir, work_dir, tag,
                    num_workers, encode_threads, decode_backend, batch_size, progress and state.is_local_main_process,
                    summary, rank, world)

    # 4. The main process assembles the card and the report once every shard is done.
    summary.seconds = time.perf_counter() - start
    if state.is_main_process:
        manifests = [work_dir / "shards" / f"{s.name}.json" for s in shards]
        if world == 1 and not all(p.exists() for p in manifests):
            unfinished = [p.stem for p in manifests if not p.exists()]
            raise RuntimeError(f"{work_dir}: shards were left unfinished: {unfinished[:5]}")
        _wait_for(manifests, poll_seconds, "the other processes' shards")
        _assemble(output_dir, work_dir, shards, plan, features, splits, summary, folder, tag)
        if parts is not None and extract_dir is None and not keep_extracted:
            shutil.rmtree(work_dir / "videos", ignore_errors=True)
        shutil.rmtree(work_dir / "tmp", ignore_errors=True)
        summary.complete = True
        summary.report = str(output_dir / REPORT_FILE)
    summary.seconds = time.perf_counter() - start
    return summary


def _finished_shards(work_dir: Path) -> int:
    folder = work_dir / "shards"
    return sum(1 for _ in folder.glob("*.json")) if folder.is_dir() else 0


def _require_videos(videos) -> None:
    """A folder of videos must hold some: an empty or wrong folder would otherwise report every id missing."""
    folder, found = index_videos(videos)
    if not found:
        raise SSv2InputError(
            f"{folder}: no {'/'.join(VIDEO_EXTENSIONS)} video files here (nor in a {ARCHIVE_PREFIX} subfolder); "
            f"give the folder of the extracted SSv2 videos or the archive parts {ARCHIVE_PREFIX}-00..19"
        )


def _require_archive(first_part: Path) -> None:
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


def _check_codec_options(codec_options: dict | None) -> None:
    """Encode a 2-frame depth video with the chosen options, so that a bad option fails now, not per video."""
    from .video_io import encode_depth_video

    try:
        encode_depth_video(np.zeros((2, 16, 16), np.uint8), options=codec_options)
    except Exception as error:
        raise SSv2InputError(
            f"depth codec options {codec_options}: {DEPTH_CODEC} refuses them ({type(error).__name__}: {error})"
        ) from None


def _load_estimator(depth_model, device, batch_size: int, kwargs: dict):
    """The `DepthEstimator`, or a one-line `SSv2InputError` naming the model and what to do."""
    name = os.fspath(depth_model)
    try:
        return DepthEstimator(depth_model, device=device, batch_size=batch_size, **kwargs)
    except FileNotFoundError as error:  # model_sources' "the folder does not exist": already one clear line
        raise SSv2InputError(str(error)) from None
    except Exception as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        hint = (
            "check the name, or download it first (huggingface-cli download) when offline"
            if not os.path.exists(name) else "the folder must hold a transformers depth-estimation checkpoint"
        )
        raise SSv2InputError(
            f"{name}: the depth model cannot be loaded ({type(error).__name__}: {first_line}); {hint}"
        ) from None


def _ids_digest(entries: Sequence[Annotation]) -> str:
    ordered = sorted(entries, key=lambda e: _sort_key(e.video_id))
    return hashlib.sha256("\n".join(f"{e.video_id}\t{e.label}" for e in ordered).encode()).hexdigest()


def _partial_state():
    """`accelerate.PartialState`, on CPUs too when launched with `accelerate launch --cpu` (which sets
    ACCELERATE_USE_CPU; PartialState, unlike the Accelerator, does not read it)."""
    from accelerate import PartialState
    from accelerate.utils import parse_flag_from_env

    return PartialState(cpu=parse_flag_from_env("ACCELERATE_USE_CPU"))


def _plan_changes(previous: dict, plan: dict) -> list[str]:
    """What differs between the plan of an earlier run and this one, in words."""
    changes = []
    for key in ("version", "shard_size", "depth_model", "normalize", "depth_codec", "depth_codec_options"):
        if previous.get(key) != plan.get(key):
            changes.append(f"{key}: {previous.get(key)!r} then, {plan.get(key)!r} now")
    if previous.get("label_names_sha256") != plan.get("label_names_sha256"):
        changes.append("labels.json changed")
    before, now = previous.get("splits", {}), plan["splits"]
    if sorted(before) != sorted(now):
        changes.append(f"splits: {sorted(before)} then, {sorted(now)} now")
    for split in sorted(set(before) & set(now)):
        if before[split].get("ids_sha256") != now[split]["ids_sha256"]:
            changes.append(f"the ids or labels of {split}.json changed")
    return changes


def _read_manifest(work_dir: Path, shard: Shard) -> dict | None:
    path = work_dir / "shards" / f"{shard.name}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _wait_for(paths: list[Path], poll_seconds: float, what: str) -> None:
    waiting = [p for p in paths if not p.exists()]
    last_log = time.monotonic()
    while waiting:
        if time.monotonic() - last_log > 300:
            logger.info("waiting for %s (%d files to come, e.g. %s)", what, len(waiting), waiting[0].name)
            last_log = time.monotonic()
        time.sleep(poll_seconds)
        waiting = [p for p in waiting if not p.exists()]


def _run_shards(mine, items, folder, estimator, model_name, features, codec_options, output_dir, work_dir, tag,
                num_workers, encode_threads, decode_backend, batch_size, show_progress, summary, rank, world):
    from tqdm.auto import tqdm

    total_videos = len(items)
    bar = tqdm(total=total_videos, unit="video", dynamic_ncols=True, disable=not show_progress,
               desc=f"depth ({len(mine)} shards" + (f", process {rank} of {world})" if world > 1 else ")"))
    slots: list[list] = [[None] * len(shard.entries) for shard in mine]
    remaining = [len(shard.entries) for shard in mine]
    failures: list[list[dict]] = [[] for _ in mine]
    failed_so_far = 0
    group: list[_Decoded] = []
    group_frames = 0
    flush_at = max(4 * int(batch_size), 64)
    depth_failures = _DepthFailures()
    started = time.perf_counter()
    executor = ThreadPoolExecutor(max(1, encode_threads), thread_name_prefix="depth-encode")

    def fail(shard_number: int, entry: Annotation, path: str | None, error: str, missing: bool = False):
        nonlocal failed_so_far
        failures[shard_number].append(
            {"id": entry.video_id, "split": mine[shard_number].split, "file": path, "error": error, "missing": missing}
        )
        failed_so_far += 1

    def estimate(batch: list[_Decoded]):
        try:
            depths = estimator.estimate_clips([b.frames for b in batch])
            for _ in batch:
                depth_failures.record(False)
        except Exception as error:  # retry one by one so that one bad video does not sink its group
            if len(batch) == 1:
                depths = [error]
            else:
                depths = []
                for b in batch:
                    try:
                        depths.append(estimator.estimate_clips([b.frames])[0])
                    except Exception as single:
                        depths.append(single)
            for d in depths:
                depth_failures.record(isinstance(d, Exception), d if isinstance(d, Exception) else None)
        for b, depth in zip(batch, depths):
            summary.frames += len(b.frames)
            b.frames = None
            if isinstance(depth, Exception):
                fail(b.shard, b.entry, b.path, f"{b.path}: depth estimation failed ({type(depth).__name__}: {depth})")
            else:
                slots[b.shard][b.position] = (executor.submit(_encode_row, b, depth, model_name, codec_options), b.path)

    # long videos stream in chunks of whole forward batches, so that a chunk's frames are batched as they
    # would be on their own; stand-ins without `predict` (float depth) get whole clips as before
    streams = callable(getattr(estimator, "predict", None)) and getattr(estimator, "normalize", None) in ("clip", "frame")
    model_batch = max(1, int(getattr(estimator, "batch_size", batch_size) or batch_size))
    chunk_frames = model_batch * max(1, -(-STREAM_CHUNK_FRAMES // model_batch))

    def stream(item: _Decoded):
        scratch = work_dir / "tmp" / f"{item.entry.video_id}.depth.{tag}.tmp"
        try:
            encoded = _stream_long_video(item, estimator, codec_options, chunk_frames, scratch, decode_backend)
        except _DepthError as wrapped:
            error = wrapped.__cause__
            depth_failures.record(True, error)
            fail(item.shard, item.entry, item.path, f"{item.path}: depth estimation failed ({type(error).__name__}: {error})")
            return
        except OSError:
            raise  # the scratch file (disk full, ...): the job's problem, not the video's
        except Exception as error:  # a decoder or encoder failure is the video's
            message = str(error)
            if not message.startswith(str(item.path)):
                message = f"{item.path}: {type(error).__name__}: {message}"
            fail(item.shard, item.entry, item.path, message)
            return
        depth_failures.record(False)
        summary.frames += item.info.num_frames
        slots[item.shard][item.position] = (executor.submit(_make_row, item, encoded, model_name), item.path)

    def finish(shard_number: int):
        shard = mine[shard_number]
        rows = []
        for position, slot in enumerate(slots[shard_number]):
            if slot is None:
                continue  # failed before depth estimation, already recorded
            future, path = slot
            try:
                rows.append(future.result())
            except Exception as error:
                message = str(error)
                if not message.startswith(str(path)):
                    message = f"{path}: depth video: {type(error).__name__}: {message}"
                fail(shard_number, shard.entries[position], path, message)
        data_file = output_dir / "data" / f"{shard.name}.parquet"
        if rows:
            size = _write_parquet(rows, features, data_file, work_dir / "tmp", tag)
        else:  # no file for an empty shard: datasets' Parquet reader rejects files without rows
            data_file.unlink(missing_ok=True)
            size = 0
        broken = sum(1 for f in failures[shard_number] if not f["missing"])
        missing = sum(1 for f in failures[shard_number] if f["missing"])
        manifest = {
            "shard": shard.name, "split": shard.split, "rows": len(rows), "videos": len(shard.entries),
            "failed": failures[shard_number], "bytes": size, "frames": int(sum(r["num_frames"] for r in rows)),
            "process": rank, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        _write_json(work_dir / "shards" / f"{shard.name}.json", manifest, work_dir / "tmp", tag)
        summary.shards_done += 1
        summary.videos_done += len(rows)
        summary.videos_failed += broken + missing
        summary.videos_missing += missing
        summary.bytes_written += size
        slots[shard_number] = []
        logger.info("%s: %d rows, %d failed, %d missing, %.1f MB", shard.name, len(rows), broken, missing, size / 1e6)

    try:
        decoder = _DecodeVideos(items, folder, decode_backend, STREAM_ABOVE_FRAMES if streams else None)
        for item in _loader(decoder, num_workers):
            if item.error is not None:
                fail(item.shard, item.entry, item.path, item.error, item.missing)
            elif item.long:
                stream(item)
            else:
                group.append(item)
                group_frames += len(item.frames)
            remaining[item.shard] -= 1
            last_of_shard = remaining[item.shard] == 0
            if group and (group_frames >= flush_at or last_of_shard):
                estimate(group)
                group, group_frames = [], 0
            if last_of_shard:
                finish(item.shard)
            bar.update(1)
            elapsed = time.perf_counter() - started
            bar.set_postfix(frames_per_s=f"{summary.frames / max(elapsed, 1e-9):.1f}", failed=failed_so_far,
                            refresh=False)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        bar.close()


def _assemble(output_dir, work_dir, shards, plan, features, splits, summary, folder, tag):
    from datasets.info import DatasetInfo, DatasetInfosDict
    from datasets.splits import SplitDict, SplitInfo
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard, DatasetCardData

    rows = {s: 0 for s in splits}
    nbytes = {s: 0 for s in splits}
    frames = 0
    failed = []
    for shard in shards:
        manifest = _read_manifest(work_dir, shard)
        rows[shard.split] += manifest["rows"]
        nbytes[shard.split] += manifest["bytes"]
        frames += manifest["frames"]
        failed.extend(manifest["failed"])
    missing = [f for f in failed if f["missing"]]
    broken = [f for f in failed if not f["missing"]]
    summary.totals = {"rows": rows, "failed": len(broken), "missing": len(missing),
                      "unlabelled": summary.videos_unlabelled, "bytes": sum(nbytes.values()), "frames": frames}
    report = {
        "failed": [{k: f[k] for k in ("id", "split", "file", "error")} for f in broken],
        "missing": [{k: f[k] for k in ("id", "split", "file", "error")} for f in missing],
        "unlabelled_videos": summary.videos_unlabelled,
        "rows": rows,
        "frames": frames,
        "video_folder": str(folder),
        "settings": {
            k: plan[k] for k in ("shard_size", "depth_model", "normalize", "depth_codec", "depth_codec_options")
        },
    }
    _write_json(output_dir / REPORT_FILE, report, work_dir / "tmp", tag)

    card_data = DatasetCardData(
        license="other", task_categories=["video-classification"],
        pretty_name="Something-Something V2 with estimated depth",
    )
    present = [s for s in splits if rows[s]]  # a split without rows has no data file to point at
    if len(present) < len(splits):
        logger.warning("no rows for split(s) %s: left out of the dataset", [s for s in splits if not rows[s]])
    MetadataConfigs(
        {"default": {"data_files": [{"split": s, "path": f"data/{s}-*"} for s in present]}}
    ).to_dataset_card_data(card_data)
    split_dict = SplitDict()
    for s in present:
        split_dict.add(SplitInfo(name=s, num_examples=rows[s], num_bytes=nbytes[s]))
    DatasetInfosDict({"default": DatasetInfo(features=features, splits=split_dict)}).to_dataset_card_data(card_data)
    body = _CARD.format(
        depth_model=plan["depth_model"], normalize=plan["normalize"], codec=plan["depth_codec"],
        options=json.dumps(plan["depth_codec_options"]), rows=", ".join(f"{s} {rows[s]:,}" for s in present),
        frames=f"{frames:,}", failed=len(broken), missing=len(missing), report=REPORT_FILE,
    )
    card = DatasetCard(f"---\n{card_data.to_yaml()}\n---\n{body}")
    _write_atomic(output_dir / "README.md", lambda p: card.save(str(p)), work_dir / "tmp", tag)


_CARD = """
# Something-Something V2 with estimated depth (DEAR)

Built locally from the user's own SSv2 download with `examples/prepare_ssv2.py` of DEAR. SSv2 is distributed
by Qualcomm under a research licence that forbids redistribution: do not upload this folder.

Rows: {rows} ({frames} frames). {failed} videos could not be read and {missing} ids had no video file; they
are listed in `{report}`.

## Columns

- `video`: the original WebM/VP9 bytes; `video_id`, `num_frames`, `fps`, `height`, `width` from its container.
- `depth`: one depth frame per RGB frame, relative inverse depth (larger = nearer) from `{depth_model}`,
  min-max normalised to 0..255 per {normalize}, stored in the luma plane of a full-range H.264 MP4
  ({codec}, options {options}); read it with `modeling_dear.video_io.read_depth_frames`.
- `label`: class id (`ClassLabel`, the 174 templates of labels.json); -1 on the unlabelled test split.
- `template` (with `[something]` placeholders), `placeholders` (the objects' names); empty on test.
- `depth_model`: the depth estimator.

```python
from datasets import load_dataset
dataset = load_dataset("path/to/this/folder")
```
"""
