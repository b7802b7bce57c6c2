"""Reading and writing video bytes (RGB clips and frame-aligned depth videos).

Encoding goes through PyAV. Decoding (random access to sampled frames) lives here too.
"""

from __future__ import annotations

import io
from fractions import Fraction

import numpy as np


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
    import av

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"encode_video expects (T, H, W, 3) uint8 frames, got {frames.shape} {frames.dtype}")
    if len(frames) == 0:
        raise ValueError("encode_video got zero frames")
    container = container or ("webm" if codec.startswith("libvpx") else "mp4")
    height, width = frames.shape[1:3]
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as output:
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
# flat grey. qp=0 makes the luma plane lossless, so a decoded depth frame equals the estimate bit for bit,
# and any frame is read back as cheaply as an RGB frame of the clip it is aligned with.
DEPTH_CODEC = "libx264"
DEPTH_CODEC_OPTIONS = {"qp": "0", "preset": "veryfast"}


def encode_depth_video(
    depth: np.ndarray,
    fps: float = 12.0,
    codec: str = DEPTH_CODEC,
    options: dict[str, str] | None = None,
) -> bytes:
    """Encode uint8 depth maps (T, H, W) into a frame-aligned grey video (MP4) held in memory."""
    import av

    depth = np.asarray(depth)
    if depth.ndim != 3 or depth.dtype != np.uint8:
        raise ValueError(f"encode_depth_video expects (T, H, W) uint8 depth maps, got {depth.shape} {depth.dtype}")
    if len(depth) == 0:
        raise ValueError("encode_depth_video got zero frames")
    height, width = depth.shape[1:]
    if height % 2 or width % 2:
        # yuv420p needs even sides: pad by edge replication, the reader crops back using the stored size
        depth = np.pad(depth, ((0, 0), (0, height % 2), (0, width % 2)), mode="edge")
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as output:
        stream = output.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.height, stream.width = depth.shape[1:]
        # full-range ("j") YUV, so that readers converting to RGB map luma 0..255 to grey 0..255 unchanged
        stream.pix_fmt = "yuvj420p"
        stream.options = dict(DEPTH_CODEC_OPTIONS if options is None else options)
        chroma = np.full((depth.shape[1] // 2, depth.shape[2] // 2), 128, dtype=np.uint8)
        for plane in depth:
            frame = av.VideoFrame(plane.shape[1], plane.shape[0], "yuvj420p")
            frame.planes[0].update(_pad_to_linesize(plane, frame.planes[0].line_size))
            frame.planes[1].update(_pad_to_linesize(chroma, frame.planes[1].line_size))
            frame.planes[2].update(_pad_to_linesize(chroma, frame.planes[2].line_size))
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def _pad_to_linesize(plane: np.ndarray, line_size: int) -> bytes:
    if plane.shape[1] == line_size:
        return np.ascontiguousarray(plane).tobytes()
    padded = np.zeros((plane.shape[0], line_size), dtype=np.uint8)
    padded[:, : plane.shape[1]] = plane
    return padded.tobytes()
