# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""VideoMamba configuration (the bidirectional-Mamba depth encoder of DEAR)."""

import math

from transformers import PreTrainedConfig

# Positions per block of the CPU selective scan; why 64: selective_scan.resolve_scan_block_size.
DEFAULT_SCAN_BLOCK_SIZE = 64


# Released VideoMamba sizes with their SSv2 drop-path rates (docs/videomamba.md §1, §3).
VIDEOMAMBA_VARIANTS = {
    "tiny": {"hidden_size": 192, "num_hidden_layers": 24, "drop_path_rate": 0.1},
    "small": {"hidden_size": 384, "num_hidden_layers": 24, "drop_path_rate": 0.35},
    "middle": {"hidden_size": 576, "num_hidden_layers": 32, "drop_path_rate": 0.8},
}

DT_INIT_SCHEMES = ("released", "mamba")


class VideoMambaConfig(PreTrainedConfig):
    r"""
    Configuration of a VideoMamba encoder: patch embedding of every frame, one token sequence
    `[CLS, frame 0 patches, frame 1 patches, …]` and a stack of bidirectional Mamba blocks.

    Defaults are VideoMamba-Tiny at 8 × 224² (`VideoMambaConfig.tiny()`, `.small()`, `.middle()` or
    `VideoMambaConfig.from_variant(name)` give the released sizes).

    Args:
        hidden_size (`int`, defaults to 192): token width d.
        num_hidden_layers (`int`, defaults to 24): number of bidirectional Mamba blocks.
        d_state (`int`, defaults to 16): SSM state size n per channel.
        d_conv (`int`, defaults to 4): kernel of the causal depthwise convolution.
        expand (`int`, defaults to 2): d_inner = expand · hidden_size.
        dt_rank (`int` or `"auto"`, defaults to `"auto"`): rank of the δ projection; `"auto"` is ceil(d / 16).
        image_size (`int`, defaults to 224), patch_size (`int`, defaults to 16): square frames and patches.
        num_frames (`int`, defaults to 8): frames per clip (the temporal embedding has num_frames / tubelet rows).
        num_channels (`int`, defaults to 3): input channels (3 for RGB or colour-mapped depth, 1 for raw depth).
        tubelet_size (`int`, defaults to 1): frames per patch (1 in every released SSv2 run).
        drop_path_rate (`float`, defaults to 0.1): stochastic-depth rate reached by the last block.
        rms_norm_eps (`float`, defaults to 1e-5): epsilon of the RMSNorms.
        initializer_range (`float`, defaults to 0.02): std of the truncated-normal Linear / position init.
        dt_init (`str`, defaults to `"released"`): `"released"` zeroes the δ bias like the VideoMamba release;
            `"mamba"` uses plain Mamba's δ init (log-uniform δ in [dt_min, dt_max], bias = softplus⁻¹(δ)).
        dt_min, dt_max, dt_init_floor (`float`): range and floor of the `"mamba"` δ init.
        residual_in_fp32 (`bool`, defaults to `True`): carry the residual stream in float32.
        scan_block_size (`int`, defaults to 64): positions per block of the CPU selective scan.
        use_mamba_kernels (`bool`, defaults to `True`): use `mamba_ssm` / `causal_conv1d` CUDA kernels when
            the tensors are on a GPU and the packages are installed.
    """

    model_type = "dear_videomamba"

    hidden_size: int = 192
    num_hidden_layers: int = 24
    d_state: int = 16
    d_conv: int = 4
    expand: int = 2
    dt_rank: int | str = "auto"
    image_size: int = 224
    patch_size: int = 16
    num_frames: int = 8
    num_channels: int = 3
    tubelet_size: int = 1
    drop_path_rate: float = 0.1
    rms_norm_eps: float = 1e-5
    initializer_range: float = 0.02
    dt_init: str = "released"
    dt_min: float = 0.001
    dt_max: float = 0.1
    dt_init_floor: float = 1e-4
    residual_in_fp32: bool = True
    scan_block_size: int = DEFAULT_SCAN_BLOCK_SIZE
    use_mamba_kernels: bool = True

    def __post_init__(self, **kwargs):
        if self.dt_rank == "auto":
            self.dt_rank = math.ceil(self.hidden_size / 16)
        super().__post_init__(**kwargs)
        self._check_values()

    def _check_values(self):
        positive = (
            "hidden_size",
            "num_hidden_layers",
            "d_state",
            "d_conv",
            "expand",
            "dt_rank",
            "image_size",
            "patch_size",
            "num_frames",
            "num_channels",
            "tubelet_size",
            "scan_block_size",
        )
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.image_size % self.patch_size:
            raise ValueError(f"image_size ({self.image_size}) is not divisible by patch_size ({self.patch_size})")
        if self.num_frames % self.tubelet_size:
            raise ValueError(f"num_frames ({self.num_frames}) is not divisible by tubelet_size ({self.tubelet_size})")
        if not 0.0 <= self.drop_path_rate < 1.0:
            raise ValueError(f"drop_path_rate must be in [0, 1), got {self.drop_path_rate}")
        if self.rms_norm_eps <= 0 or self.initializer_range <= 0:
            raise ValueError(
                f"rms_norm_eps and initializer_range must be positive, got {self.rms_norm_eps} and "
                f"{self.initializer_range}"
            )
        if self.dt_init not in DT_INIT_SCHEMES:
            raise ValueError(f"dt_init must be one of {DT_INIT_SCHEMES}, got {self.dt_init!r}")
        if not 0 < self.dt_min <= self.dt_max:
            raise ValueError(f"need 0 < dt_min <= dt_max, got dt_min={self.dt_min}, dt_max={self.dt_max}")

    @property
    def intermediate_size(self) -> int:
        """d_inner, the width of the Mamba mixer."""
        return self.expand * self.hidden_size

    @property
    def num_patches_per_frame(self) -> int:
        return (self.image_size // self.patch_size) ** 2

    @property
    def sequence_length(self) -> int:
        """Tokens per clip: 1 CLS + (frames / tubelet) · patches per frame (1569 for 8 × 224²)."""
        return 1 + (self.num_frames // self.tubelet_size) * self.num_patches_per_frame

    @classmethod
    def from_variant(cls, variant: str, **kwargs) -> "VideoMambaConfig":
        """A released size (`"tiny"`, `"small"` or `"middle"`); keyword arguments override its fields."""
        key = variant.lower()
        if key not in VIDEOMAMBA_VARIANTS:
            raise ValueError(f"unknown VideoMamba variant {variant!r}; choose one of {list(VIDEOMAMBA_VARIANTS)}")
        return cls(**{**VIDEOMAMBA_VARIANTS[key], **kwargs})

    @classmethod
    def tiny(cls, **kwargs) -> "VideoMambaConfig":
        return cls.from_variant("tiny", **kwargs)

    @classmethod
    def small(cls, **kwargs) -> "VideoMambaConfig":
        return cls.from_variant("small", **kwargs)

    @classmethod
    def middle(cls, **kwargs) -> "VideoMambaConfig":
        return cls.from_variant("middle", **kwargs)


__all__ = ["VIDEOMAMBA_VARIANTS", "VideoMambaConfig"]
