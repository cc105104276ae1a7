"""Transforms of functions: grad, value_and_grad, hessian, hvp, jvp, jacobian.

They take a function of Values and return a function of numbers (or Values),
and they touch nobody's ``.grad``: gradients are collected in a dictionary.

Reverse mode with `create_graph`: inside a transform, each op's derivative
formulas (its entry in `engine.ops`) are evaluated on Values, so the gradient is itself a graph and can be
differentiated again: ``grad(grad(f))`` is the second derivative, to any order.
Each transform makes fresh leaves for its inputs, so nested transforms never
confuse their variables (d/dx [x * d/dy (x + y)] = 1).

Forward mode (`jvp`) pushes a tangent through the stored local gradients in
one sweep from the inputs to the output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from numbers import Real
from typing import TYPE_CHECKING, Any, cast

from .grad_mode import enable_grad
from .number import as_real, as_reals
from .value import Number, Value, topological_order

if TYPE_CHECKING:
    from .op import Op

# How many transforms are running around the current call: the outermost one
# returns plain numbers, nested ones return Values so the outer one can differentiate.
_depth: ContextVar[int] = ContextVar("circuitgrad_transform_depth", default=0)


@contextmanager
def _transform() -> Iterator[None]:
    """Inside a transform: one level deeper, and recording even within no_grad()."""
    token = _depth.set(_depth.get() + 1)
    try:
        with enable_grad():
            yield
    finally:
        _depth.reset(token)


def _call(f: Callable[..., Value], *args: Any) -> Value:
    out = f(*args)
    if not isinstance(out, Value):
        raise TypeError(f"the function must return a Value, not {type(out).__name__}")
    return out


def _function(f: object, who: str) -> None:
    if not callable(f):
        raise TypeError(f"{who}: f must be a function of Values, not {f!r}")


def reaching(root: Value, targets: set[Value]) -> tuple[list[Value], set[Value]]:
    """root's non-leaf nodes in topological order, and the nodes with a path to a target."""
    order = topological_order(root)
    reaches = set(targets)
    for node in reversed(order):
        if any(child in reaches for child in node.children):
            reaches.add(node)
    return order, reaches


def gradients(root: Value, wrt: Sequence[Value], create_graph: bool = False) -> list:
    """d root / d w for each w in `wrt`, without touching any ``.grad``.

    With ``create_graph=True`` the gradients are Values whose graph can be
    differentiated again; otherwise they are floats.
    """
    if not isinstance(root, Value):
        raise TypeError(f"gradients: root must be a Value, not {type(root).__name__}")
    if isinstance(wrt, Value) or not isinstance(wrt, (list, tuple)):
        raise TypeError(f"gradients: wrt must be a list of Values, not {wrt!r}")
    for i, w in enumerate(wrt):
        if not isinstance(w, Value):
            raise TypeError(f"gradients: wrt[{i}] must be a Value, not {type(w).__name__}")
    if not isinstance(create_graph, bool):
        raise TypeError(f"gradients: create_graph must be True or False, not {create_graph!r}")
    order, reaches = reaching(root, set(wrt))
    if root not in reaches:
        return [Value(0.0) if create_graph else 0.0 for _ in wrt]
    grads: dict = {root: Value(1.0) if create_graph else 1.0}
    for node in order:
        if node not in grads or node not in reaches:
            continue
        g = grads[node]
        # (node.op is not None: a node with children was made by an op)
        locals_ = cast("Op", node.op).value_locals(node) if create_graph else node.locals
        for child, local in zip(node.children, locals_):
            if child in reaches:
                contribution = local * g
                grads[child] = grads[child] + contribution if child in grads else contribution
    return [grads.get(w, Value(0.0) if create_graph else 0.0) for w in wrt]


def _check_argnums(argnums: object, who: str) -> None:
    """argnums is an int or a tuple (or list) of ints; whether they fit is known at the call."""
    numbers = argnums if isinstance(argnums, (tuple, list)) else (argnums,)
    if any(isinstance(i, bool) or not isinstance(i, int) for i in numbers):
        raise TypeError(f"{who}: argnums must be an int or a tuple of ints, not {argnums!r}")


def _argnums(argnums: int | Sequence[int], n: int) -> tuple[int, ...]:
    numbers = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in numbers:
        if not -n <= i < n:
            raise ValueError(f"argnums {argnums!r} does not fit a call with {n} arguments")
    return tuple(i % n for i in numbers)


def _enter(args: Sequence, argnums: tuple[int, ...], who: str) -> list:
    """The call's arguments as Values: fresh variables at argnums (linked to outer
    Values), constants elsewhere (plain numbers become leaves)."""
    for i in argnums:
        if not isinstance(args[i], Value):
            as_real(args[i], f"{who}: argument {i}")
    # (mypy does not count float among the numbers.Real: the cast names what Value(x) takes, any real number)
    args = [Value(cast(float, x)) if isinstance(x, Real) and i not in argnums else x for i, x in enumerate(args)]
    for i in argnums:
        x = args[i]
        if isinstance(x, Value):
            # A new node for this transform's variable; inside an outer transform it
            # stays connected to the outer graph, at the top level it is a plain copy.
            args[i] = x + 0.0 if _depth.get() > 0 else Value(x.data)
        else:
            args[i] = Value(x)
    return args


def _out(values: list, nested: bool) -> list:
    return values if nested else [v.data if isinstance(v, Value) else v for v in values]


def value_and_grad(f: Callable[..., Value], argnums: int | Sequence[int] = 0) -> Callable:
    """A function returning (f(*args), gradient): the gradient is one number for an
    int `argnums`, a tuple for a tuple of them (as in JAX)."""
    return _value_and_grad(f, argnums, "value_and_grad")


def _value_and_grad(f: Callable[..., Value], argnums: int | Sequence[int], who: str) -> Callable:
    _function(f, who)
    _check_argnums(argnums, who)

    def transformed(*args):
        which = _argnums(argnums, len(args))
        nested = _depth.get() > 0
        with _transform():
            inputs = _enter(args, which, who)
            out = _call(f, *inputs)
            grads = gradients(out, [inputs[i] for i in which], create_graph=True)
        grads = _out(grads, nested)
        value = out if nested else out.data
        return value, (grads[0] if isinstance(argnums, int) else tuple(grads))

    return transformed


def grad(f: Callable[..., Value], argnums: int | Sequence[int] = 0) -> Callable:
    """The gradient of f with respect to the arguments at `argnums`; composes: grad(grad(f))."""
    value_and_gradient = _value_and_grad(f, argnums, "grad")
    return lambda *args: value_and_gradient(*args)[1]


def hessian(f: Callable[[list[Value]], Value]) -> Callable[[Sequence[Number]], list[list[float]]]:
    """The matrix of second derivatives of f, which takes one list of Values: a list of rows."""
    _function(f, "hessian")

    def transformed(xs):
        xs = [Value(x) for x in as_reals(xs, "hessian: xs")]
        with _transform():
            first = gradients(_call(f, xs), xs, create_graph=True)
        return [gradients(g, xs) for g in first]

    return transformed


def hvp(f: Callable[[list[Value]], Value]) -> Callable:
    """Hessian-vector product H v of f (which takes one list of Values), without forming H."""
    _function(f, "hvp")

    def transformed(xs, v):
        xs, v = as_reals(xs, "hvp: xs"), as_reals(v, "hvp: v")
        if len(v) != len(xs):
            raise ValueError(f"hvp: {len(xs)} inputs but a vector of {len(v)}")
        xs = [Value(x) for x in xs]
        with _transform():
            first = gradients(_call(f, xs), xs, create_graph=True)
            directional = Value.dot(first, v)
        return gradients(directional, xs)

    return transformed


def jvp(f: Callable[..., Value], primals: Sequence[Number], tangents: Sequence[Number]) -> tuple[float, float]:
    """(f(primals), directional derivative along `tangents`) by forward mode.

    One sweep from the inputs to the output: each node's tangent is the sum of
    its local gradients times its children's tangents. f takes the primals as
    separate Values and returns a Value.
    """
    _function(f, "jvp")
    primals, tangents = as_reals(primals, "jvp: primals"), as_reals(tangents, "jvp: tangents")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    leaves = [Value(p) for p in primals]
    with enable_grad():
        out = _call(f, *leaves)
    tangent: dict[Value, float] = {}
    for leaf, dx in zip(leaves, tangents):
        tangent[leaf] = tangent.get(leaf, 0.0) + dx
    for node in reversed(topological_order(out)):  # children before the nodes made from them
        total = 0.0
        for child, local in zip(node.children, node.locals):
            t = tangent.get(child)
            if t is not None:
                total += local * t
        tangent[node] = total
    return out.data, tangent.get(out, 0.0)


def jacobian(f: Callable[[list[Value]], Sequence[Value]]) -> Callable[[Sequence[Number]], list[list[float]]]:
    """d out_i / d x_j of a function of one list of Values returning several Values: rows per output.
    An output that is a plain number is a constant: its row is zeros."""
    _function(f, "jacobian")

    def transformed(xs):
        xs = [Value(x) for x in as_reals(xs, "jacobian: xs")]
        with enable_grad():
            outs = f(xs)
        if isinstance(outs, (str, bytes)) or not isinstance(outs, Value) and not hasattr(outs, "__iter__"):
            raise TypeError(f"jacobian: f must return a Value or a list of Values, not {type(outs).__name__}")
        outs = [outs] if isinstance(outs, Value) else list(outs)
        for i, out in enumerate(outs):
            if not isinstance(out, Value):
                as_real(out, f"jacobian: f's output {i}")
        return [gradients(out, xs) if isinstance(out, Value) else [0.0] * len(xs) for out in outs]

    return transformed
