# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""VideoMamba encoder: sizes, released initialisation, token layout, mixer, training, I/O and conversion."""

import math

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from modeling_dear.configuration_videomamba import VideoMambaConfig
from modeling_dear.conversion.videomamba import load_videomamba_checkpoint, main, read_state_dict
from modeling_dear.modeling_videomamba import (
    VideoMambaForVideoClassification,
    VideoMambaMixer,
    VideoMambaModel,
)
from modeling_dear.selective_scan import selective_scan_reference


def small_config(**overrides):
    # 2 frames of 32² in 16² patches: L = 1 + 2·4 = 9 tokens.
    values = dict(
        hidden_size=32,
        num_hidden_layers=2,
        d_state=4,
        image_size=32,
        patch_size=16,
        num_frames=2,
        drop_path_rate=0.0,
        num_labels=5,
        scan_block_size=4,
    )
    values.update(overrides)
    return VideoMambaConfig(**values)


def clip(config, batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, config.num_frames, config.num_channels, config.image_size, config.image_size, generator=g)


# ---------------------------------------------------------------- configuration and sizes


def test_drop_path_schedule_matches_the_release():
    # The release: dpr = linspace(0, r, depth); inter_dpr = [0.0] + dpr; block i gets inter_dpr[i] and the
    # final drop path (after the loop) gets dpr[-1]. Tiny: 0, 0, 0.0043, ..., 0.0957, then 0.1.
    config = VideoMambaConfig.tiny(num_labels=5)
    with torch.device("meta"):
        model = VideoMambaModel(config)
    dpr = torch.linspace(0, 0.1, 24).tolist()
    inter_dpr = [0.0] + dpr
    rates = [layer.drop_path.drop_prob for layer in model.layers]
    assert rates == pytest.approx(inter_dpr[:24], abs=1e-7)
    assert rates[:3] == pytest.approx([0.0, 0.0, 0.1 / 23], abs=1e-7)
    assert rates[-1] == pytest.approx(0.1 * 22 / 23, abs=1e-7)
    assert model.drop_path.drop_prob == pytest.approx(dpr[-1], abs=1e-7)


@pytest.mark.parametrize("variant,millions", [("tiny", 6.99), ("small", 25.48), ("middle", 73.75)])
def test_parameter_counts_with_ssv2_head(variant, millions):
    config = VideoMambaConfig.from_variant(variant, num_labels=174)
    with torch.device("meta"):
        model = VideoMambaForVideoClassification(config)
    count = sum(p.numel() for p in model.parameters()) / 1e6
    assert abs(count - millions) <= 0.005 * millions


def test_presets_and_derived_sizes():
    tiny, small, middle = VideoMambaConfig.tiny(), VideoMambaConfig.small(), VideoMambaConfig.middle()
    assert (tiny.hidden_size, tiny.dt_rank, tiny.intermediate_size) == (192, 12, 384)
    assert (small.hidden_size, small.dt_rank, small.drop_path_rate) == (384, 24, 0.35)
    assert (middle.num_hidden_layers, middle.dt_rank, middle.drop_path_rate) == (32, 36, 0.8)
    assert tiny.sequence_length == 1569
    assert VideoMambaConfig.tiny(num_frames=16).sequence_length == 3137
    assert VideoMambaConfig.model_type == "dear_videomamba"


@pytest.mark.parametrize(
    "bad,message",
    [
        (dict(image_size=225), "not divisible by patch_size"),
        (dict(num_frames=7, tubelet_size=2), "not divisible by tubelet_size"),
        (dict(dt_init="xavier"), "dt_init"),
        (dict(d_state=0), "d_state"),
        (dict(drop_path_rate=1.0), "drop_path_rate"),
    ],
)
def test_config_validation(bad, message):
    with pytest.raises(ValueError, match=message):
        VideoMambaConfig(**bad)
    with pytest.raises(ValueError, match="unknown VideoMamba variant"):
        VideoMambaConfig.from_variant("huge")


# ---------------------------------------------------------------- initialisation


def test_released_initialisation():
    config = small_config(hidden_size=64, num_hidden_layers=3, d_state=16)
    model = VideoMambaModel(config)
    d_inner = config.intermediate_size
    bound = 1.0 / math.sqrt(d_inner * config.num_hidden_layers)
    expected_A_log = torch.log(torch.arange(1, 17, dtype=torch.float32)).expand(d_inner, -1)
    for layer in model.layers:
        mixer = layer.mixer
        assert torch.allclose(mixer.A_log, expected_A_log) and torch.allclose(mixer.A_b_log, expected_A_log)
        assert torch.equal(mixer.D, torch.ones(d_inner)) and torch.equal(mixer.D_b, torch.ones(d_inner))
        assert torch.equal(mixer.dt_proj.bias, torch.zeros(d_inner))
        assert torch.equal(mixer.dt_proj_b.bias, torch.zeros(d_inner))
        # out_proj: kaiming-uniform(a=√5) / √depth = U(±1/√(d_inner·depth)), std = bound/√3.
        weight = mixer.out_proj.weight
        assert weight.abs().max().item() <= bound and weight.abs().max().item() > 0.95 * bound
        assert abs(weight.std().item() - bound / math.sqrt(3)) < 0.05 * bound / math.sqrt(3)
        # Every other Linear: truncated normal, std 0.02.
        assert abs(mixer.in_proj.weight.std().item() - 0.02) < 0.002
        assert mixer.in_proj.weight.abs().max().item() <= 2.0
        assert torch.equal(layer.norm.weight, torch.ones(config.hidden_size))
        # Convolutions keep PyTorch's default init: U(±1/√fan_in) with fan_in = kernel 4.
        assert mixer.conv1d.weight.abs().max().item() <= 0.5
    assert torch.equal(model.cls_token, torch.zeros_like(model.cls_token))
    assert torch.equal(model.temporal_pos_embedding, torch.zeros_like(model.temporal_pos_embedding))
    assert abs(model.pos_embed.std().item() - 0.02) < 0.004


def test_mamba_dt_initialisation():
    config = small_config(hidden_size=64, dt_init="mamba")
    mixer = VideoMambaModel(config).layers[0].mixer
    for dt_proj in (mixer.dt_proj, mixer.dt_proj_b):
        dt = F.softplus(dt_proj.bias)
        assert dt.min().item() >= config.dt_min * 0.999 and dt.max().item() <= config.dt_max * 1.001
        assert dt_proj.weight.abs().max().item() <= config.dt_rank**-0.5
        assert dt_proj.weight.std().item() > 0.1  # uniform ±dt_rank^-0.5, not the 0.02 Linear init


# ---------------------------------------------------------------- tokens and the mixer


def test_token_layout_is_cls_then_frames_time_outer():
    config = small_config()
    model = VideoMambaModel(config)
    with torch.no_grad():
        model.temporal_pos_embedding.normal_()
        model.cls_token.normal_()
    pixels = clip(config, batch=1)
    tokens = model.embed(pixels)  # (1, 1 + T·N, d)
    n_side = config.image_size // config.patch_size
    assert tokens.shape == (1, 1 + config.num_frames * n_side**2, config.hidden_size)
    assert torch.allclose(tokens[0, 0], model.cls_token[0, 0] + model.pos_embed[0, 0])
    weight, bias = model.patch_embed.proj.weight[:, :, 0], model.patch_embed.proj.bias
    p = config.patch_size
    for t in range(config.num_frames):
        for row in range(n_side):
            for col in range(n_side):
                patch = pixels[0, t, :, row * p : (row + 1) * p, col * p : (col + 1) * p]
                index = row * n_side + col
                expected = (weight * patch).sum((1, 2, 3)) + bias
                expected = expected + model.pos_embed[0, 1 + index] + model.temporal_pos_embedding[0, t]
                assert torch.allclose(tokens[0, 1 + t * n_side**2 + index], expected, atol=1e-5)


def test_bidirectional_mixer_is_two_one_directional_passes():
    config = small_config(hidden_size=16, d_state=4)
    mixer = VideoMambaMixer(config, layer_idx=0).double()
    with torch.no_grad():
        for p in mixer.parameters():
            p.normal_(0, 0.3)
        mixer.A_log.copy_(torch.log(torch.arange(1.0, 5.0)).expand_as(mixer.A_log))
        mixer.A_b_log.copy_(torch.log(torch.arange(2.0, 6.0)).expand_as(mixer.A_b_log))
    hidden = torch.randn(2, 11, 16, dtype=torch.float64)
    length, rank, n = 11, config.dt_rank, config.d_state

    def one_direction(x, z, conv1d, x_proj, dt_proj, A_log, D):
        x = F.silu(F.conv1d(x, conv1d.weight, conv1d.bias, padding=3, groups=x.shape[1])[..., :length])
        dt, B, C = x_proj(x.transpose(1, 2)).split([rank, n, n], dim=-1)
        delta = (dt @ dt_proj.weight.T).transpose(1, 2)
        return selective_scan_reference(
            x, delta, -torch.exp(A_log), B.transpose(1, 2), C.transpose(1, 2), D, z, dt_proj.bias
        )

    with torch.no_grad():
        xz = mixer.in_proj(hidden).transpose(1, 2)
        x, z = xz[:, : config.intermediate_size], xz[:, config.intermediate_size :]
        forward = one_direction(x, z, mixer.conv1d, mixer.x_proj, mixer.dt_proj, mixer.A_log, mixer.D)
        backward = one_direction(
            x.flip(-1), z.flip(-1), mixer.conv1d_b, mixer.x_proj_b, mixer.dt_proj_b, mixer.A_b_log, mixer.D_b
        )
        expected = mixer.out_proj((forward + backward.flip(-1)).transpose(1, 2))
        actual = mixer(hidden)
    assert (actual - expected).abs().max().item() <= 1e-10
    # The backward direction really reads the future: the first output depends on the last input.
    perturbed = hidden.clone()
    perturbed[:, -1] += 1.0
    with torch.no_grad():
        assert (mixer(perturbed)[:, 0] - actual[:, 0]).abs().max().item() > 1e-6


def test_mixer_parameter_names_follow_the_release():
    mixer = VideoMambaMixer(small_config(), layer_idx=0)
    names = {name.split(".")[0] for name, _ in mixer.named_parameters()}
    assert names == {
        "in_proj", "conv1d", "x_proj", "dt_proj", "A_log", "D",
        "conv1d_b", "x_proj_b", "dt_proj_b", "A_b_log", "D_b", "out_proj",
    }  # fmt: skip


# ---------------------------------------------------------------- forward, backward, I/O


def test_forward_backward_shapes_and_loss():
    config = small_config()
    model = VideoMambaForVideoClassification(config)
    pixels = clip(config)
    labels = torch.tensor([1, 3])
    out = model(pixels, labels=labels, output_hidden_states=True)
    assert out.logits.shape == (2, 5)
    assert len(out.hidden_states) == config.num_hidden_layers + 1
    assert all(h.shape == (2, 9, 32) for h in out.hidden_states)
    assert torch.allclose(out.loss, F.cross_entropy(out.logits, labels))
    out.loss.backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing

    encoder_out = model.videomamba(pixels)
    assert encoder_out.last_hidden_state.shape == (2, 9, 32)
    assert torch.equal(encoder_out.pooler_output, encoder_out.last_hidden_state[:, 0])

    model.config.label_smoothing = 0.1
    smoothed = model(pixels, labels=labels)
    assert torch.allclose(smoothed.loss, F.cross_entropy(smoothed.logits, labels, label_smoothing=0.1))
    as_tuple = model(pixels, labels=labels, return_dict=False)
    assert isinstance(as_tuple, tuple) and torch.allclose(as_tuple[0], smoothed.loss)


def test_no_grad_inference_matches_training_forward():
    config = small_config()
    model = VideoMambaModel(config).eval()
    pixels = clip(config)
    with torch.no_grad():
        fast = model(pixels).last_hidden_state
    with_grad = model(pixels).last_hidden_state
    assert torch.equal(fast, with_grad.detach())


@pytest.mark.parametrize(
    "shape,word",
    [
        ((2, 3, 3, 32, 32), "frames"),
        ((2, 2, 1, 32, 32), "channels"),
        ((2, 2, 3, 48, 32), "height"),
        ((2, 2, 3, 32), "4-D tensor"),
    ],
)
def test_input_validation(shape, word):
    model = VideoMambaModel(small_config())
    with pytest.raises(ValueError, match=word) as error:
        model(torch.zeros(shape))
    assert "(batch, 2, 3, 32, 32)" in str(error.value)


def test_gradient_checkpointing_gives_identical_gradients():
    config = small_config(drop_path_rate=0.3)  # drop-path masks must be replayed identically
    model = VideoMambaForVideoClassification(config).train()
    pixels, labels = clip(config), torch.tensor([0, 4])

    def grads():
        model.zero_grad()
        torch.manual_seed(123)
        model(pixels, labels=labels).loss.backward()
        return {name: p.grad.clone() for name, p in model.named_parameters()}

    plain = grads()
    model.gradient_checkpointing_enable()
    assert all(layer.gradient_checkpointing for layer in model.videomamba.layers)
    checkpointed = grads()
    for name in plain:
        assert torch.equal(plain[name], checkpointed[name]), name


def test_save_and_load_round_trip(tmp_path):
    config = small_config(dt_init="mamba")
    model = VideoMambaForVideoClassification(config).eval()
    model.save_pretrained(tmp_path)
    loaded = VideoMambaForVideoClassification.from_pretrained(tmp_path).eval()
    assert loaded.config.dt_init == "mamba" and loaded.config.d_state == 4 and loaded.config.dt_rank == 2
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    pixels = clip(config)
    with torch.no_grad():
        assert torch.equal(model(pixels).logits, loaded(pixels).logits)
    encoder = VideoMambaModel.from_pretrained(tmp_path)
    assert torch.equal(encoder.layers[1].mixer.A_b_log, model.videomamba.layers[1].mixer.A_b_log)


# ---------------------------------------------------------------- checkpoint conversion


def released_state_dict(num_classes=1000, image=True, seed=0, **config_overrides):
    """A checkpoint with the release's key names and shapes (an image model when `image`)."""
    torch.manual_seed(seed)
    model = VideoMambaForVideoClassification(small_config(**config_overrides, num_labels=num_classes))
    state = {key.removeprefix("videomamba."): value.clone() for key, value in model.state_dict().items()}
    for key, value in state.items():
        if key.endswith("A_log") or key.endswith("A_b_log") or key in ("cls_token", "temporal_pos_embedding"):
            state[key] = torch.randn_like(value)  # make sure every tensor is distinguishable from an init
    if image:
        state["patch_embed.proj.weight"] = state["patch_embed.proj.weight"][:, :, 0]  # (d, 3, 16, 16)
        del state["temporal_pos_embedding"]
    return state


@pytest.mark.parametrize("layout", ["flat", "model", "module", "safetensors"])
def test_convert_image_checkpoint(tmp_path, layout):
    config = small_config()
    state = released_state_dict()
    if layout == "safetensors":
        path = tmp_path / "ckpt.safetensors"
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        path = tmp_path / "ckpt.pth"
        torch.save(state if layout == "flat" else {layout: state, "epoch": 3}, path)

    model = VideoMambaForVideoClassification(config)
    report = load_videomamba_checkpoint(model, path)
    encoder = model.videomamba
    assert encoder.patch_embed.proj.weight.shape == (32, 3, 1, 16, 16)
    assert torch.equal(encoder.patch_embed.proj.weight[:, :, 0], state["patch_embed.proj.weight"])
    assert torch.equal(encoder.temporal_pos_embedding, torch.zeros(1, 2, 32))
    assert report.zero_initialised == ["temporal_pos_embedding"]
    for key in ("pos_embed", "cls_token", "layers.1.mixer.A_b_log", "layers.0.mixer.dt_proj_b.bias", "norm_f.weight"):
        assert torch.equal(encoder.state_dict()[key], state[key]), key
    # 1000 classes into a 5-class model: the head is dropped, not half-loaded.
    assert set(report.dropped) == {"head.weight", "head.bias"}
    assert not torch.equal(model.head.weight[:5], state["head.weight"][:5])
    assert not report.missing and not report.unexpected


def test_convert_loads_head_when_classes_match_and_encoder_drops_it():
    config = small_config()
    state = released_state_dict(num_classes=config.num_labels, image=False)
    model = VideoMambaForVideoClassification(config)
    report = load_videomamba_checkpoint(model, {"model": state})
    assert torch.equal(model.head.weight, state["head.weight"]) and not report.dropped
    assert torch.equal(model.videomamba.temporal_pos_embedding, state["temporal_pos_embedding"])

    encoder = VideoMambaModel(config)
    report = load_videomamba_checkpoint(encoder, state)
    assert set(report.dropped) == {"head.weight", "head.bias"}
    assert torch.equal(encoder.layers[0].mixer.in_proj.weight, state["layers.0.mixer.in_proj.weight"])


def test_convert_other_resolution_and_frame_count():
    state = released_state_dict(image=False, image_size=48, num_frames=4)  # 3×3 grid, 4 frames
    target = small_config(image_size=32, num_frames=2)  # 2×2 grid, 2 frames
    model = VideoMambaModel(target)
    report = load_videomamba_checkpoint(model, state)
    assert "pos_embed" in report.adapted and "temporal_pos_embedding" in report.adapted

    pos = model.pos_embed
    assert torch.equal(pos[:, 0], state["pos_embed"][:, 0])  # the CLS row is kept
    grid = state["pos_embed"][:, 1:].reshape(1, 3, 3, 32).permute(0, 3, 1, 2)
    expected = F.interpolate(grid, size=(2, 2), mode="bicubic", align_corners=False)
    assert torch.allclose(pos[0, 1:], expected.permute(0, 2, 3, 1).reshape(4, 32), atol=1e-6)
    # Linear in time with half-pixel centres: frame 0 of 2 sits halfway between source frames 0 and 1.
    temporal = state["temporal_pos_embedding"]
    assert torch.allclose(model.temporal_pos_embedding[0, 0], 0.5 * (temporal[0, 0] + temporal[0, 1]), atol=1e-6)
    assert torch.allclose(model.temporal_pos_embedding[0, 1], 0.5 * (temporal[0, 2] + temporal[0, 3]), atol=1e-6)
    with torch.no_grad():
        assert model(clip(target)).last_hidden_state.shape == (2, 9, 32)


def test_convert_inflates_at_the_temporal_centre_and_sums_rgb_for_gray():
    state = released_state_dict()
    model = VideoMambaModel(small_config(tubelet_size=2, num_frames=4, num_channels=1))
    report = load_videomamba_checkpoint(model, state)
    kernel = model.patch_embed.proj.weight  # (d, 1, 2, 16, 16)
    assert kernel.shape == (32, 1, 2, 16, 16)
    assert torch.equal(kernel[:, :, 0], torch.zeros_like(kernel[:, :, 0]))
    assert torch.allclose(kernel[:, 0, 1], state["patch_embed.proj.weight"].sum(1))
    assert "summed" in report.adapted["patch_embed.proj.weight"]


def test_convert_rejects_what_it_cannot_fix():
    state = released_state_dict(d_state=8)
    with pytest.raises(ValueError, match=r"layers\.0\.mixer\.A_log.*\(64, 8\).*\(64, 4\)"):
        load_videomamba_checkpoint(VideoMambaModel(small_config()), state)

    state = released_state_dict()
    state["layers.7.mixer.D"] = torch.ones(64)
    with pytest.raises(ValueError, match="unexpected layers.7.mixer.D"):
        load_videomamba_checkpoint(VideoMambaModel(small_config()), state)
    report = load_videomamba_checkpoint(VideoMambaModel(small_config()), state, strict=False)
    assert report.unexpected == ["layers.7.mixer.D"]

    del state["norm_f.weight"]
    with pytest.raises(ValueError, match="missing norm_f.weight"):
        load_videomamba_checkpoint(VideoMambaModel(small_config()), state)
    with pytest.raises(ValueError, match="patch_embed.proj.weight"):
        load_videomamba_checkpoint(VideoMambaModel(small_config(num_channels=2)), released_state_dict())


def test_command_line_converts_an_image_checkpoint(tmp_path, capsys):
    # the released Tiny at 2 frames of 32², 5 classes: an IN-1K-shaped file (4-D kernel, no temporal embedding)
    config = VideoMambaConfig.from_variant("tiny", num_frames=2, image_size=32, num_labels=5)
    torch.manual_seed(1)
    state = {k.removeprefix("videomamba."): v for k, v in VideoMambaForVideoClassification(config).state_dict().items()}
    state["patch_embed.proj.weight"] = state["patch_embed.proj.weight"][:, :, 0]
    del state["temporal_pos_embedding"]
    torch.save({"model": state}, tmp_path / "videomamba_t16_in1k.pth")
    main(
        [
            str(tmp_path / "videomamba_t16_in1k.pth"),
            str(tmp_path / "out"),
            "--variant",
            "tiny",
            "--num-frames",
            "2",
            "--image-size",
            "32",
            "--num-labels",
            "5",
        ]
    )
    converted = VideoMambaForVideoClassification.from_pretrained(tmp_path / "out")
    assert torch.equal(converted.videomamba.patch_embed.proj.weight[:, :, 0], state["patch_embed.proj.weight"])
    assert torch.equal(converted.head.weight, state["head.weight"])
    assert torch.equal(converted.videomamba.layers[23].mixer.A_b_log, state["layers.23.mixer.A_b_log"])
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("loaded ") and "set to zero temporal_pos_embedding" in printed


def test_read_state_dict_strips_wrappers_and_prefixes():
    tensor = torch.ones(2)
    assert read_state_dict({"module": {"module.norm_f.weight": tensor}, "step": 5}) == {"norm_f.weight": tensor}
