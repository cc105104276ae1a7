"""Optimizers that update Values in place from their `.grad`, as torch.optim does.

Each keeps its own state per parameter, has a public `lr` you may change
between steps, and computes exactly PyTorch's update for the same gradients.
Every argument is checked on entry; numbers may be any real number (NumPy
scalars, Fraction) and are stored as Python floats, so the parameters stay
Python floats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from engine import Value

from . import checks as check


class Optimizer:
    """The parameters to update (`params`, a list) and the learning rate (`lr`, a float > 0).

    `lr` may be set between steps to any finite number >= 0 (a schedule may end at 0).
    """

    def __init__(self, params: Iterable[Value], lr: float):
        where = type(self).__name__
        self.params = check.values(params, "params", where)
        seen: dict[int, int] = {}
        for i, p in enumerate(self.params):
            if id(p) in seen:
                raise ValueError(f"{where}: params holds the same Value twice (items {seen[id(p)]} and {i})")
            seen[id(p)] = i
        self._lr = check.real(
            lr, "lr", where, low=0.0, low_open=True, what="a positive finite number (the learning rate)"
        )

    @property
    def lr(self) -> float:
        """The learning rate used by the next `step()`."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check.real(value, "lr", type(self).__name__, low=0.0)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its `.grad`."""
        raise NotImplementedError(f"{type(self).__name__} does not define step()")


class SGD(Optimizer):
    """p -= lr * g, with g = grad + weight_decay * p.

    With momentum: buf = momentum * buf + g (buf = g at the first step), then
    p -= lr * buf: PyTorch's form, with no dampening.
    """

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.momentum = check.non_negative(momentum, "momentum", "SGD")
        self.weight_decay = check.non_negative(weight_decay, "weight_decay", "SGD")
        self.buffers: list[float] | None = None

    def step(self) -> None:
        lr, momentum, decay = self.lr, self.momentum, self.weight_decay
        grads = [p.grad + decay * p.data for p in self.params] if decay else [p.grad for p in self.params]
        if momentum:
            if self.buffers is None:
                self.buffers = grads
            else:
                self.buffers = [momentum * b + g for b, g in zip(self.buffers, grads)]
            grads = self.buffers
        for p, g in zip(self.params, grads):
            p.data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma and Ba), written as torch.optim.Adam computes it.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g**2;
    p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps).
    `betas` are two numbers in [0, 1), `eps` a number > 0.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        pair = "two numbers in [0, 1), such as (0.9, 0.999)"
        if isinstance(betas, (str, bytes)) or not isinstance(betas, Sequence):
            raise TypeError(f"Adam: betas must be {pair}, not {check.shown(betas)}")
        if len(betas) != 2:
            raise ValueError(f"Adam: betas must be {pair}, not {check.shown(betas)}")
        beta1, beta2 = (
            check.real(b, f"betas[{i}]", "Adam", low=0.0, high=1.0, high_open=True) for i, b in enumerate(betas)
        )
        self.betas = (beta1, beta2)
        self.eps = check.positive(eps, "eps", "Adam")
        self.weight_decay = check.non_negative(weight_decay, "weight_decay", "Adam")
        self.t = 0
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self) -> None:
        self.t += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1 - beta1**self.t)
        correction2_sqrt = math.sqrt(1 - beta2**self.t)
        eps, decay, sqrt = self.eps, self.weight_decay, math.sqrt
        a, b, c = 1 - beta1, 1 - beta2, -step_size
        params = self.params
        # One pass per formula over plain lists (the per-parameter loop of the formulas, written
        # for speed: the same operations in the same order, so the same bits).
        grads = [p.grad + decay * p.data for p in params] if decay else [p.grad for p in params]
        self.m = m = [mi + (g - mi) * a for mi, g in zip(self.m, grads)]  # torch's lerp
        self.v = v = [vi * beta2 + b * g * g for vi, g in zip(self.v, grads)]
        for p, mi, vi in zip(params, m, v):
            p.data += c * mi / (sqrt(vi) / correction2_sqrt + eps)  # torch: addcdiv


def clip_grad_norm(params: Iterable[Value], max_norm: float) -> float:
    """Scale all gradients down so their joint L2 norm is at most `max_norm` (a number > 0, inf: no clipping).

    Returns the norm before clipping (as torch.nn.utils.clip_grad_norm_). The
    direction of the gradient is kept, only its length shrinks: the fix for
    exploding gradients.
    """
    params = check.values(params, "params", "clip_grad_norm")
    limit = check.positive(max_norm, "max_norm", "clip_grad_norm", finite=False)
    total = math.sqrt(sum(p.grad * p.grad for p in params))
    scale = limit / (total + 1e-6)
    if scale < 1:
        for p in params:
            p.grad *= scale
    return total


class LinearDecay:
    """Set `optimizer.lr` from `start` to `end` in a straight line over `steps` steps, then hold `end`.

    micrograd's demo is ``LinearDecay(opt, 1.0, 0.1, 100)``: lr = 1 - 0.9 k / 100
    at step k. From step `steps` on, lr stays at `end`: it never passes it (so it
    never turns negative). `start` must be > 0 and `end` >= 0 (a decay to 0 is
    fine). Call `step()` once per training step, before the optimizer's step.
    """

    def __init__(self, optimizer: Optimizer, start: float, end: float, steps: int):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"LinearDecay: optimizer must be an optimizer (SGD, Adam), not {check.shown(optimizer)}")
        self.start = check.positive(start, "start", "LinearDecay")
        self.end = check.non_negative(end, "end", "LinearDecay")
        self.steps = check.count(steps, "steps", "LinearDecay")
        self.optimizer = optimizer
        self.k = 0

    def step(self) -> float:
        """Set and return the learning rate for this step."""
        k = min(self.k, self.steps)
        lr = self.end if k == self.steps else self.start + (self.end - self.start) * k / self.steps
        self.optimizer.lr = lr
        self.k += 1
        return lr
