# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Tiny random models and generated frames for the tests and the benches (as `transformers.testing_utils` is for
transformers): built from configs, seeded, nothing downloaded, small enough to run in a moment on one CPU core.

No model file imports this module, so it is never copied into a saved model folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

TINY_DPT_SIZE = 32  # `tiny_dpt_config`'s square input
TINY_HYBRID_DPT_SIZE = 64  # `tiny_hybrid_dpt_config`'s square input


def smooth_moving_frames(num_frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """(T, H, W, 3) uint8 frames with smooth colour gradients sliding over time: compressible, so lossy
    codecs stay close to the source, and every frame differs from the others."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, size=3)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    for t in range(num_frames):
        for c in range(3):
            wave = np.sin(xx / (9.0 + 4 * c) + yy / (13.0 + 3 * c) + 0.35 * t + phase[c])
            frames[t, :, :, c] = np.round(127.5 + 110 * wave)
    return frames


def tiny_dpt_config():
    """A DPT (MiDaS-style, plain ViT) depth model config: 32×32 input, 4 layers of width 32."""
    from transformers import DPTConfig

    return DPTConfig(
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=37,
        image_size=TINY_DPT_SIZE,
        patch_size=8,
        backbone_out_indices=[0, 1, 2, 3],
        neck_hidden_sizes=[8, 16, 16, 32],
        fusion_hidden_size=16,
        use_auxiliary_head=False,
    )


def tiny_dpt_image_processor():
    """The image processor that goes with `tiny_dpt_config`: square 32×32 input."""
    from transformers import DPTImageProcessorPil

    return DPTImageProcessorPil(size={"height": TINY_DPT_SIZE, "width": TINY_DPT_SIZE}, keep_aspect_ratio=False)


def save_tiny_dpt(path: str | Path, seed: int = 0) -> Path:
    """A random tiny DPT and its image processor saved to `path`, laid out as a depth model checkpoint is (what
    `DepthEstimator` and `prepare_ssv2` take as a model name or path). Returns `path`."""
    import torch
    from transformers import DPTForDepthEstimation

    path = Path(path)
    torch.manual_seed(seed)
    DPTForDepthEstimation(tiny_dpt_config()).save_pretrained(path)
    tiny_dpt_image_processor().save_pretrained(path)
    return path


def tiny_depth_estimator_settings() -> dict:
    """`DearConfig` keyword arguments that bundle the tiny DPT as the model's own depth estimator (depth on the
    fly): `depth_estimator_config` and `depth_estimator_preprocessing`."""
    from .depth_estimation import read_depth_preprocessing

    return {
        "depth_estimator_config": tiny_dpt_config().to_dict(),
        "depth_estimator_preprocessing": read_depth_preprocessing(tiny_dpt_image_processor()),
    }


def tiny_hybrid_dpt_config():
    """A DPT-Hybrid config (the structure of Intel/dpt-hybrid-midas: BiT stem + ViT) at toy widths: 64×64 input,
    16-pixel patches, so a frame's aspect ratio can be kept (`DepthEstimator(keep_aspect_ratio=True)`)."""
    from transformers import DPTConfig

    return DPTConfig(
        is_hybrid=True,
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=37,
        image_size=TINY_HYBRID_DPT_SIZE,
        patch_size=16,
        backbone_out_indices=[0, 1, 2, 3],
        neck_hidden_sizes=[16, 32, 32, 32],
        fusion_hidden_size=16,
        backbone_featmap_shape=[1, 64, 4, 4],
        use_auxiliary_head=False,
        reassemble_factors=[1, 1, 1, 0.5],
        readout_type="project",
        backbone_config={
            "model_type": "bit",
            "global_padding": "same",
            "layer_type": "bottleneck",
            "depths": [1, 1, 1],
            "hidden_sizes": [16, 32, 64, 128],
            "embedding_size": 8,
            "num_groups": 4,
            "out_features": ["stage1", "stage2", "stage3"],
            "embedding_dynamic_padding": True,
        },
    )


def tiny_hybrid_dpt_image_processor():
    """The image processor that goes with `tiny_hybrid_dpt_config`: square 64×64 input."""
    from transformers import DPTImageProcessorPil

    return DPTImageProcessorPil(
        size={"height": TINY_HYBRID_DPT_SIZE, "width": TINY_HYBRID_DPT_SIZE}, keep_aspect_ratio=False
    )


def tiny_hybrid_dpt(seed: int = 0):
    """(model in eval mode, image processor) of a random tiny DPT-Hybrid."""
    import torch
    from transformers import AutoModelForDepthEstimation

    torch.manual_seed(seed)
    model = AutoModelForDepthEstimation.from_config(tiny_hybrid_dpt_config()).eval()
    return model, tiny_hybrid_dpt_image_processor()


def tiny_videomae_config():
    """A one-layer VideoMAE (32², 4 frames, 3 classes): "another model's folder" for the tests that DEAR leaves
    other video classifiers to transformers."""
    from transformers import VideoMAEConfig

    return VideoMAEConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=32,
        num_frames=4,
        num_labels=3,
    )


def tiny_dear(preset: str = "tiny", *, with_depth_estimator: bool = False, seed: int = 0, **config_kwargs):
    """A random DEAR classifier in eval mode, from a preset (the tiny ones: see `list_presets()`), with
    `config_kwargs` as overrides; `with_depth_estimator` bundles the tiny DPT so that it estimates depth itself."""
    import torch

    from .configuration_dear import DearConfig
    from .modeling_dear import DearForVideoClassification

    if with_depth_estimator:
        config_kwargs = {**tiny_depth_estimator_settings(), **config_kwargs}
    torch.manual_seed(seed)
    return DearForVideoClassification(DearConfig.from_preset(preset, **config_kwargs)).eval()


__all__ = [
    "TINY_DPT_SIZE",
    "TINY_HYBRID_DPT_SIZE",
    "save_tiny_dpt",
    "smooth_moving_frames",
    "tiny_dear",
    "tiny_depth_estimator_settings",
    "tiny_dpt_config",
    "tiny_dpt_image_processor",
    "tiny_hybrid_dpt",
    "tiny_hybrid_dpt_config",
    "tiny_hybrid_dpt_image_processor",
]
