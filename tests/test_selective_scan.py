# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The fast CPU selective scans against the per-position oracle, forward and every gradient."""

import sys

import pytest
import torch

from modeling_dear import selective_scan as scan_module
from modeling_dear.selective_scan import (
    DEFAULT_SCAN_BLOCK_SIZE,
    resolve_scan_block_size,
    selective_scan,
    selective_scan_reference,
)

NAMES = ("u", "delta", "A", "B", "C", "D", "z", "delta_bias")


def make_inputs(batch=2, d_inner=6, n=4, length=37, dtype=torch.float64, with_z=True, with_bias=True, seed=0):
    """Inputs in the regime the model produces: δ mostly in (0.05, 2), A = −(1..n) jittered.

    u is scaled so the output reaches magnitude ~10 (the scale the fp32 tolerance is stated at).
    """
    g = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=dtype)

    inputs = {
        "u": 2.0 * randn(batch, d_inner, length),
        "delta": randn(batch, d_inner, length) - 1.0,
        "A": -torch.arange(1, n + 1, dtype=dtype).repeat(d_inner, 1) * torch.exp(0.3 * randn(d_inner, n)),
        "B": randn(batch, n, length),
        "C": randn(batch, n, length),
        "D": randn(d_inner),
        "z": randn(batch, d_inner, length) if with_z else None,
        "delta_bias": 0.5 * randn(d_inner) if with_bias else None,
    }
    return inputs


def run_with_grads(fn, inputs, grad_out=None, **kwargs):
    leaves = {k: v.detach().clone().requires_grad_() for k, v in inputs.items() if v is not None}
    args = [leaves.get(name) for name in NAMES]
    out = fn(*args, **kwargs)
    if grad_out is None:
        grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(1), dtype=out.dtype)
    grads = torch.autograd.grad(out, list(leaves.values()), grad_out)
    return out.detach(), dict(zip(leaves, grads, strict=True)), grad_out


def scaled_error(value, reference):
    """Max abs error expressed at output scale 10: |err| · 10 / max(|ref|, 1)."""
    return ((value - reference).abs().max() * 10.0 / reference.abs().max().clamp(min=1.0)).item()


@pytest.mark.parametrize("with_z", [True, False])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("length", [1, 37, 48])
def test_training_path_matches_oracle_fp64(with_z, with_bias, length):
    # block 16: 37 leaves a partial last block, 48 is an exact multiple, 1 is a single position.
    inputs = make_inputs(length=length, with_z=with_z, with_bias=with_bias)
    ref_out, ref_grads, grad_out = run_with_grads(selective_scan_reference, inputs)
    out, grads, _ = run_with_grads(selective_scan, inputs, grad_out, block_size=16)
    assert (out - ref_out).abs().max().item() <= 1e-10
    assert set(grads) == set(ref_grads)
    for name in grads:
        assert grads[name].shape == ref_grads[name].shape
        assert (grads[name] - ref_grads[name]).abs().max().item() <= 1e-10, name


@pytest.mark.parametrize("with_z,with_bias", [(True, True), (False, False)])
def test_training_path_matches_oracle_fp32(with_z, with_bias):
    # Default block size (64) over 150 positions: three blocks, the last one partial.
    inputs = make_inputs(batch=2, d_inner=8, n=16, length=150, dtype=torch.float32, with_z=with_z, with_bias=with_bias)
    ref_out, ref_grads, grad_out = run_with_grads(selective_scan_reference, inputs)
    assert 3.0 < ref_out.abs().max().item() < 100.0  # the regime the tolerance is meant for
    out, grads, _ = run_with_grads(selective_scan, inputs, grad_out)
    assert out.dtype == torch.float32
    assert scaled_error(out, ref_out) <= 1e-4
    for name in grads:
        assert scaled_error(grads[name], ref_grads[name]) <= 1e-4, name


@pytest.mark.parametrize("dtype,tolerance", [(torch.float64, 1e-10), (torch.float32, 1e-4)])
@pytest.mark.parametrize("length", [1, 37, 130])
def test_inference_path_matches_oracle(dtype, tolerance, length):
    inputs = make_inputs(batch=3, d_inner=5, n=16, length=length, dtype=dtype)
    args = [inputs[name] for name in NAMES]
    with torch.no_grad():
        reference = selective_scan_reference(*args)
        fast = selective_scan(*args, block_size=32)
    assert fast.grad_fn is None
    assert scaled_error(fast, reference) <= tolerance


def test_inference_and_training_paths_agree():
    inputs = make_inputs(length=70, dtype=torch.float32)
    args = [inputs[name] for name in NAMES]
    with torch.no_grad():
        inference = selective_scan(*args, block_size=16)
    leaves = [a.clone().requires_grad_() if a is not None else None for a in args]
    training = selective_scan(*leaves, block_size=16)
    assert "BlockedSelectiveScan" in type(training.grad_fn).__name__
    # The same arithmetic in the same order: identical, not merely close.
    assert torch.equal(inference, training.detach())


def test_block_size_does_not_change_the_result():
    inputs = make_inputs(length=45)
    args = [inputs[name] for name in NAMES]
    with torch.no_grad():
        results = [selective_scan(*args, block_size=b) for b in (1, 7, 64, 1000)]
    for result in results[1:]:
        assert (result - results[0]).abs().max().item() <= 1e-12


def test_softplus_threshold_and_no_softplus():
    inputs = make_inputs(length=20)
    # Push some pre-activations across softplus' threshold of 20, where it becomes the identity.
    inputs["delta"] = inputs["delta"].clone()
    inputs["delta"][:, :, ::3] += 21.0
    inputs["A"] = inputs["A"] * 0.01  # keep exp(δA) away from underflow so the gradients stay informative
    for softplus in (True, False):
        if not softplus:
            inputs["delta"] = inputs["delta"].abs() * 0.1
        ref_out, ref_grads, grad_out = run_with_grads(selective_scan_reference, inputs, delta_softplus=softplus)
        out, grads, _ = run_with_grads(selective_scan, inputs, grad_out, delta_softplus=softplus, block_size=8)
        assert (out - ref_out).abs().max().item() <= 1e-10
        for name in grads:
            assert (grads[name] - ref_grads[name]).abs().max().item() <= 1e-9, name


@pytest.mark.parametrize("with_z,with_bias", [(True, True), (False, False)])
def test_gradcheck(with_z, with_bias):
    inputs = make_inputs(batch=2, d_inner=2, n=3, length=9, with_z=with_z, with_bias=with_bias)
    names = [name for name in NAMES if inputs[name] is not None]
    leaves = [inputs[name].clone().requires_grad_() for name in names]

    def fn(*tensors):
        kwargs = dict(zip(names, tensors, strict=True))
        return selective_scan(**kwargs, block_size=4)

    assert torch.autograd.gradcheck(fn, leaves, eps=1e-6, atol=1e-6, rtol=1e-5)


def test_low_precision_input_computes_in_fp32_and_returns_input_dtype():
    inputs = make_inputs(length=33, dtype=torch.float32)
    args32 = [inputs[name] for name in NAMES]
    args16 = [
        a.to(torch.bfloat16) if name in ("u", "delta", "z", "B", "C") else a
        for a, name in zip(args32, NAMES, strict=True)
    ]
    with torch.no_grad():
        out16 = selective_scan(*args16)
        reference = selective_scan_reference(*[a.float() if a is not None else None for a in args16])
    assert out16.dtype == torch.bfloat16
    # Only the final cast to bf16 differs from an fp32 computation on the same (rounded) inputs.
    assert ((out16.float() - reference).abs() <= 1e-2 * reference.abs() + 1e-2).all()


def test_shape_errors_are_clear():
    inputs = make_inputs(length=10)
    args = [inputs[name] for name in NAMES]
    args[3] = args[3][:, :, :5]
    with pytest.raises(ValueError, match="B must have shape"):
        selective_scan(*args)


def test_block_size_helper():
    class Config:
        scan_block_size = 32

    assert resolve_scan_block_size() == DEFAULT_SCAN_BLOCK_SIZE == 64
    assert resolve_scan_block_size(16) == 16
    # the model passes its config's int; a config object is not read
    for bad in (0, -3, 2.5, True, Config()):
        with pytest.raises(ValueError):
            resolve_scan_block_size(bad)


def test_cpu_never_imports_the_cuda_kernel():
    inputs = make_inputs(length=8)
    selective_scan(*[inputs[name] for name in NAMES])
    assert "mamba_ssm" not in sys.modules


def test_missing_kernel_is_cached_as_none(monkeypatch):
    monkeypatch.setattr(scan_module, "_OPTIONAL_KERNELS", {})
    monkeypatch.setitem(sys.modules, "mamba_ssm", None)  # makes the import raise ImportError
    assert scan_module.get_mamba_selective_scan_fn() is None
    assert scan_module._OPTIONAL_KERNELS == {"selective_scan_fn": None}
