"""The fused n-ary ops, `sum` and `dot`: one node for many inputs (a neuron is one `dot`).

They are entries of the op table like the others (`engine.ops.sum`, `engine.ops.dot`),
but take lists, so their code is written here by hand, with fast paths for the
shapes a network makes: a hidden layer (Values on both sides) and an input layer
(Values times numbers).

Sums are added left to right, starting from -0.0 (the exact identity of +), on
every Python: the staged code writes ``t0 + t1 + ...`` and gets the same bits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from functools import cache, reduce
from operator import add, mul
from typing import Any

from .formula import c_number
from .number import as_real
from .op import Op
from .value import Value, make_node

__all__ = ["Dot", "LogSumExp", "Sum", "add_up"]

if sum([1e16, 1.0, -1e16], -0.0) == 0.0:  # the built-in sum adds floats left to right (Python < 3.12)
    add_up: Callable[[Iterable[float], float], float] = sum
else:  # Python 3.12+ compensates the rounding of float sums: add left to right ourselves

    def add_up(terms: Iterable[float], start: float = -0.0) -> float:
        return reduce(add, terms, start)


@cache
def ones(n: int) -> tuple[float, ...]:
    """(1.0, 1.0, ...): the locals of a sum, one shared tuple per length."""
    return (1.0,) * n


def _text(arg: str | float, language: str) -> str:
    """An argument as source text: its variable, or its number written to read back exactly."""
    if isinstance(arg, str):
        return arg
    if language == "c":
        return c_number(arg)
    return repr(float(arg)) if math.isfinite(arg) else f"float({str(arg)!r})"


def _listed(values: object, what: str) -> list:
    """An iterable of Values and numbers as a list; anything else (None, a number, a Value) is a TypeError."""
    if isinstance(values, (Value, str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{what} must be a list (or other iterable) of Values and numbers, not {type(values).__name__}")
    return list(values)


class _Fused(Op):
    """What the fused ops share: no formulas, no domain, hand-written code."""

    def __init__(self, name: str, gate: str, zero: str, doc: str):
        self.name = self.symbol = name
        self.inputs = ()
        self.defaults = ()
        self.checks = ()
        self.overflow = self.saturates = False
        self.partners = False
        self.splits = True
        self.formulas = False
        self.draw = lambda *numbers: gate
        self.zero = zero
        self.__doc__ = doc

    def c(self, args: Sequence[str | float], out: str) -> tuple[str, list[str], list]:
        return self._written(args, out, "c")

    def python(self, args: Sequence[str | float], out: str) -> tuple[str, list[str], list]:
        return self._written(args, out, "python")


class Sum(_Fused):
    """v0 + v1 + ... as one node; d/dv_i = 1. Numbers among the values are constants."""

    def __init__(self) -> None:
        super().__init__("sum", "Σ", "local gradient 0", self.__doc__ or "")

    def apply(self, values: Iterable[Value | float]) -> Value:
        values = values if type(values) is list else _listed(values, "sum: values")
        datas = [v.data for v in values if v.__class__ is Value]
        if len(datas) == len(values):
            if not values:
                return Value(0.0)  # an empty sum is a leaf 0.0
            return make_node(add_up(datas, -0.0), self, tuple(values), ones(len(values)), ())
        return self.node_of(values, [v.data if isinstance(v, Value) else as_real(v, "sum: each value") for v in values])

    def value_locals(self, node: Value) -> tuple:
        return node.locals

    def _evaluate(self, *numbers: float) -> tuple[float, tuple[float, ...]]:
        return add_up(numbers, -0.0), ones(len(numbers))

    def _written(self, args, out, language):
        return " + ".join(_text(a, language) for a in args), ["1.0"] * len(args), []


class Dot(_Fused):
    """w0*x0 + w1*x1 + ... (+ bias) as one node; d/dw_i = x_i, d/dx_i = w_i, d/dbias = 1.

    Its inputs, in order, are w0..w(n-1), x0..x(n-1) and the bias if there is one;
    the children are the Values among them, in that order.
    """

    def __init__(self) -> None:
        super().__init__("dot", "·", "multiplied by 0", self.__doc__ or "")
        self.partners = True  # its locals are its other inputs: finite when the output is

    def apply(self, ws: Iterable[Value | float], xs: Iterable[Value | float], bias: Any = None) -> Value:
        ws = ws if type(ws) is list else _listed(ws, "dot: ws")
        xs = xs if type(xs) is list else _listed(xs, "dot: xs")
        n = len(ws)
        if n != len(xs):
            raise ValueError(f"dot: {n} weights but {len(xs)} inputs; they must pair up")
        w_datas = [w.data for w in ws if w.__class__ is Value]
        if len(w_datas) == n and n:
            x_datas = [x.data for x in xs if x.__class__ is Value]
            constants: tuple[float | None, ...]
            if len(x_datas) == n:  # a hidden layer: Values on both sides, each local is its partner's number
                children, locals_, constants = ws + xs, x_datas + w_datas, ()
            elif not x_datas:  # an input layer: Values times numbers, the numbers are the locals
                x_datas = [x if x.__class__ is float else as_real(x, "dot: each x") for x in xs]
                children, locals_, constants = list(ws), list(x_datas), (None,) * n + tuple(x_datas)
            else:
                return self._mixed(ws, xs, bias)
            data = add_up(map(mul, w_datas, x_datas), -0.0)
            if bias is None:
                return make_node(data, self, tuple(children), tuple(locals_), constants)
            if bias.__class__ is Value or isinstance(bias, Value):
                children.append(bias)
                locals_.append(1.0)
                return make_node(
                    data + bias.data, self, tuple(children), tuple(locals_), constants and (*constants, None)
                )
            number = as_real(bias, "dot: bias")
            return make_node(
                data + number, self, tuple(children), tuple(locals_), (*(constants or (None,) * 2 * n), number)
            )
        return self._mixed(ws, xs, bias)

    def _mixed(self, ws: list, xs: list, bias: Any) -> Value:
        """Any mix of Values and numbers: numbers are constants, not children."""
        inputs = ws + xs + ([] if bias is None else [bias])
        return self.node_of(inputs, [v.data if isinstance(v, Value) else as_real(v, "dot: each input") for v in inputs])

    @staticmethod
    def _pairs(count: int) -> tuple[int, bool]:
        """n and whether there is a bias, from the number of inputs."""
        return count // 2, count % 2 == 1

    def value_locals(self, node: Value) -> tuple:
        arguments = self.arguments(node)
        n, has_bias = self._pairs(len(arguments))
        partners = [*arguments[n : 2 * n], *arguments[:n], *([1.0] if has_bias else [])]
        return tuple(p for a, p in zip(arguments, partners) if isinstance(a, Value))

    def _evaluate(self, *numbers: float) -> tuple[float, tuple[float, ...]]:
        n, has_bias = self._pairs(len(numbers))
        ws, xs = numbers[:n], numbers[n : 2 * n]
        out = add_up(map(mul, ws, xs), -0.0)
        if has_bias:
            out += numbers[-1]
        return out, (*xs, *ws, *((1.0,) if has_bias else ()))

    def _written(self, args, out, language):
        n, has_bias = self._pairs(len(args))
        texts = [_text(a, language) for a in args]
        terms = [f"{w} * {x}" for w, x in zip(texts[:n], texts[n : 2 * n])]
        if has_bias:
            terms.append(texts[-1])
        partners = [*texts[n : 2 * n], *texts[:n], *(["1.0"] if has_bias else [])]
        return " + ".join(terms) if terms else "0.0", partners, []


def logsumexp_of(numbers: Sequence[float]) -> float:
    """log(e**x0 + e**x1 + ...) of floats, the largest taken out first so no exp overflows.

    nan if any is nan; inf if any is inf; -inf if all are -inf.
    """
    top = -math.inf
    for x in numbers:
        if x != x:
            return math.nan
        if x > top:
            top = x
    if math.isinf(top):
        return top
    return top + math.log(add_up([math.exp(x - top) for x in numbers], -0.0))


class LogSumExp(_Fused):
    """log(e**v0 + e**v1 + ...) as one node, stable; d/dv_i = e**(v_i - out): the softmax of the values.

    A cross-entropy is ``logsumexp(logits) - logits[target]``; a softmax is
    ``[(v - logsumexp(logits)).exp() for v in logits]``. Numbers among the values
    are constants.
    """

    def __init__(self) -> None:
        super().__init__("logsumexp", "logsumexp", "local gradient 0", self.__doc__ or "")
        self.splits = False

    def apply(self, values: Iterable[Value | float]) -> Value:
        values = values if type(values) is list else _listed(values, "logsumexp: values")
        if not values:
            raise ValueError("logsumexp: needs at least one value")
        return self.node_of(
            values, [v.data if isinstance(v, Value) else as_real(v, "logsumexp: each value") for v in values]
        )

    def value_locals(self, node: Value) -> tuple:
        return tuple((v - node).exp() for v in self.arguments(node) if isinstance(v, Value))

    def _evaluate(self, *numbers: float) -> tuple[float, tuple[float, ...]]:
        out = logsumexp_of(numbers)
        return out, tuple(math.exp(x - out) for x in numbers)

    def _written(self, args, out, language):
        texts = [_text(a, language) for a in args]
        if language == "c":
            forward = f"cg_logsumexp({len(texts)}, (double[]){{{', '.join(texts)}}})"
            return forward, [f"exp({t} - {out})" for t in texts], []
        return f"logsumexp_of(({', '.join(texts)},))", [f"exp({t} - {out})" for t in texts], []
