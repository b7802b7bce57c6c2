# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Depth extraction speed: DEAR's `DepthEstimator` against transformers' depth pipeline, frame by frame.

Random weights shaped like the default depth model (Intel/dpt-hybrid-midas, built from its config by
`bench/common.py`, nothing downloaded), SSv2-shaped clips (240×427 VP9 WebM at 12 fps, `--frames`
frames each; SSv2 averages 45), one process, the same torch threads for everything:

1. transformers' `pipeline("depth-estimation")` called once per frame (PIL image in, the way its docs use
   it) — the baseline;
2. the extractor as `prepare_ssv2` uses it (`DepthEstimator.estimate_clips`: frames of all clips batched,
   torch resize, per-clip uint8), in fp32 — the extractor's own reference — and with each speed option:
   bf16 autocast, channels-last, the frames' own aspect ratio (224×384 instead of 384²), batch size;
3. where the time goes for the fp32 default and the fastest option: decode (PyAV/decord), resize +
   normalise, model, upsampling + uint8, lossless depth encode; and decode/encode run sequentially or
   overlapped with the model (threads, as prepare_ssv2's DataLoader workers and encode threads do);
4. FLOPs per frame (`torch.utils.flop_counter`) and a projection for all of SSv2 on A100/H100 GPUs.

Every faster option's uint8 depth is compared with the fp32 extractor's (mean and max absolute difference in
grey levels, over all pixels of all frames). With random weights these differences show numerical
sensitivity, not accuracy: a trained model's depth is smoother, so treat them as an upper-bound indication.

    python bench/depth_extraction.py [--frames 45] [--clips 2] [--rounds 2] [--threads 1] [--batch-size 16]
                                     [--skip-pipeline] [--gpu-efficiency 0.35]

Every variant runs once per round, round after round (best of the rounds reported), so that a load change on
a shared machine hits them alike.

One thread by default (see bench/inference.py: on a shared machine OpenMP threads stall each other). Rates
and stage times are per second of this process's CPU time (`time.process_time`), which with one thread is the
wall time of an idle machine but does not count waiting for a core held by other jobs; only the end-to-end
sequential/overlapped comparison is wall time, since overlap is about wall time.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import time
from concurrent.futures import ThreadPoolExecutor

import av  # noqa: F401  (before decord: see video_io._import_decord)
import numpy as np
import torch
from common import count_flops, dpt_hybrid_midas_shape, matmul_gflops, ssv2_like_clip

from modeling_dear.depth_estimation import (
    DepthEstimator,
    cpu_supports_bf16,
    normalize_depth,
    resize_prediction,
)
from modeling_dear.video_io import encode_depth_video, encode_video, open_video

# what `dear-prepare-ssv2` runs for new datasets: bf16 autocast where the CPU has it natively, the frames' aspect
# ratio where the model takes non-square inputs
PREPARATION_DEFAULT = "dear-prepare-ssv2 default (precision auto, aspect ratio auto)"
SSV2_FRAMES = 10.2e6  # 220,847 videos (train + validation + test), 46 frames on average
# dense bf16 tensor-core peaks (no sparsity), from NVIDIA's data sheets
GPU_PEAK_TFLOPS = {"A100 (SXM, bf16 312 TFLOP/s)": 312.0, "H100 (SXM, bf16 989 TFLOP/s)": 989.0}


def build_model():
    from transformers import AutoModelForDepthEstimation

    config, processor = dpt_hybrid_midas_shape()
    torch.manual_seed(0)
    model = AutoModelForDepthEstimation.from_config(config).eval().requires_grad_(False)
    return model, processor


def pipeline_fps(model, processor, clips: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
    """transformers' depth pipeline, one call per frame; returns frames/s and its depth normalised per clip
    (as the extractor stores it) to check that both compute the same thing."""
    from PIL import Image
    from transformers import pipeline

    depth_pipe = pipeline("depth-estimation", model=model, image_processor=processor, device="cpu")
    depth_pipe(Image.fromarray(clips[0][0]))  # warm-up
    start, depths = time.process_time(), []
    for clip in clips:
        predicted = [depth_pipe(Image.fromarray(frame))["predicted_depth"] for frame in clip]
        depths.append(normalize_depth(torch.stack([p.reshape(clip.shape[1:3]) for p in predicted])))
    seconds = time.process_time() - start
    return sum(len(c) for c in clips) / seconds, depths


def extractor_fps(estimator: DepthEstimator, clips: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
    estimator.estimate_clips([clips[0][:2]])  # warm-up: first-call allocations, kernel selection
    start = time.process_time()
    depths = estimator.estimate_clips(clips)
    return sum(len(c) for c in clips) / (time.process_time() - start), depths


def difference(depths: list[np.ndarray], reference: list[np.ndarray]) -> tuple[float, int]:
    diffs = np.concatenate(
        [np.abs(d.astype(np.int16) - r.astype(np.int16)).ravel() for d, r in zip(depths, reference, strict=True)]
    )
    return float(diffs.mean()), int(diffs.max())


def stages(estimator: DepthEstimator, videos: list[bytes]) -> dict[str, float]:
    """Milliseconds per frame of each step, run one after another on every clip."""
    totals = dict.fromkeys(("decode", "resize + normalise", "model", "upsample + uint8", "encode"), 0.0)
    frames_done = 0
    autocast = (
        torch.autocast(estimator.device.type, dtype=estimator.autocast_dtype)
        if estimator.autocast_dtype is not None
        else contextlib.nullcontext()
    )
    for data in videos:
        t0 = time.process_time()
        video = open_video(data)
        frames = video.read(np.arange(video.info.num_frames))
        t1 = time.process_time()
        outputs, prepare_s, model_s, post_s = [], 0.0, 0.0, 0.0
        with torch.inference_mode():
            for start in range(0, len(frames), estimator.batch_size):
                a = time.process_time()
                pixel_values = estimator._prepare(frames[start : start + estimator.batch_size])
                b = time.process_time()
                with autocast:
                    predicted = estimator.model(pixel_values=pixel_values).predicted_depth
                c = time.process_time()
                outputs.append(resize_prediction(predicted, frames.shape[1:3]))
                prepare_s, model_s, post_s = prepare_s + b - a, model_s + c - b, post_s + time.process_time() - c
            a = time.process_time()
            depth = normalize_depth(torch.cat(outputs), estimator.normalize)
            post_s += time.process_time() - a
        t2 = time.process_time()
        encode_depth_video(depth, fps=video.info.fps or 12.0)
        t3 = time.process_time()
        totals["decode"] += t1 - t0
        totals["resize + normalise"] += prepare_s
        totals["model"] += model_s
        totals["upsample + uint8"] += post_s
        totals["encode"] += t3 - t2
        frames_done += len(frames)
    return {k: 1000 * v / frames_done for k, v in totals.items()}


def end_to_end(estimator: DepthEstimator, videos: list[bytes], overlap: bool) -> float:
    """frames/s for video bytes → depth video bytes; with `overlap`, the next clip is decoded and the
    previous one encoded in worker threads while the model runs (PyAV and torch release the GIL)."""

    def decode(data):
        video = open_video(data)
        return video.read(np.arange(video.info.num_frames))

    frames_done = 0
    start = time.perf_counter()
    if not overlap:
        for data in videos:
            frames = decode(data)
            encode_depth_video(estimator(frames))
            frames_done += len(frames)
    else:
        with ThreadPoolExecutor(2) as pool:
            next_frames = pool.submit(decode, videos[0])
            encodes = []
            for i in range(len(videos)):
                frames = next_frames.result()
                if i + 1 < len(videos):
                    next_frames = pool.submit(decode, videos[i + 1])
                encodes.append(pool.submit(encode_depth_video, estimator(frames)))
                frames_done += len(frames)
            for future in encodes:
                future.result()
    return frames_done / (time.perf_counter() - start)


def flops_per_frame(model, height: int, width: int) -> float:
    return count_flops(model, {"pixel_values": torch.randn(1, 3, height, width)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=45, help="frames per clip (SSv2 averages 45)")
    parser.add_argument("--clips", type=int, default=2, help="SSv2-shaped clips")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for everything (default 1)")
    parser.add_argument("--batch-size", type=int, default=16, help="frames per forward pass of the extractor")
    parser.add_argument("--skip-pipeline", action="store_true", help="leave out the (slow) per-frame pipeline")
    parser.add_argument(
        "--only-defaults",
        action="store_true",
        help="only the pipeline, the fp32 extractor and dear-prepare-ssv2's default (bf16 where native + aspect ratio)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="round-robin rounds; each variant's best is reported")
    parser.add_argument(
        "--gpu-efficiency",
        type=float,
        default=0.35,
        help="assumed fraction of the GPU's dense bf16 peak the depth model reaches, for the projection",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    bf16 = cpu_supports_bf16()
    reference = {"fp32": matmul_gflops(torch.float32)}
    if bf16:
        reference["bf16"] = matmul_gflops(torch.bfloat16)
    print(
        f"{platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} thread(s), CPU bf16 "
        f"{'native (avx512_bf16/amx)' if bf16 else 'not native: bf16 rows skipped'}; 2048² matmul "
        + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in reference.items())
        + f"\n{args.clips} SSv2-shaped clips × {args.frames} frames of 240×427, DPT-Hybrid-shaped model (random weights)\n",
        flush=True,
    )
    model, processor = build_model()
    raw = [ssv2_like_clip(seed, num_frames=args.frames)[0] for seed in range(args.clips)]
    videos = [encode_video(frames, fps=12.0) for frames in raw]
    clips = [open_video(v).read(np.arange(args.frames)) for v in videos]  # what the extractor sees: decoded VP9
    total_frames = sum(len(c) for c in clips)

    def estimator(**options):
        options.setdefault("batch_size", args.batch_size)
        return DepthEstimator(model, image_processor=processor, device="cpu", **options)

    options = [
        ("fp32 (DepthEstimator's default; dear-prepare-ssv2's before)", {}),
        (PREPARATION_DEFAULT, {"autocast_dtype": "auto", "keep_aspect_ratio": "auto"}),
    ]
    if not args.only_defaults:
        options += [
            ("channels-last", {"channels_last": True}),
            ("aspect ratio", {"keep_aspect_ratio": True}),
        ]
    if bf16 and not args.only_defaults:
        options += [
            ("bf16 autocast", {"autocast_dtype": torch.bfloat16}),
            ("bf16 + channels-last", {"autocast_dtype": torch.bfloat16, "channels_last": True}),
            ("bf16 + aspect ratio", {"autocast_dtype": torch.bfloat16, "keep_aspect_ratio": True}),
            (
                "bf16 + aspect ratio + channels-last",
                {"autocast_dtype": torch.bfloat16, "keep_aspect_ratio": True, "channels_last": True},
            ),
            (
                "bf16 + aspect ratio, batch 4",
                {"autocast_dtype": torch.bfloat16, "keep_aspect_ratio": True, "batch_size": 4},
            ),
        ]
    options = [
        (f"DepthEstimator {name}" + ("" if "batch" in name else f", batch {args.batch_size}"), kwargs)
        for name, kwargs in options
    ]
    estimators = {name: estimator(**kwargs) for name, kwargs in options}
    for chosen in estimators.values():  # the shared model's weights are switched per option (see measure)
        chosen.model = model
    fp32_name = options[0][0]
    pipeline_name = "transformers pipeline, frame by frame, fp32"
    names = ([] if args.skip_pipeline else [pipeline_name]) + list(estimators)
    fps: dict[str, float] = {}
    depths: dict[str, list[np.ndarray]] = {}
    # round-robin: every variant once per round, best of the rounds, so that load changes on a shared
    # machine hit all variants alike
    for round_number in range(args.rounds):
        for name in names:
            if name == pipeline_name:
                measured, depth = pipeline_fps(model, processor, clips)
            else:
                chosen = estimators[name]
                model.to(memory_format=torch.channels_last if chosen.channels_last else torch.contiguous_format)
                measured, depth = extractor_fps(chosen, clips)
            fps[name] = max(fps.get(name, 0.0), measured)
            depths.setdefault(name, depth)
            print(f"  round {round_number + 1}, {name}: {measured:.3f} frames/s", flush=True)
    model.to(memory_format=torch.contiguous_format)
    fp32, fp32_fps, fp32_depth = estimators[fp32_name], fps[fp32_name], depths[fp32_name]
    baseline_fps = None if args.skip_pipeline else fps[pipeline_name]
    rows = [
        (
            name,
            "×".join(map(str, estimators[name].model_input_size(240, 427))) if name in estimators else "384×384",
            fps[name],
            difference(depths[name], fp32_depth),
        )
        for name in names
    ]
    best_name = max(estimators, key=lambda name: fps[name])
    best = (fps[best_name], estimators[best_name], best_name.replace("DepthEstimator ", ""))

    against = baseline_fps or fp32_fps
    print(
        f"\n| extractor | model input | frames/s | × {'pipeline' if baseline_fps else 'fp32 extractor'} "
        "| × fp32 extractor | uint8 diff to fp32 extractor, mean / max grey levels |"
    )
    print("|---|---|---|---|---|---|")
    for name, size, rate, diff in rows:
        shown = "—" if diff is None else f"{diff[0]:.2f} / {diff[1]}"
        print(f"| {name} | {size} | {rate:.3f} | {rate / against:.2f} | {rate / fp32_fps:.2f} | {shown} |")

    print(
        "(random weights: bf16 and channels-last differences show numerical sensitivity; an aspect-ratio input is a "
        "different input, and a random model's maps at two input sizes are unrelated, so its difference is no "
        "measure of a trained model's)"
    )
    preparation = fps[next(name for name in estimators if PREPARATION_DEFAULT in name)]
    print(
        f"\ndear-prepare-ssv2's default: {preparation / against:.2f}× the "
        f"{'per-frame pipeline' if baseline_fps else 'fp32 extractor'} (target >= 3 against the pipeline)"
    )
    if args.only_defaults:
        host_ms = [decode_encode_ms(videos)]
    else:
        host_ms = time_stages_and_overlap(args, model, fp32, best, videos, total_frames)
    project(args, model, processor, host_ms)


def decode_encode_ms(videos) -> float:
    """CPU ms per frame of decoding a clip and encoding its (here random) depth losslessly."""
    frames = 0
    start = time.process_time()
    for video in videos:
        reader = open_video(video)
        decoded = reader.read(np.arange(reader.info.num_frames))
        encode_depth_video(decoded[..., 0])
        frames += len(decoded)
    return 1000 * (time.process_time() - start) / frames


def time_stages_and_overlap(args, model, fp32, best, videos, total_frames) -> list[float]:
    print(f"\nWhere the time goes, ms per frame ({total_frames} frames, stages one after another):")
    print("| extractor | decode | resize + normalise | model | upsample + uint8 | encode | model share |")
    print("|---|---|---|---|---|---|---|")
    host_ms = []  # decode + encode per frame: the CPU work that stays on the host when the model runs on a GPU
    for label, chosen in (("fp32 default", fp32), (best[2], best[1])):
        model.to(memory_format=torch.channels_last if chosen.channels_last else torch.contiguous_format)
        ms = stages(chosen, videos)
        host_ms.append(ms["decode"] + ms["encode"])
        share = ms["model"] / sum(ms.values())
        print(f"| {label} | " + " | ".join(f"{v:.1f}" for v in ms.values()) + f" | {100 * share:.1f} % |")
    model.to(memory_format=torch.channels_last if best[1].channels_last else torch.contiguous_format)
    sequential = end_to_end(best[1], videos, overlap=False)
    overlapped = end_to_end(best[1], videos, overlap=True)
    print(
        f"\nEnd to end (video bytes → depth video bytes), {best[2]}: sequential {sequential:.3f} frames/s, "
        f"decode/encode overlapped with the model {overlapped:.3f} frames/s ({overlapped / sequential:.2f}×)"
    )
    return host_ms


def project(args, model, processor, host_ms) -> None:
    model.to(memory_format=torch.contiguous_format)
    square = flops_per_frame(model, 384, 384)
    aspect_size = DepthEstimator(
        model, image_processor=processor, device="cpu", keep_aspect_ratio=True
    ).model_input_size(240, 427)
    aspect = flops_per_frame(model, *aspect_size)
    print(
        f"\nFLOPs per frame (torch.utils.flop_counter, matmuls + convolutions + attention): 384×384 "
        f"{square / 1e9:.0f} GFLOP, {aspect_size[0]}×{aspect_size[1]} {aspect / 1e9:.0f} GFLOP ({aspect / square:.2f}×)"
    )
    print(
        f"\nProjection for all of SSv2 ({SSV2_FRAMES / 1e6:.1f} M frames), bf16, assuming the depth model reaches "
        f"{100 * args.gpu_efficiency:.0f} % of the dense bf16 peak, model time only (decode/encode overlapped on the CPUs):"
    )
    cpu_ms = min(host_ms)
    print(
        "| GPU | model input | GFLOP / frame | frames/s per GPU | GPU-hours | hours on 8 GPUs | CPU cores per GPU "
        f"for decode + encode ({cpu_ms:.1f} ms/frame) |"
    )
    print("|---|---|---|---|---|---|---|")
    for gpu, peak in GPU_PEAK_TFLOPS.items():
        for size, flops in (
            ("384×384 (checkpoint's input)", square),
            (f"{aspect_size[0]}×{aspect_size[1]} (aspect ratio, dear-prepare-ssv2's default)", aspect),
        ):
            rate = peak * 1e12 * args.gpu_efficiency / flops
            hours = SSV2_FRAMES / rate / 3600
            print(
                f"| {gpu} | {size} | {flops / 1e9:.0f} | {rate:.0f} | {hours:.1f} | {hours / 8:.2f} | "
                f"{rate * cpu_ms / 1000:.1f} |"
            )


if __name__ == "__main__":
    main()
