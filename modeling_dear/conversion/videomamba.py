# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Load released VideoMamba checkpoints (image or video) into `VideoMambaModel` / `VideoMambaForVideoClassification`.

The release's key names are the model's own, so the map is plain; what needs work is the geometry:

* image checkpoints have a 4-D patch kernel (d, C, p, p): it is inflated to (d, C, t, p, p) at the temporal
  centre (zeros elsewhere; with tubelet 1 it is an unsqueeze);
* another resolution: `pos_embed` is resized bicubically over the patch grid, keeping the CLS row;
* another frame count: `temporal_pos_embedding` is resized linearly; an image checkpoint has none and the
  model's stays zero;
* another class count: the head is dropped (left at its fresh initialisation);
* 3-channel kernels into a 1-channel model: summed over the RGB axis (grey input = R = G = B).

Anything else that differs (width, d_state, dt_rank, channels otherwise) cannot be repaired and raises a
ValueError naming the key and both shapes.

Key names and recipe: docs/videomamba.md §4. Command line:
`python -m modeling_dear.conversion.videomamba CKPT OUT_DIR --variant tiny --num-labels 174`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..configuration_videomamba import VideoMambaConfig
from ..modeling_videomamba import VideoMambaForVideoClassification, VideoMambaModel
from .checkpoints import DDP_PREFIX, ConversionReport, read_checkpoint, source_name

# Prefixes of the release's training wrappers, stripped in this order (DDP, then the model attribute names).
_PREFIXES = (DDP_PREFIX, "videomamba.", "backbone.")


def read_state_dict(path_or_state_dict) -> dict[str, torch.Tensor]:
    """A flat VideoMamba state dict from a file or a dict (`read_checkpoint`, also stripping `videomamba.` and
    `backbone.` prefixes)."""
    return read_checkpoint(path_or_state_dict, kind="VideoMamba checkpoint", strip_prefixes=_PREFIXES)


# The _adapt_* functions return the tensor changed to fit `target`, or None where it cannot be made to fit.


def _adapt_patch_kernel(key, weight, target, report, sum_rgb_to_gray):
    if weight.ndim == 4:
        # Image kernel (d, C, p, p): centre of the temporal kernel, zeros elsewhere.
        depth = target.shape[2]
        inflated = weight.new_zeros(weight.shape[0], weight.shape[1], depth, *weight.shape[2:])
        inflated[:, :, depth // 2] = weight
        weight = inflated
        report.adapted[key] = f"4-D image kernel inflated to {tuple(weight.shape)} at the temporal centre"
    if weight.ndim != 5 or weight.shape[0] != target.shape[0] or weight.shape[2:] != target.shape[2:]:
        return None
    if weight.shape[1] != target.shape[1]:
        if sum_rgb_to_gray and weight.shape[1] == 3 and target.shape[1] == 1:
            weight = weight.sum(dim=1, keepdim=True)
            report.adapted[key] = report.adapted.get(key, "loaded") + "; RGB kernel summed to 1 channel"
        else:
            return None
    return weight


def _adapt_pos_embed(key, pos, target, report):
    # (1, 1 + g·g, d) -> (1, 1 + h·w, d); the CLS row is kept as is.
    if pos.ndim != 3 or pos.shape[-1] != target.shape[-1]:
        return None
    source_grid = math.isqrt(pos.shape[1] - 1)
    target_grid = math.isqrt(target.shape[1] - 1)
    if source_grid**2 != pos.shape[1] - 1 or target_grid**2 != target.shape[1] - 1:
        return None
    cls_row, grid = pos[:, :1], pos[:, 1:]
    grid = grid.reshape(1, source_grid, source_grid, -1).permute(0, 3, 1, 2).float()
    grid = F.interpolate(grid, size=(target_grid, target_grid), mode="bicubic", align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, target_grid * target_grid, -1).to(pos.dtype)
    report.adapted[key] = f"bicubic {source_grid}x{source_grid} -> {target_grid}x{target_grid} patch grid"
    return torch.cat([cls_row, grid], dim=1)


def _adapt_temporal(key, temporal, target, report):
    # (1, T_src, d) -> (1, T, d), linear in time.
    if temporal.ndim != 3 or temporal.shape[-1] != target.shape[-1]:
        return None
    resized = F.interpolate(temporal.permute(0, 2, 1).float(), size=target.shape[1], mode="linear", align_corners=False)
    report.adapted[key] = f"linear {temporal.shape[1]} -> {target.shape[1]} frames"
    return resized.permute(0, 2, 1).to(temporal.dtype)


@torch.no_grad()
def load_videomamba_checkpoint(
    model: VideoMambaModel | VideoMambaForVideoClassification,
    path_or_state_dict,
    strict: bool = True,
    sum_rgb_to_gray: bool = True,
) -> ConversionReport:
    """Copy a released VideoMamba checkpoint into `model` in place and report what was done.

    Args:
        model: a `VideoMambaModel` (the head, if any, is dropped) or `VideoMambaForVideoClassification`.
        path_or_state_dict: `.pth` / `.safetensors` path, or a state dict (flat or wrapped).
        strict: raise if the checkpoint lacks an encoder weight, or holds keys the model does not have.
            Adaptations listed in the module docstring are never errors.
        sum_rgb_to_gray: allow summing a 3-channel patch kernel for a 1-channel model.
    """
    if isinstance(model, VideoMambaForVideoClassification):
        encoder, head = model.videomamba, model.head
    elif isinstance(model, VideoMambaModel):
        encoder, head = model, None
    else:
        raise TypeError(f"expected a VideoMambaModel or VideoMambaForVideoClassification, got {type(model).__name__}")

    source = source_name(path_or_state_dict)
    state = read_state_dict(path_or_state_dict)
    report = ConversionReport()
    targets = dict(encoder.state_dict())
    if head is not None:
        targets.update({f"head.{name}": value for name, value in head.state_dict().items()})
    new_values = {}

    head_state = {key: value for key, value in state.items() if key.startswith("head.")}
    load_head = False
    if head is None:
        for key in head_state:
            report.dropped[key] = "the encoder has no classification head"
    elif not head_state:
        report.dropped["head"] = "the checkpoint has no head; the model's keeps its fresh initialisation"
    elif any(key in targets and value.shape != targets[key].shape for key, value in head_state.items()):
        classes = head_state["head.weight"].shape[0] if "head.weight" in head_state else "?"
        for key in head_state:
            report.dropped[key] = f"{classes} classes in the checkpoint, {head.out_features} in the model"
    else:
        load_head = True

    for key, value in state.items():
        if key in head_state and not load_head:
            continue
        if key not in targets:
            report.unexpected.append(key)
            continue
        target = targets[key]
        adapted = value
        if key == "patch_embed.proj.weight":
            adapted = _adapt_patch_kernel(key, value, target, report, sum_rgb_to_gray)
        elif key == "pos_embed" and value.shape != target.shape:
            adapted = _adapt_pos_embed(key, value, target, report)
        elif key == "temporal_pos_embedding" and value.shape != target.shape:
            adapted = _adapt_temporal(key, value, target, report)
        if adapted is None or adapted.shape != target.shape:
            report.add_mismatch(key, value.shape, target.shape)
            continue
        new_values[key] = adapted
        report.loaded.append(key)
    # all of them at once: one wrong hyper-parameter (say d_state) breaks many keys
    report.raise_for_mismatches(source)

    if "temporal_pos_embedding" not in state:
        # Image checkpoints: time starts with no embedding, as in the release's image-to-video recipe.
        new_values["temporal_pos_embedding"] = torch.zeros_like(targets["temporal_pos_embedding"])
        report.zero_initialised.append("temporal_pos_embedding")

    report.missing = [key for key in targets if key not in new_values and (load_head or not key.startswith("head."))]
    if strict:
        report.raise_if_incomplete(source)

    encoder_values = {k: v for k, v in new_values.items() if not k.startswith("head.")}
    encoder.load_state_dict(encoder_values, strict=False)
    if head is not None:
        head_values = {k[len("head.") :]: v for k, v in new_values.items() if k.startswith("head.")}
        head.load_state_dict(head_values, strict=False)
    return report


def convert_videomamba_checkpoint(
    checkpoint_path: str,
    output_dir: str,
    config: VideoMambaConfig | None = None,
    classification: bool = True,
) -> ConversionReport:
    """Convert a released checkpoint to a `save_pretrained` folder for the given config."""
    config = config if config is not None else VideoMambaConfig.tiny()
    model_class = VideoMambaForVideoClassification if classification else VideoMambaModel
    model = model_class(config)
    report = load_videomamba_checkpoint(model, checkpoint_path)
    model.save_pretrained(output_dir)
    return report


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="released .pth or .safetensors file")
    parser.add_argument("output_dir")
    parser.add_argument("--variant", default="tiny", choices=["tiny", "small", "middle"])
    parser.add_argument("--num-frames", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--num-channels", type=int, default=3)
    parser.add_argument("--num-labels", type=int, default=174)
    parser.add_argument("--encoder-only", action="store_true", help="save a VideoMambaModel without a head")
    args = parser.parse_args(argv)
    config = VideoMambaConfig.from_variant(
        args.variant,
        num_frames=args.num_frames,
        image_size=args.image_size,
        num_channels=args.num_channels,
        num_labels=args.num_labels,
    )
    report = convert_videomamba_checkpoint(args.checkpoint, args.output_dir, config, not args.encoder_only)
    print(report.summary())


if __name__ == "__main__":
    main()


__all__ = [
    "ConversionReport",
    "convert_videomamba_checkpoint",
    "load_videomamba_checkpoint",
    "read_state_dict",
]
