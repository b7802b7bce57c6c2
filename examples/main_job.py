#!/usr/bin/env python
# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The main job: does depth help? RGB-only vs full DEAR, trained and tested on the built-in synthetic data.

1. generates (or reuses) the synthetic depth-sensitive dataset (modeling_dear.data.synthetic);
2. trains the tiny preset twice with `accelerate launch examples/run_ssv2.py`: RGB only (`tiny-s4v-rgb`) and
   full DEAR (`tiny`: RGB + depth Side4Video + depth VideoMamba), same data, schedule and seed;
3. tests both with 2 clips x 3 crops, then compares them class by class (modeling_dear.evaluation.per_class_comparison);
4. prints both accuracies, the accuracy on the classes that only depth can separate and on the others, and
   writes everything under --output (default outputs/main_job).

    python examples/main_job.py            # about 10 minutes on a 2-core CPU
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VARIANTS = (("RGB", "tiny-s4v-rgb"), ("DEAR", "tiny"))


def run_training(preset: str, output_dir: Path, args, data_cache: Path) -> None:
    launcher = shutil.which("accelerate")
    prefix = (
        [
            launcher,
            "launch",
            "--cpu",
            "--num_processes",
            "1",
            "--num_machines",
            "1",
            "--mixed_precision",
            "no",
            "--dynamo_backend",
            "no",
        ]
        if launcher and not args.no_accelerate
        else [sys.executable]
    )
    command = prefix + [
        str(HERE / "run_ssv2.py"),
        "--preset",
        preset,
        "--dataset",
        "synthetic",
        "--synthetic_cache_dir",
        str(data_cache),
        "--synthetic_train_per_class",
        str(args.train_per_class),
        "--synthetic_eval_per_class",
        str(args.eval_per_class),
        "--output_dir",
        str(output_dir),
        "--resume_latest",
        "false",
        "--do_train",
        "--do_eval",
        "--do_predict",
        "--num_train_epochs",
        str(args.epochs),
        "--warmup_epochs",
        str(args.warmup_epochs),
        "--learning_rate",
        str(args.learning_rate),
        "--per_device_train_batch_size",
        str(args.batch_size),
        "--per_device_eval_batch_size",
        str(args.batch_size),
        "--dataloader_num_workers",
        str(args.workers),
        "--randaugment_num_ops",
        str(args.randaugment_num_ops),
        "--crop_scale_min",
        str(args.crop_scale_min),
        "--eval_strategy",
        "no",
        "--save_strategy",
        "no",
        "--logging_steps",
        "20",
        "--seed",
        str(args.seed),
    ]
    # On a small CPU machine the dataloader workers decode while one compute thread trains: more compute
    # threads than cores left over only fight over them.
    environment = {**os.environ, "OMP_NUM_THREADS": str(args.compute_threads), "TOKENIZERS_PARALLELISM": "false"}
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, check=True, env=environment)


def summarise(output: Path, label_names: list[str]) -> dict:
    from modeling_dear.data.synthetic import DEPTH_SENSITIVE_CLASSES
    from modeling_dear.evaluation.per_class_comparison import compare_predictions, write_comparison

    comparisons = compare_predictions(output / "RGB" / "predictions.jsonl", output / "DEAR" / "predictions.jsonl")
    paths = write_comparison(comparisons, output / "depth_analysis", names=("RGB", "DEAR"))
    results = {name: json.loads((output / name / "test_results.json").read_text()) for name, _ in VARIANTS}

    def group_accuracy(classes, which):
        chosen = [c for c in comparisons if c.name in classes]
        count = sum(c.count for c in chosen)
        return sum(getattr(c, which) * c.count for c in chosen) / count if count else float("nan")

    depth_classes = set(DEPTH_SENSITIVE_CLASSES)
    other_classes = set(label_names) - depth_classes
    summary = {
        name: {
            "top1": results[name]["test_top1"],
            "top5": results[name]["test_top5"],
            "mean_class_accuracy": results[name]["test_mean_class_accuracy"],
            "depth_sensitive_top1": group_accuracy(depth_classes, "accuracy_a" if name == "RGB" else "accuracy_b"),
            "rgb_clear_top1": group_accuracy(other_classes, "accuracy_a" if name == "RGB" else "accuracy_b"),
        }
        for name, _ in VARIANTS
    }
    summary["per_class"] = [
        {
            "class": c.name,
            "videos": c.count,
            "RGB": c.accuracy_a,
            "DEAR": c.accuracy_b,
            "depth_sensitive": c.name in depth_classes,
        }
        for c in comparisons
    ]
    summary["files"] = {key: str(path) for key, path in paths.items()}
    return summary


def print_summary(summary: dict, seconds: dict) -> str:
    lines = [
        "",
        "=" * 100,
        "Main job: RGB-only vs DEAR (tiny preset) on the synthetic depth-sensitive dataset, 6-view test",
        "",
    ]
    lines.append(
        "| model | top-1 | top-5 | mean class acc. | top-1, depth-sensitive classes | top-1, other classes | train+test time |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    for name, preset in VARIANTS:
        s = summary[name]
        lines.append(
            f"| {name} ({preset}) | {100 * s['top1']:.1f} | {100 * s['top5']:.1f} | {100 * s['mean_class_accuracy']:.1f} | "
            f"{100 * s['depth_sensitive_top1']:.1f} | {100 * s['rgb_clear_top1']:.1f} | {seconds[name]:.0f} s |"
        )
    lines += [
        "",
        "Per-class top-1 (depth-sensitive classes marked *):",
        "",
        "| class | videos | RGB | DEAR | change |",
        "|---|---|---|---|---|",
    ]
    for row in summary["per_class"]:
        mark = "*" if row["depth_sensitive"] else ""
        lines.append(
            f"| {row['class']}{mark} | {row['videos']} | {100 * row['RGB']:.1f} | {100 * row['DEAR']:.1f} | "
            f"{100 * (row['DEAR'] - row['RGB']):+.1f} |"
        )
    lines += [
        "",
        f"Table, CSV and bar plot: {summary['files']['markdown']}, {summary['files']['csv']}, {summary['files']['png']}",
    ]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="outputs/main_job")
    parser.add_argument("--train-per-class", type=int, default=40)
    parser.add_argument("--eval-per-class", type=int, default=12)
    parser.add_argument("--epochs", type=float, default=10)
    parser.add_argument("--warmup-epochs", type=float, default=1)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=8, help="videos per step (x2 augmented copies)")
    parser.add_argument("--randaugment-num-ops", type=int, default=0)
    parser.add_argument("--crop-scale-min", type=float, default=0.6)
    parser.add_argument("--workers", type=int, default=1, help="dataloader worker processes")
    parser.add_argument("--compute-threads", type=int, default=1, help="torch threads of the training process")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-accelerate", action="store_true", help="run run_ssv2.py with plain python")
    args = parser.parse_args(argv)

    output = Path(args.output)
    data_cache = output / "synthetic_data"
    start = time.perf_counter()
    from modeling_dear.data.synthetic import SyntheticSpec, load_or_generate_synthetic

    spec = SyntheticSpec(num_train_per_class=args.train_per_class, num_validation_per_class=args.eval_per_class, seed=0)
    dataset = load_or_generate_synthetic(spec, cache_dir=data_cache, progress=True, num_proc=os.cpu_count())
    label_names = dataset["train"].features["label"].names
    print(
        f"synthetic data: {', '.join(f'{k} {len(v)}' for k, v in dataset.items())} clips, "
        f"{len(label_names)} classes ({time.perf_counter() - start:.0f} s)",
        flush=True,
    )

    seconds = {}
    for name, preset in VARIANTS:
        began = time.perf_counter()
        run_training(preset, output / name, args, data_cache)
        seconds[name] = time.perf_counter() - began

    summary = summarise(output, label_names)
    summary["seconds"] = seconds
    summary["total_seconds"] = time.perf_counter() - start
    text = print_summary(summary, seconds)
    (output / "summary.json").write_text(json.dumps(summary, indent=2))
    (output / "summary.md").write_text(text + "\n")
    print(f"\nmain job done in {summary['total_seconds'] / 60:.1f} min; summary in {output / 'summary.md'}")


if __name__ == "__main__":
    main()
