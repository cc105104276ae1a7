"""Argument checks shared by `nn`: each names the function, the argument and what it must be.

A wrong type raises TypeError, a value out of range ValueError, always before
anything is changed. Numbers are any `numbers.Real` (int, float, NumPy scalars,
Fraction), returned as a Python float or int; bool is refused where a count, a
rate or a size is meant (``MLP(True, [3])`` is a slip, not one input).
"""

from __future__ import annotations

import math
import numbers
import os
import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from engine import Value


def shown(value: object) -> str:
    """`value` as an error message shows it: its repr (shortened), with its type where the repr does not show it."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1000:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"  # repr() may refuse it
    text = repr(value).split("\n", 1)[0]  # a module's summary: its first line
    if len(text) > 60:
        text = text[:57] + "..."
    if value is None or type(value) in (int, float, str, list, tuple, dict):
        return text
    return f"{text} ({type(value).__name__})"


def plural(n: int, word: str) -> str:
    """``1 number``, ``2 numbers``, ``3 classes``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}{'es' if word.endswith('s') else 's'}"


def _fail(where: str, name: str, what: str, value: object, error: type[Exception] = ValueError) -> Exception:
    return error(f"{where}: {name} must be {what}, not {shown(value)}")


def is_number(value: object) -> bool:
    """A real number that is not a bool (nor a Value: that is a graph node, not a constant)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _as_float(value: numbers.Real, where: str, name: str, what: str) -> float:
    try:
        return float(value)
    except OverflowError:  # an int beyond the largest float
        raise _fail(where, name, what, value) from None


def real(
    value: object,
    name: str,
    where: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
    what: str = "",
) -> float:
    """`value` as a float, checked: a real number (not bool), within [low, high] (or open ends), finite unless told.

    NaN is refused always: no range holds it.
    """
    if not what:
        what = _describe(low, high, low_open, high_open, finite)
    if not is_number(value):
        raise _fail(where, name, what, value, TypeError)
    number = _as_float(value, where, name, what)  # type: ignore[arg-type]
    if math.isnan(number) or (finite and math.isinf(number)):
        raise _fail(where, name, what, value)
    if low is not None and (number < low or (low_open and number == low)):
        raise _fail(where, name, what, value)
    if high is not None and (number > high or (high_open and number == high)):
        raise _fail(where, name, what, value)
    return number


def _describe(low: float | None, high: float | None, low_open: bool, high_open: bool, finite: bool) -> str:
    kind = "a finite number" if finite else "a number"
    if low == 0 and high is None:
        return f"{'a positive' if low_open else 'a non-negative'} {kind[2:]}"
    if low is not None and high is not None:
        return f"{kind} in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{kind} {'<' if high_open else '<='} {high:g}"
    return kind


def positive(value: object, name: str, where: str, *, finite: bool = True) -> float:
    """A number > 0 (finite unless told), as a float."""
    return real(value, name, where, low=0.0, low_open=True, finite=finite)


def non_negative(value: object, name: str, where: str) -> float:
    """A finite number >= 0, as a float."""
    return real(value, name, where, low=0.0)


def count(value: object, name: str, where: str, minimum: int = 1) -> int:
    """A whole number >= minimum (int or NumPy integer, not bool), as an int."""
    what = "a positive whole number" if minimum == 1 else f"a whole number >= {minimum}"
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise _fail(where, name, what, value, TypeError)
    number = int(value)
    if number < minimum:
        raise _fail(where, name, what, value)
    return number


def whole_number(value: object, name: str, where: str, least: int = 1) -> int:
    """An int >= least (not bool), returned as is; unlike `count`, a wrong type is a ValueError too.

    The sequence models' sizes (`nn.layers`, `nn.gpt`) are checked with it.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{where}: {name} must be a whole number >= {least}, not {value!r}")
    return value


def finite_number(value: object, name: str, where: str, zero: bool = True) -> float:
    """An int or float, finite and >= 0 (> 0 unless `zero`), as a float; a wrong type is a ValueError too.

    The sequence models' scales (a weight's std, RMSNorm's eps) are checked with it.
    """
    if (
        not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value))
        or value < 0
        or (value == 0 and not zero)
    ):
        bound = ">= 0" if zero else "> 0"
        raise ValueError(f"{where}: {name} must be a finite number {bound}, not {value!r}")
    return float(value)


def flag(value: object, name: str, where: str) -> bool:
    """True or False (a bool: 0 and 1 are numbers, not switches)."""
    if not isinstance(value, bool):
        raise _fail(where, name, "True or False", value, TypeError)
    return value


def choice(value: object, name: str, where: str, choices: Sequence[str]) -> str:
    """One of the names in `choices`."""
    if not isinstance(value, str) or value not in choices:
        error = ValueError if isinstance(value, str) else TypeError
        raise _fail(where, name, "one of " + ", ".join(repr(c) for c in choices), value, error)
    return value


def seed(value: object, where: str) -> int | None:
    """A seed for random.Random: a whole number (not bool), or None."""
    if value is None:
        return None
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise _fail(where, "seed", "a whole number or None", value, TypeError)
    return int(value)


def rng(value: object, where: str) -> Any:
    """A random.Random, the `random` module itself, or None."""
    if value is not None and value is not random and not isinstance(value, random.Random):
        raise _fail(where, "rng", "a random.Random or None", value, TypeError)
    return value


def function(value: object, name: str, where: str, *, optional: bool = False) -> Any:
    """Something callable (or None when optional)."""
    if value is None and optional:
        return None
    if not callable(value):
        raise _fail(where, name, "a function" + (" or None" if optional else ""), value, TypeError)
    return value


def sequence(value: object, name: str, where: str, *, what: str = "a non-empty list", empty: bool = False) -> list:
    """A list, tuple, NumPy array or other ordered collection, as a list; non-empty unless told.

    Strings, dicts, sets and Values are refused: they are not lists of items.
    """
    if not is_list_like(value):
        raise _fail(where, name, what, value, TypeError)
    try:
        items = list(value)  # type: ignore[call-overload]
    except TypeError:  # a 0-d NumPy array has __len__ and __iter__ but is a scalar
        raise _fail(where, name, what, value, TypeError) from None
    if not items and not empty:
        raise _fail(where, name, what, value)
    return items


def is_list_like(value: object) -> bool:
    """A sized, ordered collection of items: a list, tuple, range, NumPy array; not a str, dict, set or Value."""
    if isinstance(value, (str, bytes, Mapping, AbstractSet, Value)):
        return False
    return isinstance(value, Sequence) or (isinstance(value, Collection) and hasattr(value, "__getitem__"))


def samples(value: object, name: str, where: str, nin: int | None = None) -> list:
    """Input rows: a non-empty list of equally long lists of finite numbers (or Values), `nin` long if given."""
    rows = sequence(value, name, where, what="a non-empty list of samples (each a list of numbers)")
    width = nin
    for i, row in enumerate(rows):
        items = sequence(row, f"{name}[{i}]", where, what="a list of numbers (one sample)")
        if width is None:
            width = len(items)
        elif len(items) != width:
            first = f"{name}[0] has {width}" if nin is None else f"the model takes {plural(nin, 'input')}"
            raise ValueError(f"{where}: {name}[{i}] has {plural(len(items), 'number')}, {first}")
        for j, v in enumerate(items):
            if not isinstance(v, Value):
                real(v, f"{name}[{i}][{j}]", where)
    return rows


def values(value: object, name: str, where: str) -> list[Value]:
    """A non-empty iterable of Values (a model's parameters()), as a list."""
    what = "an iterable of Values such as model.parameters()"
    if isinstance(value, (str, bytes, Value)) or not isinstance(value, Iterable):
        raise _fail(where, name, what, value, TypeError)
    items = list(value)
    for i, item in enumerate(items):
        if not isinstance(item, Value):
            raise TypeError(f"{where}: {name} must all be Values, but item {i} is {shown(item)}")
    if not items:
        raise ValueError(f"{where}: {name} is empty: there are no parameters to update")
    return items


def path(value: object, name: str, where: str) -> Path:
    """A file path: a non-empty str or os.PathLike naming a file (not a folder)."""
    if not isinstance(value, (str, os.PathLike)):
        raise _fail(where, name, "a file path (str or pathlib.Path)", value, TypeError)
    text = os.fspath(value)
    if not isinstance(text, str) or not text or text.endswith(("/", os.sep)):
        raise _fail(where, name, "a path naming a file", value)
    return Path(text)
