# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`dear-predict`: classify a video with a saved DEAR model from the command line.

    python -m modeling_dear.cli.predict VIDEO --model DIR [--top-k 5] [--visualize OUT_PREFIX] [--precision auto]
    dear-predict VIDEO --model DIR ...

Prints the top-k labels with their scores, best first (for a model with label sets, under each set's name, then
the top actions for verb and noun sets). With `--visualize`, also writes OUT_PREFIX.png (a grid:
one row per frame the model saw, RGB | colour-mapped depth) and OUT_PREFIX.gif (the same pairs, animated).
The model folder needs the `DearVideoProcessor` saved beside the model; depth comes from the model's bundled
depth estimator, or from `--depth` (a depth video aligned with VIDEO) for models without one. A model with an
encoder of another modality takes its video as `--input MODALITY=VIDEO` (e.g. `--input flow=clip_flow.mp4`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

import numpy as np
import torch

from ..depth_estimation import save_depth_visualization
from ..pipeline_dear import PRECISIONS, frames_from_pixel_values, resolve_precision
from ..video_transforms import colormap_lut


def _depth_from_colors(colored: np.ndarray, colormap: str) -> np.ndarray:
    """Colour-mapped depth (T, H, W, 3) uint8 → the uint8 levels it was mapped from (the map's inverse)."""
    lut = colormap_lut(colormap).astype(np.int64)
    keys = (lut[:, 0] << 16) | (lut[:, 1] << 8) | lut[:, 2]
    order = np.argsort(keys, kind="stable")
    packed = (colored[..., 0].astype(np.int64) << 16) | (colored[..., 1].astype(np.int64) << 8) | colored[..., 2]
    position = np.clip(np.searchsorted(keys[order], packed), 0, 255)
    return order[position].astype(np.uint8)


def seen_frames_and_depth(pipe, model_inputs, with_depth: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """The first view's frames (T, H, W, 3) as the model saw them, and their uint8 depth (T, H, W); depth is None
    for a model that uses no depth (RGB only), or when `with_depth` is False. Depth the model estimates itself is
    estimated again here, under the caller's autocast if any."""
    processor, model = pipe.image_processor, pipe.model
    pixel_values = model_inputs["pixel_values"][:1]
    frames = frames_from_pixel_values(pixel_values[0], processor.image_mean, processor.image_std)
    if not with_depth:
        return frames, None
    if "depth_pixel_values" in model_inputs:
        colored = frames_from_pixel_values(
            model_inputs["depth_pixel_values"][0], processor.image_mean, processor.image_std
        )
        return frames, _depth_from_colors(colored, processor.depth_colormap)
    if not model.config.needs_depth:
        return frames, None
    if getattr(model, "depth_estimator", None) is None:
        raise ValueError(
            "the model has no depth estimator and no depth was given: pass --depth <depth video> to show depth"
        )
    with torch.no_grad():
        depth = model.estimate_depth(pixel_values.to(device=model.device, dtype=model.dtype))
    return frames, depth[0].cpu().numpy()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dear-predict", description="Top-k action labels of a video with a saved DEAR model."
    )
    parser.add_argument("video", help="video file (WebM, MP4, ...)")
    parser.add_argument(
        "--model", required=True, help="folder (or Hub id) holding the model and its DearVideoProcessor"
    )
    parser.add_argument("--top-k", type=int, default=5, help="how many labels to print (default 5)")
    parser.add_argument(
        "--mode",
        choices=("val", "test"),
        default="val",
        help="'val': one centre clip (default); 'test': average the processor's clips x crops views",
    )
    parser.add_argument("--depth", help="depth video aligned with VIDEO, for models that bundle no depth estimator")
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="MODALITY=VIDEO",
        help="the video of another modality the model reads (its config.modalities), aligned with VIDEO; repeatable",
    )
    parser.add_argument(
        "--visualize", metavar="OUT_PREFIX", help="write OUT_PREFIX.png and OUT_PREFIX.gif: RGB | depth"
    )
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default cpu)")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="auto (default): bf16 autocast where the device runs bf16 natively (CPUs with avx512_bf16/amx_bf16, "
        "CUDA), else fp32; fp32 for the exact fp32 scores",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def save_rgb_visualization(
    frames: np.ndarray, path_png: Path, path_gif: Path, max_rows: int = 8, fps: float = 4
) -> None:
    """The frames alone (a model without depth): a PNG grid of at most `max_rows` frames and an animated GIF."""
    from PIL import Image

    rows = np.unique(np.linspace(0, len(frames) - 1, num=min(max_rows, len(frames))).round().astype(int))
    Image.fromarray(np.concatenate(list(frames[rows]), axis=0)).save(path_png)
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(path_gif, save_all=True, append_images=images[1:], duration=max(20, int(round(1000 / fps))), loop=0)


class UsageError(ValueError):
    """A command-line value that cannot work, reported in one line."""


def check_device(name: str) -> str:
    """`name` as a torch device this machine has, or `UsageError` saying what to pass instead."""
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise UsageError(f"--device {name}: not a torch device; use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"--device {name}: CUDA is not available on this machine; use --device cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise UsageError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise UsageError(f"--device {name}: MPS is not available on this machine; use --device cpu")
    if device.type not in ("cpu", "cuda", "mps"):
        raise UsageError(f"--device {name}: only cpu, cuda and mps are supported")
    return name


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # importing this module ran the package's __init__, which registered "dear-video-classification"
    from transformers import pipeline

    from ..model_sources import check_model_source, check_model_type, folder_model_type
    from ..video_io import VideoDecodingError

    try:
        check_device(args.device)
        check_model_source(args.model, "--model")
        check_model_type(folder_model_type(args.model), f"--model {args.model}")
        # A local folder that carries a user's encoder (save_pretrained wrote it there, with modeling_dear_custom.py)
        # can only be built by running that code: the folder named on this command line is trusted to, as
        # from_pretrained(folder, trust_remote_code=True) would be.
        carries_code = Path(args.model, "modeling_dear_custom.py").is_file()
        try:
            pipe = pipeline(
                "dear-video-classification",
                model=args.model,
                device=args.device,
                precision=args.precision,
                trust_remote_code=carries_code or None,
            )
        except OSError as error:
            if Path(args.model).expanduser().exists():
                raise
            # transformers' several lines about the connection, without the name it could not fetch
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise UsageError(
                f"--model {args.model}: not a local folder, and not loadable from the Hub ({reason}): give a saved "
                "model's folder, or a Hub id this machine can reach"
            ) from None
        config = pipe.model.config
        if config.needs_depth and args.depth is None and not config.estimates_depth:
            raise UsageError(
                f"--model {args.model} has depth encoders {config.encoders} but bundles no depth estimator: "
                "pass --depth <depth video> (aligned with VIDEO)"
            )
        others = {}
        for item in args.input:
            modality, _, path = item.partition("=")
            if not path or not modality.isidentifier() or modality in ("rgb", "depth"):
                raise UsageError(
                    f"--input {item}: expected MODALITY=VIDEO for a modality besides rgb and depth (--depth)"
                )
            others[modality] = path
        unknown = [m for m in others if m not in pipe.other_modalities]
        if unknown:
            raise UsageError(f"--input: the model reads no modality {unknown}; its modalities are {config.modalities}")
        missing = [m for m in pipe.other_modalities if m not in others]
        if missing:
            raise UsageError(
                f"--model {args.model} has encoders that read {missing}: pass "
                + " ".join(f"--input {m}=<{m} video>" for m in missing)
                + " (aligned with VIDEO)"
            )
        model_inputs = pipe.preprocess(args.video, mode=args.mode, depth=args.depth, **others)
        _, _, postprocess_params = pipe._sanitize_parameters(top_k=args.top_k, mode=args.mode)
        results = pipe.postprocess(pipe.forward(model_inputs, **pipe._forward_params), **postprocess_params)
    except (VideoDecodingError, ValueError, OSError, TypeError) as error:
        print(f"dear-predict: error: {error}", file=sys.stderr)
        return 1

    # the predictions first: a visualisation that fails must not cost them
    indices = model_inputs["frame_indices"][0].tolist()
    if args.json:
        print(json.dumps({"video": args.video, "frame_indices": indices, "predictions": results}))
    else:
        print(f"{args.video}: frames {', '.join(map(str, indices))}")
        # a model with label sets gives each set's top-k (and the top actions) by name
        groups = results.items() if isinstance(results, dict) else [(None, results)]
        for group, ranked in groups:
            if group is not None:
                print(f"{group}:")
            for rank, result in enumerate(ranked, start=1):
                print(f"{rank:>3}. {result['score']:.4f}  {result['label']}")
    if args.visualize:
        try:
            autocast_dtype = resolve_precision(args.precision, pipe.device)
            with (
                torch.autocast(pipe.device.type, dtype=autocast_dtype)
                if autocast_dtype is not None
                else contextlib.nullcontext()
            ):
                frames, depth = seen_frames_and_depth(pipe, model_inputs)
            prefix = Path(args.visualize)
            prefix.parent.mkdir(parents=True, exist_ok=True)
            png, gif = prefix.with_name(prefix.name + ".png"), prefix.with_name(prefix.name + ".gif")
            if depth is None:
                save_rgb_visualization(frames, png, gif)
            else:
                save_depth_visualization(frames, depth, png, gif, colormap=pipe.image_processor.depth_colormap, fps=4)
        except (ValueError, OSError) as error:
            print(f"dear-predict: error: --visualize: {error}", file=sys.stderr)
            return 1
        what = "RGB only: the model uses no depth" if depth is None else "RGB | depth"
        print(f"wrote {png} and {gif} ({what})", file=sys.stderr if args.json else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
