# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Convert a released Side4Video SSv2 checkpoint into DEAR's RGB encoder, its head, and (when present) the backbone.

The release stores `{"model_state_dict": {...}}` with the side network under `visual.side_*` /
`visual.transformer.side_*`, the classifier as `fc`, and (in full-model checkpoints) the frozen CLIP
in OpenAI's naming (docs/architecture.md §2 lists the keys). Usage:

    python -m modeling_dear.conversion.side4video --checkpoint side4video_ssv2.pth --output s4v-rgb-ssv2

(`--preset` picks the DEAR variant to load into, `s4v-rgb` by default.)
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import torch

from .checkpoints import ConversionReport, read_checkpoint, source_name

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


def _rename(key: str, table: list[tuple[str, str]]) -> str | None:
    for pattern, replacement in table:
        if re.fullmatch(pattern, key):
            return re.sub(pattern, replacement, key)
    return None


def rename_side4video_state_dict(released: dict[str, torch.Tensor]) -> tuple[dict[str, dict], list[str]]:
    """Released weights under DEAR's module names, by part, and the released keys that map nowhere.

    Returns `({"side": …, "backbone": …, "head": …}, unused)`; each part maps a key of its module (the side
    network, `CLIPVisionModel`, the RGB classifier) to `(released key, tensor)`. OpenAI's packed attention
    projection becomes transformers' separate q, k, v projections (rows 0:C, C:2C, 2C:3C).
    """
    parts: dict[str, dict[str, tuple[str, torch.Tensor]]] = {"side": {}, "backbone": {}, "head": {}}
    unused = []
    for key, value in released.items():
        if (new_key := _rename(key, SIDE_KEY_MAP)) is not None:
            parts["side"][new_key] = (key, value)
        elif (new_key := _rename(key, BACKBONE_KEY_MAP)) is not None:
            parts["backbone"][new_key] = (key, value)
        elif match := PACKED_BACKBONE_ATTENTION.fullmatch(key):
            layer, kind = match.groups()
            for name, chunk in zip(("q_proj", "k_proj", "v_proj"), value.chunk(3, dim=0), strict=False):
                parts["backbone"][f"encoder.layers.{layer}.self_attn.{name}.{kind}"] = (key, chunk)
        elif match := HEAD_KEY.fullmatch(key):
            parts["head"][match.group(1)] = (key, value)
        else:
            unused.append(key)
    return parts, unused


def _fit(module: torch.nn.Module, weights: dict, prefix: str, report: ConversionReport) -> dict[str, torch.Tensor]:
    """`module`'s state dict with `weights` put in; every key and shape is accounted for in `report`."""
    own = module.state_dict()
    for key, (released_key, value) in weights.items():
        if key not in own:
            if released_key not in report.unexpected:  # a packed projection maps to three keys
                report.unexpected.append(released_key)
            continue
        if value.shape != own[key].shape:
            if value.numel() == own[key].numel() and key == "position_embedding":
                # stored as (1, N, D) in some exports
                report.adapted[f"{prefix}{key}"] = f"reshaped {tuple(value.shape)} -> {tuple(own[key].shape)}"
                value = value.reshape(own[key].shape)
            else:
                report.add_mismatch(f"{prefix}{key}", value.shape, own[key].shape)
                continue
        own[key] = value.to(own[key].dtype)
        report.loaded.append(f"{prefix}{key}")
    report.missing.extend(f"{prefix}{key}" for key in own if key not in weights)
    return own


def load_side4video_checkpoint(model, checkpoint: str | Path | dict, load_backbone: bool = True) -> ConversionReport:
    """Load a released Side4Video checkpoint into the `rgb_side4video` encoder, its head and (if present) the backbone.

    The head is loaded only where the model classifies RGB with the encoder's own head (the `s4v-rgb`
    variants; the class count must then match); fused variants keep their fusion heads. Every shape is
    checked before anything is loaded: on a mismatch the model is left as it was.
    """
    from ..configuration_dear import RGB_SIDE4VIDEO

    source = source_name(checkpoint)
    encoder = model.dear.encoders[RGB_SIDE4VIDEO] if RGB_SIDE4VIDEO in model.dear.encoders else None
    if encoder is None:
        raise ValueError(f"{source}: this model has no RGB Side4Video encoder (encoders: {model.config.encoders})")
    parts, unused = rename_side4video_state_dict(read_checkpoint(checkpoint, kind="Side4Video checkpoint"))
    if not parts["side"]:
        raise ValueError(f"{source}: no Side4Video side-network keys (visual.side_*) found")
    report = ConversionReport(unexpected=list(unused))
    targets = [(encoder, parts["side"], f"dear.encoders.{RGB_SIDE4VIDEO}.")]
    if parts["backbone"] and load_backbone and model.backbone is not None:
        targets.append((model.backbone, parts["backbone"], "dear.backbone."))
    else:
        why = "load_backbone=False" if model.backbone is not None else "the model has no CLIP backbone"
        report.dropped.update({released_key: why for released_key, _ in parts["backbone"].values()})
    if parts["head"] and RGB_SIDE4VIDEO in model.classifiers:
        targets.append((model.classifiers[RGB_SIDE4VIDEO], parts["head"], f"classifiers.{RGB_SIDE4VIDEO}."))
    else:
        why = "the model classifies with its fusion heads"
        report.dropped.update({released_key: why for released_key, _ in parts["head"].values()})

    states = [_fit(module, weights, prefix, report) for module, weights, prefix in targets]
    report.raise_for_mismatches(source, hint="check side_hidden_size / clip_config / num_labels")
    # a buffer the model computes itself (not saved by every transformers version)
    report.missing = [key for key in report.missing if not key.startswith("dear.backbone.embeddings.position_ids")]
    for (module, _, _), state in zip(targets, states, strict=True):
        module.load_state_dict(state)
    if any(module is model.backbone for module, _, _ in targets):
        model.freeze_backbone()
    return report


def main(argv: list[str] | None = None):
    from .. import DearConfig, DearForVideoClassification

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="released Side4Video checkpoint (.pth or .safetensors)")
    parser.add_argument("--preset", default="s4v-rgb", help="DEAR preset name or config file/folder (default: s4v-rgb)")
    parser.add_argument("--output", required=True, help="folder to write the DEAR model to (save_pretrained)")
    parser.add_argument("--backbone", default=None, help="CLIP weights when the checkpoint does not carry them")
    args = parser.parse_args(argv)

    model = DearForVideoClassification(DearConfig.from_preset_or_path(args.preset))
    report = load_side4video_checkpoint(model, args.checkpoint)
    if model.backbone is not None and not any(key.startswith("dear.backbone.") for key in report.loaded):
        source = args.backbone or model.config.clip_name_or_path
        print(f"the checkpoint carries no CLIP weights; loading the backbone from {source}")
        model.load_pretrained_encoders(clip_name_or_path=args.backbone)
    model.save_pretrained(args.output)
    print(f"{args.checkpoint} -> {args.output}: {report}")


if __name__ == "__main__":
    main()
