"""Shared helpers: PyTorch float64 as the oracle for values and gradients."""

from __future__ import annotations

import os

import pytest


def import_torch():
    """torch, or a skip with the reason where it is absent. In CI it must be there."""
    if os.environ.get("CI"):
        import torch  # a missing oracle fails CI instead of skipping silently

        return torch
    return pytest.importorskip(
        "torch", reason="PyTorch (the float64 oracle) is not installed: pip install -e '.[test]'"
    )


def torch_grads(fn, inputs):
    """fn's value and gradients in PyTorch float64; fn gets 0-d tensors."""
    torch = import_torch()
    leaves = [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in inputs]
    out = fn(*leaves)
    grads = torch.autograd.grad(out, leaves, allow_unused=True)
    return out.item(), [0.0 if g is None else g.item() for g in grads]


def close(a: float, b: float, rel: float = 1e-12, abs_: float = 1e-12) -> bool:
    """Equal within tolerance; inf matches the same inf, nan matches nan."""
    if a != a or b != b:
        return a != a and b != b
    if a in (float("inf"), float("-inf")) or b in (float("inf"), float("-inf")):
        return a == b
    return abs(a - b) <= abs_ + rel * max(abs(a), abs(b))
