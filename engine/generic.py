"""Math functions that take a float or a Value, for rules written once for both.

``generic.exp(2.0)`` is a float; ``generic.exp(Value(2.0))`` is a Value node. Use
them in the derivative rule of an op defined with `engine.defop`.
"""

from __future__ import annotations

import math


def _number(x) -> bool:
    return isinstance(x, (int, float))


def exp(x):
    return math.exp(x) if _number(x) else x.exp()


def log(x):
    return math.log(x) if _number(x) else x.log()


def sqrt(x):
    return math.sqrt(x) if _number(x) else x.sqrt()


def sin(x):
    return math.sin(x) if _number(x) else x.sin()


def cos(x):
    return math.cos(x) if _number(x) else x.cos()


def tanh(x):
    return math.tanh(x) if _number(x) else x.tanh()


def sigmoid(x):
    """1 / (1 + e**-x), stable for any finite x."""
    if not _number(x):
        return x.sigmoid()
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
