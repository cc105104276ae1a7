"""Local-derivative rules, each written once, for floats and for Values alike.

A rule takes the op's inputs and its output and returns d(output)/d(input) for
each input that is a Value. It uses only arithmetic and the functions of
`engine.generic`, so the same rule runs

* on floats, when the node is made: the numbers `backward()` multiplies by;
* on Values, for higher-order derivatives: then the local gradients are
  themselves nodes of a graph, which can be differentiated again.

Ops whose local gradients are constants (add, sub, neg, relu, abs, clip,
max/min, sum, multiplying by a number) need no rule: the stored numbers are the
Value-level locals too, with derivative 0. `Op` is the name a node shows in
``node.op`` (it is a str), carrying the rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

from . import generic


class Op(str):
    """An op's name, as ``node.op`` shows it, with its local-derivative rule.

    ``rule(*children, out)`` returns one local gradient per child of the node.
    """

    rule: Callable[..., tuple]

    def __new__(cls, name: str, rule: Callable[..., tuple]) -> Op:
        op = super().__new__(cls, name)
        op.rule = rule
        return op


def local_values(node) -> tuple:
    """The node's local gradients as Values (or constants), for higher-order derivatives."""
    op = node.op
    if type(op) is Op:
        return op.rule(*node.children, node)
    return node.locals  # constants: their derivative is 0


# ------------------------------------------------------------------ the rules
# Each rule's inputs are Values or floats; `out` is the op's output.

MUL = Op("*", lambda a, b, out: (b, a))  # the mul gate swaps its inputs
DIV = Op("/", lambda a, b, out: (1 / b, -out / b))
RDIV = Op("/", lambda b, out: (-out / b,))  # number / Value
EXP = Op("exp", lambda x, out: (out,))
LOG = Op("log", lambda x, out: (1 / x,))
SQRT = Op("sqrt", lambda x, out: (0.5 / out if float(out) else math.inf,))
TANH = Op("tanh", lambda x, out: (1 - out * out,))
SIGMOID = Op("sigmoid", lambda x, out: (out * (1 - out),))
SIN = Op("sin", lambda x, out: (generic.cos(x),))
COS = Op("cos", lambda x, out: (-generic.sin(x),))


def pow_base_local(a, b):
    """d(a**b)/da = b * a**(b - 1); PyTorch's values where that is undefined.

    0 for an exponent of 0; at a base of 0: 0 for b > 1, 1 for b = 1, inf for 0 < b < 1.
    """
    a_number, b_number = float(a), float(b)
    if b_number == 0.0:
        return 0.0
    if a_number == 0.0:
        return 0.0 if b_number > 1 else (1.0 if b_number == 1 else math.inf)
    return b * a ** (b - 1)


def pow_exponent_local(a, out):
    """d(a**b)/db = a**b * log(a); 0 at a base of 0, nan for a negative base (as PyTorch)."""
    a_number = float(a)
    if a_number > 0:
        return out * generic.log(a)
    return 0.0 if a_number == 0.0 else math.nan


POW = Op("**", lambda a, b, out: (pow_base_local(a, b), pow_exponent_local(a, out)))


@lru_cache(maxsize=512)
def pow_by(exponent: float) -> Op:
    """The op for Value ** number: its rule needs the exponent."""
    return Op("**", lambda a, out: (pow_base_local(a, exponent),))


@lru_cache(maxsize=512)
def pow_of(base: float) -> Op:
    """The op for number ** Value: its rule needs the base."""
    return Op("**", lambda b, out: (pow_exponent_local(base, out),))


@lru_cache(maxsize=256)
def paired_dot(n: int, bias: bool) -> Op:
    """The op for dot(ws, xs) with ws and xs all Values: children are ws + xs (+ bias).

    The local gradient of w_i is x_i and that of x_i is w_i: the partners swap.
    """

    def rule(*args):
        children = args[:-1]
        ws, xs = children[:n], children[n : 2 * n]
        return (*xs, *ws, 1.0) if bias else (*xs, *ws)

    return Op("dot", rule)


def partner_dot(partners: tuple) -> Op:
    """The op for a dot with Values and numbers on both sides.

    partners[i] is the index of child i's partner among the children, or the
    partner's number when it is a constant.
    """

    def rule(*args):
        children = args[:-1]
        return tuple(children[p] if type(p) is int else p for p in partners)

    return Op("dot", rule)
