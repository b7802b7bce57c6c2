# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""A small monocular depth model trained here, on synthetic scenes: the stand-in for MiDaS that a CPU machine
without internet can have (users replace it with `Intel/dpt-hybrid-midas`).

The training scenes are *not* the action clips: random layouts of 1-6 boxes and balls, standing on the ground or
floating above it, with soft shadows, under random cameras, drawn from their own seeds (`layout_seed`), one
frame each. The target is the renderer's exact inverse depth. The model is a DPT (transformers'
`DPTForDepthEstimation`: a plain ViT and DPT's reassemble/fusion neck, random init, 1.4 M parameters) trained with
MiDaS's scale-and-shift-invariant loss: per image, the prediction is aligned to the target by least squares
(scale and shift) before the squared error, plus MiDaS's multi-scale gradient-matching term on the residual. The
result is an ordinary transformers checkpoint folder (model + `DPTImageProcessor`) that
`AutoModelForDepthEstimation`, `pipeline("depth-estimation")` and `depth_estimation.DepthEstimator` load.

Errors are reported as MiDaS reports them: on held-out frames, the predicted inverse depth aligned to the true one
by least squares (scale and shift), turned into depth, then AbsRel (mean |d - d*| / d*) and delta<1.25 (share of
pixels with max(d / d*, d* / d) < 1.25).

`load_or_train_depth_model` caches the folder under a hash of `DepthModelSpec`, as the synthetic data is cached.
One module (over 300 lines) because its parts (layouts, model, loss, errors, training, cache) make one artefact
and change together: a change to any of them is a new `DEPTH_MODEL_VERSION`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

# Bump when a change alters the trained weights for the same spec (layouts, loss, model, schedule).
DEPTH_MODEL_VERSION = 1
_LAYOUT_STREAM = 0xDE97  # the layout frames' seeds are (seed, this, index): a stream of their own


@dataclass(frozen=True)
class DepthModelSpec:
    """Everything that decides the trained depth model's weights."""

    num_train_frames: int = 2000
    num_eval_frames: int = 200
    seed: int = 0
    height: int = 96
    width: int = 128
    input_size: int = 64  # the model's square input (frames are resized to it, as DPT's processor does)
    hidden_size: int = 128
    num_layers: int = 4
    fusion_size: int = 24
    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 2e-3

    def to_dict(self) -> dict:
        return {"depth_model_version": DEPTH_MODEL_VERSION, **asdict(self)}

    @property
    def cache_key(self) -> str:
        digest = hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]
        return f"depth-v{DEPTH_MODEL_VERSION}-{digest}"


# ------------------------------------------------------------------------------------------------ layouts
def layout_seed(seed: int, split: str, index: int) -> np.random.SeedSequence:
    """The seed of layout frame `index` of `split` ("train" or "eval"): a stream no action clip uses."""
    return np.random.SeedSequence([seed, _LAYOUT_STREAM, ("train", "eval").index(split), index])


def render_layout(seed, height: int = 96, width: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """One frame of a random layout: RGB (H, W, 3) uint8 and exact inverse depth (H, W) float32."""
    from .appearance import draw_appearance, draw_backdrop, make_object
    from .render import render_scene
    from .scenes import _ground_point, draw_camera

    rng = np.random.default_rng(seed)
    camera = draw_camera(rng, height, width, 1)
    backdrop = draw_backdrop(rng)
    objects = []
    for _ in range(int(rng.integers(1, 7))):
        kind = "ball" if rng.random() < 0.4 else "box"
        look = draw_appearance(rng)
        if kind == "ball":
            half = np.full(3, rng.uniform(0.05, 0.18))
        else:
            half = np.array([rng.uniform(0.04, 0.25), rng.uniform(0.04, 0.3), rng.uniform(0.04, 0.25)])
        z = rng.uniform(0.8, 3.8)
        base = _ground_point(camera, rng.uniform(-0.5, 0.5), z)
        lift = 0.0 if rng.random() < 0.6 else rng.uniform(0.05, 0.6)
        centre = base + [0.0, half[1] + lift, 0.0]
        objects.append(make_object("", kind, look, centre, half, rng.uniform(-np.pi, np.pi), 1))
    rgb, inverse_depth = render_scene(camera, backdrop, objects, shadows=True)
    return rgb[0], inverse_depth[0].astype(np.float32)


def _render_task(task):
    seed, height, width = task
    return render_layout(seed, height, width)


def render_layouts(spec: DepthModelSpec, split: str, num_proc: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(N, H, W, 3) uint8 frames and (N, H, W) float32 inverse depth of a split of layout frames."""
    count = spec.num_train_frames if split == "train" else spec.num_eval_frames
    tasks = [(layout_seed(spec.seed, split, i), spec.height, spec.width) for i in range(count)]
    if num_proc > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(num_proc, mp_context=multiprocessing.get_context(method)) as pool:
            results = list(pool.map(_render_task, tasks, chunksize=16))
    else:
        results = [_render_task(t) for t in tasks]
    return np.stack([r[0] for r in results]), np.stack([r[1] for r in results])


# --------------------------------------------------------------------------------------------- the model
def depth_model_config(spec: DepthModelSpec):
    """A DPT (MiDaS-shaped: plain ViT + reassemble/fusion neck + depth head) at a size this machine trains."""
    from transformers import DPTConfig

    hidden = spec.hidden_size
    return DPTConfig(
        hidden_size=hidden,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=4,
        intermediate_size=4 * hidden,
        image_size=spec.input_size,
        patch_size=8,
        backbone_out_indices=list(range(spec.num_layers - 4, spec.num_layers)),
        neck_hidden_sizes=[hidden // 8, hidden // 4, hidden // 2, hidden],
        reassemble_factors=[2, 1, 0.5, 0.25],  # half of DPT's: the output is at the input's size, not twice it
        fusion_hidden_size=spec.fusion_size,
        head_hidden_size=16,
        use_auxiliary_head=False,
    )


def depth_image_processor(spec: DepthModelSpec):
    from transformers import DPTImageProcessorPil

    return DPTImageProcessorPil(
        size={"height": spec.input_size, "width": spec.input_size},
        keep_aspect_ratio=False,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )


# ----------------------------------------------------------------------------------------- loss, metrics
def align_scale_shift(prediction, target, mask=None):
    """Per image, the least-squares scale s and shift t of s * prediction + t against target: (N, H, W) tensors
    in, the aligned prediction out."""
    import torch

    mask = torch.ones_like(target) if mask is None else mask.to(target.dtype)
    p, g = prediction.flatten(1), target.flatten(1)
    m = mask.flatten(1)
    a00, a01, a11 = (m * p * p).sum(1), (m * p).sum(1), m.sum(1)
    b0, b1 = (m * p * g).sum(1), (m * g).sum(1)
    determinant = (a00 * a11 - a01 * a01).clamp_min(1e-12)
    scale = (a11 * b0 - a01 * b1) / determinant
    shift = (a00 * b1 - a01 * b0) / determinant
    return prediction * scale[:, None, None] + shift[:, None, None]


def _normalise_target(target):
    """Each inverse-depth map shifted to median 0 and scaled to mean absolute deviation 1 (MiDaS's normalisation),
    so that every image weighs the same in the loss, whatever its depth range."""
    flat = target.flatten(1)
    median = flat.median(1).values[:, None]
    spread = (flat - median).abs().mean(1).clamp_min(1e-6)[:, None]
    return ((flat - median) / spread).view_as(target)


def scale_shift_invariant_loss(prediction, target, gradient_weight: float = 0.5, scales: int = 4):
    """MiDaS's loss: squared error after per-image least-squares scale-and-shift alignment, plus the multi-scale
    gradient matching of the residual (which keeps depth edges sharp)."""
    target = _normalise_target(target)
    residual = align_scale_shift(prediction, target) - target
    loss = (residual**2).mean()
    for k in range(scales):
        r = residual[:, :: 2**k, :: 2**k]
        if min(r.shape[1:]) < 2:  # too small an image for this scale's gradients
            break
        loss = (
            loss
            + gradient_weight
            * ((r[:, :, 1:] - r[:, :, :-1]).abs().mean() + (r[:, 1:] - r[:, :-1]).abs().mean())
            / scales
        )
    return loss


def depth_errors(prediction, target) -> dict:
    """AbsRel and delta<1.25 of predicted inverse depth against the true inverse depth (N, H, W), after
    least-squares scale-and-shift alignment per image (MiDaS's protocol)."""
    import torch

    prediction, target = torch.as_tensor(prediction).double(), torch.as_tensor(target).double()
    aligned = align_scale_shift(prediction, target)
    floor = target.flatten(1).min(1).values[:, None, None] * 0.5  # no negative or zero disparity
    depth = 1.0 / torch.maximum(aligned, floor)
    true_depth = 1.0 / target
    ratio = torch.maximum(depth / true_depth, true_depth / depth)
    return {
        "abs_rel": float(((depth - true_depth).abs() / true_depth).mean()),
        "delta1": float((ratio < 1.25).double().mean()),
    }


# ------------------------------------------------------------------------------------------------ training
def _predict(model, frames, preprocessing: dict):
    """The model's inverse depth at the frames' own size (N, H, W), through the preprocessing and resizing that
    `DepthEstimator.predict` uses, so that training sees what the preparation will feed it."""
    from ...depth_estimation import prepare_depth_input, resize_prediction

    pixel_values = prepare_depth_input(frames.permute(0, 3, 1, 2).float().contiguous(), preprocessing)
    return resize_prediction(model(pixel_values=pixel_values).predicted_depth, tuple(frames.shape[1:3]))


def evaluate_depth_model(model, image_processor, frames: np.ndarray, target: np.ndarray, batch_size: int = 50):
    """`depth_errors` of `model` run by `DepthEstimator` on frames (N, H, W, 3) uint8 against inverse depth."""
    import torch

    from ...depth_estimation import DepthEstimator

    estimator = DepthEstimator(model, image_processor=image_processor, device="cpu", batch_size=batch_size)
    return depth_errors(estimator.predict(frames), torch.from_numpy(np.asarray(target)))


def train_depth_model(spec: DepthModelSpec, output_dir, num_proc: int = 1, progress: bool = False) -> dict:
    """Render the layout frames, train the DPT of `spec` on them and save it with its image processor (and
    `training.json`: spec, loss curve, held-out errors, times) to `output_dir`. Returns that record."""
    import torch
    from transformers import DPTForDepthEstimation

    from ...depth_estimation import read_depth_preprocessing

    output_dir = Path(output_dir)
    began = time.perf_counter()
    train_frames, train_depth = render_layouts(spec, "train", num_proc)
    eval_frames, eval_depth = render_layouts(spec, "eval", num_proc)
    render_seconds = time.perf_counter() - began

    torch.manual_seed(spec.seed)
    model = DPTForDepthEstimation(depth_model_config(spec))
    processor = depth_image_processor(spec)
    preprocessing = read_depth_preprocessing(processor)
    frames, target = torch.from_numpy(train_frames), torch.from_numpy(train_depth)
    steps_per_epoch = math.ceil(len(frames) / spec.batch_size)
    total = steps_per_epoch * spec.epochs
    optimiser = torch.optim.AdamW(model.parameters(), lr=spec.learning_rate, weight_decay=1e-4)
    warmup = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s / total, 1.0)))
    )
    generator = torch.Generator().manual_seed(spec.seed)
    losses = []
    began = time.perf_counter()
    model.train()
    for epoch in range(spec.epochs):
        order = torch.randperm(len(frames), generator=generator)
        epoch_loss = 0.0
        for step in range(steps_per_epoch):
            index = order[step * spec.batch_size : (step + 1) * spec.batch_size]
            x, y = frames[index], target[index]
            flip = torch.rand(len(index), generator=generator) < 0.5  # mirror half of the batch
            x = torch.where(flip[:, None, None, None], x.flip(2), x)
            y = torch.where(flip[:, None, None], y.flip(2), y)
            loss = scale_shift_invariant_loss(_predict(model, x, preprocessing), y)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            epoch_loss += float(loss.detach())
        losses.append(epoch_loss / steps_per_epoch)
        if progress:
            print(f"depth model: epoch {epoch + 1}/{spec.epochs}, loss {losses[-1]:.4f}", flush=True)
    train_seconds = time.perf_counter() - began
    model.eval()
    errors = evaluate_depth_model(model, processor, eval_frames, eval_depth)
    record = {
        "spec": spec.to_dict(),
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "epoch_losses": losses,
        "held_out": {"frames": len(eval_frames), **errors},
        "seconds": {"render": render_seconds, "train": train_seconds},
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir)
    processor.save_pretrained(output_dir)
    (output_dir / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    (output_dir / "README.md").write_text(_card(record))
    return record


def _card(record: dict) -> str:
    held = record["held_out"]
    return (
        "---\nlicense: apache-2.0\npipeline_tag: depth-estimation\ntags: [dpt, depth-estimation, synthetic]\n---\n\n"
        "# A tiny DPT trained on DEAR's synthetic layouts\n\n"
        f"A `DPTForDepthEstimation` ({record['num_parameters'] / 1e6:.2f} M parameters, random init) trained by "
        "`modeling_dear.data.synthetic.depth_model` on "
        f"{record['spec']['num_train_frames']} frames of random box-and-ball layouts with the renderer's exact "
        "inverse depth, with MiDaS's scale-and-shift-invariant loss. It predicts relative inverse depth, as MiDaS does. "
        f"On {held['frames']} held-out frames, after per-image scale-and-shift alignment: AbsRel {held['abs_rel']:.3f}, "
        f"delta<1.25 {100 * held['delta1']:.1f} %. A stand-in for `Intel/dpt-hybrid-midas` on a machine that cannot "
        "download it; `training.json` has the spec and the loss curve.\n"
    )


def load_or_train_depth_model(
    spec: DepthModelSpec | None = None,
    *,
    cache_dir: str | os.PathLike,
    num_proc: int = 1,
    progress: bool = False,
) -> Path:
    """The folder of the depth model of `spec`, trained on the first call and kept under
    `cache_dir/<spec.cache_key>` (it appears there in one rename, so a reader never sees half of it)."""
    from .cache import _lock

    spec = spec or DepthModelSpec()
    root = Path(cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    final = root / spec.cache_key
    if (final / "training.json").exists():
        return final
    with _lock(root / f"{spec.cache_key}.lock"):
        if (final / "training.json").exists():
            return final
        staging = root / f"{spec.cache_key}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        train_depth_model(spec, staging, num_proc=num_proc, progress=progress)
        os.replace(staging, final)
    return final
