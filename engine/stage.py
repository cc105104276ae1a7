"""Staged computation: a graph's forward and backward pass written out as Python code.

`stage(root)` walks a graph once and emits one straight-line Python function:
a line per node for the forward pass, children first, then a line per edge
for the backward pass in reverse order, as the CS231n notes write backprop by
hand. For ``f = (x + y) * z`` with labels x, y, z, q (for x + y) and f::

    q = x + y
    f = q * z
    ...
    if df or not isfinite(f):
        dq += z * df      # the mul gate swaps its inputs
        dz += q * df
    if dq:
        dx += dq          # the add gate hands its gradient on
        dy += dq

Calling the staged function re-runs that code on the leaves' current ``data``:
it returns the root's new value and adds the gradients to the leaves' ``grad``
(leaves accumulate, as with `Value.backward`). No node is made and nothing is
sorted, so a training loop whose graph keeps its shape from step to step (the
same data, the same model) runs many times faster than building the graph
again. The numbers are those of `Value.backward`, bit for bit: the same
operations in the same order, and the same skip of a node whose gradient is
exactly 0 (unless one of its locals is not finite). The one exception: the
numbers in a `Value.sum`, or the number-times-number pairs of a `Value.dot`,
are added up first (``op.constants``), so that sum may round differently.

What staging records is one trace: the ops that ran, with the numbers they
were made with (ops keep them in ``op.constants``). A Python ``if`` on
``.data`` in your code is frozen at the branch it took when the graph was
built; the kinks inside ops (relu, abs, clip, ...) are re-evaluated on every
call.

+, -, *, / by a number, neg, sum, dot and relu are written inline. The other
ops (exp, log, tanh, pow, maximum, clip, ops made with `defop`, ...) are
re-run by the engine's own op on a throwaway leaf, so their domain errors and
local gradients are the engine's. An op without a way to replay it raises
`StageError`.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Callable, Iterable
from functools import partial

from .grad_mode import _mode_set
from .value import Value, maximum, minimum, topological_order

__all__ = ["Staged", "StageError", "stage"]


# Names a label may not take: the generated ones (v3, dx0, ...) and those the code uses.
_RESERVED = re.compile(r"^(d*[vx]\d+|seed|leaf_datas|isfinite|float|True|_.*)$")
_TERMS_PER_LINE = 100  # a long sum is split over several lines: the compiler recurses on a + b + ...


class StageError(ValueError):
    """The graph has an op `stage` cannot write out."""


# The engine functions that make the nodes of these ops, for the ops that do not say (op.replay).
_REPLAYERS: dict[str, Callable[..., Value]] = {
    "exp": Value.exp,
    "log": Value.log,
    "sqrt": Value.sqrt,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "sin": Value.sin,
    "cos": Value.cos,
    "abs": Value.__abs__,
    "leaky_relu": Value.leaky_relu,
    "clip": Value.clip,
    "maximum": maximum,
    "minimum": minimum,
}


def _replayer(op: str) -> Callable[..., Value] | None:
    """The engine function that makes a node of this op, to be re-run on fresh leaves."""
    replay = getattr(op, "replay", None)
    if isinstance(replay, str):
        return getattr(Value, replay)
    return replay if replay is not None else _REPLAYERS.get(op)


def _replay(function: Callable[..., Value], children: int, *args: float) -> tuple[float, ...]:
    """Run an engine op on fresh leaves holding the first `children` args: its value, then its locals."""
    node = function(*[Value(x) for x in args[:children]], *args[children:])
    return (node.data, *node._edges[1::2])


def _leaves(order: list[Value]) -> list[Value]:
    """The leaves behind the nodes of `order` (children first), in the order they are first used."""
    seen: set[Value] = set()
    leaves = []
    for node in order:
        for child in node._edges[0::2]:
            if not child._edges and child not in seen:
                seen.add(child)
                leaves.append(child)
    return leaves


class _Writer:
    """Emits the forward line of each node and the backward lines of its edges."""

    def __init__(self, root: Value):
        self.root = root
        self.order = list(reversed(topological_order(root)))  # children first
        self.leaves = _leaves(self.order) if self.order else [root]
        self.name: dict[Value, str] = {}
        self.used: set[str] = set()  # every variable name in the code: values, gradients, locals
        for k, leaf in enumerate(self.leaves):
            self.name[leaf] = self.label_or(leaf, f"x{k}")
        for k, node in enumerate(self.order):
            self.name[node] = self.label_or(node, f"v{k}")
        self.namespace: dict[str, object] = {"isfinite": math.isfinite}  # what the code can call
        self.functions: dict[tuple[Callable, int], str] = {}
        self.forward: list[str] = []
        self.backward: list[str] = []

    def label_or(self, node: Value, generated: str) -> str:
        """The node's label as its variable name where that is a fresh identifier, else `generated`.

        Its gradient is then d and the name (dx for x), so both must be free.
        """
        label = node.label
        if (
            label.isidentifier()
            and not keyword.iskeyword(label)
            and not _RESERVED.match(label)
            and label not in self.used
            and f"d{label}" not in self.used
        ):
            name = label
        else:
            name = generated
        self.used.update((name, f"d{name}"))
        return name

    def constant(self, number: float) -> str:
        """A number as source text: repr round-trips a float exactly."""
        return repr(float(number)) if math.isfinite(number) else f"float({str(number)!r})"

    def write(self, watched: list[Value]) -> str:
        """The source of ``forward_backward(leaf_datas, seed) -> (root, leaf grads, watched values)``."""
        for node in self.order:
            self.node(node)
        name = self.name
        grads = [self.grad(node) for node in self.order + self.leaves]
        lines = ["def forward_backward(leaf_datas, seed):"]
        lines.append(f"    ({''.join(name[leaf] + ', ' for leaf in self.leaves)}) = leaf_datas")
        lines.append("    # forward: one line per node, children first")
        lines += self.forward
        lines.append("    # backward: the root gets the seed; every edge adds local * gradient")
        for start in range(0, len(grads), 200):
            lines.append(f"    {' = '.join(grads[start : start + 200])} = 0.0")
        lines.append(f"    {self.grad(self.root)} = seed")
        lines += reversed(self.backward)
        leaf_grads = "".join(f"{self.grad(leaf)}, " for leaf in self.leaves)
        watched_names = "".join(f"{name[node]}, " for node in watched)
        lines.append(f"    return {name[self.root]}, ({leaf_grads}), ({watched_names})")
        return "\n".join(lines) + "\n"

    def grad(self, node: Value) -> str:
        """The variable holding d(root)/d(node): d and the node's name, as dx for x."""
        return f"d{self.name[node]}"

    def node(self, node: Value) -> None:
        """The forward line of `node` and the backward lines of its edges."""
        name, op = self.name[node], node.op
        edges = node._edges
        children = [self.name[c] for c in edges[0::2]]
        stored = edges[1::2]
        constants = getattr(op, "constants", ())
        replayer = _replayer(op)
        finite_unless = None  # an expression that is finite whenever every local gradient is
        if op == "+" and len(children) == 2:
            expression = f"{children[0]} + {children[1]}"
        elif op == "-" and len(children) == 2:
            expression = f"{children[0]} - {children[1]}"
        elif op in ("+", "-") and constants:
            number = self.constant(constants[0])
            if op == "+":
                expression = f"{children[0]} + {number}"
            elif stored[0] == 1.0:
                expression = f"{children[0]} - {number}"
            else:
                expression = f"{number} - {children[0]}"
        elif op == "neg":
            expression = f"-{children[0]}"
        elif op == "sum":
            expression = self.sum(name, children + ([self.constant(constants[0])] if constants else []))
        elif op == "*" and len(children) == 2:
            expression = f"{children[0]} * {children[1]}"
            stored, finite_unless = (children[1], children[0]), name  # the mul gate swaps
        elif op == "*":
            expression = f"{children[0]} * {self.constant(stored[0])}"
        elif op == "dot":
            terms, stored = self.dot(node, children, stored, constants)
            expression = self.sum(name, terms)
            if any(isinstance(local, str) for local in stored):
                finite_unless = name  # a non-finite partner makes the sum non-finite too
        elif op == "relu":
            expression = f"{children[0]} if {children[0]} > 0.0 else 0.0"
            stored = (f"(1.0 if {children[0]} > 0.0 else 0.0)",)
        elif op == "/" and len(children) == 1 and constants and replayer is None:
            expression = f"{children[0]} / {self.constant(constants[0])}"  # a Value over a number
        elif replayer is not None:
            self.replayed(node, replayer, children, constants)
            return
        else:
            raise StageError(f"stage: the op {str(op)!r} with {len(children)} children cannot be staged yet")
        self.forward.append(f"    {name} = {expression}")
        self.edges(node, stored, finite_unless)

    def replayed(self, node: Value, function: Callable[..., Value], children: list[str], constants: tuple) -> None:
        """A node whose op is re-run by the engine itself: its domain errors and locals are the engine's."""
        key = (function, len(children))
        if key not in self.functions:  # _sigmoid(x) returns sigmoid(x) and its local gradient
            name = "_" + getattr(function, "__name__", "op").strip("_")
            while name in self.functions.values():
                name += "_"
            self.functions[key] = name
            self.namespace[name] = partial(_replay, function, len(children))
        name = self.name[node]
        locals_ = []
        for child in children:  # d(node)/d(child): df_dx for node f and child x
            local = f"d{name}_d{child}"
            while local in self.used:
                local += "_"
            self.used.add(local)
            locals_.append(local)
        arguments = ", ".join([*children, *map(self.constant, constants)])
        self.forward.append(f"    {', '.join((name, *locals_))} = {self.functions[key]}({arguments})")
        self.edges(node, tuple(locals_), finite_unless=" + ".join(locals_))

    def dot(self, node: Value, children: list[str], stored: tuple, constants: tuple) -> tuple[list[str], tuple]:
        """w0 * x0 + w1 * x1 + ... from the op's partners; the locals are the partners."""
        partners = getattr(node.op, "partners", None)
        if partners is None:  # Values on one side only: the stored locals are the constant partners
            partners = stored
        terms, locals_ = [], []
        for k, partner in enumerate(partners):
            if type(partner) is int:
                locals_.append(children[partner])
                if k < partner:  # a pair of Values: one product, an edge to each
                    terms.append(f"{children[k]} * {children[partner]}")
            else:
                locals_.append(partner)
                terms.append(children[k] if partner == 1.0 else f"{children[k]} * {self.constant(partner)}")
        number = constants[0] if constants else 0.0
        if number or not terms:
            terms.append(self.constant(number))
        return terms, tuple(locals_)

    def sum(self, name: str, terms: list[str]) -> str:
        """t0 + t1 + ..., added left to right; the first lines of a long one are written out here."""
        while len(terms) > _TERMS_PER_LINE:
            self.forward.append(f"    {name} = {' + '.join(terms[:_TERMS_PER_LINE])}")
            terms = [name, *terms[_TERMS_PER_LINE:]]
        return " + ".join(terms)

    def edges(self, node: Value, locals_: tuple, finite_unless: str | None) -> None:
        """The backward lines of a node: ``child_grad += local * grad`` for each edge.

        Skipped when the node's gradient is 0, as in `Value.backward`, unless a
        local gradient is not finite (0 * inf is nan, and that must show).
        """
        grad = self.grad(node)
        numbers = [local for local in locals_ if not isinstance(local, str)]
        if not all(map(math.isfinite, numbers)):
            guard = "    if True:"
        elif finite_unless is None:
            guard = f"    if {grad}:"
        else:
            guard = f"    if {grad} or not isfinite({finite_unless}):"
        lines = [guard]
        for child, local in zip(node._edges[0::2], locals_):
            if local == 1.0:
                lines.append(f"        {self.grad(child)} += {grad}")
            elif local == -1.0:
                lines.append(f"        {self.grad(child)} -= {grad}")
            else:
                text = local if isinstance(local, str) else self.constant(local)
                lines.append(f"        {self.grad(child)} += {text} * {grad}")
        if len(lines) > 1:
            self.backward.append("\n".join(lines))


class Staged:
    """A graph's forward and backward pass as one compiled Python function.

    ``staged()`` re-runs it on the leaves' current data, adds d(root)/d(leaf)
    to each leaf's ``grad`` (leaves accumulate, as with `Value.backward`),
    writes the new value into ``root.data`` and into the ``data`` of each
    watched node, and returns the root's value. The other nodes of the
    original graph keep their data and grads. ``source`` is the code;
    ``leaves`` the Values it reads, in order.
    """

    def __init__(self, root: Value, watch: Iterable[Value] = ()):
        writer = _Writer(root)
        watched = list(watch)
        for node in watched:
            if not isinstance(node, Value) or node not in writer.name:
                raise ValueError(f"stage: watch holds {node!r}, which is not a node of the graph")
        self.source: str = writer.write(watched)
        self.root = root
        self.leaves: list[Value] = writer.leaves
        self.watched: list[Value] = watched
        self.nodes: int = len(writer.order)
        namespace = dict(writer.namespace)
        exec(compile(self.source, "<staged graph>", "exec"), namespace)
        self._function = namespace["forward_backward"]

    def __call__(self, gradient: float = 1.0) -> float:
        leaves = self.leaves
        with _mode_set(True):  # the replayed ops record their locals even inside no_grad()
            out, grads, watched = self._function([leaf.data for leaf in leaves], float(gradient))
        for leaf, grad in zip(leaves, grads):
            leaf.grad += grad
        for node, data in zip(self.watched, watched):
            node.data = data
        self.root.data = out
        return out

    def __repr__(self) -> str:
        return f"Staged({self.nodes} nodes, {len(self.leaves)} leaves)"


def stage(root: Value, watch: Iterable[Value] = ()) -> Staged:
    """The forward and backward pass of the graph behind `root`, written out as Python code.

    `watch`: nodes of the graph whose ``data`` each call brings up to date
    (the root's always is), e.g. a model's scores for the accuracy.
    """
    if not isinstance(root, Value):
        raise TypeError(f"stage: expected a Value, not {type(root).__name__}")
    return Staged(root, watch)
