# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""DearForVideoClassification on tiny configs: shapes, gradients, freezing, gates, save/load, bad input.

Why one module: these are the tests of the model classes themselves (shapes, freezing, gradients, save/load, inputs
refused); the contract, registry and saved-folder tests have their own files.
"""

import copy
import json

import pytest
import torch
from conftest import run_without_package
from transformers import AutoConfig, AutoModelForVideoClassification, CLIPConfig, CLIPModel, CLIPVisionModel

from modeling_dear import DearConfig, DearForVideoClassification
from modeling_dear.modeling_fusion import GatedCrossAttentionBlock
from modeling_dear.modeling_side4video import Side4VideoAttention, Side4VideoBlock, shift_cls_tokens

TINY_VARIANTS = [
    "tiny",
    "tiny-s4v-rgb",
    "tiny-dear-rgb-depth",
    "tiny-dear-rgb-videomamba",
    "tiny-depth-s4v",
    "tiny-depth-videomamba",
]


class DearModelTester:
    """Tiny configs and inputs: 4 frames of 32x32, patch 8 (4x4 grid), 5 classes."""

    def __init__(self, preset="tiny", batch_size=2, num_frames=4, image_size=32, num_labels=5, **overrides):
        self.batch_size, self.num_frames, self.image_size, self.num_labels = (
            batch_size,
            num_frames,
            image_size,
            num_labels,
        )
        self.config = DearConfig.from_preset(
            preset,
            num_frames=num_frames,
            image_size=image_size,
            id2label={i: f"class {i}" for i in range(num_labels)},
            **overrides,
        )

    def inputs(self, seed=0, with_labels=True):
        generator = torch.Generator().manual_seed(seed)
        shape = (self.batch_size, self.num_frames, 3, self.image_size, self.image_size)
        inputs = {"pixel_values": torch.randn(shape, generator=generator)}
        if self.config.needs_depth:
            inputs["depth_pixel_values"] = torch.randn(shape, generator=generator)
        if with_labels:
            inputs["labels"] = torch.randint(0, self.num_labels, (self.batch_size,), generator=generator)
        return inputs

    def model(self, seed=0):
        torch.manual_seed(seed)
        return DearForVideoClassification(self.config)


def trainable_parameters(model):
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


@pytest.mark.parametrize("preset", TINY_VARIANTS)
def test_forward_backward_every_variant(preset):
    tester = DearModelTester(preset)
    model = tester.model().train()
    outputs = model(**tester.inputs(), output_hidden_states=True)

    sources = model.config.logit_sources
    assert outputs.logits.shape == (tester.batch_size, tester.num_labels)
    assert outputs.stream_logits.shape == (tester.batch_size, len(sources), tester.num_labels)
    torch.testing.assert_close(outputs.logits, outputs.stream_logits.mean(dim=1))
    assert torch.isfinite(outputs.loss)
    side_tokens = tester.num_frames * (tester.image_size // model.config.clip_config.patch_size) ** 2
    videomamba_tokens = 1 + tester.num_frames * (tester.image_size // model.config.videomamba_config.patch_size) ** 2
    for name, tokens in outputs.encoder_hidden_states.items():
        expected_length = videomamba_tokens if name == "depth_videomamba" else side_tokens
        assert tokens.shape[:2] == (tester.batch_size, expected_length), name

    outputs.loss.backward()
    missing = [name for name, p in trainable_parameters(model).items() if p.grad is None]
    assert missing == []
    if model.backbone is not None:
        assert all(p.grad is None and not p.requires_grad for p in model.backbone.parameters())
    # Exactly-zero gradients are expected in two places only: behind the closed (zero-init) fusion gates, and,
    # when VideoMamba classifies from its CLS token alone, in the last block's forward-direction decay A_log:
    # the CLS token is position 0 of the sequence, where the forward scan has no earlier state to decay.
    last_block = model.config.videomamba_config.num_hidden_layers - 1
    expected_zero = ("dear.fusion.", f"dear.encoders.depth_videomamba.videomamba.layers.{last_block}.mixer.A_log")
    zero = [
        name
        for name, p in trainable_parameters(model).items()
        if p.grad.abs().max() == 0 and not name.startswith(expected_zero)
    ]
    assert zero == []


def test_variants_build_the_right_modules():
    expected = {
        "tiny": (["rgb_side4video", "depth_side4video", "depth_videomamba"], ["depth_side4video", "depth_videomamba"]),
        "tiny-s4v-rgb": (["rgb_side4video"], []),
        "tiny-dear-rgb-depth": (["rgb_side4video", "depth_side4video"], ["depth_side4video"]),
        "tiny-dear-rgb-videomamba": (["rgb_side4video", "depth_videomamba"], ["depth_videomamba"]),
        "tiny-depth-s4v": (["depth_side4video"], []),
        "tiny-depth-videomamba": (["depth_videomamba"], []),
    }
    for preset, (encoders, streams) in expected.items():
        model = DearModelTester(preset).model()
        assert list(model.dear.encoders) == encoders, preset
        assert list(model.dear.fusion) == streams, preset
        # one head per stream, or per encoder when nothing is fused
        assert list(model.classifiers) == (streams or encoders), preset
        assert (model.backbone is None) == (preset == "tiny-depth-videomamba"), preset


def test_both_side_networks_share_one_backbone_module():
    model = DearModelTester("tiny").model()
    backbones = [module for module in model.modules() if isinstance(module, CLIPVisionModel)]
    assert len(backbones) == 1
    # the saved weights hold one copy of CLIP
    assert sum(1 for name in model.state_dict() if name.endswith("embeddings.patch_embedding.weight")) == 1


def test_optimizer_step_leaves_backbone_bit_identical():
    tester = DearModelTester("tiny")
    model = tester.model().train()
    backbone_before = copy.deepcopy(model.backbone.state_dict())
    side_before = model.dear.encoders["rgb_side4video"].stem.weight.detach().clone()
    optimizer = torch.optim.AdamW(trainable_parameters(model).values(), lr=1e-2, weight_decay=0.15)
    assert not any(
        p is q for group in optimizer.param_groups for p in group["params"] for q in model.backbone.parameters()
    )

    model(**tester.inputs()).loss.backward()
    optimizer.step()

    for name, value in model.backbone.state_dict().items():
        assert torch.equal(value, backbone_before[name]), name
    assert all(p.grad is None for p in model.backbone.parameters())
    assert not torch.equal(model.dear.encoders["rgb_side4video"].stem.weight, side_before)
    assert model.backbone.training is False and model.dear.encoders["rgb_side4video"].training is True


def test_backbone_builds_no_autograd_graph():
    tester = DearModelTester("tiny-s4v-rgb")
    model = tester.model().train()
    hidden_states, _ = model.dear._backbone_outputs(tester.inputs()["pixel_values"], output_attentions=False)
    assert len(hidden_states) == model.config.clip_config.num_hidden_layers + 1
    assert all(h.grad_fn is None and not h.requires_grad for h in hidden_states)


def test_closed_gates_keep_depth_out_of_rgb_tokens():
    tester = DearModelTester("tiny")
    model = tester.model().eval()
    inputs = tester.inputs(with_labels=False)
    other_depth = dict(inputs, depth_pixel_values=torch.randn_like(inputs["depth_pixel_values"]))

    with torch.no_grad():
        first = model(**inputs, output_hidden_states=True).fused_hidden_states
        second = model(**other_depth, output_hidden_states=True).fused_hidden_states
    for stream in model.config.active_streams:
        torch.testing.assert_close(first[stream][0], second[stream][0], rtol=0, atol=0)
        assert not torch.allclose(first[stream][1], second[stream][1])

    # opening the gates must let depth through: the test above would otherwise prove nothing
    for module in model.modules():
        if isinstance(module, GatedCrossAttentionBlock):
            module.attention_gate.data.fill_(0.5)
    with torch.no_grad():
        first = model(**inputs, output_hidden_states=True).fused_hidden_states
        second = model(**other_depth, output_hidden_states=True).fused_hidden_states
    for stream in model.config.active_streams:
        assert not torch.allclose(first[stream][0], second[stream][0])


def test_save_load_round_trip_gives_identical_logits(tmp_path):
    tester = DearModelTester("tiny")
    model = tester.model().eval()
    inputs = tester.inputs(with_labels=False)
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()

    reloaded = DearForVideoClassification.from_pretrained(tmp_path)
    assert not reloaded.training
    assert not any(p.requires_grad for p in reloaded.backbone.parameters())
    with torch.no_grad():
        torch.testing.assert_close(reloaded(**inputs).logits, model(**inputs).logits, rtol=0, atol=0)
    via_auto = AutoModelForVideoClassification.from_pretrained(tmp_path)
    assert isinstance(via_auto, DearForVideoClassification)


def test_auto_classes_are_registered():
    values = DearModelTester("tiny").config.to_dict()
    config = AutoConfig.for_model(values.pop("model_type"), **values)
    assert isinstance(config, DearConfig)
    assert isinstance(AutoModelForVideoClassification.from_config(config), DearForVideoClassification)


def test_trust_remote_code_reload_without_the_package(tmp_path):
    tester = DearModelTester("tiny")
    model = tester.model().eval()
    inputs = tester.inputs(with_labels=False)
    model_dir = tmp_path / "model"
    model.save_pretrained(model_dir)
    with torch.no_grad():
        expected = model(**inputs).logits
    torch.save({"inputs": inputs, "expected": expected}, tmp_path / "io.pt")
    config = json.loads((model_dir / "config.json").read_text())
    assert config["auto_map"]["AutoModelForVideoClassification"] == "modeling_dear.DearForVideoClassification"

    script = f"""
        import torch
        from transformers import AutoModelForVideoClassification

        model = AutoModelForVideoClassification.from_pretrained({str(model_dir)!r}, trust_remote_code=True)
        assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
        assert not any(p.requires_grad for p in model.backbone.parameters())
        data = torch.load({str(tmp_path / "io.pt")!r}, weights_only=True)
        with torch.no_grad():
            logits = model(**data["inputs"]).logits
        # another process may use another thread count, hence another summation order: float tolerance
        torch.testing.assert_close(logits, data["expected"], rtol=1e-5, atol=1e-6)
        print("remote code OK")
        """
    result = run_without_package(script, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "remote code OK" in result.stdout


@pytest.mark.parametrize("mode", ["selective_recompute_off", "gradient_checkpointing"])
def test_recomputation_gives_the_same_step(mode):
    """Selective recomputation (on by default) and whole-block checkpointing change memory, not the step:
    same loss, same gradients, and BatchNorm running statistics updated once, not twice."""
    tester = DearModelTester("tiny")
    inputs = tester.inputs()
    results = []
    for variant in ("default", mode):
        if variant == "selective_recompute_off":
            tester.config.side_selective_recompute = False
        model = tester.model(seed=3).train()
        tester.config.side_selective_recompute = True
        if variant == "gradient_checkpointing":
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            assert all(block.gradient_checkpointing for block in model.dear.encoders["rgb_side4video"].blocks)
        loss = model(**inputs).loss
        loss.backward()
        gradients = {name: p.grad.clone() for name, p in trainable_parameters(model).items()}
        buffers = {name: b.clone() for name, b in model.named_buffers() if "running" in name or "num_batches" in name}
        results.append((loss.detach(), gradients, buffers))
    (loss, gradients, buffers), (other_loss, other_gradients, other_buffers) = results
    torch.testing.assert_close(other_loss, loss)
    for name, gradient in gradients.items():
        torch.testing.assert_close(other_gradients[name], gradient, rtol=1e-5, atol=1e-7, msg=name)
    for name, buffer in buffers.items():
        torch.testing.assert_close(other_buffers[name], buffer, rtol=1e-6, atol=1e-7, msg=name)
    assert buffers["dear.encoders.rgb_side4video.blocks.0.temporal_norm.num_batches_tracked"] == 1


def _saved_activation_bytes(model, inputs) -> int:
    """Bytes of the tensors autograd keeps for backward during the forward (each storage once): what
    activation checkpointing is meant to shrink. Tensors saved inside a checkpointed block are not kept;
    weights are resident anyway and not counted."""
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in weights:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = model(**inputs).loss
    loss.backward()
    return sum(storages.values())


def test_activation_checkpointing_gives_the_same_step_with_less_kept_memory():
    """transformers' switch (`activation_checkpointing_enable`, what the recipe turns on) re-runs every Side4Video and
    VideoMamba block and fusion layer in backward: memory changes, not the step: same loss, gradients and BatchNorm
    statistics in fp32, with VideoMamba drop-path on (the recomputation must draw the same masks), and the forward
    keeps much less for backward."""
    tester = DearModelTester(
        "tiny",
        videomamba_config={
            "hidden_size": 32,
            "num_hidden_layers": 3,
            "d_state": 8,
            "patch_size": 16,
            "drop_path_rate": 0.3,
        },
    )
    inputs = tester.inputs()
    results = []
    for enabled in (False, True):
        model = tester.model(seed=3).train()
        assert not model.is_activation_checkpointing  # off in a bare model, as in every transformers model
        if enabled:
            model.activation_checkpointing_enable()
        encoders = model.dear.encoders
        blocks = [
            *encoders["rgb_side4video"].blocks,
            *encoders["depth_side4video"].blocks,
            *encoders["depth_videomamba"].videomamba.layers,
            *(layer for stream in model.dear.fusion.values() for layer in stream.layers),
        ]
        assert all(block.gradient_checkpointing == enabled for block in blocks)
        torch.manual_seed(11)  # the drop-path masks
        loss = model(**inputs).loss
        loss.backward()
        gradients = {name: p.grad.clone() for name, p in trainable_parameters(model).items()}
        buffers = {name: b.clone() for name, b in model.named_buffers() if "running" in name or "num_batches" in name}
        model.zero_grad(set_to_none=True)
        torch.manual_seed(11)
        kept = _saved_activation_bytes(model, inputs)
        results.append((loss.detach(), gradients, buffers, kept))
    (loss, gradients, buffers, kept), (other_loss, other_gradients, other_buffers, other_kept) = results
    torch.testing.assert_close(other_loss, loss, rtol=1e-5, atol=1e-6)
    for name, gradient in gradients.items():
        torch.testing.assert_close(other_gradients[name], gradient, rtol=1e-5, atol=1e-6, msg=name)
    for name, buffer in buffers.items():
        torch.testing.assert_close(other_buffers[name], buffer, rtol=1e-6, atol=1e-7, msg=name)
    # the drop-path was active: the same model with other masks gives another loss
    model = tester.model(seed=3).train()
    torch.manual_seed(12)
    assert not torch.allclose(model(**inputs).loss, loss)
    assert other_kept < 0.3 * kept, (other_kept, kept)  # 0.22 here (0.51 before the fusion layers were re-run)


def test_activation_checkpointing_is_transformers_switch_and_old_configs_still_load(tmp_path):
    tester = DearModelTester("tiny-dear-rgb-videomamba")
    model = tester.model()
    blocks = [*model.dear.encoders["rgb_side4video"].blocks, *model.dear.encoders["depth_videomamba"].videomamba.layers]
    assert not model.is_activation_checkpointing and not any(block.gradient_checkpointing for block in blocks)
    model.gradient_checkpointing_enable()  # the deprecated name works too
    assert model.is_activation_checkpointing and all(block.gradient_checkpointing for block in blocks)
    model.activation_checkpointing_disable()
    assert not model.is_activation_checkpointing and not any(block.gradient_checkpointing for block in blocks)
    # the Trainer argument turns it on when training starts (TrainingArguments(gradient_checkpointing=...) is the
    # deprecated name of activation_checkpointing)
    from transformers import Trainer, TrainerCallback, TrainingArguments

    class Seen(TrainerCallback):
        def on_step_begin(self, args, state, control, model=None, **kwargs):
            self.blocks = [block.gradient_checkpointing for block in blocks]

    inputs = tester.inputs()
    rows = [{key: value[index] for key, value in inputs.items()} for index in range(tester.batch_size)]
    for value in (True, False):
        model, seen = tester.model(), Seen()
        blocks = [
            *model.dear.encoders["rgb_side4video"].blocks,
            *model.dear.encoders["depth_videomamba"].videomamba.layers,
        ]
        arguments = TrainingArguments(
            output_dir=str(tmp_path / "run"),
            report_to="none",
            use_cpu=True,
            max_steps=1,
            save_strategy="no",
            per_device_train_batch_size=2,
            gradient_checkpointing=value,
        )
        Trainer(model=model, args=arguments, train_dataset=rows, callbacks=[seen]).train()
        assert seen.blocks == [value] * len(blocks)
    # a folder saved when the config carried `encoder_checkpointing` (True by default then) loads, without it
    model.save_pretrained(tmp_path / "old")
    saved = json.loads((tmp_path / "old" / "config.json").read_text())
    assert "encoder_checkpointing" not in saved
    (tmp_path / "old" / "config.json").write_text(json.dumps({**saved, "encoder_checkpointing": True}))
    loaded = DearForVideoClassification.from_pretrained(tmp_path / "old")
    assert not loaded.is_activation_checkpointing and not hasattr(loaded.config, "encoder_checkpointing")
    assert DearConfig.from_preset("tiny", encoder_checkpointing=False).to_dict().get("encoder_checkpointing") is None


def test_tap_with_folded_layer_norm_equals_layer_norm_then_linear():
    tester = DearModelTester("tiny-s4v-rgb")
    side = tester.model().dear.encoders["rgb_side4video"]
    torch.nn.init.normal_(side.tap_norms[1].weight)
    torch.nn.init.normal_(side.tap_norms[1].bias)
    hidden = torch.randn(6, 17, tester.config.clip_config.hidden_size)
    expected = side.tap_projections[1](side.tap_norms[1](hidden))
    torch.testing.assert_close(side._tap(1, hidden), expected, rtol=1e-5, atol=1e-5)
    reference_grads = torch.autograd.grad(
        expected.square().sum(), [side.tap_norms[1].weight, side.tap_projections[1].weight]
    )
    folded_grads = torch.autograd.grad(
        side._tap(1, hidden).square().sum(), [side.tap_norms[1].weight, side.tap_projections[1].weight]
    )
    for folded, reference in zip(folded_grads, reference_grads, strict=True):
        torch.testing.assert_close(folded, reference, rtol=1e-4, atol=1e-4)


def test_cls_shift_moves_half_the_channels_each_way():
    batch, frames, channels = 2, 3, 4
    cls = torch.arange(batch * frames * channels, dtype=torch.float32).reshape(batch * frames, 1, channels)
    shifted = shift_cls_tokens(cls, batch, frames).reshape(batch, frames, channels)
    original = cls.reshape(batch, frames, channels)
    for t in range(frames):
        expected_first = original[:, t + 1, :2] if t + 1 < frames else torch.zeros(batch, 2)
        expected_second = original[:, t - 1, 2:] if t > 0 else torch.zeros(batch, 2)
        torch.testing.assert_close(shifted[:, t, :2], expected_first)
        torch.testing.assert_close(shifted[:, t, 2:], expected_second)


def test_side_attention_matches_torch_multihead_attention():
    torch.manual_seed(0)
    attention = Side4VideoAttention(hidden_size=32, num_heads=4)
    torch.nn.init.normal_(attention.in_proj_weight, std=0.2)
    torch.nn.init.normal_(attention.in_proj_bias, std=0.2)
    reference = torch.nn.MultiheadAttention(32, 4, batch_first=True)
    reference.load_state_dict(attention.state_dict())
    tokens = torch.randn(3, 17, 32)
    expected, _ = reference(tokens[:, 1:], tokens, tokens, need_weights=False)
    torch.testing.assert_close(attention(tokens[:, 1:], tokens)[0], expected, rtol=1e-5, atol=1e-5)


def test_side_block_matches_a_reference_computation():
    torch.manual_seed(0)
    batch, frames, grid, width = 2, 3, 2, 8
    block = Side4VideoBlock(width, num_heads=2).eval()
    for module in block.modules():
        if isinstance(module, torch.nn.BatchNorm3d):
            module.running_mean.normal_()
            module.running_var.uniform_(0.5, 2.0)
    tokens = torch.randn(batch * frames, grid * grid, width)
    cls = torch.randn(batch * frames, 1, width)
    position = torch.randn(grid * grid, width)
    with torch.no_grad():
        output, _ = block(tokens, cls, position, frames)

        # the same three residual sub-layers written out on (B, T, N, D) with plain tensor ops
        def batch_norm(norm, x):
            return (x - norm.running_mean) / torch.sqrt(norm.running_var + norm.eps) * norm.weight + norm.bias

        x = tokens.reshape(batch, frames, grid * grid, width)
        h = batch_norm(block.temporal_norm, x)
        pw1, dw, pw2 = block.temporal_conv
        h = h @ pw1.weight[:, :, 0, 0, 0].T + pw1.bias
        padded = torch.nn.functional.pad(h, (0, 0, 0, 0, 1, 1))
        kernel = dw.weight[:, 0, :, 0, 0]  # (D, 3)
        h = sum(padded[:, k : k + frames] * kernel[:, k] for k in range(3)) + dw.bias
        h = h @ pw2.weight[:, :, 0, 0, 0].T + pw2.bias
        x = x + h
        c = cls.reshape(batch, frames, width)
        shifted = torch.zeros_like(c)
        shifted[:, :-1, : width // 2] = c[:, 1:, : width // 2]
        shifted[:, 1:, width // 2 :] = c[:, :-1, width // 2 :]
        normed = block.attention_norm(torch.cat([shifted.unsqueeze(2), x + position], dim=2))
        x = x + block.attention(normed[:, :, 1:].flatten(0, 1), normed.flatten(0, 1))[0].reshape(x.shape)
        h = batch_norm(block.mlp_norm, x)
        x = x + block.mlp.fc2(torch.nn.functional.gelu(block.mlp.fc1(h)))
    torch.testing.assert_close(output, x.reshape(batch * frames, grid * grid, width), rtol=1e-5, atol=1e-5)


def test_released_initialisation():
    config = DearConfig.from_preset("s4v-rgb", clip_config={"num_hidden_layers": 2})
    torch.manual_seed(0)
    model = DearForVideoClassification(config)
    side = model.dear.encoders["rgb_side4video"]
    width = config.side_hidden_size
    residual_std = width**-0.5 * (2 * 2) ** -0.5
    checks = {
        "position_embedding": (side.position_embedding, 0.01),
        "fc1": (side.blocks[0].mlp.fc1.weight, (2 * width) ** -0.5),
        "fc2": (side.blocks[0].mlp.fc2.weight, residual_std),
        "in_proj": (side.blocks[0].attention.in_proj_weight, width**-0.5),
        "out_proj": (side.blocks[0].attention.out_proj.weight, residual_std),
    }
    for name, (tensor, std) in checks.items():
        assert abs(tensor.std().item() / std - 1) < 0.05, name
    assert side.blocks[0].attention.in_proj_bias.abs().max() == 0
    # taps keep PyTorch's default init: uniform within ±1/sqrt(fan_in)
    bound = config.clip_config.hidden_size**-0.5
    assert side.tap_projections[0].weight.abs().max() <= bound
    assert side.tap_projections[0].weight.std() > 0.5 * bound / 3**0.5


def test_side4video_trainable_parameters_at_vit_b16():
    with torch.device("meta"):
        model = DearForVideoClassification(DearConfig.from_preset("s4v-rgb"))
    side = sum(p.numel() for p in model.dear.encoders["rgb_side4video"].parameters())
    trainable = sum(p.numel() for p in trainable_parameters(model).values())
    print(
        f"Side4Video side network at ViT-B/16, width 320: {side / 1e6:.2f} M; with the 174-class head: {trainable / 1e6:.2f} M"
    )
    assert abs(trainable / 21.1e6 - 1) < 0.01
    assert abs(sum(p.numel() for p in model.dear.encoders["rgb_side4video"].blocks[0].parameters()) / 1.44e6 - 1) < 0.01
    assert abs(sum(p.numel() for p in model.dear.encoders["rgb_side4video"].stem.parameters()) / 0.74e6 - 1) < 0.01


@pytest.mark.parametrize(
    "preset,change,message",
    [
        ("tiny", {"pixel_values": torch.zeros(2, 3, 3, 32, 32)}, "has 3 frames, this model takes 4"),
        ("tiny", {"pixel_values": torch.zeros(2, 4, 3, 48, 48)}, "frames are 48x48, this model takes 32x32"),
        ("tiny", {"pixel_values": torch.zeros(2, 4, 1, 32, 32)}, "has 1 channels, expected 3"),
        ("tiny", {"pixel_values": torch.zeros(8, 3, 32, 32)}, "got (8, 3, 32, 32) (4-D)"),
        ("tiny", {"depth_pixel_values": None}, "`depth_pixel_values` is required"),
        ("tiny", {"depth_pixel_values": torch.zeros(2, 4, 3, 16, 16)}, "`depth_pixel_values` frames are 16x16"),
        ("tiny-s4v-rgb", {"depth_pixel_values": torch.zeros(2, 4, 3, 32, 32)}, "has no depth encoder"),
        ("tiny", {"labels": torch.tensor([0, 5])}, "class ids in [0, 5)"),
    ],
)
def test_bad_input_names_what_was_expected(preset, change, message):
    tester = DearModelTester(preset)
    model = tester.model()
    inputs = {**tester.inputs(), **change}
    with pytest.raises(ValueError) as error:
        model(**inputs)
    assert message in str(error.value)


def test_config_errors():
    with pytest.raises(ValueError, match="unknown preset 'nope'; available presets: .*tiny"):
        DearConfig.from_preset("nope")
    with pytest.raises(ValueError, match="unknown encoder 'rgb': the built-in encoders are"):
        DearConfig(encoders=["rgb", "depth"])
    with pytest.raises(ValueError, match="fuses 'rgb_side4video' with 'depth_videomamba'"):
        DearConfig(encoders=["rgb_side4video"], fusion_streams=["depth_videomamba"])
    with pytest.raises(ValueError, match=r"encoder\(s\) \['depth_videomamba'\] would run without reaching the logits"):
        DearConfig(fusion_streams=["depth_side4video"])
    with pytest.raises(ValueError, match="depth_colormap"):
        DearConfig(depth_colormap="jet")
    with pytest.raises(ValueError, match="not a multiple of the backbone patch size 16"):
        DearConfig(image_size=100)


def test_config_round_trip_and_geometry_hand_down(tmp_path):
    config = DearModelTester("tiny").config
    assert config.clip_config.image_size == 32 and config.videomamba_config.num_frames == 4
    config.save_pretrained(tmp_path)
    reloaded = DearConfig.from_pretrained(tmp_path)
    assert reloaded.to_dict() == config.to_dict()
    assert reloaded.active_streams == ["depth_side4video", "depth_videomamba"]
    # a partial CLIP dict keeps the ViT-B/16 patch size
    assert DearConfig(clip_config={"num_hidden_layers": 2}).clip_config.patch_size == 16
    # late fusion: no streams, every encoder classifies and the scores are averaged
    late = DearConfig(encoders=["rgb_side4video", "depth_side4video"], fusion_streams=[])
    assert late.active_streams == [] and late.logit_sources == ["rgb_side4video", "depth_side4video"]
    assert DearConfig().num_labels == 174 and DearConfig().id2label[86] == "Pulling something from left to right"


def test_load_pretrained_backbone_from_local_clip_checkpoints(tmp_path):
    tester = DearModelTester("tiny-s4v-rgb")
    model = tester.model()
    vision = CLIPVisionModel(model.config.clip_config)
    vision.save_pretrained(tmp_path / "vision")
    model.load_pretrained_encoders(clip_name_or_path=str(tmp_path / "vision"))
    for name, value in vision.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[name], value), name
    assert not any(p.requires_grad for p in model.backbone.parameters())

    # a full CLIP (text + vision) checkpoint, as openai/clip-vit-base-patch16 is published
    full = CLIPModel(
        CLIPConfig(
            vision_config=model.config.clip_config.to_dict(),
            text_config={
                "hidden_size": 16,
                "intermediate_size": 32,
                "num_hidden_layers": 1,
                "num_attention_heads": 2,
                "vocab_size": 50,
                "projection_dim": 32,
            },
            projection_dim=32,
        )
    )
    full.save_pretrained(tmp_path / "full")
    model.load_pretrained_encoders(clip_name_or_path=str(tmp_path / "full"))
    torch.testing.assert_close(
        model.backbone.embeddings.patch_embedding.weight, full.vision_model.embeddings.patch_embedding.weight
    )

    wrong = CLIPVisionModel(
        DearModelTester(
            "tiny-s4v-rgb",
            clip_config={
                "hidden_size": 24,
                "num_attention_heads": 2,
                "intermediate_size": 48,
                "patch_size": 8,
                "num_hidden_layers": 3,
            },
        ).config.clip_config
    )
    wrong.save_pretrained(tmp_path / "wrong")
    with pytest.raises(ValueError, match="does not fit this model's clip_config: .*checkpoint \\(24"):
        model.load_pretrained_encoders(clip_name_or_path=str(tmp_path / "wrong"))


def test_sync_batchnorm_conversion_keeps_the_once_per_step_statistics():
    from modeling_dear.modeling_side4video import RecomputeSafeSyncBatchNorm, convert_to_sync_batchnorm

    model = convert_to_sync_batchnorm(DearModelTester("tiny-dear-rgb-depth").model())
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert norms and all(type(m) is RecomputeSafeSyncBatchNorm for m in norms)
    assert not any(p.requires_grad for p in model.backbone.parameters())
