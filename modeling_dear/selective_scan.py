# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Selective scan (the input-dependent linear recurrence of Mamba) for the VideoMamba encoder.

Semantics, for every batch element b and channel d (state size n):

    δ_l = softplus(delta_l + delta_bias)          (threshold 20, as `torch.nn.functional.softplus`)
    h_l = exp(δ_l · A) ⊙ h_{l-1} + δ_l · B_l · u_l    (h_0 = 0, h_l has n entries)
    y_l = Σ_n h_l · C_l + D · u_l
    out = y · SiLU(z)

Shapes: u, delta, z (batch, d_inner, L); A (d_inner, n); B, C (batch, n, L); D, delta_bias (d_inner,).

`selective_scan` dispatches to:

* the `mamba_ssm` CUDA kernel for GPU tensors when that optional package imports;
* on other devices, a blocked scan written for CPUs. Its cost is memory traffic, not Python steps, so it
  never builds (batch, d_inner, L, n) tensors: decays and inputs are built for one block of positions
  at a time, the states of the block are written in place into a reused buffer and contracted with C
  once per block. With gradients enabled it runs inside a custom autograd function that keeps only the
  state at the start of every block and recomputes each block during backward;
* `selective_scan_reference` is the plain formulation, kept as the test and benchmark oracle.

All paths compute in float32 (float64 stays float64, which the gradient checks rely on) and return the
output in the dtype of `u`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .configuration_videomamba import DEFAULT_SCAN_BLOCK_SIZE

# Matches torch.nn.functional.softplus' default, which the CUDA kernel also uses.
SOFTPLUS_THRESHOLD = 20.0

_OPTIONAL_KERNELS: dict[str, object] = {}


def _load_optional(name: str):
    """Import an optional CUDA kernel once; `None` when its package is missing or broken.

    `mamba_ssm` up to 2.3.2 imports its compiled extension unconditionally, so on machines without a
    matching CUDA runtime the import fails with OSError as well as ImportError.
    """
    if name not in _OPTIONAL_KERNELS:
        fn = None
        try:
            if name == "selective_scan_fn":
                from mamba_ssm.ops.selective_scan_interface import selective_scan_fn as fn
            elif name == "causal_conv1d_fn":
                from causal_conv1d import causal_conv1d_fn as fn
            else:
                raise KeyError(name)
        except (ImportError, OSError):
            fn = None
        _OPTIONAL_KERNELS[name] = fn
    return _OPTIONAL_KERNELS[name]


def get_mamba_selective_scan_fn():
    """`mamba_ssm`'s `selective_scan_fn`, or `None` if it is not installed (never call this on CPU-only paths)."""
    return _load_optional("selective_scan_fn")


def get_causal_conv1d_fn():
    """`causal_conv1d`'s `causal_conv1d_fn`, or `None` if it is not installed."""
    return _load_optional("causal_conv1d_fn")


def resolve_scan_block_size(value: int | None = None) -> int:
    """Block length of the CPU scan: `value`, or the default 64 when it is `None`.

    The per-block buffers hold block × batch × n × d_inner floats (3 MB for Small at 64). 64 is the size the
    design measurements (docs/videomamba.md §6) used; `bench/selective_scan.py` (part 3) compares block sizes.
    Kept at 64 after re-measuring 16 (Tiny, L = 1569, 1 thread): 16 took 1.38× the time forward and 1.09× forward +
    backward (`bench/train_step.py --block-sizes` times a whole DEAR step; not yet run to completion).
    """
    if value is None:
        return DEFAULT_SCAN_BLOCK_SIZE
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"scan_block_size must be a positive integer, got {value!r}")
    return value


def _compute_dtype(u: torch.Tensor) -> torch.dtype:
    # float64 is kept so that gradcheck and tight parity tests are meaningful; everything else runs in fp32.
    return torch.float64 if u.dtype == torch.float64 else torch.float32


def _check_shapes(u, delta, A, B, C, D, z, delta_bias):
    if u.ndim != 3:
        raise ValueError(f"u must be (batch, d_inner, L), got shape {tuple(u.shape)}")
    batch, d_inner, length = u.shape
    n = A.shape[-1] if A.ndim == 2 else None
    expected = {
        "delta": (delta, (batch, d_inner, length)),
        "A": (A, (d_inner, n)),
        "B": (B, (batch, n, length)),
        "C": (C, (batch, n, length)),
        "D": (D, (d_inner,)),
        "z": (z, (batch, d_inner, length)),
        "delta_bias": (delta_bias, (d_inner,)),
    }
    for name, (tensor, shape) in expected.items():
        if tensor is not None and tuple(tensor.shape) != shape:
            raise ValueError(f"selective_scan: {name} must have shape {shape}, got {tuple(tensor.shape)}")


def _time_major(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    # (batch, C, L) -> (L, batch, C): block slices are contiguous. Inputs that are transposed views of a
    # (batch, L, C) projection (delta, B and C in the mixer) come out with little or no copying.
    return x.permute(2, 0, 1).to(dtype).contiguous()


def _discretised_step(delta, delta_bias, delta_softplus, dtype):
    """δ in time-major layout (L, batch, d_inner) and the pre-activation needed for its derivative."""
    pre = _time_major(delta, dtype)
    if delta_bias is not None:
        pre = pre + delta_bias.to(dtype)
    dt = F.softplus(pre, threshold=SOFTPLUS_THRESHOLD) if delta_softplus else pre
    return pre, dt


class _ScanBuffers:
    """Reused per-block buffers, states (K+1, b, n, d) with slot 0 holding the state entering the block and
    decays (K, b, n, d). Channels are innermost so that the contractions with B and C are matrix-vector
    products over contiguous rows. Per-position views are unbound once: the inner loop does no indexing."""

    def __init__(self, block, batch, d_inner, n, dtype, device, with_adjoint=False):
        self.states = torch.empty(block + 1, batch, n, d_inner, dtype=dtype, device=device)
        self.decay = torch.empty(block, batch, n, d_inner, dtype=dtype, device=device)
        self.state_steps = self.states.unbind(0)
        self.decay_steps = self.decay.unbind(0)
        if with_adjoint:
            self.adjoint = torch.empty(block, batch, n, d_inner, dtype=dtype, device=device)
            self.work = torch.empty(block, batch, n, d_inner, dtype=dtype, device=device)
            self.adjoint_steps = self.adjoint.unbind(0)

    def run_block(self, dt_blk, u_blk, B_blk, A_t):
        """Fill states[1:k+1] with h over one block, starting from states[0]; returns (states, decays) views.

        dt_blk, u_blk (k, b, d); B_blk (k, b, n); A_t (n, d).
        """
        k = dt_blk.shape[0]
        decay = self.decay[:k]
        torch.mul(dt_blk.unsqueeze(2), A_t, out=decay)
        decay.exp_()
        states = self.states[1 : k + 1]
        # The input term goes straight into the state slots; the recurrence then adds the decayed
        # previous state in place, one fused op per position.
        torch.mul((dt_blk * u_blk).unsqueeze(2), B_blk.unsqueeze(-1), out=states)
        steps, decays = self.state_steps, self.decay_steps
        for i in range(k):
            steps[i + 1].addcmul_(decays[i], steps[i])
        return states, decay


def _blocks(length: int, block: int):
    return [(start, min(start + block, length)) for start in range(0, length, block)]


def _scan_forward(u_t, dt_t, A_t, B_t, C_t, block, keep_block_states):
    """Blocked scan in time-major layout. Returns y (L, b, d) without the D·u and gate terms, and the
    state entering each block (n_blocks, b, n, d) when `keep_block_states`."""
    length, batch, d_inner = u_t.shape
    n = A_t.shape[0]
    block = min(block, length)
    spans = _blocks(length, block)
    buffers = _ScanBuffers(block, batch, d_inner, n, u_t.dtype, u_t.device)
    buffers.states[0].zero_()
    block_states = u_t.new_empty(len(spans), batch, n, d_inner) if keep_block_states else None
    y_t = u_t.new_empty(length, batch, d_inner)
    for index, (start, end) in enumerate(spans):
        k = end - start
        if keep_block_states:
            block_states[index].copy_(buffers.states[0])
        states, _ = buffers.run_block(dt_t[start:end], u_t[start:end], B_t[start:end], A_t)
        # One contraction with C per block: (k, b, 1, n) @ (k, b, n, d).
        torch.matmul(C_t[start:end].unsqueeze(2), states, out=y_t[start:end].unsqueeze(2))
        buffers.states[0].copy_(buffers.states[k])
    return y_t, block_states


def _finish_output(y_t, u_t, D, z_t):
    if D is not None:
        y_t = y_t.addcmul_(u_t, D)
    if z_t is not None:
        y_t = y_t.mul_(F.silu(z_t))
    return y_t


def _transposed_A(A, dtype):
    # (d, n) -> (n, d), contiguous, matching the state layout.
    return A.to(dtype).t().contiguous()


def _selective_scan_blocked_inference(u, delta, A, B, C, D, z, delta_bias, delta_softplus, block):
    dtype = _compute_dtype(u)
    _, dt_t = _discretised_step(delta, delta_bias, delta_softplus, dtype)
    u_t = _time_major(u, dtype)
    y_t, _ = _scan_forward(
        u_t, dt_t, _transposed_A(A, dtype), _time_major(B, dtype), _time_major(C, dtype), block, False
    )
    y_t = _finish_output(y_t, u_t, None if D is None else D.to(dtype), None if z is None else _time_major(z, dtype))
    return y_t.permute(1, 2, 0).to(u.dtype).contiguous()


class _BlockedSelectiveScanFunction(torch.autograd.Function):
    """Memory-lean training scan: saves the inputs and one state per block, recomputes blocks in backward.

    Plain autograd through a per-position loop keeps (b, d, L, n) tensors alive and, when it indexes them,
    has a backward quadratic in L; here the backward is the reverse-time adjoint recurrence
    g_l = C_l·gy_l + exp(δ_{l+1}A) ⊙ g_{l+1}, run block by block with the forward states recomputed.
    """

    @staticmethod
    def forward(ctx, u, delta, A, B, C, D, z, delta_bias, delta_softplus, block):
        dtype = _compute_dtype(u)
        _, dt_t = _discretised_step(delta, delta_bias, delta_softplus, dtype)
        u_t = _time_major(u, dtype)
        y_t, block_states = _scan_forward(
            u_t, dt_t, _transposed_A(A, dtype), _time_major(B, dtype), _time_major(C, dtype), block, True
        )
        y_t = _finish_output(y_t, u_t, None if D is None else D.to(dtype), None if z is None else _time_major(z, dtype))
        ctx.save_for_backward(u, delta, A, B, C, D, z, delta_bias, block_states)
        ctx.delta_softplus = delta_softplus
        ctx.block = block
        return y_t.permute(1, 2, 0).to(u.dtype).contiguous()

    @staticmethod
    def backward(ctx, grad_out):
        u, delta, A, B, C, D, z, delta_bias, block_states = ctx.saved_tensors
        dtype = _compute_dtype(u)
        pre_t, dt_t = _discretised_step(delta, delta_bias, ctx.delta_softplus, dtype)
        u_t = _time_major(u, dtype)
        B_t, C_t = _time_major(B, dtype), _time_major(C, dtype)
        A_t = _transposed_A(A, dtype)  # (n, d)
        D_c = None if D is None else D.to(dtype)
        z_t = None if z is None else _time_major(z, dtype)
        gout_t = _time_major(grad_out, dtype)

        length, batch, d_inner = u_t.shape
        n = A_t.shape[0]
        block = min(ctx.block, length)
        spans = _blocks(length, block)
        buffers = _ScanBuffers(block, batch, d_inner, n, dtype, u_t.device, with_adjoint=True)

        grad_u_t = torch.empty_like(u_t)
        grad_dt_t = torch.empty_like(u_t)
        grad_z_t = None if z is None else torch.empty_like(u_t)
        grad_B_t = torch.empty_like(B_t)
        grad_C_t = torch.empty_like(C_t)
        grad_A_t = torch.zeros_like(A_t)
        grad_D = None if D is None else torch.zeros_like(D_c)
        # Adjoint arriving at the last state of the current block from the next one: exp(δ_e A) ⊙ g_e.
        carry = u_t.new_zeros(batch, n, d_inner)

        for index in range(len(spans) - 1, -1, -1):
            start, end = spans[index]
            k = end - start
            dt_blk, u_blk, B_blk, C_blk = dt_t[start:end], u_t[start:end], B_t[start:end], C_t[start:end]
            buffers.states[0].copy_(block_states[index])
            states, decay = buffers.run_block(dt_blk, u_blk, B_blk, A_t)  # (k, b, n, d)
            prev_states = buffers.states[:k]

            # Output gate and skip connection.
            gy = gout_t[start:end]
            if z_t is not None:
                z_blk = z_t[start:end]
                y_blk = torch.matmul(C_blk.unsqueeze(2), states).squeeze(2)
                if D_c is not None:
                    y_blk.addcmul_(u_blk, D_c)
                sig = torch.sigmoid(z_blk)
                # d SiLU(z)/dz = σ(z)·(1 + z·(1 − σ(z)))
                grad_z_t[start:end] = gy * y_blk * sig * (1 + z_blk * (1 - sig))
                gy = gy * (z_blk * sig)
            if D_c is not None:
                grad_D += (gy * u_blk).sum(dim=(0, 1))
                grad_u_blk = gy * D_c
            else:
                grad_u_blk = torch.zeros_like(u_blk)

            # y_l = Σ_n h_l C_l: gradient to C, and the direct part of the state adjoint.
            torch.matmul(states, gy.unsqueeze(-1), out=grad_C_t[start:end].unsqueeze(-1))
            adjoint = buffers.adjoint[:k]
            torch.mul(gy.unsqueeze(2), C_blk.unsqueeze(-1), out=adjoint)
            adj_steps, decays = buffers.adjoint_steps, buffers.decay_steps
            adj_steps[k - 1].add_(carry)
            for i in range(k - 2, -1, -1):
                adj_steps[i].addcmul_(decays[i + 1], adj_steps[i + 1])
            torch.mul(decays[0], adj_steps[0], out=carry)

            # Input term δ·u·B.
            adj_B = torch.matmul(B_blk.unsqueeze(2), adjoint).squeeze(2)  # (k, b, d) = Σ_n g·B
            grad_u_blk.addcmul_(adj_B, dt_blk)
            grad_dt_blk = adj_B.mul_(u_blk)
            torch.matmul(adjoint, (dt_blk * u_blk).unsqueeze(-1), out=grad_B_t[start:end].unsqueeze(-1))

            # Decay term exp(δA): g ⊙ h_{l-1} ⊙ exp(δA) is the gradient w.r.t. δA.
            work = buffers.work[:k]
            torch.mul(adjoint, prev_states, out=work)
            work.mul_(decay)
            grad_A_t += torch.einsum("kbnd,kbd->nd", work, dt_blk)
            grad_dt_blk += work.mul_(A_t).sum(2)

            grad_u_t[start:end] = grad_u_blk
            grad_dt_t[start:end] = grad_dt_blk

        if ctx.delta_softplus:
            # softplus'(x) = σ(x), and 1 above the threshold where softplus is the identity.
            grad_dt_t = grad_dt_t * torch.where(pre_t > SOFTPLUS_THRESHOLD, 1.0, torch.sigmoid(pre_t))
        grad_delta_bias = None if delta_bias is None else grad_dt_t.sum(dim=(0, 1)).to(delta_bias.dtype)

        def back(x_t, like):
            return x_t.permute(1, 2, 0).to(like.dtype).contiguous()

        return (
            back(grad_u_t, u),
            back(grad_dt_t, delta),
            grad_A_t.t().to(A.dtype),
            back(grad_B_t, B),
            back(grad_C_t, C),
            None if D is None else grad_D.to(D.dtype),
            None if z is None else back(grad_z_t, z),
            grad_delta_bias,
            None,
            None,
        )


def selective_scan(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = True,
    *,
    block_size: int | None = None,
    use_kernel: bool = True,
) -> torch.Tensor:
    """Selective scan with the `mamba_ssm` signature; returns (batch, d_inner, L) in `u.dtype`.

    Args:
        u, delta, z: (batch, d_inner, L).
        A: (d_inner, n), usually `-exp(A_log)`.
        B, C: (batch, n, L).
        D, delta_bias: (d_inner,).
        delta_softplus: apply softplus to `delta + delta_bias`.
        block_size: positions per block of the CPU scan (default 64).
        use_kernel: allow the `mamba_ssm` CUDA kernel for GPU tensors.
    """
    _check_shapes(u, delta, A, B, C, D, z, delta_bias)
    if use_kernel and u.is_cuda:
        kernel = get_mamba_selective_scan_fn()
        if kernel is not None:
            # The kernel wants unit stride on the last axis and fp32 A, D and bias.
            out = kernel(
                u.contiguous(),
                delta.contiguous(),
                A.float().contiguous(),
                B.contiguous(),
                C.contiguous(),
                None if D is None else D.float().contiguous(),
                None if z is None else z.contiguous(),
                None if delta_bias is None else delta_bias.float().contiguous(),
                delta_softplus,
            )
            return out.to(u.dtype)
    block = resolve_scan_block_size(block_size)
    tensors = (u, delta, A, B, C, D, z, delta_bias)
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors):
        return _BlockedSelectiveScanFunction.apply(u, delta, A, B, C, D, z, delta_bias, delta_softplus, block)
    return _selective_scan_blocked_inference(u, delta, A, B, C, D, z, delta_bias, delta_softplus, block)


def selective_scan_reference(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = True,
) -> torch.Tensor:
    """Straightforward scan, one step per position over full (batch, d_inner, L, n) tensors.

    Test and benchmark oracle only: slow, memory-hungry, and its autograd backward is quadratic in L.
    """
    _check_shapes(u, delta, A, B, C, D, z, delta_bias)
    dtype = _compute_dtype(u)
    u_c, delta_c, A_c, B_c, C_c = (t.to(dtype) for t in (u, delta, A, B, C))
    if delta_bias is not None:
        delta_c = delta_c + delta_bias.to(dtype)[:, None]
    if delta_softplus:
        delta_c = F.softplus(delta_c, threshold=SOFTPLUS_THRESHOLD)
    decay = torch.exp(torch.einsum("bdl,dn->bdln", delta_c, A_c))
    drive = torch.einsum("bdl,bnl,bdl->bdln", delta_c, B_c, u_c)
    state = u_c.new_zeros(u_c.shape[0], u_c.shape[1], A_c.shape[1])
    ys = []
    for position in range(u_c.shape[-1]):
        state = decay[:, :, position] * state + drive[:, :, position]
        ys.append(torch.einsum("bdn,bn->bd", state, C_c[:, :, position]))
    out = torch.stack(ys, dim=-1)
    if D is not None:
        out = out + u_c * D.to(dtype)[:, None]
    if z is not None:
        out = out * F.silu(z.to(dtype))
    return out.to(u.dtype)


__all__ = [
    "DEFAULT_SCAN_BLOCK_SIZE",
    "get_causal_conv1d_fn",
    "get_mamba_selective_scan_fn",
    "resolve_scan_block_size",
    "selective_scan",
    "selective_scan_reference",
]
