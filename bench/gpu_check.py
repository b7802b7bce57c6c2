# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""One-GPU check of DEAR's CUDA paths, in under 5 minutes: prints one table.

    python bench/gpu_check.py                 # on a machine with a CUDA GPU
    python bench/gpu_check.py --json out.json

Rows (random weights, nothing downloaded):

1. DEAR (preset "dear": RGB Side4Video, depth Side4Video, depth VideoMamba-Tiny, 2 fusion streams), one
   training step — forward, loss, backward, AdamW — under bf16 autocast, batch 16 clips × 8 frames × 224²:
   seconds per step (median of the timed steps after warm-up) and peak GPU memory
   (`torch.cuda.max_memory_allocated`);
2. DEAR inference, bf16, batch 16: clips/s;
3. depth extraction with `DepthEstimator` on a model shaped like the default depth model
   (Intel/dpt-hybrid-midas), 240×427 frames uploaded from uint8 host arrays, bf16 (the CUDA default):
   frames/s at the checkpoint's 384² input and at the frames' aspect ratio (224×384), the fraction of the
   GPU's dense bf16 peak that is (from FLOPs counted per frame), and the projected GPU-hours for SSv2;
4. the VideoMamba selective scan, VideoMamba-Tiny shape (batch 2, d_inner 384, L 1569, d_state 16), fp32:
   the pure-torch scan on CUDA against the CPU scan (always), and `mamba_ssm`'s CUDA kernel against the CPU
   scan when mamba-ssm is installed — forward and gradients, at mamba-ssm's own fp32 test tolerances
   (rtol 6e-4, atol 2e-3; gradients atol 1e-2), with each one's time.

Without a CUDA device it prints "no CUDA device" and exits with code 0 (nothing to check, not a failure);
`--require-gpu` makes that exit code 3 instead. `--smoke` runs every row with tiny models on whatever device
there is (CPU here), so that the script is tested without a GPU (tests/test_gpu_check.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from common import count_flops, dpt_hybrid_midas_shape

NO_GPU_EXIT_CODE = 0
REQUIRED_GPU_EXIT_CODE = 3
SSV2_FRAMES = 10.2e6
# dense bf16 tensor-core peak in TFLOP/s, by a substring of torch.cuda.get_device_name()
BF16_PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 70.0, "L4": 121.0}
SCAN_TOLERANCE = {"rtol": 6e-4, "atol": 2e-3}
SCAN_GRAD_TOLERANCE = {"rtol": 6e-4, "atol": 1e-2}


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


def timed(fn, device: torch.device, warmup: int, repeats: int) -> float:
    """Median seconds of `repeats` calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def autocast(device: torch.device):
    return torch.autocast(device.type, dtype=torch.bfloat16)


def dear_rows(device, smoke: bool, batch_size: int) -> list[dict]:
    from modeling_dear import DearConfig, DearForVideoClassification

    preset = "tiny" if smoke else "dear"
    torch.manual_seed(0)
    model = DearForVideoClassification(DearConfig.from_preset(preset)).to(device)
    config = model.config
    shape = (batch_size, config.num_frames, 3, config.image_size, config.image_size)
    pixel_values = torch.randn(shape, device=device)
    depth_pixel_values = torch.randn(shape, device=device)
    labels = torch.randint(0, config.num_labels, (batch_size,), device=device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=1e-3, weight_decay=0.15)

    def train_step():
        with autocast(device):
            loss = model(pixel_values=pixel_values, depth_pixel_values=depth_pixel_values, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    model.train()
    reset_peak(device)
    step_s = timed(train_step, device, warmup=1 if smoke else 3, repeats=2 if smoke else 10)
    train_peak = peak_gib(device)
    optimizer = None  # frees its state before inference
    model.eval()

    def infer():
        with torch.inference_mode(), autocast(device):
            model(pixel_values=pixel_values, depth_pixel_values=depth_pixel_values)

    reset_peak(device)
    infer_s = timed(infer, device, warmup=1 if smoke else 3, repeats=2 if smoke else 10)
    infer_peak = peak_gib(device)
    clips = f"batch {batch_size} × {config.num_frames} frames × {config.image_size}²"
    return [
        {
            "check": f"DEAR training step, bf16, {clips}",
            "value": f"{step_s:.3f} s/step",
            "detail": f"peak {train_peak:.1f} GiB" if train_peak is not None else "peak: CUDA only",
            "seconds": step_s,
            "peak_gib": train_peak,
        },
        {
            "check": f"DEAR inference, bf16, {clips}",
            "value": f"{batch_size / infer_s:.1f} clips/s",
            "detail": f"peak {infer_peak:.1f} GiB" if infer_peak is not None else "peak: CUDA only",
            "clips_per_s": batch_size / infer_s,
            "peak_gib": infer_peak,
        },
    ]


def depth_rows(device, smoke: bool) -> list[dict]:
    import numpy as np
    from transformers import AutoModelForDepthEstimation

    from modeling_dear.depth_estimation import DepthEstimator
    from modeling_dear.testing_utils import tiny_hybrid_dpt_config, tiny_hybrid_dpt_image_processor

    if smoke:  # DPT-Hybrid's structure (BiT stem + ViT) at toy widths
        config, processor = tiny_hybrid_dpt_config(), tiny_hybrid_dpt_image_processor()
        frames_n, height, width = 8, 60, 107
    else:
        config, processor = dpt_hybrid_midas_shape()
        frames_n, height, width = 256, 240, 427
    torch.manual_seed(0)
    model = AutoModelForDepthEstimation.from_config(config).eval().requires_grad_(False)
    frames = np.random.default_rng(0).integers(0, 256, (frames_n, height, width, 3), dtype=np.uint8)
    peak = next(
        (v for k, v in BF16_PEAK_TFLOPS.items() if device.type == "cuda" and k in torch.cuda.get_device_name(device)),
        None,
    )
    rows = []
    for label, aspect in (("the checkpoint's square input", None), ("the frames' aspect ratio", True)):
        estimator = DepthEstimator(
            model, image_processor=processor, device=device, batch_size=64 if not smoke else 4, keep_aspect_ratio=aspect
        )
        size = estimator.model_input_size(height, width)
        flops = count_flops(estimator.model, {"pixel_values": torch.randn(1, 3, *size, device=device)})
        seconds = timed(lambda estimator=estimator: estimator(frames), device, warmup=1, repeats=1 if smoke else 3)
        fps = frames_n / seconds
        detail = f"{size[0]}×{size[1]} input, {flops / 1e9:.0f} GFLOP/frame, {fps * flops / 1e12:.1f} TFLOP/s"
        if peak is not None:
            detail += f" = {100 * fps * flops / 1e12 / peak:.0f} % of {peak:.0f} bf16 peak"
        hours = SSV2_FRAMES / fps / 3600
        detail += f"; SSv2 ({SSV2_FRAMES / 1e6:.1f} M frames): {hours:.1f} GPU-hours"
        precision = str(estimator.autocast_dtype or torch.float32).replace("torch.", "")
        rows.append(
            {
                "check": f"depth extraction, DPT-Hybrid shape, {label}, {precision}, {height}×{width} frames",
                "value": f"{fps:.1f} frames/s",
                "detail": detail,
                "frames_per_s": fps,
                "gflop_per_frame": flops / 1e9,
                "ssv2_gpu_hours": hours,
            }
        )
    return rows


def scan_rows(device, smoke: bool) -> list[dict]:
    from modeling_dear.selective_scan import get_mamba_selective_scan_fn, selective_scan

    batch, d_inner, length, n = (1, 16, 40, 4) if smoke else (2, 384, 1569, 16)
    generator = torch.Generator().manual_seed(0)

    def rand(*shape, scale=1.0):
        return (torch.randn(*shape, generator=generator) * scale).requires_grad_(True)

    inputs = {
        "u": rand(batch, d_inner, length),
        "delta": rand(batch, d_inner, length, scale=0.5),
        "A": (-torch.rand(d_inner, n, generator=generator) - 0.5).requires_grad_(True),
        "B": rand(batch, n, length),
        "C": rand(batch, n, length),
        "D": rand(d_inner),
        "z": rand(batch, d_inner, length),
        "delta_bias": rand(d_inner, scale=0.1),
    }
    grad_out = torch.randn(batch, d_inner, length, generator=generator)

    def run(where, use_kernel):
        local = {k: v.detach().to(where).requires_grad_(True) for k, v in inputs.items()}
        out = selective_scan(**local, delta_softplus=True, use_kernel=use_kernel)
        out.backward(grad_out.to(where))
        synchronize(torch.device(where))
        return out.detach().cpu(), {k: v.grad.cpu() for k, v in local.items()}

    def seconds(where, use_kernel):
        return timed(lambda: run(where, use_kernel), torch.device(where), warmup=1, repeats=1 if smoke else 3)

    reference = run("cpu", False)
    cpu_s = seconds("cpu", False)
    candidates = [("pure-torch scan on " + device.type, device, False)]
    if device.type == "cuda" and get_mamba_selective_scan_fn() is not None:
        candidates.append(("mamba-ssm CUDA kernel", device, True))
    elif device.type == "cuda":
        print("mamba-ssm not installed: the CUDA kernel row is skipped", flush=True)
    rows = []
    for label, where, use_kernel in candidates:
        out, grads = run(where, use_kernel)
        failures = []
        try:
            torch.testing.assert_close(out, reference[0], **SCAN_TOLERANCE)
        except AssertionError as error:
            failures.append(
                f"output: {str(error).splitlines()[2].strip() if len(str(error).splitlines()) > 2 else error}"
            )
        for name, grad in grads.items():
            try:
                torch.testing.assert_close(grad, reference[1][name], **SCAN_GRAD_TOLERANCE)
            except AssertionError:
                failures.append(f"grad {name}")
        elapsed = seconds(where, use_kernel)
        max_error = (out - reference[0]).abs().max().item()
        rows.append(
            {
                "check": f"selective scan fwd+bwd, {label} vs CPU scan ({batch}×{d_inner}×{length}, n {n})",
                "value": "match" if not failures else "MISMATCH: " + ", ".join(failures),
                "detail": f"max |Δout| {max_error:.1e}; {elapsed * 1000:.1f} ms vs CPU {cpu_s * 1000:.1f} ms",
                "ok": not failures,
                "seconds": elapsed,
                "cpu_seconds": cpu_s,
            }
        )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny models on any device (tests the script itself)")
    parser.add_argument(
        "--require-gpu",
        action="store_true",
        help=f"exit with code {REQUIRED_GPU_EXIT_CODE} instead of {NO_GPU_EXIT_CODE} without CUDA",
    )
    parser.add_argument("--batch-size", type=int, default=16, help="clips per DEAR step (default 16)")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    if not torch.cuda.is_available() and not args.smoke:
        print(
            "no CUDA device: bench/gpu_check.py has nothing to check on this machine "
            "(run it on a machine with a GPU; --smoke exercises it on CPU with tiny models)"
        )
        return REQUIRED_GPU_EXIT_CODE if args.require_gpu else NO_GPU_EXIT_CODE
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(1)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"{name}, torch {torch.__version__}"
        + (f", CUDA {torch.version.cuda}" if device.type == "cuda" else "")
        + (" (smoke: tiny models)" if args.smoke else ""),
        flush=True,
    )

    started = time.perf_counter()
    rows = []
    for label, section in (
        (
            "DEAR training step and inference",
            lambda: dear_rows(device, args.smoke, 2 if args.smoke else args.batch_size),
        ),
        ("depth extraction", lambda: depth_rows(device, args.smoke)),
        ("selective scan", lambda: scan_rows(device, args.smoke)),
    ):
        try:
            rows += section()
        except Exception as error:  # one failing section must not hide the others' numbers
            rows.append(
                {
                    "check": label,
                    "value": "ERROR",
                    "detail": f"{type(error).__name__}: {error}".splitlines()[0],
                    "ok": False,
                }
            )
        finally:
            if device.type == "cuda":
                torch.cuda.empty_cache()
        print(f"  ... {rows[-1]['check']}: {rows[-1]['value']} ({time.perf_counter() - started:.0f} s)", flush=True)

    print("\n| check | result | detail |\n|---|---|---|")
    for row in rows:
        print(f"| {row['check']} | {row['value']} | {row['detail']} |")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"device": name, "rows": rows}, indent=2))
    return 1 if any(row.get("ok") is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
