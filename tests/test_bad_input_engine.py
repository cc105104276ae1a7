"""Bad input to every public function of `engine`: a clear error, and nothing changed.

Each row calls one function (or method, or operator) with one bad argument, checks
that the error is of the right type and names the problem (the argument and what it
must be), then checks that every node of a graph that already holds gradients, and a
staged graph and a staged function with their parameters, are exactly as they were,
and that the grad mode and the scope are back to what they were.

Rows whose error is not yet clear (or that accept nonsense) in a file this suite's
author could not change are strict xfails, with the reason: when the engine is fixed,
the xfail fails and its marker goes.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass

import pytest

import engine
from engine import (
    Op,
    StageError,
    Value,
    analytic_grad,
    blocked,
    current_scope,
    defop,
    detect_anomaly,
    draw_dot,
    enable_grad,
    generic,
    grad,
    gradcheck,
    gradgradcheck,
    gradients,
    hessian,
    hvp,
    is_recording,
    jacobian,
    jvp,
    logsumexp,
    maximum,
    minimum,
    no_grad,
    numerical_grad,
    ops,
    rel_error,
    scope,
    silu,
    softplus,
    stage,
    swish,
    topological_order,
    value_and_grad,
)
from engine.formula import FormulaError

NAN, INF = math.nan, math.inf
BIG = 10**400  # an int no float can hold


class World:
    """A graph with gradients in it, a staged graph and a staged function: what a bad call could change."""

    def __init__(self):
        self.x, self.w, self.b = Value(2.0, "x"), Value(-3.0, "w"), Value(0.5, "b")
        self.h = (self.x * self.w + self.b).tanh()
        self.y = Value.dot([self.h, self.w], [self.x, 1.5], bias=self.b).relu() + maximum(self.h, 0.1)
        self.y.backward()
        self.staged = stage(self.y)
        self.staged()
        self.p = Value(0.7, "p")
        self.fn = stage(lambda v: (v * self.p).tanh(), 1.0)
        self.fn(0.3)
        self.list_fn = stage(lambda vs: Value.sum(vs) * self.p, [1.0, 2.0])

    def nodes(self) -> list[Value]:
        return [self.x, self.w, self.b, self.p, *topological_order(self.y), *topological_order(self.h)]

    def snapshot(self):
        return (
            [(n.data, n.grad, n.label, n.children, n.locals, n.constants) for n in self.nodes()],
            is_recording(),
            current_scope(),
            self.staged.source,
            self.fn.source,
        )


@dataclass
class Row:
    call: Callable[[World], object]
    error: type[BaseException]
    message: str
    xfail: str | None = None  # why the engine does not yet do this (file, what is missing)


def R(call, error, message, xfail=None):
    return Row(call, error, message, xfail)


def f_square(v):
    return v * v


def f_list(vs):
    return vs[0] * vs[1]


ROWS: dict[str, Row] = {
    # ------------------------------------------------------------------ Value
    "Value('1.0')": R(lambda w: Value("1.0"), TypeError, r"^Value\(data\): data must be a real number, not str$"),
    "Value(None)": R(lambda w: Value(None), TypeError, r"data must be a real number, not NoneType"),
    "Value(1j)": R(lambda w: Value(1j), TypeError, r"data must be a real number, not complex"),
    "Value([1.0])": R(lambda w: Value([1.0]), TypeError, r"data must be a real number, not list"),
    "Value(Value)": R(lambda w: Value(w.x), TypeError, r"data must be a real number, not Value"),
    "Value(10**400)": R(lambda w: Value(BIG), OverflowError, r"^Value\(data\): data: an int of 1329 bits is too"),
    "Value(label=3)": R(lambda w: Value(1.0, label=3), TypeError, r"label must be a str, not int"),
    "Value(label=None)": R(lambda w: Value(1.0, None), TypeError, r"label must be a str, not NoneType"),
    "Value(data, children, op)": R(lambda w: Value(1.0, (w.x,), "exp"), TypeError, r"engine\.defop"),
    "x + 'a'": R(lambda w: w.x + "a", TypeError, r"^add: b must be a Value or a real number, not str$"),
    "'a' + x": R(lambda w: "a" + w.x, TypeError, r"^add: a must be a Value or a real number, not str$"),
    "x - None": R(lambda w: w.x - None, TypeError, r"^sub: b must be a Value or a real number, not NoneType"),
    "x * 1j": R(lambda w: w.x * 1j, TypeError, r"^mul: b must be a Value or a real number, not complex"),
    "[1] * x": R(lambda w: [1.0] * w.x, TypeError, r"^mul: a must be a Value or a real number, not list"),
    "x / '2'": R(lambda w: w.x / "2", TypeError, r"^div: b must be a Value or a real number, not str"),
    "x / 0": R(lambda w: w.x / 0, ZeroDivisionError, r"^div\(2\.0, 0\.0\): division by zero"),
    "x ** 10**400": R(lambda w: w.x**BIG, OverflowError, r"^pow: b: an int of 1329 bits is too large"),
    "x ** 'a'": R(lambda w: w.x ** "a", TypeError, r"^pow: b must be a Value or a real number, not str"),
    "10**400 ** x": R(lambda w: BIG**w.x, OverflowError, r"^pow: a: an int of 1329 bits is too large"),
    "x ** 0.5 at -3": R(lambda w: w.w**0.5, ValueError, r"^pow\(-3\.0, 0\.5\): a negative base needs an integer"),
    "x < 'a'": R(lambda w: w.x < "a", TypeError, r"comparison with a Value: the other side must be a Value or a real"),
    "x >= None": R(lambda w: w.x >= None, TypeError, r"the other side must be a Value or a real number, not NoneType"),
    "x.log() at -3": R(lambda w: w.w.log(), ValueError, r"^log\(-3\.0\): the logarithm needs a positive input"),
    "x.exp() at 1000": R(lambda w: (w.x * 500).exp(), OverflowError, r"^exp\(1000\.0\): the result overflows"),
    "x.leaky_relu('0.1')": R(lambda w: w.x.leaky_relu("0.1"), TypeError, r"^leaky_relu: slope must be a Value or a"),
    "x.leaky_relu(None)": R(lambda w: w.x.leaky_relu(None), TypeError, r"slope must be a Value or a real number, not"),
    "x.leaky_relu(10**400)": R(lambda w: w.x.leaky_relu(BIG), OverflowError, r"^leaky_relu: slope: an int of 1329"),
    "x.clip('a', 1)": R(lambda w: w.x.clip("a", 1), TypeError, r"^clip: lo must be a Value or a real number, not str"),
    "x.clip(0, None)": R(lambda w: w.x.clip(0, None), TypeError, r"^clip: hi must be a Value or a real number, not No"),
    "x.clip(1, -1)": R(lambda w: w.x.clip(1, -1), ValueError, r"^clip\(2\.0, 1\.0, -1\.0\): the lower bound is above"),
    "x.clip(lo=Value above hi)": R(
        lambda w: w.x.clip(w.x, w.b), ValueError, r"^clip\(2\.0, 2\.0, 0\.5\): the lower bound is above the upper"
    ),
    "x.clip(0)": R(lambda w: w.x.clip(0), TypeError, r"missing 1 required positional argument: 'hi'"),
    "Value.sum(None)": R(lambda w: Value.sum(None), TypeError, r"^sum: values must be .*, not NoneType"),
    "Value.sum(3)": R(lambda w: Value.sum(3), TypeError, r"^sum: values must be"),
    "Value.sum('ab')": R(lambda w: Value.sum("ab"), TypeError, r"^sum: values must be a list .*, not str"),
    "Value.sum([x, 'a'])": R(lambda w: Value.sum([w.x, "a"]), TypeError, r"^sum: each value must be a Value or a rea"),
    "Value.sum([x, 10**400])": R(lambda w: Value.sum([w.x, BIG]), OverflowError, r"^sum: each value: an int of 1329"),
    "Value.sum([x, None])": R(lambda w: Value.sum([w.x, None]), TypeError, r"each value must be a Value or a real num"),
    "Value.dot([x], [1, 2])": R(lambda w: Value.dot([w.x], [1, 2]), ValueError, r"^dot: 1 weights but 2 inputs"),
    "Value.dot([x], ['a'])": R(lambda w: Value.dot([w.x], ["a"]), TypeError, r"^dot: each x must be a Value or a rea"),
    "Value.dot(['a'], [x])": R(lambda w: Value.dot(["a"], [w.x]), TypeError, r"^dot: each .* must be a Value or a rea"),
    "Value.dot(bias='a')": R(
        lambda w: Value.dot([w.x], [w.w], bias="a"), TypeError, r"^dot: bias must be a Value or a real number, not str"
    ),
    "Value.dot(bias=10**400)": R(
        lambda w: Value.dot([w.x], [1.0], bias=BIG), OverflowError, r"^dot: bias: an int of 1329 bits"
    ),
    "Value.dot(x, x)": R(lambda w: Value.dot(w.x, w.x), TypeError, r"^dot: ws must be a list"),
    "Value.dot(None, [x])": R(lambda w: Value.dot(None, [w.x]), TypeError, r"^dot: ws must be a list"),
    "Value.dot([x], [nan]) ok, [x], [1j]": R(
        lambda w: Value.dot([w.x], [1j]), TypeError, r"^dot: each x must be a Value or a real number, not complex"
    ),
    "y.backward('1')": R(lambda w: w.y.backward("1"), TypeError, r"^backward\(gradient\): gradient must be a real"),
    "y.backward(None)": R(lambda w: w.y.backward(None), TypeError, r"gradient must be a real number, not NoneType"),
    "y.backward(10**400)": R(lambda w: w.y.backward(BIG), OverflowError, r"^backward\(gradient\): gradient: an int"),
    "y.backward(1j)": R(lambda w: w.y.backward(1j), TypeError, r"gradient must be a real number, not complex"),
    "y.backward([1.0])": R(lambda w: w.y.backward([1.0]), TypeError, r"gradient must be a real number, not list"),
    "y.draw(style=1)": R(lambda w: w.y.draw(style=1), ValueError, r"style must be 'record' or 'circuit', not 1"),
    "x.detach(1)": R(lambda w: w.x.detach(1), TypeError, r"detach\(\) takes 1 positional argument but 2 were given"),
    # ------------------------------------------------------- the op table's functions
    "maximum('a', x)": R(lambda w: maximum("a", w.x), TypeError, r"^maximum: a must be a Value or a real number"),
    "minimum(x, None)": R(lambda w: minimum(w.x, None), TypeError, r"^minimum: b must be a Value or a real number"),
    "maximum(x, 1j)": R(lambda w: maximum(w.x, 1j), TypeError, r"^maximum: b must be a Value or a real number, not c"),
    "maximum(x, 10**400)": R(lambda w: maximum(w.x, BIG), OverflowError, r"^maximum: b: an int of 1329 bits"),
    "maximum(x)": R(lambda w: maximum(w.x), TypeError, r"^maximum\(\) missing .*'b'"),
    "minimum(x, x, x)": R(lambda w: minimum(w.x, w.x, w.x), TypeError, r"^minimum\(\) takes 2"),
    "softplus('a')": R(lambda w: softplus("a"), TypeError, r"^softplus: x must be a Value or a real number, not str"),
    "silu(None)": R(lambda w: silu(None), TypeError, r"^silu: x must be a Value or a real number, not NoneType"),
    "swish([1.0])": R(lambda w: swish([1.0]), TypeError, r"^silu: x must be a Value or a real number, not list"),
    "softplus()": R(lambda w: softplus(), TypeError, r"^softplus\(\) missing .*'x'"),
    "ops.exp('a')": R(lambda w: ops.exp("a"), TypeError, r"^exp: x must be a Value or a real number, not str"),
    "ops.log(-1.0)": R(lambda w: ops.log(-1.0), ValueError, r"^log\(-1\.0\): the logarithm needs a positive input"),
    "ops.sqrt(x - 3)": R(lambda w: ops.sqrt(w.x - 3), ValueError, r"^sqrt\(-1\.0\): the square root needs a non-neg"),
    "ops.sin(inf)": R(lambda w: ops.sin(Value(INF)), ValueError, r"^sin\(inf\): the sine needs a finite input"),
    "ops.pow(0, -1)": R(lambda w: ops.pow(w.x * 0, -1), ZeroDivisionError, r"^pow\(0\.0, -1\.0\): zero to a negative"),
    "ops.pow(1e200, 2)": R(lambda w: ops.pow(Value(1e200), 2), OverflowError, r"^pow\(1e\+200, 2\.0\): the result ov"),
    "ops.leaky_relu(x, slope='a')": R(
        lambda w: ops.leaky_relu(w.x, slope="a"), TypeError, r"^leaky_relu: slope must be a Value or a real number"
    ),
    "ops.sum(None)": R(lambda w: ops.sum(None), TypeError, r"^sum: values must be"),
    "ops.dot([x], [x], 'b')": R(lambda w: ops.dot([w.x], [w.x], "b"), TypeError, r"^dot: bias must be a Value or a"),
    "topological_order(1.0)": R(
        lambda w: topological_order(1.0),
        TypeError,
        r"^topological_order: root must be a Value, not float",
    ),
    # -------------------------------------------------------------------- defop, Op
    "defop(3, ...)": R(lambda w: defop(3, "x", "1"), TypeError, r"^defop: name must be a non-empty str, not 3"),
    "defop('', ...)": R(lambda w: defop("", "x", "1"), TypeError, r"^defop: name must be a non-empty str, not ''"),
    "Op(None, ...)": R(lambda w: Op(None, "x", "1"), TypeError, r"^defop: name must be a non-empty str, not None"),
    "defop(forward=3)": R(
        lambda w: defop("f", 3, "1"), TypeError, r"^defop 'f': forward and derivative must both be formulas"
    ),
    "defop(forward=function, derivative=str)": R(
        lambda w: defop("f", abs, "1"), TypeError, r"^defop 'f': forward and derivative must both be formulas"
    ),
    "defop(derivative=3)": R(lambda w: defop("f", "x", 3), TypeError, r"^defop 'f': derivative must be"),
    "defop('x +')": R(lambda w: defop("f", "x +", "1"), FormulaError, r"^formula 'x \+' is not a Python expression"),
    "defop('x.data')": R(
        lambda w: defop("f", "x.data", "1"), FormulaError, r"^formula 'x\.data': Attribute is not allowed in a formula"
    ),
    "defop('__import__(x)')": R(
        lambda w: defop("f", "__import__(x)", "1"), FormulaError, r"__import__\(\) is not one of abs, acos"
    ),
    "defop(derivative uses y)": R(
        lambda w: defop("f", "exp(x)", "y"), FormulaError, r"^defop 'f': 'y' uses \['y'\], not among \['x', 'out'\]"
    ),
    "defop(two derivatives, one input)": R(
        lambda w: defop("f", "x", ["1", "2"]), FormulaError, r"^defop 'f': 1 inputs but 2 derivatives"
    ),
    "defop(inputs repeat)": R(
        lambda w: defop("f", "a * b", ("b", "a"), inputs=("a", "a")), FormulaError, r"inputs repeat a name"
    ),
    "defop(input named out)": R(
        lambda w: defop("f", "a", ("1",), inputs=("out",)), FormulaError, r"^defop 'f': 'out' cannot name an input"
    ),
    "defop(defaults=('a',))": R(
        lambda w: defop("f", "x", "1", defaults=("a",)), TypeError, r"^defop 'f': a default must be a real number"
    ),
    "defop(more defaults than inputs)": R(
        lambda w: defop("f", "x", "1", defaults=(1.0, 2.0)), ValueError, r"^defop 'f': more defaults than inputs"
    ),
    "defop(bogus=1)": R(lambda w: defop("f", "x", "1", bogus=1), TypeError, r"unexpected keyword argument 'bogus'"),
    "defop(inputs=3)": R(lambda w: defop("f", "x", "1", inputs=3), TypeError, r"^defop 'f': inputs must be"),
    "defop(symbol=3)": R(lambda w: defop("f", "x", "1", symbol=3), TypeError, r"^defop 'f': symbol must be a str"),
    "defop(raises=3)": R(lambda w: defop("f", "x", "1", raises=3), TypeError, r"^defop 'f': raises must be"),
    "defop(raises with a non-exception)": R(
        lambda w: defop("f", "x", "1", raises=[("x < 0.0", 3, "negative")]),
        TypeError,
        r"^defop 'f': raises",
    ),
    "defop(gate='g')": R(lambda w: defop("f", "x", "1", gate="g"), TypeError, r"^defop 'f': gate must be a function"),
    "defop(zero=3)": R(lambda w: defop("f", "x", "1", zero=3), TypeError, r"^defop 'f': zero must be"),
    "defop(saturates='yes')": R(
        lambda w: defop("f", "x", "1", saturates="yes"), TypeError, r"^defop 'f': saturates must be"
    ),
    "defop(doc=3)": R(lambda w: defop("f", "x", "1", doc=3), TypeError, r"^defop 'f': doc must be a str"),
    "a defop'd op's forward returns 'a'": R(
        lambda w: defop("f", lambda x: "a", lambda x, out: 1.0)(w.x),
        TypeError,
        r"^f: the forward's result must be a real number, not str",
    ),
    "a defop'd op's derivative gives 2 locals for 1 input": R(
        lambda w: defop("f", lambda x: x, lambda x, out: (1.0, 2.0))(w.x),
        ValueError,
        r"^f: the derivative gave 2 local gradients for 1 inputs",
    ),
    "a defop'd op called with 'a'": R(
        lambda w: defop("f", lambda x: x, lambda x, out: 1.0)("a"), TypeError, r"^f: x must be a Value or a real"
    ),
    # --------------------------------------------------------------------- stage
    "stage(1.0)": R(lambda w: stage(1.0), TypeError, r"^stage: expected a Value or a function, not float"),
    "stage(None)": R(lambda w: stage(None), TypeError, r"^stage: expected a Value or a function, not NoneType"),
    "stage(y, 1.0)": R(lambda w: stage(w.y, 1.0), TypeError, r"^stage\(root\) takes only watch="),
    "stage(y, has_aux=True)": R(lambda w: stage(w.y, has_aux=True), TypeError, r"^stage\(root\) takes only watch="),
    "stage(y, watch=[1.0])": R(
        lambda w: stage(w.y, watch=[1.0]), TypeError, r"^stage: watch must hold Values of the graph, not float"
    ),
    "stage(y, watch=[a stranger])": R(
        lambda w: stage(w.y, watch=[Value(3.0)]), ValueError, r"^stage: watch holds .*, which is not a node of the"
    ),
    "stage(y, watch=3)": R(lambda w: stage(w.y, watch=3), TypeError, r"^stage: watch must be a list of Values"),
    "stage(fn, 'a')": R(
        lambda w: stage(f_square, "a"), TypeError, r"^stage: argument 0 of the example must be a number or a list"
    ),
    "stage(fn, None)": R(lambda w: stage(f_square, None), TypeError, r"^stage: argument 0 of the example must be"),
    "stage(fn, Value)": R(
        lambda w: stage(f_square, w.x), TypeError, r"^stage: argument 0 of the example must be numbers .*not Values"
    ),
    "stage(fn, [1.0, 'a'])": R(lambda w: stage(f_list, [1.0, "a"]), TypeError, r"^stage: argument 0 of the example"),
    "stage(fn, 10**400)": R(lambda w: stage(f_square, BIG), OverflowError, r"^stage: argument 0 of the example"),
    "stage(fn returns a float)": R(
        lambda w: stage(lambda v: 1.0, 1.0), TypeError, r"^stage: the function must return a Value, not float"
    ),
    "stage(fn, plus=1.0)": R(
        lambda w: stage(f_square, 1.0, plus=1.0), TypeError, r"^stage: plus must be a Value or None, not float"
    ),
    "stage(fn, watch=[x])": R(
        lambda w: stage(f_square, 1.0, watch=[w.x]), TypeError, r"report other values with has_aux=True, not watch="
    ),
    "stage(fn, has_aux=True) without aux": R(
        lambda w: stage(f_square, 1.0, has_aux=True), TypeError, r"^stage: with has_aux=True the function must return"
    ),
    "stage(fn, has_aux='yes')": R(
        lambda w: stage(f_square, 1.0, has_aux="yes"), TypeError, r"^stage: has_aux must be True or False"
    ),
    "stage(fn, input_grads='yes')": R(
        lambda w: stage(f_square, 1.0, input_grads="yes"), TypeError, r"^stage: input_grads must be True or False"
    ),
    # ----------------------------------------------------------- a staged call
    "staged graph('a')": R(
        lambda w: w.staged("a"), TypeError, r"^staged call: gradient must be a real number, not str"
    ),
    "staged graph(gradient='1')": R(
        lambda w: w.staged(gradient="1"), TypeError, r"^staged call: gradient must be a real number, not str"
    ),
    "staged graph(gradient=None)": R(lambda w: w.staged(gradient=None), TypeError, r"^staged call: gradient must be"),
    "staged graph(gradient=10**400)": R(
        lambda w: w.staged(gradient=BIG), OverflowError, r"^staged call: gradient: an int of 1329 bits"
    ),
    "staged graph.mean([1.0])": R(lambda w: w.staged.mean([1.0]), TypeError, r"^mean\(\) is for a staged function"),
    "staged graph.check()": R(lambda w: w.staged.check(), TypeError, r"^check\(\) is for a staged function"),
    "staged fn('a')": R(
        lambda w: w.fn("a"), TypeError, r"^staged call: argument 0 must be a number \(the data of a call\), not str"
    ),
    "staged fn(Value)": R(
        lambda w: w.fn(w.x), TypeError, r"^staged call: argument 0 must be a number \(the data of a call\), not a Value"
    ),
    "staged fn()": R(lambda w: w.fn(), TypeError, r"^staged call: 0 arguments given, the function takes 1"),
    "staged fn(1.0, 2.0)": R(
        lambda w: w.fn(1.0, 2.0), TypeError, r"^staged call: 2 arguments given, the function takes 1"
    ),
    "staged fn(10**400)": R(
        lambda w: w.fn(BIG), OverflowError, r"^staged call: argument 0: an int of 1329 bits is too large"
    ),
    "staged fn(gradient='a')": R(lambda w: w.fn(1.0, gradient="a"), TypeError, r"^staged call: gradient must be a"),
    "staged fn.mean([])": R(lambda w: w.fn.mean([]), ValueError, r"^staged mean: the batch is empty"),
    "staged list fn.mean(X of unequal rows)": R(
        lambda w: w.list_fn.mean([[1.0, 2.0], [1.0]]),
        StageError,
        r"argument 0, sample 1 is a list of 1 number, but the trace was made with a list of 2 numbers",
    ),
    "staged fn.mean([1.0], [2.0])": R(
        lambda w: w.fn.mean([1.0], [2.0]), TypeError, r"^staged mean: 2 batches given, the function takes 1"
    ),
    "staged fn.mean(['a'])": R(
        lambda w: w.fn.mean(["a"]), TypeError, r"^staged mean: argument 0, sample 0 must be a number"
    ),
    "staged fn.mean([1.0, 'a'])": R(
        lambda w: w.fn.mean([1.0, "a"]), TypeError, r"^staged mean: argument 0, sample 1 must be a number"
    ),
    "staged fn.mean([1.0], gradient='a')": R(
        lambda w: w.fn.mean([1.0], gradient="a"), TypeError, r"^staged mean: gradient must be a real number, not str"
    ),
    "staged fn.sum(3)": R(lambda w: w.fn.sum(3), TypeError, r"^staged sum: .*must be a list"),
    "BoundBatch: staged fn.bind([])": R(lambda w: w.fn.bind([]), ValueError, r"^staged bind: the batch is empty"),
    "BoundBatch: staged fn.bind(['a'])": R(
        lambda w: w.fn.bind(["a"]), TypeError, r"^staged bind: argument 0, sample 0 must be a number"
    ),
    "BoundBatch: staged fn.bind([1.0], [2.0])": R(
        lambda w: w.fn.bind([1.0], [2.0]), TypeError, r"^staged bind: 2 batches given, the function takes 1"
    ),
    "BoundBatch: staged fn.bind(None)": R(lambda w: w.fn.bind(None), TypeError, r"^staged bind: .*must be a list"),
    "BoundBatch: staged graph.bind([1.0])": R(
        lambda w: w.staged.bind([1.0]), TypeError, r"^bind\(\) is for a staged function"
    ),
    "BoundBatch.mean(gradient='a')": R(
        lambda w: w.fn.bind([1.0]).mean(gradient="a"), TypeError, r"^staged mean: gradient must be a real number"
    ),
    "BoundBatch.sum(gradient=None)": R(
        lambda w: w.fn.bind([1.0]).sum(gradient=None), TypeError, r"^staged sum: gradient must be a real number"
    ),
    "BoundBatch.value_and_grad(None)": R(
        lambda w: w.fn.bind([1.0]).value_and_grad(None),
        TypeError,
        r"^value_and_grad: params must be a list of 1 number \(",
    ),
    "BoundBatch.value_and_grad([])": R(
        lambda w: w.fn.bind([1.0]).value_and_grad([]),
        ValueError,
        r"^value_and_grad: params must hold 1 number \(one per",
    ),
    "BoundBatch.value_and_grad([1.0, 2.0])": R(
        lambda w: w.fn.bind([1.0]).value_and_grad([1.0, 2.0]), ValueError, r"^value_and_grad: params must hold 1 n"
    ),
    "BoundBatch.value_and_grad(['a'])": R(
        lambda w: w.fn.bind([1.0]).value_and_grad(["a"]),
        TypeError,
        r"^value_and_grad: params\[0\] must be a real number, not str",
    ),
    "BoundBatch.value_and_grad([Value])": R(
        lambda w: w.fn.bind([1.0]).value_and_grad([w.p]),
        TypeError,
        r"^value_and_grad: params\[0\] must be a real number, not Value",
    ),
    "BoundBatch.value_and_grad(array('d') too long)": R(
        lambda w: w.fn.bind([1.0]).value_and_grad(array("d", [1.0, 2.0])), ValueError, r"^value_and_grad: params m"
    ),
    "BoundBatch.value_and_grad(array('f'))": R(
        lambda w: w.fn.bind([1.0]).value_and_grad(array("f", [1.0])), TypeError, r"^value_and_grad: params must be"
    ),
    "BoundBatch.value_and_grad('a')": R(
        lambda w: w.fn.bind([1.0]).value_and_grad("a"),
        TypeError,
        r"^value_and_grad: params must be a list of 1 number \(",
    ),
    "BoundBatch.value_and_grad({0.5})": R(
        lambda w: w.fn.bind([1.0]).value_and_grad({0.5}), TypeError, r"^value_and_grad: params must be a list of 1"
    ),
    "BoundBatch.value_and_grad({0.5: 1})": R(
        lambda w: w.fn.bind([1.0]).value_and_grad({0.5: 1}), TypeError, r"^value_and_grad: params must be a list"
    ),
    "BoundBatch.value_and_grad(bytearray)": R(
        lambda w: w.fn.bind([1.0]).value_and_grad(bytearray(1)), TypeError, r"^value_and_grad: params must be a list"
    ),
    "BoundBatch.value_and_grad(reduction='max')": R(
        lambda w: w.fn.bind([1.0]).value_and_grad([0.5], reduction="max"), ValueError, r"^value_and_grad: reduction"
    ),
    "staged fn.mean(None)": R(lambda w: w.fn.mean(None), TypeError, r"^staged mean: .*must be a list"),
    "staged fn.check('a')": R(lambda w: w.fn.check("a"), TypeError, r"^stage: argument 0 of the example must be"),
    "staged list fn([1.0])": R(
        lambda w: w.list_fn([1.0]),
        StageError,
        r"^staged call: argument 0 is a list of 1 number, but the trace was made with a list of 2",
    ),
    "staged list fn('ab')": R(
        lambda w: w.list_fn("ab"),
        TypeError,
        r"^staged call: argument 0 is a str, but the trace was made with a list of 2 numbers",
    ),
    "staged list fn(1.0)": R(
        lambda w: w.list_fn(1.0),
        TypeError,
        r"^staged call: argument 0 is a number, but the trace was made with a list of 2 numbers",
    ),
    "staged list fn(['a', 'b'])": R(
        lambda w: w.list_fn(["a", "b"]), TypeError, r"^staged call: argument 0 must be a number \(the data of a call\)"
    ),
    # -------------------------------------- draw_dot: checked before graphviz is touched
    "draw_dot(1.0)": R(lambda w: draw_dot(1.0), TypeError, r"^draw_dot draws a Value, not float"),
    "draw_dot(style='x')": R(lambda w: draw_dot(w.y, style="x"), ValueError, r"^style must be 'record' or 'circuit'"),
    "draw_dot(rankdir=None)": R(lambda w: draw_dot(w.y, rankdir=None), ValueError, r"^rankdir must be one of LR, TB"),
    "draw_dot(collapse='x')": R(
        lambda w: draw_dot(w.y, collapse="x"),
        ValueError,
        r"^collapse must be None, 'scope', 'layer', 'neuron' or a whole number",
    ),
    "draw_dot(collapse=['layer'])": R(lambda w: draw_dot(w.y, collapse=["layer"]), ValueError, r"^collapse must be"),
    "draw_dot(max_nodes=0)": R(
        lambda w: draw_dot(w.y, max_nodes=0), ValueError, r"^max_nodes must be a whole number >= 1, not 0"
    ),
    "draw_dot(max_nodes='a')": R(lambda w: draw_dot(w.y, max_nodes="a"), TypeError, r"max_nodes must be"),
    "draw_dot(max_nodes=2.5)": R(lambda w: draw_dot(w.y, max_nodes=2.5), TypeError, r"max_nodes must be"),
    "draw_dot(depth=-1)": R(lambda w: draw_dot(w.y, around=w.x, depth=-1), ValueError, r"depth must be"),
    "draw_dot(depth='a')": R(lambda w: draw_dot(w.y, around=w.x, depth="a"), TypeError, r"depth must be"),
    "draw_dot(precision=-1)": R(lambda w: draw_dot(w.y, precision=-1), ValueError, r"precision must be"),
    "draw_dot(precision='a')": R(lambda w: draw_dot(w.y, precision="a"), TypeError, r"precision must be"),
    "draw_dot(around=1.0)": R(lambda w: draw_dot(w.y, around=1.0), TypeError, r"around"),
    "draw_dot(around=a stranger)": R(
        lambda w: draw_dot(w.y, around=Value(3.0)),
        ValueError,
        r"around= must be a node of the graph being drawn",
    ),
    "draw_dot(saturated_below='a')": R(
        lambda w: draw_dot(w.y, saturated_below="a"), TypeError, r"saturated_below must be"
    ),
    "draw_dot(large_grad=nan)": R(lambda w: draw_dot(w.y, large_grad=NAN), ValueError, r"large_grad must be"),
    # ---------------------------------------------------------- functional transforms
    "grad(1)": R(lambda w: grad(1), TypeError, r"^grad: f must be a function of Values, not 1$"),
    "grad(f, argnums=1.5)": R(lambda w: grad(f_square, 1.5), TypeError, r"^grad: argnums must be an int or a tuple"),
    "grad(f, argnums='0')": R(lambda w: grad(f_square, "0"), TypeError, r"^grad: argnums must be an int or a tuple"),
    "grad(f, argnums=True)": R(lambda w: grad(f_square, True), TypeError, r"^grad: argnums must be an int or a tup"),
    "grad(f, argnums=(0, None))": R(lambda w: grad(f_square, (0, None)), TypeError, r"^grad: argnums must be an int"),
    "grad(f)('a')": R(
        lambda w: grad(f_square)("a"), TypeError, r"^grad: argument 0 must be a Value or a real number, not str$"
    ),
    "grad(f)(None)": R(
        lambda w: grad(f_square)(None), TypeError, r"^grad: argument 0 must be a Value or a real number, not NoneType"
    ),
    "grad(f)([1.0])": R(
        lambda w: grad(f_square)([1.0]), TypeError, r"^grad: argument 0 must be a Value or a real number, not list"
    ),
    "grad(f)(10**400)": R(lambda w: grad(f_square)(BIG), OverflowError, r"^grad: argument 0: an int of 1329 bits"),
    "grad(f)()": R(lambda w: grad(f_square)(), ValueError, r"^argnums 0 does not fit a call with 0 arguments"),
    "grad(f, argnums=1)(1.0)": R(lambda w: grad(f_square, 1)(1.0), ValueError, r"^argnums 1 does not fit a call with"),
    "grad(f returns a float)": R(
        lambda w: grad(lambda v: 1.0)(1.0), TypeError, r"^the function must return a Value, not float"
    ),
    "value_and_grad(f, argnums=[0, 'a'])": R(
        lambda w: value_and_grad(f_square, [0, "a"]), TypeError, r"^value_and_grad: argnums must be an int or a"
    ),
    "value_and_grad(f)(Value, 'a') with argnums=(0, 1)": R(
        lambda w: value_and_grad(lambda a, b: a * b, (0, 1))(w.x, "a"),
        TypeError,
        r"^value_and_grad: argument 1 must be a Value or a real number, not str",
    ),
    "value_and_grad(None)": R(lambda w: value_and_grad(None), TypeError, r"^value_and_grad: f must be a function"),
    "hessian(None)": R(lambda w: hessian(None), TypeError, r"^hessian: f must be a function of Values, not None"),
    "hessian(f)(1.0)": R(lambda w: hessian(f_list)(1.0), TypeError, r"^hessian: xs must be a list of numbers, not 1"),
    "hessian(f)('ab')": R(lambda w: hessian(f_list)("ab"), TypeError, r"^hessian: xs must be a list of numbers, not"),
    "hessian(f)([1.0, 'a'])": R(
        lambda w: hessian(f_list)([1.0, "a"]), TypeError, r"^hessian: xs\[1\] must be a real number, not str"
    ),
    "hessian(f)([Value])": R(lambda w: hessian(f_list)([w.x, 1.0]), TypeError, r"^hessian: xs\[0\] must be a real"),
    "hvp(None)": R(lambda w: hvp(None), TypeError, r"^hvp: f must be a function of Values"),
    "hvp(f)(1.0, 1.0)": R(lambda w: hvp(f_list)(1.0, 1.0), TypeError, r"^hvp: xs must be a list of numbers, not 1\.0"),
    "hvp(f)(xs, ['a', 1])": R(
        lambda w: hvp(f_list)([1.0, 2.0], ["a", 1.0]), TypeError, r"^hvp: v\[0\] must be a real number, not str"
    ),
    "hvp(f)(xs, a shorter v)": R(
        lambda w: hvp(f_list)([1.0, 2.0], [1.0]), ValueError, r"^hvp: 2 inputs but a vector of 1"
    ),
    "jvp(None, ...)": R(lambda w: jvp(None, [1.0], [1.0]), TypeError, r"^jvp: f must be a function of Values"),
    "jvp(f, 1.0, 1.0)": R(lambda w: jvp(f_square, 1.0, 1.0), TypeError, r"^jvp: primals must be a list of numbers"),
    "jvp(f, ['a'], [1.0])": R(lambda w: jvp(f_square, ["a"], [1.0]), TypeError, r"^jvp: primals\[0\] must be a real"),
    "jvp(f, [1.0], [10**400])": R(
        lambda w: jvp(f_square, [1.0], [BIG]), OverflowError, r"^jvp: tangents\[0\]: an int of 1329 bits"
    ),
    "jvp(f, [1.0], [])": R(lambda w: jvp(f_square, [1.0], []), ValueError, r"^jvp: 1 primals but 0 tangents"),
    "jacobian(None)": R(lambda w: jacobian(None), TypeError, r"^jacobian: f must be a function of Values"),
    "jacobian(f)(1.0)": R(lambda w: jacobian(f_list)(1.0), TypeError, r"^jacobian: xs must be a list of numbers"),
    "jacobian(f returns ['a'])": R(
        lambda w: jacobian(lambda vs: [vs[0], "a"])([1.0]), TypeError, r"^jacobian: f's output 1 must be a Value or"
    ),
    "jacobian(f returns 'ab')": R(
        lambda w: jacobian(lambda vs: "ab")([1.0]), TypeError, r"^jacobian: f must return a Value or a list of Values"
    ),
    "gradients(1.0, [x])": R(lambda w: gradients(1.0, [w.x]), TypeError, r"^gradients: root must be a Value, not flo"),
    "gradients(y, x)": R(lambda w: gradients(w.y, w.x), TypeError, r"^gradients: wrt must be a list of Values"),
    "gradients(y, [1.0])": R(lambda w: gradients(w.y, [1.0]), TypeError, r"^gradients: wrt\[0\] must be a Value, not"),
    "gradients(y, [x], create_graph='yes')": R(
        lambda w: gradients(w.y, [w.x], create_graph="yes"), TypeError, r"^gradients: create_graph must be True or"
    ),
    # ------------------------------------------------------------- checks and errors
    "gradcheck(None, [1.0])": R(lambda w: gradcheck(None, [1.0]), TypeError, r"^gradcheck: f must be a function of"),
    "gradcheck(f, 1.0)": R(
        lambda w: gradcheck(f_square, 1.0), TypeError, r"^gradcheck: inputs must be a list of Values or numbers"
    ),
    "gradcheck(f, x)": R(lambda w: gradcheck(f_square, w.x), TypeError, r"^gradcheck: inputs must be a list of Value"),
    "gradcheck(f, ['a'])": R(
        lambda w: gradcheck(f_square, ["a"]), TypeError, r"^gradcheck: inputs\[0\] must be a Value or a real number"
    ),
    "gradcheck(eps=0)": R(
        lambda w: gradcheck(f_square, [1.0], eps=0), ValueError, r"^gradcheck: eps must be a positive finite number"
    ),
    "gradcheck(eps=-1)": R(lambda w: gradcheck(f_square, [1.0], eps=-1), ValueError, r"^gradcheck: eps must be a pos"),
    "gradcheck(eps=inf)": R(lambda w: gradcheck(f_square, [1.0], eps=INF), ValueError, r"^gradcheck: eps must be a"),
    "gradcheck(eps=nan)": R(lambda w: gradcheck(f_square, [1.0], eps=NAN), ValueError, r"^gradcheck: eps must be a"),
    "gradcheck(eps='a')": R(lambda w: gradcheck(f_square, [1.0], eps="a"), TypeError, r"^gradcheck: eps must be a"),
    "gradcheck(atol=-1)": R(
        lambda w: gradcheck(f_square, [1.0], atol=-1), ValueError, r"^gradcheck: atol must be a non-negative finite"
    ),
    "gradcheck(rtol=inf)": R(lambda w: gradcheck(f_square, [1.0], rtol=INF), ValueError, r"^gradcheck: rtol must be"),
    "gradcheck(rtol=True)": R(lambda w: gradcheck(f_square, [1.0], rtol=True), TypeError, r"^gradcheck: rtol must be"),
    "gradgradcheck(eps=0)": R(
        lambda w: gradgradcheck(f_square, [1.0], eps=0), ValueError, r"^gradgradcheck: eps must be a positive finite"
    ),
    "gradgradcheck(f, 'ab')": R(
        lambda w: gradgradcheck(f_square, "ab"), TypeError, r"^gradgradcheck: inputs must be a list of Values"
    ),
    "gradgradcheck(atol='a')": R(
        lambda w: gradgradcheck(f_square, [1.0], atol="a"), TypeError, r"^gradgradcheck: atol must be a non-negative"
    ),
    "numerical_grad(eps=0)": R(
        lambda w: numerical_grad(f_square, [1.0], eps=0), ValueError, r"^numerical_grad: eps must be a positive fin"
    ),
    "numerical_grad(None, [1.0])": R(
        lambda w: numerical_grad(None, [1.0]), TypeError, r"^numerical_grad: f must be a function of Values"
    ),
    "numerical_grad(f returns 'a')": R(
        lambda w: numerical_grad(lambda v: "a", [1.0]), TypeError, r"^numerical_grad: f's result must be a Value or"
    ),
    "analytic_grad(f, 1.0)": R(
        lambda w: analytic_grad(f_square, 1.0), TypeError, r"^analytic_grad: inputs must be a list of Values or num"
    ),
    "analytic_grad(f returns 1.0)": R(
        lambda w: analytic_grad(lambda v: 1.0, [1.0]), TypeError, r"^f must return a Value, not float"
    ),
    "rel_error('a', 1)": R(lambda w: rel_error("a", 1), TypeError, r"^rel_error: a must be a real number, not str"),
    "rel_error(1, Value)": R(lambda w: rel_error(1.0, w.x), TypeError, r"^rel_error: b must be a real number, not V"),
    "blocked(1.0, x)": R(lambda w: blocked(1.0, w.x), TypeError, r"^blocked: root must be a Value, not float"),
    "blocked(y, 1.0)": R(lambda w: blocked(w.y, 1.0), TypeError, r"^blocked: leaf must be a Value, not float"),
    "blocked(saturated_below=-1)": R(
        lambda w: blocked(w.y, w.x, -1), ValueError, r"^blocked: saturated_below must be a non-negative finite number"
    ),
    "blocked(saturated_below='a')": R(lambda w: blocked(w.y, w.x, "a"), TypeError, r"^blocked: saturated_below must"),
    "blocked(saturated_below=nan)": R(lambda w: blocked(w.y, w.x, NAN), ValueError, r"^blocked: saturated_below must"),
    "logsumexp([])": R(lambda w: logsumexp([]), ValueError, r"^logsumexp: needs at least one value"),
    "logsumexp(None)": R(lambda w: logsumexp(None), TypeError, r"^logsumexp: values must be a list"),
    "logsumexp(['a'])": R(lambda w: logsumexp(["a"]), TypeError, r"^logsumexp: each value must be a Value or a real"),
    # ---------------------------------------------------- modes, scopes, generic
    "scope(3)": R(lambda w: scope(3).__enter__(), TypeError, r"^scope: the name must be a non-empty string, not 3"),
    "scope(None)": R(lambda w: scope(None).__enter__(), TypeError, r"^scope: the name must be a non-empty string"),
    "scope('')": R(lambda w: scope("").__enter__(), ValueError, r"^scope: the name must be a non-empty string, not ''"),
    "current_scope(1)": R(
        lambda w: current_scope(1),
        TypeError,
        r"takes no arguments|takes 0 positional arguments",
    ),
    "no_grad(1)": R(lambda w: no_grad(1).__enter__(), TypeError, r"no_grad\(\) takes 0 positional arguments"),
    "enable_grad(1)": R(lambda w: enable_grad(1).__enter__(), TypeError, r"enable_grad\(\) takes 0 positional"),
    "is_recording(1)": R(lambda w: is_recording(1), TypeError, r"is_recording\(\) takes 0 positional arguments"),
    "detect_anomaly(1)": R(lambda w: detect_anomaly(1).__enter__(), TypeError, r"detect_anomaly\(\) takes 0 positi"),
    "generic.exp('a')": R(lambda w: generic.exp("a"), TypeError, r"^generic\.exp: x must be a Value or a real number"),
    "generic.log(-1.0)": R(lambda w: generic.log(-1.0), ValueError, r"^log\(-1\.0\): the logarithm needs a positive"),
    "generic.sqrt(-1.0)": R(lambda w: generic.sqrt(-1.0), ValueError, r"^sqrt\(-1\.0\): the square root needs a non"),
    "generic.exp(1000.0)": R(lambda w: generic.exp(1000.0), OverflowError, r"^exp\(1000\.0\): the result overflows"),
    "generic.sin(inf)": R(lambda w: generic.sin(INF), ValueError, r"^sin\(inf\): the sine needs a finite input"),
    "generic.real('a')": R(lambda w: generic.real("a"), TypeError, r"^generic\.real: x must be a Value or a real num"),
    "generic.power('a', 2)": R(lambda w: generic.power("a", 2), TypeError, r"^generic\.power: input 0 must be a Val"),
    "generic.abs(None)": R(lambda w: generic.abs(None), TypeError, r"^generic\.abs: x must be a Value or a real numb"),
    "generic.sigmoid([1.0])": R(lambda w: generic.sigmoid([1.0]), TypeError, r"^generic\.sigmoid: x must be a Value"),
    "generic.isfinite('a')": R(lambda w: generic.isfinite("a"), TypeError, r"^generic\.isfinite: x must be a Value"),
    "generic.copysign(1.0, 'a')": R(
        lambda w: generic.copysign(1.0, "a"), TypeError, r"^generic\.copysign: input 1 must be a Value or a real"
    ),
    "generic.atan(x)": R(
        lambda w: generic.atan(w.x), TypeError, r"^atan\(\) of a Value has no op of its own here: define atan as"
    ),
    "generic.log1p(-2.0)": R(lambda w: generic.log1p(-2.0), ValueError, r"^log1p\(-2\.0\): log1p needs an input abo"),
}

# Names of engine.__all__ that take no argument to check: exception classes, a result type,
# a class made only by stage(), and modules (their functions have rows: generic.*, ops.*).
NO_ARGUMENTS = {
    "AnomalyError": "an exception",
    "DotNotFound": "an exception",
    "GradcheckError": "an exception",
    "StageError": "an exception",
    "Block": "a result of blocked(), not made by users",
    "Staged": "made by stage(): its call, mean, sum and check have rows",
    "generic": "a module: its functions have rows",
    "ops": "a module: its ops have rows",
    "gc_paused": "a context manager with no arguments",
}
COVERED = {
    "Op": "Op(",
    "Value": "Value(",
    **{
        name: name
        for name in engine.__all__
        if name not in NO_ARGUMENTS and name not in ("Op", "Value", "generic", "ops")
    },
}


def test_every_public_name_of_engine_has_rows_or_a_reason():
    for name in engine.__all__:
        if name in NO_ARGUMENTS:
            continue
        prefix = COVERED[name]
        assert any(case.startswith(prefix) for case in ROWS), f"no bad-input row for engine.{name}"


def cases():
    for case, row in ROWS.items():
        marks = [pytest.mark.xfail(strict=True, reason=row.xfail)] if row.xfail else []
        yield pytest.param(case, id=case, marks=marks)


@pytest.mark.parametrize("case", list(cases()))
def test_bad_input_is_a_clear_error_and_changes_nothing(case, monkeypatch):
    row = ROWS[case]
    world = World()
    before = world.snapshot()
    if case.startswith("draw_dot") or case.startswith("y.draw"):
        monkeypatch.setitem(sys.modules, "graphviz", None)  # importing graphviz now fails: it must not be reached
    with pytest.raises(row.error) as info:
        row.call(world)
    info.match(row.message)
    assert world.snapshot() == before
