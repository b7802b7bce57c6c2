# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""One training step: DEAR against S4V* and fully fine-tuned VideoMAE-B, step time and peak memory.

Random weights, CPU, 1 thread, fp32, one AdamW step (forward, backward, optimiser update) on a batch of
`--batch-size` clips of 224²: DEAR and S4V* at 8 frames, transformers' `VideoMAEForVideoClassification` (base,
174 classes, every weight trained) at 16 frames, the usual SSv2 baseline.

Memory: each row runs in a fresh subprocess with MALLOC_MMAP_THRESHOLD_=65536 (see bench/train_memory.py): the
peak resident set the step adds to the resident model and inputs. DEAR is measured as it was ("no
checkpointing": selective recomputation of the side blocks only) and with the default memory option
(activation checkpointing, on in the training recipe: every Side4Video and VideoMamba block recomputed in
backward). The DEAR rows
also print where the memory goes: what each encoder's forward keeps for backward (resident-set growth across
the encoder, read by forward hooks) and its parameters' gradients + AdamW moments (12 bytes per weight).

Time: in another process without the malloc setting (its page faults distort times), the step is timed with
and without the memory option, alternating, and the ratio of the medians is printed; S4V* and VideoMAE-B
are timed in their own processes. Times vary with the load on a shared machine; the ratio is what to read.

    python bench/train_step.py [--batch-size 2] [--repeats 2] [--skip-times] [--skip-memory] [--block-sizes]
        [--isa native|avx2] [--variants dear videomae-b ...]

`--isa avx2` runs every subprocess with oneDNN and ATen's kernels limited to AVX2, as on a CPU without
AVX-512/bf16 (where the issue saw DEAR at 0.62× VideoMAE-B's memory instead of 0.48×). `--block-sizes` alternates
the CPU scan's block size 16 and 64 in DEAR's default step.

Measured with it (the reason the recipe turns activation checkpointing on; README, Performance): DEAR's step peak
went from 3573 to 887 MiB (4.0× less; 0.48× VideoMAE-B's 1842 MiB) for 1.11× the step time. Re-measured with
the code of issue 23: 1138 MiB (0.62×) with the encoder blocks alone, natively and with `--isa avx2` alike; with
the fusion layers re-run too (today's default) 911 MiB (0.49×).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from common import ONE_MAPPING_PER_TENSOR_ENV, reset_peak_rss, status_kib

MIB = 1024 * 1024


def build(variant: str):
    """(model, inputs) for one row; weights random, seeded."""
    import torch

    torch.manual_seed(0)
    if variant == "videomae-b":
        from transformers import VideoMAEConfig, VideoMAEForVideoClassification

        config = VideoMAEConfig(num_frames=16, image_size=224, num_labels=174)  # base: 12 × 768, tubelet 2
        model = VideoMAEForVideoClassification(config)
        frames = 16
    else:
        from modeling_dear import DearConfig, DearForVideoClassification

        preset = "s4v-rgb" if variant == "s4v" else "dear"
        config = DearConfig.from_preset(preset)
        model = DearForVideoClassification(config)
        if variant in ("dear", "dear-encoders-only"):
            model.activation_checkpointing_enable()  # what the training recipe turns on
        if variant == "dear-encoders-only":
            # the default before the fusion layers were checkpointed too: the encoders' blocks only
            for stream in model.dear.fusion.values():
                for layer in stream.layers:
                    layer.gradient_checkpointing = False
        frames = config.num_frames
    model.train()
    generator = torch.Generator().manual_seed(1)
    inputs = {"pixel_values": torch.randn(BATCH_SIZE, frames, 3, 224, 224, generator=generator)}
    if variant.startswith("dear"):
        inputs["depth_pixel_values"] = torch.randn(BATCH_SIZE, frames, 3, 224, 224, generator=generator)
    inputs["labels"] = torch.randint(0, 174, (BATCH_SIZE,), generator=generator)
    return model, inputs


def step(model, inputs, optimizer):
    loss = model(**inputs).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.item()


def _optimizer(model):
    import torch

    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.15)


def measure_memory(variant: str) -> dict:
    model, inputs = build(variant)
    optimizer = _optimizer(model)
    breakdown = {}
    if variant.startswith("dear"):
        encoders = {
            "RGB Side4Video": [model.dear.encoders["rgb_side4video"]],
            "depth Side4Video": [model.dear.encoders["depth_side4video"]],
            "depth VideoMamba": [model.dear.encoders["depth_videomamba"]],
            # the ModuleDicts never run as a whole: each stream and head does
            "fusion + heads": [*model.dear.fusion.values(), *model.classifiers.values()],
        }
        entered = {}

        def on_enter(name):
            entered[name] = status_kib("VmRSS")

        def on_exit(name):
            kept = breakdown[name].get("activations_mib", 0.0)
            breakdown[name]["activations_mib"] = kept + (status_kib("VmRSS") - entered[name]) / 1024

        for name, modules in encoders.items():
            parameters = sum(p.numel() for module in modules for p in module.parameters() if p.requires_grad)
            breakdown[name] = {"parameters": parameters, "weights_state_mib": 12 * parameters / MIB}
            for module in modules:
                module.register_forward_pre_hook(lambda _m, _a, n=name: on_enter(n))
                module.register_forward_hook(lambda _m, _a, _o, n=name: on_exit(n))
    reset_peak_rss()
    resident_before = status_kib("VmRSS")
    step(model, inputs, optimizer)
    peak = status_kib("VmHWM")
    return {
        "variant": variant,
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "step_peak_mib": (peak - resident_before) / 1024,
        "breakdown": breakdown,
    }


def _set_scan_block_size(model, size: int) -> None:
    for module in model.modules():
        if hasattr(module, "scan_block_size"):
            module.scan_block_size = size


def step_flops(model, inputs, optimizer) -> float:
    """FLOPs of one step as it runs (forward, backward with its recomputations, optimiser), counted by
    `torch.utils.flop_counter` (matrix products, convolutions, attention; element-wise work not counted)."""
    import torch
    from common import _cpu_sdpa_flops
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(
        display=False, custom_mapping={torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_sdpa_flops}
    )
    with counter:
        step(model, inputs, optimizer)
    return counter.get_total_flops()


def measure_time(variant: str, repeats: int) -> dict:
    """Seconds per step (process CPU time, 1 thread) and the step's counted FLOPs. For "dear-both", the same model
    with and without the memory option, alternating, so that their ratio sees the same machine load; for
    "dear-blocks", the default model with the CPU scan's block size 16 and 64, alternating."""
    import torch

    torch.set_num_threads(1)
    model, inputs = build({"dear-both": "dear-plain", "dear-blocks": "dear"}.get(variant, variant))
    optimizer = _optimizer(model)
    flops = step_flops(model, inputs, optimizer)  # doubles as the warm-up: allocator, optimiser state
    settings = {"dear-both": (False, True), "dear-blocks": (16, 64)}.get(variant, (None,))
    times = {setting: [] for setting in settings}
    for _ in range(repeats):
        for setting in settings:
            if variant == "dear-both":
                if setting:
                    model.activation_checkpointing_enable()
                else:
                    model.activation_checkpointing_disable()
            elif variant == "dear-blocks":
                _set_scan_block_size(model, setting)
            start = time.process_time()
            step(model, inputs, optimizer)
            times[setting].append(time.process_time() - start)
    return {**{str(setting): statistics.median(values) for setting, values in times.items()}, "flops": flops}


def _run(arguments: list[str], environment: dict) -> dict:
    command = [sys.executable, __file__, *arguments, "--batch-size", str(BATCH_SIZE)]
    completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **environment})
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


BATCH_SIZE = 2


def main():
    global BATCH_SIZE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="timed steps per setting (median reported)")
    parser.add_argument("--skip-times", action="store_true", help="memory only")
    parser.add_argument("--skip-memory", action="store_true", help="times only")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), help="memory rows to measure (default: all)")
    parser.add_argument(
        "--block-sizes", action="store_true", help="also time DEAR's step with the scan's block size 16 vs 64"
    )
    parser.add_argument(
        "--isa",
        choices=["native", "avx2"],
        default="native",
        help="avx2: run the steps as on a CPU without AVX-512/bf16 (oneDNN and ATen kernels limited to AVX2)",
    )
    parser.add_argument("--memory", help=argparse.SUPPRESS)
    parser.add_argument("--time", help=argparse.SUPPRESS)
    args = parser.parse_args()
    BATCH_SIZE = args.batch_size
    if args.memory:
        import torch

        torch.set_num_threads(1)
        print(json.dumps(measure_memory(args.memory)))
        return
    if args.time:
        print(json.dumps(measure_time(args.time, args.repeats)))
        return

    single_thread = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if args.isa == "avx2":
        # what differs on a CPU without AVX-512: oneDNN (convolutions, some matmuls) and ATen's vectorised kernels
        single_thread.update({"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"})
    memory_environment = {**single_thread, **ONE_MAPPING_PER_TENSOR_ENV}
    variants = {key: label for key, label in VARIANTS.items() if not args.variants or key in args.variants}
    memory = {}
    if not args.skip_memory:
        memory = {variant: _run(["--memory", variant], memory_environment) for variant in variants}
    times, flops = {}, {}
    if not args.skip_times:
        both = _run(["--time", "dear-both", "--repeats", str(args.repeats)], single_thread)
        times["dear-plain"], times["dear"] = both["False"], both["True"]
        flops["dear-plain"] = both["flops"]  # counted with checkpointing off (the model's state at the warm-up)
        for variant in ("s4v", "videomae-b"):
            result = _run(["--time", variant, "--repeats", str(args.repeats)], single_thread)
            times[variant], flops[variant] = result["None"], result["flops"]
        if args.block_sizes:
            blocks = _run(["--time", "dear-blocks", "--repeats", str(args.repeats)], single_thread)
            times["dear, scan block 16"], times["dear, scan block 64"] = blocks["16"], blocks["64"]
            flops["dear"] = blocks["flops"]  # the default model, recomputations included

    isa = "oneDNN/ATen limited to AVX2 (as a CPU without AVX-512/bf16)" if args.isa == "avx2" else "native ISA"
    print(f"One AdamW training step, {BATCH_SIZE} clips of 224², fp32, CPU, 1 thread, random weights, {isa}")
    print()
    print(
        "| model | trainable params | step peak memory | × VideoMAE-B | step CPU s | × DEAR before | "
        "counted step GFLOP | GFLOP/s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    reference = memory["videomae-b"]["step_peak_mib"] if "videomae-b" in memory else float("nan")
    for variant, label in {**VARIANTS, **{k: k for k in times if k not in VARIANTS}}.items():
        if variant not in memory and variant not in times:
            continue
        row = memory.get(variant)
        seconds = f"{times[variant]:.1f}" if variant in times else "-"
        vs_before = f"{times[variant] / times['dear-plain']:.2f}" if variant in times and "dear-plain" in times else "-"
        counted = f"{flops[variant] / 1e9:.0f}" if variant in flops else "-"
        rate = f"{flops[variant] / times[variant] / 1e9:.1f}" if variant in flops and variant in times else "-"
        print(
            f"| {label} | {row['trainable_parameters'] / 1e6:.1f} M | {row['step_peak_mib']:.0f} MiB | "
            f"{row['step_peak_mib'] / reference:.2f} | {seconds} | {vs_before} | {counted} | {rate} |"
            if row
            else f"| {label} | - | - | - | {seconds} | {vs_before} | {counted} | {rate} |"
        )
    for variant in ("dear-plain", "dear-encoders-only", "dear"):
        if variant not in memory:
            continue
        print()
        print(f"{variants[variant]}: where the step's memory goes")
        print()
        print("| encoder | trainable params | activations kept for backward | gradients + AdamW moments |")
        print("|---|---|---|---|")
        for name, part in memory[variant]["breakdown"].items():
            print(
                f"| {name} | {part['parameters'] / 1e6:.1f} M | {part.get('activations_mib', float('nan')):.0f} MiB | "
                f"{part['weights_state_mib']:.0f} MiB |"
            )
    print()
    if "dear" in memory:
        ratio = memory["dear"]["step_peak_mib"] / reference
        print(f"DEAR peak / VideoMAE-B peak = {ratio:.2f} (target <= 0.5)")
    if times:
        print(f"DEAR step time with / without activation checkpointing = {times['dear'] / times['dear-plain']:.2f}")
        print(f"DEAR step time / VideoMAE-B step time = {times['dear'] / times['videomae-b']:.2f} (target <= 1.0)")
    if "dear, scan block 16" in times:
        print(f"DEAR step, scan block 16 / 64 = {times['dear, scan block 16'] / times['dear, scan block 64']:.2f}")


VARIANTS = {
    "dear-plain": "DEAR, 8 frames, no checkpointing (before)",
    "dear-encoders-only": "DEAR, 8 frames, encoder blocks checkpointed, fusion not (the previous default)",
    "dear": "DEAR, 8 frames, activation checkpointing (recipe default: encoder blocks and fusion layers)",
    "s4v": "S4V* (RGB), 8 frames, no checkpointing",
    "videomae-b": "VideoMAE-B full fine-tuning, 16 frames",
}


if __name__ == "__main__":
    main()
