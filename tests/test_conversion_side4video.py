# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The Side4Video converter on checkpoint files written here with the released key names."""

import pytest
import torch

from modeling_dear import DearConfig, DearForVideoClassification
from modeling_dear.conversion.side4video import load_side4video_checkpoint, main

LAYERS, WIDTH, CLIP_WIDTH, PATCH, GRID, CLASSES = 3, 32, 48, 8, 4, 5


def released_side4video_state(with_clip: bool, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Random tensors under the release's names and shapes (docs/architecture.md §2), as DDP saved them."""

    def r(*shape):
        return torch.randn(*shape, generator=generator)

    def batch_norm(prefix):
        return {
            f"{prefix}.weight": r(WIDTH),
            f"{prefix}.bias": r(WIDTH),
            f"{prefix}.running_mean": r(WIDTH),
            f"{prefix}.running_var": r(WIDTH).abs() + 0.5,
            f"{prefix}.num_batches_tracked": torch.tensor(7),
        }

    state = {"visual.side_conv1.weight": r(WIDTH, 3, 3, PATCH, PATCH), "visual.side_conv1.bias": r(WIDTH)}
    state |= batch_norm("visual.side_pre_bn3d") | batch_norm("visual.side_post_bn")
    state["visual.transformer.side_spatial_position_embeddings"] = r(GRID * GRID, WIDTH)
    for k in range(LAYERS):
        state |= {
            f"visual.transformer.side_lns.{k}.weight": r(CLIP_WIDTH),
            f"visual.transformer.side_lns.{k}.bias": r(CLIP_WIDTH),
        }
        state |= {
            f"visual.transformer.side_linears.{k}.weight": r(WIDTH, CLIP_WIDTH),
            f"visual.transformer.side_linears.{k}.bias": r(WIDTH),
        }
        block = f"visual.transformer.side_transformer.{k}"
        state |= batch_norm(f"{block}.bn_1") | batch_norm(f"{block}.bn_2")
        state |= {f"{block}.conv.0.weight": r(WIDTH, WIDTH, 1, 1, 1), f"{block}.conv.0.bias": r(WIDTH)}
        state |= {f"{block}.conv.1.weight": r(WIDTH, 1, 3, 1, 1), f"{block}.conv.1.bias": r(WIDTH)}
        state |= {f"{block}.conv.2.weight": r(WIDTH, WIDTH, 1, 1, 1), f"{block}.conv.2.bias": r(WIDTH)}
        state |= {f"{block}.ln_1.weight": r(WIDTH), f"{block}.ln_1.bias": r(WIDTH)}
        state |= {f"{block}.attn.in_proj_weight": r(3 * WIDTH, WIDTH), f"{block}.attn.in_proj_bias": r(3 * WIDTH)}
        state |= {f"{block}.attn.out_proj.weight": r(WIDTH, WIDTH), f"{block}.attn.out_proj.bias": r(WIDTH)}
        state |= {f"{block}.mlp.fc1.weight": r(4 * WIDTH, WIDTH), f"{block}.mlp.fc1.bias": r(4 * WIDTH)}
        state |= {f"{block}.mlp.fc2.weight": r(WIDTH, 4 * WIDTH), f"{block}.mlp.fc2.bias": r(WIDTH)}
    state |= {"fc.weight": r(CLASSES, WIDTH), "fc.bias": r(CLASSES)}
    if with_clip:  # OpenAI CLIP's vision tower, as full-model checkpoints carry it
        state |= {
            "visual.conv1.weight": r(CLIP_WIDTH, 3, PATCH, PATCH),
            "visual.class_embedding": r(CLIP_WIDTH),
            "visual.positional_embedding": r(GRID * GRID + 1, CLIP_WIDTH),
            "visual.proj": r(CLIP_WIDTH, 32),
        }
        for name in ("ln_pre", "ln_post"):
            state |= {f"visual.{name}.weight": r(CLIP_WIDTH), f"visual.{name}.bias": r(CLIP_WIDTH)}
        for k in range(LAYERS):
            block = f"visual.transformer.resblocks.{k}"
            for name in ("ln_1", "ln_2"):
                state |= {f"{block}.{name}.weight": r(CLIP_WIDTH), f"{block}.{name}.bias": r(CLIP_WIDTH)}
            state |= {
                f"{block}.attn.in_proj_weight": r(3 * CLIP_WIDTH, CLIP_WIDTH),
                f"{block}.attn.in_proj_bias": r(3 * CLIP_WIDTH),
            }
            state |= {
                f"{block}.attn.out_proj.weight": r(CLIP_WIDTH, CLIP_WIDTH),
                f"{block}.attn.out_proj.bias": r(CLIP_WIDTH),
            }
            state |= {
                f"{block}.mlp.c_fc.weight": r(2 * CLIP_WIDTH, CLIP_WIDTH),
                f"{block}.mlp.c_fc.bias": r(2 * CLIP_WIDTH),
            }
            state |= {
                f"{block}.mlp.c_proj.weight": r(CLIP_WIDTH, 2 * CLIP_WIDTH),
                f"{block}.mlp.c_proj.bias": r(CLIP_WIDTH),
            }
        state["transformer.resblocks.0.ln_1.weight"] = r(16)  # the text tower, which the converter must ignore
    return {f"module.{key}": value for key, value in state.items()}


def tiny_config(preset="tiny-s4v-rgb"):
    return DearConfig.from_preset(
        preset, image_size=GRID * PATCH, num_frames=4, id2label={i: str(i) for i in range(CLASSES)}
    )


@pytest.fixture
def released_file(tmp_path):
    state = released_side4video_state(with_clip=True, generator=torch.Generator().manual_seed(0))
    path = tmp_path / "side4video_ssv2.pth"
    torch.save({"model_state_dict": state, "epoch": 30}, path)
    return path, {key.removeprefix("module."): value for key, value in state.items()}


def test_every_released_tensor_lands_in_its_module(released_file):
    path, released = released_file
    model = DearForVideoClassification(tiny_config())
    report = load_side4video_checkpoint(model, path)
    side, backbone = model.dear.encoders["rgb_side4video"], model.backbone

    assert torch.equal(side.stem.weight, released["visual.side_conv1.weight"])
    assert torch.equal(side.stem_norm.running_var, released["visual.side_pre_bn3d.running_var"])
    assert torch.equal(side.output_norm.bias, released["visual.side_post_bn.bias"])
    assert torch.equal(side.position_embedding, released["visual.transformer.side_spatial_position_embeddings"])
    assert torch.equal(side.tap_projections[2].weight, released["visual.transformer.side_linears.2.weight"])
    assert torch.equal(side.tap_norms[1].bias, released["visual.transformer.side_lns.1.bias"])
    block, prefix = side.blocks[1], "visual.transformer.side_transformer.1"
    assert torch.equal(block.temporal_norm.weight, released[f"{prefix}.bn_1.weight"])
    assert torch.equal(block.temporal_conv[1].weight, released[f"{prefix}.conv.1.weight"])
    assert torch.equal(block.attention.in_proj_weight, released[f"{prefix}.attn.in_proj_weight"])
    assert torch.equal(block.attention.out_proj.bias, released[f"{prefix}.attn.out_proj.bias"])
    assert torch.equal(block.mlp_norm.running_mean, released[f"{prefix}.bn_2.running_mean"])
    assert torch.equal(block.mlp.fc2.weight, released[f"{prefix}.mlp.fc2.weight"])
    assert torch.equal(model.classifiers["rgb_side4video"].weight, released["fc.weight"])

    # OpenAI's packed attention becomes transformers' q/k/v projections, in that order
    q, k, v = released["visual.transformer.resblocks.2.attn.in_proj_weight"].chunk(3)
    attention = backbone.encoder.layers[2].self_attn
    assert torch.equal(attention.q_proj.weight, q) and torch.equal(attention.v_proj.weight, v)
    assert torch.equal(
        attention.k_proj.bias, released["visual.transformer.resblocks.2.attn.in_proj_bias"][CLIP_WIDTH : 2 * CLIP_WIDTH]
    )
    assert torch.equal(backbone.embeddings.class_embedding, released["visual.class_embedding"])
    assert torch.equal(
        backbone.encoder.layers[0].mlp.fc1.weight, released["visual.transformer.resblocks.0.mlp.c_fc.weight"]
    )
    assert torch.equal(backbone.post_layernorm.weight, released["visual.ln_post.weight"])

    assert report.missing == [] and report.dropped == {} and report.mismatched == {}
    assert set(report.unexpected) == {"visual.proj", "transformer.resblocks.0.ln_1.weight"}
    assert not any(p.requires_grad for p in backbone.parameters())


def test_converted_backbone_computes_like_openai_clip(released_file):
    """The renamed CLIP must compute what the OpenAI layout computes: check one block by hand."""
    path, released = released_file
    model = DearForVideoClassification(tiny_config())
    load_side4video_checkpoint(model, path)
    tokens = torch.randn(2, GRID * GRID + 1, CLIP_WIDTH)
    prefix = "visual.transformer.resblocks.0"
    reference_attention = torch.nn.MultiheadAttention(
        CLIP_WIDTH, model.config.clip_config.num_attention_heads, batch_first=True
    )
    reference_attention.load_state_dict(
        {
            "in_proj_weight": released[f"{prefix}.attn.in_proj_weight"],
            "in_proj_bias": released[f"{prefix}.attn.in_proj_bias"],
            "out_proj.weight": released[f"{prefix}.attn.out_proj.weight"],
            "out_proj.bias": released[f"{prefix}.attn.out_proj.bias"],
        }
    )

    def layer_norm(x, name):
        return torch.nn.functional.layer_norm(
            x, (CLIP_WIDTH,), released[f"{prefix}.{name}.weight"], released[f"{prefix}.{name}.bias"]
        )

    with torch.no_grad():
        h = layer_norm(tokens, "ln_1")
        x = tokens + reference_attention(h, h, h, need_weights=False)[0]
        hidden = layer_norm(x, "ln_2") @ released[f"{prefix}.mlp.c_fc.weight"].T + released[f"{prefix}.mlp.c_fc.bias"]
        hidden = hidden * torch.sigmoid(1.702 * hidden)  # QuickGELU
        expected = x + hidden @ released[f"{prefix}.mlp.c_proj.weight"].T + released[f"{prefix}.mlp.c_proj.bias"]
        actual = model.backbone.encoder.layers[0](tokens, attention_mask=None)
        actual = actual[0] if isinstance(actual, tuple) else actual
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)


def test_fused_variant_keeps_its_fusion_heads(released_file):
    path, released = released_file
    model = DearForVideoClassification(tiny_config("tiny-dear-rgb-depth"))
    depth_before = model.dear.encoders["depth_side4video"].stem.weight.clone()
    report = load_side4video_checkpoint(model, path)
    assert torch.equal(model.dear.encoders["rgb_side4video"].stem.weight, released["visual.side_conv1.weight"])
    assert torch.equal(model.dear.encoders["depth_side4video"].stem.weight, depth_before)
    assert set(report.dropped) == {"fc.weight", "fc.bias"}


def test_wrong_width_names_the_key_and_both_shapes(released_file):
    path, _ = released_file
    model = DearForVideoClassification(
        DearConfig.from_preset(
            "tiny-s4v-rgb",
            image_size=32,
            num_frames=4,
            side_hidden_size=64,
            id2label={i: str(i) for i in range(CLASSES)},
        )
    )
    with pytest.raises(
        ValueError,
        match=r"dear\.encoders\.rgb_side4video\.stem\.weight has shape \(32, 3, 3, 8, 8\) in the checkpoint but \(64, 3, 3, 8, 8\)",
    ):
        load_side4video_checkpoint(model, path)


def test_not_a_side4video_checkpoint(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"model": {"layers.0.weight": torch.zeros(2)}}, path)
    with pytest.raises(ValueError, match="no Side4Video side-network keys"):
        load_side4video_checkpoint(DearForVideoClassification(tiny_config()), path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_side4video_checkpoint(DearForVideoClassification(tiny_config()), tmp_path / "missing.pth")


def test_command_line_writes_a_loadable_model(released_file, tmp_path):
    path, released = released_file
    tiny_config().to_json_file(tmp_path / "tiny.json")
    main(["--checkpoint", str(path), "--preset", str(tmp_path / "tiny.json"), "--output", str(tmp_path / "converted")])
    reloaded = DearForVideoClassification.from_pretrained(tmp_path / "converted")
    assert torch.equal(
        reloaded.dear.encoders["rgb_side4video"].blocks[0].mlp.fc1.weight,
        released["visual.transformer.side_transformer.0.mlp.fc1.weight"],
    )
    assert torch.equal(reloaded.backbone.embeddings.class_embedding, released["visual.class_embedding"])


def test_command_line_keeps_the_clip_the_checkpoint_carries(released_file, tmp_path):
    """A checkpoint with CLIP weights needs no other backbone source: the config's is never read."""
    path, released = released_file
    config = tiny_config()
    config.clip_name_or_path = str(tmp_path / "no-clip-here")  # would fail if anything tried to load it
    config.to_json_file(tmp_path / "tiny.json")
    main(["--checkpoint", str(path), "--preset", str(tmp_path / "tiny.json"), "--output", str(tmp_path / "converted")])
    reloaded = DearForVideoClassification.from_pretrained(tmp_path / "converted")
    assert torch.equal(
        reloaded.backbone.encoder.layers[1].mlp.fc2.weight, released["visual.transformer.resblocks.1.mlp.c_proj.weight"]
    )


def test_command_line_loads_clip_from_elsewhere_when_the_checkpoint_has_none(tmp_path):
    side_only = released_side4video_state(with_clip=False, generator=torch.Generator().manual_seed(1))
    torch.save({"model_state_dict": side_only}, tmp_path / "side_only.pth")
    clip = DearForVideoClassification(tiny_config()).backbone
    clip.save_pretrained(tmp_path / "clip")
    tiny_config().to_json_file(tmp_path / "tiny.json")
    main(
        [
            "--checkpoint",
            str(tmp_path / "side_only.pth"),
            "--preset",
            str(tmp_path / "tiny.json"),
            "--output",
            str(tmp_path / "converted"),
            "--backbone",
            str(tmp_path / "clip"),
        ]
    )
    reloaded = DearForVideoClassification.from_pretrained(tmp_path / "converted")
    assert torch.equal(reloaded.backbone.embeddings.class_embedding, clip.embeddings.class_embedding)
    assert torch.equal(
        reloaded.dear.encoders["rgb_side4video"].stem.weight, side_only["module.visual.side_conv1.weight"]
    )


def test_a_shape_mismatch_loads_nothing(released_file):
    path, _ = released_file
    torch.manual_seed(0)
    model = DearForVideoClassification(
        DearConfig.from_preset(
            "tiny-s4v-rgb", image_size=32, num_frames=4, id2label={i: str(i) for i in range(CLASSES + 1)}
        )
    )
    before = {key: value.clone() for key, value in model.state_dict().items()}
    # only the head (6 classes against the checkpoint's 5) does not fit; the side network and CLIP would
    with pytest.raises(ValueError, match=r"classifiers\.rgb_side4video\.weight has shape \(5, 32\) in the checkpoint"):
        load_side4video_checkpoint(model, path)
    assert all(torch.equal(value, before[key]) for key, value in model.state_dict().items())
