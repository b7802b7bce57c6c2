# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""CPU cost of the VideoMamba selective scan and of whole VideoMamba encoders.

    python bench/selective_scan.py                 # everything (about 10 minutes on 2 cores)
    python bench/selective_scan.py --scan-only     # the scan table only
    python bench/selective_scan.py --block-sizes-only --d-inner 768   # part 3 only (under a minute)
    python bench/selective_scan.py --json out.json

Part 1 times one scan call at L = 1569 (8 frames of 224², batch 1, fp32, d_state 16) for d_inner 384
(Tiny) and 768 (Small): the fast path (`selective_scan`: blocked in-place scan under no_grad, the
block-recomputing autograd function with gradients) against the oracle (`selective_scan_reference`:
full (b, d, L, n) tensors, one step per position, plain autograd), forward and forward+backward, both at
the full length (the oracle's backward is quadratic in L and takes minutes; it runs once).

Part 2 times whole randomly initialised encoders (VideoMamba Tiny and Small with a 174-class head, batch 1)
at 8 and 16 frames: inference under no_grad, and a training step (forward, cross-entropy, backward, AdamW
step).

Part 3 times the fast scan of part 1 at block sizes (`--block-sizes`, positions per block of the CPU scan)
against the default, `DEFAULT_SCAN_BLOCK_SIZE` = 64. Measured on 2 shared x86-64 cores, 1 thread, L = 1569,
two runs at d_inner 768 and one at 384: forward, 16, 32 and 128 at 1.03-1.21× the time of 64; forward+backward,
32 and 128 at 1.05-1.14×, and 16 faster, 0.78-0.84×. The default is still 64, the size of the design
measurements (docs/videomamba.md §6) and of every result reported so far.

How memory is measured: every measurement runs in a fresh Python process. After the inputs (and model)
exist, the process resets its peak resident set size (writing 5 to /proc/self/clear_refs, Linux) and
reads its current RSS; after the first (cold) call it reads the peak (VmHWM). "Peak MB" is that peak minus
the RSS before the call: the extra physical memory the call needed on top of its inputs and weights, as
the OS saw it (this counts everything torch and the allocator touched, not just live tensors). Times are
the median of the warm repeats (the single cold run where only one is made, marked "1 run"), in process
CPU time (`time.process_time`), which with one thread equals wall time on an idle machine but, unlike wall
time, does not count the time the process waits for a core that other jobs hold (the JSON output also has
the wall times).

Threads: one torch thread by default, for both implementations. On a machine whose cores are shared with
other jobs, two-thread OpenMP runs stall at every parallel region whenever the other thread is descheduled;
identical two-thread runs of the fast scan measured from 27 ms to 1.3 s. Use `--threads 0` on a quiet
machine to let torch choose.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time

from common import reset_peak_rss, status_kib

# ---------------------------------------------------------------- worker side (one measurement per process)


def _measure(run, repeats):
    import gc

    def timed():
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        run()
        return time.process_time() - start_cpu, time.perf_counter() - start_wall

    gc.collect()
    reset_peak_rss()
    before = status_kib("VmRSS")
    cold = timed()
    peak = (status_kib("VmHWM") - before) / 1024.0
    warm = [timed() for _ in range(repeats - 1)] or [cold]
    cpu, wall = [t[0] for t in warm], [t[1] for t in warm]
    return {
        "seconds": statistics.median(cpu),
        "min_seconds": min(cpu),
        "wall_seconds": statistics.median(wall),
        "runs": repeats,
        "peak_mb": peak,
    }


def _scan_worker(spec):
    import torch

    from modeling_dear.selective_scan import selective_scan, selective_scan_reference

    torch.manual_seed(0)
    b, d, n, length = 1, spec["d_inner"], 16, spec["length"]
    # The regime of a trained model: softplus(δ) mostly in (0.05, 2), A = −(1..16).
    inputs = [
        torch.randn(b, d, length),  # u
        torch.randn(b, d, length) - 1.0,  # delta
        -torch.arange(1, n + 1, dtype=torch.float32).repeat(d, 1),  # A
        torch.randn(b, n, length),  # B
        torch.randn(b, n, length),  # C
        torch.ones(d),  # D
        torch.randn(b, d, length),  # z
        torch.zeros(d),  # delta_bias
    ]
    if spec["impl"] == "fast":
        fn = functools.partial(selective_scan, block_size=spec.get("block_size"))
    else:
        fn = selective_scan_reference
    grad_out = torch.randn(b, d, length)

    if spec["mode"] == "fwd":

        def run():
            with torch.no_grad():
                fn(*inputs)

    else:
        leaves = [t.clone().requires_grad_() for t in inputs]

        def run():
            for leaf in leaves:
                leaf.grad = None
            fn(*leaves).backward(grad_out)

    return _measure(run, spec["repeats"])


def _encoder_worker(spec):
    import torch

    from modeling_dear.configuration_videomamba import VideoMambaConfig
    from modeling_dear.modeling_videomamba import VideoMambaForVideoClassification

    torch.manual_seed(0)
    config = VideoMambaConfig.from_variant(spec["variant"], num_frames=spec["frames"], num_labels=174)
    model = VideoMambaForVideoClassification(config)
    pixels = torch.randn(1, spec["frames"], 3, 224, 224)
    labels = torch.tensor([7])

    if spec["mode"] == "infer":
        model.eval()

        def run():
            with torch.no_grad():
                model(pixels)

    else:
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

        def run():
            model(pixels, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

    result = _measure(run, spec["repeats"])
    result["tokens"] = config.sequence_length
    return result


def _worker(spec):
    import torch

    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    result = _scan_worker(spec) if spec["kind"] == "scan" else _encoder_worker(spec)
    result["threads"] = torch.get_num_threads()
    print("RESULT " + json.dumps(result), flush=True)


# ---------------------------------------------------------------- driver side


def measure(spec, timeout):
    label = " ".join(f"{k}={v}" for k, v in spec.items())
    print(f"  running {label} ...", file=sys.stderr, flush=True)
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
            print(f"    {result}", file=sys.stderr, flush=True)
            return result
    raise RuntimeError(f"measurement {label} failed:\n{proc.stderr[-3000:]}")


def fmt_time(result):
    seconds = result["seconds"]
    if seconds < 0.01:
        text = f"{seconds * 1000:.1f} ms"
    elif seconds < 10:
        text = f"{seconds * 1000:.0f} ms"
    else:
        text = f"{seconds:.1f} s"
    return text + (" (1 run)" if result["runs"] == 1 else "")


def _threads(args):
    return f"{args.threads} torch thread{'s' if args.threads != 1 else ''}" if args.threads else "torch's threads"


def scan_table(args):
    rows, raw = [], []
    for d_inner in args.d_inner:
        for mode, fast_repeats, oracle_repeats in (("fwd", 6, 3), ("fwdbwd", 4, 1)):
            base = {"kind": "scan", "d_inner": d_inner, "length": args.length, "mode": mode, "threads": args.threads}
            fast = measure({**base, "impl": "fast", "repeats": fast_repeats}, args.timeout)
            oracle = measure({**base, "impl": "oracle", "repeats": oracle_repeats}, args.timeout)
            raw.append({"d_inner": d_inner, "mode": mode, "fast": fast, "oracle": oracle})
            speedup = oracle["seconds"] / fast["seconds"]
            memory_ratio = fast["peak_mb"] / oracle["peak_mb"] if oracle["peak_mb"] > 0 else float("nan")
            target = "≥ 4× faster" if mode == "fwd" else "≥ 20× faster, ≤ 0.4× memory"
            met = speedup >= 4 if mode == "fwd" else (speedup >= 20 and memory_ratio <= 0.4)
            rows.append(
                f"| {d_inner} | {'forward' if mode == 'fwd' else 'forward+backward'} | {fmt_time(fast)} | "
                f"{fmt_time(oracle)} | {speedup:.1f}× | {fast['peak_mb']:.0f} | {oracle['peak_mb']:.0f} | "
                f"{memory_ratio:.2f} | {target}: {'yes' if met else 'NO'} |"
            )
    header = (
        f"### One selective-scan call, L = {args.length}, batch 1, fp32, d_state 16 (CPU time, {_threads(args)})\n\n"
        "| d_inner | pass | fast | oracle | speed-up | fast peak MB | oracle peak MB | memory ratio | target met |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    return header + "\n" + "\n".join(rows), raw


def block_size_table(args):
    from modeling_dear.configuration_videomamba import DEFAULT_SCAN_BLOCK_SIZE

    rows, raw = [], []
    d_inner = max(args.d_inner)
    for mode, repeats in (("fwd", 6), ("fwdbwd", 4)):
        base = {
            "kind": "scan",
            "impl": "fast",
            "d_inner": d_inner,
            "length": args.length,
            "mode": mode,
            "threads": args.threads,
            "repeats": repeats,
        }
        results = {size: measure({**base, "block_size": size}, args.timeout) for size in args.block_sizes}
        default = results.get(DEFAULT_SCAN_BLOCK_SIZE) or results[args.block_sizes[0]]
        raw.append({"d_inner": d_inner, "mode": mode, "by_block_size": results})
        for size, result in results.items():
            rows.append(
                f"| {'forward' if mode == 'fwd' else 'forward+backward'} | {size} | {fmt_time(result)} | "
                f"{result['seconds'] / default['seconds']:.2f} | {result['peak_mb']:.0f} |"
            )
    default_size = DEFAULT_SCAN_BLOCK_SIZE if DEFAULT_SCAN_BLOCK_SIZE in args.block_sizes else args.block_sizes[0]
    header = (
        f"### Block size of the fast scan, d_inner {d_inner}, L = {args.length}, batch 1, fp32 "
        f"(CPU time, {_threads(args)})\n\n"
        f"| pass | block size | time | × block {default_size} | peak MB |\n"
        "|---|---|---|---|---|"
    )
    return header + "\n" + "\n".join(rows), raw


def encoder_table(args):
    rows, raw = [], []
    for variant in args.variants:
        per_frames = {}
        for frames in args.frames:
            base = {"kind": "encoder", "variant": variant, "frames": frames, "threads": args.threads}
            infer = measure({**base, "mode": "infer", "repeats": 3}, args.timeout)
            train = measure({**base, "mode": "train", "repeats": 2}, args.timeout)
            per_frames[frames] = (infer, train)
            raw.append({"variant": variant, "frames": frames, "infer": infer, "train": train})
        first = min(per_frames)
        for frames, (infer, train) in sorted(per_frames.items()):
            base_infer, base_train = per_frames[first]
            rows.append(
                f"| {variant} | {frames} | {infer['tokens']} | {fmt_time(infer)} | "
                f"{infer['seconds'] / base_infer['seconds']:.2f} | {infer['peak_mb']:.0f} | {fmt_time(train)} | "
                f"{train['seconds'] / base_train['seconds']:.2f} | {train['peak_mb']:.0f} |"
            )
    header = (
        f"### Whole encoder (random weights, 174-class head, batch 1; CPU time, {_threads(args)})\n\n"
        f"Ratios are against {min(args.frames)} frames; linear cost in frames gives "
        f"{max(args.frames) / min(args.frames):.2f}.\n\n"
        "| model | frames | tokens L | inference | ratio | inference peak MB | training step | ratio | "
        "training peak MB |\n|---|---|---|---|---|---|---|---|---|"
    )
    return header + "\n" + "\n".join(rows), raw


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--scan-only", action="store_true", help="part 1 only")
    parser.add_argument("--encoder-only", action="store_true", help="part 2 only")
    parser.add_argument(
        "--block-sizes",
        type=int,
        nargs="+",
        default=[16, 32, 64, 128],
        help="part 3: fast-scan block sizes, at the largest --d-inner (default 16 32 64 128)",
    )
    parser.add_argument("--block-sizes-only", action="store_true", help="part 3 only")
    parser.add_argument("--length", type=int, default=1569, help="scan length (1569 = 1 + 8·196)")
    parser.add_argument("--d-inner", type=int, nargs="+", default=[384, 768])
    parser.add_argument("--variants", nargs="+", default=["tiny", "small"])
    parser.add_argument("--frames", type=int, nargs="+", default=[8, 16])
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads per measurement (default 1: see the module docstring); 0 = torch's choice",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per measurement")
    parser.add_argument("--json", help="also write the raw measurements here")
    args = parser.parse_args()
    if args.worker:
        _worker(json.loads(args.worker))
        return

    import platform

    import torch

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()}\n"
    )
    tables, raw = [], {}
    parts = {"scan": scan_table, "encoder": encoder_table, "block_size": block_size_table}
    only = [
        name
        for name, flag in (
            ("scan", args.scan_only),
            ("encoder", args.encoder_only),
            ("block_size", args.block_sizes_only),
        )
        if flag
    ]
    for name, part in parts.items():
        if only and name not in only:
            continue
        table, raw[name] = part(args)
        tables.append(table)
        print(table + "\n", flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(raw, handle, indent=2)


if __name__ == "__main__":
    main()
