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
