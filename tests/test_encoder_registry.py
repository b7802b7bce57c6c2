"""A fourth encoder, defined here and nowhere in the package: registered, fused with RGB, trained, saved, reloaded.
README "Adding an encoder" shows the same steps."""

import pytest
import torch
from torch import nn
from transformers import AutoModelForVideoClassification

from modeling_dear import DearConfig, DearEncoder, DearEncoderOutput, DearForVideoClassification, register_encoder

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@register_encoder("frame_difference")
class FrameDifferenceEncoder(DearEncoder):
    """Motion from differences of consecutive frames: one patch embedding per difference, then a LayerNorm."""

    def __init__(self, config, modality, hidden_size=16, patch_size=8):
        super().__init__()
        self.modality = modality
        self.hidden_size = hidden_size
        self.embed = nn.Conv3d(config.num_channels, hidden_size, (1, patch_size, patch_size), (1, patch_size, patch_size))
        self.norm = nn.LayerNorm(hidden_size)

    def forward(self, pixel_values, backbone_hidden_states=None, output_hidden_states=False, output_attentions=False, attn_implementation="sdpa"):
        differences = pixel_values[:, 1:] - pixel_values[:, :-1]  # (B, T-1, C, H, W)
        tokens = self.norm(self.embed(differences.transpose(1, 2)).flatten(2).transpose(1, 2))  # (B, (T-1)·N, D)
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
        num_labels=5,
        **overrides,
    )


def clips(seed, batch_size=2):
    return torch.randn(batch_size, 4, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


def test_fourth_encoder_fuses_with_rgb_trains_saves_and_reloads(tmp_path):
    config = config_with({"frame_difference": {"type": "frame_difference", "modality": "rgb", "hidden_size": 24}})
    assert config.active_streams == ["frame_difference"] and config.modalities == ["rgb"]
    torch.manual_seed(0)
    model = DearForVideoClassification(config).train()
    encoder = model.dear.encoders["frame_difference"]
    assert isinstance(encoder, FrameDifferenceEncoder) and encoder.hidden_size == 24
    assert model.dear.fusion["frame_difference"].depth_projection.in_features == 24

    inputs = {"pixel_values": clips(1), "labels": torch.tensor([0, 3])}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    before = encoder.embed.weight.detach().clone()
    outputs = model(**inputs, output_hidden_states=True)
    outputs.loss.backward()
    assert encoder.embed.weight.grad.abs().sum() > 0  # through the fusion stream's projection into the loss
    optimizer.step()
    assert not torch.equal(encoder.embed.weight, before)
    assert outputs.encoder_hidden_states["frame_difference"].shape == (2, 3 * 16, 24)

    model.eval()
    model.save_pretrained(tmp_path)
    reloaded = AutoModelForVideoClassification.from_pretrained(tmp_path).eval()
    assert reloaded.config.encoder_configs == config.encoder_configs
    with torch.no_grad():
        torch.testing.assert_close(reloaded(pixel_values=clips(2)).logits, model(pixel_values=clips(2)).logits, rtol=0, atol=1e-6)


def test_an_encoder_of_a_new_modality_takes_its_own_input():
    config = config_with({"flow_diff": {"type": "frame_difference", "modality": "flow"}})
    assert config.modalities == ["rgb", "flow"]
    model = DearForVideoClassification(config).eval()
    with torch.no_grad():
        with_flow = model(pixel_values=clips(1), flow_pixel_values=clips(2)).logits
        other_flow = model(pixel_values=clips(1), flow_pixel_values=clips(3)).logits
    assert with_flow.shape == (2, 5) and not torch.equal(with_flow, other_flow)  # closed gates: its own head still reads it
    with pytest.raises(ValueError, match="`flow_pixel_values` is required"):
        model(pixel_values=clips(1))
    with pytest.raises(ValueError, match="different batch sizes"):
        model(pixel_values=clips(1), flow_pixel_values=clips(2, batch_size=3))


def test_unregistered_or_malformed_encoders_are_refused():
    config = config_with({"mystery": {"type": "not_registered", "modality": "rgb"}})
    with pytest.raises(ValueError, match=r"type 'not_registered', which no class is registered for.*@register_encoder\('not_registered'\)"):
        DearForVideoClassification(config)
    with pytest.raises(ValueError, match=r"needs a 'type' .* and a 'modality'"):
        config_with({"mystery": {"modality": "rgb"}})
    with pytest.raises(ValueError, match="unknown encoder 'mystery'"):
        DearConfig.from_preset("tiny-s4v-rgb", encoders=["rgb_side4video", "mystery"])
    with pytest.raises(ValueError, match=r"encoder_configs describes \['ghost'\]"):
        DearConfig.from_preset("tiny-s4v-rgb", encoder_configs={"ghost": {"type": "frame_difference", "modality": "rgb"}})
