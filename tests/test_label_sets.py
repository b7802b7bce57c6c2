# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Several label sets per clip (`DearConfig.label_sets`, EPIC-Kitchens' verbs and nouns): config, heads and loss,
action scores, metrics, processor flips, collator, dataset checks; and a single-label folder saved before label
sets existed loads and predicts as it did."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from transformers import pipeline

from modeling_dear import DearConfig, DearForVideoClassification, DearVideoProcessor
from modeling_dear.label_sets import action_id, action_scores, softmax_per_label_set
from modeling_dear.training.collator import VideoCollator
from modeling_dear.training.metrics import label_set_metrics, video_accuracy_metrics

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SINGLE_LABEL = Path(__file__).parent / "fixtures" / "single-label-427f9fc"
VERBS = ["take", "put", "open", "turn-left", "turn-right"]
NOUNS = ["cup", "plate", "left:drawer", "right:drawer"]


def tiny_label_set_config(**overrides):
    return DearConfig.from_preset(
        "tiny-dear-rgb-depth", num_frames=4, image_size=32, label_sets={"verb": VERBS, "noun": NOUNS}, **overrides
    )


def test_config_label_sets_round_trip_in_order(tmp_path):
    config = tiny_label_set_config(label_set_loss_weights={"noun": 0.5})
    assert config.label_sets == {"verb": dict(enumerate(VERBS)), "noun": dict(enumerate(NOUNS))}
    # id2label is derived: the sets' classes one after the other, as `logits` holds them
    assert config.num_labels == len(VERBS) + len(NOUNS)
    assert config.id2label[len(VERBS)] == "noun/cup" and config.label2id["verb/open"] == 2
    assert config.label_set_sizes == {"verb": 5, "noun": 4} and config.predicts_actions
    assert config.label_columns == config.label_sets
    config.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert [name for name, _ in saved["label_sets"]] == ["verb", "noun"]  # the order survives sorted JSON keys
    reloaded = DearConfig.from_pretrained(tmp_path)
    assert list(reloaded.label_sets) == ["verb", "noun"] and reloaded.label_sets == config.label_sets
    assert reloaded.label_set_loss_weight("noun") == 0.5 and reloaded.label_set_loss_weight("verb") == 1.0
    assert reloaded.id2label == config.id2label

    single = DearConfig.from_preset("tiny", num_labels=3)
    assert single.label_sets is None and single.label_columns == {"label": single.id2label}
    assert not single.predicts_actions


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"label_sets": {"verb": VERBS, "depth": NOUNS}},
            r"label set name\(s\) \['depth'\] are also the dataset columns",
        ),
        ({"label_sets": {"verb": ["only"]}}, r"label_sets\['verb'\] needs at least 2 classes"),
        ({"label_sets": {"verb": {0: "a", 2: "b"}}}, r"ids 0..n-1"),
        ({"label_sets": {"verb": VERBS}, "label_set_loss_weights": {"noun": 1.0}}, r"names \['noun'\]"),
        ({"label_set_loss_weights": {"noun": 1.0}}, "needs label_sets"),
        ({"label_sets": {"my verb": VERBS}}, "identifiers"),
    ],
)
def test_config_refuses_bad_label_sets(overrides, message):
    with pytest.raises(ValueError, match=message):
        DearConfig.from_preset("tiny-dear-rgb-depth", num_frames=4, image_size=32, **overrides)


def test_heads_per_label_set_and_the_summed_loss():
    torch.manual_seed(0)
    config = tiny_label_set_config(label_set_loss_weights={"noun": 0.5})
    model = DearForVideoClassification(config).eval()
    sources = config.logit_sources
    assert list(model.classifiers) == ["verb", "noun"]
    assert {s: list(heads) for s, heads in model.classifiers.items()} == {"verb": sources, "noun": sources}
    assert model.classifiers["noun"][sources[0]].out_features == len(NOUNS)
    generator = torch.Generator().manual_seed(1)
    shape = (3, 4, 3, 32, 32)
    inputs = {"pixel_values": torch.randn(shape, generator=generator), "depth_pixel_values": torch.randn(shape)}
    labels = {"verb": torch.tensor([0, 4, 2]), "noun": torch.tensor([3, 1, 0])}
    outputs = model(**inputs, labels=labels)

    pooled = model.dear(**inputs).pooler_output
    for label_set in ("verb", "noun"):
        by_hand = torch.stack([model.classifiers[label_set][s](p) for s, p in zip(sources, pooled, strict=True)]).mean(
            0
        )
        torch.testing.assert_close(outputs.label_set_logits[label_set], by_hand)
    torch.testing.assert_close(
        outputs.logits, torch.cat([outputs.label_set_logits["verb"], outputs.label_set_logits["noun"]], -1)
    )
    assert outputs.stream_logits.shape == (3, len(sources), len(VERBS) + len(NOUNS))
    expected = F.cross_entropy(outputs.label_set_logits["verb"], labels["verb"], label_smoothing=0.1) + 0.5 * (
        F.cross_entropy(outputs.label_set_logits["noun"], labels["noun"], label_smoothing=0.1)
    )
    torch.testing.assert_close(outputs.loss, expected)
    # the collator's form: one column per label set, in config.label_sets order
    stacked = model(**inputs, labels=torch.stack([labels["verb"], labels["noun"]], 1))
    torch.testing.assert_close(stacked.loss, expected)
    # both sets get gradients through their own heads
    model.train()
    model(**inputs, labels=labels).loss.backward()
    for label_set in ("verb", "noun"):
        assert model.classifiers[label_set][sources[0]].weight.grad.abs().sum() > 0

    with pytest.raises(ValueError, match=r"`labels` of label set 'noun' must be a 1-D tensor of class ids in \[0, 4\)"):
        model(**inputs, labels={"verb": labels["verb"], "noun": torch.tensor([0, 4, 1])})
    with pytest.raises(ValueError, match=r"names the label sets \['verb'\], this model has \['verb', 'noun'\]"):
        model(**inputs, labels={"verb": labels["verb"]})
    with pytest.raises(ValueError, match=r"\(batch, 2\) tensor whose columns are the label sets"):
        model(**inputs, labels=labels["verb"])


def test_single_label_folder_saved_before_label_sets_loads_and_predicts_as_before(tmp_path):
    """A folder saved by main at 427f9fc (tests/fixtures/make_single_label_checkpoint.py): same logits, same
    pipeline output, same state-dict keys when saved again."""
    expected = load_file(str(SINGLE_LABEL / "expected.safetensors"))
    model = DearForVideoClassification.from_pretrained(SINGLE_LABEL).eval()
    assert model.config.label_sets is None and list(model.classifiers) == model.config.logit_sources
    with torch.no_grad():
        outputs = model(pixel_values=expected["pixel_values"], depth_pixel_values=expected["depth_pixel_values"])
    torch.testing.assert_close(outputs.logits, expected["logits"], rtol=0, atol=1e-6)
    torch.testing.assert_close(outputs.stream_logits, expected["stream_logits"], rtol=0, atol=1e-6)
    assert outputs.label_set_logits is None and "label_set_logits" not in outputs
    classifier = pipeline("video-classification", model=str(SINGLE_LABEL))
    result = classifier(str(SINGLE_LABEL / "clip.mp4"), depth=str(SINGLE_LABEL / "clip_depth.mp4"), top_k=3)
    before = json.loads((SINGLE_LABEL / "expected_pipeline.json").read_text())
    assert [r["label"] for r in result] == [r["label"] for r in before]
    np.testing.assert_allclose([r["score"] for r in result], [r["score"] for r in before], rtol=0, atol=1e-6)
    model.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert (
        saved["label_sets"] is None
        and saved["id2label"] == json.loads((SINGLE_LABEL / "config.json").read_text())["id2label"]
    )


def epic_action_scores_reference(verb_logits: np.ndarray, noun_logits: np.ndarray, top_n: int):
    """Written from the challenge's description: per segment, the top_n verbs and nouns by score, each soft-maxed
    over those top_n, every (verb, noun) product, sorted best first; loops, no vectorisation."""
    results = []
    for verbs, nouns in zip(verb_logits, noun_logits, strict=True):
        top_v = sorted(range(len(verbs)), key=lambda i: (-verbs[i], i))[:top_n]
        top_n_ = sorted(range(len(nouns)), key=lambda i: (-nouns[i], i))[:top_n]
        pv = np.exp([verbs[i] for i in top_v]) / np.exp([verbs[i] for i in top_v]).sum()
        pn = np.exp([nouns[i] for i in top_n_]) / np.exp([nouns[i] for i in top_n_]).sum()
        pairs = [(pv[a] * pn[b], v * 1000 + n) for a, v in enumerate(top_v) for b, n in enumerate(top_n_)]
        pairs.sort(key=lambda p: (-p[0], p[1]))
        results.append(pairs)
    return results


def test_action_scores_follow_the_epic_kitchens_rule():
    rng = np.random.default_rng(0)
    verb_logits, noun_logits = rng.normal(size=(4, 7)), rng.normal(size=(4, 9))
    for top_n in (3, 100):
        ids, scores = action_scores(verb_logits, noun_logits, top_n=top_n, top_actions=10)
        reference = epic_action_scores_reference(verb_logits, noun_logits, top_n)
        for row, pairs in enumerate(reference):
            assert ids[row].tolist() == [a for _, a in pairs[:10]]
            np.testing.assert_allclose(scores[row].numpy(), [s for s, _ in pairs[:10]], rtol=1e-12)
    # probabilities (the 6-view average) rank and score as the logits they came from
    probabilities = softmax_per_label_set(
        torch.from_numpy(np.concatenate([verb_logits, noun_logits], 1)), {"v": 7, "n": 9}
    )
    ids_p, scores_p = action_scores(probabilities[:, :7], probabilities[:, 7:], top_n=3, top_actions=10)
    ids_l, scores_l = action_scores(verb_logits, noun_logits, top_n=3, top_actions=10)
    assert torch.equal(ids_p, ids_l)
    torch.testing.assert_close(scores_p, scores_l)
    assert action_id(3, 17) == 3017  # EPIC-Kitchens' verb × 1000 + noun


def test_label_set_metrics_equal_a_hand_computation():
    label_sets = {"verb": dict(enumerate(["a", "b", "c"])), "noun": dict(enumerate(["x", "y"]))}
    verb = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3], [0.2, 0.2, 0.6]])
    noun = np.array([[0.6, 0.4], [0.45, 0.55], [0.9, 0.1], [0.3, 0.7]])
    references = np.array([[0, 0], [2, 0], [1, 0], [0, 1]])
    metrics = label_set_metrics(np.concatenate([verb, noun], 1), references, label_sets)
    # top-1: verb argmax 0,2,1,2 -> right on rows 0,1,2; noun argmax 0,1,0,1 -> right on rows 0,2,3
    assert metrics["verb_top1"] == 0.75 and metrics["noun_top1"] == 0.75
    # action top-1 = (argmax verb, argmax noun): right when both are, rows 0 and 2
    assert metrics["action_top1"] == 0.5
    # top-5 actions of 3 x 2 = 6: all but the worst pair; row 1's truth (2, 0) scores 0.6 * 0.45 = 0.27, second
    assert metrics["action_top5"] == 1.0
    # verb classes: a (rows 0, 3) 1/2, b (row 2) 1, c (row 1) 1 -> mean 5/6
    assert metrics["verb_mean_class_accuracy"] == pytest.approx(5 / 6)
    assert metrics["per_class"]["noun"] == {"x": 2 / 3, "y": 1.0}

    # through the Trainer's compute_metrics: logits, a failed (NaN) row left out and counted
    from transformers import EvalPrediction

    logits = np.log(np.concatenate([verb, noun], 1))
    logits = np.concatenate([logits, np.full((1, 5), np.nan)])
    compute = video_accuracy_metrics({}, label_sets)
    result = compute(EvalPrediction(predictions=(logits,), label_ids=np.concatenate([references, [[0, 0]]])))
    assert result["action_top1"] == 0.5 and result["verb_top1"] == 0.75 and result["failed_videos"] == 1
    assert set(compute.last_per_class) == {"verb", "noun"}


def test_processor_flips_labels_per_label_set(tmp_path):
    config = tiny_label_set_config()
    processor = DearVideoProcessor.from_model_config(config, flip_prob=1.0, randaugment_num_ops=0)
    assert processor.flip_label_pairs == {"verb": [[3, 4]], "noun": [[2, 3]]}
    processor.save_pretrained(tmp_path)
    reloaded = DearVideoProcessor.from_pretrained(tmp_path)
    assert reloaded.flip_label_pairs == processor.flip_label_pairs
    frames = np.random.default_rng(0).integers(0, 255, size=(6, 24, 28, 3), dtype=np.uint8)
    labels = np.array([[3, 2], [0, 3], [4, 1]])
    out = reloaded([frames] * 3, depth=[frames[..., 0]] * 3, labels=labels, mode="train", seed=0)
    assert out["labels"].tolist() == [[4, 3], [0, 2], [3, 1]]  # every clip flipped: left <-> right in each set
    assert reloaded([frames], depth=[frames[..., 0]], labels=labels[:1], mode="val")["labels"].tolist() == [[3, 2]]
    decoded = reloaded.decode_for_training([frames] * 3, depth=[frames[..., 0]] * 3, labels=labels, seed=0)
    assert decoded["labels"].tolist() == [[4, 3], [0, 2], [3, 1]]
    with pytest.raises(ValueError, match="labels have 2 columns"):
        DearVideoProcessor(num_frames=4, flip_prob=1.0)(
            [frames], depth=[frames[..., 0]], labels=labels[:1], mode="train", seed=0
        )


def test_collator_gives_one_label_column_per_set(make_frames):
    from modeling_dear.video_io import encode_depth_video, encode_video

    config = tiny_label_set_config()
    processor = DearVideoProcessor.from_model_config(config, randaugment_num_ops=0)
    frames = make_frames(6, 24, 28)
    video, depth = encode_video(frames, codec="libx264"), encode_depth_video(frames[..., 0])
    rows = [{"video_id": str(i), "video": video, "depth": depth, "verb": i, "noun": 3 - i} for i in range(3)]
    collator = VideoCollator(processor, mode="val", modalities=config.modalities, label_columns=list(config.label_sets))
    assert collator(rows)["labels"].tolist() == [[0, 3], [1, 2], [2, 1]]
    train = VideoCollator(
        processor, mode="train", modalities=config.modalities, label_columns=["verb", "noun"], repeats=2
    )
    assert train(rows)["labels"].shape == (6, 2)
    # a test split: no labels
    unlabelled = [{**row, "verb": -1, "noun": -1} for row in rows]
    assert "labels" not in collator(unlabelled)
    with pytest.raises(ValueError, match=r"row 1 has no 'noun' label"):
        collator([rows[0], {**rows[1], "noun": None}])


def test_dataset_checks_name_the_label_set():
    import datasets

    from modeling_dear.training.dataset_checks import check_dataset_fits_model

    config = tiny_label_set_config()
    features = datasets.Features(
        {
            "video": datasets.Value("string"),
            "depth": datasets.Value("string"),
            "verb": datasets.ClassLabel(names=VERBS),
            "noun": datasets.ClassLabel(names=NOUNS),
        }
    )
    rows = {"video": ["a", "b"], "depth": ["a", "b"], "verb": [0, 1], "noun": [1, 2]}
    check_dataset_fits_model(datasets.Dataset.from_dict(rows, features=features), config, "train")
    without_noun = datasets.Dataset.from_dict({k: v for k, v in rows.items() if k != "noun"})
    with pytest.raises(ValueError, match=r"split 'train' has no column 'noun' \(a label set\)"):
        check_dataset_fits_model(without_noun, config, "train")
    check_dataset_fits_model(without_noun, config, "test", needs_labels=False)
    outside = datasets.Dataset.from_dict({**rows, "noun": [1, 7]})
    with pytest.raises(ValueError, match=r"labels in column 'noun' outside the label set \[0, 4\): e.g. \[7\]"):
        check_dataset_fits_model(outside, config, "validation")
    renamed = features.copy()
    renamed["verb"] = datasets.ClassLabel(names=["take", "put", "close", "turn-left", "turn-right"])
    with pytest.raises(ValueError, match=r"calls class 2 of column 'verb' 'close', label set 'verb' 'open'"):
        check_dataset_fits_model(datasets.Dataset.from_dict(rows, features=renamed), config, "train")


def test_predictions_and_per_class_analysis_per_label_set(tmp_path, capsys):
    import datasets

    from modeling_dear.evaluation.per_class_comparison import main as analysis_main
    from modeling_dear.training.predictions import write_action_submission, write_predictions

    label_sets = {"verb": dict(enumerate(["take", "put"])), "noun": dict(enumerate(["cup", "pan", "lid"]))}
    dataset = datasets.Dataset.from_dict({"video_id": ["s0", "s1", "s2"], "verb": [0, 1, 1], "noun": [2, 0, 1]})
    # run A gets every verb right and no noun; run B the reverse; B's second row failed to decode
    a = np.log([[0.9, 0.1, 0.1, 0.7, 0.2], [0.2, 0.8, 0.1, 0.6, 0.3], [0.3, 0.7, 0.1, 0.1, 0.8]])
    b = np.log([[0.4, 0.6, 0.1, 0.2, 0.7], [np.nan] * 5, [0.7, 0.3, 0.1, 0.8, 0.1]])
    write_predictions(tmp_path / "a.jsonl", a, dataset, {}, top_k=3, label_sets=label_sets)
    write_predictions(tmp_path / "b.jsonl", b, dataset, {}, top_k=3, label_sets=label_sets)
    first = json.loads((tmp_path / "a.jsonl").read_text().splitlines()[0])
    assert first["verb"]["prediction_name"] == "take" and first["noun"]["label_name"] == "lid"
    assert first["action"]["label"] == 2 and first["action"]["top_k"][0] == 1  # take lid: truth; take pan: best
    assert first["action"]["top_k_names"][:2] == ["take pan", "take lid"]
    np.testing.assert_allclose(first["action"]["top_k_scores"][:2], [0.9 * 0.7, 0.9 * 0.2], rtol=1e-5)
    failed = json.loads((tmp_path / "b.jsonl").read_text().splitlines()[1])
    assert failed["failed"] and failed["verb"]["prediction"] is None and failed["action"]["top_k"] is None

    analysis_main([str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), "--output", str(tmp_path / "analysis")])
    for label_set in ("verb", "noun"):
        assert (tmp_path / "analysis" / label_set / "per_class_change.png").is_file()
    verbs = (tmp_path / "analysis" / "verb" / "per_class_accuracy.md").read_text()
    assert "(verb classes)" in verbs and "| put | 2 | 100.0 | 0.0 | -100.0 |" in verbs
    nouns = (tmp_path / "analysis" / "noun" / "per_class_accuracy.md").read_text()
    assert "| lid | 1 | 0.0 | 100.0 | +100.0 |" in nouns
    assert "wrote" in capsys.readouterr().out

    submission = write_action_submission(tmp_path / "submission.json", b, dataset, label_sets)
    assert list(submission["results"]) == ["s0", "s2"]  # the failed segment has no entry
    assert submission["results"]["s2"]["noun"] == {"0": 0.1, "1": 0.8, "2": 0.1}


def test_dear_predict_prints_each_label_set_and_the_actions(tmp_path, capsys, make_frames):
    from modeling_dear.cli.predict import main as predict_main
    from modeling_dear.video_io import encode_depth_video, encode_video

    config = tiny_label_set_config()
    torch.manual_seed(0)
    DearForVideoClassification(config).save_pretrained(tmp_path / "model")
    DearVideoProcessor.from_model_config(config).save_pretrained(tmp_path / "model")
    frames = make_frames(6, 24, 28)
    (tmp_path / "clip.mp4").write_bytes(encode_video(frames, codec="libx264"))
    (tmp_path / "depth.mp4").write_bytes(encode_depth_video(frames[..., 0]))
    argv = [str(tmp_path / "clip.mp4"), "--model", str(tmp_path / "model"), "--depth", str(tmp_path / "depth.mp4")]
    assert predict_main([*argv, "--top-k", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    groups = [line for line in lines if line.endswith(":")]
    assert groups == ["verb:", "noun:", "action:"]
    actions = lines[lines.index("action:") + 1 :]
    assert len(actions) == 2 and all(len(line.split()) == 4 for line in actions)  # rank, score, verb, noun
    assert predict_main([*argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)["predictions"]
    assert [r["label"] for r in result["verb"]][:2] == [line.split()[-1] for line in lines[2:4]]
