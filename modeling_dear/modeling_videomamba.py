# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""VideoMamba: an isotropic stack of bidirectional Mamba blocks over all frames' tokens (Li et al., 2024).

Parameter names follow the public release (`patch_embed.proj`, `cls_token`, `pos_embed`,
`temporal_pos_embedding`, `layers.{i}.norm`, `layers.{i}.mixer.*`, `norm_f`, `head`) so that released
checkpoints load with a plain key map (see `conversion/videomamba.py`).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import BaseModelOutputWithPooling, ImageClassifierOutput

from .configuration_videomamba import VideoMambaConfig
from .selective_scan import get_causal_conv1d_fn, selective_scan


def _at_least_fp32(tensor: torch.Tensor) -> torch.Tensor:
    # The SSM parameters enter the scan in fp32 even in a bf16 model; fp64 (tests) is kept.
    return tensor if tensor.dtype == torch.float64 else tensor.float()


class VideoMambaRMSNorm(nn.Module):
    def __init__(self, hidden_size: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(torch.float32)
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states.to(input_dtype)

    def extra_repr(self):
        return f"{tuple(self.weight.shape)}, eps={self.variance_epsilon}"


class VideoMambaDropPath(nn.Module):
    """Stochastic depth per sample, rescaled by 1 / keep so the expectation is unchanged."""

    def __init__(self, drop_prob: float = 0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return hidden_states
        keep_prob = 1.0 - self.drop_prob
        shape = (hidden_states.shape[0],) + (1,) * (hidden_states.ndim - 1)
        mask = hidden_states.new_empty(shape).bernoulli_(keep_prob).div_(keep_prob)
        return hidden_states * mask

    def extra_repr(self):
        return f"p={self.drop_prob}"


class VideoMambaPatchEmbeddings(nn.Module):
    """Per-frame (tubelet) patchify with a Conv3d of kernel = stride = (tubelet, patch, patch), no norm."""

    def __init__(self, config: VideoMambaConfig):
        super().__init__()
        self.proj = nn.Conv3d(
            config.num_channels,
            config.hidden_size,
            kernel_size=(config.tubelet_size, config.patch_size, config.patch_size),
            stride=(config.tubelet_size, config.patch_size, config.patch_size),
        )

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        # (B, C, T, H, W) -> (B, d, T', h, w) -> (B, T', h·w, d)
        embeddings = self.proj(pixel_values)
        return embeddings.flatten(3).permute(0, 2, 3, 1)


class VideoMambaMixer(nn.Module):
    """Bidirectional Mamba mixer: shared in/out projections, one conv + SSM per direction.

    The backward direction runs on the time-reversed x and z and is reversed back; the two directions
    are summed (no halving) before `out_proj`.
    """

    def __init__(self, config: VideoMambaConfig, layer_idx: int):
        super().__init__()
        self.layer_idx = layer_idx
        self.hidden_size = config.hidden_size
        self.intermediate_size = config.intermediate_size
        self.ssm_state_size = config.d_state
        self.conv_kernel_size = config.d_conv
        self.dt_rank = config.dt_rank
        self.scan_block_size = config.scan_block_size
        self.use_mamba_kernels = config.use_mamba_kernels

        d_inner, n, rank = self.intermediate_size, self.ssm_state_size, self.dt_rank
        self.in_proj = nn.Linear(self.hidden_size, 2 * d_inner, bias=False)

        self.conv1d = self._make_conv(d_inner, config.d_conv)
        self.x_proj = nn.Linear(d_inner, rank + 2 * n, bias=False)
        self.dt_proj = nn.Linear(rank, d_inner, bias=True)
        self.A_log = nn.Parameter(torch.empty(d_inner, n))
        self.D = nn.Parameter(torch.empty(d_inner))

        self.conv1d_b = self._make_conv(d_inner, config.d_conv)
        self.x_proj_b = nn.Linear(d_inner, rank + 2 * n, bias=False)
        self.dt_proj_b = nn.Linear(rank, d_inner, bias=True)
        self.A_b_log = nn.Parameter(torch.empty(d_inner, n))
        self.D_b = nn.Parameter(torch.empty(d_inner))

        self.out_proj = nn.Linear(d_inner, self.hidden_size, bias=False)

    @staticmethod
    def _make_conv(channels: int, kernel_size: int) -> nn.Conv1d:
        # Depthwise, padded on both sides; the output is cut to the first L positions to make it causal.
        return nn.Conv1d(channels, channels, kernel_size, groups=channels, padding=kernel_size - 1, bias=True)

    def directions(self):
        """(conv1d, x_proj, dt_proj, A_log, D) of the forward then the backward direction."""
        return (
            (self.conv1d, self.x_proj, self.dt_proj, self.A_log, self.D),
            (self.conv1d_b, self.x_proj_b, self.dt_proj_b, self.A_b_log, self.D_b),
        )

    def ssm(self, x, z, conv1d, x_proj, dt_proj, A_log, D):
        """One direction: causal conv + SiLU, input-dependent (δ, B, C), selective scan gated by z.

        x, z: (B, d_inner, L) -> (B, d_inner, L).
        """
        seq_len = x.shape[-1]
        conv_fn = get_causal_conv1d_fn() if (self.use_mamba_kernels and x.is_cuda) else None
        if conv_fn is not None:
            x = conv_fn(x, conv1d.weight.squeeze(1), conv1d.bias, activation="silu")
        else:
            x = F.silu(conv1d(x)[..., :seq_len])

        x_dbl = x_proj(x.transpose(1, 2))  # (B, L, dt_rank + 2n)
        dt, B, C = torch.split(x_dbl, [self.dt_rank, self.ssm_state_size, self.ssm_state_size], dim=-1)
        # The dt bias is left to the scan, which adds it before the softplus (as the CUDA kernel does).
        delta = F.linear(dt, dt_proj.weight).transpose(1, 2)  # (B, d_inner, L)
        A = -torch.exp(_at_least_fp32(A_log))  # (d_inner, n)
        return selective_scan(
            x,
            delta,
            A,
            B.transpose(1, 2),  # (B, n, L)
            C.transpose(1, 2),
            _at_least_fp32(D),
            z,
            _at_least_fp32(dt_proj.bias),
            delta_softplus=True,
            block_size=self.scan_block_size,
            use_kernel=self.use_mamba_kernels,
        )

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        # (B, L, d) -> (B, d_inner, L) twice, channels-first as the conv and the scan want it.
        x, z = self.in_proj(hidden_states).transpose(1, 2).chunk(2, dim=1)
        forward_params, backward_params = self.directions()
        y_forward = self.ssm(x, z, *forward_params)
        y_backward = self.ssm(x.flip(-1), z.flip(-1), *backward_params)
        # out_proj has no bias, so summing before it equals summing the two projected directions.
        return self.out_proj((y_forward + y_backward.flip(-1)).transpose(1, 2))


def block_drop_path_rates(config: VideoMambaConfig) -> list[float]:
    """Stochastic-depth rate of each block, as the release sets them: `inter_dpr = [0.0] + linspace(0, r, depth)`
    and block i gets `inter_dpr[i]`. Block i's drop path acts on mixer i − 1's output (see `VideoMambaBlock`), so
    block 0 (which adds nothing) and block 1 get 0, and the last block gets linspace(0, r, depth)[-2]. Computed in
    Python, not with torch.linspace, so that building on the meta device works."""
    depth = config.num_hidden_layers
    linspace = [config.drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]
    return ([0.0] + linspace)[:depth]


class VideoMambaBlock(GradientCheckpointingLayer):
    """add → RMSNorm → bidirectional mixer, with the residual stream carried separately (in fp32).

    Block i adds the drop-path'd output of mixer i − 1 to the residual before normalising; the model adds
    the last mixer's output after the loop.
    """

    def __init__(self, config: VideoMambaConfig, layer_idx: int, drop_path: float = 0.0):
        super().__init__()
        self.layer_idx = layer_idx
        self.residual_in_fp32 = config.residual_in_fp32
        self.norm = VideoMambaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.mixer = VideoMambaMixer(config, layer_idx)
        self.drop_path = VideoMambaDropPath(drop_path)

    def forward(
        self, hidden_states: torch.Tensor, residual: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        residual = hidden_states if residual is None else residual + self.drop_path(hidden_states)
        hidden_states = self.norm(residual.to(self.norm.weight.dtype))
        if self.residual_in_fp32:
            residual = residual.to(torch.float32)
        hidden_states = self.mixer(hidden_states)
        return hidden_states, residual


class VideoMambaPreTrainedModel(PreTrainedModel):
    config_class = VideoMambaConfig
    config: VideoMambaConfig
    base_model_prefix = "videomamba"
    main_input_name = "pixel_values"
    input_modalities = "video"
    supports_gradient_checkpointing = True
    _no_split_modules = ["VideoMambaBlock"]
    # no attention at all, so any attention implementation a composite model (DEAR) asks for is satisfied
    _supports_sdpa = True

    @torch.no_grad()
    def _init_weights(self, module):
        """The VideoMamba release's initialisation (docs/videomamba.md §3).

        Children are initialised before their parents, so the mixer re-initialises `out_proj` (and, with
        `dt_init="mamba"`, `dt_proj`) after the generic Linear rule has run on them.
        """
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            init.trunc_normal_(module.weight, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, (nn.Conv1d, nn.Conv3d)):
            # The release keeps PyTorch's default conv init: kaiming-uniform(a=√5), bias U(±1/√fan_in).
            init.kaiming_uniform_(module.weight, a=math.sqrt(5))
            if module.bias is not None:
                bound = 1.0 / math.sqrt(module.weight[0].numel())
                init.uniform_(module.bias, -bound, bound)
        elif isinstance(module, VideoMambaRMSNorm):
            init.ones_(module.weight)
        elif isinstance(module, VideoMambaMixer):
            self._init_mixer(module)
        elif isinstance(module, VideoMambaModel):
            init.zeros_(module.cls_token)
            init.trunc_normal_(module.pos_embed, std=std)
            init.zeros_(module.temporal_pos_embedding)

    def _init_mixer(self, module: "VideoMambaMixer"):
        config = self.config
        # S4D-real: A = −(1, 2, …, n) in every channel.
        A = torch.arange(1, module.ssm_state_size + 1, dtype=torch.float32, device=module.A_log.device)
        A_log = torch.log(A).expand(module.intermediate_size, -1)
        for name in ("A_log", "A_b_log"):
            init.copy_(getattr(module, name), A_log)
        init.ones_(module.D)
        init.ones_(module.D_b)
        # kaiming-uniform(a=√5) divided by √depth, i.e. U(±1/√(fan_in·depth)), applied in one step so a
        # second call cannot shrink the weights twice.
        bound = 1.0 / math.sqrt(module.intermediate_size * config.num_hidden_layers)
        init.uniform_(module.out_proj.weight, -bound, bound)
        if config.dt_init == "mamba":
            for dt_proj in (module.dt_proj, module.dt_proj_b):
                dt_std = config.dt_rank**-0.5
                init.uniform_(dt_proj.weight, -dt_std, dt_std)
                log_min, log_max = math.log(config.dt_min), math.log(config.dt_max)
                dt = torch.exp(
                    torch.rand(module.intermediate_size, device=dt_proj.bias.device) * (log_max - log_min) + log_min
                ).clamp(min=config.dt_init_floor)
                # softplus⁻¹(dt) = dt + log(1 − exp(−dt)), so that softplus(bias) starts at dt.
                init.copy_(dt_proj.bias, dt + torch.log(-torch.expm1(-dt)))


class VideoMambaModel(VideoMambaPreTrainedModel):
    """VideoMamba encoder: (B, T, C, H, W) frames → (B, 1 + T·N, d) final tokens and the CLS token."""

    def __init__(self, config: VideoMambaConfig):
        super().__init__(config)
        num_patches = config.num_patches_per_frame
        num_temporal = config.num_frames // config.tubelet_size
        self.patch_embed = VideoMambaPatchEmbeddings(config)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.hidden_size))
        # One spatial embedding (with a CLS row) shared by every frame.
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + num_patches, config.hidden_size))
        self.temporal_pos_embedding = nn.Parameter(torch.zeros(1, num_temporal, config.hidden_size))
        self.layers = nn.ModuleList(
            [VideoMambaBlock(config, i, drop_path=rate) for i, rate in enumerate(block_drop_path_rates(config))]
        )
        # The last mixer's output joins the residual at the full rate, linspace(0, r, depth)[-1] = r.
        self.drop_path = VideoMambaDropPath(config.drop_path_rate)
        self.norm_f = VideoMambaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_init()

    def get_input_embeddings(self):
        return self.patch_embed

    def _check_pixel_values(self, pixel_values: torch.Tensor):
        config = self.config
        expected = (config.num_frames, config.num_channels, config.image_size, config.image_size)
        if pixel_values.ndim != 5:
            raise ValueError(
                "pixel_values must be (batch, frames, channels, height, width) = "
                f"(batch, {', '.join(map(str, expected))}); got a {pixel_values.ndim}-D tensor of shape {tuple(pixel_values.shape)}"
            )
        if not pixel_values.is_floating_point():
            raise TypeError(
                f"pixel_values is {pixel_values.dtype}, but VideoMamba expects floating-point frames normalised with "
                "the config's image_mean/image_std (what DearVideoProcessor returns), not raw pixels"
            )
        names = ("frames", "channels", "height", "width")
        for name, want, got in zip(names, expected, pixel_values.shape[1:], strict=True):
            if want != got:
                raise ValueError(
                    f"pixel_values has {got} {name} but this VideoMamba expects {want}: expected shape "
                    f"(batch, {', '.join(map(str, expected))}), got {tuple(pixel_values.shape)}"
                )

    def embed(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """(B, T, C, H, W) → (B, 1 + T'·N, d) tokens: [CLS, frame 0 patches (row-major), frame 1, …]."""
        batch_size = pixel_values.shape[0]
        pixel_values = pixel_values.to(self.patch_embed.proj.weight.dtype).permute(0, 2, 1, 3, 4)
        patches = self.patch_embed(pixel_values)  # (B, T', N, d)
        patches = patches + self.pos_embed[:, None, 1:] + self.temporal_pos_embedding[:, :, None]
        # The release gives the CLS token the CLS row of the spatial embedding and no temporal one.
        cls_token = (self.cls_token + self.pos_embed[:, :1]).expand(batch_size, -1, -1)
        return torch.cat([cls_token, patches.flatten(1, 2)], dim=1)

    def forward(
        self,
        pixel_values: torch.Tensor,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> BaseModelOutputWithPooling | tuple:
        r"""
        pixel_values (`torch.Tensor` of shape `(batch_size, num_frames, num_channels, height, width)`):
            Normalised frames.

        Returns `last_hidden_state` (B, 1 + T·N, d): final tokens after `norm_f`; `pooler_output` (B, d):
        the final CLS token; `hidden_states` (when asked): the residual stream (fp32) after the embedding
        and after each block's mixer has been added, `num_hidden_layers + 1` tensors, before `norm_f`.
        """
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        self._check_pixel_values(pixel_values)

        hidden_states = self.embed(pixel_values)
        residual = None
        all_hidden_states = [] if output_hidden_states else None
        for layer in self.layers:
            hidden_states, residual = layer(hidden_states, residual)
            if output_hidden_states:
                # The residual entering block i is the stream after mixer i − 1 (the embeddings for i = 0).
                all_hidden_states.append(residual)
        residual = residual + self.drop_path(hidden_states)
        if output_hidden_states:
            all_hidden_states.append(residual)
        last_hidden_state = self.norm_f(residual.to(self.norm_f.weight.dtype))
        pooled_output = last_hidden_state[:, 0]

        all_hidden_states = tuple(all_hidden_states) if output_hidden_states else None
        if not return_dict:
            return tuple(v for v in (last_hidden_state, pooled_output, all_hidden_states) if v is not None)
        return BaseModelOutputWithPooling(
            last_hidden_state=last_hidden_state,
            pooler_output=pooled_output,
            hidden_states=all_hidden_states,
        )


class VideoMambaForVideoClassification(VideoMambaPreTrainedModel):
    """VideoMamba with a linear classifier on the final CLS token."""

    def __init__(self, config: VideoMambaConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.videomamba = VideoMambaModel(config)
        self.head = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> ImageClassifierOutput | tuple:
        r"""
        labels (`torch.LongTensor` of shape `(batch_size,)`, *optional*):
            Class indices; the loss is cross-entropy with `config.label_smoothing` (0 when the config has none).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        outputs = self.videomamba(pixel_values, output_hidden_states=output_hidden_states, return_dict=True)
        logits = self.head(outputs.pooler_output)  # (B, num_labels)

        loss = None
        if labels is not None:
            label_smoothing = getattr(self.config, "label_smoothing", 0.0) or 0.0
            loss = F.cross_entropy(logits.float(), labels.to(logits.device), label_smoothing=float(label_smoothing))

        if not return_dict:
            output = (logits,) + ((outputs.hidden_states,) if outputs.hidden_states is not None else ())
            return ((loss,) + output) if loss is not None else output
        return ImageClassifierOutput(loss=loss, logits=logits, hidden_states=outputs.hidden_states)


__all__ = [
    "VideoMambaBlock",
    "VideoMambaForVideoClassification",
    "VideoMambaMixer",
    "VideoMambaModel",
    "VideoMambaPreTrainedModel",
    "VideoMambaRMSNorm",
]
