# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Inference cost of one clip on CPU: DEAR with given or on-the-fly depth, its RGB-only variant, VideoMAE-B; where
DEAR's time goes, stage by stage; and what the fast settings (bf16, depth at the classifier's resolution) cost in
accuracy against fp32.

Random weights (built from configs, nothing downloaded), batch 1, frames of 224×224, one process:

* DEAR (preset "dear", 8 frames) with `depth_pixel_values` given (depth estimated offline, as in training);
* DEAR computing depth itself from the 8 frames with a bundled depth model shaped like DPT-Hybrid (MiDaS,
  384×384 input) or Depth-Anything-V2-Small (518×518 from a 224² crop), and the same with the depth model fed at
  the classifier's own resolution (`--fast`: 224², a multiple of both models' patch sizes; 6–5× fewer depth-model
  FLOPs);
* S4V* (preset "s4v-rgb", RGB only, 8 frames);
* transformers' VideoMAEForVideoClassification, base size, 16 frames, 174 classes.

FLOPs are counted with `torch.utils.flop_counter.FlopCounterMode` (matrix products, convolutions and
attention; the element-wise work of softmax, norms and VideoMamba's selective scan is not counted), achieved GFLOP/s is
counted FLOPs over the measured time, and a plain square matmul measured in the same run, with the same
threads, gives the machine's reference rate. The FLOP-counting forward doubles as the fp32 warm-up; times
are the best of `--repeats` runs (the best run is the one least disturbed on a shared machine).

`--threads 2` is the free-Space mode (2 vCPUs). One thread is the default: on a machine shared with other jobs, a
one-thread run slows down in proportion to the load, whereas OpenMP threads that get preempted wait on each other
and slow down erratically.

`--stages` times DEAR's stages in its best run (forward hooks; what is outside every hooked module, the input
checks and the averaging of the heads, is "rest"): decoding and sampling an SSv2-like VP9 clip with
`DearVideoProcessor` (timed apart, once per run), on-the-fly depth, the frozen CLIP, the Side4Video side networks,
VideoMamba, fusion + heads. `--fast` also prints, for each DEAR model, the largest logit difference of bf16 against
fp32 and of the 224² depth input against the checkpoint's, and the depth levels (uint8, per clip) the smaller
depth input changes (random weights: an upper bound of nothing, see the README).

    python bench/inference.py [--repeats 1] [--bf16] [--threads 1] [--stages] [--fast] [--cases dear-given ...]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import platform
import time
from collections import defaultdict

import torch
from common import count_flops, depth_anything_v2_small_shape, dpt_hybrid_midas_shape, matmul_gflops

from modeling_dear import DearConfig, DearForVideoClassification
from modeling_dear.depth_estimation import cpu_supports_bf16, read_depth_preprocessing

IMAGE_SIZE = 224


def dear(preset: str, depth_shape=None, depth_input_size: int | None = None) -> DearForVideoClassification:
    extra = {}
    if depth_shape is not None:
        depth_config, depth_processor = depth_shape()
        preprocessing = read_depth_preprocessing(depth_processor)
        if depth_input_size is not None:
            # the depth model fed at the classifier's resolution: the frames are 224² already, so no resizing at all
            preprocessing = {**preprocessing, "size": (depth_input_size, depth_input_size), "keep_aspect_ratio": False}
        extra = {"depth_estimator_config": depth_config.to_dict(), "depth_estimator_preprocessing": preprocessing}
    return DearForVideoClassification(DearConfig.from_preset(preset, **extra))


def videomae():
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification

    # base: 768 wide, 12 layers, tubelets of 2 frames × 16², 16 frames → 8 × 196 tokens
    config = VideoMAEConfig(num_frames=16, image_size=IMAGE_SIZE, num_labels=174)
    return VideoMAEForVideoClassification(config)


def clip(frames: int) -> torch.Tensor:
    return torch.randn(1, frames, 3, IMAGE_SIZE, IMAGE_SIZE)


# key, name, frames, builder, takes precomputed depth, only with --fast
CASES = [
    ("dear-given", "DEAR, depth given", 8, lambda: dear("dear"), True, False),
    (
        "dear-dpt",
        "DEAR + depth on the fly, DPT-Hybrid shape",
        8,
        lambda: dear("dear", dpt_hybrid_midas_shape),
        False,
        False,
    ),
    (
        "dear-dpt-224",
        "DEAR + depth on the fly, DPT-Hybrid shape, depth at 224²",
        8,
        lambda: dear("dear", dpt_hybrid_midas_shape, IMAGE_SIZE),
        False,
        True,
    ),
    (
        "dear-da",
        "DEAR + depth on the fly, Depth-Anything-V2-Small shape",
        8,
        lambda: dear("dear", depth_anything_v2_small_shape),
        False,
        False,
    ),
    (
        "dear-da-224",
        "DEAR + depth on the fly, Depth-Anything-V2-Small shape, depth at 224²",
        8,
        lambda: dear("dear", depth_anything_v2_small_shape, IMAGE_SIZE),
        False,
        True,
    ),
    ("s4v", "S4V* (RGB only)", 8, lambda: dear("s4v-rgb"), False, False),
    ("videomae", "VideoMAE-B (16 frames, 174 classes)", 16, videomae, False, False),
]


def _autocast(dtype):
    return torch.autocast("cpu", dtype=dtype) if dtype is not None else contextlib.nullcontext()


class StageTimer:
    """Wall time spent inside groups of modules, accumulated by forward hooks (DEAR models only)."""

    def __init__(self, model):
        from modeling_dear.modeling_encoders import VideoMambaEncoder
        from modeling_dear.modeling_side4video import Side4VideoSideNetwork

        dear_model = model.dear
        groups = {
            "depth": [dear_model.on_the_fly_depth] if dear_model.on_the_fly_depth is not None else [],
            "CLIP": [dear_model.backbone] if dear_model.backbone is not None else [],
            "side networks": [e for e in dear_model.encoders.values() if isinstance(e, Side4VideoSideNetwork)],
            "VideoMamba": [e for e in dear_model.encoders.values() if isinstance(e, VideoMambaEncoder)],
            "fusion + heads": [*dear_model.fusion.values(), *model.classifiers.values()],
        }
        self.stages = [name for name, modules in groups.items() if modules]
        self.seconds = defaultdict(float)
        self._started = {}
        self.handles = []
        for name, modules in groups.items():
            for module in modules:
                self.handles.append(module.register_forward_pre_hook(lambda *_, n=name: self._enter(n)))
                self.handles.append(module.register_forward_hook(lambda *_, n=name: self._exit(n)))

    def _enter(self, name):
        self._started[name] = time.perf_counter()

    def _exit(self, name):
        self.seconds[name] += time.perf_counter() - self._started.pop(name)

    def reset(self):
        self.seconds = defaultdict(float)

    def remove(self):
        for handle in self.handles:
            handle.remove()


def measure(model, inputs: dict, repeats: int, autocast_dtype=None, warm_up: bool = True, stages=None):
    """Best wall time of `repeats` runs, and the stage times of that best run (when `stages` is a StageTimer)."""
    best, best_stages = float("inf"), None
    with torch.inference_mode(), _autocast(autocast_dtype):
        if warm_up:
            model(**inputs)  # first-call allocations and kernel selection
        for _ in range(repeats):
            if stages is not None:
                stages.reset()
            start = time.perf_counter()
            model(**inputs)
            elapsed = time.perf_counter() - start
            if elapsed < best:
                best, best_stages = elapsed, dict(stages.seconds) if stages is not None else None
    return best, best_stages


def decode_seconds(repeats: int) -> float:
    """Best wall time of `DearVideoProcessor` decoding, sampling 8 frames of and normalising one SSv2-like clip."""
    import tempfile

    from common import ssv2_like_clip

    from modeling_dear.processing_dear import DearVideoProcessor
    from modeling_dear.video_io import encode_video

    frames, _ = ssv2_like_clip(0)
    processor = DearVideoProcessor(num_frames=8)
    with tempfile.NamedTemporaryFile(suffix=".webm") as handle:
        handle.write(encode_video(frames))
        handle.flush()
        processor(handle.name, mode="val")  # warm-up
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            processor(handle.name, mode="val")
            best = min(best, time.perf_counter() - start)
    return best


def logits_and_depth(model, inputs: dict, autocast_dtype=None):
    with torch.inference_mode(), _autocast(autocast_dtype):
        logits = model(**inputs).logits.float()
        depth = model.estimate_depth(inputs["pixel_values"]) if model.config.estimates_depth else None
    return logits, depth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per model (the best is reported)")
    parser.add_argument("--bf16", action="store_true", help="also time each model under CPU bfloat16 autocast")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1; 2 = a free Space)")
    parser.add_argument("--stages", action="store_true", help="per-stage breakdown of the DEAR models")
    parser.add_argument(
        "--fast", action="store_true", help="add the depth-at-224² models and print logit / depth differences"
    )
    parser.add_argument(
        "--cases", nargs="+", choices=[key for key, *_ in CASES], help="run only these models (default: all)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    reference = {"fp32": matmul_gflops(torch.float32)}
    if args.bf16:
        reference["bf16"] = matmul_gflops(torch.bfloat16)
    print(
        f"{platform.machine()} {platform.processor() or ''}, native bf16 (avx512_bf16/amx_bf16): "
        f"{'yes' if cpu_supports_bf16() else 'no'}; torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"batch 1, {IMAGE_SIZE}x{IMAGE_SIZE}; best of {args.repeats} after a warm-up\n"
        f"reference: 2048² matmul " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in reference.items()) + "\n",
        flush=True,
    )
    decode = decode_seconds(max(args.repeats, 2)) if args.stages else None
    if decode is not None:
        print(f"  decode + sample 8 frames + normalise, SSv2-like VP9 clip: {decode:.3f} s", flush=True)

    rows, stage_rows, differences = [], [], []
    references_by_depth = {}
    for key, name, frames, build, given_depth, fast_only in CASES:
        if (args.cases and key not in args.cases) or (fast_only and not args.fast and not args.cases):
            continue
        # the same random weights for a model and its fast variant (the depth input size is not a weight)
        torch.manual_seed(0)
        # no parameter needs a gradient: FlopCounterMode's module tracker hooks any that does, which fails
        # under inference_mode
        model = build().eval().requires_grad_(False)
        torch.manual_seed(1)
        inputs = {"pixel_values": clip(frames)}
        if given_depth:
            inputs["depth_pixel_values"] = clip(frames)
        is_dear = isinstance(model, DearForVideoClassification)
        flops = count_flops(model, inputs)
        stages = StageTimer(model) if args.stages and is_dear else None
        seconds, stage32 = measure(model, inputs, args.repeats, warm_up=False, stages=stages)
        bf16, stage16 = (
            measure(model, inputs, args.repeats, torch.bfloat16, stages=stages) if args.bf16 else (None, None)
        )
        rows.append((name, frames, flops, seconds, bf16))
        print(
            f"  {name}: {flops / 1e9:.0f} GFLOPs, {seconds:.2f} s" + (f", bf16 {bf16:.2f} s" if bf16 else ""),
            flush=True,
        )
        if stages is not None:
            for precision, total, by_stage in (("fp32", seconds, stage32), ("bf16", bf16, stage16)):
                if by_stage is not None:
                    stage_rows.append((name, precision, total, by_stage, stages.stages))
            stages.remove()
        if args.fast and is_dear:
            fp32_logits, fp32_depth = logits_and_depth(model, inputs)
            row = {"name": name}
            if cpu_supports_bf16():
                bf16_logits, bf16_depth = logits_and_depth(model, inputs, torch.bfloat16)
                row["bf16 vs fp32: max |Δ logit|"] = (bf16_logits - fp32_logits).abs().max().item()
                row["bf16 vs fp32: logit std"] = fp32_logits.std().item()
                row["bf16 vs fp32: same top-1"] = bool((bf16_logits.argmax(-1) == fp32_logits.argmax(-1)).all())
                if fp32_depth is not None:
                    levels = (bf16_depth.float() - fp32_depth.float()).abs()
                    row["bf16 vs fp32: depth levels mean / max"] = f"{levels.mean():.2f} / {levels.max():.0f}"
            base_key = key.removesuffix("-224")
            if key.endswith("-224") and base_key in references_by_depth:
                ref_logits, ref_depth = references_by_depth[base_key]
                row["224² vs native depth input: max |Δ logit|"] = (fp32_logits - ref_logits).abs().max().item()
                levels = (fp32_depth.float() - ref_depth.float()).abs()
                row["224² vs native depth input: depth levels mean / max"] = f"{levels.mean():.2f} / {levels.max():.0f}"
            elif fp32_depth is not None:
                references_by_depth[key] = (fp32_logits, fp32_depth)
            differences.append(row)
        del model
        gc.collect()

    base = next((seconds for name, _, _, seconds, _ in rows if name.startswith("S4V*")), None)
    base_bf16 = next((bf16 for name, _, _, _, bf16 in rows if name.startswith("S4V*")), None)
    header = "| model | frames | GFLOPs / clip | fp32 s / clip | × S4V* | fp32 GFLOP/s | % of fp32 matmul |"
    rule = "|---|---|---|---|---|---|---|"
    if args.bf16:
        header += " bf16 s / clip | bf16 × S4V* | bf16 GFLOP/s | % of bf16 matmul |"
        rule += "---|---|---|---|"
    print(f"\n{args.threads} thread(s)\n\n" + header + "\n" + rule)
    for name, frames, flops, seconds, bf16 in rows:
        rate = flops / seconds / 1e9
        line = (
            f"| {name} | {frames} | {flops / 1e9:.0f} | {seconds:.2f} | "
            f"{seconds / base if base else float('nan'):.2f} | {rate:.0f} | {100 * rate / reference['fp32']:.0f} % |"
        )
        if args.bf16:
            rate16 = flops / bf16 / 1e9
            line += (
                f" {bf16:.2f} | {bf16 / base_bf16 if base_bf16 else float('nan'):.2f} | {rate16:.0f} | "
                f"{100 * rate16 / reference['bf16']:.0f} % |"
            )
        print(line)

    if stage_rows:
        names = ["decode", "depth", "CLIP", "side networks", "VideoMamba", "fusion + heads", "rest"]
        print("\nWhere a DEAR clip's time goes (s, best run; decode timed apart and added to the total)\n")
        print("| model | precision | " + " | ".join(names) + " | total |")
        print("|---|---|" + "---|" * (len(names) + 1))
        for name, precision, total, by_stage, _ in stage_rows:
            rest = total - sum(by_stage.values())
            values = {"decode": decode, **by_stage, "rest": rest}
            cells = [
                f"{values[n]:.2f} ({100 * values[n] / (total + decode):.0f} %)" if n in values else "-" for n in names
            ]
            print(f"| {name} | {precision} | " + " | ".join(cells) + f" | {total + decode:.2f} |")

    if differences:
        print("\nFast settings against fp32 / the checkpoint's depth input (random weights)\n")
        for row in differences:
            name = row.pop("name")
            print(
                f"  {name}: "
                + "; ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}" for k, v in row.items())
            )


if __name__ == "__main__":
    main()
