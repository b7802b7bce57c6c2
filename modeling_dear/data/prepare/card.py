# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""A finished dataset's card (`README.md`: splits, data files, features, where the clips came from, the depth
model and every setting of it) and its report of the clips that failed or were missing
(`prepare_report.json`), assembled from the shards' manifests. SSv2 writes its own card and report with the
same pieces (`data.ssv2.card`)."""

from __future__ import annotations

import json
import logging

from ...atomic_write import write_atomic, write_json
from ...hub.cards import render_dataset_card
from .shards import read_manifest

logger = logging.getLogger(__name__)

REPORT_FILE = "prepare_report.json"


def collect_manifests(work_dir, shards, splits) -> dict:
    """Rows and bytes per split, frames, and the failed and missing clips of every finished shard."""
    rows = {s: 0 for s in splits}
    nbytes = {s: 0 for s in splits}
    frames = 0
    failed = []
    for shard in shards:
        manifest = read_manifest(work_dir, shard)
        rows[shard.split] += manifest["rows"]
        nbytes[shard.split] += manifest["bytes"]
        frames += manifest["frames"]
        failed.extend(manifest["failed"])
    missing = [f for f in failed if f["missing"]]
    broken = [f for f in failed if not f["missing"]]
    return {"rows": rows, "bytes": nbytes, "frames": frames, "failed": broken, "missing": missing}


def add_dataset_metadata(card_data, features, splits, rows, nbytes) -> list[str]:
    """The card's `configs` (data files per split) and `dataset_info` (features, split sizes); returns the
    splits that have rows (a split without rows has no data file to point at)."""
    from datasets.info import DatasetInfo, DatasetInfosDict
    from datasets.splits import SplitDict, SplitInfo
    from datasets.utils.metadata import MetadataConfigs

    present = [s for s in splits if rows[s]]
    if len(present) < len(splits):
        logger.warning("no rows for split(s) %s: left out of the dataset", [s for s in splits if not rows[s]])
    MetadataConfigs(
        {"default": {"data_files": [{"split": s, "path": f"data/{s}-*"} for s in present]}}
    ).to_dataset_card_data(card_data)
    split_dict = SplitDict()
    for s in present:
        split_dict.add(SplitInfo(name=s, num_examples=rows[s], num_bytes=nbytes[s]))
    DatasetInfosDict({"default": DatasetInfo(features=features, splits=split_dict)}).to_dataset_card_data(card_data)
    return present


def report_settings(plan: dict) -> dict:
    keys = ("shard_size", "depth_model", "normalize", "depth_codec", "depth_codec_options", "depth_settings")
    return {k: plan[k] for k in keys if k in plan} | {k: v for k, v in plan.items() if k.startswith("source_")}


def write_generic_card_and_report(source, output_dir, work_dir, shards, plan, features, splits, summary, tag):
    """Once every shard is done: the report and the card, and the dataset's totals in `summary.totals`."""
    from huggingface_hub import DatasetCardData

    found = collect_manifests(work_dir, shards, splits)
    rows, nbytes, frames, broken, missing = (found[k] for k in ("rows", "bytes", "frames", "failed", "missing"))
    summary.totals = {
        "rows": rows,
        "failed": len(broken),
        "missing": len(missing),
        "skipped": len(source.skipped),
        "bytes": sum(nbytes.values()),
        "frames": frames,
    }
    report = {
        "failed": [{k: f[k] for k in ("id", "split", "file", "error")} for f in broken],
        "missing": [{k: f[k] for k in ("id", "split", "file", "error")} for f in missing],
        "skipped": list(source.skipped),
        "rows": rows,
        "frames": frames,
        "source_format": source.format,
        "settings": report_settings(plan),
    }
    write_json(output_dir / REPORT_FILE, report, work_dir / "tmp", tag)

    card_data = DatasetCardData(
        license=source.license or "unknown",
        task_categories=["video-classification"],
        pretty_name=f"{source.format} clips with estimated depth",
    )
    present = add_dataset_metadata(card_data, features, splits, rows, nbytes)
    settings = plan.get("depth_settings") or {}
    segment = plan.get("source_segment_video")
    card = render_dataset_card(
        card_data,
        "prepared_dataset_card.md",
        source_format=source.format,
        description=source.description,
        license=source.license or "unknown (not stated by the source)",
        redistribution=source.redistribution_forbidden,
        label_sets={name: len(names) for name, names in source.label_sets.items()},
        extra_columns=list(source.extra_features),
        depth_model=plan["depth_model"],
        depth_settings=json.dumps(settings, sort_keys=True),
        precision=settings.get("precision"),
        model_files=settings.get("model_files_sha256"),
        revision=settings.get("revision") or settings.get("commit"),
        model_input=json.dumps(settings.get("input")),
        normalize=plan["normalize"],
        codec=plan["depth_codec"],
        options=json.dumps(plan["depth_codec_options"]),
        segment_video=None if segment is None else f"{segment['codec']} {json.dumps(segment['options'])}",
        rows=", ".join(f"{s} {rows[s]:,}" for s in present),
        frames=f"{frames:,}",
        failed=len(broken),
        missing=len(missing),
        skipped=len(source.skipped),
        report=REPORT_FILE,
    )
    write_atomic(output_dir / "README.md", lambda p: card.save(str(p)), work_dir / "tmp", tag)
