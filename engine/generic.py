"""Math functions that take a float or a Value, for derivative rules written once for both.

``generic.exp(2.0)`` is a float; ``generic.exp(Value(2.0))`` is a Value node. The
engine evaluates the derivative formulas of the op table with these to get
higher-order derivatives; use them in a derivative written as a Python function
for `engine.defop`. The float versions are the formula language's (`engine.formula`).
"""

from __future__ import annotations

import math

from . import formula


def _value(x) -> bool:
    return hasattr(x, "children")  # a Value (this module may not import value.py)


def real(x) -> float:
    """The number in x: ``x.data`` for a Value, x itself for a number."""
    return x.data if _value(x) else x


def exp(x):
    return x.exp() if _value(x) else math.exp(x)


def log(x):
    return x.log() if _value(x) else math.log(x)


def sqrt(x):
    return x.sqrt() if _value(x) else math.sqrt(x)


def sin(x):
    return x.sin() if _value(x) else math.sin(x)


def cos(x):
    return x.cos() if _value(x) else math.cos(x)


def tanh(x):
    return x.tanh() if _value(x) else math.tanh(x)


def abs(x):  # noqa: A001  (the formula language's name)
    return x.__abs__() if _value(x) else math.fabs(x)


def sigmoid(x):
    """1 / (1 + e**-x), stable for any x."""
    return x.sigmoid() if _value(x) else formula.sigmoid(x)


def power(a, b):
    """a ** b: a Value node if either is a Value; for floats IEEE results (inf, nan) where Python raises."""
    return a**b if _value(a) or _value(b) else formula.power(a, b)


def copysign(a, b):
    """|a| with the sign of b: a number (its derivative is 0 where it is used: a constant branch)."""
    return math.copysign(real(a), real(b))


def isfinite(x) -> bool:
    return math.isfinite(real(x))


def isinf(x) -> bool:
    return math.isinf(real(x))


def isnan(x) -> bool:
    return math.isnan(real(x))


def isinteger(x) -> bool:
    return formula.isinteger(real(x))


def _float_only(name: str):
    function = formula.FUNCTIONS[name][0]

    def on_floats(x):
        if _value(x):
            raise TypeError(
                f"{name}() of a Value has no op of its own here: define {name} as an op with engine.defop "
                "to use it in a derivative that is differentiated again"
            )
        return function(x)

    on_floats.__name__ = name
    return on_floats


log1p, expm1, tan, asin, acos, atan, sinh, cosh = map(
    _float_only, ("log1p", "expm1", "tan", "asin", "acos", "atan", "sinh", "cosh")
)
