# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""What several benches share: peak resident memory of a step, FLOP counting and the machine's matmul rate,
SSv2-like clips, and randomly initialised stand-ins for the depth checkpoints DEAR uses. Not a bench itself.

The benches import it as a sibling module (`python bench/x.py` puts bench/ on `sys.path`); everything else they
import is the installed package (`pip install -e .`). Tiny models for smoke runs are in `modeling_dear.testing_utils`.
"""

from __future__ import annotations

import time

import numpy as np

# ---------------------------------------------------------------- peak memory (Linux /proc)

# For the subprocesses that measure memory: every allocation of 64 KiB or more gets its own mapping, returned to
# the system when freed, so that the resident set follows live tensors (why: bench/train_memory.py's docstring).
# Page faults then distort times: time steps in a process without it.
ONE_MAPPING_PER_TENSOR_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536"}


def status_kib(field: str) -> int:
    """A field of /proc/self/status in KiB, e.g. "VmRSS" (resident set now) or "VmHWM" (its high-water mark)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak_rss() -> None:
    """Reset this process's resident-set high-water mark (VmHWM) to the current resident set."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


# ---------------------------------------------------------------- FLOPs and the machine's reference rate


def matmul_gflops(dtype, size: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of a square `size`² matmul in `dtype` on the CPU (best of `repeats`, after a warm-up): the
    machine's reference rate, measured in the same run and with the same threads as what it is compared with."""
    import torch

    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    torch.mm(a, b)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def _cpu_sdpa_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    from torch.utils.flop_counter import sdpa_flop_count

    return sdpa_flop_count(query_shape, key_shape, value_shape)


def count_flops(model, inputs: dict) -> float:
    """FLOPs of one `model(**inputs)` under inference mode, counted by `torch.utils.flop_counter` (matrix
    products, convolutions and attention; element-wise work is not counted). No parameter may require a gradient:
    the counter's module tracker hooks any that does, which fails under inference mode."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    # torch 2.13 has no formula for the CPU flash-attention kernel that SDPA dispatches to here, so without
    # this the attention products of CLIP, VideoMAE and the depth models would count as zero
    counter = FlopCounterMode(
        display=False, custom_mapping={torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_sdpa_flops}
    )
    with torch.inference_mode(), counter:
        model(**inputs)
    return counter.get_total_flops()


# ---------------------------------------------------------------- SSv2-like clips


def ssv2_like_clip(seed: int, num_frames: int = 45, height: int = 240, width: int = 427):
    """RGB frames (T, H, W, 3) and a depth clip (T, H, W), both uint8, at SSv2's mean length and size. The RGB
    frames are smooth moving shapes plus sensor-like noise, so VP9 spends SSv2-like bits; the depth is smooth,
    as a depth model's output is (a table plane getting nearer towards the bottom, and the moving object in front)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi, 3)
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    depth = np.empty((num_frames, height, width), np.uint8)
    for t in range(num_frames):
        cx, cy = width * (0.3 + 0.4 * t / num_frames), height * 0.5
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 40.0**2))
        for c in range(3):
            base = 110 + 60 * np.sin(xx / (23 + 7 * c) + yy / (31 + 5 * c) + 0.15 * t + phase[c])
            frames[t, :, :, c] = np.clip(base + 90 * blob + rng.normal(0, 4, (height, width)), 0, 255)
        depth[t] = np.round(40 + 120 * yy / height + 95 * blob)
    return frames, depth


# ---------------------------------------------------------------- depth checkpoints' shapes, random weights
# * Intel/dpt-hybrid-midas (the paper's MiDaS): ViT-B/16 on a BiT-ResNet stem.
# * depth-anything/Depth-Anything-V2-Small-hf (fast, Apache-2.0): DINOv2-S/14.


def dpt_hybrid_midas_shape():
    """(DPTConfig, image processor) shaped like Intel/dpt-hybrid-midas."""
    from transformers import DPTConfig, DPTImageProcessorPil

    # ViT-B/16 (768 wide, 12 layers) on a BiT-ResNet stem (depths 3, 4, 9) whose first two stages feed the
    # neck, reassemble factors 1, 1, 1, 1/2, neck 256/512/768/768, fusion 256; square 384×384 input, mean/std 0.5.
    config = DPTConfig(
        is_hybrid=True,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        image_size=384,
        patch_size=16,
        backbone_out_indices=[2, 5, 8, 11],
        readout_type="project",
        reassemble_factors=[1, 1, 1, 0.5],
        neck_hidden_sizes=[256, 512, 768, 768],
        fusion_hidden_size=256,
        backbone_featmap_shape=[1, 1024, 24, 24],
        use_auxiliary_head=False,
    )
    processor = DPTImageProcessorPil(size={"height": 384, "width": 384}, keep_aspect_ratio=False)
    return config, processor


def depth_anything_v2_small_shape():
    """(DepthAnythingConfig, image processor) shaped like depth-anything/Depth-Anything-V2-Small-hf."""
    from transformers import DepthAnythingConfig, DPTImageProcessorPil

    # DINOv2-S/14 (384 wide, 6 heads, 12 layers, features after layers 3, 6, 9, 12), neck 48/96/192/384,
    # fusion 64, head 32; 518 target with the aspect ratio kept, multiples of 14, ImageNet mean/std.
    # A 240×427 SSv2 frame becomes 294×518, a 224×224 crop 518×518.
    config = DepthAnythingConfig(
        backbone_config={
            "model_type": "dinov2",
            "image_size": 518,
            "patch_size": 14,
            "hidden_size": 384,
            "num_attention_heads": 6,
            "num_hidden_layers": 12,
            "out_indices": [3, 6, 9, 12],
            "reshape_hidden_states": False,
        },
        reassemble_hidden_size=384,
        neck_hidden_sizes=[48, 96, 192, 384],
        fusion_hidden_size=64,
        head_hidden_size=32,
    )
    processor = DPTImageProcessorPil(
        size={"height": 518, "width": 518},
        keep_aspect_ratio=True,
        ensure_multiple_of=14,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
    )
    return config, processor


DEPTH_MODEL_SHAPES = {
    "DPT-Hybrid (MiDaS) shape": dpt_hybrid_midas_shape,
    "Depth-Anything-V2-Small shape": depth_anything_v2_small_shape,
}
