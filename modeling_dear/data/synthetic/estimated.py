# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The synthetic action clips through DEAR's real data path: their `depth` column estimated by a depth model.

`synthetic_source` writes each rendered clip's RGB video (the WebM bytes the dataset holds) to a file and
describes them as a `data.sources.SourceData`, as any source reader does; the renderer's exact depth rides along as
an extra column, `depth_exact` (with `template` and `placeholders`). `prepare_estimated` then hands that source to
the preparation engine (`data.prepare.prepare_dataset`, the code SSv2 and the any-dataset sources use), which
decodes every clip, runs `DepthEstimator` with the given checkpoint and writes the estimated depth in `depth`.
`oracle_view` is the same dataset with the exact depth in `depth` (and the estimate kept as `depth_estimated`):
the oracle row of the main job.
"""

from __future__ import annotations

import os
from pathlib import Path

EXACT_DEPTH_COLUMN = "depth_exact"


def synthetic_source(dataset, clip_dir: str | os.PathLike):
    """A `SourceData` of a rendered synthetic `DatasetDict` (train / validation / test), its RGB videos written
    under `clip_dir/<split>/<video_id>.webm`; `depth_exact`, `template` and `placeholders` as extra columns."""
    from datasets import List, Value, Video

    from ..sources.base import ClipEntry, SourceData
    from .classes import SYNTHETIC_CLASSES

    splits = {}
    for split, rows in dataset.items():
        folder = Path(clip_dir) / split
        folder.mkdir(parents=True, exist_ok=True)
        entries = []
        for row in rows:
            path = folder / f"{row['video_id']}.webm"
            data = row["video"]["bytes"]
            if not path.exists() or path.stat().st_size != len(data):
                path.write_bytes(data)
            extra = (
                ("template", row["template"]),
                ("placeholders", list(row["placeholders"])),
                (EXACT_DEPTH_COLUMN, {"bytes": row["depth"]["bytes"], "path": None}),
            )
            entries.append(ClipEntry(row["video_id"], str(path), {"label": row["label"]}, extra=extra))
        splits[split] = entries
    return SourceData(
        format="synthetic",
        label_sets={"label": list(SYNTHETIC_CLASSES)},
        splits=splits,
        extra_features={
            "template": Value("string"),
            "placeholders": List(Value("string")),
            EXACT_DEPTH_COLUMN: Video(decode=False),
        },
        license="apache-2.0",
        description="DEAR's synthetic actions (modeling_dear.data.synthetic), rendered here; "
        f"`{EXACT_DEPTH_COLUMN}` is the renderer's exact inverse depth",
    )


def prepare_estimated(dataset, depth_model, output_dir: str | os.PathLike, *, batch_size: int = 32, progress=True):
    """Prepare the rendered `dataset` with `depth_model` (a checkpoint folder or name, or a `DepthEstimator`)
    through `prepare_dataset` into `output_dir` (resumable: finished shards are kept). Returns the loaded
    `DatasetDict`: `depth` estimated, `depth_exact` the renderer's."""
    import datasets

    from ..prepare import prepare_dataset

    output_dir = Path(output_dir)
    source = synthetic_source(dataset, output_dir.parent / f"{output_dir.name}-clips")
    prepare_dataset(
        source,
        output_dir,
        depth_model,
        batch_size=batch_size,
        num_workers=0,
        encode_threads=1,
        progress=progress,
        poll_seconds=0.1,
    )
    # a cache of its own: datasets' shared cache can hand back an earlier folder's tables for this one's files
    return datasets.load_dataset(str(output_dir), cache_dir=str(output_dir.parent / f"{output_dir.name}-cache"))


def oracle_view(prepared):
    """The prepared `DatasetDict` with the renderer's exact depth in `depth` (the estimate moves to
    `depth_estimated`) and `depth_model` = "ground_truth": what a perfect depth model would have given."""
    from .clips import DEPTH_MODEL

    def swap(split):
        split = split.rename_column("depth", "depth_estimated").rename_column(EXACT_DEPTH_COLUMN, "depth")
        split = split.remove_columns("depth_model").add_column("depth_model", [DEPTH_MODEL] * len(split))
        return split

    return type(prepared)({name: swap(split) for name, split in prepared.items()})
