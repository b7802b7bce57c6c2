# Copyright 2025 The DEAR authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
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

Command line: `python -m modeling_dear.convert_videomamba CKPT OUT_DIR --variant tiny --num-labels 174`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .configuration_videomamba import VideoMambaConfig
from .modeling_videomamba import VideoMambaForVideoClassification, VideoMambaModel


# Keys that wrap the state dict in training checkpoints (DeiT/VideoMamba use "model", DeepSpeed "module").
_WRAPPER_KEYS = ("model", "module", "state_dict", "model_state")
_PREFIXES = ("module.", "videomamba.", "backbone.")


@dataclass
class ConversionReport:
    """What `load_videomamba_checkpoint` did, key by key (model-side names without the `videomamba.` prefix)."""

    loaded: list[str] = field(default_factory=list)
    adapted: dict[str, str] = field(default_factory=dict)
    zero_initialised: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"loaded {len(self.loaded)} tensors"]
        lines += [f"adapted {key}: {how}" for key, how in self.adapted.items()]
        lines += [f"left at zero {key}" for key in self.zero_initialised]
        lines += [f"dropped {key}: {why}" for key, why in self.dropped.items()]
        lines += [f"missing {key}" for key in self.missing]
        lines += [f"unexpected {key}" for key in self.unexpected]
        return "\n".join(lines)


def read_state_dict(path_or_state_dict) -> dict[str, torch.Tensor]:
    """A flat state dict from a `.pth`/`.pt`/`.bin` (read with `weights_only=True`) or `.safetensors`
    file, or from a dict, unwrapping `{"model": …}` / `{"module": …}` and `module.` prefixes."""
    if isinstance(path_or_state_dict, (str, os.PathLike)):
        path = os.fspath(path_or_state_dict)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"VideoMamba checkpoint not found: {path}")
        if path.endswith(".safetensors"):
            from safetensors.torch import load_file

            state = load_file(path, device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    else:
        state = path_or_state_dict
    if not isinstance(state, dict):
        raise ValueError(f"expected a state dict, got {type(state).__name__}")
    for key in _WRAPPER_KEYS:
        if key in state and isinstance(state[key], dict):
            state = state[key]
            break
    flat = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            continue  # optimizer steps, epochs, args stored beside the weights
        for prefix in _PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix) :]
        flat[key] = value
    if not flat:
        raise ValueError("the checkpoint holds no tensors")
    return flat


def _shape_error(key, source, target):
    return ValueError(
        f"cannot load {key!r}: checkpoint shape {tuple(source.shape)} does not fit model shape "
        f"{tuple(target.shape)}"
    )


def _adapt_patch_kernel(key, weight, target, report, sum_rgb_to_gray):
    if weight.ndim == 4:
        # Image kernel (d, C, p, p): centre of the temporal kernel, zeros elsewhere.
        depth = target.shape[2]
        inflated = weight.new_zeros(weight.shape[0], weight.shape[1], depth, *weight.shape[2:])
        inflated[:, :, depth // 2] = weight
        weight = inflated
        report.adapted[key] = f"4-D image kernel inflated to {tuple(weight.shape)} at the temporal centre"
    if weight.ndim != 5 or weight.shape[0] != target.shape[0] or weight.shape[2:] != target.shape[2:]:
        raise _shape_error(key, weight, target)
    if weight.shape[1] != target.shape[1]:
        if sum_rgb_to_gray and weight.shape[1] == 3 and target.shape[1] == 1:
            weight = weight.sum(dim=1, keepdim=True)
            report.adapted[key] = report.adapted.get(key, "loaded") + "; RGB kernel summed to 1 channel"
        else:
            raise _shape_error(key, weight, target)
    return weight


def _adapt_pos_embed(key, pos, target, report):
    # (1, 1 + g·g, d) -> (1, 1 + h·w, d); the CLS row is kept as is.
    if pos.ndim != 3 or pos.shape[-1] != target.shape[-1]:
        raise _shape_error(key, pos, target)
    source_grid = math.isqrt(pos.shape[1] - 1)
    target_grid = math.isqrt(target.shape[1] - 1)
    if source_grid**2 != pos.shape[1] - 1 or target_grid**2 != target.shape[1] - 1:
        raise _shape_error(key, pos, target)
    cls_row, grid = pos[:, :1], pos[:, 1:]
    grid = grid.reshape(1, source_grid, source_grid, -1).permute(0, 3, 1, 2).float()
    grid = F.interpolate(grid, size=(target_grid, target_grid), mode="bicubic", align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, target_grid * target_grid, -1).to(pos.dtype)
    report.adapted[key] = f"bicubic {source_grid}x{source_grid} -> {target_grid}x{target_grid} patch grid"
    return torch.cat([cls_row, grid], dim=1)


def _adapt_temporal(key, temporal, target, report):
    # (1, T_src, d) -> (1, T, d), linear in time.
    if temporal.ndim != 3 or temporal.shape[-1] != target.shape[-1]:
        raise _shape_error(key, temporal, target)
    resized = F.interpolate(
        temporal.permute(0, 2, 1).float(), size=target.shape[1], mode="linear", align_corners=False
    )
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

    state = read_state_dict(path_or_state_dict)
    report = ConversionReport()
    targets = dict(encoder.state_dict())
    if head is not None:
        targets.update({f"head.{name}": value for name, value in head.state_dict().items()})
    new_values = {}
    shape_errors = []

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
        try:
            if key == "patch_embed.proj.weight":
                value = _adapt_patch_kernel(key, value, target, report, sum_rgb_to_gray)
            elif key == "pos_embed" and value.shape != target.shape:
                value = _adapt_pos_embed(key, value, target, report)
            elif key == "temporal_pos_embedding" and value.shape != target.shape:
                value = _adapt_temporal(key, value, target, report)
            if value.shape != target.shape:
                raise _shape_error(key, value, target)
        except ValueError as error:
            shape_errors.append(str(error))
            continue
        new_values[key] = value
        report.loaded.append(key)
    if shape_errors:
        # All of them at once: one wrong hyper-parameter (say d_state) breaks many keys.
        shown = shape_errors[:8] + ([f"... and {len(shape_errors) - 8} more"] if len(shape_errors) > 8 else [])
        raise ValueError("checkpoint does not fit the model's config:\n  " + "\n  ".join(shown))

    if "temporal_pos_embedding" not in state:
        # Image checkpoints: time starts with no embedding, as in the release's image-to-video recipe.
        new_values["temporal_pos_embedding"] = torch.zeros_like(targets["temporal_pos_embedding"])
        report.zero_initialised.append("temporal_pos_embedding")

    report.missing = [
        key for key in targets if key not in new_values and (load_head or not key.startswith("head."))
    ]
    if strict and (report.missing or report.unexpected):
        raise ValueError(
            "checkpoint does not match the model: "
            + "; ".join([f"missing {k}" for k in report.missing] + [f"unexpected {k}" for k in report.unexpected])
        )

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
