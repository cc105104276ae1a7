"""What the engine takes as a number: any real number, stored as a Python float.

int, bool, float, `fractions.Fraction`, NumPy scalars (np.float32, np.int64, ...):
anything registered as a `numbers.Real`. Everything else is a TypeError naming
the argument and its type, raised before anything is changed.
"""

from __future__ import annotations

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
