# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Throughput of the SSv2 preparation (`modeling_dear.data.ssv2`) on CPU, and the projected cost of the
full SSv2 on one GPU.

1. The miniature download of tests/test_prepare_ssv2.py (40×64 clips of 5-8 frames), end to end with a
   tiny random DPT: what the machinery itself costs (planning, Parquet, manifests, card).
2. An SSv2-shaped miniature download (VP9 WebM 240×427, 45 frames, like `bench/common.ssv2_like_clip`), end to
   end with the same tiny DPT, so that the depth model costs nearly nothing: the CPU side of the pipeline
   (read, decode every frame, depth encode, Parquet) per video, and per stage on one core.
3. The projection: SSv2 has 220,847 videos and ~10 M frames (train 7.62 M, validation 1.21 M, test
   ~1.3 M at the validation mean); one GPU is busy frames / (model frames/s) while the CPU side runs in
   decode workers and encode threads beside it.

    python bench/prepare_ssv2.py [--videos 8] [--rounds 2]

One torch thread and one decoder thread, as in a data-loader worker; the machine may be shared, so each
measurement is the best of `--rounds`.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

import av  # noqa: F401  (before decord: see video_io._import_decord)
import numpy as np
import torch
from common import ssv2_like_clip

from modeling_dear.data.schema import ssv2_label_names
from modeling_dear.data.ssv2 import prepare_ssv2
from modeling_dear.testing_utils import save_tiny_dpt, smooth_moving_frames
from modeling_dear.video_io import encode_depth_video, encode_video, open_video

SSV2_VIDEOS = 220_847
SSV2_FRAMES = 7.62e6 + 1.21e6 + 27_157 * 48.9  # train + validation (public frame lists) + test at the val mean
# depth-model frames/s: the paper's GPU figure and bench/data_pipeline.py's CPU figures (random weights,
# checkpoint-shaped, 1 thread, 240×427 input)
MODEL_RATES = {
    "DPT-Hybrid (MiDaS), RTX 3090 (published)": 50.0,
    "MiDaS v2.1 small, RTX 3090 (published)": 90.0,
    "DPT-Hybrid-shaped, CPU 1 thread (bench/data_pipeline.py)": 0.28,
    "Depth-Anything-V2-Small-shaped, CPU 1 thread (bench/data_pipeline.py)": 0.92,
}


def miniature_clips(count: int = 10) -> list[bytes]:
    """The clips of tests/test_prepare_ssv2.py's miniature download: 40x64, 5-8 frames."""
    return [encode_video(smooth_moving_frames(5 + k % 4, 40, 64, seed=k), fps=12.0) for k in range(count)]


def write_download(root: Path, clips: list[bytes]) -> None:
    """videos/<id>.webm and labels/ in the real format; ids split 3:1:1 over train/validation/test."""
    names = ssv2_label_names()
    (root / "videos").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "labels" / "labels.json").write_text(json.dumps({n: str(i) for i, n in enumerate(names)}))
    splits = {"train": [], "validation": [], "test": []}
    for k, data in enumerate(clips):
        video_id = str(1000 + k)
        (root / "videos" / f"{video_id}.webm").write_bytes(data)
        split = ("train", "train", "train", "validation", "test")[k % 5]
        name = names[k % len(names)]
        entry = {"id": video_id}
        if split != "test":
            entry.update(label=name, template=name.replace("something", "[something]"), placeholders=[])
        splits[split].append(entry)
    for split, entries in splits.items():
        (root / "labels" / f"{split}.json").write_text(json.dumps(entries))


def run(root: Path, model: Path, rounds: int, **settings) -> dict:
    best = None
    for r in range(rounds):
        output = root / f"out{r}"
        shutil.rmtree(output, ignore_errors=True)
        start = time.perf_counter()
        summary = prepare_ssv2(
            root / "videos", root / "labels", output, str(model), progress=False, poll_seconds=0.05, **settings
        )
        seconds = time.perf_counter() - start
        if best is None or seconds < best["seconds"]:
            best = {
                "seconds": seconds,
                "videos": summary.videos_done,
                "frames": summary.totals["frames"],
                "bytes": summary.totals["bytes"],
            }
    return best


def stage_ms(clips: list[bytes], model: Path, rounds: int) -> dict:
    """Per-video milliseconds of each stage on one core."""
    from modeling_dear.depth_estimation import DepthEstimator

    estimator = DepthEstimator(str(model), device="cpu", batch_size=32)
    times = {
        "decode all frames (decord)": [],
        "decode all frames (PyAV)": [],
        "tiny-model depth": [],
        "depth encode (lossless H.264)": [],
    }
    for _ in range(rounds):
        for backend, key in (("decord", "decode all frames (decord)"), ("pyav", "decode all frames (PyAV)")):
            start = time.perf_counter()
            for data in clips:
                video = open_video(data, backend=backend)
                video.read(np.arange(video.info.num_frames))
            times[key].append((time.perf_counter() - start) / len(clips) * 1000)
        decoded = [open_video(d).read(np.arange(open_video(d).info.num_frames)) for d in clips]
        start = time.perf_counter()
        depths = [estimator(frames) for frames in decoded]
        times["tiny-model depth"].append((time.perf_counter() - start) / len(clips) * 1000)
        start = time.perf_counter()
        for depth in depths:
            encode_depth_video(depth, fps=12.0)
        times["depth encode (lossless H.264)"].append((time.perf_counter() - start) / len(clips) * 1000)
    return {k: min(v) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=10, help="SSv2-shaped videos in the miniature download")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.disable(logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = save_tiny_dpt(tmp / "tiny-dpt")
        tiny = miniature_clips()
        write_download(tmp / "tiny", tiny)
        ssv2 = [encode_video(ssv2_like_clip(s)[0], fps=12.0) for s in range(args.videos)]
        write_download(tmp / "ssv2", ssv2)
        settings = dict(shard_size=4, batch_size=32, num_workers=0, encode_threads=1)
        results = {
            f"test miniature ({len(tiny)} videos 40x64, 5-8 frames)": run(tmp / "tiny", model, args.rounds, **settings),
            f"SSv2-shaped ({args.videos} videos 240x427, 45 frames)": run(tmp / "ssv2", model, args.rounds, **settings),
        }
        stages = stage_ms(ssv2, model, args.rounds)

    print(f"torch {torch.__version__}, 1 thread, num_workers=0, encode_threads=1; best of {args.rounds} rounds\n")
    print("| prepare_ssv2 end to end, tiny random DPT, CPU | videos/s | frames/s | kB per video (RGB + depth) |")
    print("|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['videos'] / r['seconds']:.2f} | {r['frames'] / r['seconds']:.1f} | "
            f"{r['bytes'] / max(r['videos'], 1) / 1000:.0f} |"
        )
    print("\n| stage, SSv2-shaped video, 1 core | ms per video |")
    print("|---|---|")
    for name, ms in stages.items():
        print(f"| {name} | {ms:.0f} |")
    cpu_ms = (
        min(stages["decode all frames (decord)"], stages["decode all frames (PyAV)"])
        + stages["depth encode (lossless H.264)"]
    )
    ssv2_rate = results[f"SSv2-shaped ({args.videos} videos 240x427, 45 frames)"]
    mean_frames = ssv2_rate["frames"] / ssv2_rate["videos"]
    print(
        f"\nCPU side (decode + depth encode) ≈ {cpu_ms:.0f} ms per 45-frame video per core = "
        f"{mean_frames / cpu_ms * 1000:.0f} frames/s per core."
    )
    print(
        f"\n| projection, full SSv2 ({SSV2_VIDEOS:,} videos, {SSV2_FRAMES / 1e6:.1f} M frames) | depth frames/s "
        f"| hours, 1 device | hours, 8 devices | CPU cores to keep up |"
    )
    print("|---|---|---|---|---|")
    for name, rate in MODEL_RATES.items():
        hours = SSV2_FRAMES / rate / 3600
        cores = rate / (mean_frames / cpu_ms * 1000)
        print(f"| {name} | {rate:g} | {hours:,.0f} | {hours / 8:,.1f} | {cores:.2f} |")


if __name__ == "__main__":
    main()
