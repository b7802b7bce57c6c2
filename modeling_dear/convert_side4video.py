"""Convert a released Side4Video SSv2 checkpoint into DEAR's RGB encoder, its head, and (when present) the backbone.

The release stores `{"model_state_dict": {...}}` with the side network under `visual.side_*` /
`visual.transformer.side_*`, the classifier as `fc`, and (in full-model checkpoints) the frozen CLIP
in OpenAI's naming. Usage:

    python -m modeling_dear.convert_side4video --checkpoint side4video_ssv2.pth --preset s4v-rgb --output s4v-rgb-ssv2
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

SIDE_KEY_MAP = [
    (r"visual\.side_conv1\.(.+)", r"stem.\1"),
    (r"visual\.side_pre_bn3d\.(.+)", r"stem_norm.\1"),
    (r"visual\.side_post_bn\.(.+)", r"output_norm.\1"),
    (r"visual\.transformer\.side_spatial_position_embeddings", r"position_embedding"),
    (r"visual\.transformer\.side_lns\.(\d+)\.(.+)", r"tap_norms.\1.\2"),
    (r"visual\.transformer\.side_linears\.(\d+)\.(.+)", r"tap_projections.\1.\2"),
    (r"visual\.transformer\.side_transformer\.(\d+)\.bn_1\.(.+)", r"blocks.\1.temporal_norm.\2"),
    (r"visual\.transformer\.side_transformer\.(\d+)\.conv\.(\d)\.(.+)", r"blocks.\1.temporal_conv.\2.\3"),
    (r"visual\.transformer\.side_transformer\.(\d+)\.ln_1\.(.+)", r"blocks.\1.attention_norm.\2"),
    (r"visual\.transformer\.side_transformer\.(\d+)\.attn\.(in_proj_weight|in_proj_bias)", r"blocks.\1.attention.\2"),
    (r"visual\.transformer\.side_transformer\.(\d+)\.attn\.out_proj\.(.+)", r"blocks.\1.attention.out_proj.\2"),
    (r"visual\.transformer\.side_transformer\.(\d+)\.bn_2\.(.+)", r"blocks.\1.mlp_norm.\2"),
    (r"visual\.transformer\.side_transformer\.(\d+)\.mlp\.(fc1|fc2)\.(.+)", r"blocks.\1.mlp.\2.\3"),
]

# OpenAI CLIP vision tower -> transformers' CLIPVisionModel (the packed attention projection is split below)
BACKBONE_KEY_MAP = [
    (r"visual\.conv1\.weight", r"embeddings.patch_embedding.weight"),
    (r"visual\.class_embedding", r"embeddings.class_embedding"),
    (r"visual\.positional_embedding", r"embeddings.position_embedding.weight"),
    (r"visual\.ln_pre\.(.+)", r"pre_layrnorm.\1"),
    (r"visual\.ln_post\.(.+)", r"post_layernorm.\1"),
    (r"visual\.transformer\.resblocks\.(\d+)\.ln_1\.(.+)", r"encoder.layers.\1.layer_norm1.\2"),
    (r"visual\.transformer\.resblocks\.(\d+)\.ln_2\.(.+)", r"encoder.layers.\1.layer_norm2.\2"),
    (r"visual\.transformer\.resblocks\.(\d+)\.attn\.out_proj\.(.+)", r"encoder.layers.\1.self_attn.out_proj.\2"),
    (r"visual\.transformer\.resblocks\.(\d+)\.mlp\.c_fc\.(.+)", r"encoder.layers.\1.mlp.fc1.\2"),
    (r"visual\.transformer\.resblocks\.(\d+)\.mlp\.c_proj\.(.+)", r"encoder.layers.\1.mlp.fc2.\2"),
]
PACKED_BACKBONE_ATTENTION = re.compile(r"visual\.transformer\.resblocks\.(\d+)\.attn\.in_proj_(weight|bias)")
HEAD_KEY = re.compile(r"fc\.(weight|bias)")


@dataclass
class ConversionReport:
    loaded: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"loaded {len(self.loaded)} tensors, ignored {len(self.ignored)}, missing {len(self.missing)}"


def read_released_state_dict(checkpoint: str | Path | dict) -> dict[str, torch.Tensor]:
    """The model weights of a release file (`.pth`/`.pt` read with `weights_only=True`, or `.safetensors`)."""
    if isinstance(checkpoint, dict):
        state = checkpoint
    else:
        path = Path(checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"Side4Video checkpoint {path} does not exist")
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    for wrapper in ("model_state_dict", "state_dict", "model"):
        if isinstance(state.get(wrapper), dict):
            state = state[wrapper]
            break
    # checkpoints saved from DistributedDataParallel prefix every key with "module."
    return {key.removeprefix("module."): value for key, value in state.items() if isinstance(value, torch.Tensor)}


def _rename(key: str, table: list[tuple[str, str]]) -> str | None:
    for pattern, replacement in table:
        if re.fullmatch(pattern, key):
            return re.sub(pattern, replacement, key)
    return None


def convert_side4video_state_dict(released: dict[str, torch.Tensor]) -> tuple[dict, dict, dict, list[str]]:
    """Split released weights into (side network, backbone, head, unused keys), renamed to DEAR's modules."""
    side, backbone, head, unused = {}, {}, {}, []
    for key, value in released.items():
        if (new_key := _rename(key, SIDE_KEY_MAP)) is not None:
            side[new_key] = value
        elif (new_key := _rename(key, BACKBONE_KEY_MAP)) is not None:
            backbone[new_key] = value
        elif match := PACKED_BACKBONE_ATTENTION.fullmatch(key):
            layer, kind = match.groups()
            for name, chunk in zip(("q_proj", "k_proj", "v_proj"), value.chunk(3, dim=0)):
                backbone[f"encoder.layers.{layer}.self_attn.{name}.{kind}"] = chunk
        elif match := HEAD_KEY.fullmatch(key):
            head[match.group(1)] = value
        else:
            unused.append(key)
    return side, backbone, head, unused


def _load_into(module: torch.nn.Module, weights: dict, prefix: str, source: str, report: ConversionReport):
    own = module.state_dict()
    for key, value in weights.items():
        if key not in own:
            report.ignored.append(f"{prefix}{key}")
            continue
        if value.shape != own[key].shape:
            if value.numel() == own[key].numel() and key == "position_embedding":
                value = value.reshape(own[key].shape)  # stored as (1, N, D) in some exports
            else:
                raise ValueError(
                    f"{source}: {prefix}{key} has shape {tuple(value.shape)} in the checkpoint but "
                    f"{tuple(own[key].shape)} in the model; check side_hidden_size / clip_config / num_labels"
                )
        own[key] = value.to(own[key].dtype)
        report.loaded.append(f"{prefix}{key}")
    report.missing.extend(f"{prefix}{key}" for key in own if key not in weights)
    module.load_state_dict(own)


def load_side4video_checkpoint(model, checkpoint: str | Path | dict, load_backbone: bool = True) -> ConversionReport:
    """Load a released Side4Video checkpoint into the `rgb_side4video` encoder (and its head, and the backbone when present).

    The head is loaded only where the model classifies RGB with the encoder's own head (the `s4v-rgb`
    variants) and the class count matches; fused variants keep their fusion heads.
    """
    from .configuration_dear import RGB_SIDE4VIDEO

    source = str(checkpoint) if not isinstance(checkpoint, dict) else "<state dict>"
    encoder = model.dear.encoders[RGB_SIDE4VIDEO] if RGB_SIDE4VIDEO in model.dear.encoders else None
    if encoder is None:
        raise ValueError(f"{source}: this model has no RGB Side4Video encoder (encoders: {model.config.encoders})")
    side, backbone, head, unused = convert_side4video_state_dict(read_released_state_dict(checkpoint))
    if not side:
        raise ValueError(f"{source}: no Side4Video side-network keys (visual.side_*) found")
    report = ConversionReport(ignored=list(unused))
    _load_into(encoder, side, f"dear.encoders.{RGB_SIDE4VIDEO}.", source, report)
    if backbone and load_backbone and model.backbone is not None:
        _load_into(model.backbone, backbone, "dear.backbone.", source, report)
        report.missing = [key for key in report.missing if not key.startswith("dear.backbone.embeddings.position_ids")]
        model.freeze_backbone()
    elif backbone:
        report.ignored.extend(f"dear.backbone.{key}" for key in backbone)
    if head and RGB_SIDE4VIDEO in model.classifiers:
        _load_into(model.classifiers[RGB_SIDE4VIDEO], head, f"classifiers.{RGB_SIDE4VIDEO}.", source, report)
    elif head:
        report.ignored.extend(f"fc.{key}" for key in head)
    return report


def main(argv: list[str] | None = None):
    from . import DearConfig, DearForVideoClassification

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="released Side4Video checkpoint (.pth or .safetensors)")
    parser.add_argument("--preset", default="s4v-rgb", help="DEAR preset name or config file/folder (default: s4v-rgb)")
    parser.add_argument("--output", required=True, help="folder to write the DEAR model to (save_pretrained)")
    parser.add_argument("--backbone", default=None, help="CLIP weights when the checkpoint does not carry them")
    args = parser.parse_args(argv)

    model = DearForVideoClassification(DearConfig.from_preset_or_path(args.preset))
    report = load_side4video_checkpoint(model, args.checkpoint)
    if not any(key.startswith("backbone.") for key in report.loaded):
        print(f"the checkpoint carries no CLIP weights; loading the backbone from {args.backbone or model.config.clip_name_or_path}")
        model.load_pretrained_encoders(clip_name_or_path=args.backbone)
    model.save_pretrained(args.output)
    print(f"{args.checkpoint} -> {args.output}: {report}")


if __name__ == "__main__":
    main()
