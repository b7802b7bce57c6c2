# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Errors that must say what is wrong and what to do, in one line (issue 24): a model name that is neither a folder
nor reachable, weights that do not match their config, a cut or unsafe weights file, a full disk while saving, and
a depth model folder that is not one."""

import pytest

from modeling_dear.cli.predict import main as predict_main

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_dear_predict_names_a_model_that_is_neither_a_folder_nor_reachable(monkeypatch, capsys):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # as on a machine without network
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert predict_main(["clip.webm", "--model", "someone/no-such-model"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("dear-predict: error: --model someone/no-such-model: not a local folder, and not loadable")
    assert "\n" not in error and "give a saved model's folder" in error


@pytest.fixture(scope="module")
def depth_model():
    from modeling_dear import DearConfig, DearForVideoClassification

    return DearForVideoClassification(DearConfig.from_preset("tiny-depth-s4v", num_frames=4, image_size=32))


def test_attach_depth_estimator_names_a_missing_folder_and_a_model_that_estimates_no_depth(depth_model, tmp_path):
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification

    missing = tmp_path / "no-such-depth-model"
    with pytest.raises(
        FileNotFoundError, match=rf"^attach_depth_estimator: depth model {missing}: the folder does not"
    ):
        depth_model.attach_depth_estimator(str(missing))
    videomae = tmp_path / "videomae"
    VideoMAEForVideoClassification(
        VideoMAEConfig(
            image_size=32,
            patch_size=16,
            num_frames=2,
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=37,
        )
    ).save_pretrained(videomae)
    with pytest.raises(ValueError, match=r"holds a 'videomae' model, not a depth estimation model: give the folder"):
        depth_model.attach_depth_estimator(videomae)
    assert depth_model.config.depth_estimator_config is None  # nothing attached


@pytest.fixture(scope="module")
def saved_fusion_model(tmp_path_factory):
    from modeling_dear import DearConfig, DearForVideoClassification

    folder = tmp_path_factory.mktemp("fusion-model")
    config = DearConfig.from_preset("tiny", num_frames=4, image_size=32, num_labels=3)
    DearForVideoClassification(config).save_pretrained(folder)
    return folder


def _edit_config(folder, **changes):
    import json

    config = json.loads((folder / "config.json").read_text())
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".")
            config[outer][inner] = value
        else:
            config[key] = value
    (folder / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    "change,named",
    [
        (
            {"num_frames": 8},
            r"shaped otherwise: dear.encoders.depth_videomamba.videomamba.temporal_pos_embedding \[1, 4, 32\] \(config: \[1, 8, 32\]\)",
        ),
        ({"side_hidden_size": 48}, r"shaped otherwise: dear.encoders.\w+_side4video"),
        ({"fusion_hidden_size": 48}, r"shaped otherwise: .*dear.fusion"),
        ({"clip_config.num_hidden_layers": 1}, r"not in the model: dear.backbone.encoder.layers.1"),
        ("drop the classifier", r"missing: classifiers.depth_side4video.weight"),
    ],
    ids=["num_frames", "side_hidden_size", "fusion_hidden_size", "clip-layers", "classifier-removed"],
)
def test_a_folder_whose_weights_do_not_fit_its_config_is_refused_naming_the_tensors(
    saved_fusion_model, tmp_path, change, named
):
    import re
    import shutil

    from safetensors.torch import load_file, save_file

    from modeling_dear import DearForVideoClassification

    folder = tmp_path / "model"
    shutil.copytree(saved_fusion_model, folder)
    if change == "drop the classifier":
        weights = load_file(folder / "model.safetensors")
        weights.pop("classifiers.depth_side4video.weight")
        save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    else:
        _edit_config(folder, **change)
    with pytest.raises(ValueError) as caught:
        DearForVideoClassification.from_pretrained(folder)
    text = str(caught.value)
    assert text.startswith(f"{folder}: model.safetensors does not fit its config.json (tensors ") and "\n" not in text
    assert re.search(named, text), text


def test_a_cut_weights_file_is_named_with_what_to_do(saved_fusion_model, tmp_path):
    import shutil

    from modeling_dear import DearForVideoClassification

    folder = tmp_path / "model"
    shutil.copytree(saved_fusion_model, folder)
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 3])
    with pytest.raises(OSError, match=r"model.safetensors is cut short or damaged \(.*\): copy or download the folder"):
        DearForVideoClassification.from_pretrained(folder)
