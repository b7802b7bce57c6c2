# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""A saved DEAR folder in an environment with only torch + transformers (+ a video decoder): what it carries, that it
loads and predicts without PIL and matplotlib, what it says without a decoder; the package leaves transformers'
own video pipeline alone; bf16 weights with float32 inputs; integer inputs refused."""

import json

import numpy as np
import pytest
import torch
from conftest import run_without_package
from transformers import VideoClassificationPipeline, pipeline

from modeling_dear import DearForVideoClassification, DearVideoClassificationPipeline, DearVideoProcessor
from modeling_dear.testing_utils import tiny_dear
from modeling_dear.video_io import encode_video

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NUM_FRAMES, SIZE = 8, 64  # the "tiny" preset's clip
LABELS = {i: f"action {i}" for i in range(5)}

# PIL and matplotlib as if not installed: `import PIL` fails and transformers' availability checks say no.
WITHOUT_PIL_AND_MATPLOTLIB = """
for _name in ("PIL", "matplotlib"):
    sys.modules[_name] = None
for _name in ("PIL", "PIL.Image", "matplotlib"):
    try:
        __import__(_name)
        raise SystemExit(_name + " was importable")
    except ImportError:
        pass
"""
WITHOUT_VIDEO_DECODERS = """
for _name in ("av", "decord"):
    sys.modules[_name] = None
"""

# What a saved folder needs: the model (and its encoders, fusion, depth helpers), the processor (sampling,
# decoding, transforms, colour table) and the pipeline. No dataset preparation, conversion, training or analysis.
CARRIED_MODULES = {
    "configuration_dear.py",
    "configuration_videomamba.py",
    "modeling_dear.py",
    "modeling_side4video.py",
    "modeling_videomamba.py",
    "modeling_fusion.py",
    "modeling_encoders.py",
    "modeling_attention.py",
    "label_sets.py",
    "selective_scan.py",
    "frozen_weights.py",
    "atomic_write.py",
    "depth_estimation.py",
    "processing_dear.py",
    "frame_sampling.py",
    "video_io.py",
    "video_transforms.py",
    "colormap_tables.py",
    "pipeline_dear.py",
    "model_sources.py",
}


def tiny_model(preset="tiny", with_estimator=True, seed=0):
    return tiny_dear(preset, with_depth_estimator=with_estimator, seed=seed, id2label=LABELS)


def tiny_processor():
    return DearVideoProcessor(
        num_frames=NUM_FRAMES, size={"shortest_edge": SIZE}, crop_size={"height": SIZE, "width": SIZE}
    )


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("dear-folder")
    tiny_model().save_pretrained(path)
    tiny_processor().save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory, make_frames):
    # 48x80 frames: the processor resizes them (short side 64) before cropping, so the resize path is exercised
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    path.write_bytes(encode_video(make_frames(24, 48, 80), codec="libx264"))
    return path


def test_folder_carries_only_the_modules_model_processor_and_pipeline_import(model_dir):
    assert {p.name for p in model_dir.glob("*.py")} == CARRIED_MODULES
    # the package keeps flat exactly what folders carry (plus its __init__ and the tiny-model builders for tests);
    # everything else lives in a subpackage
    from pathlib import Path

    import modeling_dear

    flat = {p.name for p in Path(modeling_dear.__file__).parent.glob("*.py")}
    assert flat == CARRIED_MODULES | {"__init__.py", "testing_utils.py"}
    # and nothing there imports PIL or matplotlib outside a try block (transformers' remote-code check would
    # demand them otherwise)
    from transformers.dynamic_module_utils import get_imports

    for name in CARRIED_MODULES:
        imports = set(get_imports(model_dir / name))
        assert not imports & {"PIL", "matplotlib", "datasets", "av", "decord", "evaluate", "accelerate"}, name


@pytest.mark.slow  # a fresh interpreter importing torch and transformers
def test_config_model_processor_and_pipeline_run_without_pil_and_matplotlib(model_dir, video, tmp_path):
    processor = DearVideoProcessor.from_pretrained(model_dir)
    model = DearForVideoClassification.from_pretrained(model_dir).eval()
    inputs = processor(str(video))
    with torch.no_grad():
        expected_logits = model(pixel_values=inputs["pixel_values"]).logits
    expected_top = pipeline("video-classification", model=str(model_dir))(str(video), top_k=3)

    script = f"""
        import json
        import torch
        from transformers import AutoConfig, AutoModelForVideoClassification, pipeline
        from transformers.dynamic_module_utils import get_class_from_dynamic_module

        folder, video = {str(model_dir)!r}, {str(video)!r}
        config = AutoConfig.from_pretrained(folder, trust_remote_code=True)
        assert type(config).__name__ == "DearConfig" and type(config).__module__.startswith("transformers_modules")
        # without Pillow `transformers.AutoImageProcessor` is a placeholder that raises; the Auto class itself works
        from transformers.models.auto.image_processing_auto import AutoImageProcessor

        processor = AutoImageProcessor.from_pretrained(folder, trust_remote_code=True)
        assert type(processor).__name__ == "DearVideoProcessor"
        # or the class by name from the folder, as the pipeline loads it
        assert get_class_from_dynamic_module("processing_dear.DearVideoProcessor", folder) is type(processor)
        model = AutoModelForVideoClassification.from_pretrained(folder, trust_remote_code=True).eval()
        inputs = processor(video)
        with torch.no_grad():
            logits = model(pixel_values=inputs["pixel_values"]).logits
        pipe = pipeline("video-classification", model=folder, trust_remote_code=True)
        assert type(pipe).__name__ == "DearVideoClassificationPipeline"
        assert type(pipe.image_processor).__name__ == "DearVideoProcessor"
        top = pipe(video, top_k=3)
        assert sys.modules["PIL"] is None and sys.modules["matplotlib"] is None  # nothing got around the block
        print("RESULT", json.dumps({{"pixel_values": inputs["pixel_values"].flatten()[:4096].tolist(),
                                    "logits": logits.tolist(), "top": top}}))
        """
    result = run_without_package(script, tmp_path, WITHOUT_PIL_AND_MATPLOTLIB)
    assert result.returncode == 0, result.stderr[-3000:]
    remote = json.loads(result.stdout.split("RESULT", 1)[1])
    # the numpy resize gives the bytes PIL gives, so the inputs are identical, not merely close
    np.testing.assert_array_equal(
        np.asarray(remote["pixel_values"], np.float32), inputs["pixel_values"].flatten()[:4096].numpy()
    )
    np.testing.assert_allclose(remote["logits"], expected_logits.numpy(), rtol=1e-5, atol=1e-6)
    assert [r["label"] for r in remote["top"]] == [r["label"] for r in expected_top]
    np.testing.assert_allclose([r["score"] for r in remote["top"]], [r["score"] for r in expected_top], rtol=1e-5)


@pytest.mark.slow  # a fresh interpreter importing torch and transformers
def test_missing_video_decoder_names_the_video_extra(model_dir, video, tmp_path, make_frames):
    frames = make_frames(NUM_FRAMES, SIZE, SIZE)
    np.save(tmp_path / "frames.npy", frames)
    script = f"""
        import numpy as np
        from transformers import AutoImageProcessor

        processor = AutoImageProcessor.from_pretrained({str(model_dir)!r}, trust_remote_code=True)
        assert type(processor).__name__ == "DearVideoProcessor"
        # decoded frames need no decoder
        assert tuple(processor(np.load("frames.npy"))["pixel_values"].shape) == (1, {NUM_FRAMES}, 3, {SIZE}, {SIZE})
        try:
            processor({str(video)!r})
        except ImportError as error:
            print("ERROR", error)
        else:
            raise SystemExit("a video file was decoded without a decoder")
        """
    result = run_without_package(script, tmp_path, WITHOUT_VIDEO_DECODERS)
    assert result.returncode == 0, result.stderr[-3000:]
    message = result.stdout.split("ERROR", 1)[1]
    assert "`video` extra" in message and "dear-video[video]" in message and "av" in message


@pytest.mark.slow  # a fresh interpreter importing torch and transformers
def test_other_models_get_exactly_transformers_video_pipeline(tmp_path, make_frames):
    from transformers import VideoMAEForVideoClassification, VideoMAEImageProcessor

    from modeling_dear.testing_utils import tiny_videomae_config

    torch.manual_seed(0)
    config = tiny_videomae_config()
    VideoMAEForVideoClassification(config).save_pretrained(tmp_path / "videomae")
    VideoMAEImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(
        tmp_path / "videomae"
    )
    video = tmp_path / "clip.mp4"
    video.write_bytes(encode_video(make_frames(12, 48, 64), codec="libx264"))

    stock = pipeline("video-classification", model=str(tmp_path / "videomae"))
    assert type(stock) is VideoClassificationPipeline  # not a subclass, not DEAR's
    here = stock(str(video), top_k=3, frame_sampling_rate=2)

    # the same call in a process that never imports this package
    script = f"""
        import json
        from transformers import pipeline

        stock = pipeline("video-classification", model={str(tmp_path / "videomae")!r})
        print("RESULT", json.dumps(stock({str(video)!r}, top_k=3, frame_sampling_rate=2)))
        """
    result = run_without_package(script, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.split("RESULT", 1)[1]) == here


def test_stock_pipeline_arguments_work_or_are_refused_clearly(model_dir, video):
    pipe = pipeline("video-classification", model=str(model_dir))
    assert type(pipe) is DearVideoClassificationPipeline
    default = pipe(str(video), top_k=5)
    assert pipe(str(video), top_k=5, num_frames=NUM_FRAMES) == default
    with pytest.raises(ValueError, match=r"num_frames=4: this DEAR model takes exactly 8 frames"):
        pipe(str(video), num_frames=4)

    strided = pipe.preprocess(str(video), frame_sampling_rate=2)["frame_indices"][0].tolist()
    assert np.diff(strided).tolist() == [2] * (NUM_FRAMES - 1)
    assert pipe.preprocess(str(video))["frame_indices"][0].tolist() != strided  # segment sampling by default
    assert len(pipe(str(video), frame_sampling_rate=2)) == 5
    with pytest.raises(ValueError, match="frame_sampling_rate must be a positive"):
        pipe(str(video), frame_sampling_rate=0)

    raw = pipe(str(video), top_k=5, function_to_apply="none")
    model = DearForVideoClassification.from_pretrained(model_dir).eval()
    with torch.no_grad():
        logits = model(pixel_values=DearVideoProcessor.from_pretrained(model_dir)(str(video))["pixel_values"]).logits[0]
    assert sorted(r["score"] for r in raw) == pytest.approx(sorted(logits.tolist()), rel=1e-5)


@pytest.mark.parametrize("preset", ["tiny", "tiny-dear-rgb-videomamba"])
def test_bfloat16_model_takes_the_processor_float32_inputs(preset, make_frames):
    model = tiny_model(preset, with_estimator=False)
    frames = make_frames(NUM_FRAMES, SIZE, SIZE)
    depth = frames[..., 0]
    inputs = tiny_processor()(frames, depth=depth, return_tensors="pt")
    assert inputs["pixel_values"].dtype == torch.float32
    with torch.no_grad():
        reference = model(**{k: v for k, v in inputs.items() if k.endswith("pixel_values")}).logits
        model.to(torch.bfloat16)
        logits = model(**{k: v for k, v in inputs.items() if k.endswith("pixel_values")}).logits
    assert logits.dtype == torch.bfloat16
    torch.testing.assert_close(logits.float(), reference, rtol=0.1, atol=0.1)


@pytest.mark.parametrize("preset", ["tiny", "tiny-depth-videomamba"])
def test_integer_pixel_values_are_refused_with_what_the_model_expects(preset):
    model = tiny_model(preset, with_estimator=False)
    frames = torch.randint(0, 256, (1, NUM_FRAMES, 3, SIZE, SIZE), dtype=torch.uint8)
    name = "depth_pixel_values" if preset == "tiny-depth-videomamba" else "pixel_values"
    inputs = {"pixel_values": frames.float(), "depth_pixel_values": frames.float(), name: frames}
    if preset == "tiny-depth-videomamba":
        inputs.pop("pixel_values")
    with pytest.raises(TypeError, match=rf"`{name}` is torch.uint8, but this model expects floating-point frames"):
        model(**inputs)
