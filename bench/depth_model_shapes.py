"""Randomly initialised stand-ins for the two depth checkpoints DEAR uses, built from configs (no download):
their configs and image processors, shared by the benches.

* Intel/dpt-hybrid-midas (the paper's MiDaS): ViT-B/16 on a BiT-ResNet stem.
* depth-anything/Depth-Anything-V2-Small-hf (fast, Apache-2.0): DINOv2-S/14.
"""

from __future__ import annotations


def dpt_hybrid_midas_shape():
    """(DPTConfig, image processor) shaped like Intel/dpt-hybrid-midas."""
    from transformers import DPTConfig
    from transformers.models.dpt.image_processing_pil_dpt import DPTImageProcessorPil

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
    from transformers import DepthAnythingConfig
    from transformers.models.dpt.image_processing_pil_dpt import DPTImageProcessorPil

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
