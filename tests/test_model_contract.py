# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""DEAR against transformers' model contract: a base model under AutoModel, standard outputs in both return modes,
typed keyword arguments, eager and SDPA attention everywhere, initialisation independent of the device."""

import pytest
import torch
from transformers import AutoModel

from modeling_dear import DearConfig, DearForVideoClassification, DearModel

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_config(preset="tiny", **overrides):
    return DearConfig.from_preset(preset, num_frames=4, image_size=32, num_labels=5, **overrides)


def tiny_inputs(config, seed=0, batch_size=2):
    generator = torch.Generator().manual_seed(seed)
    shape = (batch_size, config.num_frames, 3, config.image_size, config.image_size)
    inputs = {"pixel_values": torch.randn(shape, generator=generator)}
    if config.needs_depth:
        inputs["depth_pixel_values"] = torch.randn(shape, generator=generator)
    return inputs


def open_gates(model):
    # the gates start closed (fusion = identity); open them so that fusion attention reaches the output
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("_gate"):
                parameter.fill_(0.5)
    return model


def test_base_model_under_auto_model(tmp_path):
    config = tiny_config()
    model = AutoModel.from_config(config)
    assert isinstance(model, DearModel)
    classifier = DearForVideoClassification(config)
    assert classifier.base_model is classifier.dear  # base_model_prefix names the DearModel
    assert not hasattr(model, "classifiers")
    classifier.save_pretrained(tmp_path)
    base = AutoModel.from_pretrained(tmp_path).eval()
    inputs = tiny_inputs(config)
    with torch.no_grad():
        for ours, theirs in zip(
            base(**inputs).pooler_output, classifier.eval().dear(**inputs).pooler_output, strict=True
        ):
            torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_hidden_states_and_attentions_are_tuples_of_tensors_in_both_return_modes():
    config = tiny_config()
    model = open_gates(DearForVideoClassification(config).eval())
    inputs = tiny_inputs(config)
    with torch.no_grad():
        outputs = model(**inputs, output_hidden_states=True, output_attentions=True)
        as_tuple = model(**inputs, output_hidden_states=True, output_attentions=True, return_dict=False)
    clip_layers, side_blocks = config.clip_config.num_hidden_layers, config.clip_config.num_hidden_layers
    # every encoder: embedding + each layer; each stream: both sides after each layer
    expected_hidden = (
        2 * (side_blocks + 1) + (config.videomamba_config.num_hidden_layers + 1) + 2 * 2 * config.fusion_num_layers
    )
    # CLIP once per modality it reads (rgb, depth), both side networks, both directions of each fusion layer
    expected_attentions = 2 * clip_layers + 2 * side_blocks + 2 * 2 * config.fusion_num_layers
    assert isinstance(outputs.hidden_states, tuple) and len(outputs.hidden_states) == expected_hidden
    assert all(isinstance(h, torch.Tensor) for h in outputs.hidden_states)
    assert isinstance(outputs.attentions, tuple) and len(outputs.attentions) == expected_attentions
    for weights in outputs.attentions:
        assert weights.ndim == 4  # (batch·, heads, queries, keys), rows summing to one
        torch.testing.assert_close(weights.sum(-1), torch.ones_like(weights.sum(-1)))
    assert len(as_tuple) == len(outputs.to_tuple())
    for ours, theirs in zip(as_tuple, outputs.to_tuple(), strict=True):
        if isinstance(ours, torch.Tensor):
            torch.testing.assert_close(ours, theirs)
        elif isinstance(ours, tuple):
            assert len(ours) == len(theirs)
    with torch.no_grad():
        plain = model(**inputs, return_dict=False)
    assert len(plain) == 2  # logits, stream_logits: nothing asked for, nothing returned


def test_misspelt_or_unknown_arguments_raise():
    config = tiny_config("tiny-s4v-rgb")
    model = DearForVideoClassification(config).eval()
    inputs = tiny_inputs(config)
    labels = torch.tensor([0, 1])
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['lables'\]"):
        model(**inputs, lables=labels)
    with pytest.raises(TypeError, match=r"\['depth_pixel_value'\]"):
        model.dear(**inputs, depth_pixel_value=inputs["pixel_values"])
    with pytest.raises(TypeError, match=r"\['flow_pixel_values'\]"):  # no encoder reads a "flow" modality
        model(**inputs, flow_pixel_values=inputs["pixel_values"])
    # what Trainer and the processor pass is accepted
    outputs = model(**inputs, labels=labels, num_items_in_batch=torch.tensor(2), frame_indices=torch.zeros(2, 4))
    assert torch.isfinite(outputs.loss)
    assert DearForVideoClassification.accepts_loss_kwargs is False


def count_sdpa_calls(monkeypatch):
    calls = []
    original = torch.nn.functional.scaled_dot_product_attention

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", counting)
    return calls


@pytest.mark.parametrize("preset", ["tiny", "tiny-dear-rgb-depth"])
def test_eager_and_sdpa_reach_every_attention_and_agree(preset, tmp_path, monkeypatch):
    config = tiny_config(preset)
    torch.manual_seed(0)
    open_gates(DearForVideoClassification(config)).save_pretrained(tmp_path)
    inputs = tiny_inputs(config)
    sdpa = DearForVideoClassification.from_pretrained(tmp_path, attn_implementation="sdpa").eval()
    eager = DearForVideoClassification.from_pretrained(tmp_path, attn_implementation="eager").eval()
    assert sdpa.config._attn_implementation == "sdpa" and sdpa.config.clip_config._attn_implementation == "sdpa"
    assert eager.config._attn_implementation == "eager" and eager.config.clip_config._attn_implementation == "eager"

    calls = count_sdpa_calls(monkeypatch)
    with torch.no_grad():
        eager_logits = eager(**inputs).logits
    assert calls == []  # eager: not one attention module (CLIP, side networks, fusion) ran SDPA
    with torch.no_grad():
        sdpa_logits = sdpa(**inputs).logits
    clip_layers = config.clip_config.num_hidden_layers
    side_networks = sum(config.encoder_spec(name)["type"] == "side4video" for name in config.encoders)
    fusion_blocks = 2 * config.fusion_num_layers * len(config.active_streams)
    # SDPA: every one of them did (CLIP once, on the RGB and depth frames together)
    assert len(calls) == clip_layers + side_networks * clip_layers + fusion_blocks
    torch.testing.assert_close(sdpa_logits, eager_logits, rtol=1e-5, atol=1e-5)

    # attention weights always come from the eager path, also on an SDPA model, and it stays SDPA afterwards
    with torch.no_grad():
        weighted = sdpa(**inputs, output_attentions=True)
    assert weighted.attentions and all(w is not None for w in weighted.attentions)
    torch.testing.assert_close(weighted.logits, eager_logits, rtol=1e-5, atol=1e-5)
    assert sdpa.config.clip_config._attn_implementation == "sdpa"


def test_backbone_runs_once_on_all_modalities_with_the_outputs_of_separate_runs():
    config = tiny_config("tiny-dear-rgb-depth")
    model = DearForVideoClassification(config).eval()
    inputs = tiny_inputs(config)
    runs = []
    model.backbone.embeddings.register_forward_hook(lambda module, args, kwargs_or_output: runs.append(1))
    with torch.no_grad():
        together = model(**inputs, output_hidden_states=True).encoder_hidden_states
    assert len(runs) == 1
    with torch.no_grad():
        for name, modality in (("rgb_side4video", "pixel_values"), ("depth_side4video", "depth_pixel_values")):
            states, _ = model.dear._backbone_outputs(inputs[modality], output_attentions=False)
            alone = model.dear.encoders[name](inputs[modality], backbone_hidden_states=states).last_hidden_state
            torch.testing.assert_close(together[name], alone, rtol=0, atol=1e-6)


def test_meta_device_construction_then_init_weights_equals_normal_construction():
    config = tiny_config()
    torch.manual_seed(0)
    normal = DearForVideoClassification(config)
    with torch.device("meta"):
        late = DearForVideoClassification(config)
    late.to_empty(device="cpu")
    torch.manual_seed(1)
    late.init_weights()
    expected = dict(normal.named_parameters()) | dict(normal.named_buffers())
    actual = dict(late.named_parameters()) | dict(late.named_buffers())
    assert expected.keys() == actual.keys()
    for name, reference in expected.items():
        value = actual[name]
        if reference.numel() < 256 or not reference.is_floating_point() or reference.float().std() == 0:
            if not reference.is_floating_point() or reference.numel() == 1 or reference.float().std() == 0:
                # constants (norm weights, biases set to zero, closed gates, buffers) are equal exactly
                torch.testing.assert_close(value, reference, rtol=0, atol=0, msg=name)
            continue
        # random weights: the same distribution (a 25% margin covers sampling noise at these sizes)
        assert abs(value.std().item() / reference.std().item() - 1) < 0.25, (name, value.std(), reference.std())
        assert (
            abs(value.mean().item() - reference.mean().item()) < 6 * reference.std().item() * reference.numel() ** -0.5
        ), name


def test_input_embeddings_are_the_frames_patch_embedding():
    model = DearForVideoClassification(tiny_config())
    assert model.get_input_embeddings() is model.backbone.embeddings.patch_embedding
    assert model.dear.get_input_embeddings() is model.get_input_embeddings()
    videomamba_only = DearForVideoClassification(tiny_config("tiny-depth-videomamba"))
    assert videomamba_only.get_input_embeddings() is (
        videomamba_only.dear.encoders["depth_videomamba"].videomamba.patch_embed
    )


def test_a_peft_lora_adapter_on_the_frozen_clip_trains_saves_and_reloads(tmp_path):
    peft = pytest.importorskip("peft")
    config = tiny_config("tiny-s4v-rgb")
    torch.manual_seed(0)
    base = DearForVideoClassification(config)
    base.save_pretrained(tmp_path / "base")
    lora = peft.LoraConfig(r=4, lora_alpha=8, target_modules=r".*backbone\..*self_attn\.(q_proj|v_proj)")
    model = peft.get_peft_model(base, lora)
    trainable = {name: p for name, p in model.named_parameters() if p.requires_grad}
    layers = config.clip_config.num_hidden_layers
    assert len(trainable) == 2 * 2 * layers and all("backbone" in name and "lora_" in name for name in trainable)
    before = {name: p.detach().clone() for name, p in trainable.items()}
    inputs = tiny_inputs(config)
    optimizer = torch.optim.AdamW(trainable.values(), lr=1e-2)
    # in eval mode, so that the side networks' BatchNorm statistics stay those saved with the base model: the base and
    # the adapter alone then give back this model exactly
    model.eval()
    model(**inputs, labels=torch.tensor([0, 1])).loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for name, p in trainable.items() if "lora_B" in name)
    optimizer.step()
    assert any(not torch.equal(p, before[name]) for name, p in trainable.items())
    with torch.no_grad():
        expected = model(**inputs).logits
    model.save_pretrained(tmp_path / "adapter")
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
    reloaded = peft.PeftModel.from_pretrained(
        DearForVideoClassification.from_pretrained(tmp_path / "base"), tmp_path / "adapter"
    ).eval()
    with torch.no_grad():
        torch.testing.assert_close(reloaded(**inputs).logits, expected, rtol=0, atol=1e-6)
        # the adapter changed what the model computes
        assert not torch.allclose(
            DearForVideoClassification.from_pretrained(tmp_path / "base")(**inputs).logits, expected
        )


def test_backbone_states_read_layer_by_layer_are_clips_own_hidden_states():
    config = tiny_config("tiny-s4v-rgb")
    model = DearForVideoClassification(config).eval()
    frames = tiny_inputs(config)["pixel_values"]
    with torch.no_grad():
        ours, _ = model.dear._backbone_outputs(frames, output_attentions=False)
        theirs = model.backbone(pixel_values=frames.flatten(0, 1), output_hidden_states=True).hidden_states
    assert len(ours) == len(theirs) == config.clip_config.num_hidden_layers + 1
    for mine, reference in zip(ours, theirs, strict=True):
        torch.testing.assert_close(mine, reference, rtol=0, atol=0)


@pytest.mark.slow  # compiling the training graph takes ~40 s on 2 idle cores
def test_torch_compile_fullgraph_for_inference_and_training():
    """One graph, no break: CLIP's per-layer states are read without transformers' output capturing (whose lock
    Dynamo cannot trace), the label check does not branch on values, the side BatchNorms skip their re-run guard."""
    config = tiny_config("tiny-s4v-rgb")
    torch.manual_seed(0)
    model = DearForVideoClassification(config).eval()
    compiled = torch.compile(model, fullgraph=True)
    inputs = tiny_inputs(config)
    with torch.no_grad():
        torch.testing.assert_close(compiled(**inputs).logits, model(**inputs).logits, rtol=1e-4, atol=1e-5)
    model.train()
    labels = torch.tensor([0, 3])
    loss = compiled(**inputs, labels=labels).loss
    loss.backward()
    gradients = {name: p.grad.clone() for name, p in model.named_parameters() if p.requires_grad}
    model.zero_grad()
    eager = model(**inputs, labels=labels).loss
    eager.backward()
    torch.testing.assert_close(eager, loss, rtol=1e-4, atol=1e-5)
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            torch.testing.assert_close(parameter.grad, gradients[name], rtol=1e-3, atol=1e-5, msg=name)
