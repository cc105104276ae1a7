"""Shared helpers: PyTorch float64 as the oracle for values and gradients; bit-for-bit equality; a C cache."""

from __future__ import annotations

import math
import os
import random

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


def same(a: float, b: float) -> bool:
    """Equal as floats, nan equal to nan, and the same sign of zero: bit for bit, as far as a float shows."""
    return (a == b and math.copysign(1.0, a) == math.copysign(1.0, b)) or (a != a and b != b)


@pytest.fixture
def compiled_cache(tmp_path_factory, monkeypatch):
    """Compiled libraries go to one folder per test session, not to the user's cache."""
    folder = tmp_path_factory.getbasetemp() / "circuitgrad-cache"
    monkeypatch.setenv("CIRCUITGRAD_CACHE", str(folder))
    return folder


def grouped_hinge(seed: int, n: int, backend: str):
    """A staged hinge loss over three Values, with a list argument, a number and a static one (two traces):
    (the Values, the staged function, X, y, groups) for n random samples; the labels are ints, as often."""
    from engine import Value, stage

    rng = random.Random(seed)
    w = [Value(rng.uniform(-1, 1)) for _ in range(3)]

    def loss(x, label, group):
        score = Value.dot(w[:2], x) + w[2]
        return (1.0 - label * score).relu() * (2.0 if group == "b" else 1.0), [score]

    X = [(rng.uniform(-2, 2), rng.uniform(-2, 2)) for _ in range(n)]
    y = [rng.choice([-1, 1]) for _ in X]
    groups = [rng.choice("ab") for _ in X]
    staged = stage(loss, X[0], y[0], groups[0], static=(2,), has_aux=True, input_grads=True, backend=backend)
    return w, staged, X, y, groups
