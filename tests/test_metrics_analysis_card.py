# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The evaluate metric module, the per-class depth analysis, and the model card."""

import json

import numpy as np
import pytest
from huggingface_hub import ModelCard

from modeling_dear import DearConfig
from modeling_dear.evaluation import load_video_accuracy
from modeling_dear.evaluation.per_class_comparison import compare_predictions, write_comparison
from modeling_dear.evaluation.per_class_comparison import main as analysis_main
from modeling_dear.hub.model_card import build_model_card


def test_video_accuracy_against_a_hand_computation():
    metric = load_video_accuracy()
    scores = np.array(
        [
            [0.1, 0.9, 0.0, 0.0, 0.0, 0.0, 0.0],  # label 1: top-1 hit
            [0.8, 0.1, 0.05, 0.05, 0.0, 0.0, 0.0],  # label 1: rank 2, top-5 hit
            [0.0, 0.0, 0.2, 0.3, 0.5, 0.0, 0.0],  # label 4: hit
            [0.3, 0.25, 0.2, 0.15, 0.1, 0.0, 0.0],  # label 6: rank 6+, top-5 miss
        ]
    )
    result = metric.compute(predictions=scores, references=[1, 1, 4, 6])
    assert result["top1"] == pytest.approx(2 / 4)
    assert result["top5"] == pytest.approx(3 / 4)
    assert result["per_class_accuracy"] == [None, 0.5, None, None, 1.0, None, 0.0]
    assert result["mean_class_accuracy"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert result["per_class_count"] == [0, 2, 0, 0, 1, 0, 1]


def test_video_accuracy_rejects_labels_outside_the_scores():
    with pytest.raises(ValueError, match=r"class ids in \[0, 3\)"):
        load_video_accuracy().compute(predictions=[[0.1, 0.2, 0.7]], references=[3])


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


@pytest.fixture
def two_runs(tmp_path):
    names = {
        0: "Moving something towards the camera",
        1: "Moving something away from the camera",
        2: "Moving something up",
    }
    labels = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    rgb = [0, 1, 1, 0, 0, 0, 1, 1, 2, 2]  # class 0: 2/4, class 1: 2/4, class 2: 2/2
    dear = [0, 0, 0, 0, 1, 1, 1, 0, 2, 0]  # class 0: 4/4, class 1: 3/4, class 2: 1/2
    for name, predictions in (("rgb", rgb), ("dear", dear)):
        write_jsonl(
            tmp_path / f"{name}.jsonl",
            [
                {"video_id": f"v{i}", "label": label, "label_name": names[label], "prediction": p}
                for i, (label, p) in enumerate(zip(labels, predictions, strict=True))
            ],
        )
    return tmp_path / "rgb.jsonl", tmp_path / "dear.jsonl"


def test_per_class_comparison_table_and_plot(two_runs, tmp_path):
    comparisons = compare_predictions(*two_runs)
    by_label = {c.label: c for c in comparisons}
    assert (by_label[0].accuracy_a, by_label[0].accuracy_b) == (0.5, 1.0)
    assert (by_label[1].accuracy_a, by_label[1].accuracy_b) == (0.5, 0.75)
    assert (by_label[2].accuracy_a, by_label[2].accuracy_b) == (1.0, 0.5)
    assert [c.label for c in comparisons] == [0, 1, 2]  # sorted by gain

    paths = write_comparison(comparisons, tmp_path / "out", names=("RGB", "DEAR"))
    csv_lines = paths["csv"].read_text().splitlines()
    assert csv_lines[0] == "label,class,videos,accuracy_RGB,accuracy_DEAR,change"
    assert csv_lines[1] == "0,Moving something towards the camera,4,0.5000,1.0000,+0.5000"
    markdown = paths["markdown"].read_text()
    assert "Overall top-1: RGB 60.0 %, DEAR 80.0 % (+20.0 points)" in markdown
    assert "| Moving something up | 2 | 100.0 | 50.0 | -50.0 |" in markdown
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_analysis_command_line(two_runs, tmp_path, capsys):
    analysis_main([str(two_runs[0]), str(two_runs[1]), "--output", str(tmp_path / "cli"), "--names", "RGB", "DEAR"])
    assert "Per-class top-1 accuracy: RGB vs DEAR" in capsys.readouterr().out
    assert (tmp_path / "cli" / "per_class_change.png").is_file()


def test_analysis_refuses_mismatched_files(two_runs, tmp_path):
    write_jsonl(tmp_path / "other.jsonl", [{"video_id": "x", "label": 0, "prediction": 0}])
    with pytest.raises(ValueError, match="cover different videos"):
        compare_predictions(two_runs[0], tmp_path / "other.jsonl")
    write_jsonl(tmp_path / "unlabelled.jsonl", [{"video_id": "x", "label": None, "prediction": 0}])
    with pytest.raises(ValueError, match="unlabelled.jsonl:1: field 'label' is missing"):
        compare_predictions(tmp_path / "unlabelled.jsonl", two_runs[0])


def test_model_card_renders_and_its_metadata_parses(tmp_path):
    config = DearConfig.from_preset("dear")
    card = build_model_card(
        config, repo_id="someone/dear-ssv2", metrics={"top1": 0.708, "top5": 0.925, "mean_class_accuracy": 0.61}
    )
    card.save(tmp_path / "README.md")
    reloaded = ModelCard.load(tmp_path / "README.md")
    data = reloaded.data
    assert data.library_name == "transformers" and data.pipeline_tag == "video-classification"
    assert data.datasets == ["something-something-v2"]
    results = {r.metric_type: r.metric_value for r in data.eval_results}
    assert results == {"accuracy": 0.708, "top_5_accuracy": 0.925}
    text = reloaded.text
    assert "| RGB + Depth + Depth(VideoMamba) (DEAR) | all three | s, v, mean | 70.8 (paper), 71.0 (poster) |" in text
    assert 'from_pretrained("someone/dear-ssv2"' in text and 'pipeline("video-classification"' in text
    assert "## How depth was made" in text and "## Limitations" in text


def test_model_card_of_the_rgb_variant_names_its_row():
    card = build_model_card(DearConfig.from_preset("s4v-rgb"), repo_id="x/s4v")
    assert "| S4V* (RGB only) | RGB S4V | none (S4V's own head) | 70.2 |" in card.text
    assert card.data.eval_results is None


def test_model_card_of_another_modality_lists_it_and_passes_its_video():
    config = DearConfig.from_preset(
        "s4v-rgb",
        encoders=["rgb_side4video", "flow_s4v"],
        encoder_configs={"flow_s4v": {"type": "side4video", "modality": "flow"}},
    )
    card = build_model_card(config, repo_id="x/flow")
    text = card.text
    assert "over the modalities rgb, flow" in text and "depth maps estimated" not in text
    assert "- flow: `flow_pixel_values`, read by `flow_s4v`" in text
    assert "RGB ⇄\nflow" in text
    assert 'processor("video.mp4", flow="video_flow.mp4", mode="val"' in text
    assert (
        'flow_pixel_values=inputs["flow_pixel_values"]' in text
        and 'classifier("video.mp4", flow="video_flow.mp4", top_k=5)' in text
    )
    assert "## How depth was made" not in text and "Depth is *estimated*" not in text and "depth=" not in text
    assert "flow" in card.data.tags and "depth" not in card.data.tags and "videomamba" not in card.data.tags
