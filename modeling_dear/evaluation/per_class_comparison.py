# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Per-class effect of depth: compare two prediction files (e.g. RGB-only vs DEAR) class by class.

Writes the per-class accuracy table (CSV and Markdown) and a bar plot (PNG) of the classes that gain and
lose most, like the paper's analysis (docs/architecture.md §7). Prediction files are the JSON lines that
`examples/run_ssv2.py --do_predict` writes (`video_id`, `label`, `prediction`, ...). Files of a model with
several label sets (EPIC-Kitchens' verbs and nouns) get one table and plot per set, in `<output>/<set>/`.

    python -m modeling_dear.evaluation.per_class_comparison outputs/rgb/predictions.jsonl outputs/dear/predictions.jsonl \
        --names RGB DEAR --output outputs/depth_analysis
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ClassComparison:
    label: int
    name: str
    count: int
    accuracy_a: float
    accuracy_b: float

    @property
    def change(self) -> float:
        return self.accuracy_b - self.accuracy_a


def label_sets_of(path: str | Path) -> list[str] | None:
    """The label sets a prediction file covers (its first line's `label_sets`), None for one label set."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                try:
                    return json.loads(line).get("label_sets")
                except json.JSONDecodeError:
                    return None  # read_predictions names the line
    return None


def read_predictions(path: str | Path, label_set: str | None = None) -> dict[str, dict]:
    """Rows of a prediction file keyed by video id; every row must carry a label and a prediction.

    `label_set`: for a file of a model with label sets, the set whose label and prediction the rows give."""
    rows = {}
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{line_number}: not a JSON line ({error})") from None
            if row.get("label_sets") is not None or label_set is not None:
                if label_set is None or label_set not in (row.get("label_sets") or []):
                    raise ValueError(
                        f"{path}:{line_number}: the row has label sets {row.get('label_sets')}, not {label_set!r}: "
                        "compare one label set at a time (label_set=...)"
                    )
                row = {"video_id": row.get("video_id"), "failed": row.get("failed"), **row[label_set]}
            # a row marked failed (its video could not be decoded) has no prediction and counts as a miss
            for field in ("video_id", "label") if row.get("failed") else ("video_id", "label", "prediction"):
                if row.get(field) is None:
                    raise ValueError(
                        f"{path}:{line_number}: field '{field}' is missing (a prediction file of a labelled split is needed)"
                    )
            rows[str(row["video_id"])] = row
    if not rows:
        raise ValueError(f"{path}: no predictions")
    return rows


def compare_predictions(path_a: str | Path, path_b: str | Path, label_set: str | None = None) -> list[ClassComparison]:
    """Per-class top-1 accuracy of two runs on the same videos, sorted by the change from A to B (of one label
    set's classes, for models with label sets)."""
    a, b = read_predictions(path_a, label_set), read_predictions(path_b, label_set)
    if set(a) != set(b):
        only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
        raise ValueError(
            f"{path_a} and {path_b} cover different videos: {len(only_a)} only in the first (e.g. {only_a[:3]}), "
            f"{len(only_b)} only in the second (e.g. {only_b[:3]})"
        )
    totals: dict[int, list] = {}
    for video_id, row_a in a.items():
        row_b = b[video_id]
        if row_a["label"] != row_b["label"]:
            raise ValueError(f"video {video_id}: label {row_a['label']} in {path_a} but {row_b['label']} in {path_b}")
        entry = totals.setdefault(int(row_a["label"]), [row_a.get("label_name") or str(row_a["label"]), 0, 0, 0])
        entry[1] += 1
        entry[2] += int(row_a["prediction"] == row_a["label"])
        entry[3] += int(row_b["prediction"] == row_b["label"])
    comparisons = [
        ClassComparison(label, name, count, hits_a / count, hits_b / count)
        for label, (name, count, hits_a, hits_b) in totals.items()
    ]
    return sorted(comparisons, key=lambda c: (-c.change, c.label))


def write_comparison(
    comparisons: list[ClassComparison],
    output_dir: str | Path,
    names: tuple[str, str] = ("A", "B"),
    top: int = 10,
    label_set: str | None = None,
) -> dict[str, Path]:
    """Write `per_class_accuracy.csv`, `per_class_accuracy.md` and `per_class_change.png`; return their paths.
    `label_set` names the set the classes belong to in the titles (models with label sets)."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    name_a, name_b = names
    csv_path = output_dir / "per_class_accuracy.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "class", "videos", f"accuracy_{name_a}", f"accuracy_{name_b}", "change"])
        for c in comparisons:
            writer.writerow(
                [c.label, c.name, c.count, f"{c.accuracy_a:.4f}", f"{c.accuracy_b:.4f}", f"{c.change:+.4f}"]
            )

    total = sum(c.count for c in comparisons)
    overall_a = sum(c.accuracy_a * c.count for c in comparisons) / total
    overall_b = sum(c.accuracy_b * c.count for c in comparisons) / total
    lines = [
        f"# Per-class top-1 accuracy{f' ({label_set} classes)' if label_set else ''}: {name_a} vs {name_b}",
        "",
        f"{total} videos, {len(comparisons)} classes. Overall top-1: {name_a} {100 * overall_a:.1f} %, "
        f"{name_b} {100 * overall_b:.1f} % ({100 * (overall_b - overall_a):+.1f} points).",
        "",
        f"| class | videos | {name_a} | {name_b} | change |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {c.name} | {c.count} | {100 * c.accuracy_a:.1f} | {100 * c.accuracy_b:.1f} | {100 * c.change:+.1f} |"
        for c in comparisons
    ]
    markdown_path = output_dir / "per_class_accuracy.md"
    markdown_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    png_path = output_dir / "per_class_change.png"
    plot_changes(comparisons, png_path, names, top=top, label_set=label_set)
    return {"csv": csv_path, "markdown": markdown_path, "png": png_path}


def plot_changes(
    comparisons: list[ClassComparison], path: Path, names: tuple[str, str], top: int = 10, label_set: str | None = None
) -> None:
    """Horizontal bars: the `top` classes that gain most and the `top` that lose most, in points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranked = sorted(comparisons, key=lambda c: -c.change)
    shown = ranked if len(ranked) <= 2 * top else ranked[:top] + ranked[-top:]
    shown = sorted(shown, key=lambda c: c.change)
    figure, axis = plt.subplots(figsize=(9, 0.35 * len(shown) + 1.5))
    changes = [100 * c.change for c in shown]
    axis.barh(range(len(shown)), changes, color=["#2a9d8f" if v >= 0 else "#e76f51" for v in changes])
    axis.set_yticks(range(len(shown)), [f"{c.name} ({c.count})" for c in shown], fontsize=8)
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_xlabel(f"top-1 accuracy change, {names[1]} − {names[0]} (points)")
    what = f"{label_set.capitalize()} classes" if label_set else "Classes"
    axis.set_title(f"{what} that gain and lose most: {names[1]} vs {names[0]}")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("predictions_a", help="prediction file of the baseline (e.g. RGB only)")
    parser.add_argument("predictions_b", help="prediction file of the model compared (e.g. DEAR)")
    parser.add_argument("--names", nargs=2, default=("RGB", "DEAR"), metavar=("A", "B"))
    parser.add_argument("--output", default="depth_analysis", help="folder for the CSV, Markdown and PNG")
    parser.add_argument("--top", type=int, default=10, help="classes shown at each end of the plot")
    args = parser.parse_args(argv)

    sets_a, sets_b = label_sets_of(args.predictions_a), label_sets_of(args.predictions_b)
    if sets_a != sets_b:
        parser.error(f"the files cover different label sets: {sets_a} and {sets_b}")
    for label_set in sets_a or [None]:
        comparisons = compare_predictions(args.predictions_a, args.predictions_b, label_set)
        output = Path(args.output) / label_set if label_set else args.output
        paths = write_comparison(comparisons, output, tuple(args.names), top=args.top, label_set=label_set)
        print(paths["markdown"].read_text(encoding="utf-8"))
        print(f"wrote {', '.join(str(p) for p in paths.values())}")


if __name__ == "__main__":
    main()
