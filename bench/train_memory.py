# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Peak memory of one training step: Side4Video with its frozen CLIP backbone vs full fine-tuning.

RGB Side4Video at the paper's shape (CLIP ViT-B/16, side width 320, 8 frames of 224², 174 classes),
random weights, batch 2, CPU, one AdamW step (forward, backward, optimiser update).

Each variant runs in a fresh subprocess. Peak memory is the process's resident-set high-water mark
(VmHWM, reset through /proc/self/clear_refs just before the step) minus the resident set at that moment
(model weights and inputs already resident): what the step itself adds — activations kept for backward,
gradients, optimiser state. The subprocesses run with MALLOC_MMAP_THRESHOLD_=65536, so that every tensor
of 64 KiB or more is its own mapping, returned to the system when freed: without it glibc's sliding mmap
threshold keeps freed tensors in the heap and the resident set overstates live memory by hundreds of MiB,
more so the more mid-sized tensors a variant frees. Prints both and the ratio (target: frozen ≤ 0.35 × full).

    python bench/train_memory.py [--frames 8] [--image-size 224] [--batch-size 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from common import ONE_MAPPING_PER_TENSOR_ENV, reset_peak_rss, status_kib


def measure(variant: str, frames: int, image_size: int, batch_size: int, precision: str) -> dict:
    import contextlib

    import torch

    from modeling_dear import DearConfig, DearForVideoClassification

    torch.manual_seed(0)
    model = DearForVideoClassification(DearConfig.from_preset("s4v-rgb", num_frames=frames, image_size=image_size))
    if variant == "frozen+checkpointing":
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if variant == "full":
        # full fine-tuning: the backbone trains with the side network, so its activations are kept for backward
        model.backbone.requires_grad_(True)

        def backbone_with_grad(pixel_values, output_attentions=False):
            return model.backbone(pixel_values=pixel_values.flatten(0, 1), output_hidden_states=True).hidden_states, ()

        model.dear._backbone_outputs = backbone_with_grad
    model.train()
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=1e-3, weight_decay=0.15)
    pixel_values = torch.randn(batch_size, frames, 3, image_size, image_size)
    labels = torch.randint(0, model.config.num_labels, (batch_size,))

    reset_peak_rss()
    resident_before = status_kib("VmRSS")
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()
    with autocast:
        loss = model(pixel_values=pixel_values, labels=labels).loss
    loss.backward()
    optimizer.step()
    peak = status_kib("VmHWM")
    return {
        "variant": variant,
        "trainable_parameters": sum(p.numel() for p in parameters),
        "step_peak_mib": (peak - resident_before) / 1024,
        "resident_before_mib": resident_before / 1024,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument(
        "--precision",
        choices=["fp32", "bf16", "both"],
        default="both",
        help="fp32, bf16 autocast (the recipe's mixed precision; fast on CPUs with AVX512-BF16), or both",
    )
    parser.add_argument("--variant", choices=["frozen", "frozen+checkpointing", "full"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.variant:
        print(json.dumps(measure(args.variant, args.frames, args.image_size, args.batch_size, args.precision)))
        return

    print(
        f"One training step, RGB Side4Video (CLIP ViT-B/16, side 320), {args.batch_size} clips x {args.frames} "
        f"frames x {args.image_size}², CPU ({os.cpu_count()} cores), AdamW"
    )
    print()
    # no step times here: with every tensor its own mapping, page faults make them meaningless (see bench/inference.py)
    print("| precision | backbone | trainable params | step peak memory |")
    print("|---|---|---|---|")
    ratios = {}
    for precision in ("fp32", "bf16") if args.precision == "both" else (args.precision,):
        results = {}
        for variant in ("frozen", "frozen+checkpointing", "full"):
            command = [
                sys.executable,
                __file__,
                "--variant",
                variant,
                "--frames",
                str(args.frames),
                "--image-size",
                str(args.image_size),
                "--batch-size",
                str(args.batch_size),
                "--precision",
                precision,
            ]
            environment = {**os.environ, **ONE_MAPPING_PER_TENSOR_ENV}
            output = subprocess.run(command, check=True, capture_output=True, text=True, env=environment).stdout
            results[variant] = json.loads(output.strip().splitlines()[-1])
        rows = (
            ("frozen (Side4Video)", results["frozen"]),
            ("frozen + side-block checkpointing", results["frozen+checkpointing"]),
            ("full fine-tuning", results["full"]),
        )
        for name, result in rows:
            print(
                f"| {precision} | {name} | {result['trainable_parameters'] / 1e6:.1f} M | "
                f"{result['step_peak_mib']:.0f} MiB |",
                flush=True,
            )
        full = results["full"]
        ratios[precision] = {
            name: results[name]["step_peak_mib"] / full["step_peak_mib"] for name in ("frozen", "frozen+checkpointing")
        }
    print()
    for precision, by_variant in ratios.items():
        for name, memory_ratio in by_variant.items():
            print(f"{precision}, {name}: memory / full fine-tuning = {memory_ratio:.3f} (target <= 0.35)")


if __name__ == "__main__":
    main()
