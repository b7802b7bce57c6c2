# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Throughput of the preparation engine (`modeling_dear.data.prepare.prepare_dataset`) on CPU.

1. A generated tree of `--clips` (default 1,000) tiny VP9 clips (48x64, 8 frames, 10 classes, train and
   validation) as a source reader gives it, prepared end to end with a tiny random DPT: clips/s and depth
   frames/s of the whole machinery (decode, depth, depth encode, Parquet, manifests, card).
2. The same for `--hybrid_clips` of those clips with a random DPT-Hybrid-shaped model (Intel/dpt-hybrid-midas'
   shape, 384x384 input), whose forward pass is what a real preparation waits for on CPU; skipped with 0.
3. Segments: a long H.264 video (`--long_frames` frames of 240x320, a keyframe every 30) with 10 segments of 24
   frames spread over it, read three ways: the engine's `SegmentReader` (one open file, seeking to each
   segment's keyframe), opening the file anew per segment (`open_video(...).read(range)`), and decoding the
   whole file once. Printed as ms and as ratios against whole-file decoding, measured in the same process.

    python bench/prepare_dataset.py [--clips 1000] [--hybrid_clips 2] [--long_frames 900]

One torch thread, `num_workers=1` decode process, one encode thread: a 2-core machine. The machine may be
shared with other work: compare the ratios of one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import av  # noqa: F401  (before decord: see video_io._import_decord)
import numpy as np
import torch

from modeling_dear.data.prepare import prepare_dataset
from modeling_dear.data.prepare.segments import SegmentReader
from modeling_dear.data.sources.base import ClipEntry, SourceData
from modeling_dear.testing_utils import save_tiny_dpt, smooth_moving_frames
from modeling_dear.video_io import encode_video, open_video

CLASSES = [f"class_{k}" for k in range(10)]


def write_tree(root: Path, count: int) -> SourceData:
    """`count` clips in class folders, as a videofolder reader would list them (4 in 5 train)."""
    splits = {"train": [], "validation": []}
    for k in range(count):
        label = k % len(CLASSES)
        split = "validation" if k % 5 == 4 else "train"
        folder = root / split / CLASSES[label]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"clip_{k:05d}.webm"
        path.write_bytes(encode_video(smooth_moving_frames(8, 48, 64, seed=k), fps=12.0))
        splits[split].append(ClipEntry(f"clip_{k:05d}", str(path), {"label": label}))
    return SourceData("videofolder", {"label": CLASSES}, splits, license="cc0-1.0")


def hybrid_folder(path: Path) -> Path:
    from common import dpt_hybrid_midas_shape
    from transformers import DPTForDepthEstimation

    config, processor = dpt_hybrid_midas_shape()
    torch.manual_seed(0)
    DPTForDepthEstimation(config).save_pretrained(path)
    processor.save_pretrained(path)
    return path


def prepare(source: SourceData, output: Path, model: Path, **settings) -> dict:
    start = time.perf_counter()
    summary = prepare_dataset(
        source,
        output,
        str(model),
        progress=False,
        poll_seconds=0.05,
        **{"shard_size": 100, "batch_size": 32, "num_workers": 1, "encode_threads": 1, **settings},
    )
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "clips": summary.videos_done, "frames": summary.totals["frames"]}


def segment_reading(root: Path, long_frames: int, rounds: int = 3) -> dict:
    path = root / "long.mp4"
    frames = smooth_moving_frames(long_frames, 240, 320, seed=3)
    path.write_bytes(encode_video(frames, fps=30.0, codec="libx264", options={"g": "30", "preset": "veryfast"}))
    del frames
    length = 24
    starts = np.linspace(0, long_frames - length, 10).astype(int)

    def engine():
        with SegmentReader(str(path)) as reader:
            for s in starts:
                reader.read(int(s), int(s) + length)

    def reopened():
        for s in starts:
            open_video(str(path), backend="pyav").read(np.arange(s, s + length))

    def whole():
        video = open_video(str(path), backend="pyav")
        video.read(np.arange(video.info.num_frames))

    ways = {
        "segments, one open file, seeking (engine)": engine,
        "segments, the file opened per segment (PyAV)": reopened,
        "whole file decoded once (PyAV)": whole,
    }
    times = {name: float("inf") for name in ways}
    for _ in range(rounds):  # interleaved, best of `rounds`: the machine may be shared
        for name, way in ways.items():
            start = time.perf_counter()
            way()
            times[name] = min(times[name], time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--hybrid_clips", type=int, default=2, help="clips for the DPT-Hybrid-shaped run (0: skip)")
    parser.add_argument("--long_frames", type=int, default=900)
    parser.add_argument("--only_segments", action="store_true", help="only the segment-reading comparison")
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.disable(logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.only_segments:
            args.clips = args.hybrid_clips = 0
        start = time.perf_counter()
        source = write_tree(tmp / "tree", args.clips)
        generate = time.perf_counter() - start
        tiny = prepare(source, tmp / "out-tiny", save_tiny_dpt(tmp / "tiny-dpt")) if args.clips else None
        hybrid = None
        if args.hybrid_clips:
            subset = SourceData(
                "videofolder", source.label_sets, {"train": source.splits["train"][: args.hybrid_clips]}
            )
            hybrid = prepare(subset, tmp / "out-hybrid", hybrid_folder(tmp / "hybrid-dpt"), shard_size=4)
        segments = segment_reading(tmp, args.long_frames)

    print(
        f"torch {torch.__version__}, 1 torch thread, num_workers=1, encode_threads=1 (tree generated in {generate:.0f} s)"
    )
    rows = [] if tiny is None else [("tiny random DPT (32x32 input), 48x64 clips of 8 frames", tiny)]
    if hybrid is not None:
        rows.append(("DPT-Hybrid-shaped, random weights (384x384 input), same clips", hybrid))
    if rows:
        print("\n| prepare_dataset end to end, CPU | clips | seconds | clips/s | depth frames/s |")
        print("|---|---|---|---|---|")
    for name, r in rows:
        print(
            f"| {name} | {r['clips']} | {r['seconds']:.1f} | {r['clips'] / r['seconds']:.3g} | "
            f"{r['frames'] / r['seconds']:.3g} |"
        )
    whole = segments["whole file decoded once (PyAV)"]
    print(
        f"\n| reading 10 segments of 24 frames from a {args.long_frames}-frame 240x320 H.264 video "
        "(keyframe every 30), best of 3 | ms | × whole-file decoding |"
    )
    print("|---|---|---|")
    for name, seconds in segments.items():
        print(f"| {name} | {seconds * 1000:.0f} | {seconds / whole:.2f} |")


if __name__ == "__main__":
    main()
