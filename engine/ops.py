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

    ``rule(*children, out)`` returns one local gradient per child of the node;
    None when the locals are constants. ``constants`` keeps the plain numbers the
    op was made with (3.0 in ``x + 3.0``), so `engine.stage` can replay the node.
    """

    rule: Callable[..., tuple] | None
    constants: tuple
    #: How `engine.stage` re-runs the op: the name of a Value method (or a function)
    #: called with fresh leaves for the children, then the constants.
    replay: str | Callable | None = None

    def __new__(cls, name: str, rule: Callable[..., tuple] | None, constants: tuple = ()) -> Op:
        op = super().__new__(cls, name)
        op.rule = rule
        op.constants = constants
        return op


@lru_cache(maxsize=1024)
def with_constants(name: str, *constants: float) -> Op:
    """The op `name` remembering the numbers it was made with; its locals are constants."""
    return Op(name, None, constants)


def local_values(node) -> tuple:
    """The node's local gradients as Values (or constants), for higher-order derivatives."""
    op = node.op
    if type(op) is Op and op.rule is not None:
        return op.rule(*node.children, node)
    return node.locals  # constants: their derivative is 0


# ------------------------------------------------------------------ the rules
# Each rule's inputs are Values or floats; `out` is the op's output.

MUL = Op("*", lambda a, b, out: (b, a))  # the mul gate swaps its inputs
DIV = Op("/", lambda a, b, out: (1 / b, -out / b))
DIV.replay = "__truediv__"


@lru_cache(maxsize=512)
def divided(numerator: float) -> Op:
    """The op for number / Value."""
    op = Op("/", lambda b, out: (-out / b,), (numerator,))
    op.replay = "__rtruediv__"
    return op


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
POW.replay = "__pow__"


@lru_cache(maxsize=512)
def pow_by(exponent: float) -> Op:
    """The op for Value ** number: its rule needs the exponent."""
    op = Op("**", lambda a, out: (pow_base_local(a, exponent),), (exponent,))
    op.replay = "__pow__"
    return op


@lru_cache(maxsize=512)
def pow_of(base: float) -> Op:
    """The op for number ** Value: its rule needs the base."""
    op = Op("**", lambda b, out: (pow_exponent_local(base, out),), (base,))
    op.replay = "__rpow__"
    return op


@lru_cache(maxsize=256)
def paired_dot(n: int, bias: bool, constant: float = 0.0) -> Op:
    """The op for dot(ws, xs) with ws and xs all Values: children are ws + xs (+ bias).

    The local gradient of w_i is x_i and that of x_i is w_i: the partners swap.
    `constant` is a number bias.
    """

    def rule(*args):
        children = args[:-1]
        ws, xs = children[:n], children[n : 2 * n]
        return (*xs, *ws, 1.0) if bias else (*xs, *ws)

    op = Op("dot", rule, (constant,))
    op.partners = (*range(n, 2 * n), *range(n), 1.0) if bias else (*range(n, 2 * n), *range(n))
    return op


def partner_dot(partners: tuple, constant: float = 0.0) -> Op:
    """The op for a dot with Values and numbers on both sides.

    partners[i] is the index of child i's partner among the children, or the
    partner's number when it is a constant. `constant` is the sum of the
    number-times-number pairs and a number bias.
    """

    def rule(*args):
        children = args[:-1]
        return tuple(children[p] if type(p) is int else p for p in partners)

    op = Op("dot", rule, (constant,))
    op.partners = partners
    return op
