# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The finished SSv2 dataset's card (`README.md`: splits, data files, features) and its report of the videos
that failed or were missing (`prepare_ssv2_report.json`), assembled from the shards' manifests."""

from __future__ import annotations

import json
import logging

from ...atomic_write import write_atomic, write_json
from ...hub.cards import render_dataset_card
from ..prepare.card import add_dataset_metadata, collect_manifests

logger = logging.getLogger(__name__)

REPORT_FILE = "prepare_ssv2_report.json"


def write_card_and_report(output_dir, work_dir, shards, plan, features, splits, summary, folder, tag):
    """Once every shard is done: the report and the card, and the dataset's totals in `summary.totals`."""
    from huggingface_hub import DatasetCardData

    found = collect_manifests(work_dir, shards, splits)
    rows, nbytes, frames, broken, missing = (found[k] for k in ("rows", "bytes", "frames", "failed", "missing"))
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
    present = add_dataset_metadata(card_data, features, splits, rows, nbytes)
    card = render_dataset_card(
        card_data,
        "ssv2_dataset_card.md",
        depth_model=plan["depth_model"],
        normalize=plan["normalize"],
        codec=plan["depth_codec"],
        options=json.dumps(plan["depth_codec_options"]),
        depth_settings=_settings_beyond_the_defaults(plan.get("depth_settings") or {}),
        rows=", ".join(f"{s} {rows[s]:,}" for s in present),
        frames=f"{frames:,}",
        failed=len(broken),
        missing=len(missing),
        report=REPORT_FILE,
    )
    write_atomic(output_dir / "README.md", lambda p: card.save(str(p)), work_dir / "tmp", tag)


def _settings_beyond_the_defaults(settings: dict) -> str:
    """The depth settings the card's text does not already name, when they differ from a default run's (fp32,
    the checkpoint's own input size, no pinned revision): such a dataset says how its depth was made."""
    shown = []
    if settings.get("precision") not in (None, "float32"):
        shown.append(f"precision {settings['precision']}")
    if settings.get("input") and settings["input"].get("keep_aspect_ratio"):
        shown.append(f"model input at the frames' aspect ratio ({json.dumps(settings['input'])})")
    if settings.get("revision"):
        shown.append(f"revision {settings['revision']}")
    return "; ".join(shown)
