# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Inference cost of one clip on CPU: DEAR with given or on-the-fly depth, its RGB-only variant, VideoMAE-B.

Random weights (built from configs, nothing downloaded), batch 1, frames of 224×224, one process:

* DEAR (preset "dear", 8 frames) with `depth_pixel_values` given (depth estimated offline, as in training);
* DEAR computing depth itself from the 8 frames with a bundled depth model shaped like DPT-Hybrid (MiDaS,
  384×384 input) or Depth-Anything-V2-Small (518×518 from a 224² crop);
* S4V* (preset "s4v-rgb", RGB only, 8 frames);
* transformers' VideoMAEForVideoClassification, base size, 16 frames, 174 classes.

FLOPs are counted with `torch.utils.flop_counter.FlopCounterMode` (matrix products, convolutions and
attention; the element-wise work of softmax, norms and VideoMamba's selective scan is not counted), achieved GFLOP/s is
counted FLOPs over the measured time, and a plain square matmul measured in the same run, with the same
threads, gives the machine's reference rate. The FLOP-counting forward doubles as the fp32 warm-up; times
are the best of `--repeats` runs (the best run is the one least disturbed on a shared machine). One thread
by default: on a machine shared with other jobs, a one-thread run slows down in proportion to the load,
whereas OpenMP threads that get preempted wait on each other and slow down erratically.

    python bench/inference.py [--repeats 1] [--bf16] [--threads 1]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import platform
import time

import torch
from common import count_flops, depth_anything_v2_small_shape, dpt_hybrid_midas_shape, matmul_gflops

from modeling_dear import DearConfig, DearForVideoClassification
from modeling_dear.depth_estimation import read_depth_preprocessing

IMAGE_SIZE = 224


def dear(preset: str, depth_shape=None) -> DearForVideoClassification:
    extra = {}
    if depth_shape is not None:
        depth_config, depth_processor = depth_shape()
        extra = {
            "depth_estimator_config": depth_config.to_dict(),
            "depth_estimator_preprocessing": read_depth_preprocessing(depth_processor),
        }
    return DearForVideoClassification(DearConfig.from_preset(preset, **extra))


def videomae():
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification

    # base: 768 wide, 12 layers, tubelets of 2 frames × 16², 16 frames → 8 × 196 tokens
    config = VideoMAEConfig(num_frames=16, image_size=IMAGE_SIZE, num_labels=174)
    return VideoMAEForVideoClassification(config)


def clip(frames: int) -> torch.Tensor:
    return torch.randn(1, frames, 3, IMAGE_SIZE, IMAGE_SIZE)


CASES = [
    # name, frames, builder, takes precomputed depth
    ("DEAR, depth given", 8, lambda: dear("dear"), True),
    ("DEAR + depth on the fly, DPT-Hybrid shape", 8, lambda: dear("dear", dpt_hybrid_midas_shape), False),
    (
        "DEAR + depth on the fly, Depth-Anything-V2-Small shape",
        8,
        lambda: dear("dear", depth_anything_v2_small_shape),
        False,
    ),
    ("S4V* (RGB only)", 8, lambda: dear("s4v-rgb"), False),
    ("VideoMAE-B (16 frames, 174 classes)", 16, videomae, False),
]


def measure(model, inputs: dict, repeats: int, autocast_dtype=None, warm_up: bool = True) -> float:
    context = torch.autocast("cpu", dtype=autocast_dtype) if autocast_dtype is not None else contextlib.nullcontext()
    with torch.inference_mode(), context:
        if warm_up:
            model(**inputs)  # first-call allocations and kernel selection
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            model(**inputs)
            best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per model (the best is reported)")
    parser.add_argument("--bf16", action="store_true", help="also time each model under CPU bfloat16 autocast")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, see above)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    reference = {"fp32": matmul_gflops(torch.float32)}
    if args.bf16:
        reference["bf16"] = matmul_gflops(torch.bfloat16)
    print(
        f"{platform.machine()} {platform.processor() or ''}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"batch 1, {IMAGE_SIZE}x{IMAGE_SIZE}; best of {args.repeats} after a warm-up\n"
        f"reference: 2048² matmul " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in reference.items()) + "\n",
        flush=True,
    )

    rows = []
    for name, frames, build, given_depth in CASES:
        # no parameter needs a gradient: FlopCounterMode's module tracker hooks any that does, which fails
        # under inference_mode
        model = build().eval().requires_grad_(False)
        inputs = {"pixel_values": clip(frames)}
        if given_depth:
            inputs["depth_pixel_values"] = clip(frames)
        flops = count_flops(model, inputs)
        seconds = measure(model, inputs, args.repeats, warm_up=False)
        bf16 = measure(model, inputs, args.repeats, torch.bfloat16) if args.bf16 else None
        rows.append((name, frames, flops, seconds, bf16))
        print(
            f"  {name}: {flops / 1e9:.0f} GFLOPs, {seconds:.2f} s" + (f", bf16 {bf16:.2f} s" if bf16 else ""),
            flush=True,
        )
        del model
        gc.collect()

    base = next(seconds for name, _, _, seconds, _ in rows if name.startswith("S4V*"))
    base_bf16 = next((bf16 for name, _, _, _, bf16 in rows if name.startswith("S4V*")), None)
    header = "| model | frames | GFLOPs / clip | fp32 s / clip | × S4V* | fp32 GFLOP/s | % of fp32 matmul |"
    rule = "|---|---|---|---|---|---|---|"
    if args.bf16:
        header += " bf16 s / clip | bf16 × S4V* | bf16 GFLOP/s | % of bf16 matmul |"
        rule += "---|---|---|---|"
    print("\n" + header + "\n" + rule)
    for name, frames, flops, seconds, bf16 in rows:
        rate = flops / seconds / 1e9
        line = (
            f"| {name} | {frames} | {flops / 1e9:.0f} | {seconds:.2f} | {seconds / base:.2f} | {rate:.0f} | "
            f"{100 * rate / reference['fp32']:.0f} % |"
        )
        if args.bf16:
            rate16 = flops / bf16 / 1e9
            line += f" {bf16:.2f} | {bf16 / base_bf16:.2f} | {rate16:.0f} | {100 * rate16 / reference['bf16']:.0f} % |"
        print(line)


if __name__ == "__main__":
    main()
