# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Reading and writing video bytes (RGB clips and frame-aligned depth videos).

Encoding goes through PyAV. Decoding reads only the sampled frames: decord (the default) seeks and decodes
them directly; PyAV, the fallback, seeks to the keyframe before each run of wanted frames and converts only
the wanted ones. Either way the container is first probed with PyAV's demuxer, which reads packet headers
and no pixels: that gives the frame count, catches zero-frame, truncated and undecodable files before a
decoder sees them, and gives every backend the same idea of how many frames a video has.

Every failure that comes from the input itself raises `VideoDecodingError` (a `ValueError`) whose message
starts with the name of the input, so a batch job can catch it per video and log which one was bad.

Why one module: every reader and writer of the containers DEAR uses (decord and PyAV; RGB and lossless depth video)
shares one backend choice and one error type, and saved folders carry this file: splitting it would only add to what
they carry.
"""

from __future__ import annotations

import bisect
import io
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO

import numpy as np

VideoSource = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO


def encode_video(
    frames: np.ndarray,
    fps: float = 12.0,
    codec: str = "libvpx-vp9",
    container: str | None = None,
    options: dict[str, str] | None = None,
) -> bytes:
    """Encode RGB frames (T, H, W, 3) uint8 into a video file held in memory.

    `codec` picks the container unless `container` is given: VP9/VP8 go in WebM (as SSv2 ships),
    everything else in MP4.
    """
    av = _import_av()

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"encode_video expects (T, H, W, 3) uint8 frames, got {frames.shape} {frames.dtype}")
    if len(frames) == 0:
        raise ValueError("encode_video got zero frames")
    container = container or ("webm" if codec.startswith("libvpx") else "mp4")
    height, width = frames.shape[1:3]
    buffer = io.BytesIO()
    # bitexact: without it the WebM muxer writes random segment/track UIDs, and equal frames would give
    # different bytes on every call
    with av.open(buffer, mode="w", format=container, options={"fflags": "+bitexact"}) as output:
        stream = output.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = dict(options or {})
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


# Depth is stored as an H.264 video whose luma plane carries the uint8 inverse depth and whose chroma is
# flat grey. qp=0 makes the luma plane lossless, so a decoded depth frame equals the estimate bit for bit.
# tune=fastdecode (CAVLC instead of CABAC, no deblocking, no weighted prediction) cuts the decode cost of
# lossless H.264, whose time goes into entropy-decoding many residuals, to about that of the clip's VP9 RGB
# video, for somewhat more bytes. Lossy H.264 (crf 10 + fastdecode) would be smaller and as fast to read, at
# a small error on object edges; `encode_depth_video(options=...)` and `examples/prepare_ssv2.py --depth_crf`
# offer it, but the default stays exact, so that stored depth equals the estimate (and on-the-fly depth)
# level for level. bench/depth_storage.py measures size, decode time and error of each choice.
DEPTH_CODEC = "libx264"
DEPTH_CODEC_OPTIONS = {"qp": "0", "preset": "veryfast", "tune": "fastdecode"}


def encode_depth_video(
    depth: np.ndarray,
    fps: float = 12.0,
    codec: str = DEPTH_CODEC,
    options: dict[str, str] | None = None,
) -> bytes:
    """Encode uint8 depth maps (T, H, W) into a frame-aligned grey video (MP4) held in memory."""
    depth = np.asarray(depth)
    if depth.ndim != 3 or depth.dtype != np.uint8:
        raise ValueError(f"encode_depth_video expects (T, H, W) uint8 depth maps, got {depth.shape} {depth.dtype}")
    if len(depth) == 0:
        raise ValueError("encode_depth_video got zero frames")
    encoder = DepthVideoEncoder(depth.shape[1], depth.shape[2], fps=fps, codec=codec, options=options)
    try:
        encoder.write(depth)
    except BaseException:
        encoder.close()
        raise
    return encoder.finish()


class DepthVideoEncoder:
    """`encode_depth_video` fed in pieces: `write` (T, H, W) uint8 chunks, then `finish()` for the MP4 bytes.

    Long clips are encoded as their depth is estimated, so memory holds one chunk of maps, not the clip; the
    bytes equal those of `encode_depth_video` on the whole clip.
    """

    def __init__(
        self,
        height: int,
        width: int,
        fps: float = 12.0,
        codec: str = DEPTH_CODEC,
        options: dict[str, str] | None = None,
    ):
        av = _import_av()

        self.height, self.width = int(height), int(width)
        self.frames = 0
        self._buffer = io.BytesIO()
        self._output = av.open(self._buffer, mode="w", format="mp4")
        try:
            self._stream = self._output.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
            # yuv420p needs even sides: pad by edge replication, the reader crops back using the stored size
            self._stream.height, self._stream.width = self.height + self.height % 2, self.width + self.width % 2
            # full-range ("j") YUV, so that readers converting to RGB map luma 0..255 to grey 0..255 unchanged
            self._stream.pix_fmt = "yuvj420p"
            self._stream.options = dict(DEPTH_CODEC_OPTIONS if options is None else options)
        except BaseException:
            self._output.close()
            raise
        self._chroma = np.full((self._stream.height // 2, self._stream.width // 2), 128, dtype=np.uint8)

    def write(self, depth: np.ndarray) -> None:
        av = _import_av()

        depth = np.asarray(depth)
        if depth.ndim != 3 or depth.dtype != np.uint8 or depth.shape[1:] != (self.height, self.width):
            raise ValueError(
                f"DepthVideoEncoder expects (T, {self.height}, {self.width}) uint8 depth maps, "
                f"got {depth.shape} {depth.dtype}"
            )
        if self.height % 2 or self.width % 2:
            depth = np.pad(depth, ((0, 0), (0, self.height % 2), (0, self.width % 2)), mode="edge")
        for plane in depth:
            frame = av.VideoFrame(plane.shape[1], plane.shape[0], "yuvj420p")
            frame.planes[0].update(_pad_to_linesize(plane, frame.planes[0].line_size))
            frame.planes[1].update(_pad_to_linesize(self._chroma, frame.planes[1].line_size))
            frame.planes[2].update(_pad_to_linesize(self._chroma, frame.planes[2].line_size))
            for packet in self._stream.encode(frame):
                self._output.mux(packet)
        self.frames += len(depth)

    def finish(self) -> bytes:
        if self.frames == 0:
            self.close()
            raise ValueError("encode_depth_video got zero frames")
        for packet in self._stream.encode():
            self._output.mux(packet)
        self._output.close()
        return self._buffer.getvalue()

    def close(self) -> None:
        """Drop an unfinished video (after an error)."""
        try:
            self._output.close()
        except Exception:
            pass


def _pad_to_linesize(plane: np.ndarray, line_size: int) -> bytes:
    if plane.shape[1] == line_size:
        return np.ascontiguousarray(plane).tobytes()
    padded = np.zeros((plane.shape[0], line_size), dtype=np.uint8)
    padded[:, : plane.shape[1]] = plane
    return padded.tobytes()


# ---------------------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------------------

BACKENDS = ("auto", "decord", "pyav")


class VideoDecodingError(ValueError):
    """An input video could not be read. `str(error)` starts with the input's name (a path, or the id the
    caller passed for in-memory bytes), followed by what was found."""

    def __init__(self, source_name: str, reason: str):
        self.source_name = source_name
        self.reason = reason
        super().__init__(f"{source_name}: {reason}")


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about its first video stream, checked against its packets.

    `num_frames` counts the stream's packets (one per displayed frame for WebM/VP9 and MP4/H.264), so it is
    exact without decoding; `fps` is the stream's average rate (0.0 when the container gives none);
    `height` and `width` are the coded frame size.
    """

    num_frames: int
    fps: float
    height: int
    width: int
    codec: str = ""
    pix_fmt: str = ""


def from_dataset_video(source):
    """A `datasets.Video(decode=False)` value, `{"bytes": ..., "path": ...}` (how the prepared and synthetic
    datasets store `video` and `depth`), as its bytes, or its path when it holds none; anything else as it is."""
    if isinstance(source, dict) and ("bytes" in source or "path" in source):
        if source.get("bytes") is not None:
            return source["bytes"]
        if source.get("path") is not None:
            return source["path"]
        raise VideoDecodingError("<datasets.Video value>", "neither bytes nor path: {'bytes': None, 'path': None}")
    return source


def source_name(source: VideoSource, name: str | None = None) -> str:
    """The name used in error messages: `name` when given, else the path, else a placeholder."""
    if name is not None:
        return str(name)
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    file_name = getattr(source, "name", None)
    return str(file_name) if isinstance(file_name, (str, os.PathLike)) else "<file object>"


class _Input:
    """An input resolved once, so that the probe and the decoder each get a fresh, rewound stream."""

    def __init__(self, source: VideoSource, name: str | None):
        source = from_dataset_video(source)
        self.name = source_name(source, name)
        self.path: str | None = None
        self.data: bytes | None = None
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            if not os.path.exists(path):
                raise VideoDecodingError(self.name, "no such file")
            if os.path.isdir(path):
                raise VideoDecodingError(self.name, "is a directory, not a video file")
            if os.path.getsize(path) == 0:
                raise VideoDecodingError(self.name, "empty file (0 bytes)")
            self.path = path
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self.data = bytes(source)
        elif hasattr(source, "read"):
            # Clips are small (SSv2: 19.4 GB for 220,847 videos, ~90 kB each) and the probe and the decoder
            # both start from the beginning, so holding the bytes is simpler than rewinding a shared handle.
            self.data = source.read()
            if not isinstance(self.data, (bytes, bytearray)):
                raise TypeError(f"{self.name}: file objects must be opened in binary mode")
            self.data = bytes(self.data)
        else:
            raise TypeError(f"a video source is a path, bytes or a binary file object; got {type(source).__name__}")
        if self.data is not None and len(self.data) == 0:
            raise VideoDecodingError(self.name, "empty input (0 bytes)")

    def open(self):
        return self.path if self.path is not None else io.BytesIO(self.data)


def _import_av():
    try:
        import av
    except ImportError as error:  # an environment problem, not a bad video: let it propagate as is
        raise ImportError(
            "decoding videos needs a video decoder, PyAV or decord, and neither is installed: install the `video` "
            "extra (pip install 'dear-video[video]'), or pip install 'av>=12' (or 'decord>=0.6' for backend='decord')"
        ) from error
    return av


def _import_decord():
    try:
        # decord loads its own FFmpeg build with global symbols; when it comes first, PyAV's libvpx-vp9
        # encoder later fails to open ("Invalid argument"). Loading PyAV first keeps both working.
        import av  # noqa: F401
    except ImportError:
        pass
    try:
        import decord
    except ImportError as error:
        raise ImportError(
            "backend='decord' needs decord: install the `video` extra (pip install 'dear-video[video]') or "
            "pip install 'decord>=0.6'"
        ) from error
    return decord


def resolve_backend(backend: str = "auto") -> str:
    """`"auto"` is decord when it is installed, else PyAV (and PyAV again for a video decord fails on)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend != "auto":
        return backend
    try:
        _import_decord()
    except ImportError:
        return "pyav"
    return "decord"


# A container's declared duration may disagree with its packets by a frame through timestamp rounding; a
# file that lost more than this was cut short (an interrupted download or copy) and its tail is missing.
_TRUNCATION_TOLERANCE_FRAMES = 1
_TRUNCATION_TOLERANCE_FRACTION = 0.02


@dataclass(frozen=True)
class _Index:
    info: VideoInfo
    # Presentation timestamps in display order (frame i has pts[i]) and the display positions of the
    # keyframes: what the PyAV reader needs to seek to a keyframe and to recognise the frames it gets back.
    # Empty when the stream's timestamps cannot identify frames (missing or duplicated), in which case the
    # PyAV reader decodes from the start and counts.
    pts: tuple[int, ...]
    keyframes: tuple[int, ...]


# FFmpeg reads still images through its image demuxers ("image2" for image file names, "<codec>_pipe" for
# image bytes, whatever the file is called): a PNG renamed to .webm comes back as one "frame" of a video
# stream. Real containers holding one frame (a 1-frame WebM, an MJPEG AVI) use a container demuxer.
_IMAGE_NAMES = {"png": "PNG", "mjpeg": "JPEG", "bmp": "BMP", "webp": "WebP", "tiff": "TIFF", "gif": "GIF"}


def _is_still_image(format_name: str) -> bool:
    return format_name in ("image2", "image2pipe") or format_name.endswith("_pipe")


def _probe(resolved: _Input, strict: bool = True) -> _Index:
    av = _import_av()
    name = resolved.name
    try:
        container = av.open(resolved.open(), metadata_errors="ignore")
    except av.FFmpegError as error:
        raise VideoDecodingError(name, f"not a readable video container ({error})") from None
    with container:
        if _is_still_image(container.format.name):
            codec = container.streams.video[0].codec_context if container.streams.video else None
            kind = _IMAGE_NAMES.get(codec.name if codec is not None else "", "a still image")
            raise VideoDecodingError(
                name, f"is an image ({kind}), not a video; give a video file (e.g. WebM or MP4) instead"
            )
        if not container.streams.video:
            kinds = sorted({stream.type for stream in container.streams})
            found = f"streams found: {', '.join(kinds)}" if kinds else "the container holds no streams or frames"
            raise VideoDecodingError(name, f"no video stream ({found})")
        stream = container.streams.video[0]
        context = stream.codec_context
        if context is None:
            # FFmpeg reports an unknown codec and a stream header cut off by truncation alike: say both
            raise VideoDecodingError(
                name, "unsupported codec, or a truncated/damaged file: FFmpeg found no decoder for the video stream"
            )
        entries = []
        try:
            for packet in container.demux(stream):
                if packet.size:
                    entries.append((packet.pts, bool(packet.is_keyframe), packet.duration))
        except av.FFmpegError as error:
            if not entries:
                raise VideoDecodingError(name, f"cannot read video packets ({error})") from None
            # packets up to the damage are usable; the duration check below decides whether too much is lost
        num_frames = len(entries)
        if num_frames == 0:
            raise VideoDecodingError(name, f"contains no video frames (codec {context.name})")
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        height, width = context.height, context.width
        if not height or not width:
            raise VideoDecodingError(name, f"video stream has no frame size (codec {context.name})")

        if strict:
            _check_not_truncated(name, container, stream, entries, fps)

        pts_list = [pts for pts, _, _ in entries]
        if any(pts is None for pts in pts_list) or len(set(pts_list)) != len(pts_list):
            ordered, keyframes = (), ()
        else:
            order = sorted(range(num_frames), key=pts_list.__getitem__)
            ordered = tuple(pts_list[i] for i in order)
            keyframes = tuple(position for position, i in enumerate(order) if entries[i][1])
            if not keyframes or keyframes[0] != 0:
                keyframes = (0,) + keyframes
        info = VideoInfo(num_frames, fps, height, width, context.name, context.format.name if context.format else "")
        return _Index(info, ordered, keyframes)


def _check_not_truncated(name: str, container, stream, entries: list, fps: float) -> None:
    """Raise when fewer frames are present than the container declares (a file cut short).

    A count the container stores (MP4's sample table) is compared with the packets. A count derived from a
    duration is a guess: a variable-frame-rate video (a WebM from a phone or a screen recorder) holds fewer or
    more frames than duration x nominal rate. So a duration is compared as a time: with the span the packets'
    timestamps cover, which a cut file falls short of and a VFR one does not.
    """
    num_frames = len(entries)
    if stream.frames:
        declared = stream.frames
        if declared - num_frames > max(_TRUNCATION_TOLERANCE_FRAMES, _TRUNCATION_TOLERANCE_FRACTION * declared):
            raise VideoDecodingError(
                name, f"truncated or damaged: the container declares {declared} frames, only {num_frames} are present"
            )
        return
    if stream.duration and stream.time_base:
        declared_seconds = float(stream.duration * stream.time_base)
    elif container.duration and len(container.streams) == 1:
        # only trusted when nothing else (an audio track) can make the container longer than the video
        declared_seconds = container.duration / 1_000_000
    else:
        return
    timed = [(pts, duration) for pts, _, duration in entries if pts is not None]
    if not fps or not stream.time_base or len(timed) != num_frames:
        return  # no timestamps to measure the span with
    starts = sorted(pts for pts, _ in timed)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False) if b > a]
    last = max(
        timed, key=lambda entry: entry[0]
    )  # the frame shown last, and for how long (its packet's duration, else a typical gap)
    last_duration = last[1] or (sorted(gaps)[len(gaps) // 2] if gaps else 0)
    covered = float((last[0] + last_duration - starts[0]) * stream.time_base)
    tolerance = max(_TRUNCATION_TOLERANCE_FRAMES / fps, _TRUNCATION_TOLERANCE_FRACTION * declared_seconds)
    if declared_seconds - covered > tolerance:
        raise VideoDecodingError(
            name,
            f"truncated or damaged: the container declares {round(declared_seconds * fps)} frames "
            f"({declared_seconds:.2f} s), only {num_frames} are present ({covered:.2f} s)",
        )


def probe_video(source: VideoSource, name: str | None = None, strict: bool = True) -> VideoInfo:
    """Frame count, frame rate and frame size of a video, read from its container without decoding pixels.

    Raises `VideoDecodingError` for a missing path, a directory, an empty, unreadable, zero-frame or
    truncated file (fewer packets than the declared duration holds; `strict=False` skips that check), or a
    stream FFmpeg cannot decode. `name` replaces the path or "<bytes>" in error messages.
    """
    return _probe(_Input(source, name), strict=strict).info


def _check_indices(indices, num_frames: int, name: str) -> np.ndarray:
    array = np.asarray(indices)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(
            f"{name}: frame indices must be a 1-D sequence of integers, got shape {array.shape} {array.dtype}"
        )
    if array.size == 0:
        raise ValueError(f"{name}: no frame indices given")
    if array.min() < 0 or array.max() >= num_frames:
        raise VideoDecodingError(
            name,
            f"frame index out of range: asked for {array.min()}..{array.max()}, the video has {num_frames} frames",
        )
    return array.astype(np.int64)


def _read_decord(resolved: _Input, index: _Index, indices: np.ndarray, num_threads: int) -> np.ndarray:
    decord = _import_decord()
    try:
        reader = decord.VideoReader(resolved.open(), ctx=decord.cpu(0), num_threads=num_threads)
        if len(reader) != index.info.num_frames:
            raise VideoDecodingError(
                resolved.name,
                f"decord indexes {len(reader)} frames where the container holds {index.info.num_frames} packets",
            )
        frames = reader.get_batch(indices.tolist()).asnumpy()
    except VideoDecodingError:
        raise
    except Exception as error:  # decord reports every failure as a RuntimeError subclass with a C++ trace
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise VideoDecodingError(resolved.name, f"decord failed to decode: {first_line[:300]}") from None
    return frames


def _read_pyav(resolved: _Input, index: _Index, indices: np.ndarray, num_threads: int, format: str) -> np.ndarray:
    av = _import_av()
    wanted = sorted(set(indices.tolist()))
    try:
        try:
            decoded = _decode_pyav(av, resolved, index, wanted, num_threads, format, use_seek=bool(index.pts))
        except _SeekMissed:
            decoded = _decode_pyav(av, resolved, index, wanted, num_threads, format, use_seek=False)
    except av.FFmpegError as error:
        raise VideoDecodingError(resolved.name, f"PyAV failed to decode ({error})") from None
    return np.stack([decoded[i] for i in indices.tolist()])


class _SeekMissed(Exception):
    """A seek landed after the wanted frame (or frames came back unrecognised): decode from the start."""


def _decode_pyav(av, resolved, index, wanted, num_threads, format, use_seek):
    name = resolved.name
    position_of = {pts: i for i, pts in enumerate(index.pts)} if use_seek else None
    out: dict[int, np.ndarray] = {}
    wanted_set = set(wanted)
    with av.open(resolved.open(), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = num_threads
        frames = None
        last = -1  # display position of the last decoded frame
        for target in wanted:
            if target in out:
                continue
            if use_seek:
                keyframe = index.keyframes[bisect.bisect_right(index.keyframes, target) - 1]
                # Seek only when it skips frames: decoding on from `last` is cheaper up to the next keyframe.
                if frames is None or keyframe > last + 1:
                    if frames is not None or keyframe > 0:
                        container.seek(index.pts[keyframe], stream=stream, backward=True, any_frame=False)
                    frames = container.decode(stream)
            elif frames is None:
                frames = container.decode(stream)
            for frame in frames:
                if use_seek:
                    position = position_of.get(frame.pts)
                    if position is None:
                        raise _SeekMissed
                else:
                    position = last + 1
                if position > target and target not in out:
                    raise _SeekMissed
                last = position
                if position in wanted_set and position not in out:
                    out[position] = frame.to_ndarray(format=format)
                if position >= target:
                    break
            else:
                raise VideoDecodingError(
                    name, f"the stream ended after frame {last} although {index.info.num_frames} frames are indexed"
                )
    return out


def read_video_frames(
    source: VideoSource,
    indices,
    backend: str = "auto",
    name: str | None = None,
    num_threads: int = 1,
    strict: bool = True,
) -> np.ndarray:
    """Decode the frames at `indices` (display order, repeats and any order allowed) as (K, H, W, 3) uint8 RGB.

    `source` is a path, bytes, or a binary file object. `backend` is "decord", "pyav", or "auto" (decord when
    installed). `num_threads` is per decoder: data loaders parallelise over videos, so one thread each is the
    efficient default. Bad input raises `VideoDecodingError` naming `name` (or the path / "<bytes>").
    """
    return open_video(source, name=name, backend=backend, num_threads=num_threads, strict=strict).read(indices)


def read_depth_frames(
    source: VideoSource,
    indices,
    backend: str = "auto",
    name: str | None = None,
    size: tuple[int, int] | None = None,
    num_threads: int = 1,
    strict: bool = True,
) -> np.ndarray:
    """Decode frames of a depth video written by `encode_depth_video` as (K, H, W) uint8.

    `size` = (height, width) of the RGB clip crops away the edge row/column `encode_depth_video` adds to
    odd-sized maps.
    """
    return open_video(source, name=name, backend=backend, num_threads=num_threads, strict=strict).read_depth(
        indices, size=size
    )


class VideoFile:
    """One probed video. `info` is known at once; `read`/`read_depth` decode only the frames asked for.

    Opening probes the container (packet headers only), so the frame count is available to choose indices
    before any pixel is decoded, and the bytes are resolved once for both steps.
    """

    def __init__(
        self,
        source: VideoSource,
        name: str | None = None,
        backend: str = "auto",
        num_threads: int = 1,
        strict: bool = True,
    ):
        self._input = _Input(source, name)
        self.name = self._input.name
        self.backend = resolve_backend(backend)
        # decord fails on a few frame widths (16, 24, 48, 72 px wide in decord 0.6) and on some damaged
        # files PyAV can still read; with "auto", PyAV gets a second try before the video is declared bad.
        self._fallback = backend == "auto" and self.backend == "decord"
        self.num_threads = num_threads
        self._index = _probe(self._input, strict=strict)
        self.info = self._index.info

    def read(self, indices) -> np.ndarray:
        indices = _check_indices(indices, self.info.num_frames, self.name)
        if self.backend == "decord":
            try:
                frames = _read_decord(self._input, self._index, indices, self.num_threads)
            except VideoDecodingError as decord_error:
                if not self._fallback:
                    raise
                try:
                    frames = _read_pyav(self._input, self._index, indices, self.num_threads, "rgb24")
                except VideoDecodingError as pyav_error:
                    raise VideoDecodingError(self.name, f"{decord_error.reason}; {pyav_error.reason}") from None
        else:
            frames = _read_pyav(self._input, self._index, indices, self.num_threads, "rgb24")
        if frames.shape != (len(indices), self.info.height, self.info.width, 3):
            raise VideoDecodingError(
                self.name,
                f"decoded frames have shape {frames.shape[1:]}, the container declares "
                f"{self.info.height}x{self.info.width} (frame size changes inside the stream?)",
            )
        return frames

    def read_depth(self, indices, size: tuple[int, int] | None = None) -> np.ndarray:
        rgb = self.read(indices)
        # Depth videos are written with flat grey chroma in full range, which both decoders turn into R=G=B
        # equal to the stored depth; anything else means this is not a depth video. One frame tells, and
        # checking all of them would cost more than decoding them.
        first = rgb[0].astype(np.int16)
        spread = int(max(np.abs(first[..., 0] - first[..., 1]).max(), np.abs(first[..., 0] - first[..., 2]).max()))
        if spread > 1:
            raise VideoDecodingError(self.name, f"not a grey depth video: colour channels differ by up to {spread}")
        depth = rgb[..., 0]
        if size is not None:
            height, width = (int(s) for s in size)
            stored = depth.shape[1:]
            # encode_depth_video pads odd sides by one row/column; more than that is a different clip
            if not (0 <= stored[0] - height <= 1 and 0 <= stored[1] - width <= 1):
                raise VideoDecodingError(
                    self.name, f"depth frames are {stored[0]}x{stored[1]}, expected {height}x{width} (the RGB size)"
                )
            depth = depth[:, :height, :width]
        return np.ascontiguousarray(depth)


def open_video(
    source: VideoSource, name: str | None = None, backend: str = "auto", num_threads: int = 1, strict: bool = True
) -> VideoFile:
    """Probe `source` and return a `VideoFile` to read sampled frames from (see `read_video_frames`)."""
    return VideoFile(source, name=name, backend=backend, num_threads=num_threads, strict=strict)


def check_aligned(rgb_info: VideoInfo, depth_info: VideoInfo, name: str) -> None:
    """Raise `VideoDecodingError` unless a depth video can be read frame for frame beside its RGB clip:
    same frame count, and the same size up to the one-pixel padding `encode_depth_video` adds to odd sides."""
    if rgb_info.num_frames != depth_info.num_frames:
        raise VideoDecodingError(
            name, f"depth has {depth_info.num_frames} frames but the RGB video has {rgb_info.num_frames}"
        )
    if not (0 <= depth_info.height - rgb_info.height <= 1 and 0 <= depth_info.width - rgb_info.width <= 1):
        raise VideoDecodingError(
            name,
            f"depth frames are {depth_info.height}x{depth_info.width} "
            f"but RGB frames are {rgb_info.height}x{rgb_info.width}",
        )
