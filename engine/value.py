"""The `Value` node: one scalar, the op that made it, and the local gradients.

Every op below computes its forward value and, right beside it, the local
gradient of its output with respect to each child: the number the chain rule
will multiply by the output's gradient on the way back. Both are stored on the
new node, so `backward()` needs to know nothing about any op: it is one generic
loop that walks the graph from the output back to the leaves and does
``child.grad += local * node.grad`` along every edge.

Where a local gradient is a real formula (div, pow, exp, log, sqrt, tanh,
sigmoid, sin, cos) the op calls its rule from `engine.ops`, where each rule is
written once for floats and for Values (higher-order derivatives evaluate it
on Values). Constant locals (add, relu, clip, ...) and swaps (mul, dot) are
written inline.

Conventions, matching PyTorch in float64:

* plain numbers (int, float, bool) mix freely with Values on either side of an
  operator; they are constants: they take part in the forward value but are not
  children and get no gradient;
* ``==`` and ``hash`` are identity, so Values can key dicts and sets;
  ``< <= > >=`` compare ``data`` and return a bool;
* at kinks: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope, maximum and
  minimum split a tie 0.5 / 0.5, clip passes gradient 1 at its bounds and 0
  strictly outside them;
* an op outside its domain raises at once, naming the op and its operand
  (``log(-1.0): ...``), and builds nothing: existing nodes are never touched.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from math import isfinite
from operator import mul

from . import generic, ops
from .grad_mode import current_mode
from .scope import current_scope

Number = int | float


def _as_float(x: object) -> float:
    """`x` as a float; only int, float and bool are numbers here."""
    if isinstance(x, (int, float)):  # bool is an int
        return float(x)
    raise TypeError(f"expected a Value or a number (int, float, bool), not {type(x).__name__}")


def _power(base: float, exponent: float) -> tuple[float, float, float]:
    """``base ** exponent`` with its two local gradients, or a clear error.

    d/dbase = exponent * base**(exponent - 1); d/dexponent = out * log(base).
    Where these are undefined, PyTorch's values are used: inf at base 0 with an
    exponent in (0, 1), 0 for an exponent of 0, 0 (exponent side) at base 0,
    nan (exponent side) for a negative base.
    """
    name = f"pow({base!r}, {exponent!r})"
    if base == 0.0 and exponent < 0:
        raise ZeroDivisionError(f"{name}: zero to a negative power divides by zero")
    if base < 0 and not exponent.is_integer():
        raise ValueError(f"{name}: a negative base needs an integer exponent")
    try:
        out = base**exponent
        d_base = ops.pow_base_local(base, exponent)
    except OverflowError:
        raise OverflowError(f"{name}: the result overflows a float") from None
    d_exponent = ops.pow_exponent_local(base, out)
    return out, d_base, d_exponent


class Value:
    """A scalar in a computation graph.

    ``data`` is the number, ``grad`` the derivative of the last output that
    ran ``backward()`` with respect to it (0.0 until then). A node made by an op
    remembers its ``children`` (an ordered tuple: ``x * x`` has ``x`` twice) and
    the ``locals``: d(this node)/d(child) for each child, computed when the node
    was made. ``scope`` names the module that made it (see `engine.scope`).
    """

    __slots__ = ("data", "grad", "label", "op", "scope", "_edges")

    def __init__(self, data: Number, label: str = "", _edges: tuple = (), _op: str = ""):
        """A leaf holding `data` (int, float or bool, stored as a float).

        `_edges` and `_op` are for the ops: the flat tuple
        ``(child0, local0, child1, local1, ...)`` and the op's name.
        """
        if type(data) is not float:
            data = _as_float(data)
        mode = current_mode() if _edges else True
        if mode is False:  # under no_grad(): results are leaves
            _edges, _op = (), ""
        self.data = data
        self.grad = 0.0
        self.label = label
        self.op = _op
        self.scope = current_scope()  # the module that made it, e.g. 'layers.0.neurons.3'
        # One flat tuple instead of two: a node costs about 40 bytes less.
        self._edges = _edges
        if mode is not True and mode is not False:  # under detect_anomaly()
            mode.check_forward(self)

    # ----------------------------------------------------------------- the graph

    @property
    def children(self) -> tuple[Value, ...]:
        """The Values this node was computed from, in order (repeats kept)."""
        return self._edges[0::2]

    @property
    def locals(self) -> tuple[float, ...]:
        """d(this node)/d(child) for each child, in the order of `children`."""
        return self._edges[1::2]

    def is_leaf(self) -> bool:
        """True for a node with no children: an input, a parameter, a constant."""
        return not self._edges

    def backward(self, gradient: float = 1.0) -> None:
        """Fill in d(self)/d(node) as ``node.grad`` for every node behind self.

        Walks the nodes in reverse topological order (self first) and pushes
        each node's gradient to its children through the stored local gradients.
        Where the graph forks, a child is reached along several edges and the
        contributions add up (``+=``), as the multivariable chain rule says.

        Leaves accumulate: their grads are added to across calls until zeroed
        (as in PyTorch). The grads of the non-leaf nodes of this graph are reset
        first, so they always show this pass alone.

        A node whose gradient is exactly 0 and whose local gradients are all
        finite is skipped: each of its contributions would be an exact 0. (With an
        inf or nan local it is not skipped: 0 * inf is nan, and that must show.)
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad += gradient
        mode = current_mode()
        if mode is not True and mode is not False:  # under detect_anomaly(): a checked loop
            mode.backward(self, order)
            return
        for node in order:
            grad = node.grad
            edges = node._edges
            if grad == 0.0 and isfinite(sum(edges[1::2])):
                continue  # 0 times a finite local adds exactly nothing (a dead relu's whole subgraph)
            pairs = iter(edges)
            for child, local in zip(pairs, pairs):
                child.grad += local * grad

    def draw(self, **options):
        """A graphviz diagram of the graph behind this node: see `engine.draw_dot`."""
        from .draw import draw_dot  # graphviz is imported only when drawing

        return draw_dot(self, **options)

    def detach(self) -> Value:
        """A new leaf with the same data: gradient does not flow through it."""
        return Value(self.data)

    # ---------------------------------------------------------- a plain number

    def __repr__(self) -> str:
        shown = [f"data={self.data!r}"]
        if self.grad:
            shown.append(f"grad={self.grad!r}")
        if self.op:
            shown.append(f"op={self.op!r}")
        if self.label:
            shown.append(f"label={self.label!r}")
        return f"Value({', '.join(shown)})"

    def __float__(self) -> float:
        return self.data

    def __lt__(self, other: Value | Number) -> bool:
        return self.data < _data(other)

    def __le__(self, other: Value | Number) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other: Value | Number) -> bool:
        return self.data > _data(other)

    def __ge__(self, other: Value | Number) -> bool:
        return self.data >= _data(other)

    # --------------------------------------------------- arithmetic operators
    # Each: the forward value, then the edges (child, d out / d child, ...).

    def __add__(self, other: Value | Number) -> Value:
        """a + b; d/da = 1, d/db = 1: the add gate hands its gradient on unchanged."""
        if isinstance(other, Value):
            return Value(self.data + other.data, "", (self, 1.0, other, 1.0), "+")
        number = _as_float(other)
        return Value(self.data + number, "", (self, 1.0), ops.with_constants("+", number))

    def __radd__(self, other: Number) -> Value:
        number = _as_float(other)
        return Value(number + self.data, "", (self, 1.0), ops.with_constants("+", number))

    def __sub__(self, other: Value | Number) -> Value:
        """a - b; d/da = 1, d/db = -1."""
        if isinstance(other, Value):
            return Value(self.data - other.data, "", (self, 1.0, other, -1.0), "-")
        number = _as_float(other)
        return Value(self.data - number, "", (self, 1.0), ops.with_constants("-", number))

    def __rsub__(self, other: Number) -> Value:
        number = _as_float(other)  # number - a: d/da = -1
        return Value(number - self.data, "", (self, -1.0), ops.with_constants("-", number))

    def __mul__(self, other: Value | Number) -> Value:
        """a * b; d/da = b, d/db = a: the mul gate swaps its inputs (ops.MUL)."""
        if isinstance(other, Value):
            return Value(self.data * other.data, "", (self, other.data, other, self.data), ops.MUL)
        factor = _as_float(other)
        return Value(self.data * factor, "", (self, factor), "*")

    def __rmul__(self, other: Number) -> Value:
        factor = _as_float(other)
        return Value(factor * self.data, "", (self, factor), "*")

    def __truediv__(self, other: Value | Number) -> Value:
        """a / b; d/da = 1/b, d/db = -a/b**2 = -out/b."""
        a = self.data
        b = other.data if isinstance(other, Value) else _as_float(other)
        if b == 0.0:
            raise ZeroDivisionError(f"div({a!r}, {b!r}): division by zero")
        out = a / b
        if isinstance(other, Value):
            local_a, local_b = ops.DIV.rule(a, b, out)
            return Value(out, "", (self, local_a, other, local_b), ops.DIV)
        return Value(out, "", (self, 1.0 / b), ops.with_constants("/", b))

    def __rtruediv__(self, other: Number) -> Value:
        a, b = _as_float(other), self.data
        if b == 0.0:
            raise ZeroDivisionError(f"div({a!r}, {b!r}): division by zero")
        out = a / b
        op = ops.divided(a)
        return Value(out, "", (self, *op.rule(b, out)), op)

    def __pow__(self, other: Value | Number) -> Value:
        """a ** b; d/da = b * a**(b-1), d/db = a**b * log(a) (b a Value).

        A negative base needs an integer exponent; zero to a negative power
        raises ZeroDivisionError.
        """
        if isinstance(other, Value):
            out, d_base, d_exponent = _power(self.data, other.data)
            return Value(out, "", (self, d_base, other, d_exponent), ops.POW)
        exponent = _as_float(other)
        out, d_base, _ = _power(self.data, exponent)
        return Value(out, "", (self, d_base), ops.pow_by(exponent))

    def __rpow__(self, other: Number) -> Value:
        base = _as_float(other)
        out, _, d_exponent = _power(base, self.data)
        return Value(out, "", (self, d_exponent), ops.pow_of(base))

    def __neg__(self) -> Value:
        """-a; d/da = -1."""
        return Value(-self.data, "", (self, -1.0), "neg")

    def __abs__(self) -> Value:
        """|a|; d/da = sign(a), with abs'(0) = 0."""
        x = self.data
        return Value(abs(x), "", (self, 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)), "abs")

    # ------------------------------------------------------------ functions

    def exp(self) -> Value:
        """e**a; d/da = e**a, the output itself. Raises OverflowError above ~709.78."""
        x = self.data
        try:
            out = math.exp(x)
        except OverflowError:
            raise OverflowError(f"exp({x!r}): the result overflows a float") from None
        return Value(out, "", (self, *ops.EXP.rule(x, out)), ops.EXP)

    def log(self) -> Value:
        """Natural log; d/da = 1/a. Needs a > 0."""
        x = self.data
        if not x > 0:
            raise ValueError(f"log({x!r}): the logarithm needs a positive input")
        out = math.log(x)
        return Value(out, "", (self, *ops.LOG.rule(x, out)), ops.LOG)

    def sqrt(self) -> Value:
        """Square root; d/da = 0.5 / sqrt(a) (inf at 0). Needs a >= 0."""
        x = self.data
        if x < 0:
            raise ValueError(f"sqrt({x!r}): the square root needs a non-negative input")
        out = math.sqrt(x)
        return Value(out, "", (self, *ops.SQRT.rule(x, out)), ops.SQRT)

    def tanh(self) -> Value:
        """Hyperbolic tangent; d/da = 1 - tanh(a)**2: at most 1, near 0 once saturated."""
        x = self.data
        out = math.tanh(x)
        return Value(out, "", (self, *ops.TANH.rule(x, out)), ops.TANH)

    def sigmoid(self) -> Value:
        """1 / (1 + e**-a), stable for any finite a; d/da = s * (1 - s), at most 0.25."""
        x = self.data
        out = generic.sigmoid(x)
        return Value(out, "", (self, *ops.SIGMOID.rule(x, out)), ops.SIGMOID)

    def relu(self) -> Value:
        """max(a, 0); d/da = 1 where a > 0, else 0 (relu'(0) = 0): a dead unit passes nothing."""
        x = self.data
        if x > 0:
            return Value(x, "", (self, 1.0), "relu")
        return Value(0.0, "", (self, 0.0), "relu")

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """a where a > 0, else slope * a; d/da = 1 where a > 0, else slope."""
        x, slope = self.data, _as_float(slope)
        op = ops.with_constants("leaky_relu", slope)
        if x > 0:
            return Value(x, "", (self, 1.0), op)
        return Value(slope * x, "", (self, slope), op)

    def sin(self) -> Value:
        """sin(a); d/da = cos(a)."""
        x = self.data
        out = math.sin(x)
        return Value(out, "", (self, *ops.SIN.rule(x, out)), ops.SIN)

    def cos(self) -> Value:
        """cos(a); d/da = -sin(a)."""
        x = self.data
        out = math.cos(x)
        return Value(out, "", (self, *ops.COS.rule(x, out)), ops.COS)

    def clip(self, lo: Number, hi: Number) -> Value:
        """a limited to [lo, hi]; d/da = 1 for lo <= a <= hi, 0 strictly outside.

        Outside its range a clip passes no gradient at all: clipping a raw error
        silently stops learning from exactly the large errors (use a Huber loss).
        """
        lo, hi, x = _as_float(lo), _as_float(hi), self.data
        if lo > hi:
            raise ValueError(f"clip({x!r}, {lo!r}, {hi!r}): the lower bound is above the upper")
        out = lo if x < lo else (hi if x > hi else x)
        return Value(out, "", (self, 1.0 if lo <= x <= hi else 0.0), ops.with_constants("clip", lo, hi))

    # ------------------------------------------------------ fused n-ary nodes

    @staticmethod
    def sum(values: Iterable[Value | Number]) -> Value:
        """One node for v0 + v1 + ...; d/dv_i = 1 for every Value v_i.

        Numbers among `values` are constants. An empty sum is a leaf 0.0.
        """
        values = values if type(values) is list else list(values)
        nodes = [value for value in values if isinstance(value, Value)]
        edges = [1.0] * (2 * len(nodes))  # (child, 1.0, child, 1.0, ...)
        edges[0::2] = nodes
        if len(nodes) == len(values):
            return Value(sum([node.data for node in nodes]), "", tuple(edges), "sum" if nodes else "")
        total = sum(map(_data, values))
        numbers = sum([_as_float(value) for value in values if not isinstance(value, Value)])
        return Value(total, "", tuple(edges), ops.with_constants("sum", numbers) if nodes else "")

    @staticmethod
    def dot(ws: Iterable[Value | Number], xs: Iterable[Value | Number], bias: Value | Number | None = None) -> Value:
        """One node for w0*x0 + w1*x1 + ... (+ bias); d/dw_i = x_i, d/dx_i = w_i, d/dbias = 1.

        Either list may mix Values and numbers; numbers are constants. A neuron
        is one such node: ``Value.dot(w, x, bias=b)``. The children are the
        Values among ws, then those among xs, then a Value bias.
        """
        ws = ws if type(ws) is list else list(ws)
        xs = xs if type(xs) is list else list(xs)
        n = len(ws)
        if n != len(xs):
            raise ValueError(f"dot: {n} weights but {len(xs)} inputs; they must pair up")
        w_datas = [w.data for w in ws if w.__class__ is Value]
        x_datas = [x.data for x in xs if x.__class__ is Value]
        paired = len(w_datas) == n and len(x_datas) == n and n
        if paired:
            # Values on both sides (a hidden layer): each child's local gradient is
            # its partner's number. edges = (w0, x0, w1, x1, ..., x0, w0, x1, w1, ...).
            edges = [None] * (4 * n)
            edges[0 : 2 * n : 2] = ws
            edges[1 : 2 * n : 2] = x_datas
            edges[2 * n :: 2] = xs
            edges[2 * n + 1 :: 2] = w_datas
        elif len(w_datas) == n and not x_datas and n:
            # Values times numbers (an input layer): the numbers are the local gradients.
            x_datas = [x if x.__class__ is float else _as_float(x) for x in xs]
            edges = [None] * (2 * n)
            edges[0::2] = ws
            edges[1::2] = x_datas
        else:
            return _dot_with_numbers(ws, xs, bias)
        data = sum(map(mul, w_datas, x_datas))
        number = 0.0  # a number bias, kept by the op for engine.stage
        if isinstance(bias, Value):
            data += bias.data
            edges += (bias, 1.0)  # d/dbias = 1
        elif bias is not None:
            number = _as_float(bias)  # anything else raises here, before a node is made
            data += number
        if paired:
            op = ops.paired_dot(n, isinstance(bias, Value), number)
        else:
            op = _DOT if number == 0.0 else ops.with_constants("dot", number)
        return Value(data, "", tuple(edges), op)


_DOT = ops.with_constants("dot", 0.0)  # the op of a dot with Values on one side, and no number to add


def _dot_with_numbers(ws: list, xs: list, bias: Value | Number | None) -> Value:
    """`Value.dot` when numbers are among ws or xs: they are constants, not children."""
    w_datas, x_datas = [_data(w) for w in ws], [_data(x) for x in xs]
    data = sum(map(mul, w_datas, x_datas))
    w_children = [i for i, w in enumerate(ws) if isinstance(w, Value)]
    x_children = [i for i, x in enumerate(xs) if isinstance(x, Value)]
    edges: list = []
    for i in w_children:
        edges += (ws[i], x_datas[i])
    for i in x_children:
        edges += (xs[i], w_datas[i])
    # What the numbers add up to (number-times-number pairs, a number bias), for engine.stage.
    constant = sum(
        w_data * x_data
        for w, x, w_data, x_data in zip(ws, xs, w_datas, x_datas)
        if not isinstance(w, Value) and not isinstance(x, Value)
    )
    if isinstance(bias, Value):
        data += bias.data
        edges += (bias, 1.0)
    elif bias is not None:
        data += _as_float(bias)
        constant += _as_float(bias)
    if not edges:
        return Value(data)
    return Value(data, "", tuple(edges), _dot_op(w_children, x_children, ws, xs, bias, float(constant)))


def _data(x: Value | Number) -> float:
    return x.data if isinstance(x, Value) else _as_float(x)


def _dot_op(w_children: list[int], x_children: list[int], ws: list, xs: list, bias, constant: float) -> str:
    """The op a dot node with numbers in it records, so higher-order derivatives know its partners."""
    if not w_children or not x_children:
        return ops.with_constants("dot", constant)  # Values on one side only: every local is a constant
    if len(w_children) == len(ws) and len(x_children) == len(xs):
        return ops.paired_dot(len(ws), isinstance(bias, Value), constant)
    child_index = {("w", i): k for k, i in enumerate(w_children)}
    child_index.update({("x", i): len(w_children) + k for k, i in enumerate(x_children)})
    partners = [child_index.get(("x", i), _data(xs[i])) for i in w_children]
    partners += [child_index.get(("w", i), _data(ws[i])) for i in x_children]
    return ops.partner_dot((*partners, 1.0) if isinstance(bias, Value) else tuple(partners), constant)


def maximum(a: Value | Number, b: Value | Number) -> Value:
    """The larger of a and b; d/d(larger) = 1, d/d(other) = 0, a tie splits 0.5 / 0.5.

    The max gate routes its whole gradient to the input that won.
    """
    return _select(a, b, "maximum")


def minimum(a: Value | Number, b: Value | Number) -> Value:
    """The smaller of a and b; d/d(smaller) = 1, d/d(other) = 0, a tie splits 0.5 / 0.5."""
    return _select(a, b, "minimum")


def _select(a: Value | Number, b: Value | Number, op: str) -> Value:
    x, y = _data(a), _data(b)
    if x == y:
        local_a = 0.5
    else:
        local_a = 1.0 if (x > y) == (op == "maximum") else 0.0
    out = x if local_a == 1.0 else y
    edges: tuple = ()
    if isinstance(a, Value):
        edges += (a, local_a)
    if isinstance(b, Value):
        edges += (b, 1.0 - local_a)
    if len(edges) == 2:  # one Value and a number: keep the number
        return Value(out, "", edges, ops.with_constants(op, x if edges[0] is b else y))
    return Value(out, "", edges, op if edges else "")


def topological_order(root: Value) -> list[Value]:
    """The non-leaf nodes behind `root`, each before every node it was made from.

    A depth-first search with explicit stacks (the open path, and an iterator
    over each open node's children), so a chain of millions of ops needs no
    recursion. Each node is entered once, however many paths lead to it, so a
    diamond-shaped graph with 2**60 paths is still quick. A node is listed when
    all its children are done, and the list is reversed at the end. Leaves are
    left out: they have nothing to pass a gradient on to.
    """
    if not root._edges:
        return []
    order: list[Value] = []
    entered = {root}
    path = [root]  # the nodes being explored, and beside them
    pending = [iter(root._edges[0::2])]  # an iterator over each one's children not yet looked at
    while path:
        for child in pending[-1]:
            if child._edges and child not in entered:
                entered.add(child)
                path.append(child)
                pending.append(iter(child._edges[0::2]))
                break
        else:  # every child of path[-1] is done
            pending.pop()
            order.append(path.pop())
    order.reverse()
    return order


def reaching(root: Value, targets: set[Value]) -> tuple[list[Value], set[Value]]:
    """root's non-leaf nodes in topological order, and the nodes with a path to a target."""
    order = topological_order(root)
    reaches = set(targets)
    for node in reversed(order):
        if any(child in reaches for child in node.children):
            reaches.add(node)
    return order, reaches
