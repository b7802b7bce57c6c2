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
