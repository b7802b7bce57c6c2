# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""A fourth encoder, defined here and nowhere in the package: registered, fed from a dataset column of its own modality
through the processor and the collator, fused with RGB, trained, saved, reloaded (also with trust_remote_code in a
process without the package) and run by the pipeline. README "Adding an encoder" shows the same steps."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import run_without_package
from torch import nn
from transformers import AutoModelForVideoClassification, pipeline

from modeling_dear import (
    DearConfig,
    DearEncoder,
    DearEncoderOutput,
    DearForVideoClassification,
    DearVideoProcessor,
    register_encoder,
)
from modeling_dear.cli.predict import main as predict_main
from modeling_dear.training import VideoCollator, check_dataset_fits_model
from modeling_dear.video_io import encode_video

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CLASSES = ["a", "b", "c", "d", "e"]
PATCH = 8  # a module constant the encoder reads: it travels with the class into saved folders


def frame_differences(clip):
    """(B, T, C, H, W) -> the T-1 differences of consecutive frames, (B, C, T-1, H, W) as Conv3d takes them."""
    return (clip[:, 1:] - clip[:, :-1]).transpose(1, 2)


@register_encoder("frame_difference")
class FrameDifferenceEncoder(DearEncoder):
    """Motion from differences of consecutive frames: one patch embedding per difference, then a LayerNorm."""

    def __init__(self, config, modality, hidden_size=16):
        super().__init__()
        self.modality = modality
        self.hidden_size = hidden_size
        self.embed = nn.Conv3d(config.num_channels, hidden_size, (1, PATCH, PATCH), (1, PATCH, PATCH))
        self.norm = nn.LayerNorm(hidden_size)

    def forward(
        self,
        pixel_values,
        backbone_hidden_states=None,
        output_hidden_states=False,
        output_attentions=False,
        attn_implementation="sdpa",
    ):
        tokens = self.norm(self.embed(frame_differences(pixel_values)).flatten(2).transpose(1, 2))  # (B, (T-1)·N, D)
        return DearEncoderOutput(
            last_hidden_state=tokens,
            pooler_output=tokens.mean(dim=1),
            hidden_states=(tokens,) if output_hidden_states else None,
        )


def config_with(encoder_configs, **overrides):
    return DearConfig.from_preset(
        "tiny-s4v-rgb",
        encoders=["rgb_side4video", *encoder_configs],
        encoder_configs=encoder_configs,
        num_frames=4,
        image_size=32,
        id2label=dict(enumerate(CLASSES)),
        **overrides,
    )


def clips(seed, batch_size=2):
    return torch.randn(batch_size, 4, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def flow_dataset(make_frames):
    """Four clips with a `flow` column beside `video`: frame-aligned 3-channel videos of another modality."""
    import datasets

    rows = []
    for index in range(4):
        frames = make_frames(10, 40, 48, seed=index)
        flow = np.abs(np.diff(frames.astype(np.int16), axis=0, prepend=frames[:1])).clip(0, 255).astype(np.uint8) * 4
        rows.append(
            {
                "video_id": f"clip-{index}",
                "video": encode_video(frames, codec="libx264"),
                "flow": encode_video(flow, codec="libx264"),
                "label": index % len(CLASSES),
            }
        )
    features = datasets.Features(
        {
            "video_id": datasets.Value("string"),
            "video": datasets.Video(decode=False),
            "flow": datasets.Video(decode=False),
            "label": datasets.ClassLabel(names=CLASSES),
        }
    )
    return datasets.Dataset.from_list(rows, features=features)


def test_fourth_encoder_from_a_dataset_column_through_training_saving_reloading_and_the_pipeline(
    flow_dataset, tmp_path, capsys
):
    # 1. the config: the registered type reads a modality of its own, "flow", and is fused with RGB
    config = config_with({"frame_difference": {"type": "frame_difference", "modality": "flow", "hidden_size": 24}})
    assert config.modalities == ["rgb", "flow"] and config.active_streams == ["frame_difference"]
    assert config.encoders_reading("flow") == ["frame_difference"]

    # 2. the dataset's columns are checked against the modalities: "flow" is needed, and the error says by whom
    check_dataset_fits_model(flow_dataset, config, "train")
    with pytest.raises(
        ValueError, match=r"has no column 'flow' \(the model has a flow encoder\): frame_difference reads it"
    ):
        check_dataset_fits_model(flow_dataset.remove_columns("flow"), config, "train")

    # 3. processor and collator: `flow` column -> processor(flow=...) -> `flow_pixel_values`
    torch.manual_seed(0)  # the collators' draws follow torch's seed too
    processor = DearVideoProcessor.from_model_config(config)
    assert processor.modalities == ["rgb", "flow"]
    assert processor.model_input_names == ["pixel_values", "flow_pixel_values"]
    collator = VideoCollator(processor, mode="train", modalities=config.modalities, seed=0)
    batch = collator(list(flow_dataset))
    assert set(batch) == {"pixel_values", "flow_pixel_values", "labels"}
    assert batch["flow_pixel_values"].shape == batch["pixel_values"].shape == (4, 4, 3, 32, 32)
    rows = list(flow_dataset)
    val_batch = VideoCollator(processor, mode="val", modalities=config.modalities)(rows)
    direct = processor([row["video"] for row in rows], flow=[row["flow"] for row in rows], mode="val")
    torch.testing.assert_close(val_batch["flow_pixel_values"], direct["flow_pixel_values"], rtol=0, atol=0)
    assert not torch.equal(val_batch["flow_pixel_values"], val_batch["pixel_values"])  # the flow column, not RGB
    # the device path (the collator only decodes; the trainer augments on the device) gives the same batch, up to
    # interpolation details (test_device_augmentation.py measures them on larger clips)
    on_device = VideoCollator(processor, mode="train", modalities=config.modalities, seed=0, augment_on_device=True)
    device_batch = on_device.device_inputs(on_device(rows))
    assert set(device_batch) == set(batch)
    for key in ("pixel_values", "flow_pixel_values"):
        grey_levels = (device_batch[key] - batch[key]).abs().mean() * 255 * 0.27
        assert grey_levels < 2.5, (key, float(grey_levels))

    # 4. one training step reaches the new encoder through its fusion stream
    torch.manual_seed(0)
    model = DearForVideoClassification(config).train()
    encoder = model.dear.encoders["frame_difference"]
    assert isinstance(encoder, FrameDifferenceEncoder) and encoder.hidden_size == 24
    assert model.dear.fusion["frame_difference"].depth_projection.in_features == 24
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    before = encoder.embed.weight.detach().clone()
    outputs = model(**batch, output_hidden_states=True)
    outputs.loss.backward()
    assert encoder.embed.weight.grad.abs().sum() > 0
    optimizer.step()
    assert not torch.equal(encoder.embed.weight, before)
    assert outputs.encoder_hidden_states["frame_difference"].shape == (4, 3 * 16, 24)

    # 5. save model and processor; reload with the package
    model.eval()
    folder = tmp_path / "flow-model"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    reloaded = AutoModelForVideoClassification.from_pretrained(folder).eval()
    assert reloaded.config.encoder_configs == config.encoder_configs
    assert DearVideoProcessor.from_pretrained(folder).modalities == ["rgb", "flow"]
    inputs = processor(rows[0]["video"], flow=rows[0]["flow"], mode="val")
    model_inputs = {key: inputs[key] for key in ("pixel_values", "flow_pixel_values")}
    with torch.no_grad():
        expected = model(**model_inputs).logits
        torch.testing.assert_close(reloaded(**model_inputs).logits, expected, rtol=0, atol=1e-6)

    # 6. the pipeline takes the flow video by name, or the clip's videos as a dict of columns, and asks for it
    video, flow = tmp_path / "clip.mp4", tmp_path / "clip_flow.mp4"
    video.write_bytes(rows[0]["video"]["bytes"])
    flow.write_bytes(rows[0]["flow"]["bytes"])
    classify = pipeline("video-classification", model=str(folder))
    by_name = classify(str(video), flow=str(flow), top_k=5, function_to_apply="none")
    assert classify({"video": str(video), "flow": str(flow)}, top_k=5, function_to_apply="none") == by_name
    assert sorted(r["score"] for r in by_name) == pytest.approx(sorted(expected[0].tolist()), rel=1e-5)
    with pytest.raises(
        ValueError, match=r"encoder\(s\) \['frame_difference'\] that read modality 'flow': pass its video"
    ):
        classify(str(video))
    # and so does dear-predict, as --input flow=VIDEO
    assert predict_main([str(video), "--model", str(folder), "--input", f"flow={flow}", "--json"]) == 0
    assert [r["label"] for r in json.loads(capsys.readouterr().out)["predictions"]] == [r["label"] for r in by_name]
    assert predict_main([str(video), "--model", str(folder)]) == 1
    assert "has encoders that read ['flow']: pass --input flow=<flow video>" in capsys.readouterr().err

    # 7. the folder carries the encoder: it loads with trust_remote_code where the package (and this file) cannot be
    # imported, and gives the same logits and labels
    assert (folder / "custom_encoder_frame_difference.py").is_file()
    assert json.loads((folder / "config.json").read_text())["auto_map"]["AutoModelForVideoClassification"] == (
        "modeling_dear_custom.DearForVideoClassification"
    )
    torch.save(model_inputs, tmp_path / "inputs.pt")
    result = run_without_package(
        f"""
        import json
        import torch
        from transformers import AutoModelForVideoClassification, pipeline

        sys.modules["test_encoder_registry"] = None  # nor the file that defines the encoder
        folder = {str(folder)!r}
        model = AutoModelForVideoClassification.from_pretrained(folder, trust_remote_code=True).eval()
        assert type(model.dear.encoders["frame_difference"]).__module__.startswith("transformers_modules")
        with torch.no_grad():
            logits = model(**torch.load({str(tmp_path / "inputs.pt")!r})).logits
        classify = pipeline("video-classification", model=folder, trust_remote_code=True)
        top = classify({{"video": {str(video)!r}, "flow": {str(flow)!r}}}, top_k=5, function_to_apply="none")
        print("RESULT", json.dumps({{"logits": logits.tolist(), "top": top}}))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    remote = json.loads(result.stdout.split("RESULT", 1)[1])
    np.testing.assert_allclose(remote["logits"], expected.numpy(), rtol=1e-5, atol=1e-6)
    assert [r["label"] for r in remote["top"]] == [r["label"] for r in by_name]

    # and in a process that imports the package but not the encoder's file: from_pretrained(trust_remote_code=True)
    # runs the folder's code (the package's classes cannot build the encoder), and so does dear-predict
    script = f"""
import json, sys, torch
import modeling_dear
from transformers import AutoModelForVideoClassification
from modeling_dear.cli.predict import main

folder = {str(folder)!r}
model = AutoModelForVideoClassification.from_pretrained(folder, trust_remote_code=True).eval()
assert type(model.dear.encoders["frame_difference"]).__module__.startswith("transformers_modules")
with torch.no_grad():
    logits = model(**torch.load({str(tmp_path / "inputs.pt")!r})).logits
print("RESULT", json.dumps(logits.tolist()))
sys.exit(main([{str(video)!r}, "--model", folder, "--input", "flow=" + {str(flow)!r}, "--json"]))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600, env=os.environ
    )
    assert result.returncode == 0, result.stderr[-3000:]
    logits_text, predictions = result.stdout.split("RESULT", 1)[1].split("\n", 1)
    np.testing.assert_allclose(json.loads(logits_text), expected.numpy(), rtol=1e-5, atol=1e-6)
    assert [r["label"] for r in json.loads(predictions)["predictions"]] == [r["label"] for r in by_name]


def test_fourth_encoder_on_rgb_fuses_trains_saves_and_reloads(tmp_path):
    config = config_with({"frame_difference": {"type": "frame_difference", "modality": "rgb"}})
    assert config.active_streams == ["frame_difference"] and config.modalities == ["rgb"]
    torch.manual_seed(0)
    model = DearForVideoClassification(config).train()
    outputs = model(pixel_values=clips(1), labels=torch.tensor([0, 3]))
    outputs.loss.backward()
    assert model.dear.encoders["frame_difference"].embed.weight.grad.abs().sum() > 0
    model.eval().save_pretrained(tmp_path)
    reloaded = AutoModelForVideoClassification.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        torch.testing.assert_close(
            reloaded(pixel_values=clips(2)).logits, model(pixel_values=clips(2)).logits, rtol=0, atol=1e-6
        )


def test_an_encoder_of_a_new_modality_takes_its_own_input():
    config = config_with({"flow_diff": {"type": "frame_difference", "modality": "flow"}})
    assert config.modalities == ["rgb", "flow"]
    model = DearForVideoClassification(config).eval()
    with torch.no_grad():
        with_flow = model(pixel_values=clips(1), flow_pixel_values=clips(2)).logits
        other_flow = model(pixel_values=clips(1), flow_pixel_values=clips(3)).logits
    assert with_flow.shape == (2, 5) and not torch.equal(
        with_flow, other_flow
    )  # closed gates: its own head still reads it
    with pytest.raises(ValueError, match="`flow_pixel_values` is required"):
        model(pixel_values=clips(1))
    with pytest.raises(ValueError, match="different batch sizes"):
        model(pixel_values=clips(1), flow_pixel_values=clips(2, batch_size=3))


def test_unregistered_or_malformed_encoders_are_refused():
    config = config_with({"mystery": {"type": "not_registered", "modality": "rgb"}})
    with pytest.raises(
        ValueError,
        match=r"type 'not_registered', which no class is registered for.*@register_encoder\('not_registered'\)",
    ):
        DearForVideoClassification(config)
    with pytest.raises(ValueError, match=r"needs a 'type' .* and a 'modality'"):
        config_with({"mystery": {"modality": "rgb"}})
    with pytest.raises(ValueError, match="unknown encoder 'mystery'"):
        DearConfig.from_preset("tiny-s4v-rgb", encoders=["rgb_side4video", "mystery"])
    with pytest.raises(ValueError, match=r"encoder_configs describes \['ghost'\]"):
        DearConfig.from_preset(
            "tiny-s4v-rgb", encoder_configs={"ghost": {"type": "frame_difference", "modality": "rgb"}}
        )


SCALE = torch.tensor(2.0)  # not a literal: an encoder that reads it cannot be written into a folder


@register_encoder("scaled_difference")
class ScaledDifferenceEncoder(FrameDifferenceEncoder):
    def forward(self, pixel_values, **kwargs):
        return super().forward(pixel_values * SCALE, **kwargs)


def test_an_encoder_that_cannot_be_carried_is_refused_at_save_time_naming_it(tmp_path):
    model = DearForVideoClassification(config_with({"scaled": {"type": "scaled_difference", "modality": "rgb"}}))
    with pytest.raises(
        ValueError,
        match=r"cannot carry encoder type 'scaled_difference' \(class ScaledDifferenceEncoder "
        r"from test_encoder_registry.py\).*reads the global 'SCALE', a Tensor",
    ):
        model.save_pretrained(tmp_path / "scaled")
    # typed in at run time: no source to copy
    namespace = {"FrameDifferenceEncoder": FrameDifferenceEncoder, "register_encoder": register_encoder}
    exec("@register_encoder('typed_in')\nclass TypedIn(FrameDifferenceEncoder):\n    pass\n", namespace)
    model = DearForVideoClassification(config_with({"typed": {"type": "typed_in", "modality": "rgb"}}))
    with pytest.raises(ValueError, match=r"encoder type 'typed_in'.*the source of TypedIn is not available"):
        model.save_pretrained(tmp_path / "typed")


def test_a_folder_saved_without_custom_encoders_writes_none_and_sheds_old_copies(tmp_path):
    DearForVideoClassification(
        config_with({"frame_difference": {"type": "frame_difference", "modality": "rgb"}})
    ).save_pretrained(tmp_path)
    assert (tmp_path / "custom_encoder_frame_difference.py").is_file() and (
        tmp_path / "modeling_dear_custom.py"
    ).is_file()
    DearForVideoClassification(DearConfig.from_preset("tiny-s4v-rgb", num_labels=5)).save_pretrained(tmp_path)
    assert not list(tmp_path.glob("custom_encoder_*.py")) and not (tmp_path / "modeling_dear_custom.py").exists()
    assert json.loads((tmp_path / "config.json").read_text())["auto_map"]["AutoModelForVideoClassification"] == (
        "modeling_dear.DearForVideoClassification"
    )


def test_save_pretrained_with_push_to_hub_uploads_the_carried_code(tmp_path, monkeypatch):
    """transformers uploads at the end of its save_pretrained; the custom encoder's file, the pipeline's file and the
    auto_map that names them are written after that, so the upload must wait for them."""
    from types import SimpleNamespace

    from huggingface_hub import ModelCard

    commits = []

    class RecordingHub:
        def create_repo(self, repo_id, **kwargs):
            return SimpleNamespace(repo_id=repo_id)

        def create_commit(self, repo_id, operations, **kwargs):
            commits.append({op.path_in_repo: Path(op.path_or_fileobj).read_bytes() for op in operations})

    monkeypatch.setattr("transformers.modeling_utils.hf_api", lambda: RecordingHub())
    monkeypatch.setattr("transformers.utils.hub.hf_api", lambda: RecordingHub())
    # the card transformers would otherwise fetch from the Hub before adding its tags
    monkeypatch.setattr(
        "transformers.modeling_utils.create_and_tag_model_card", lambda *args, **kwargs: ModelCard("# DEAR\n")
    )
    config = config_with({"frame_difference": {"type": "frame_difference", "modality": "rgb"}})
    DearForVideoClassification(config).save_pretrained(tmp_path / "folder", push_to_hub=True, repo_id="me/dear")
    assert len(commits) == 1, "one upload, after every file is written"
    uploaded = commits[0]
    assert {"custom_encoder_frame_difference.py", "modeling_dear_custom.py", "pipeline_dear.py"} <= set(uploaded)
    assert json.loads(uploaded["config.json"])["auto_map"]["AutoModelForVideoClassification"].startswith(
        "modeling_dear_custom."
    )
    assert uploaded["config.json"] == (tmp_path / "folder" / "config.json").read_bytes()


def test_registering_a_taken_encoder_type_is_refused_unless_overridden(monkeypatch):
    from modeling_dear.modeling_encoders import ENCODER_TYPES, VideoMambaEncoder

    class MyMamba(FrameDifferenceEncoder):
        pass

    with pytest.raises(
        ValueError,
        match=r"register_encoder\('videomamba'\) for .*MyMamba: the type is taken by "
        r"modeling_dear.modeling_encoders.VideoMambaEncoder.*pass override=True",
    ):
        register_encoder("videomamba")(MyMamba)
    with pytest.raises(ValueError, match=r"taken by test_encoder_registry.FrameDifferenceEncoder"):
        register_encoder("frame_difference")(MyMamba)
    assert ENCODER_TYPES["videomamba"] is VideoMambaEncoder
    config = DearConfig.from_preset("tiny-depth-videomamba", num_frames=4, image_size=32)
    assert type(DearForVideoClassification(config).dear.encoders["depth_videomamba"]) is VideoMambaEncoder

    monkeypatch.setitem(ENCODER_TYPES, "videomamba", VideoMambaEncoder)  # restored after the test
    assert register_encoder("videomamba", override=True)(MyMamba) is MyMamba
    assert ENCODER_TYPES["videomamba"] is MyMamba
    # the same class registered again (its module run twice) replaces itself without a word
    assert register_encoder("frame_difference")(FrameDifferenceEncoder) is FrameDifferenceEncoder


@pytest.mark.parametrize(
    "returned,message",
    [
        (lambda tokens: tokens.last_hidden_state, r"returned a Tensor, not a DearEncoderOutput"),
        (
            lambda tokens: DearEncoderOutput(
                last_hidden_state=torch.cat([tokens.last_hidden_state] * 2, -1), pooler_output=tokens.pooler_output
            ),
            r"returned last_hidden_state of shape \(2, 48, 32\)",
        ),
        (
            lambda tokens: DearEncoderOutput(
                last_hidden_state=tokens.last_hidden_state.mean(1), pooler_output=tokens.pooler_output
            ),
            r"returned last_hidden_state of shape \(2, 16\)",
        ),
    ],
    ids=["plain-tensor", "too-wide", "2-d"],
)
def test_an_encoder_returning_what_the_model_cannot_use_is_named_in_one_line(returned, message):
    model = DearForVideoClassification(
        config_with({"frame_difference": {"type": "frame_difference", "modality": "rgb"}})
    ).eval()
    encoder = model.dear.encoders["frame_difference"]
    honest = encoder.forward
    encoder.forward = lambda *args, **kwargs: returned(honest(*args, **kwargs))
    with pytest.raises((TypeError, ValueError)) as caught:
        model(pixel_values=clips(0))
    text = str(caught.value)
    assert re.search(message, text) and "\n" not in text, text
    assert text.startswith("encoder 'frame_difference' (FrameDifferenceEncoder, hidden_size 16)")
    assert "return DearEncoderOutput(last_hidden_state=<(batch 2, tokens, 16)>" in text
