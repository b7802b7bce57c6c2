# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""A model with verb and noun label sets through the recipe, end to end: generated egocentric-style segments with two
label columns are trained a few steps (the loss of both sets falls), tested with 6 views (action top-1 equals a hand
computation from the written scores), predicted on a test split without labels (predictions.jsonl and the
EPIC-Kitchens submission file), saved, and run through the pipeline with and without the package."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import TINY_RUN, Recorder, run_without_package

from modeling_dear import DearConfig, DearForVideoClassification, DearVideoProcessor
from modeling_dear.training.collator import VideoCollator
from modeling_dear.training.recipe import run

pytestmark = pytest.mark.usefixtures("one_torch_thread")
VERBS = ["take", "put", "wash"]
NOUNS = ["cup", "knife"]


@pytest.fixture(scope="module")
def segments_dataset(tmp_path_factory):
    """Segments of a kitchen seen from the head: the verb is the colour of the hands' motion, the noun how bright
    (and how near: the depth level) the object is. Train, validation and an unlabelled test split."""
    import datasets

    from modeling_dear.video_io import encode_depth_video, encode_video

    root = tmp_path_factory.mktemp("segments")
    rng = np.random.default_rng(0)
    features = datasets.Features(
        {
            "video_id": datasets.Value("string"),
            "video": datasets.Video(decode=False),
            "depth": datasets.Video(decode=False),
            "verb": datasets.ClassLabel(names=VERBS),
            "noun": datasets.ClassLabel(names=NOUNS),
            "participant_id": datasets.Value("string"),
        }
    )
    splits = {}
    for split, repeats in (("train", 3), ("validation", 1), ("test", 1)):
        rows = []
        for verb in range(3):
            for noun in range(2):
                for i in range(repeats):
                    frames = rng.integers(0, 40, size=(10, 40, 48, 3), dtype=np.uint8)
                    frames[..., verb] += 150
                    frames += np.uint8(50 * noun)
                    depth = np.full((10, 40, 48), 60 + 120 * noun, dtype=np.uint8)
                    labelled = split != "test"
                    rows.append(
                        {
                            "video_id": f"P01_{split}_{verb}{noun}{i}",
                            "video": {"bytes": encode_video(frames, codec="libx264"), "path": None},
                            "depth": {"bytes": encode_depth_video(depth), "path": None},
                            "verb": verb if labelled else -1,
                            "noun": noun if labelled else -1,
                            "participant_id": "P01",
                        }
                    )
        splits[split] = datasets.Dataset.from_list(rows, features=features)
    datasets.DatasetDict(splits).save_to_disk(str(root / "data"))
    return root / "data"


def per_set_losses(model, dataset, processor) -> dict[str, float]:
    """Each label set's cross-entropy over `dataset`, one centre view per video."""
    collator = VideoCollator(processor, mode="val", modalities=model.config.modalities, label_columns=["verb", "noun"])
    batch = collator([dataset[i] for i in range(len(dataset))])
    with torch.no_grad():
        outputs = model(pixel_values=batch["pixel_values"], depth_pixel_values=batch["depth_pixel_values"])
    return {
        name: F.cross_entropy(outputs.label_set_logits[name], batch["labels"][:, index]).item()
        for index, name in enumerate(("verb", "noun"))
    }


@pytest.mark.slow  # 24 training steps, a 6-view test, a second run and a process without the package (18 s at load 8, 45 s at load 14)
def test_verb_noun_model_trains_tests_predicts_and_serves(segments_dataset, tmp_path):
    import datasets

    config = DearConfig.from_preset(
        "tiny-dear-rgb-depth", num_frames=4, image_size=32, label_sets={"verb": VERBS, "noun": NOUNS}
    )
    start = tmp_path / "start"
    torch.manual_seed(0)
    DearForVideoClassification(config).save_pretrained(start)
    DearVideoProcessor.from_model_config(config).save_pretrained(start)
    common = ["--dataset", str(segments_dataset), *TINY_RUN, "--repeated_augmentation", "1"]
    recorder = Recorder()
    results = run(
        [
            *common,
            "--model_name_or_path",
            str(start),
            "--output_dir",
            str(tmp_path / "run"),
            "--do_train",
            "--do_predict",
            "--predict_split",
            "validation",
            "--max_steps",
            "24",
            "--learning_rate",
            "3e-3",
            "--eval_strategy",
            "no",
            "--save_strategy",
            "no",
        ],
        callbacks=[recorder],
    )
    assert len(recorder.losses) == 24
    train = datasets.load_from_disk(str(segments_dataset))["train"]
    processor = DearVideoProcessor.from_pretrained(start)
    before = per_set_losses(DearForVideoClassification.from_pretrained(start).eval(), train, processor)
    trained = DearForVideoClassification.from_pretrained(tmp_path / "run").eval()
    after = per_set_losses(trained, train, processor)
    assert after["verb"] < 0.7 * before["verb"] and after["noun"] < 0.7 * before["noun"], (before, after)

    # test metrics, 6 views: action top-1 from the written scores, by hand
    test = results["test"]
    assert {"test_verb_top1", "test_noun_top5", "test_verb_mean_class_accuracy", "test_action_top1"} <= set(test)
    lines = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == 6 and lines[0]["label_sets"] == ["verb", "noun"]
    hits = []
    for line in lines:
        verb = int(np.argmax(line["verb"]["scores"]))
        noun = int(np.argmax(line["noun"]["scores"]))
        assert line["action"]["prediction"] == verb * 1000 + noun
        assert line["action"]["top_k_names"][0] == f"{VERBS[verb]} {NOUNS[noun]}"
        hits.append(verb == line["verb"]["label"] and noun == line["noun"]["label"])
        assert line["action"]["label"] == line["verb"]["label"] * 1000 + line["noun"]["label"]
    assert test["test_action_top1"] == pytest.approx(np.mean(hits))
    assert test["test_verb_top1"] == pytest.approx(
        np.mean([ln["verb"]["prediction"] == ln["verb"]["label"] for ln in lines])
    )
    card = (tmp_path / "run" / "README.md").read_text()
    assert "| action_top1 |" in card and "| noun_mean_class_accuracy |" in card

    # a test split without labels: predictions and the leaderboard file
    run(
        [
            *common,
            "--model_name_or_path",
            str(tmp_path / "run"),
            "--output_dir",
            str(tmp_path / "test"),
            "--do_predict",
            "--predict_split",
            "test",
        ]
    )
    unlabelled = [json.loads(line) for line in (tmp_path / "test" / "predictions.jsonl").read_text().splitlines()]
    assert all(line["verb"]["label"] is None and line["action"]["label"] is None for line in unlabelled)
    submission = json.loads((tmp_path / "test" / "submission.json").read_text())
    assert submission["challenge"] == "action_recognition" and submission["version"] == "0.2"
    assert set(submission["results"]) == {line["video_id"] for line in unlabelled}
    first = unlabelled[0]
    entry = submission["results"][first["video_id"]]
    assert list(entry) == ["verb", "noun"] and list(entry["noun"]) == ["0", "1"]
    np.testing.assert_allclose([entry["verb"][str(i)] for i in range(3)], first["verb"]["scores"], atol=1e-6)

    # the pipeline, with the package and from the folder's own code without it
    video = tmp_path / "clip.mp4"
    depth = tmp_path / "clip_depth.mp4"
    row = datasets.load_from_disk(str(segments_dataset))["validation"][4]  # verb 2, noun 0
    video.write_bytes(row["video"]["bytes"])
    depth.write_bytes(row["depth"]["bytes"])
    from transformers import pipeline

    classifier = pipeline("video-classification", model=str(tmp_path / "run"))
    result = classifier(str(video), depth=str(depth), top_k=2)
    assert list(result) == ["verb", "noun", "action"]
    batch = processor(str(video), depth=str(depth), mode="val", return_tensors="pt")
    with torch.no_grad():
        logits = trained(
            pixel_values=batch["pixel_values"], depth_pixel_values=batch["depth_pixel_values"]
        ).label_set_logits
    verb_probabilities, noun_probabilities = logits["verb"].softmax(-1)[0], logits["noun"].softmax(-1)[0]
    assert result["verb"][0]["label"] == VERBS[int(verb_probabilities.argmax())]
    assert result["verb"][0]["score"] == pytest.approx(verb_probabilities.max().item(), abs=1e-6)
    top_action = result["action"][0]
    assert (top_action["verb"], top_action["noun"]) == (result["verb"][0]["label"], result["noun"][0]["label"])
    assert top_action["score"] == pytest.approx(
        verb_probabilities.max().item() * noun_probabilities.max().item(), abs=1e-6
    )
    assert top_action["action_id"] == VERBS.index(top_action["verb"]) * 1000 + NOUNS.index(top_action["noun"])

    remote = run_without_package(
        f"""
        import json
        from transformers import pipeline
        classifier = pipeline("video-classification", model={str(tmp_path / "run")!r}, trust_remote_code=True)
        print("RESULT", json.dumps(classifier({str(video)!r}, depth={str(depth)!r}, top_k=2)))
        """,
        tmp_path,
    )
    assert remote.returncode == 0, remote.stderr[-3000:]
    remote_result = json.loads(remote.stdout.split("RESULT", 1)[1])
    assert [r["label"] for r in remote_result["action"]] == [r["label"] for r in result["action"]]
    np.testing.assert_allclose(
        [r["score"] for r in remote_result["noun"]], [r["score"] for r in result["noun"]], rtol=0, atol=1e-6
    )
