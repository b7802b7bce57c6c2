# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The finished SSv2 dataset's card (`README.md`: splits, data files, features) and its report of the videos
that failed or were missing (`prepare_ssv2_report.json`), assembled from the shards' manifests."""

from __future__ import annotations

import json
import logging

from ...atomic_write import write_atomic, write_json
from ...hub.cards import render_dataset_card
from .shards import read_manifest

logger = logging.getLogger(__name__)

REPORT_FILE = "prepare_ssv2_report.json"


def write_card_and_report(output_dir, work_dir, shards, plan, features, splits, summary, folder, tag):
    """Once every shard is done: the report and the card, and the dataset's totals in `summary.totals`."""
    from datasets.info import DatasetInfo, DatasetInfosDict
    from datasets.splits import SplitDict, SplitInfo
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

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
    summary.totals = {
        "rows": rows,
        "failed": len(broken),
        "missing": len(missing),
        "unlabelled": summary.videos_unlabelled,
        "bytes": sum(nbytes.values()),
        "frames": frames,
    }
    report = {
        "failed": [{k: f[k] for k in ("id", "split", "file", "error")} for f in broken],
        "missing": [{k: f[k] for k in ("id", "split", "file", "error")} for f in missing],
        "unlabelled_videos": summary.videos_unlabelled,
        "rows": rows,
        "frames": frames,
        "video_folder": str(folder),
        "settings": {
            k: plan[k] for k in ("shard_size", "depth_model", "normalize", "depth_codec", "depth_codec_options")
        },
    }
    write_json(output_dir / REPORT_FILE, report, work_dir / "tmp", tag)

    card_data = DatasetCardData(
        license="other",
        task_categories=["video-classification"],
        pretty_name="Something-Something V2 with estimated depth",
    )
    present = [s for s in splits if rows[s]]  # a split without rows has no data file to point at
    if len(present) < len(splits):
        logger.warning("no rows for split(s) %s: left out of the dataset", [s for s in splits if not rows[s]])
    MetadataConfigs(
        {"default": {"data_files": [{"split": s, "path": f"data/{s}-*"} for s in present]}}
    ).to_dataset_card_data(card_data)
    split_dict = SplitDict()
    for s in present:
        split_dict.add(SplitInfo(name=s, num_examples=rows[s], num_bytes=nbytes[s]))
    DatasetInfosDict({"default": DatasetInfo(features=features, splits=split_dict)}).to_dataset_card_data(card_data)
    card = render_dataset_card(
        card_data,
        "ssv2_dataset_card.md",
        depth_model=plan["depth_model"],
        normalize=plan["normalize"],
        codec=plan["depth_codec"],
        options=json.dumps(plan["depth_codec_options"]),
        rows=", ".join(f"{s} {rows[s]:,}" for s in present),
        frames=f"{frames:,}",
        failed=len(broken),
        missing=len(missing),
        report=REPORT_FILE,
    )
    write_atomic(output_dir / "README.md", lambda p: card.save(str(p)), work_dir / "tmp", tag)
