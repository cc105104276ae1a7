"""Losses and optimizers against PyTorch float64."""

from __future__ import annotations

import random

import pytest
from conftest import close, import_torch

from engine import Value
from nn import SGD, Adam, LinearDecay, clip_grad_norm, losses


def ours_and_grads(loss_fn, preds, targets):
    leaves = [[Value(v) for v in p] if isinstance(p, list) else Value(p) for p in preds]
    out = loss_fn(leaves, targets)
    out.backward()
    grads = [[v.grad for v in p] if isinstance(p, list) else p.grad for p in leaves]
    return out.data, grads


def torch_and_grads(loss_fn, preds, targets):
    torch = import_torch()
    x = torch.tensor(preds, dtype=torch.float64, requires_grad=True)
    out = loss_fn(torch, x, targets)
    out.backward()
    return out.item(), x.grad.tolist()


def flat(xs):
    return [v for x in xs for v in (x if isinstance(x, list) else [x])]


PREDS = [0.3, -1.7, 2.5, 0.0, -0.2, 40.0, -40.0]
CASES = {
    "mse": (
        losses.mse,
        PREDS,
        [0.0, -1.0, 3.0, 0.5, -0.2, 39.0, -38.0],
        lambda t, x, y: t.nn.functional.mse_loss(x, t.tensor(y, dtype=t.float64)),
    ),
    "hinge": (
        losses.hinge,
        PREDS,
        [1, -1, -1, 1, 1, 1, -1],
        lambda t, x, y: (1 - t.tensor(y, dtype=t.float64) * x).relu().mean(),
    ),
    "bce_with_logits": (
        losses.bce_with_logits,
        PREDS,
        [1, 0, 0, 1, 1, 0, 1],
        lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(x, t.tensor(y, dtype=t.float64)),
    ),
    "huber": (
        lambda p, y: losses.huber(p, y, delta=1.0),
        PREDS,
        [0.0, -1.0, 3.0, 1.0, 0.8, 39.0, -38.0],
        lambda t, x, y: t.nn.functional.huber_loss(x, t.tensor(y, dtype=t.float64), delta=1.0),
    ),
    "huber_delta": (
        lambda p, y: losses.huber(p, y, delta=0.25),
        PREDS,
        [0.0, -1.0, 3.0, 0.25, 0.8, 39.0, -38.0],
        lambda t, x, y: t.nn.functional.huber_loss(x, t.tensor(y, dtype=t.float64), delta=0.25),
    ),
    "cross_entropy": (
        losses.cross_entropy,
        [[0.3, -1.7, 2.5], [0.0, 0.0, 0.0], [900.0, -900.0, 899.0]],
        [2, 1, 0],
        lambda t, x, y: t.nn.functional.cross_entropy(x, t.tensor(y)),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_loss_value_and_gradient_match_pytorch(name):
    mine, preds, targets, theirs = CASES[name]
    value, grads = ours_and_grads(mine, preds, targets)
    t_value, t_grads = torch_and_grads(theirs, preds, targets)
    assert close(value, t_value, rel=1e-12), (value, t_value)
    for g, t in zip(flat(grads), flat(t_grads), strict=True):
        assert close(g, t, rel=1e-12, abs_=1e-15), (grads, t_grads)


def test_bce_with_logits_at_zero_has_gradient_sigmoid_minus_label():
    _, grads = ours_and_grads(losses.bce_with_logits, [0.0], [1])
    assert grads == [-0.5]


def test_huber_keeps_a_gradient_where_clip_zeroes_it():
    big_error = Value(5.0)
    losses.huber([big_error], [0.0]).backward()
    clipped = Value(5.0)
    (clipped.clip(-1, 1) ** 2).backward()
    assert big_error.grad == 1.0 and clipped.grad == 0.0


def test_l2_is_a_sum_of_squares():
    ps = [Value(1.0), Value(-2.0)]
    out = losses.l2(ps)
    out.backward()
    assert out.data == 5.0 and [p.grad for p in ps] == [2.0, -4.0]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: losses.mse([1.0], [1.0, 2.0]), "1 predictions but 2 targets"),
        (lambda: losses.hinge([1.0], [0]), "labels must be -1 or \\+1"),
        (lambda: losses.cross_entropy([[1.0, 2.0]], [2]), "target 2 \\(targets\\[0\\]\\) is not a class index below 2"),
        (lambda: losses.huber([1.0], [1.0], delta=0), "delta must be a positive finite number, not 0"),
        (lambda: losses.mse([], []), "the batch is empty"),
    ],
)
def test_bad_loss_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def gradient_sequence(n_params: int, steps: int, seed: int = 0) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.gauss(0, 1) for _ in range(n_params)] for _ in range(steps)]


def run_ours(make, start, grads, lr_changes=None):
    params = [Value(v) for v in start]
    optimizer = make(params)
    for k, g in enumerate(grads):
        if lr_changes and k in lr_changes:
            optimizer.lr = lr_changes[k]
        for p, gi in zip(params, g):
            p.grad = gi
        optimizer.step()
    return [p.data for p in params]


def run_torch(make, start, grads, lr_changes=None):
    torch = import_torch()
    params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in start]
    optimizer = make(params)
    for k, g in enumerate(grads):
        if lr_changes and k in lr_changes:
            for group in optimizer.param_groups:
                group["lr"] = lr_changes[k]
        for p, gi in zip(params, g):
            p.grad = torch.tensor(gi, dtype=torch.float64)
        optimizer.step()
    return [p.item() for p in params]


OPTIMIZERS = {
    "sgd": (lambda ps: SGD(ps, lr=0.1), lambda t, ps: t.optim.SGD(ps, lr=0.1)),
    "sgd_momentum": (lambda ps: SGD(ps, lr=0.05, momentum=0.9), lambda t, ps: t.optim.SGD(ps, lr=0.05, momentum=0.9)),
    "sgd_momentum_decay": (
        lambda ps: SGD(ps, lr=0.05, momentum=0.5, weight_decay=0.01),
        lambda t, ps: t.optim.SGD(ps, lr=0.05, momentum=0.5, weight_decay=0.01),
    ),
    "adam": (lambda ps: Adam(ps, lr=0.01), lambda t, ps: t.optim.Adam(ps, lr=0.01)),
    "adam_options": (
        lambda ps: Adam(ps, lr=0.003, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        lambda t, ps: t.optim.Adam(ps, lr=0.003, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    ),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_updates_equal_torch_optim(name):
    torch = import_torch()
    mine, theirs = OPTIMIZERS[name]
    start = [0.5, -1.5, 2.0, 0.0, 3.0]
    grads = gradient_sequence(len(start), 30)
    changes = {10: 0.02, 20: 0.005}
    ours = run_ours(mine, start, grads, changes)
    reference = run_torch(lambda ps: theirs(torch, ps), start, grads, changes)
    for a, b in zip(ours, reference, strict=True):
        assert abs(a - b) <= 1e-12 * max(1.0, abs(b)), (ours, reference)


def test_clip_grad_norm_matches_torch():
    torch = import_torch()
    grads = [3.0, -4.0, 12.0]
    params = [Value(0.0) for _ in grads]
    for p, g in zip(params, grads):
        p.grad = g
    tensors = [torch.zeros((), dtype=torch.float64, requires_grad=True) for _ in grads]
    for t, g in zip(tensors, grads):
        t.grad = torch.tensor(g, dtype=torch.float64)
    assert clip_grad_norm(params, 1.0) == pytest.approx(13.0, rel=1e-15)
    assert torch.nn.utils.clip_grad_norm_(tensors, 1.0).item() == pytest.approx(13.0, rel=1e-15)
    for p, t in zip(params, tensors):
        assert abs(p.grad - t.grad.item()) <= 1e-15
    assert clip_grad_norm(params, 10.0) == pytest.approx(1.0, rel=1e-6)  # already short: unchanged
    assert sum(p.grad**2 for p in params) ** 0.5 == pytest.approx(1.0, rel=1e-6)


def test_linear_decay_is_micrograds_schedule():
    optimizer = SGD([Value(0.0)], lr=1.0)
    schedule = LinearDecay(optimizer, 1.0, 0.1, 100)
    lrs = [schedule.step() for _ in range(100)]
    assert lrs == pytest.approx([1.0 - 0.9 * k / 100 for k in range(100)], rel=1e-15)
    assert optimizer.lr == lrs[-1]


def test_optimizer_input_errors():
    with pytest.raises(ValueError, match="no parameters"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="lr must be a positive finite number"):
        Adam([Value(1.0)], lr=0)
    with pytest.raises(TypeError, match="must all be Values"):
        SGD([1.0], lr=0.1)
