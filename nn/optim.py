"""Optimizers that update Values in place from their `.grad`, as torch.optim does.

Each keeps its own state per parameter, has a public `lr` you may change
between steps, and computes exactly PyTorch's update for the same gradients.
Every argument is checked on entry; numbers may be any real number (NumPy
scalars, Fraction) and are stored as Python floats, so the parameters stay
Python floats.

Each optimizer writes its update once, as formulas applied to every parameter
alike (`engine.elementwise`): x is the parameter's number, g its gradient,
beside the optimizer's own state (SGD's ``buffers``, Adam's ``m`` and ``v``).
`Optimizer.update` runs them over lists, or compiled to C on arrays.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from engine import Value
from engine.elementwise import Elementwise
from engine.number import as_numbers

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

    #: the names of the per-parameter state: lists as long as `params` (or None before the first step)
    state_names: tuple[str, ...] = ()

    def step(self) -> None:
        """Update every parameter from its `.grad`: the formulas of `rule`, run on the Values'
        ``data`` (x) and ``grad`` (g)."""
        rule, scalars = self.rule()
        state = {name: getattr(self, name) for name in self.state_names}
        new = rule.run_on(self.params, {"x": "data", "g": "grad"}, state, scalars)
        self._advance(rule, new)

    def update(self, data: Sequence[float], grads: Sequence[float]) -> Sequence[float]:
        """One step on plain numbers (in the order of `params`), touching no Value.

        It advances the optimizer's state as `step()` does and computes the same
        numbers, bit for bit, so a training loop may keep the numbers out of the
        Values from step to step, as NumPy or JAX code keeps arrays. `data` is the
        parameters' numbers, `grads` their gradients, and the result the new numbers
        (not a change to add, as optax's update gives). Given a list, it returns a
        new list. Given an ``array("d")``, it runs the formulas compiled to C
        (`engine.elementwise`), changes the array in place and returns it; the state
        (SGD's buffers, Adam's m and v) is then kept as arrays too, changed in place.
        Both arguments are checked before the state changes.
        """
        where, n = f"{type(self).__name__}.update", len(self.params)
        data, grads = as_numbers(data, n, f"{where}: data"), as_numbers(grads, n, f"{where}: grads")
        return self._update(data, grads)

    def _update(self, data: Sequence[float], grads: Sequence[float]) -> Sequence[float]:
        rule, scalars = self.rule()
        if isinstance(data, array):
            arrays = {"x": data, "g": grads if isinstance(grads, array) else array("d", grads)}
            for name in self.state_names:
                held = getattr(self, name)
                if name in rule.outputs and not isinstance(held, array):  # the C code changes it in place
                    held = array("d", held) if held is not None else array("d", bytes(8 * len(data)))
                arrays[name] = held
            rule.run_c(arrays, scalars)
            self._advance(rule, arrays)
            return data
        lists = {"x": data, "g": grads, **{name: getattr(self, name) for name in self.state_names}}
        new = rule.run(lists, scalars)
        self._advance(rule, new)
        return new["x"]

    def _advance(self, rule: Elementwise, new: dict[str, Any]) -> None:
        """Keep the state the formulas computed, and count the step."""
        for name in self.state_names:
            if name in rule.outputs:
                setattr(self, name, new[name])
        self._stepped()

    def rule(self) -> tuple[Elementwise, dict[str, float]]:
        """The next step's formulas (an `engine.elementwise.Elementwise`: print it, or its
        ``c_source``) and the numbers they use (lr, ...)."""
        raise NotImplementedError(f"{type(self).__name__} does not define its update (rule) or step()")

    def _stepped(self) -> None:
        """Count a step done (Adam's t)."""


class SGD(Optimizer):
    """p -= lr * g, with g = grad + weight_decay * p.

    With momentum: buf = momentum * buf + g (buf = g at the first step), then
    p -= lr * buf: PyTorch's form, with no dampening.
    """

    state_names = ("buffers",)

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.momentum = check.non_negative(momentum, "momentum", "SGD")
        self.weight_decay = check.non_negative(weight_decay, "weight_decay", "SGD")
        self.buffers: Sequence[float] | None = None  # a list, or an array after a compiled update

    def rule(self) -> tuple[Elementwise, dict[str, float]]:
        first = self.momentum and self.buffers is None
        rule = _sgd(bool(self.weight_decay), bool(self.momentum), bool(first))
        return rule, {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay}


class Adam(Optimizer):
    """Adam (Kingma and Ba), written as torch.optim.Adam computes it.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g**2;
    p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps).
    `betas` are two numbers in [0, 1), `eps` a number > 0.
    """

    state_names = ("m", "v")

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
        self.m: Sequence[float] = [0.0] * len(self.params)  # lists, or arrays after a compiled update
        self.v: Sequence[float] = [0.0] * len(self.params)

    def rule(self) -> tuple[Elementwise, dict[str, float]]:
        t = self.t + 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1 - beta1**t)
        scalars = {
            "a": 1 - beta1,
            "beta2": beta2,
            "b": 1 - beta2,
            "c": -step_size,
            "correction2_sqrt": math.sqrt(1 - beta2**t),
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }
        return _adam(bool(self.weight_decay)), scalars

    def _stepped(self) -> None:
        self.t += 1


@cache
def _sgd(decay: bool, momentum: bool, first: bool) -> Elementwise:
    """SGD's formulas: with weight decay or not; with momentum (its first step, or a later one) or not."""
    steps, g = [], "g"
    if decay:
        steps.append(("d", "g + weight_decay * x"))
        g = "d"
    if momentum:
        steps.append(("buffers", g if first else f"momentum * buffers + {g}"))
        g = "buffers"
    steps.append(("x", f"x - lr * {g}"))
    return Elementwise(steps, scalars=("lr", "momentum", "weight_decay"), temporaries=("d",))


@cache
def _adam(decay: bool) -> Elementwise:
    """Adam's formulas, as torch.optim.Adam computes them (m by torch's lerp, x by its addcdiv)."""
    g = "d" if decay else "g"
    steps = [("d", "g + weight_decay * x")] if decay else []
    steps += [
        ("m", f"m + ({g} - m) * a"),
        ("v", f"v * beta2 + b * {g} * {g}"),
        ("x", "x + c * m / (sqrt(v) / correction2_sqrt + eps)"),
    ]
    return Elementwise(
        steps, scalars=("a", "beta2", "b", "c", "correction2_sqrt", "eps", "weight_decay"), temporaries=("d",)
    )


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
