"""Optimizers that update Values in place from their `.grad`, as torch.optim does.

Each keeps its own state per parameter, has a public `lr` you may change
between steps, and computes exactly PyTorch's update for the same gradients.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from engine import Value


class Optimizer:
    def __init__(self, params: Iterable[Value], lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer got no parameters")
        if not all(isinstance(p, Value) for p in self.params):
            raise TypeError("the optimizer's parameters must all be Values")
        if not lr > 0:
            raise ValueError(f"the learning rate must be positive, not {lr!r}")
        self.lr = lr

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """p -= lr * g, with g = grad + weight_decay * p.

    With momentum: buf = momentum * buf + g (buf = g at the first step), then
    p -= lr * buf: PyTorch's form, with no dampening.
    """

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError("momentum and weight_decay must not be negative")
        self.momentum, self.weight_decay = momentum, weight_decay
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
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"betas must lie in [0, 1), not {betas!r}")
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay
        self.t = 0
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self) -> None:
        self.t += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1 - beta1**self.t)
        correction2_sqrt = math.sqrt(1 - beta2**self.t)
        m, v, eps, decay = self.m, self.v, self.eps, self.weight_decay
        for i, p in enumerate(self.params):
            g = p.grad + decay * p.data if decay else p.grad
            m[i] += (g - m[i]) * (1 - beta1)  # torch's lerp
            v[i] = v[i] * beta2 + (1 - beta2) * g * g
            p.data += -step_size * m[i] / (math.sqrt(v[i]) / correction2_sqrt + eps)  # torch: addcdiv


def clip_grad_norm(params: Iterable[Value], max_norm: float) -> float:
    """Scale all gradients down so their joint L2 norm is at most `max_norm`.

    Returns the norm before clipping (as torch.nn.utils.clip_grad_norm_). The
    direction of the gradient is kept, only its length shrinks: the fix for
    exploding gradients.
    """
    params = list(params)
    total = math.sqrt(sum(p.grad * p.grad for p in params))
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for p in params:
            p.grad *= scale
    return total


class LinearDecay:
    """Set `optimizer.lr` from `start` to `end` in a straight line over `steps` steps.

    micrograd's demo is ``LinearDecay(opt, 1.0, 0.1, 100)``: lr = 1 - 0.9 k / 100.
    Call `step()` once per training step, before the optimizer's step.
    """

    def __init__(self, optimizer: Optimizer, start: float, end: float, steps: int):
        if steps < 1:
            raise ValueError(f"steps must be at least 1, not {steps!r}")
        self.optimizer, self.start, self.end, self.steps = optimizer, start, end, steps
        self.k = 0

    def step(self) -> float:
        lr = self.start + (self.end - self.start) * self.k / self.steps
        self.optimizer.lr = lr
        self.k += 1
        return lr
