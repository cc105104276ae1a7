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

import keyword
import math
import re
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

from .formula import CONSTANTS, FUNCTIONS
from .grad_mode import enable_grad
from .number import as_real
from .op import Op
from .value import Value, topological_order

__all__ = ["StageError", "Staged", "stage"]


class StageError(ValueError):
    """The graph cannot be staged, or a staged trace no longer holds."""


# A label becomes a variable name when it is a plain ASCII name that nothing else uses.
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_GENERATED = re.compile(r"^d*[vxp]\d+(_d.*)?$|^d*(seed|g|samples|params|outputs|inputs|plus_seed)$")
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

    def give(self, node: Value, generated: str) -> str:
        label = node.label
        free = (
            _PLAIN.match(label)
            and label not in _TAKEN
            and not _GENERATED.match(label)
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
        self.namespace.update(CONSTANTS)
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
                out.append(f"if ({condition}) return {len(self.errors)};")
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
                out.append(f"if (isinf({name}) && {finite}) return {len(self.errors)};")
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

    def _called(self, node, op, args, arguments, out) -> list[tuple[Value, str]]:
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
        terms = expression.split(" + ") if op.name in ("sum", "dot") and not self.c else [expression]
        first = True
        while len(terms) > _TERMS_PER_LINE:
            head = " + ".join(terms[:_TERMS_PER_LINE])
            out.append(self._let(name, head) if first else f"{name} = {head}")
            terms, first = [name, *terms[_TERMS_PER_LINE:]], False
        body = " + ".join(terms)
        out.append(self._let(name, body) if first else f"{name} = {body}")

    def backward(self, node: Value, edges: list[tuple[Value, str | float]], out: list[str]) -> None:
        """``child_grad += local * grad`` for each edge, skipped when the gradient is exactly 0.

        The skip needs every local to be finite (0 * inf is nan, and that must show):
        constant locals are known; a product's locals (its other inputs) are finite
        when its output is; otherwise the locals are tested.
        """
        grad = self.grad(node)
        numbers = [local for _, local in edges if not isinstance(local, str)]
        names = [local for _, local in edges if isinstance(local, str) and not isinstance(local, Kink)]
        if not all(map(math.isfinite, numbers)):
            guard = "1" if self.c else "True"
        elif not names:
            guard = f"{grad} != 0.0" if self.c else grad
        else:
            tested = self.name(node) if node.op.partners else " + ".join(names)
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
        if self.c:
            out.append(f"if ({guard}) {{")
            out += [f"    {line};" for line in lines]
            out.append("}")
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
    """A forward and backward pass written out as code (``source``); call it to run it.

    ``parameters`` are the leaves it reads at each call (their gradients are added
    to, as `backward()` does); ``inputs`` the placeholders of the arguments of a
    staged function; ``nodes`` the number of ops written out.
    """

    def __init__(
        self,
        roots: list[Value],
        inputs: list[Value],
        shapes: list[int | None],
        aux: list[Value],
        plus: Value | None,
        function: Callable[..., Any] | None,
        input_grads: bool,
    ):
        self.root, self.aux, self.plus, self.function = roots[0], aux, plus, function
        self.shapes, self.input_grads = shapes, input_grads
        self.trace = _Trace([*roots, *aux, *([plus] if plus is not None else [])], inputs)
        self.inputs = inputs
        self.parameters: list[Value] = self.trace.parameters
        self.leaves = self.parameters  # the graph form's name
        self.nodes = len(self.trace.nodes)
        self.names = _Names()
        for k, leaf in enumerate(inputs):
            self.names.give(leaf, f"x{k}")
        prefix = "x" if function is None else "p"
        for k, leaf in enumerate(self.parameters):
            self.names.give(leaf, f"{prefix}{k}")
        for k, node in enumerate(self.trace.nodes):
            self.names.give(node, f"v{k}")
        writer = _Writer(self.names, "python")
        self.source = self._python(writer)
        namespace = dict(writer.namespace)
        exec(compile(self.source, "<staged code>", "exec"), namespace)
        self._run = namespace["forward_backward"]

    # --------------------------------------------------------------- Python

    def _block(self, writer: _Writer, members: set[Value], indent: str) -> tuple[list[str], list[str]]:
        """Forward lines of the nodes in `members` (children first), and their edges' backward lines."""
        forward: list[str] = []
        backward: list[list[str]] = []
        for node in self.trace.nodes:
            if node in members:
                edges = writer.forward(node, forward)
                lines: list[str] = []
                writer.backward(node, edges, lines)
                backward.append(lines)
        return [indent + line for line in forward], [indent + line for block in reversed(backward) for line in block]

    @staticmethod
    def _zero(grads: list[str], indent: str) -> list[str]:
        return [f"{indent}{' = '.join(grads[i : i + 200])} = 0.0" for i in range(0, len(grads), 200)]

    def _python(self, writer: _Writer) -> str:
        names, trace = self.names, self.trace
        params = "".join(f"{names.of[p]}, " for p in self.parameters)
        param_grads = "".join(f"{writer.grad(p)}, " for p in self.parameters)
        members: set[Value] = set()
        for node in [self.root, *self.aux]:
            members.update(topological_order(node))
        aux = "".join(f"{names.of[n]}, " for n in self.aux)
        if self.function is None:  # the graph form: one pass over the leaves' data
            lines = ["def forward_backward(leaf_datas, seed):", f"    ({params}) = leaf_datas"]
            lines.append("    # forward: one line per node, children first")
            forward, backward = self._block(writer, members, "    ")
            lines += forward
            lines.append("    # backward: the root gets the seed; every edge adds local * gradient")
            lines += self._zero([writer.grad(n) for n in [*trace.nodes, *self.parameters]], "    ")
            lines.append(f"    {writer.grad(self.root)} = seed")
            lines += backward
            lines.append(f"    return {names.of[self.root]}, ({param_grads}), ({aux})")
            return "\n".join(lines) + "\n"
        lines = ["def forward_backward(params, samples, seed, plus_seed):", f"    ({params}) = params"]
        lines += self._zero([writer.grad(p) for p in self.parameters], "    ")
        plus_value = "0.0"
        if self.plus is not None:
            plus_members = set(topological_order(self.plus))
            lines.append("    # the penalty, on the parameters alone")
            forward, backward = self._block(writer, plus_members, "    ")
            lines += forward
            lines += self._zero([writer.grad(n) for n in trace.nodes if n in plus_members], "    ")
            if self.plus.children:
                lines.append(f"    {writer.grad(self.plus)} = plus_seed")
            lines += backward
            plus_value = names.of[self.plus]
        unpack = "".join(
            (
                names.of[self._inputs_of(k)[0]]
                if shape is None
                else f"({''.join(names.of[x] + ', ' for x in self._inputs_of(k))})"
            )
            + ", "
            for k, shape in enumerate(self.shapes)
        )
        lines.append("    outputs = []")
        lines.append(f"    for ({unpack}), g in samples:")
        lines.append("        # forward: one line per node, children first")
        forward, backward = self._block(writer, members, "        ")
        lines += forward
        lines.append("        # backward: the output gets g; every edge adds local * gradient")
        lines += self._zero(
            [writer.grad(n) for n in [*trace.nodes, *self.inputs] if n in members or n in self.inputs], "        "
        )
        lines.append(f"        {writer.grad(self.root)} = g")
        lines += backward
        input_grads = "".join(f"{writer.grad(x)}, " for x in self.inputs) if self.input_grads else ""
        lines.append(f"        outputs.append(({names.of[self.root]}, ({aux}), ({input_grads})))")
        lines.append(f"    return outputs, ({param_grads}), {plus_value}")
        return "\n".join(lines) + "\n"

    def _inputs_of(self, k: int) -> list[Value]:
        start = sum(s or 1 for s in self.shapes[:k])
        return self.inputs[start : start + (self.shapes[k] or 1)]

    # ----------------------------------------------------------------- calling

    def _add_grads(self, grads: tuple) -> None:
        for leaf, grad in zip(self.parameters, grads):
            leaf.grad += grad

    def __call__(self, *args: Any, gradient: float = 1.0) -> Any:
        """Run the staged code once: the output's value (and its aux values, input grads if asked).

        The graph form takes no arguments and also writes the new value into
        ``root.data`` (and the watched nodes' ``data``). The parameters' gradients
        are added to, as with ``root.backward(gradient)``.
        """
        seed = as_real(gradient, "staged call: gradient", "a real number")
        if self.function is None:
            if args:
                raise TypeError("this staged graph takes no arguments: it reads its leaves' data")
            with enable_grad():
                out, grads, watched = self._run([leaf.data for leaf in self.parameters], seed)
            self._add_grads(grads)
            for node, data in zip(self.aux, watched):
                node.data = data
            self.root.data = out
            return out
        outputs, plus = self._batch([args], seed, 1.0, "call")
        value, aux, input_grads = outputs[0]
        if self.plus is not None:
            value = value + plus
        return self._result(value, aux, input_grads)

    def _result(self, value: float, aux: tuple, input_grads: tuple) -> Any:
        extra = []
        if self.aux:
            extra.append(list(aux))
        if self.input_grads:
            extra.append(self._shape(input_grads))
        return (value, *extra) if extra else value

    def _shape(self, flat: tuple) -> list:
        shaped, k = [], 0
        for shape in self.shapes:
            shaped.append(flat[k] if shape is None else list(flat[k : k + shape]))
            k += shape or 1
        return shaped

    def _batch(self, samples: list, seed: float, scale: float, what: str) -> tuple[list, float]:
        """Run the code over `samples` (each the arguments of one call), last sample first as backward()
        on their sum would, each seeded with the gradient the sum hands it."""
        root_grad = 0.0 + 1.0 * seed if self.plus is not None else seed  # root = data part + plus
        sample_grad = 0.0 + 1.0 * (0.0 + scale * root_grad) if what == "mean" else 0.0 + 1.0 * root_grad
        if what == "call":
            sample_grad = root_grad
        plus_seed = 0.0 + 1.0 * seed
        packed = [(self._pack(sample, i), sample_grad) for i, sample in enumerate(samples)]
        with enable_grad():
            outputs, grads, plus = self._run([p.data for p in self.parameters], packed[::-1], seed, plus_seed)
        self._add_grads(grads)
        return outputs[::-1], plus

    def _pack(self, sample: Sequence, index: int) -> tuple:
        if len(sample) != len(self.shapes):
            raise TypeError(
                f"staged function: sample {index} has {len(sample)} arguments, the trace {len(self.shapes)}"
            )
        packed = []
        for k, (arg, shape) in enumerate(zip(sample, self.shapes)):
            if shape is None:
                if isinstance(arg, Value) or not isinstance(arg, Real):
                    raise TypeError(f"staged function: argument {k} of sample {index} must be a number, as traced")
                packed.append(arg if type(arg) is float else as_real(arg, f"argument {k}"))
            else:
                if isinstance(arg, (str, bytes)) or not hasattr(arg, "__len__") or len(arg) != shape:
                    got = len(arg) if hasattr(arg, "__len__") else type(arg).__name__
                    raise StageError(
                        f"staged function: argument {k} of sample {index} has length {got}, "
                        f"but the trace was made with {shape} numbers: stage again for this shape"
                    )
                packed.append(tuple(x if type(x) is float else as_real(x, f"argument {k}") for x in arg))
        return tuple(packed)

    def _batches(self, batches: tuple, what: str) -> list:
        if len(batches) != len(self.shapes):
            raise TypeError(f"staged {what}: {len(batches)} batches given, the function takes {len(self.shapes)}")
        lengths = {len(b) for b in batches}
        if len(lengths) != 1:
            raise ValueError(f"staged {what}: the batches have different lengths {sorted(lengths)}")
        if not lengths.pop():
            raise ValueError(f"staged {what}: the batch is empty")
        return list(zip(*batches))

    def mean(self, *batches: Sequence, gradient: float = 1.0) -> Any:
        """The mean over the samples of the function (plus the penalty), with its backward pass.

        ``staged.mean(X, y)`` equals ``Value.sum([fn(x, y) ...]) * (1.0 / n)`` (+ plus),
        then `backward()`, bit for bit: the samples' gradients are added in the same
        order. Returns the value, and with aux a list of each sample's aux values.
        """
        return self._reduce(batches, gradient, "mean")

    def sum(self, *batches: Sequence, gradient: float = 1.0) -> Any:
        """The sum over the samples (plus the penalty), as `mean` without the 1/n."""
        return self._reduce(batches, gradient, "sum")

    def _reduce(self, batches: tuple, gradient: float, what: str) -> Any:
        if self.function is None:
            raise TypeError(f"{what}() is for a staged function; this is a staged graph (call it)")
        seed = as_real(gradient, f"staged {what}: gradient", "a real number")
        samples = self._batches(batches, what)
        scale = 1.0 / len(samples)
        outputs, plus = self._batch(samples, seed, scale, what)
        from .fused import add_up

        total = add_up([out[0] for out in outputs], -0.0)
        if what == "mean":
            total = total * scale
        if self.plus is not None:
            total = total + plus
        extra = []
        if self.aux:
            extra.append([list(out[1]) for out in outputs])
        if self.input_grads:
            extra.append([self._shape(out[2]) for out in outputs])
        return (total, *extra) if extra else total

    # -------------------------------------------------------------- checking

    def check(self, *args: Any) -> None:
        """Trace the function again on these arguments and compare with the staged code, bit for bit.

        Raises StageError if the function now takes another path (an ``if`` on
        ``.data``, a number read from ``.data``) or the numbers differ. Touches no
        gradient.
        """
        if self.function is None:
            raise TypeError("check() is for a staged function")
        fresh = stage(self.function, *args, has_aux=bool(self.aux), plus=self.plus, input_grads=self.input_grads)
        if _shape_of(fresh) != _shape_of(self):
            raise StageError(
                "staged function: for these arguments the function builds another graph: " + _diff(self, fresh)
            )
        saved = [p.grad for p in self.parameters]
        try:
            for p in self.parameters:
                p.grad = 0.0
            mine = self(*args)
            mine_grads = [p.grad for p in self.parameters]
            root = fresh.root if fresh.plus is None else fresh.root + fresh.plus
            for p in self.parameters:
                p.grad = 0.0
            root.backward()
            theirs = [p.grad for p in self.parameters]
        finally:
            for p, g in zip(self.parameters, saved):
                p.grad = g
        value = mine[0] if isinstance(mine, tuple) else mine
        if not _same(value, root.data) or not all(map(_same, mine_grads, theirs)):
            raise StageError("staged function: the staged numbers differ from backward() on a fresh trace")


def _same(a: float, b: float) -> bool:
    return (a == b and math.copysign(1.0, a) == math.copysign(1.0, b)) or (a != a and b != b)


def _shape_of(staged: Staged) -> list:
    """What the trace did: each node's op, its constants and where its children come from."""
    index = {leaf: ("leaf", k) for k, leaf in enumerate(staged.parameters)}
    index.update({x: ("input", k) for k, x in enumerate(staged.inputs)})
    index.update({node: ("node", k) for k, node in enumerate(staged.trace.nodes)})
    return [
        (node.op.name, tuple(repr(c) for c in node.constants), tuple(index[c] for c in node.children))
        for node in staged.trace.nodes
    ]


def _diff(a: Staged, b: Staged) -> str:
    for k, (x, y) in enumerate(zip(_shape_of(a), _shape_of(b))):
        if x != y:
            return f"op {k} was {x[0]}{x[1] if x[1] else ''} and is now {y[0]}{y[1] if y[1] else ''}"
    return f"{a.nodes} ops then, {b.nodes} now"


def stage(
    f: Value | Callable[..., Any],
    *example: Any,
    watch: Sequence[Value] = (),
    has_aux: bool = False,
    plus: Value | None = None,
    input_grads: bool = False,
) -> Staged:
    """Write a forward and backward pass out as code (see the module's docs).

    ``stage(root, watch=())``: the graph behind `root`; `watch` lists nodes whose
    ``data`` each call brings up to date (the root's always is).

    ``stage(fn, *example)``: `fn` takes numbers or lists of numbers (as `example`)
    and returns a Value, or with ``has_aux=True`` a pair (Value, list of Values to
    report). ``plus`` is a Value made from the parameters alone (an L2 penalty),
    added once to every call and batch. ``input_grads=True`` also returns the
    gradient with respect to each input.
    """
    if isinstance(f, Value):
        if example or has_aux or plus is not None or input_grads:
            raise TypeError("stage(root) takes only watch=; to stage a function pass the function")
        watched = list(watch)
        for node in watched:
            if not isinstance(node, Value):
                raise TypeError(f"stage: watch must hold Values of the graph, not {type(node).__name__}")
        known = set(topological_order(f)) | {f}
        for node in watched:
            if node not in known and node not in _Trace([f]).parameters:
                raise ValueError(f"stage: watch holds {node!r}, which is not a node of the graph")
        return Staged([f], [], [], watched, None, None, False)
    if not callable(f):
        raise TypeError(f"stage: expected a Value or a function, not {type(f).__name__}")
    if watch:
        raise TypeError("stage(fn, ...): report extra values with has_aux=True instead of watch=")
    if plus is not None and not isinstance(plus, Value):
        raise TypeError(f"stage: plus must be a Value, not {type(plus).__name__}")
    shapes = [_structure(x, f"argument {k} of the example") for k, x in enumerate(example)]
    inputs: list[Value] = []
    arguments: list[Any] = []
    with enable_grad():
        for x, shape in zip(example, shapes):
            if shape is None:
                leaf = Value(x)
                inputs.append(leaf)
                arguments.append(leaf)
            else:
                leaves = [Value(v) for v in x]
                inputs += leaves
                arguments.append(leaves)
        result = f(*arguments)
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
    if plus is not None and set(inputs) & set(_Trace([plus]).parameters):
        raise StageError("stage: plus must not depend on the function's inputs")
    return Staged([result], inputs, shapes, aux, plus, f, input_grads)
