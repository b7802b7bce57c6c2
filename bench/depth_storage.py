# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""How to store the `depth` column: size, decode cost and error of candidate codecs for uint8 depth clips.

A training step reads 8 sampled frames of the RGB video *and* the same 8 frames of its depth video, so the
depth video should cost about what the RGB one does to decode, be small (SSv2 has ~10 M frames), and give
back the uint8 estimate exactly or nearly so. Every candidate carries the depth in the luma plane (flat
grey chroma, full range) or in a grey plane, so `video_io.read_depth_frames` reads all of them.

Clips are SSv2-shaped (240×427, 45 frames, 12 fps):

* "smooth": a depth-model-like field: a tilted table plane, a slowly drifting low-frequency relief, two
  objects with soft (2-3 px) edges moving across, and camera shake; what DPT/Depth Anything produce.
* "synthetic": ground-truth depth of `data.synthetic.render_clip` (hard object edges: the worst case for a
  lossy codec), 240×428.

The RGB reference is the VP9 WebM of `bench/common.ssv2_like_clip` (SSv2-like bits per frame).
Decoding is timed with `video_io.open_video(...).read_depth(indices)` (probe + decode of the 8 centre
frames of TSN segments, what the data loader does), one decoder thread, best of `--rounds` interleaved
rounds on a shared machine.

    python bench/depth_storage.py [--smooth 4] [--synthetic 1] [--rounds 3]

What it measured (the reason for `video_io.DEPTH_CODEC_OPTIONS`; README, Performance): 8 frames of lossless
H.264 with `tune=fastdecode` decode in 13-16 ms instead of 26-28 ms without it, on a par with the clip's VP9 RGB
video (10-15 ms), for 17 % more bytes (317 vs 271 kB per smooth clip) and a cheaper encode; FFV1 took 32-47 ms,
lossless VP9 53-64 ms. Lossy H.264 (crf 10 + fastdecode) is about 4× smaller (75 kB) and as fast to read, at a
mean error of 0.15 grey level (max 7-13, on object edges).
"""

from __future__ import annotations

import argparse
import io
import platform
import time
from fractions import Fraction

import av  # before decord: see video_io._import_decord
import numpy as np
from common import ssv2_like_clip

from modeling_dear.video_io import encode_depth_video, encode_video, open_video

HEIGHT, WIDTH, FRAMES, FPS = 240, 427, 45, 12.0
INDICES = np.array([2, 8, 13, 19, 25, 30, 36, 42])  # centre frames of 8 segments of 45

# name -> (codec, container, pixel format, options). "yuvj420p" = luma carries depth, flat chroma,
# full range; "gray" = a single plane.
CANDIDATES = {
    "H.264 lossless (qp 0, veryfast)": ("libx264", "mp4", "yuvj420p", {"qp": "0", "preset": "veryfast"}),
    "H.264 lossless, tune fastdecode": (
        "libx264",
        "mp4",
        "yuvj420p",
        {"qp": "0", "preset": "veryfast", "tune": "fastdecode"},
    ),
    "H.264 lossless, fastdecode, keyframe every 12": (
        "libx264",
        "mp4",
        "yuvj420p",
        {"qp": "0", "preset": "veryfast", "tune": "fastdecode", "g": "12"},
    ),
    "H.264 lossless, fastdecode, preset medium": (
        "libx264",
        "mp4",
        "yuvj420p",
        {"qp": "0", "preset": "medium", "tune": "fastdecode"},
    ),
    "H.264 crf 10": ("libx264", "mp4", "yuvj420p", {"crf": "10", "preset": "veryfast"}),
    "H.264 crf 14": ("libx264", "mp4", "yuvj420p", {"crf": "14", "preset": "veryfast"}),
    "H.264 crf 18": ("libx264", "mp4", "yuvj420p", {"crf": "18", "preset": "veryfast"}),
    "H.264 crf 14, tune fastdecode": (
        "libx264",
        "mp4",
        "yuvj420p",
        {"crf": "14", "preset": "veryfast", "tune": "fastdecode"},
    ),
    "H.264 crf 10, tune fastdecode": (
        "libx264",
        "mp4",
        "yuvj420p",
        {"crf": "10", "preset": "veryfast", "tune": "fastdecode"},
    ),
    "H.264 crf 14, keyframe every 12": ("libx264", "mp4", "yuvj420p", {"crf": "14", "preset": "veryfast", "g": "12"}),
    "H.264 crf 14, preset medium": ("libx264", "mp4", "yuvj420p", {"crf": "14", "preset": "medium"}),
    "VP9 lossless": (
        "libvpx-vp9",
        "webm",
        "yuv420p",
        {"lossless": "1", "deadline": "realtime", "cpu-used": "8", "threads": "1"},
    ),
    "VP9 crf 20": (
        "libvpx-vp9",
        "webm",
        "yuv420p",
        {"crf": "20", "b": "0", "deadline": "realtime", "cpu-used": "8", "threads": "1"},
    ),
    "FFV1 grey (MKV)": ("ffv1", "matroska", "gray", {}),
}


def smooth_depth_clip(seed: int, num_frames: int = FRAMES, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """(T, H, W) uint8 inverse depth shaped like a monocular depth model's output (see the module doc)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    # low-frequency relief: a few random sinusoids drifting slowly
    waves = [
        (rng.uniform(-0.04, 0.04), rng.uniform(-0.04, 0.04), rng.uniform(0, 2 * np.pi), rng.uniform(2, 6))
        for _ in range(4)
    ]
    objects = [
        (rng.uniform(0.1, 0.4), rng.uniform(0.3, 0.7), rng.uniform(25, 55), rng.uniform(0.4, 0.7), rng.uniform(50, 80))
        for _ in range(2)
    ]
    out = np.empty((num_frames, height, width), np.uint8)
    for t in range(num_frames):
        dy, dx = 3 * np.sin(0.3 * t + seed), 3 * np.cos(0.23 * t + seed)  # camera shake
        y, x = yy + dy, xx + dx
        field = 40 + 110 * y / height  # table plane: nearer towards the bottom
        for fy, fx, phase, amp in waves:
            field += amp * np.sin(fy * y + fx * x + phase + 0.05 * t)
        for k, (x0, y0, radius, speed, lift) in enumerate(objects):
            cx = width * (x0 + speed * t / num_frames) if k == 0 else width * (1 - x0 - speed * t / num_frames)
            cy = height * y0
            r = np.sqrt((x - cx) ** 2 + ((y - cy) * 1.3) ** 2)
            inside = 1 / (1 + np.exp((r - radius) / 1.0))  # soft edge, ~3 px
            bump = lift * (1 - 0.3 * (r / radius) ** 2)
            field = field * (1 - inside) + (field + bump) * inside
        out[t] = np.clip(np.round(field), 0, 255)
    return out


def synthetic_depth_clip(seed: int) -> np.ndarray:
    from modeling_dear.data.synthetic import render_clip

    return render_clip(seed % 6, seed, height=HEIGHT, width=428, min_frames=FRAMES, max_frames=FRAMES).depth


def encode_grey(depth: np.ndarray, codec: str, container: str, pix_fmt: str, options: dict) -> bytes:
    """Depth (T, H, W) uint8 as a video: H.264 through `encode_depth_video` (the package's own writer),
    the others with the same layout (depth in luma, flat chroma, full range) or as a grey plane."""
    if codec == "libx264" and container == "mp4" and pix_fmt == "yuvj420p":
        return encode_depth_video(depth, FPS, codec=codec, options=options)
    if depth.shape[1] % 2 or depth.shape[2] % 2:
        depth = np.pad(depth, ((0, 0), (0, depth.shape[1] % 2), (0, depth.shape[2] % 2)), mode="edge")
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as output:
        stream = output.add_stream(codec, rate=Fraction(FPS).limit_denominator(1001))
        stream.height, stream.width = depth.shape[1:]
        stream.pix_fmt = pix_fmt
        if pix_fmt == "yuv420p":
            stream.codec_context.color_range = 2  # JPEG / full range
        stream.options = dict(options)
        for plane in depth:
            if pix_fmt == "gray":
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(plane), format="gray")
            else:
                yuv = np.concatenate(
                    [plane, np.full((plane.shape[0] // 2, plane.shape[1]), 128, np.uint8)], axis=0
                )  # I420 layout: Y, then U and V (each H/2 × W/2) packed as H/2 rows of W
                frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
                frame.color_range = 2
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def decode_ms(videos, backend: str, depth: bool, sizes=None) -> float:
    start = time.perf_counter()
    for i, video in enumerate(videos):
        handle = open_video(video, backend=backend)
        if depth:
            handle.read_depth(INDICES, size=sizes[i])
        else:
            handle.read(INDICES)
    return (time.perf_counter() - start) / len(videos) * 1000


def errors(videos, clips) -> tuple[int, float, int]:
    """Max and mean absolute error of every decoded frame (PyAV) against the uint8 source, and the largest
    difference between what decord and PyAV return for the sampled frames."""
    worst, total, count, disagreement = 0, 0.0, 0, 0
    for video, clip in zip(videos, clips, strict=True):
        decoded = open_video(video, backend="pyav").read_depth(np.arange(len(clip)), size=clip.shape[1:])
        diff = np.abs(decoded.astype(np.int16) - clip)
        worst, total, count = max(worst, int(diff.max())), total + float(diff.sum()), count + diff.size
        by_decord = open_video(video, backend="decord").read_depth(INDICES, size=clip.shape[1:])
        disagreement = max(disagreement, int(np.abs(by_decord.astype(np.int16) - decoded[INDICES]).max()))
    return worst, total / count, disagreement


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smooth", type=int, default=4, help="smooth depth-model-like clips")
    parser.add_argument("--synthetic", type=int, default=1, help="synthetic ground-truth clips (12 s each to render)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds; the best is reported")
    args = parser.parse_args()

    kinds = {"smooth": [smooth_depth_clip(s) for s in range(args.smooth)]}
    if args.synthetic:
        kinds["synthetic"] = [synthetic_depth_clip(s) for s in range(args.synthetic)]
    rgb = [encode_video(ssv2_like_clip(s)[0], fps=FPS, codec="libvpx-vp9") for s in range(max(2, args.smooth))]

    encoded, encode_ms = {}, {}
    for name, (codec, container, pix_fmt, options) in CANDIDATES.items():
        for kind, clips in kinds.items():
            start = time.perf_counter()
            encoded[name, kind] = [encode_grey(c, codec, container, pix_fmt, options) for c in clips]
            encode_ms[name, kind] = (time.perf_counter() - start) / len(clips) * 1000

    timings = {}
    for _ in range(args.rounds):
        for backend in ("decord", "pyav"):
            key = ("RGB reference: VP9 WebM (SSv2-like)", "rgb", backend)
            timings.setdefault(key, []).append(decode_ms(rgb, backend, depth=False))
            for name in CANDIDATES:
                clips = kinds["smooth"]
                key = (name, "smooth", backend)
                timings.setdefault(key, []).append(
                    decode_ms(encoded[name, "smooth"], backend, True, [c.shape[1:] for c in clips])
                )

    print(
        f"{platform.machine()}, PyAV {av.__version__}, 1 decoder thread; {HEIGHT}x{WIDTH}, {FRAMES} frames; "
        f"{args.smooth} smooth clips, {args.synthetic} synthetic (240x428); best of {args.rounds} rounds\n"
    )
    rgb_kb = np.mean([len(v) for v in rgb]) / 1000
    print(
        "| storage | kB/clip smooth | kB/clip synthetic | encode ms/clip | decode 8 frames ms decord | "
        "ms PyAV | max / mean abs err smooth | max / mean abs err synthetic | decord vs PyAV |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    ref = "RGB reference: VP9 WebM (SSv2-like)"
    print(
        f"| {ref} | {rgb_kb:.0f} (RGB) | | | {min(timings[ref, 'rgb', 'decord']):.1f} | "
        f"{min(timings[ref, 'rgb', 'pyav']):.1f} | | | |"
    )
    for name in CANDIDATES:
        sizes = {k: np.mean([len(v) for v in encoded[name, k]]) / 1000 for k in kinds}
        errs = {k: errors(encoded[name, k], kinds[k]) for k in kinds}
        synth_kb = f"{sizes['synthetic']:.0f}" if "synthetic" in kinds else "-"
        synth_err = f"{errs['synthetic'][0]} / {errs['synthetic'][1]:.3f}" if "synthetic" in kinds else "-"
        agree = max(e[2] for e in errs.values())
        print(
            f"| {name} | {sizes['smooth']:.0f} | {synth_kb} | {encode_ms[name, 'smooth']:.0f} | "
            f"{min(timings[name, 'smooth', 'decord']):.1f} | {min(timings[name, 'smooth', 'pyav']):.1f} | "
            f"{errs['smooth'][0]} / {errs['smooth'][1]:.3f} | {synth_err} | {agree} |"
        )


if __name__ == "__main__":
    main()
