"""The `Value` node and `backward()`: the whole idea of backprop in one file.

A Value holds one number. A Value made by an op also remembers its ``children``
(the Values it was computed from, in order) and its ``locals``: the local gradient
d(this node)/d(child) for each child, computed when the node was made. Each op's
forward value and local gradients are written once, in the op table (`engine.ops`).

`backward()` then needs to know nothing about any op. It sorts the graph so
that every node comes before the nodes it was made from, and pushes gradients
back along every edge with the chain rule::

    for node in order:                          # the output first
        for child, local in zip(node.children, node.locals):
            child.grad += local * node.grad     # where the graph forks, contributions add up

Numbers mix with Values on either side of an operator: they are constants, not children.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import isfinite
from typing import TYPE_CHECKING, Any, TypeAlias

from .grad_mode import current_state
from .number import as_real

if TYPE_CHECKING:
    from .op import Op

Number = float | int  # and any other real number: NumPy scalars, Fraction, ...
_COMPARED = "a comparison with a Value: the other side"
Children: TypeAlias = "tuple[Value, ...]"  # a node's children, in order
Locals: TypeAlias = "tuple[float, ...]"  # d node / d child, for each child
Constants: TypeAlias = "tuple[float | None, ...]"  # the op's inputs: a number, or None where a child stands


class Value:
    """A scalar in a computation graph: ``data``, and ``grad`` = d(output)/d(self) after ``backward()``.

    ``op`` (None for a leaf), ``children``, ``locals`` and ``constants`` (the op's inputs, None
    where a child stands) record how it was made; ``scope`` names the module that made it.
    """

    __slots__ = ("data", "grad", "label", "scope", "op", "children", "locals", "constants")
    __array_ufunc__ = None  # NumPy scalars on the left defer to our reflected operators

    data: float
    grad: float
    label: str
    scope: str
    op: Op | None
    children: Children
    locals: Locals
    constants: Constants

    def __init__(self, data: Number, label: str = "", *lecture: object):
        """A leaf: an input, a parameter or a constant. `data` is any real number, stored as a float."""
        if lecture or not isinstance(label, str):  # micrograd's Value(out, (self,), 'exp') makes a node by hand
            what = f"label must be a str, not {type(label).__name__}"
            raise TypeError(f"Value(data, label=''): {what}; to make nodes of a new op, define it with engine.defop")
        self.data = as_real(data, "Value(data): data", "a real number")
        self.grad = 0.0
        self.label = label
        mode, self.scope = current_state()
        self.op = None
        self.children = self.locals = self.constants = ()
        if mode is not True and mode is not False:  # under detect_anomaly()
            mode.check_leaf(self)

    def is_leaf(self) -> bool:
        """True for a node with no children: an input, a parameter, a constant."""
        return not self.children

    def backward(self, gradient: Number = 1.0) -> None:
        """Fill in d(self)/d(node) as ``node.grad`` for every node behind self.

        Non-leaf grads are reset first, to show this pass alone. Leaves accumulate until zeroed
        (as in PyTorch): each leaf's total for this pass is added to its ``grad`` once, so a
        gradient already there never changes the rounding. A node with gradient exactly 0 and
        finite locals is skipped."""
        seed = as_real(gradient, "backward(gradient): gradient", "a real number")  # before anything changes
        held: list[tuple[Value, float]] = []  # leaves that hold a gradient: it is set aside
        order = _sort(self, held)
        if not order:
            self.grad += seed
            return
        for node in order:
            node.grad = 0.0
        self.grad = seed
        mode = current_state()[0]
        try:
            if mode is not True and mode is not False:  # under detect_anomaly(): a checked loop
                mode.backward(self, order)
                return
            for node in order:
                grad = node.grad
                if grad == 0.0 and isfinite(sum(node.locals)):
                    continue  # 0 times a finite local adds nothing: skips a dead relu's whole subgraph
                for child, local in zip(node.children, node.locals):
                    child.grad += local * grad
        finally:
            for leaf, before in held:
                leaf.grad = before + leaf.grad  # this pass's total, added once

    def draw(self, **options: Any) -> Any:
        """A graphviz diagram of the graph behind this node: see `engine.draw_dot`."""
        return draw.draw_dot(self, **options)

    def detach(self) -> Value:
        """A new leaf with the same data: gradient does not flow through it."""
        return Value(self.data)

    def __repr__(self) -> str:
        shown = [f"data={self.data!r}"]
        if self.grad:
            shown.append(f"grad={self.grad!r}")
        if self.op is not None:
            shown.append(f"op={self.op.symbol!r}")
        if self.label:
            shown.append(f"label={self.label!r}")
        return f"Value({', '.join(shown)})"

    # As a plain number, as a PyTorch scalar is: these read data and leave the graph.

    def __float__(self) -> float:
        return self.data

    def __int__(self) -> int:
        return int(self.data)

    def __round__(self, ndigits: int | None = None) -> float | int:
        return round(self.data, ndigits)

    def __format__(self, spec: str) -> str:
        return format(self.data, spec) if spec else repr(self)

    def __lt__(self, other: Value | Number) -> bool:
        return self.data < (other.data if isinstance(other, Value) else as_real(other, _COMPARED))

    def __le__(self, other: Value | Number) -> bool:
        return self.data <= (other.data if isinstance(other, Value) else as_real(other, _COMPARED))

    def __gt__(self, other: Value | Number) -> bool:
        return self.data > (other.data if isinstance(other, Value) else as_real(other, _COMPARED))

    def __ge__(self, other: Value | Number) -> bool:
        return self.data >= (other.data if isinstance(other, Value) else as_real(other, _COMPARED))

    # The ops: each is one entry of the op table (engine/ops.py), with its forward
    # value, its local derivatives and its kink conventions written side by side;
    # op.apply(...) makes the node (calling the op itself does the same).

    def __add__(self, other: Value | Number) -> Value:
        return ops.add.apply(self, other)  # d/dself = d/dother = 1

    def __radd__(self, other: Number) -> Value:
        return ops.add.apply(other, self)

    def __sub__(self, other: Value | Number) -> Value:
        return ops.sub.apply(self, other)  # d/dself = 1, d/dother = -1

    def __rsub__(self, other: Number) -> Value:
        return ops.sub.apply(other, self)

    def __mul__(self, other: Value | Number) -> Value:
        return ops.mul.apply(self, other)  # d/dself = other, d/dother = self: the mul gate swaps

    def __rmul__(self, other: Number) -> Value:
        return ops.mul.apply(other, self)

    def __truediv__(self, other: Value | Number) -> Value:
        return ops.div.apply(self, other)  # d/dself = 1/other, d/dother = -out/other

    def __rtruediv__(self, other: Number) -> Value:
        return ops.div.apply(other, self)

    def __pow__(self, other: Value | Number) -> Value:
        return ops.pow.apply(self, other)  # d/dself = other self**(other-1), d/dother = out log(self)

    def __rpow__(self, other: Number) -> Value:
        return ops.pow.apply(other, self)

    def __neg__(self) -> Value:
        return ops.neg.apply(self)  # d/dself = -1

    def __abs__(self) -> Value:
        return ops.abs.apply(self)  # d/dself = sign(self), 0 at 0

    def exp(self) -> Value:
        return ops.exp.apply(self)  # d/dself = out

    def log(self) -> Value:
        return ops.log.apply(self)  # d/dself = 1/self

    def sqrt(self) -> Value:
        return ops.sqrt.apply(self)  # d/dself = 0.5/out

    def tanh(self) -> Value:
        return ops.tanh.apply(self)  # d/dself = 1 - out**2: near 0 when saturated

    def sigmoid(self) -> Value:
        return ops.sigmoid.apply(self)  # d/dself = out (1 - out): at most 0.25

    def relu(self) -> Value:
        return ops.relu.apply(self)  # d/dself = 1 where self > 0, else 0: a dead unit passes nothing

    def leaky_relu(self, slope: Value | Number = 0.01) -> Value:
        return ops.leaky_relu.apply(self, slope)  # d/dself = 1 where self > 0, else slope

    def sin(self) -> Value:
        return ops.sin.apply(self)  # d/dself = cos(self)

    def cos(self) -> Value:
        return ops.cos.apply(self)  # d/dself = -sin(self)

    def clip(self, lo: Value | Number, hi: Value | Number) -> Value:
        return ops.clip.apply(self, lo, hi)  # d/dself = 1 in [lo, hi], 0 strictly outside

    @staticmethod
    def sum(values: Iterable[Value | Number]) -> Value:
        return ops.sum.apply(values)  # one node for v0 + v1 + ..., added left to right; d/dv_i = 1

    @staticmethod
    def dot(ws: Iterable[Value | Number], xs: Iterable[Value | Number], bias: Value | Number | None = None) -> Value:
        return ops.dot.apply(ws, xs, bias)  # w0*x0 + w1*x1 + ... (+ bias), one node; d/dw_i = x_i, d/dx_i = w_i

    # The names of micrograd's lecture, read-only, so its draw_dot and "backprop by hand" cells run.

    @property
    def _prev(self) -> set[Value]:
        return set(self.children)

    @property
    def _op(self) -> str:
        return "" if self.op is None else self.op.symbol

    def _backward(self) -> None:
        """Push this node's gradient to its children through the stored locals (one step of backward)."""
        for child, local in zip(self.children, self.locals):
            child.grad += local * self.grad


def make_node(data: float, op: Op, children: Children, locals_: Locals, constants: Constants = ()) -> Value:
    """The node an op makes (a leaf under `no_grad()`; checked under `detect_anomaly()`)."""
    node = object.__new__(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    mode, node.scope = current_state()
    if mode is False:  # no_grad(): a leaf
        node.op = None
        node.children = node.locals = node.constants = ()
        return node
    node.op = op
    node.children = children
    node.locals = locals_
    node.constants = constants
    if mode is not True:  # detect_anomaly()
        mode.check_forward(node)
    return node


def topological_order(root: Value) -> list[Value]:
    """The non-leaf nodes behind `root`, each before every node it was made from (root first)."""
    if not isinstance(root, Value):
        raise TypeError(f"topological_order: root must be a Value, not {type(root).__name__}")
    return _sort(root, None)


def _sort(root: Value, held: list[tuple[Value, float]] | None) -> list[Value]:
    """Depth-first, with explicit stacks (the open path; an iterator over each one's children left), so
    millions of chained ops need no recursion. A node is entered once, listed once its children are done.
    Leaves are left out; for `backward`, a leaf holding a gradient goes to `held`, its grad set to -0.0."""
    if not root.children:
        return []
    order: list[Value] = []
    entered = {root}
    path = [root]
    pending = [iter(root.children)]
    while path:
        for child in pending[-1]:
            if child.children:
                if child not in entered:
                    entered.add(child)
                    path.append(child)
                    pending.append(iter(child.children))
                    break
            elif child.grad and held is not None:
                held.append((child, child.grad))
                child.grad = -0.0
        else:  # every child of path[-1] is done
            pending.pop()
            order.append(path.pop())
    order.reverse()
    return order


from . import draw, ops  # noqa: E402  (both build on Value; graphviz is imported only when drawing)
