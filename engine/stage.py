"""Staged computation: a forward and backward pass written out as code once, then run many times.

Building a graph costs a Python object per op on every step. When the graph
keeps its shape from step to step, `stage` walks it once and writes its forward
pass (a line per node, children first) and its backward pass (a line per edge,
in reverse order) as straight-line code, as the CS231n notes write backprop by
hand. For ``f = (x + y) * z`` with labels x, y, z, q::

    q = x + y
    f = q * z
    df = seed
    if df or not isfinite(f):
        dq += z * df      # the mul gate swaps its inputs
        dz += q * df
    if dq:
        dx += dq          # the add gate hands its gradient on
        dy += dq

Each op's line comes from its entry in the op table (`engine.ops`): the same
formulas, so the same operations in the same order, and the same skip of a node
whose gradient is exactly 0: the results are those of `backward()`, bit for bit.

Two forms:

* ``stage(root, watch=())``: the graph behind `root`. Calling it re-runs the code
  on its leaves' current ``data``.
* ``stage(fn, *example)``: a function of some inputs (numbers, or lists of
  numbers), traced once on `example`. The code is that of one call, so it grows
  with the model, not with the data; ``staged(*args)`` runs one call and
  ``staged.mean(X, y)`` (or ``.sum``) a whole batch in one loop over its samples.
  Every other leaf the function reaches (the model's parameters) is read at each
  call and gets its gradient, as with `backward()`.

A staged function is one trace of your Python: an ``if`` on ``.data`` keeps the
branch it took, and a number computed from ``.data`` stays the number it was.
`Staged.check` re-traces the function on new inputs and compares. The kinks inside
ops (relu, clip, max, ...) are re-evaluated on every call.
"""

from __future__ import annotations

import inspect
import keyword
import math
import re
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from numbers import Real
from operator import itemgetter
from typing import Any, cast

from .formula import CONSTANTS, FUNCTIONS
from .fused import add_up, logsumexp_of
from .grad_mode import enable_grad
from .number import as_numbers, as_real
from .op import Op
from .value import Value, topological_order

__all__ = ["Program", "StageError", "Staged", "StagedFunction", "StagedGraph", "stage"]


class StageError(ValueError):
    """The graph cannot be staged, or a staged trace no longer holds."""


# A label becomes a variable name when it is a plain ASCII name that nothing else uses.
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_GENERATED = re.compile(r"^d*[vxp]\d+(_d.*)?$|^d*(seed|g|sample|samples|variant|params|outputs|plus_seed|leaf_datas)$")
_C_KEYWORDS = set(
    "auto break case char const continue default do double else enum extern float for goto if inline int long "
    "register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while "
    "NAN INFINITY pow exp log sqrt sin cos tan tanh fabs copysign isfinite isinf isnan".split()
)
_TAKEN = set(keyword.kwlist) | _C_KEYWORDS | set(FUNCTIONS) | {"float", "inf", "nan", "None", "True", "False"}
_TERMS_PER_LINE = 100  # a long sum is split over lines: Python's compiler recurses on a + b + ...


def _number(x: float) -> str:
    """A float as Python source that reads back exactly."""
    return repr(float(x)) if math.isfinite(x) else f"float({str(x)!r})"


class _Trace:
    """The nodes of a graph, children first, and its leaves: inputs (given) and parameters (the rest)."""

    def __init__(self, roots: Sequence[Value], inputs: Sequence[Value] = ()):
        self.nodes: list[Value] = []
        seen: set[Value] = set()
        for root in roots:
            for node in reversed(topological_order(root)):
                if node not in seen:
                    seen.add(node)
                    self.nodes.append(node)
        self.inputs = list(inputs)
        known = set(self.inputs)
        self.parameters: list[Value] = []
        for node in self.nodes:
            for child in node.children:
                if not child.children and child not in known:
                    known.add(child)
                    self.parameters.append(child)
        for root in roots:
            if not root.children and root not in known:  # a leaf staged on its own
                known.add(root)
                self.parameters.append(root)


class _Names:
    """Variable names: a node's label where it is a free, plain name; else p0, x0, v0 ...

    A node's gradient is ``d`` and its name (dx for x); a local gradient worth a
    variable of its own is ``df_dx`` (d f / d x).
    """

    def __init__(self) -> None:
        self.of: dict[Value, str] = {}
        self.used: set[str] = set()

    def copy(self) -> _Names:
        other = _Names()
        other.of, other.used = dict(self.of), set(self.used)
        return other

    def give(self, node: Value, generated: str) -> str:
        label = node.label
        free = (
            _PLAIN.match(label)
            and label not in _TAKEN
            and f"d{label}" not in _TAKEN  # the gradient's name too (a label "ef" would make dx "def")
            and not _GENERATED.match(label)
            and not label.lower().startswith("cg_")  # the C code's own names (cg_params, CG_FAIL)
            and label not in self.used
            and f"d{label}" not in self.used
        )
        name = label if free else generated
        self.used.update((name, f"d{name}"))
        self.of[node] = name
        return name

    def local(self, node: Value, child: Value) -> str:
        name = f"d{self.of[node]}_d{self.of[child]}"
        while name in self.used:
            name += "_"
        self.used.add(name)
        return name


class _Writer:
    """Writes the forward lines of each node and the backward lines of its edges, in Python or C."""

    def __init__(self, names: _Names, language: str):
        self.names = names
        self.c = language == "c"
        self.namespace: dict[str, Any] = {name: f for name, (f, _) in FUNCTIONS.items()}  # what the code calls
        self.namespace.update(CONSTANTS, logsumexp_of=logsumexp_of)
        self.functions: dict[tuple[int, str], str] = {}
        self.errors: list[Value] = []  # C: the node whose check failed, by its index + 1

    def name(self, node: Value) -> str:
        return self.names.of[node]

    def grad(self, node: Value) -> str:
        return f"d{self.names.of[node]}"

    def number(self, x: float) -> str:
        from .formula import c_number

        return c_number(x) if self.c else _number(x)

    def forward(self, node: Value, out: list[str]) -> list[tuple[Value, str | float]]:
        """Lines that compute the node (and its non-trivial locals); returns (child, local) per edge."""
        op: Op = node.op  # type: ignore[assignment]
        name = self.name(node)
        arguments = op.arguments(node)
        args = [self.name(a) if isinstance(a, Value) else float(a) for a in arguments]
        written = op.c(args, name) if self.c else op.python(args, name)
        if written is None:
            return self._called(node, op, args, arguments, out)
        expression, every_local, checks = written
        for condition, _ in checks:
            if self.c:
                self.errors.append(node)
                out.append(f"if ({condition}) CG_FAIL({len(self.errors)});")
            else:
                fail = self._function(op, "fail", op.fail)
                out.append(f"if {condition}:")
                out.append(f"    {fail}({', '.join(self._arg(a) for a in args)})")
        if op.overflow and not self.c:  # Python raises its own OverflowError: let the op raise the engine's
            function = self._function(op, "forward", lambda *xs, op=op: op.evaluate(*xs)[0])
            out.append(f"{name} = {function}({', '.join(self._arg(a) for a in args)})")
        else:
            self._sum_lines(name, expression, op, out)
            if op.overflow:
                self.errors.append(node)
                finite = " && ".join(f"isfinite({a})" for a in args if isinstance(a, str)) or "1"
                out.append(f"if (isinf({name}) && {finite}) CG_FAIL({len(self.errors)});")
        edges: list[tuple[Value, str | float]] = []
        for argument, local in zip(arguments, every_local):
            if not isinstance(argument, Value):
                continue
            number = _as_number(local)
            if number is not None:
                edges.append((argument, number))
            elif local.isidentifier():
                edges.append((argument, local))
            elif getattr(local, "kink", False):  # 0 or 1 by a comparison: written where it is used
                edges.append((argument, Kink(f"({local})")))
            else:  # a formula: computed once, in a variable of its own
                variable = self.names.local(node, argument)
                out.append(self._let(variable, local))
                edges.append((argument, variable))
        return edges

    def _called(
        self, node: Value, op: Op, args: list[str | float], arguments: list[Value | float], out: list[str]
    ) -> list[tuple[Value, str | float]]:
        """An op defined by Python functions: the staged code calls it (Python only)."""
        if self.c:
            raise StageError(
                f"stage: the op {op.name!r} is defined by Python functions and has no C form; "
                "define it with formula strings (engine.defop) to compile it"
            )
        function = self._function(op, "evaluate", op.evaluate)
        targets = [self.names.local(node, a) if isinstance(a, Value) else "_" for a in arguments]
        out.append(f"{self.name(node)}, ({', '.join(targets)},) = {function}({', '.join(self._arg(a) for a in args)})")
        return [(a, t) for a, t in zip(arguments, targets) if isinstance(a, Value)]

    def _function(self, op: Op, what: str, function: Callable) -> str:
        """The name under which the Python code calls `function` (one of `op`'s), e.g. _fail_div."""
        key = (id(op), what)
        if key not in self.functions:
            base = f"_{what}_{op.name}" if op.name.isidentifier() else f"_{what}_op"
            name, k = base, 1
            while name in self.namespace:
                k += 1
                name = f"{base}{k}"
            self.functions[key] = name
            self.namespace[name] = function
        return self.functions[key]

    def _arg(self, a: str | float) -> str:
        return a if isinstance(a, str) else self.number(a)

    def _let(self, name: str, expression: str) -> str:
        return f"double {name} = {expression};" if self.c else f"{name} = {expression}"

    def _sum_lines(self, name: str, expression: str, op: Op, out: list[str]) -> None:
        """``name = expression``; a sum of many terms split over lines (added in the same order)."""
        terms = expression.split(" + ") if op.splits and not self.c else [expression]
        first = True
        while len(terms) > _TERMS_PER_LINE:
            head = " + ".join(terms[:_TERMS_PER_LINE])
            out.append(self._let(name, head) if first else f"{name} = {head}")
            terms, first = [name, *terms[_TERMS_PER_LINE:]], False
        body = " + ".join(terms)
        out.append(self._let(name, body) if first else f"{name} = {body}")

    def backward(self, node: Value, edges: list[tuple[Value, str | float]], out: list[str]) -> None:
        """``child_grad += local * grad`` for each edge, skipped (in Python) when the gradient is exactly 0.

        The skip needs every local to be finite (0 * inf is nan, and that must show):
        constant locals are known; a product's locals (its other inputs) are finite
        when its output is; otherwise the locals are tested. Skipping or not changes
        no bit: every gradient total starts at 0.0, and adding a zero of either sign to
        it leaves it as it is. The C code does not skip.
        """
        grad = self.grad(node)
        numbers = [local for _, local in edges if not isinstance(local, str)]
        names = [local for _, local in edges if isinstance(local, str) and not isinstance(local, Kink)]
        if not all(map(math.isfinite, numbers)):
            guard = "1" if self.c else "True"
        elif not names:
            guard = f"{grad} != 0.0" if self.c else grad
        else:
            tested = self.name(node) if cast(Op, node.op).partners else " + ".join(names)
            guard = f"{grad} != 0.0 || !isfinite({tested})" if self.c else f"{grad} or not isfinite({tested})"
        lines = []
        for child, local in edges:
            target = self.grad(child)
            if local == 1.0:
                lines.append(f"{target} += {grad}")
            elif local == -1.0:
                lines.append(f"{target} -= {grad}")
            else:
                text = local if isinstance(local, str) else self.number(local)
                lines.append(f"{target} += {text} * {grad}")
        if not lines:
            return
        if self.c:  # no skip in C: adding an exact 0 costs less than a branch, and changes no bit
            out += [f"{line};" for line in lines]
        else:
            out.append(f"if {guard}:")
            out += [f"    {line}" for line in lines]


class Kink(str):
    """A local gradient that is a finite constant picked by a comparison: always finite."""


def _as_number(text: str) -> float | None:
    """The number a local gradient's source text stands for, or None for an expression."""
    text = text.strip("()")
    special = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan, "INFINITY": math.inf, "-INFINITY": -math.inf}
    if text in special or text == "NAN":
        return special.get(text, math.nan)
    try:
        return float(text)
    except ValueError:
        return None


def _structure(example: object, what: str) -> int | None:
    """None for a number argument, its length for a list of numbers."""
    if isinstance(example, Value):
        raise TypeError(f"stage: {what} must be numbers (the data of one call), not Values")
    if isinstance(example, Real):
        return None
    if isinstance(example, (list, tuple)) and all(isinstance(x, Real) and not isinstance(x, Value) for x in example):
        return len(example)
    raise TypeError(f"stage: {what} must be a number or a list of numbers, not {type(example).__name__}")


class Staged:
    """A forward and backward pass written out as code; call it to run it.

    ``source`` is the Python code; ``parameters`` are the leaves it reads at each
    call (their gradients are added to, as `backward()` does); ``nodes`` the number
    of ops written out.
    """

    source: str
    parameters: list[Value]
    nodes: int

    def __repr__(self) -> str:
        lines = self.source.count("\n")
        return f"{type(self).__name__}({self.nodes} ops, {len(self.parameters)} parameters, {lines} lines of Python)"

    def _repr_markdown_(self) -> str:
        shown = self.source.splitlines()
        more = f"\n    # ... {len(shown) - 60} more lines" if len(shown) > 60 else ""
        return f"{self!r}:\n\n```python\n" + "\n".join(shown[:60]) + more + "\n```\n"

    def _compile(self, source: str, namespace: dict[str, Any]) -> Callable[..., Any]:
        exec(compile(source, "<staged code>", "exec"), namespace)
        return namespace["forward_backward"]

    def _add_grads(self, grads: Sequence[float]) -> None:
        for leaf, grad in zip(self.parameters, grads):
            leaf.grad += grad

    def mean(self, *batches: Sequence, gradient: float = 1.0) -> Any:
        raise TypeError("mean() is for a staged function (stage(fn, *example)); a staged graph is called: staged()")

    def sum(self, *batches: Sequence, gradient: float = 1.0) -> Any:
        raise TypeError("sum() is for a staged function (stage(fn, *example)); a staged graph is called: staged()")

    def check(self, *args: Any) -> None:
        raise TypeError("check() is for a staged function (stage(fn, *example)): a staged graph has no arguments")

    def bind(self, *batches: Sequence) -> Any:
        raise TypeError("bind() is for a staged function (stage(fn, *example)): a staged graph has no arguments")


class StagedGraph(Staged):
    """``stage(root)``: the graph behind `root`, re-run on its leaves' current data.

    A call returns the root's new value, writes it into ``root.data`` (and the
    watched nodes' ``data``), and adds d(root)/d(leaf) to each leaf's ``grad``
    (leaves accumulate, as with `backward()`).
    """

    def __init__(self, root: Value, watch: list[Value]):
        self.root, self.watched = root, watch
        trace = _Trace([root, *watch])
        self.parameters = trace.parameters
        self.leaves = self.parameters  # the leaves it reads, in order
        self.nodes = len(trace.nodes)
        names = _Names()
        for k, leaf in enumerate(self.parameters):
            names.give(leaf, f"x{k}")
        for k, node in enumerate(trace.nodes):
            names.give(node, f"v{k}")
        writer = _Writer(names, "python")
        forward, backward = _block(writer, trace.nodes, set(trace.nodes))
        of = names.of
        lines = [
            "def forward_backward(leaf_datas, seed):",
            f"    ({''.join(of[p] + ', ' for p in self.parameters)}) = leaf_datas",
        ]
        lines.append("    # forward: one line per node, children first")
        lines += _indent(forward, 1)
        lines.append("    # backward: the root gets the seed; every edge adds local * gradient")
        lines += _indent(_zero([writer.grad(n) for n in [*trace.nodes, *self.parameters]]), 1)
        lines.append(f"    {writer.grad(root)} = seed")
        lines += _indent(backward, 1)
        grads = "".join(f"{writer.grad(p)}, " for p in self.parameters)
        lines.append(f"    return {of[root]}, ({grads}), ({''.join(of[n] + ', ' for n in watch)})")
        self.source = "\n".join(lines) + "\n"
        self._run = self._compile(self.source, writer.namespace)

    def __call__(self, gradient: float = 1.0) -> float:
        """Run the code on the leaves' current data; returns the root's value."""
        seed = as_real(gradient, "staged call: gradient", "a real number")
        with enable_grad():  # ops the code calls record their locals even inside no_grad()
            out, grads, watched = self._run([leaf.data for leaf in self.parameters], seed)
        self._add_grads(grads)
        for node, data in zip(self.watched, watched):
            node.data = data
        self.root.data = out
        return out


class _Variant:
    """One trace of a staged function: for one value of its static arguments."""

    def __init__(self, key: tuple, root: Value, aux: list[Value], inputs: list[Value], shapes: list[int | None]):
        self.key, self.root, self.aux, self.inputs, self.shapes = key, root, aux, inputs, shapes
        members: set[Value] = set()
        for node in [root, *aux]:
            members.update(topological_order(node))
        self.members = members

    def inputs_of(self, k: int) -> list[Value]:
        start = sum(s or 1 for s in self.shapes[:k])
        return self.inputs[start : start + (self.shapes[k] or 1)]


class Program:
    """A staged function's code, line by line, in one language: what the Python and C writers assemble.

    ``params``/``param_grads``: the parameters' variables; ``plus``: the penalty's lines
    (forward, zero, seed, backward, value) or None; ``variants``: per trace, its lines.
    """

    def __init__(self, staged: StagedFunction, language: str):
        trace, names = staged.trace, staged.names.copy()  # its own local names: the same in every language
        writer = _Writer(names, language)
        self.writer = writer
        self.params = [names.of[p] for p in staged.parameters]
        self.param_grads = [writer.grad(p) for p in staged.parameters]
        self.plus: dict[str, Any] | None = None
        if staged.plus is not None:
            members = set(topological_order(staged.plus))
            forward, backward = _block(writer, trace.nodes, members)
            zero = [writer.grad(n) for n in trace.nodes if n in members]
            seed = writer.grad(staged.plus) if staged.plus.children else None
            self.plus = {"forward": forward, "zero": zero, "seed": seed, "backward": backward}
            self.plus["value"] = names.of[staged.plus]
        self.variants: list[dict[str, Any]] = []
        for variant in staged.variants:
            forward, backward = _block(writer, trace.nodes, variant.members)
            per_sample = [n for n in trace.nodes if n in variant.members]
            root = variant.root
            if root in staged.parameters:  # the function returns a parameter itself
                seed_line = (writer.grad(root), "+=")
            else:
                seed_line = (writer.grad(root), "=")
            self.variants.append(
                {
                    "inputs": [[names.of[x] for x in variant.inputs_of(k)] for k in range(len(variant.shapes))],
                    "shapes": variant.shapes,
                    "forward": forward,
                    "zero": [writer.grad(n) for n in [*per_sample, *variant.inputs]],
                    "seed": seed_line,
                    "backward": backward,
                    "root": names.of[root],
                    "aux": [names.of[n] for n in variant.aux],
                    "input_grads": [writer.grad(x) for x in variant.inputs] if staged.input_grads else [],
                }
            )


class _Batch:
    """A checked batch: its size, each sample's trace, each traced argument as a column of floats
    (or of tuples of floats); packed into arrays for the C code on first use."""

    def __init__(self, n: int, variants: list[int], columns: list[Sequence]):
        self.n, self.variants, self.columns = n, variants, columns
        self._packed: tuple[array, array] | None = None

    def packed(self) -> tuple[array, array]:
        """(every input, sample after sample; each sample's trace) as C arrays."""
        if self._packed is None:
            stride = sum(len(c[0]) if type(c[0]) is tuple else 1 for c in self.columns)
            flat = array("d", bytes(8 * self.n * stride))
            offset = 0
            for column in self.columns:
                if type(column[0]) is tuple:
                    for i in range(len(column[0])):
                        flat[offset::stride] = array("d", map(itemgetter(i), column))
                        offset += 1
                else:
                    flat[offset::stride] = array("d", column)
                    offset += 1
            self._packed = flat, array("i", self.variants)
        return self._packed


@dataclass(slots=True)
class _Outcome:
    """A batch run through the code: each sample's value, aux values (a list a sample, or None without
    aux) and input gradients (or None), the parameters' gradients, and the penalty's value."""

    values: list[float]
    aux: list[list[float]] | None
    input_grads: list[Sequence[float]] | None
    grads: Sequence[float]  # a tuple from the Python code, an array from the C code
    plus: float


class BoundBatch:
    """A batch bound to a staged function (`StagedFunction.bind`): its numbers checked and copied once."""

    def __init__(self, staged: StagedFunction, data: _Batch):
        data.columns = [list(column) for column in data.columns]  # a copy: later changes to the lists are not seen
        self.staged, self.data = staged, data

    def __len__(self) -> int:
        return self.data.n

    def __repr__(self) -> str:
        return f"BoundBatch({self.data.n} samples)"

    def mean(self, gradient: float = 1.0) -> Any:
        """``staged.mean(*batches)`` on the bound batches, bit for bit."""
        return self.staged._reduce(self.data, gradient, "mean")

    def sum(self, gradient: float = 1.0) -> Any:
        """``staged.sum(*batches)`` on the bound batches, bit for bit."""
        return self.staged._reduce(self.data, gradient, "sum")

    def value_and_grad(self, params: Sequence[float], reduction: str = "mean") -> tuple[Any, array]:
        """(what ``mean()`` returns, the gradient of each parameter) with the parameters at these numbers.

        It evaluates now, on the bound batch (`engine.value_and_grad(f)`, by contrast,
        makes a function of Values).

        `params` holds one number per parameter, in the order of ``staged.parameters``
        (a list, or an ``array("d")``). Nothing is read from or written to a Value: the
        gradients are returned, equal bit for bit to the ``.grad`` that ``mean()`` leaves
        on zeroed parameters, as an ``array("d")``. A training loop can keep the numbers
        (and an optimizer's state) in arrays from step to step, as NumPy or JAX code
        does, and write them back to the Values when it ends.
        ``reduction="sum"`` is ``sum()`` instead of ``mean()``.
        """
        staged = self.staged
        if reduction not in ("mean", "sum"):
            raise ValueError(f"value_and_grad: reduction must be 'mean' or 'sum', not {reduction!r}")
        numbers = as_numbers(params, len(staged.parameters), "value_and_grad: params")
        out = staged._evaluate(self.data, 1.0, reduction, numbers)
        grads = out.grads if isinstance(out.grads, array) else array("d", out.grads)
        return staged._result(out, self.data.n, reduction), grads


class StagedFunction(Staged):
    """``stage(fn, *example)``: one call of `fn` written out; run it on new arguments, or on a batch.

    The arguments of `fn` are numbers or lists of numbers (traced: the code takes
    them as variables), or, at the positions in `static`, any hashable Python value
    that decides the graph's shape (a class index): one trace per value, each a
    branch of the same code.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        example: tuple,
        static: tuple[int, ...],
        has_aux: bool,
        plus: Value | None,
        input_grads: bool,
        backend: str = "python",
    ):
        self.function, self.static, self.has_aux = function, static, has_aux
        self.plus, self.input_grads, self.backend = plus, input_grads, backend
        self.labels = _parameter_names(function, len(example))
        self.arity = len(example)
        self.shapes = [
            None if k in static else _structure(x, f"argument {k} of the example") for k, x in enumerate(example)
        ]
        self.variants: list[_Variant] = []
        self.index: dict[tuple, int] = {}
        self._add_variant(example)

    # ----------------------------------------------------------------- tracing

    def _key(self, args: Sequence, where: str, picked: bool = True) -> tuple:
        key = tuple(args[k] for k in self.static) if picked else tuple(args)
        try:
            hash(key)
        except TypeError:
            raise TypeError(f"{where}: static arguments must be hashable (a number, a str), not {key!r}") from None
        return key

    def _add_variant(self, args: Sequence) -> int:
        """Trace the function once more, for new static values, and write all the code again."""
        key = self._key(args, "stage")
        inputs: list[Value] = []
        arguments: list[Any] = []
        shapes = [s for k, s in enumerate(self.shapes) if k not in self.static]
        with enable_grad():
            for k, x in enumerate(args):
                label = self.labels[k]
                if k in self.static:
                    arguments.append(x)
                elif self.shapes[k] is None:
                    leaf = Value(as_real(x, f"stage: argument {k} of the example", "a number"), label)
                    inputs.append(leaf)
                    arguments.append(leaf)
                else:
                    leaves = [
                        Value(
                            as_real(v, f"stage: argument {k} of the example", "a list of numbers"),
                            f"{label}_{i}" if label else "",
                        )
                        for i, v in enumerate(x)
                    ]
                    inputs += leaves
                    arguments.append(leaves)
            result = self.function(*arguments)
        root, aux = _split(result, self.has_aux)
        variant = _Variant(key, root, aux, inputs, shapes)
        self.variants.append(variant)
        self.index[key] = len(self.variants) - 1
        self._write()
        return self.index[key]

    def _write(self) -> None:
        roots = [n for v in self.variants for n in (v.root, *v.aux)]
        inputs = [x for v in self.variants for x in v.inputs]
        self.trace = _Trace([*roots, *([self.plus] if self.plus is not None else [])], inputs)
        if self.plus is not None and set(inputs) & set(_Trace([self.plus]).parameters):
            raise StageError("stage: plus must be made from the parameters alone, not from the function's inputs")
        self.parameters = self.trace.parameters
        self.nodes = len(self.trace.nodes)
        self.names = _Names()
        for k, leaf in enumerate(self.parameters):
            self.names.give(leaf, f"p{k}")
        for k, leaf in enumerate(inputs):
            self.names.give(leaf, f"x{k}")
        for k, node in enumerate(self.trace.nodes):
            self.names.give(node, f"v{k}")
        self._python: Callable[..., Any] | None = None  # the Python code, compiled when first needed
        self._python_source: str | None = None
        self._namespace: dict[str, Any] = {}  # the Python code's names (its op functions), with its source
        self._c_source: str | None = None
        self._library: Any = None  # the compiled C code, built when first called (engine.compiled)
        if self.backend == "c":
            self.c_source  # noqa: B018  (an op with no C form raises now, at staging)
        else:
            self._python_code()

    @property
    def source(self) -> str:  # type: ignore[override]
        """The Python code (written when first asked for, with the C backend)."""
        if self._python_source is None:
            program = Program(self, "python")
            self._python_source, self._namespace = _python_source(program), program.writer.namespace
        return self._python_source

    def _python_code(self) -> Callable[..., Any]:
        """The Python code's function, compiled when first needed (the C backend needs it only to raise
        the engine's own error on a domain error)."""
        if self._python is None:
            source = self.source
            self._python = self._compile(source, self._namespace)
        return self._python

    @property
    def c_source(self) -> str:
        """The same code in C (see `engine.compiled`); StageError for an op defined by Python functions."""
        if self._c_source is None:
            from .compiled import c_source

            counts = {(len(v.inputs), len(v.aux)) for v in self.variants}
            if len(counts) != 1:
                raise StageError("stage: the C code needs every trace to have the same inputs and aux values")
            n_inputs, n_aux = counts.pop()
            self._c_source = c_source(Program(self, "c"), n_inputs, n_aux)
        return self._c_source

    # ----------------------------------------------------------------- calling

    def __call__(self, *args: Any, gradient: float = 1.0) -> Any:
        """One call: the value of fn(*args) with its backward pass (the parameters' grads are added to).

        Returns the value; with aux, (value, aux values); with input_grads, also the
        gradient with respect to each input, shaped as the arguments.
        """
        seed = as_real(gradient, "staged call: gradient", "a real number")
        if len(args) != self.arity:
            raise TypeError(f"staged call: {len(args)} arguments given, the function takes {self.arity}")
        batches = [[arg] for arg in args]
        sample = _Batch(1, self._variants_of(batches, 1, "call"), self._columns(batches, "call"))
        out = self._batch(sample, seed, "call")
        value = out.values[0]
        if self.plus is not None:
            value = value + out.plus
        extra: list[Any] = []
        if out.aux is not None:
            extra.append(out.aux[0])
        if out.input_grads is not None:
            extra.append(self._shaped(out.input_grads[0]))
        return (value, *extra) if extra else value

    def mean(self, *batches: Sequence, gradient: float = 1.0) -> Any:
        """The mean of fn over the samples (plus the penalty), with its backward pass.

        ``staged.mean(X, y)`` equals ``Value.sum([fn(x, y) for ...]) * (1.0 / n)`` (+ plus)
        followed by `backward()`, bit for bit: each sample's gradients are added in
        the same order. Returns the value; with aux, also each sample's aux values;
        with input_grads, also each sample's input gradients.
        """
        return self._reduce(batches, gradient, "mean")

    def sum(self, *batches: Sequence, gradient: float = 1.0) -> Any:
        """The sum of fn over the samples (plus the penalty): `mean` without the 1/n."""
        return self._reduce(batches, gradient, "sum")

    def bind(self, *batches: Sequence) -> BoundBatch:
        """A batch checked and packed once, to train on the same data step after step.

        ``bound = staged.bind(X, y)`` copies the numbers now (later changes to X and y
        are not seen); ``bound.mean()`` and ``bound.sum()`` then equal
        ``staged.mean(X, y)`` and ``staged.sum(X, y)`` bit for bit, without checking and
        packing the data at every call (for compiled code, most of a small step's time).
        """
        return BoundBatch(self, self._prepare(batches, "bind"))

    def _prepare(self, batches: Sequence[Sequence], what: str) -> _Batch:
        """The batches checked: each sample's trace, and each traced argument as a column."""
        if len(batches) != self.arity:
            raise TypeError(f"staged {what}: {len(batches)} batches given, the function takes {self.arity}")
        lengths = []
        for k, batch in enumerate(batches):
            if isinstance(batch, (str, bytes)) or not hasattr(batch, "__len__"):
                raise TypeError(f"staged {what}: batch {k} must be a list (one item per sample)")
            lengths.append(len(batch))
        if len(set(lengths)) != 1:
            raise ValueError(f"staged {what}: the batches have different lengths {lengths}")
        if not lengths[0]:
            raise ValueError(f"staged {what}: the batch is empty")
        variants = self._variants_of(batches, lengths[0], what)  # may trace new static values
        return _Batch(lengths[0], variants, self._columns(batches, what))

    def _reduce(self, batches: tuple | _Batch, gradient: float, what: str) -> Any:
        seed = as_real(gradient, f"staged {what}: gradient", "a real number")
        data = batches if isinstance(batches, _Batch) else self._prepare(batches, what)
        return self._result(self._batch(data, seed, what), data.n, what)

    def _result(self, out: _Outcome, n: int, what: str) -> Any:
        """What mean() or sum() returns: the total (as Value.sum, then * (1/n), then + plus), aux, input grads."""
        total = add_up(out.values, -0.0)
        if what == "mean":
            total = total * (1.0 / n)
        if self.plus is not None:
            total = total + out.plus
        extra: list[Any] = []
        if out.aux is not None:
            extra.append(out.aux)
        if out.input_grads is not None:
            extra.append([self._shaped(flat) for flat in out.input_grads])
        return (total, *extra) if extra else total

    def _batch(self, data: _Batch, seed: float, what: str) -> _Outcome:
        """Run the code on the samples at the parameters' data; add the parameters' totals to their grads once."""
        out = self._evaluate(data, seed, what, [p.data for p in self.parameters])
        self._add_grads(out.grads)
        return out

    def _evaluate(self, data: _Batch, seed: float, what: str, params: list[float] | array) -> _Outcome:
        """The code run on the samples at these parameter numbers: last sample first, as backward() on
        their sum would, each seeded with the gradient that sum hands it. Reads and changes no Value."""
        # The seeds as backward() computes them: root = data part (+ plus); data part = sum * (1/n).
        part = 0.0 + 1.0 * seed if self.plus is not None else seed
        if what == "mean":
            g = 0.0 + 1.0 * (0.0 + (1.0 / data.n) * part)
        elif what == "sum":
            g = 0.0 + 1.0 * part
        else:
            g = part
        plus_seed = 0.0 + 1.0 * seed
        if self.backend == "c":
            return self._run_c(params, data, g, plus_seed)
        rows = zip(*data.columns) if data.columns else repeat((), data.n)  # every argument static: no inputs
        samples = list(zip(rows, repeat(g), data.variants))
        with enable_grad():
            outputs, grads, plus = self._python_code()(params, samples[::-1], plus_seed)
        outputs.reverse()
        aux = [list(o[1]) for o in outputs] if self.has_aux else None
        input_grads = [o[2] for o in outputs] if self.input_grads else None
        return _Outcome([o[0] for o in outputs], aux, input_grads, grads, plus)

    def _variants_of(self, batches: Sequence[Sequence], n: int, what: str) -> list[int]:
        """Each sample's trace, by its static arguments; a new value is traced now (the code is written again)."""
        if not self.static:
            return [0] * n
        variants = []
        for i, key in enumerate(zip(*[batches[k] for k in self.static])):
            variant = self.index.get(self._key(key, f"staged {what}, sample {i}", picked=False))
            if variant is None:
                variant = self._add_variant([batch[i] for batch in batches])
            variants.append(variant)
        return variants

    def _columns(self, batches: Sequence[Sequence], what: str) -> list[Sequence]:
        """Each traced argument over the samples: floats, or tuples of floats as long as in the trace."""
        columns: list[Sequence] = []
        for k, (batch, shape) in enumerate(zip(batches, self.shapes)):
            if k in self.static:
                continue
            where = f"staged {what}: argument {k}"

            def sample(i: int, where: str = where) -> str:
                return where if what == "call" else f"{where}, sample {i}"

            if shape is None:
                kinds = set(map(type, batch))
                if kinds <= {float}:
                    columns.append(batch if type(batch) is list else list(batch))
                elif kinds <= {float, int} and -(2**53) <= min(batch) and max(batch) <= 2**53:
                    columns.append(list(map(float, batch)))  # whole numbers a float holds exactly
                else:
                    columns.append([_data_number(x, sample(i)) for i, x in enumerate(batch)])
                continue
            try:
                lengths = set(map(len, batch))
                kinds = set(map(type, chain.from_iterable(batch)))
            except TypeError:
                lengths, kinds = set(), set()
            if lengths == {shape} and kinds <= {float}:
                columns.append(batch if set(map(type, batch)) <= {tuple} else list(map(tuple, batch)))
                continue
            for i, row in enumerate(batch):
                traced = f"the trace was made with a list of {_plural(shape, 'number')}"
                if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
                    got = "a number" if isinstance(row, Real) else f"a {type(row).__name__}"
                    raise TypeError(f"{sample(i)} is {got}, but {traced}")
                if len(row) != shape:
                    raise StageError(
                        f"{sample(i)} is a list of {_plural(len(row), 'number')}, but {traced}: "
                        "stage the function again for this shape"
                    )
            columns.append([tuple(_data_number(x, sample(i)) for x in row) for i, row in enumerate(batch)])
        return columns

    def _run_c(self, params: list[float] | array, data: _Batch, g: float, plus_seed: float) -> _Outcome:
        """The batch through the compiled code; on a domain error, the Python code raises the engine's."""
        from .compiled import Library

        if self._library is None:
            variant = self.variants[0]
            self._library = Library(self.c_source, len(self.parameters), len(variant.inputs), len(variant.aux))
        n, variants, columns = data.n, data.variants, data.columns
        flat, variant_array = data.packed()
        library = self._library
        error, failed, outs, aux, input_grads, grads, plus = library.run(
            params, flat, variant_array, array("d", [g]) * n, plus_seed, self.input_grads
        )
        if error:
            sample = [(tuple(column[failed] for column in columns), g, variants[failed])] if failed >= 0 else []
            with enable_grad():  # the same check in Python raises the engine's own error
                self._python_code()(params, sample, plus_seed)
            raise StageError(f"the compiled code stopped at its check {error} but the Python code did not")
        na, ni = library.n_aux, library.n_inputs
        aux_rows = [aux[i * na : (i + 1) * na] for i in range(n)] if self.has_aux else None
        grad_rows = [input_grads[i * ni : (i + 1) * ni] for i in range(n)] if self.input_grads else None
        return _Outcome(outs, aux_rows, grad_rows, grads, plus)

    def _shaped(self, flat: Sequence[float]) -> list:
        shaped, k = [], 0
        for shape in (s for i, s in enumerate(self.shapes) if i not in self.static):
            shaped.append(flat[k] if shape is None else list(flat[k : k + shape]))
            k += shape or 1
        return shaped

    # ---------------------------------------------------------------- checking

    def check(self, *args: Any) -> None:
        """Trace fn again on these arguments and compare it with the staged code, bit for bit.

        Raises StageError if the function now builds another graph (a Python ``if`` on
        ``.data``, a number read from ``.data``) or the numbers differ. Changes no gradient.
        """
        if len(args) != self.arity:
            raise TypeError(f"check: {len(args)} arguments given, the function takes {self.arity}")
        fresh = StagedFunction(self.function, args, self.static, self.has_aux, self.plus, self.input_grads, "python")
        mine = self.variants[self.index[self._key(args, "check")]] if self._key(args, "check") in self.index else None
        if mine is None:
            self._add_variant(args)
            mine = self.variants[-1]
        if _shape_of(mine.root, mine.inputs) != _shape_of(fresh.variants[0].root, fresh.variants[0].inputs):
            raise StageError(
                "staged function: for these arguments the function builds another graph "
                "(a Python branch or a number read from .data): stage it again, or make that step an op"
            )
        saved = [p.grad for p in self.parameters]
        try:
            for p in self.parameters:
                p.grad = 0.0
            value = self(*args)
            value = value[0] if isinstance(value, tuple) else value
            staged_grads = [p.grad for p in self.parameters]
            root = fresh.variants[0].root if self.plus is None else fresh.variants[0].root + self.plus
            for p in self.parameters:
                p.grad = 0.0
            root.backward()
            graph_grads = [p.grad for p in self.parameters]
        finally:
            for p, g in zip(self.parameters, saved):
                p.grad = g
        if not _same(value, root.data) or not all(map(_same, staged_grads, graph_grads)):
            raise StageError("staged function: the staged numbers differ from backward() on a fresh trace")


def _python_source(program: Program) -> str:
    """The Python function a Program describes: ``forward_backward(params, samples, plus_seed)``."""
    lines = ["def forward_backward(params, samples, plus_seed):"]
    lines.append(f"    ({''.join(p + ', ' for p in program.params)}) = params")
    lines += _indent(_zero(program.param_grads), 1)
    plus_value = "0.0"
    if program.plus is not None:
        plus = program.plus
        lines.append("    # the penalty, on the parameters alone")
        lines += _indent(plus["forward"], 1)
        lines += _indent(_zero(plus["zero"]), 1)
        if plus["seed"] is not None:
            lines.append(f"    {plus['seed']} = plus_seed")
        lines += _indent(plus["backward"], 1)
        plus_value = plus["value"]
    lines.append("    outputs = []")
    several = len(program.variants) > 1
    lines.append("    for sample, g, variant in samples:")
    for k, variant in enumerate(program.variants):
        depth = 2
        if several:
            lines.append(f"        {'if' if k == 0 else 'elif'} variant == {k}:")
            depth = 3
        unpack = "".join(
            (names[0] if shape is None else "(" + "".join(n + ", " for n in names) + ")") + ", "
            for names, shape in zip(variant["inputs"], variant["shapes"])
        )
        body = [f"({unpack}) = sample", "# forward: one line per node, children first"]
        body += variant["forward"]
        body.append("# backward: the output gets g; every edge adds local * gradient")
        body += _zero(variant["zero"])
        grad, how = variant["seed"]
        body.append(f"{grad} {how} g")
        body += variant["backward"]
        aux = "".join(a + ", " for a in variant["aux"])
        grads = "".join(a + ", " for a in variant["input_grads"])
        body.append(f"outputs.append(({variant['root']}, ({aux}), ({grads})))")
        lines += _indent(body, depth)
    lines.append(f"    return outputs, ({''.join(g + ', ' for g in program.param_grads)}), {plus_value}")
    return "\n".join(lines) + "\n"


def _block(writer: _Writer, nodes: list[Value], members: set[Value]) -> tuple[list[str], list[str]]:
    """Forward lines of the nodes in `members` (children first), and their edges' backward lines."""
    forward: list[str] = []
    backward: list[list[str]] = []
    for node in nodes:
        if node in members:
            edges = writer.forward(node, forward)
            lines: list[str] = []
            writer.backward(node, edges, lines)
            backward.append(lines)
    return forward, [line for block in reversed(backward) for line in block]


def _zero(grads: list[str]) -> list[str]:
    return [f"{' = '.join(grads[i : i + 200])} = 0.0" for i in range(0, len(grads), 200)]


def _indent(lines: list[str], depth: int) -> list[str]:
    return ["    " * depth + line for line in lines]


def _data_number(x: object, where: str) -> float:
    """A number of the data (not a Value: a Value given as data would silently lose its gradient)."""
    if isinstance(x, Value):
        raise TypeError(f"{where} must be a number (the data of a call), not a Value: pass its .data")
    return as_real(x, where, "a number (the data of a call)")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _parameter_names(function: Callable[..., Any], count: int) -> list[str]:
    """The names of the function's first `count` parameters, to label the inputs ('' where unknown)."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return [""] * count
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [names[k] if k < len(names) and _PLAIN.match(names[k]) else "" for k in range(count)]


def _split(result: Any, has_aux: bool) -> tuple[Value, list[Value]]:
    aux: list[Value] = []
    if has_aux:
        if not isinstance(result, tuple) or len(result) != 2:
            raise TypeError("stage: with has_aux=True the function must return (Value, aux)")
        result, extra = result
        extra = [extra] if isinstance(extra, Value) else list(extra)
        if not all(isinstance(v, Value) for v in extra):
            raise TypeError("stage: the aux values must be Values")
        aux = extra
    if not isinstance(result, Value):
        raise TypeError(f"stage: the function must return a Value, not {type(result).__name__}")
    return result, aux


def _same(a: float, b: float) -> bool:
    return (a == b and math.copysign(1.0, a) == math.copysign(1.0, b)) or (a != a and b != b)


def _shape_of(root: Value, inputs: list[Value]) -> list:
    """What a trace did: each node's op, its constants and where its children come from."""
    order = list(reversed(topological_order(root)))
    index: dict[Value, tuple] = {x: ("input", k) for k, x in enumerate(inputs)}
    index.update({node: ("node", k) for k, node in enumerate(order)})
    return [
        (node.op, tuple(map(repr, node.constants)), tuple(index.get(c, ("leaf", id(c))) for c in node.children))
        for node in order
    ]


def stage(
    f: Value | Callable[..., Any],
    *example: Any,
    watch: Sequence[Value] = (),
    static: Sequence[int] = (),
    has_aux: bool = False,
    plus: Value | None = None,
    input_grads: bool = False,
    backend: str = "python",
) -> Staged:
    """Write a forward and backward pass out as code (see the module's docs).

    ``stage(root, watch=())``: the graph behind `root`; `watch` lists nodes whose
    ``data`` each call brings up to date (the root's always is).

    ``stage(fn, *example)``: `fn` takes numbers or lists of numbers (as `example`)
    and returns a Value, or with ``has_aux=True`` a pair (Value, Values to report).
    ``static``: positions of arguments that are not traced but decide the graph
    (a class index): one trace per value. ``plus``: a Value made from the
    parameters alone (an L2 penalty), added once to every call and batch.
    ``input_grads=True`` also returns the gradient with respect to each input.
    ``backend="c"`` compiles the code with the system C compiler (`engine.compiled`).
    """
    if backend not in ("python", "c"):
        raise ValueError(f"stage: backend must be 'python' or 'c', not {backend!r}")
    if isinstance(f, Value):
        if example or static or has_aux or plus is not None or input_grads or backend != "python":
            raise TypeError("stage(root) takes only watch= (and runs Python); to stage a function, pass the function")
        if isinstance(watch, Value) or not hasattr(watch, "__iter__"):
            raise TypeError(f"stage: watch must be a list of Values of the graph, not {type(watch).__name__}")
        watched = list(watch)
        graph = set(topological_order(f)) | set(_Trace([f]).parameters) | {f}
        for node in watched:
            if not isinstance(node, Value):
                raise TypeError(f"stage: watch must hold Values of the graph, not {type(node).__name__}")
            if node not in graph:
                raise ValueError(f"stage: watch holds {node!r}, which is not a node of the graph")
        return StagedGraph(f, watched)
    if not callable(f):
        raise TypeError(f"stage: expected a Value or a function, not {type(f).__name__}")
    if watch:
        raise TypeError("stage(fn, ...): report other values with has_aux=True, not watch=")
    if plus is not None and not isinstance(plus, Value):
        raise TypeError(f"stage: plus must be a Value or None, not {type(plus).__name__}")
    for name, flag in (("has_aux", has_aux), ("input_grads", input_grads)):
        if not isinstance(flag, bool):
            raise TypeError(f"stage: {name} must be True or False, not {flag!r}")
    statics = tuple(static)
    if any(not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < len(example) for k in statics):
        raise ValueError(
            f"stage: static must list positions of the example's arguments (0..{len(example) - 1}), not {static!r}"
        )
    return StagedFunction(f, example, statics, has_aux, plus, input_grads, backend)
