# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The dataset card (`README.md`) of a generated synthetic dataset, and `generation.json` beside it: what the
classes are, why three pairs are ambiguous from RGB alone, the columns, and the command that re-creates it."""

from __future__ import annotations

import json
from pathlib import Path

from ...hub.cards import render_dataset_card
from ..schema import COLUMNS
from .classes import DEPTH_SENSITIVE_CLASSES, DEPTH_SENSITIVE_PAIRS, FLIP_PAIRS, SYNTHETIC_CLASSES
from .clips import DEPTH_MODEL, RGB_CODEC, RGB_CODEC_OPTIONS
from .spec import SyntheticSpec


def dataset_card(spec: SyntheticSpec, sizes: dict[str, int] | None = None):
    """A `huggingface_hub.DatasetCard` describing the dataset of `spec` (`sizes`: rows per split)."""
    from huggingface_hub import DatasetCardData

    params = spec.to_dict()
    total = sum(sizes.values()) if sizes else sum(params["num_per_class"].values()) * len(SYNTHETIC_CLASSES)
    data = DatasetCardData(
        language="en",
        license="apache-2.0",
        pretty_name="DEAR synthetic RGB-D actions",
        task_categories=["video-classification"],
        size_categories="n<1K" if total < 1000 else "1K<n<10K" if total < 10_000 else "10K<n<100K",
        source_datasets=["original"],
        annotations_creators=["machine-generated"],
        tags=["synthetic", "depth", "rgb-d", "action-recognition", "something-something-v2"],
        class_names=list(SYNTHETIC_CLASSES),
        depth_sensitive_pairs=[list(p) for p in DEPTH_SENSITIVE_PAIRS],
        flip_pairs=[list(p) for p in FLIP_PAIRS],
        generation=params,
    )
    rows = "\n".join(
        f"| {i} | {name} | {'**depth only**' if name in DEPTH_SENSITIVE_CLASSES else 'RGB'} |"
        for i, name in enumerate(SYNTHETIC_CLASSES)
    )
    counts = params["num_per_class"]
    split_lines = "\n".join(f"- `{k}`: {v} clips" for k, v in (sizes or {}).items())
    command = (
        f"python -m modeling_dear.data.synthetic --output DIR --seed {params['seed']} "
        f"--train-per-class {counts['train']} --validation-per-class {counts['validation']} "
        f"--test-per-class {counts['test']} --height {params['height']} --width {params['width']} "
        f"--fps {params['fps']:g} --min-frames {params['min_frames']} --max-frames {params['max_frames']}"
        + (" --label-test-split" if params["label_test_split"] else "")
        + (f" --scenes {params['scenes']}" if "scenes" in params else "")
    )
    test_labels = (
        "Here the test split keeps its labels (generated with `--label-test-split`)."
        if params["label_test_split"]
        else "The test split is unlabelled like SSv2's: label -1, empty template and placeholders."
    )
    return render_dataset_card(
        data,
        "synthetic_dataset_card.md",
        columns=", ".join(f"`{c}`" for c in COLUMNS),
        depth_model=DEPTH_MODEL,
        class_rows=rows,
        depth_sensitive_pairs="; ".join(" / ".join(p) for p in DEPTH_SENSITIVE_PAIRS),
        rgb_codec=RGB_CODEC,
        rgb_codec_options=RGB_CODEC_OPTIONS,
        height=params["height"],
        width=params["width"],
        fps=f"{params['fps']:g}",
        min_frames=params["min_frames"],
        max_frames=params["max_frames"],
        test_labels=test_labels,
        seed=params["seed"],
        generator_version=params["generator_version"],
        train_per_class=counts["train"],
        validation_per_class=counts["validation"],
        test_per_class=counts["test"],
        split_lines=split_lines,
        command=command,
    )


def write_card(directory: str | Path, spec: SyntheticSpec, sizes: dict[str, int]) -> None:
    """`README.md` (the card) and `generation.json` (`spec.to_dict()`) in `directory`."""
    dataset_card(spec, sizes).save(str(Path(directory) / "README.md"))
    (Path(directory) / "generation.json").write_text(json.dumps(spec.to_dict(), indent=2, sort_keys=True) + "\n")
