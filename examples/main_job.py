#!/usr/bin/env python
# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The main job: does *estimated* depth help? RGB only vs DEAR with estimated depth vs DEAR with exact depth.

DEAR's experiment in miniature, on CPU and offline:

1. renders (or reuses) the synthetic actions (modeling_dear.data.synthetic, `--scenes estimable` by default:
   objects of real size on or above a ground plane, soft shadows, camera parallax, so depth can be read from RGB);
2. trains (or reuses) a small DPT depth model on *other* synthetic scenes (random layouts, own seeds) with
   MiDaS's scale-and-shift-invariant loss (modeling_dear.data.synthetic.depth_model), the stand-in for MiDaS;
3. prepares the action set as DEAR prepares SSv2: the RGB clips go through the preparation engine
   (modeling_dear.data.prepare.prepare_dataset) with that depth model, which writes the `depth` column; the
   renderer's exact depth is kept in `depth_exact`;
4. trains the tiny preset three times with `accelerate launch examples/run_ssv2.py`, same data, schedule and seed:
   RGB only (`tiny-s4v-rgb`), DEAR (`tiny`) on the estimated depth, DEAR on the exact depth (the oracle);
5. tests each with 2 clips x 3 crops, compares them class by class and writes everything under --output.

`--scenes identical` renders the sensor-depth set instead, where the depth-sensitive pairs have byte-identical RGB:
there the oracle row measures what depth from a sensor adds, which no depth estimated from RGB can give.

    python examples/main_job.py            # see README, "The main job", for its time on a 2-core CPU

Over 300 lines: the three runs, their comparison and the printed summary are one script users read as a whole.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# (row name, preset, which data: the prepared set with estimated depth, or its oracle view with exact depth)
VARIANTS = (("RGB", "tiny-s4v-rgb", "estimated"), ("DEAR", "tiny", "estimated"), ("DEAR-oracle", "tiny", "oracle"))
LABELS = {
    "RGB": "RGB only (`tiny-s4v-rgb`)",
    "DEAR": "DEAR (`tiny`), estimated depth",
    "DEAR-oracle": "DEAR (`tiny`), exact depth (oracle)",
}


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: on a shared machine it says more than wall time."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_training(preset: str, output_dir: Path, args, dataset: Path) -> None:
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
        str(dataset),
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

    names = [name for name, _, _ in VARIANTS]
    comparisons = {
        name: compare_predictions(output / "RGB" / "predictions.jsonl", output / name / "predictions.jsonl")
        for name in names[1:]
    }
    paths = write_comparison(comparisons["DEAR"], output / "depth_analysis", names=("RGB", "DEAR"))
    oracle_paths = write_comparison(
        comparisons["DEAR-oracle"], output / "depth_analysis_oracle", names=("RGB", "DEAR-oracle")
    )
    results = {name: json.loads((output / name / "test_results.json").read_text()) for name in names}
    accuracy = {"RGB": {c.name: c.accuracy_a for c in comparisons["DEAR"]}}
    accuracy.update({name: {c.name: c.accuracy_b for c in comparisons[name]} for name in names[1:]})
    counts = {c.name: c.count for c in comparisons["DEAR"]}

    def group_accuracy(classes, name):
        count = sum(counts[c] for c in classes)
        return sum(accuracy[name][c] * counts[c] for c in classes) / count if count else float("nan")

    depth_classes = [c for c in counts if c in set(DEPTH_SENSITIVE_CLASSES)]
    other_classes = [c for c in counts if c not in set(DEPTH_SENSITIVE_CLASSES)]
    summary = {
        name: {
            "top1": results[name]["test_top1"],
            "top5": results[name]["test_top5"],
            "mean_class_accuracy": results[name]["test_mean_class_accuracy"],
            "depth_sensitive_top1": group_accuracy(depth_classes, name),
            "rgb_clear_top1": group_accuracy(other_classes, name),
        }
        for name in names
    }
    summary["per_class"] = [
        {
            "class": c.name,
            "videos": c.count,
            **{name: accuracy[name][c.name] for name in names},
            "depth_sensitive": c.name in depth_classes,
        }
        for c in comparisons["DEAR"]
    ]
    summary["files"] = {key: str(path) for key, path in paths.items()}
    summary["files"].update({f"oracle_{key}": str(path) for key, path in oracle_paths.items()})
    return summary


def print_summary(summary: dict, seconds: dict, setup: dict) -> str:
    held = setup["depth_model"]["held_out"]
    lines = [
        "",
        "=" * 100,
        f"Main job: RGB only vs DEAR (estimated depth) vs DEAR (exact depth), tiny preset, synthetic "
        f"'{setup['scenes']}' actions, 6-view test",
        "",
        f"Depth model: {setup['depth_model']['parameters'] / 1e6:.2f} M-parameter DPT trained on "
        f"{setup['depth_model']['train_frames']} layout frames; on {held['frames']} held-out frames after "
        f"scale-and-shift alignment: AbsRel {held['abs_rel']:.3f}, delta<1.25 {100 * held['delta1']:.1f} %",
        "",
        "| model | top-1 | top-5 | mean class acc. | top-1, depth-sensitive classes | top-1, other classes | train+test time |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, _, _ in VARIANTS:
        s = summary[name]
        lines.append(
            f"| {LABELS[name]} | {100 * s['top1']:.1f} | {100 * s['top5']:.1f} | {100 * s['mean_class_accuracy']:.1f} | "
            f"{100 * s['depth_sensitive_top1']:.1f} | {100 * s['rgb_clear_top1']:.1f} | {seconds[name]:.0f} s |"
        )
    lines += [
        "",
        "Per-class top-1 (depth-sensitive classes marked *):",
        "",
        "| class | videos | RGB | DEAR (estimated) | change | DEAR (exact) | change |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in summary["per_class"]:
        mark = "*" if row["depth_sensitive"] else ""
        lines.append(
            f"| {row['class']}{mark} | {row['videos']} | {100 * row['RGB']:.1f} | {100 * row['DEAR']:.1f} | "
            f"{100 * (row['DEAR'] - row['RGB']):+.1f} | {100 * row['DEAR-oracle']:.1f} | "
            f"{100 * (row['DEAR-oracle'] - row['RGB']):+.1f} |"
        )
    files = summary["files"]
    lines += [
        "",
        f"Tables, CSV and bar plots: {files['markdown']}, {files['csv']}, {files['png']} (RGB vs DEAR) and "
        f"{files['oracle_png']} (RGB vs the oracle)",
    ]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="outputs/main_job")
    parser.add_argument("--scenes", choices=("estimable", "identical"), default="estimable")
    parser.add_argument("--train-per-class", type=int, default=24)
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
    parser.add_argument("--depth-train-frames", type=int, default=None, help="layout frames the depth model sees")
    parser.add_argument("--depth-eval-frames", type=int, default=None, help="held-out layout frames it is scored on")
    parser.add_argument("--depth-epochs", type=int, default=None, help="epochs of depth-model training")
    parser.add_argument("--data-cache", default=None, help="where rendered data and the depth model are kept")
    parser.add_argument("--no-accelerate", action="store_true", help="run run_ssv2.py with plain python")
    args = parser.parse_args(argv)

    import torch

    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)

    output = Path(args.output)
    data_cache = Path(args.data_cache) if args.data_cache else output / "synthetic_data"
    start, start_cpu = time.perf_counter(), cpu_seconds()
    stages = {}

    def stage(name, began, began_cpu):
        stages[name] = {"seconds": time.perf_counter() - began, "cpu_seconds": cpu_seconds() - began_cpu}
        print(f"[{name}: {stages[name]['seconds']:.0f} s, {stages[name]['cpu_seconds']:.0f} CPU s]", flush=True)

    from modeling_dear.data.synthetic import SyntheticSpec, load_or_generate_synthetic
    from modeling_dear.data.synthetic.depth_model import DepthModelSpec, load_or_train_depth_model
    from modeling_dear.data.synthetic.estimated import oracle_view, prepare_estimated

    # 1. the action clips, rendered with their exact depth
    began, began_cpu = time.perf_counter(), cpu_seconds()
    spec = SyntheticSpec(
        num_train_per_class=args.train_per_class,
        num_validation_per_class=args.eval_per_class,
        num_test_per_class=0,
        seed=0,
        scenes=args.scenes,
    )
    rendered = load_or_generate_synthetic(spec, cache_dir=data_cache, progress=True, num_proc=os.cpu_count())
    label_names = rendered["train"].features["label"].names
    stage("render action clips", began, began_cpu)

    # 2. the depth model, trained on other scenes
    began, began_cpu = time.perf_counter(), cpu_seconds()
    depth_spec = DepthModelSpec(
        **{
            key: value
            for key, value in (
                ("num_train_frames", args.depth_train_frames),
                ("num_eval_frames", args.depth_eval_frames),
                ("epochs", args.depth_epochs),
            )
            if value
        }
    )
    depth_model = load_or_train_depth_model(
        depth_spec, cache_dir=data_cache / "depth_models", num_proc=os.cpu_count(), progress=True
    )
    record = json.loads((depth_model / "training.json").read_text())
    stage("depth model", began, began_cpu)

    # 3. DEAR's data path: the preparation engine estimates the depth column; the oracle view swaps in the exact one
    began, began_cpu = time.perf_counter(), cpu_seconds()
    prepared_dir = data_cache / f"{spec.cache_key}-{depth_spec.cache_key}-prepared"
    prepared = prepare_estimated(rendered, str(depth_model), prepared_dir, progress=True)
    # the training runs read save_to_disk copies: estimated depth, and the oracle view with the exact depth
    estimated_dir = prepared_dir.with_name(prepared_dir.name + "-estimated")
    oracle_dir = prepared_dir.with_name(prepared_dir.name + "-oracle")
    for folder, view in ((estimated_dir, lambda: prepared), (oracle_dir, lambda: oracle_view(prepared))):
        if not (folder / "dataset_dict.json").exists():
            staging = folder.with_name(folder.name + ".staging")
            shutil.rmtree(staging, ignore_errors=True)
            view().save_to_disk(str(staging))
            os.replace(staging, folder)
    stage("prepare (depth estimation)", began, began_cpu)
    print(
        f"synthetic data: {', '.join(f'{k} {len(v)}' for k, v in prepared.items())} clips, {len(label_names)} classes; "
        f"depth from {depth_model}",
        flush=True,
    )

    seconds = {}
    datasets_of = {"estimated": estimated_dir, "oracle": oracle_dir}
    for name, preset, data in VARIANTS:
        began, began_cpu = time.perf_counter(), cpu_seconds()
        run_training(preset, output / name, args, datasets_of[data])
        seconds[name] = time.perf_counter() - began
        stage(f"train+test {name}", began, began_cpu)

    summary = summarise(output, label_names)
    setup = {
        "scenes": args.scenes,
        "depth_model": {
            "path": str(depth_model),
            "parameters": record["num_parameters"],
            "train_frames": record["spec"]["num_train_frames"],
            "epoch_losses": record["epoch_losses"],
            "held_out": record["held_out"],
        },
    }
    summary.update(setup)
    summary["seconds"] = seconds
    summary["stages"] = stages
    summary["total_seconds"] = time.perf_counter() - start
    summary["total_cpu_seconds"] = cpu_seconds() - start_cpu
    text = print_summary(summary, seconds, setup)
    (output / "summary.json").write_text(json.dumps(summary, indent=2))
    (output / "summary.md").write_text(text + "\n")
    print(
        f"\nmain job done in {summary['total_seconds'] / 60:.1f} min ({summary['total_cpu_seconds'] / 60:.1f} CPU min); "
        f"summary in {output / 'summary.md'}"
    )


if __name__ == "__main__":
    main()
