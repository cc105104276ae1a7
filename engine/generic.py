"""Math functions that take a float or a Value, for derivative rules written once for both.

``generic.exp(2.0)`` is a float; ``generic.exp(Value(2.0))`` is a Value node. The
engine evaluates the derivative formulas of the op table with these to get
higher-order derivatives; use them in a derivative written as a Python function
for `engine.defop`. The float versions are the formula language's (`engine.formula`).
On numbers they raise as the ops do: a TypeError naming the function for anything
that is not a number, and a domain error naming the function and its operand.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from . import formula
from .number import as_real

if TYPE_CHECKING:
    from typing_extensions import TypeIs

    from .value import Value

#: A float or a Value: a function of one returns the same kind (ints count as floats).
Scalar = TypeVar("Scalar", float, "Value")

# What a number outside a function's domain gets told (the op table's words).
_DOMAIN = {
    "log": "the logarithm needs a positive input",
    "sqrt": "the square root needs a non-negative input",
    "sin": "the sine needs a finite input",
    "cos": "the cosine needs a finite input",
    "tan": "the tangent needs a finite input",
    "asin": "the arcsine needs an input in [-1, 1]",
    "acos": "the arccosine needs an input in [-1, 1]",
    "log1p": "log1p needs an input above -1",
}


def _value(x: object) -> TypeIs[Value]:
    return hasattr(x, "children")  # a Value (this module may not import value.py)


def _on_numbers(name: str, function: Callable[..., Any], *xs: Any) -> Any:
    """function(*xs) on numbers, its errors naming `name` (and the operands, for a domain error)."""
    try:
        return function(*xs)
    except TypeError:
        for k, x in enumerate(xs):
            as_real(x, f"generic.{name}: input {k}" if len(xs) > 1 else f"generic.{name}: x")
        raise
    except ValueError:
        shown = ", ".join(map(repr, xs))
        raise ValueError(f"{name}({shown}): {_DOMAIN.get(name, 'outside its domain')}") from None
    except OverflowError:
        shown = ", ".join(map(repr, xs))
        raise OverflowError(f"{name}({shown}): the result overflows a float") from None


def real(x: Value | float) -> float:
    """The number in x: ``x.data`` for a Value, x itself for a number."""
    if _value(x):
        return x.data
    return x if type(x) is float else as_real(x, "generic.real: x")


def exp(x: Scalar) -> Scalar:
    return x.exp() if _value(x) else _on_numbers("exp", math.exp, x)


def log(x: Scalar) -> Scalar:
    return x.log() if _value(x) else _on_numbers("log", math.log, x)


def sqrt(x: Scalar) -> Scalar:
    return x.sqrt() if _value(x) else _on_numbers("sqrt", math.sqrt, x)


def sin(x: Scalar) -> Scalar:
    return x.sin() if _value(x) else _on_numbers("sin", math.sin, x)


def cos(x: Scalar) -> Scalar:
    return x.cos() if _value(x) else _on_numbers("cos", math.cos, x)


def tanh(x: Scalar) -> Scalar:
    return x.tanh() if _value(x) else _on_numbers("tanh", math.tanh, x)


def abs(x: Scalar) -> Scalar:  # noqa: A001  (the formula language's name)
    return x.__abs__() if _value(x) else _on_numbers("abs", math.fabs, x)


def sigmoid(x: Scalar) -> Scalar:
    """1 / (1 + e**-x), stable for any x."""
    return x.sigmoid() if _value(x) else _on_numbers("sigmoid", formula.sigmoid, x)


@overload
def power(a: Value, b: Value | float) -> Value: ...
@overload
def power(a: float, b: Value) -> Value: ...
@overload
def power(a: float, b: float) -> float: ...
def power(a: Value | float, b: Value | float) -> Value | float:
    """a ** b: a Value node if either is a Value; for floats IEEE results (inf, nan) where Python raises."""
    return a**b if _value(a) or _value(b) else _on_numbers("power", formula.power, a, b)


def copysign(a: Value | float, b: Value | float) -> float:
    """|a| with the sign of b: a number (its derivative is 0 where it is used: a constant branch)."""
    return _on_numbers("copysign", math.copysign, _data(a), _data(b))


def _data(x: Value | float) -> float:
    return x.data if _value(x) else x


def isfinite(x: Value | float) -> bool:
    return _on_numbers("isfinite", math.isfinite, _data(x))


def isinf(x: Value | float) -> bool:
    return _on_numbers("isinf", math.isinf, _data(x))


def isnan(x: Value | float) -> bool:
    return _on_numbers("isnan", math.isnan, _data(x))


def isinteger(x: Value | float) -> bool:
    return _on_numbers("isinteger", formula.isinteger, _data(x))


def _float_only(name: str) -> Callable[[float], float]:
    function = formula.FUNCTIONS[name][0]

    def on_floats(x: object) -> float:
        if _value(x):
            raise TypeError(
                f"{name}() of a Value has no op of its own here: define {name} as an op with engine.defop "
                "to use it in a derivative that is differentiated again"
            )
        return _on_numbers(name, function, x)

    on_floats.__name__ = name
    return on_floats


log1p, expm1, tan, asin, acos, atan, sinh, cosh = map(
    _float_only, ("log1p", "expm1", "tan", "asin", "acos", "atan", "sinh", "cosh")
)
