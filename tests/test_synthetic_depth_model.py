# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The main job's depth model (`data.synthetic.depth_model`) and its data path (`data.synthetic.estimated`):
MiDaS's scale-and-shift-invariant loss and errors against a direct computation, a miniature training whose loss
falls and whose held-out error beats the untrained model's, the saved folder loaded as an ordinary transformers
checkpoint, the cache, and the preparation that writes estimated depth beside the renderer's exact depth."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("av")
torch = pytest.importorskip("torch")

from modeling_dear.data import synthetic as sd  # noqa: E402
from modeling_dear.data.synthetic import depth_model as dm  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# A miniature of the main job's depth model: small frames, small model, a few hundred layout frames.
MINI = dm.DepthModelSpec(
    num_train_frames=160,
    num_eval_frames=24,
    height=32,
    width=48,
    input_size=32,
    hidden_size=32,
    fusion_size=16,
    epochs=4,
    batch_size=16,
    learning_rate=3e-3,
)


def test_loss_and_errors_ignore_scale_and_shift_and_match_a_direct_computation():
    generator = torch.Generator().manual_seed(0)
    target = 0.2 + torch.rand(3, 8, 10, generator=generator)
    prediction = torch.rand(3, 8, 10, generator=generator)
    # least squares: the aligned prediction is what numpy's lstsq gives image by image
    aligned = dm.align_scale_shift(prediction, target)
    for i in range(3):
        design = np.stack([prediction[i].flatten().numpy(), np.ones(80)], 1)
        coefficients = np.linalg.lstsq(design, target[i].flatten().numpy(), rcond=None)[0]
        np.testing.assert_allclose(aligned[i].flatten().numpy(), design @ coefficients, rtol=1e-4, atol=1e-5)
    scale = torch.tensor([3.0, 0.5, 7.0])[:, None, None]
    shift = torch.tensor([-1.0, 2.0, 0.25])[:, None, None]
    loss = dm.scale_shift_invariant_loss(prediction, target)
    assert torch.allclose(dm.scale_shift_invariant_loss(prediction * scale + shift, target), loss, rtol=1e-4)
    assert float(dm.scale_shift_invariant_loss(target * scale + shift, target)) < 1e-4 < 0.1 < float(loss)
    # an affine function of the true inverse depth is a perfect estimate
    assert dm.depth_errors(target * 2 + 1, target) == pytest.approx({"abs_rel": 0.0, "delta1": 1.0}, abs=1e-6)
    # errors against their definition: depth from the aligned prediction, relative error, ratio under 1.25
    errors = dm.depth_errors(prediction, target)
    depth = 1 / torch.maximum(aligned.double(), target.double().flatten(1).min(1).values[:, None, None] * 0.5)
    truth = 1 / target.double()
    assert errors["abs_rel"] == pytest.approx(float(((depth - truth).abs() / truth).mean()), rel=1e-6)
    assert errors["delta1"] == pytest.approx(
        float((torch.maximum(depth / truth, truth / depth) < 1.25).double().mean())
    )


def test_layouts_are_their_own_scenes_and_repeat():
    frames, depth = dm.render_layouts(dm.DepthModelSpec(num_eval_frames=3, height=32, width=48), "eval")
    again, _ = dm.render_layouts(dm.DepthModelSpec(num_eval_frames=3, height=32, width=48), "eval")
    assert frames.shape == (3, 32, 48, 3) and frames.dtype == np.uint8 and depth.shape == (3, 32, 48)
    assert np.array_equal(frames, again) and (depth > 0).all()
    train, _ = dm.render_layouts(dm.DepthModelSpec(num_train_frames=3, height=32, width=48), "train")
    assert not np.array_equal(train, frames)  # training and held-out frames come from different seeds


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("depth-models")
    folder = dm.load_or_train_depth_model(MINI, cache_dir=root)
    return folder, json.loads((folder / "training.json").read_text())


@pytest.mark.slow  # renders ~180 layout frames and trains 40 steps (~15 s on an idle 2-core machine)
def test_the_depth_model_learns(trained):
    from transformers import DPTForDepthEstimation

    folder, record = trained
    losses = record["epoch_losses"]
    assert losses[-1] < 0.7 * losses[0], losses
    # held-out error well below that of the same network untrained (what the loss curve alone cannot show)
    frames, depth = dm.render_layouts(MINI, "eval")
    torch.manual_seed(MINI.seed)
    untrained = dm.evaluate_depth_model(
        DPTForDepthEstimation(dm.depth_model_config(MINI)).eval(), dm.depth_image_processor(MINI), frames, depth
    )
    held = record["held_out"]
    assert held["frames"] == MINI.num_eval_frames
    assert held["abs_rel"] < 0.8 * untrained["abs_rel"], (held, untrained)
    assert held["abs_rel"] < 0.35 and held["delta1"] > 0.5, held  # the stated bound at this miniature size


@pytest.mark.slow  # shares the miniature training above
def test_the_saved_folder_is_an_ordinary_depth_checkpoint_and_is_cached(trained, monkeypatch):
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation, pipeline

    from modeling_dear.depth_estimation import DepthEstimator

    folder, record = trained
    model = AutoModelForDepthEstimation.from_pretrained(folder)
    processor = AutoImageProcessor.from_pretrained(folder)
    assert model.config.model_type == "dpt" and sum(p.numel() for p in model.parameters()) == record["num_parameters"]
    frames, depth = dm.render_layouts(MINI, "eval")
    estimator = DepthEstimator(str(folder), device="cpu")
    errors = dm.depth_errors(estimator.predict(frames), torch.from_numpy(depth))
    assert errors == pytest.approx({k: record["held_out"][k] for k in ("abs_rel", "delta1")}, rel=1e-6)
    from PIL import Image

    result = pipeline("depth-estimation", model=model, image_processor=processor)(Image.fromarray(frames[0]))
    assert result["predicted_depth"].shape[-2:] == (32, 48)

    def no_training(*args, **kwargs):
        raise AssertionError("the cached model was trained again")

    monkeypatch.setattr(dm, "train_depth_model", no_training)
    assert dm.load_or_train_depth_model(MINI, cache_dir=folder.parent) == folder
    assert dm.DepthModelSpec(epochs=5).cache_key != dm.DepthModelSpec().cache_key


# ----------------------------------------------------------------------------------------- the data path
@pytest.fixture(scope="module")
def prepared(tmp_path_factory, tiny_dpt):
    from modeling_dear.data.synthetic.estimated import prepare_estimated

    spec = sd.SyntheticSpec(
        num_train_per_class=1,
        num_validation_per_class=0,
        num_test_per_class=0,
        height=32,
        width=48,
        min_frames=4,
        max_frames=6,
        scenes="estimable",
    )
    rendered = sd.generate_synthetic_dataset(spec)
    output = tmp_path_factory.mktemp("prepared") / "data"
    return rendered, prepare_estimated(rendered, str(tiny_dpt), output, progress=False), tiny_dpt


def test_preparation_writes_estimated_depth_and_keeps_the_exact_depth(prepared):
    from modeling_dear.data.synthetic.estimated import oracle_view
    from modeling_dear.depth_estimation import DepthEstimator
    from modeling_dear.video_io import open_video, read_depth_frames

    rendered, dataset, checkpoint = prepared
    train = dataset["train"]
    assert len(train) == len(rendered["train"]) == len(sd.SYNTHETIC_CLASSES)
    assert set(train["depth_model"]) == {str(checkpoint)}
    exact = {row["video_id"]: row for row in rendered["train"]}
    estimator = DepthEstimator(str(checkpoint), device="cpu")
    for row in train.select(range(3)):
        source = exact[row["video_id"]]
        assert row["video"]["bytes"] == source["video"]["bytes"] and row["label"] == source["label"]
        assert row["depth_exact"]["bytes"] == source["depth"]["bytes"]  # the oracle column is the renderer's
        frames = open_video(row["video"]["bytes"]).read(np.arange(row["num_frames"]))
        stored = read_depth_frames(row["depth"]["bytes"], np.arange(row["num_frames"]), size=(32, 48))
        # the depth column is DepthEstimator run on the clip (the preparation batches frames of several clips
        # together, which can move a float by an ulp and a level by one)
        difference = np.abs(stored.astype(int) - estimator(frames))
        assert difference.max() <= 1 and (difference == 0).mean() > 0.99
    oracle = oracle_view(dataset)["train"]
    assert oracle[0]["depth"]["bytes"] == exact[oracle[0]["video_id"]]["depth"]["bytes"]
    assert oracle[0]["depth_estimated"]["bytes"] == train[0]["depth"]["bytes"]
    assert set(oracle["depth_model"]) == {sd.DEPTH_MODEL}


def test_estimable_depth_pairs_differ_in_rgb():
    """In the 'estimable' scenes depth is visible: the two classes of each depth pair no longer share their RGB,
    while the 'identical' set keeps them byte-identical (tests/test_synthetic_data.py)."""
    for a, b in sd.DEPTH_SENSITIVE_PAIRS:
        clip_a = sd.render_clip(a, 0, 32, 48, 6, 8, scenes="estimable")
        clip_b = sd.render_clip(b, 0, 32, 48, 6, 8, scenes="estimable")
        assert sd.encode_rgb(clip_a.frames) != sd.encode_rgb(clip_b.frames), a
        assert np.abs(clip_a.frames.astype(int) - clip_b.frames).max() > 40, a
    with pytest.raises(ValueError, match="scenes must be one of .* got 'real'"):
        sd.render_clip(a, 0, scenes="real")
    with pytest.raises(ValueError, match="scenes must be 'identical' or 'estimable', got 'real'"):
        sd.SyntheticSpec(scenes="real")
    estimable = sd.SyntheticSpec(scenes="estimable")
    assert estimable.cache_key != sd.SyntheticSpec().cache_key and estimable.to_dict()["scenes"] == "estimable"
