# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Every named preset builds a valid config; the launch configs under configuration/ parse and point at real files."""

from pathlib import Path

import pytest
import yaml

from modeling_dear import DearConfig, list_presets
from modeling_dear.configuration_dear import load_preset_dict, paper_results

ROOT = Path(__file__).resolve().parents[1]
TABLE_1 = {
    "s4v-rgb": ["rgb_side4video"],
    "dear-rgb-videomamba": ["rgb_side4video", "depth_videomamba"],
    "dear-rgb-depth": ["rgb_side4video", "depth_side4video"],
    "dear": ["rgb_side4video", "depth_side4video", "depth_videomamba"],
    "depth-s4v": ["depth_side4video"],
    "depth-videomamba-tiny": ["depth_videomamba"],
}


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_builds(name):
    config = DearConfig.from_preset(name)
    assert config.encoders and config.logit_sources
    assert "extends" not in config.to_dict() and "description" not in config.to_dict()


def test_table_1_rows_are_presets_at_the_paper_shape():
    for name, encoders in TABLE_1.items():
        config = DearConfig.from_preset(name)
        assert config.encoders == encoders, name
        assert (config.num_frames, config.image_size, config.side_hidden_size) == (8, 224, 320)
        assert (
            config.clip_config.hidden_size,
            config.clip_config.num_hidden_layers,
            config.clip_config.patch_size,
        ) == (768, 12, 16)
    assert DearConfig.from_preset("dear").videomamba_config.hidden_size == 192  # VideoMamba-Tiny by default


def test_paper_results_come_from_the_table_1_presets():
    rows = paper_results()
    assert {row["preset"] for row in rows.values()} == set(TABLE_1)  # tiny twins do not inherit a paper row
    assert {key: row["preset"] for key, row in rows.items()} == {frozenset(e): name for name, e in TABLE_1.items()}
    assert rows[frozenset(TABLE_1["s4v-rgb"])]["ssv2_top1"] == "70.2"
    assert rows[frozenset(TABLE_1["dear"])]["ssv2_top1"].startswith("70.8")
    assert "paper_result" not in DearConfig.from_preset("dear").to_dict()


def test_tiny_variants_extend_tiny():
    base = load_preset_dict("tiny")
    for name in list_presets():
        if name.startswith("tiny-"):
            values = load_preset_dict(name)
            assert {k: v for k, v in values.items() if k != "encoders"} == {
                k: v for k, v in base.items() if k != "encoders"
            }


@pytest.mark.parametrize("path", sorted((ROOT / "configuration" / "accelerate").glob("*.yaml")), ids=lambda p: p.name)
def test_accelerate_configs_parse(path):
    config = yaml.safe_load(path.read_text())
    assert config["num_processes"] >= 1 and config["distributed_type"] in {"NO", "MULTI_GPU", "DEEPSPEED"}
    deepspeed_file = config.get("deepspeed_config", {}).get("deepspeed_config_file")
    if deepspeed_file:
        assert (ROOT / deepspeed_file).is_file()
