"""The op table: every op of the engine, each defined once.

Each entry says, side by side, what the op computes (``forward``), the local
gradient of its output with respect to each input (``derivative``, in the
inputs' order; ``out`` is the output), its domain, and its kink conventions.
The formulas are plain arithmetic (see `engine.formula` for the language), so
one entry gives the float code that makes nodes, the Value code for
higher-order derivatives, and the staged Python and C code; how the op is drawn
(``gate``) and what a local gradient of 0 means there (``zero``) sit beside them.
Nothing elsewhere looks an op up by its name.

Conventions, as PyTorch in float64: NaN propagates through every op whatever the
argument order; relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope; maximum and
minimum split a tie 0.5 / 0.5 (and return the first input); clip passes
gradient 1 at its bounds and 0 strictly outside them; sqrt'(0) = inf.
"""

from __future__ import annotations

from collections.abc import Callable

from .fused import Dot, LogSumExp, Sum
from .op import Op, defop
from .value import Value

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _g(x: float) -> str:
    return f"{x:g}"


def _power_gate(a: float | None, b: float | None) -> str:
    if a is None and b is None:
        return "^"
    if a is None:  # x ** b
        small = b == int(b) and abs(b) < 10  # type: ignore[arg-type]
        return "x" + _g(b).translate(_SUPERSCRIPT) if small else f"x^{_g(b)}"  # type: ignore[arg-type]
    return f"{_g(a)}^x"


def _clip_gate(x: float | None, lo: float | None, hi: float | None) -> str:
    return f"clip [{'lo' if lo is None else _g(lo)}, {'hi' if hi is None else _g(hi)}]"


def _with(symbol: str, commutes: bool = True) -> Callable[[float | None, float | None], str]:
    """The gate of an infix op, with its constant: '+1', '×2', '3−' (numbers on the left stay left)."""

    def gate(a: float | None, b: float | None) -> str:
        if a is None and b is None:
            return symbol
        if a is None or (commutes and b is None):
            return f"{symbol}{_g(b if a is None else a)}"  # type: ignore[arg-type]
        return f"{_g(a)}{symbol}"

    return gate


# -- arithmetic ----------------------------------------------------------------------------------------
# name               forward        d out / d a, d out / d b

add = defop("add", "a + b", ("1.0", "1.0"), inputs=("a", "b"), symbol="+", gate=_with("+"))
sub = defop("sub", "a - b", ("1.0", "-1.0"), inputs=("a", "b"), symbol="-", gate=_with("−", commutes=False))
mul = defop(
    "mul", "a * b", ("b", "a"),  # the mul gate swaps its inputs
    inputs=("a", "b"), symbol="*", gate=_with("×"), zero="multiplied by 0", partners=True,
)  # fmt: skip
div = defop(
    "div", "a / b", ("1.0 / b", "-out / b"),
    inputs=("a", "b"), symbol="/",
    raises=[("b == 0.0", ZeroDivisionError, "division by zero")],
    gate=lambda a, b: "÷" if a is None and b is None else (f"÷{_g(b)}" if a is None else f"{_g(a)}/x"),
)  # fmt: skip
pow = defop(  # noqa: A001
    "pow", "a ** b",
    (
        # b a**(b-1); at a base of 0: inf for 0 < b < 1 (PyTorch's value); 0 for b == 0
        "0.0 if b == 0.0 else (inf if a == 0.0 and b < 1.0 else b * power(a, b - 1.0))",
        # a**b log(a); 0 at a base of 0 (b not nan), else nan: out * nan, so it stays nan at every order
        "out * log(a) if a > 0.0 else (0.0 if a == 0.0 and b == b else out * nan)",
    ),
    inputs=("a", "b"), symbol="**", overflow=True,
    raises=[
        ("a == 0.0 and b < 0.0", ZeroDivisionError, "zero to a negative power divides by zero"),
        ("a < 0.0 and isfinite(b) and not isinteger(b)", ValueError, "a negative base needs an integer exponent"),
    ],
    gate=_power_gate,
)  # fmt: skip
neg = defop("neg", "-x", "-1.0", gate=lambda x: "−x")
abs = defop(  # noqa: A001
    "abs", "abs(x)", "1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)", gate=lambda x: "|x|", zero="abs at exactly 0"
)

# -- functions -----------------------------------------------------------------------------------------

exp = defop("exp", "exp(x)", "out", overflow=True)
log = defop("log", "log(x)", "1.0 / x", raises=[("x <= 0.0", ValueError, "the logarithm needs a positive input")])
sqrt = defop(
    "sqrt", "sqrt(x)", "0.5 / out if out != 0.0 else copysign(inf, out)",
    raises=[("x < 0.0", ValueError, "the square root needs a non-negative input")], gate=lambda x: "√",
)  # fmt: skip
sin = defop("sin", "sin(x)", "cos(x)", raises=[("isinf(x)", ValueError, "the sine needs a finite input")])
cos = defop("cos", "cos(x)", "-sin(x)", raises=[("isinf(x)", ValueError, "the cosine needs a finite input")])

# -- activations: their local gradient is where backprop leaks -------------------------------------------

tanh = defop("tanh", "tanh(x)", "1.0 - out * out", saturates=True)
sigmoid = defop(
    "sigmoid", "1.0 / (1.0 + exp(-x)) if x >= 0.0 else exp(x) / (1.0 + exp(x))",  # never exp of a large number
    "out * (1.0 - out)",
    saturates=True, gate=lambda x: "σ",
)  # fmt: skip
relu = defop("relu", "0.0 if x < 0.0 else x", "0.0 if x <= 0.0 else 1.0", zero="the relu was off (input <= 0)")
leaky_relu = defop(
    "leaky_relu", "x if x > 0.0 else slope * x", ("1.0 if x > 0.0 else slope", "0.0 if x > 0.0 else x"),
    inputs=("x", "slope"), defaults=(0.01,),
    gate=lambda x, slope: "leaky" if slope is None else f"leaky {_g(slope)}", zero="leaky_relu with slope 0",
)  # fmt: skip
clip = defop(
    "clip", "(lo if x < lo else (hi if x > hi else x)) if lo == lo and hi == hi else nan",  # a nan bound: nan
    ("1.0 if lo <= x <= hi else 0.0", "1.0 if x < lo else 0.0", "1.0 if x > hi else 0.0"),
    inputs=("x", "lo", "hi"),
    raises=[("lo > hi", ValueError, "the lower bound is above the upper")],
    gate=_clip_gate, zero="clip input outside its range",
)  # fmt: skip
maximum = defop(
    "maximum", "a if a >= b or a != a else b",
    ("0.5 if a == b else (0.0 if a < b else 1.0)", "0.5 if a == b else (0.0 if a > b else 1.0)"),
    inputs=("a", "b"), symbol="max", gate=_with("max "), zero="lost the maximum",
)  # fmt: skip
minimum = defop(
    "minimum", "a if a <= b or a != a else b",
    ("0.5 if a == b else (0.0 if a > b else 1.0)", "0.5 if a == b else (0.0 if a < b else 1.0)"),
    inputs=("a", "b"), symbol="min", gate=_with("min "), zero="lost the minimum",
)  # fmt: skip

# -- fused n-ary nodes (engine.fused): a neuron is one dot ---------------------------------------------

sum = Sum()  # noqa: A001  v0 + v1 + ...; d/dv_i = 1
dot = Dot()  # w . x (+ bias); d/dw_i = x_i, d/dx_i = w_i, d/dbias = 1
logsumexp = LogSumExp()  # log(e**v0 + e**v1 + ...); d/dv_i = e**(v_i - out), the softmax

TABLE: tuple[Op, ...]  # the built-in ops
TABLE = (add, sub, mul, div, pow, neg, abs, exp, log, sqrt, sin, cos, tanh, sigmoid, relu, leaky_relu, clip)
TABLE += (maximum, minimum, sum, dot, logsumexp)

# Value's operators that take self first (engine/value.py) are bound straight to these entries' compiled
# functions: x * y runs mul.apply(x, y), the same call with one Python frame fewer per node.
for _method, _op in [("__add__", add), ("__sub__", sub), ("__mul__", mul), ("__truediv__", div), ("__pow__", pow),
                     ("__neg__", neg), ("__abs__", abs), ("exp", exp), ("log", log), ("sqrt", sqrt), ("sin", sin),
                     ("cos", cos), ("tanh", tanh), ("sigmoid", sigmoid), ("relu", relu), ("leaky_relu", leaky_relu),
                     ("clip", clip)]:  # fmt: skip
    setattr(Value, _method, _op.apply)
