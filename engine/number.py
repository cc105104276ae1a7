"""What the engine takes as a number: any real number, stored as a Python float.

int, bool, float, `fractions.Fraction`, NumPy scalars (np.float32, np.int64, ...):
anything registered as a `numbers.Real`. Everything else is a TypeError naming
the argument and its type, raised before anything is changed.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping
from numbers import Real


def as_real(x: object, what: str, kind: str = "a Value or a real number") -> float:
    """`x` as a Python float if it is a real number, else a TypeError naming `what`.

    An int too large for a float (10**400) is an OverflowError.
    """
    if type(x) is float:
        return x
    if type(x) is int and -(2**53) <= x <= 2**53:
        return float(x)  # exact
    if isinstance(x, Real):  # int, bool, Fraction, NumPy scalars (an ABC check: after the quick one above)
        try:
            return float(x)
        except OverflowError:
            size = x.bit_length() if isinstance(x, int) else "many"
            raise OverflowError(f"{what}: an int of {size} bits is too large for a float") from None
    raise TypeError(f"{what} must be {kind}, not {type(x).__name__}")


def as_tolerance(x: object, what: str, positive: bool = True) -> float:
    """A step or a tolerance (gradcheck's eps, atol, ...): a finite float, > 0 (or >= 0 when not
    `positive`). True and False are refused: they are not sizes. Errors name `what`."""
    kind = "a positive finite number" if positive else "a non-negative finite number"
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{what} must be {kind}, not {x!r}")
    try:
        number = float(x)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or number < 0.0 or (positive and number == 0.0):
        raise ValueError(f"{what} must be {kind}, not {x!r}")
    return number


def as_reals(xs: object, what: str) -> list[float]:
    """A list (or tuple, or any sequence) of real numbers as floats; errors name `what` and the index."""
    if isinstance(xs, (str, bytes)) or not hasattr(xs, "__iter__") or not hasattr(xs, "__len__"):
        raise TypeError(f"{what} must be a list of numbers, not {xs!r}")
    return [as_real(x, f"{what}[{i}]", "a real number") for i, x in enumerate(xs)]


def as_numbers(xs: object, n: int, what: str) -> list[float] | array:
    """`xs` checked as n real numbers, one per parameter: an ``array("d")`` or a list of floats as it
    is (no copy), anything else indexable (a tuple, a NumPy array) as a new list of floats. Errors
    name `what` and, for a number, its index."""
    count = f"{n} number" if n == 1 else f"{n} numbers"
    if isinstance(xs, array):
        if xs.typecode != "d":
            raise TypeError(f"{what} must be an array of doubles (typecode 'd'), not of {xs.typecode!r}")
        numbers: list[float] | array = xs
    elif (
        isinstance(xs, (str, bytes, bytearray, Mapping)) or not hasattr(xs, "__len__") or not hasattr(xs, "__getitem__")
    ):
        raise TypeError(f"{what} must be a list of {count} (one per parameter), not {type(xs).__name__}")
    elif type(xs) is list and set(map(type, xs)) <= {float}:
        numbers = xs
    else:
        numbers = as_reals(xs, what)
    if len(numbers) != n:
        raise ValueError(f"{what} must hold {count} (one per parameter), not {len(numbers)}")
    return numbers
