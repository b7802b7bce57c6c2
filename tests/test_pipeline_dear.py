# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The DEAR pipeline, on-the-fly depth and `dear-predict`, on a tiny saved model with a tiny bundled DPT (offline)."""

import io
import json

import numpy as np
import pytest
import torch
from conftest import run_without_package
from PIL import Image
from transformers import DPTForDepthEstimation, pipeline

from modeling_dear import DearConfig, DearForVideoClassification, DearVideoClassificationPipeline, DearVideoProcessor
from modeling_dear.cli.predict import main as predict_main
from modeling_dear.depth_estimation import DepthEstimator
from modeling_dear.testing_utils import save_tiny_dpt, tiny_dear, tiny_dpt_image_processor
from modeling_dear.video_io import VideoDecodingError, encode_depth_video, encode_video

NUM_FRAMES, SIZE, NUM_LABELS = 8, 64, 5  # the "tiny" preset's clip: 8 frames of 64x64
VIDEO_FRAMES = 40
LABELS = {i: f"action {i}" for i in range(NUM_LABELS)}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# the depth model reads 32x32 inputs, so 64x64 frames are resized down for it and its prediction back up
DPT_PROCESSOR = tiny_dpt_image_processor()


def tiny_processor(**overrides):
    settings = {"num_frames": NUM_FRAMES, "size": {"shortest_edge": SIZE}, "crop_size": {"height": SIZE, "width": SIZE}}
    return DearVideoProcessor(**{**settings, **overrides})


def tiny_model(with_estimator=True, seed=0):
    return tiny_dear(with_depth_estimator=with_estimator, seed=seed, id2label=LABELS)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("dear-with-depth")
    tiny_model().save_pretrained(path)
    tiny_processor().save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory, make_frames):
    folder = tmp_path_factory.mktemp("videos")
    frames = make_frames(VIDEO_FRAMES, 48, 80)
    paths = {"frames": frames, "folder": folder}
    for codec, suffix in (("libvpx-vp9", "webm"), ("libx264", "mp4")):
        paths[suffix] = folder / f"clip.{suffix}"
        paths[suffix].write_bytes(encode_video(frames, codec=codec))
    return paths


@pytest.fixture(scope="module")
def pipe(model_dir):
    return pipeline("dear-video-classification", model=str(model_dir))


@pytest.mark.parametrize("suffix", ["webm", "mp4"])
def test_top_k_labels_match_a_direct_model_call(pipe, model_dir, videos, suffix):
    result = pipe(str(videos[suffix]), top_k=3)
    assert [set(r) for r in result] == [{"label", "score"}] * 3
    scores = [r["score"] for r in result]
    assert scores == sorted(scores, reverse=True) and sum(scores) <= 1 + 1e-6

    processor = DearVideoProcessor.from_pretrained(model_dir)
    model = DearForVideoClassification.from_pretrained(model_dir).eval()
    with torch.no_grad():
        probabilities = model(pixel_values=processor(str(videos[suffix]))["pixel_values"]).logits.softmax(-1)[0]
    expected = probabilities.topk(3)
    assert [r["label"] for r in result] == [LABELS[i] for i in expected.indices.tolist()]
    np.testing.assert_allclose(scores, expected.values.tolist(), rtol=1e-5)

    everything = pipe(str(videos[suffix]), top_k=50)  # more than the model has: every label once
    assert sorted(r["label"] for r in everything) == sorted(LABELS.values())
    assert abs(sum(r["score"] for r in everything) - 1) < 1e-5


def test_frames_are_sampled_across_the_whole_clip(pipe, videos):
    indices = pipe.preprocess(str(videos["webm"]))["frame_indices"][0].tolist()
    segment = VIDEO_FRAMES // NUM_FRAMES
    assert indices == sorted(indices) and len(set(indices)) == NUM_FRAMES
    assert indices[0] < segment and indices[-1] >= VIDEO_FRAMES - segment  # not just the first 8 frames
    # test mode: the processor's 2 clips x 3 crops, scores averaged into one ranking
    views = pipe.preprocess(str(videos["webm"]), mode="test")
    assert views["pixel_values"].shape[0] == 6
    assert len(pipe(str(videos["webm"]), mode="test", top_k=2)) == 2


def test_saved_folder_maps_video_classification_to_the_dear_pipeline(model_dir, videos, pipe):
    config = json.loads((model_dir / "config.json").read_text())
    assert config["custom_pipelines"]["video-classification"]["impl"] == "pipeline_dear.DearVideoClassificationPipeline"
    for name in ("pipeline_dear.py", "processing_dear.py", "depth_estimation.py", "preprocessor_config.json"):
        assert (model_dir / name).is_file(), name
    # with the package imported, the stock task name reaches DEAR's pipeline without running the folder's code
    plain = pipeline("video-classification", model=str(model_dir))
    assert type(plain) is DearVideoClassificationPipeline
    assert plain(str(videos["webm"])) == pipe(str(videos["webm"]))


def test_other_video_models_keep_transformers_pipeline():
    from transformers import VideoClassificationPipeline, VideoMAEForVideoClassification, VideoMAEImageProcessor

    from modeling_dear.testing_utils import tiny_videomae_config

    model = VideoMAEForVideoClassification(tiny_videomae_config())
    stock = pipeline(
        "video-classification", model=model, image_processor=VideoMAEImageProcessor(size={"shortest_edge": 32})
    )
    assert isinstance(stock, VideoClassificationPipeline) and not isinstance(stock, DearVideoClassificationPipeline)


def test_trust_remote_code_pipeline_without_the_package(model_dir, videos, pipe, tmp_path):
    expected = pipe(str(videos["webm"]), top_k=3)
    result = run_without_package(
        f"""
        import json
        import torch
        torch.set_num_threads(1)
        from transformers import pipeline

        pipe = pipeline("video-classification", model={str(model_dir)!r}, trust_remote_code=True)
        assert type(pipe).__module__.startswith("transformers_modules"), type(pipe).__module__
        assert type(pipe).__name__ == "DearVideoClassificationPipeline"
        assert not any(p.requires_grad for p in pipe.model.depth_estimator.parameters())
        print("RESULT", json.dumps(pipe({str(videos["webm"])!r}, top_k=3)))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    remote = json.loads(result.stdout.split("RESULT", 1)[1])
    assert [r["label"] for r in remote] == [r["label"] for r in expected]
    np.testing.assert_allclose([r["score"] for r in remote], [r["score"] for r in expected], rtol=1e-5)


def test_predict_command_prints_top_5_and_writes_the_visualisation(model_dir, videos, tmp_path, capsys):
    prefix = tmp_path / "vis" / "clip"
    assert predict_main([str(videos["webm"]), "--model", str(model_dir), "--visualize", str(prefix)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    ranked = [line for line in lines if line.strip()[:2].rstrip(".").isdigit()]
    assert len(ranked) == 5 and all("action " in line for line in ranked)
    with Image.open(f"{prefix}.png") as grid:
        assert grid.size == (2 * SIZE, NUM_FRAMES * SIZE)  # one row per frame: RGB | depth
    with Image.open(f"{prefix}.gif") as animation:
        assert animation.n_frames == NUM_FRAMES

    assert predict_main([str(videos["folder"] / "missing.webm"), "--model", str(model_dir)]) == 1
    assert "missing.webm: no such file" in capsys.readouterr().err


# The fast setting's stated tolerance (README, Performance): under bf16 autocast no class score (softmax
# probability) moves by more than 0.01 and the top class stays; the tiny model's logits move by about 0.003.
BF16_SCORE_TOLERANCE = 0.01


def test_bf16_precision_stays_within_the_stated_tolerance_of_fp32(pipe, model_dir, videos):
    fast = pipeline("dear-video-classification", model=str(model_dir), precision="bf16")
    inputs = pipe.preprocess(str(videos["webm"]), mode="test")  # 6 views, depth estimated by the bundled model
    exact = pipe.forward(inputs)["logits"]
    approximate = fast.forward(inputs, **fast._forward_params)["logits"]
    assert approximate.dtype == torch.float32 and approximate.shape == exact.shape
    assert (approximate - exact).abs().max() > 0  # bf16 did run
    difference = (approximate.softmax(-1) - exact.softmax(-1)).abs().max().item()
    assert difference <= BF16_SCORE_TOLERANCE
    assert approximate.argmax(-1).tolist() == exact.argmax(-1).tolist()
    # a call argument overrides the pipeline's setting
    assert torch.equal(fast.forward(inputs, autocast_dtype=None)["logits"], exact)


def test_precision_auto_is_bf16_only_where_the_cpu_runs_it_natively(monkeypatch):
    from modeling_dear import pipeline_dear

    cpu = torch.device("cpu")
    for native, expected in ((True, torch.bfloat16), (False, None)):
        monkeypatch.setattr(pipeline_dear, "cpu_supports_bf16", lambda native=native: native)
        assert pipeline_dear.resolve_precision("auto", cpu) == expected
        assert pipeline_dear.resolve_precision("fp32", cpu) is None
        assert pipeline_dear.resolve_precision("bf16", cpu) == torch.bfloat16
    with pytest.raises(ValueError, match=r"precision must be one of \('fp32', 'bf16', 'auto'\).*got 'half'"):
        pipeline_dear.resolve_precision("half", cpu)


def test_predict_command_precision_flag(model_dir, videos, capsys):
    scores = {}
    for precision in ("fp32", "bf16"):
        assert predict_main([str(videos["webm"]), "--model", str(model_dir), "--json", "--precision", precision]) == 0
        scores[precision] = [r["score"] for r in json.loads(capsys.readouterr().out)["predictions"]]
    assert scores["fp32"] != scores["bf16"]
    np.testing.assert_allclose(scores["bf16"], scores["fp32"], atol=0.01)


def test_on_the_fly_depth_equals_stored_depth_through_the_processor(model_dir, make_frames):
    model = DearForVideoClassification.from_pretrained(model_dir).eval()
    frames = make_frames(NUM_FRAMES, SIZE, SIZE, seed=3)  # already the crop size: the processor keeps them as they are
    estimator = DepthEstimator(
        model.depth_estimator, image_processor=DPT_PROCESSOR, device="cpu", batch_size=NUM_FRAMES
    )
    depth = estimator(frames)  # uint8, per clip, the way depth is stored for training
    inputs = DearVideoProcessor.from_pretrained(model_dir)(frames, depth=depth)

    on_the_fly = model.estimate_depth(inputs["pixel_values"])
    np.testing.assert_array_equal(on_the_fly[0].numpy(), depth)
    torch.testing.assert_close(
        model.depth_pixel_values_from_depth(on_the_fly), inputs["depth_pixel_values"], rtol=0, atol=0
    )
    with torch.no_grad():
        computed = model(pixel_values=inputs["pixel_values"]).logits
        given = model(pixel_values=inputs["pixel_values"], depth_pixel_values=inputs["depth_pixel_values"]).logits
    torch.testing.assert_close(computed, given, rtol=0, atol=0)


def test_depth_estimator_is_frozen_bundled_and_attachable(model_dir, tmp_path):
    model = DearForVideoClassification.from_pretrained(model_dir).train()
    estimator_params = {id(p) for p in model.depth_estimator.parameters()}
    assert not model.depth_estimator.training and model.dear.encoders["rgb_side4video"].training
    assert not any(p.requires_grad for p in model.depth_estimator.parameters())
    assert not estimator_params & {id(p) for p in model.parameters() if p.requires_grad}
    assert any(key.startswith("dear.on_the_fly_depth.estimator.") for key in model.state_dict())

    # attach pretrained weights (a local folder standing in for Intel/dpt-hybrid-midas) to a model without any
    save_tiny_dpt(tmp_path / "dpt", seed=1)
    bare = tiny_model(with_estimator=False)
    assert bare.depth_estimator is None
    bare.attach_depth_estimator(str(tmp_path / "dpt"))
    assert bare.config.depth_estimator_preprocessing["size"] == [32, 32]
    assert bare.config.depth_estimator_name_or_path == str(tmp_path / "dpt")
    assert not any(p.requires_grad for p in bare.depth_estimator.parameters())
    bare.save_pretrained(tmp_path / "attached")
    reloaded = DearForVideoClassification.from_pretrained(tmp_path / "attached")
    reference = DPTForDepthEstimation.from_pretrained(tmp_path / "dpt")
    for name, value in reference.state_dict().items():
        assert torch.equal(reloaded.depth_estimator.state_dict()[name], value), name
    with pytest.raises(ValueError, match="no depth encoder"):
        DearForVideoClassification(DearConfig.from_preset("tiny-s4v-rgb", id2label=LABELS)).attach_depth_estimator(
            str(tmp_path / "dpt")
        )


def test_model_without_estimator_asks_for_depth(tmp_path, videos, make_frames):
    model = tiny_model(with_estimator=False)
    pixel_values = torch.zeros(1, NUM_FRAMES, 3, SIZE, SIZE)
    with pytest.raises(ValueError, match="bundles no depth estimator.*attach_depth_estimator"):
        model(pixel_values=pixel_values)
    with pytest.raises(ValueError, match="bundles no depth estimator"):
        model.estimate_depth(pixel_values)

    model.save_pretrained(tmp_path)
    tiny_processor().save_pretrained(tmp_path)
    plain = pipeline("dear-video-classification", model=str(tmp_path))
    with pytest.raises(ValueError, match="bundles no depth estimator: pass depth="):
        plain(str(videos["webm"]))
    depth_video = videos["folder"] / "depth.mp4"
    depth_video.write_bytes(encode_depth_video(videos["frames"][..., 0].copy()))
    by_argument = plain(str(videos["webm"]), depth=str(depth_video), top_k=2)
    assert len(by_argument) == 2
    # or the clip's videos as a dict of dataset columns
    assert plain({"video": str(videos["webm"]), "depth": str(depth_video)}, top_k=2) == by_argument
    with pytest.raises(ValueError, match=r"by column: \['video', 'depth'\].*got keys \['video', 'dpeth'\]"):
        plain({"video": str(videos["webm"]), "dpeth": str(depth_video)})
    with pytest.raises(ValueError, match=r"\['depth'\] given both in the input dict and as call arguments"):
        plain({"video": str(videos["webm"]), "depth": str(depth_video)}, depth=str(depth_video))
    with pytest.raises(TypeError, match=r"unexpected argument\(s\) \['flow'\]"):
        plain(str(videos["webm"]), flow=str(depth_video))


def _first_half(path):
    data = path.read_bytes()
    return data[: len(data) // 2]


def _write(path, data):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make_input,message",
    [
        (lambda folder: folder / "missing.webm", "missing.webm: no such file"),
        (lambda folder: folder, "is a directory, not a video file"),
        (lambda folder: _write(folder / "empty.webm", b""), "empty.webm: empty file"),
        (lambda folder: _write(folder / "notes.mp4", b"these are not video bytes" * 40), "notes.mp4: "),
        (
            lambda folder: _write(folder / "cut.webm", _first_half(folder / "clip.webm")),
            "cut.webm: truncated or damaged",
        ),
    ],
    ids=["missing", "directory", "empty", "not-a-video", "truncated"],
)
def test_unreadable_videos_raise_errors_naming_them(pipe, videos, make_input, message):
    source = make_input(videos["folder"])
    with pytest.raises(VideoDecodingError, match=message.replace(".", r"\.")):
        pipe(str(source))
    # in a batch, one bad video fails the call: no labels are returned for any video
    with pytest.raises(VideoDecodingError):
        pipe([str(videos["webm"]), str(source)])


def test_short_inputs(pipe, videos, make_frames, tmp_path):
    # a short video FILE is padded by the sampler: every frame once, the rest repeated, in temporal order
    short = _write(tmp_path / "short.webm", encode_video(make_frames(3, 48, 80)))
    assert pipe.preprocess(str(short))["frame_indices"][0].tolist() == [0, 0, 0, 1, 1, 1, 2, 2]
    assert len(pipe(str(short), top_k=2)) == 2
    # decoded frames are taken as an already sampled clip: too few is an error, not padding
    with pytest.raises(VideoDecodingError, match="has 3 decoded frames, 8 are needed"):
        pipe(make_frames(3, 48, 80))
    with pytest.raises(TypeError, match="one video per input"):
        pipe.preprocess([str(short)])


def test_model_folder_without_processor(tmp_path):
    tiny_model().save_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"preprocessor_config\.json: no such file.*save_pretrained"):
        pipeline("dear-video-classification", model=str(tmp_path))
    # a processor that samples or crops differently from what the model takes is refused up front
    tiny_processor(num_frames=4).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="samples 4 frames, the model takes 8"):
        pipeline("dear-video-classification", model=str(tmp_path))


def _png_bytes(frames) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(frames[0]).save(buffer, format="PNG")
    return buffer.getvalue()


def test_still_images_are_refused_but_one_and_two_frame_videos_work(pipe, model_dir, videos, tmp_path, capsys):
    for name in ("still.png", "still.webm"):  # also when the image is named like a video
        image = _write(tmp_path / name, _png_bytes(videos["frames"]))
        with pytest.raises(VideoDecodingError, match=rf"{name}: is an image \(PNG\), not a video"):
            pipe(str(image))
        assert predict_main([str(image), "--model", str(model_dir)]) == 1
        assert f"{name}: is an image (PNG), not a video" in capsys.readouterr().err
    for num_frames in (1, 2):
        clip = _write(tmp_path / f"frames{num_frames}.webm", encode_video(videos["frames"][:num_frames]))
        assert len(pipe(str(clip), top_k=3)) == 3
        assert predict_main([str(clip), "--model", str(model_dir)]) == 0
