# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Input-pipeline throughput on CPU: clips/s per core, and depth-estimation frames/s.

1. decode + sample + augment + normalise with `DearVideoProcessor`, one thread, on SSv2-like clips
   (VP9 WebM, 240×427, 45 frames at 12 fps, 8 sampled frames), decord vs PyAV in the same run; and the
   training path that leaves the augmentation to the device: its CPU side (`decode_for_training`: decode
   the sampled RGB and depth frames, draw the augmentation) per clip, and its device side
   (`DeviceTrainAugmentation`, batches of 8 clips) measured here on the CPU;
2. depth estimation with `DepthEstimator` on randomly initialised models shaped like
   Intel/dpt-hybrid-midas and depth-anything/Depth-Anything-V2-Small-hf (no download), at their
   checkpoints' input sizes, batch 4.

    python bench/data_pipeline.py [--clips 12] [--rounds 3] [--depth-frames 8]

Numbers are per core: torch and the decoders get one thread each, as in a data loader worker, and the
pipeline rates are process CPU time per clip (what a data-loader worker spends), not wall time.
"""

from __future__ import annotations

import argparse
import platform
import time

import av  # noqa: F401  (before decord: see video_io._import_decord)
import numpy as np
import torch
from common import DEPTH_MODEL_SHAPES, ssv2_like_clip

from modeling_dear.processing_dear import DearVideoProcessor
from modeling_dear.video_io import encode_depth_video, encode_video, open_video


def clips_per_second(processor, videos, depth, mode, backend, repeats) -> float:
    processor.decode_backend = backend
    start = time.process_time()
    for r in range(repeats):
        for i, video in enumerate(videos):
            processor(video, depth=None if depth is None else depth[i], mode=mode, seed=r * 1000 + i)
    return repeats * len(videos) / (time.process_time() - start)


def decode_for_training_rate(processor, videos, depth, backend, repeats) -> float:
    """CPU side of the device path: per clip, as a data-loader worker runs it (one clip at a time)."""
    processor.decode_backend = backend
    start = time.process_time()
    for r in range(repeats):
        for i, video in enumerate(videos):
            processor.decode_for_training(video, depth=depth[i], seed=r * 1000 + i)
    return repeats * len(videos) / (time.process_time() - start)


def device_augmentation_rate(processor, videos, depth, batch_size=8, repeats=2) -> float:
    """Device side on this CPU: clips/s of `DeviceTrainAugmentation` on batches of decoded clips."""
    from modeling_dear.training import DeviceTrainAugmentation

    augment = DeviceTrainAugmentation.from_processor(processor)
    picks = [i % len(videos) for i in range(batch_size)]
    batches = [
        dict(processor.decode_for_training([videos[i] for i in picks], depth=[depth[i] for i in picks], seed=r))
        for r in range(repeats)
    ]
    augment(batches[0])  # warm-up
    start = time.process_time()
    for batch in batches:
        augment(batch)
    return repeats * batch_size / (time.process_time() - start)


def decode_only(videos, backend, repeats) -> float:
    indices = [2, 8, 13, 19, 25, 30, 36, 42]
    start = time.process_time()
    for _ in range(repeats):
        for video in videos:
            open_video(video, backend=backend).read(indices)
    return repeats * len(videos) / (time.process_time() - start)


def depth_models():
    from transformers import AutoModelForDepthEstimation

    torch.manual_seed(0)
    for name, build in DEPTH_MODEL_SHAPES.items():
        config, processor = build()
        yield name, AutoModelForDepthEstimation.from_config(config), processor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=12, help="clips per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best is reported")
    parser.add_argument("--depth-frames", type=int, default=8, help="frames per depth-model measurement")
    args = parser.parse_args()
    torch.set_num_threads(1)

    distinct = 6
    generated = [ssv2_like_clip(seed) for seed in range(distinct)]
    frames = [rgb for rgb, _ in generated]
    videos = [encode_video(rgb, fps=12, codec="libvpx-vp9") for rgb in frames]
    depth_videos = [encode_depth_video(depth) for _, depth in generated]
    repeats = max(1, args.clips // distinct)
    mean_kb = np.mean([len(v) for v in videos]) / 1000
    depth_kb = np.mean([len(v) for v in depth_videos]) / 1000
    print(
        f"{platform.machine()}, torch {torch.__version__}, 1 thread; {distinct} distinct clips 240x427x45 "
        f"(VP9 mean {mean_kb:.0f} kB, depth H.264 lossless mean {depth_kb:.0f} kB) × {repeats}\n"
    )

    processor = DearVideoProcessor(num_frames=8)
    configs = []
    for backend in ("decord", "pyav"):
        configs.append((f"decode 8 frames ({backend})", lambda b=backend: decode_only(videos, b, repeats)))
    for mode in ("train", "val", "test"):
        for backend in ("decord", "pyav"):
            label = f"{mode}: decode + sample + augment ({backend})" if mode != "test" else f"test: 6 views ({backend})"
            configs.append((label, lambda m=mode, b=backend: clips_per_second(processor, videos, None, m, b, repeats)))
    for backend in ("decord", "pyav"):
        configs.append(
            (
                f"train, RGB + depth video ({backend})",
                lambda b=backend: clips_per_second(processor, videos, depth_videos, "train", b, repeats),
            )
        )
    for backend in ("decord", "pyav"):
        configs.append(
            (
                f"train, RGB + depth, device path, CPU side: decode + draws ({backend})",
                lambda b=backend: decode_for_training_rate(processor, videos, depth_videos, b, repeats),
            )
        )
    configs.append(
        (
            "train, RGB + depth, device path, device side on this CPU (batches of 8)",
            lambda: device_augmentation_rate(processor, videos, depth_videos),
        )
    )
    # The machine is shared: measurements are interleaved over rounds and the best round is reported, the
    # one least disturbed by other processes.
    rates = {label: [] for label, _ in configs}
    for _ in range(args.rounds):
        for label, measure in configs:
            rates[label].append(measure())

    print(f"| data pipeline, 1 core (best of {args.rounds} rounds) | clips per CPU-second |")
    print("|---|---|")
    for label, values in rates.items():
        print(f"| {label} | {max(values):.1f} |")
    best = {label: max(values) for label, values in rates.items()}
    for backend in ("decord", "pyav"):
        cpu_path = best[f"train, RGB + depth video ({backend})"]
        cpu_side = best[f"train, RGB + depth, device path, CPU side: decode + draws ({backend})"]
        device_side = best["train, RGB + depth, device path, device side on this CPU (batches of 8)"]
        both_on_cpu = 1 / (1 / cpu_side + 1 / device_side)
        print(
            f"{backend}: training clips with depth per CPU-second, device path (CPU side) / CPU path = "
            f"{cpu_side / cpu_path:.2f} ({cpu_side:.1f} vs {cpu_path:.1f}; target >= 20); both halves on this CPU: "
            f"{both_on_cpu:.1f} (the CPU path stays the default on CPU when this is below {cpu_path:.1f})"
        )

    from modeling_dear.depth_estimation import DepthEstimator

    print("\n| depth model (random weights), CPU, 1 thread | parameters | model input (from 240×427) | frames/s |")
    print("|---|---|---|---|")
    sample = frames[0][: args.depth_frames]
    for name, model, image_processor in depth_models():
        estimator = DepthEstimator(model, image_processor=image_processor, device="cpu", batch_size=4)
        size = estimator.model_input_size(240, 427)
        estimator.predict(sample[:1])  # warm-up
        start = time.perf_counter()
        estimator(sample)
        rate = len(sample) / (time.perf_counter() - start)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        print(f"| {name} | {params:.1f} M | {size[0]}×{size[1]} | {rate:.2f} |")


if __name__ == "__main__":
    main()
