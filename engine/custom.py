"""`defop`: define a new op from its forward and its local-derivative rule.

The rule is written once, with arithmetic and the functions of `engine.generic`,
and it works everywhere the built-in ops do: in `backward()` (evaluated on
floats when the node is made), in higher-order derivatives (evaluated on
Values) and in forward mode (`jvp`). softplus and silu below are defined this way.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from . import generic
from .ops import Op
from .value import Value, _as_float


def defop(name: str, forward: Callable[..., float], derivative: Callable[..., object]) -> Callable[..., Value]:
    """Make an op: ``forward(*numbers) -> number`` and ``derivative(*inputs, out)``.

    `derivative` returns d out / d input for each input (one value, or a tuple
    for several inputs); its inputs and `out` are floats or Values, so use
    arithmetic and `engine.generic` in it. Numbers passed to the new op become
    constant leaves. Returns the op as a function of Values and numbers.
    """
    if not callable(forward) or not callable(derivative):
        raise TypeError("defop needs a forward function and a derivative function")

    def rule(*args):
        locals_ = derivative(*args)
        return locals_ if isinstance(locals_, tuple) else (locals_,)

    op = Op(name, rule)

    def apply(*args: Value | float) -> Value:
        inputs = [a if isinstance(a, Value) else Value(a) for a in args]
        datas = [v.data for v in inputs]
        out = _as_float(forward(*datas))
        locals_ = rule(*datas, out)
        if len(locals_) != len(inputs):
            raise ValueError(f"{name}: the derivative gave {len(locals_)} local gradients for {len(inputs)} inputs")
        edges = tuple(item for pair in zip(inputs, map(float, locals_)) for item in pair)
        return Value(out, "", edges, op)

    op.replay = apply  # engine.stage re-runs the op through it
    apply.__name__ = name
    apply.__doc__ = f"The op {name!r}, made with engine.defop."
    return apply


def _softplus_forward(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))  # stable for any x


softplus = defop("softplus", _softplus_forward, lambda x, out: generic.sigmoid(x))
softplus.__doc__ = "log(1 + e**x), stable for any x; d/dx = sigmoid(x). Made with defop."


def _silu_derivative(x, out):
    s = generic.sigmoid(x)
    return s + x * s * (1 - s)


silu = defop("silu", lambda x: x * generic.sigmoid(x), _silu_derivative)
silu.__doc__ = "x * sigmoid(x) (also called swish); d/dx = s + x s (1 - s). Made with defop."
swish = silu
