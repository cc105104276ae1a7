"""`Op` and `defop`: what an entry of the op table holds, and how it turns into code.

An op is one object holding everything the engine knows about it: its inputs,
its forward value, its local derivatives (with its kink conventions), its
domain checks, how it is drawn and what a local gradient of 0 means there.
Every part of the engine asks the op, never its name:

* making a node: the entry's formulas are compiled once into a small Python
  function per op (``ops.mul(a, b)`` runs it), so a built-in op costs what
  hand-written code would;
* higher order (`engine.grad`): the derivative formulas evaluated on Values;
* forward mode (`engine.jvp`) and `backward()`: the stored float locals;
* `engine.stage`: the formulas written into the staged Python or C code;
* `engine.draw_dot`, `engine.blocked`, the diagnostics: `gate`, `zero`, `saturates`.

`defop` is the public way to make one, and the built-in ops use it too. An op
defined with formula strings works in every feature, compiled C included; one
defined with Python functions works everywhere but in C.
"""

from __future__ import annotations

import inspect
import keyword
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from . import generic
from .formula import CONSTANTS, FUNCTIONS, Formula, FormulaError
from .grad_mode import current_state
from .number import as_real
from .value import Value, make_node

__all__ = ["Check", "Local", "Op", "defop"]


class Local(str):
    """A local gradient's source text; ``kink`` when its every value is a finite constant (relu's 0 or 1)."""

    kink: bool

    def __new__(cls, text: str, kink: bool = False) -> Local:
        local = super().__new__(cls, text)
        local.kink = kink
        return local


class Check(NamedTuple):
    """A domain check: where `when` holds for the inputs, the op raises `error(message)`."""

    when: Formula
    error: type[Exception]
    message: str


def _number_text(x: float) -> str:
    return f"{x:g}"


class Op:
    """One entry of the op table. Call it on Values and numbers to make a node.

    ``name`` ('div') names it in errors; ``symbol`` ('/') is how it is written;
    ``inputs`` ('a', 'b') are its arguments in order (numbers among them are
    constants, Values are children); ``forward`` and ``derivative`` (one per
    input) are formulas or Python functions; ``checks`` its domain (where it raises).
    """

    def __init__(
        self,
        name: str,
        forward: str | Callable[..., float],
        derivative: str | Sequence[str] | Callable[..., Any],
        *,
        inputs: Sequence[str] | None = None,
        defaults: Sequence[float] = (),
        symbol: str | None = None,
        raises: Sequence[tuple[str, type[Exception], str]] = (),
        overflow: bool = False,
        gate: Callable[..., str] | None = None,
        zero: str = "local gradient 0",
        saturates: bool = False,
        partners: bool = False,
        doc: str = "",
    ):
        if not isinstance(name, str) or not name:
            raise TypeError(f"defop: name must be a non-empty str, not {name!r}")
        where = f"defop {name!r}"
        value: object  # each option in turn, checked before anything is made
        for key, value, kind in (("symbol", symbol, str), ("zero", zero, str), ("doc", doc, str)):
            if value is not None and not isinstance(value, kind):
                raise TypeError(f"{where}: {key} must be a str, not {type(value).__name__}")
        for key, flag in (("overflow", overflow), ("saturates", saturates), ("partners", partners)):
            if not isinstance(flag, bool):
                raise TypeError(f"{where}: {key} must be True or False, not {flag!r}")
        if gate is not None and not callable(gate):
            raise TypeError(f"{where}: gate must be a function of the op's numbers (None for Values), not {gate!r}")
        for key, value in (("inputs", inputs), ("defaults", defaults), ("raises", raises)):
            if value is not None and (isinstance(value, (str, bytes)) or not hasattr(value, "__iter__")):
                raise TypeError(f"{where}: {key} must be a list or tuple, not {type(value).__name__}")
        if isinstance(forward, str) and not (isinstance(derivative, str) or _strings(derivative)):
            raise TypeError(f"{where}: derivative must be a formula (str) or a tuple of them, one per input")
        for check in raises:
            if not (
                isinstance(check, (tuple, list))
                and len(check) == 3
                and isinstance(check[0], str)
                and isinstance(check[1], type)
                and issubclass(check[1], Exception)
                and isinstance(check[2], str)
            ):
                raise TypeError(f"{where}: raises must hold (when, ErrorType, message) triples, not {check!r}")
        self.name = name
        self.symbol = symbol or name
        self.overflow = overflow
        self.draw = gate
        self.zero = zero
        self.saturates = saturates
        self.partners = partners  # its locals are its other inputs (mul, dot): finite when the output is
        self.splits = False  # its forward is a long sum of terms, written over several lines (sum, dot)
        self.__doc__ = doc or f"The op {name!r}."
        self.formulas = isinstance(forward, str)
        if self.formulas:
            self.forward: Any = Formula(str(forward))
            self.inputs = self._formula_inputs(inputs)
            texts = (derivative,) if isinstance(derivative, str) else tuple(derivative)  # type: ignore[arg-type]
            if len(texts) != len(self.inputs):
                raise FormulaError(f"defop {name!r}: {len(self.inputs)} inputs but {len(texts)} derivatives")
            self.derivative: Any = tuple(Formula(t) for t in texts)
            for formula in self.derivative:
                self._known_names(formula, (*self.inputs, "out"))
        elif callable(forward) and callable(derivative):
            self.forward, self.derivative = forward, derivative
            self.inputs = tuple(inputs) if inputs is not None else self._callable_inputs(forward)
            if not self.inputs and defaults:
                raise TypeError(f"defop {name!r}: defaults need the inputs' names: give inputs=(...)")
        else:
            raise TypeError(f"defop {name!r}: forward and derivative must both be formulas (str) or functions")
        self.defaults = tuple(as_real(d, f"defop {name!r}: a default", "a real number") for d in defaults)
        if len(self.defaults) > len(self.inputs):
            raise ValueError(f"defop {name!r}: more defaults than inputs")
        self.checks = tuple(Check(Formula(when), error, message) for when, error, message in raises)
        for domain in self.checks:
            self._known_names(domain.when, self.inputs)
        self.signature = inspect.Signature(
            [
                inspect.Parameter(
                    arg,
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    default=self.defaults[k - len(self.inputs) + len(self.defaults)]
                    if k >= len(self.inputs) - len(self.defaults)
                    else inspect.Parameter.empty,
                )
                for k, arg in enumerate(self.inputs)
            ]
        )
        if self.inputs:
            self.__signature__ = self.signature
        if self.formulas:
            self._compile()

    # ------------------------------------------------------------- inputs

    def _formula_inputs(self, inputs: Sequence[str] | None) -> tuple[str, ...]:
        names = [n for n in self.forward.names if n != "out"]
        if inputs is None:
            if len(names) != 1:
                raise FormulaError(f"defop {self.name!r}: the forward uses {names}; give their order with inputs=(...)")
            inputs = names
        inputs = tuple(inputs)
        for arg in inputs:
            if not arg.isidentifier() or keyword.iskeyword(arg) or arg.startswith("_") or arg in _RESERVED:
                raise FormulaError(f"defop {self.name!r}: {arg!r} cannot name an input")
        if len(set(inputs)) != len(inputs):
            raise FormulaError(f"defop {self.name!r}: inputs repeat a name: {inputs}")
        self._known_names(self.forward, inputs)
        return inputs

    def _callable_inputs(self, forward: Callable[..., float]) -> tuple[str, ...]:
        """The forward's parameter names; () when it takes any number of inputs (math.hypot)."""
        try:
            parameters = list(inspect.signature(forward).parameters.values())
        except (TypeError, ValueError):
            return ()
        if any(p.kind == p.VAR_POSITIONAL for p in parameters):
            return ()
        return tuple(p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))

    def _known_names(self, formula: Formula, allowed: Sequence[str]) -> None:
        unknown = [n for n in formula.names if n not in allowed]
        if unknown:
            raise FormulaError(f"defop {self.name!r}: {formula.text!r} uses {unknown}, not among {list(allowed)}")

    # ------------------------------------------------------- what it made

    def arguments(self, node: Value) -> list[Value | float]:
        """The node's inputs in order: its children, with its constants where numbers stood."""
        if not node.constants:
            return list(node.children)
        children = iter(node.children)
        return [next(children) if c is None else c for c in node.constants]

    def value_locals(self, node: Value) -> tuple:
        """d node / d child for each child as Values (or numbers), for higher-order derivatives."""
        arguments = self.arguments(node)
        if self.formulas:
            every = self._value_rule(*arguments, node)
        else:
            every = self.derivative(*arguments, node)
            every = every if isinstance(every, tuple) else (every,)
        return tuple(local for argument, local in zip(arguments, every) if isinstance(argument, Value))

    def evaluate(self, *numbers: float) -> tuple[float, tuple[float, ...]]:
        """The forward value and every local derivative at these numbers (floats in, floats out)."""
        return self._evaluate(*numbers)

    def gate(self, node: Value) -> str:
        """The label of the node's gate in a diagram, with its constants: '+1', '×2', 'x²'."""
        if self.draw is not None:
            return self.draw(*[None if isinstance(a, Value) else a for a in self.arguments(node)])
        if not node.constants:
            return self.symbol
        shown = [None if c is None else _number_text(c) for c in node.constants]
        return f"{self.symbol}({', '.join('x' if s is None else s for s in shown)})"

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    # ---------------------------------------------- code for engine.stage

    def python(self, args: Sequence[str | float], out: str) -> tuple[str, list[str], list[tuple[str, Check]]] | None:
        """(forward, locals, checks) as Python source over these argument names or numbers; None for a
        Python-function op (staged code calls it instead)."""
        return self._written(args, out, "python")

    def c(self, args: Sequence[str | float], out: str) -> tuple[str, list[str], list[tuple[str, Check]]] | None:
        """The same in C; None for an op defined by Python functions (it has no C form)."""
        return self._written(args, out, "c")

    def _written(self, args, out, language):
        if not self.formulas:
            return None
        names = dict(zip(self.inputs, args))
        write = (lambda f, n: f.python(n)) if language == "python" else (lambda f, n: f.c(n))
        forward = write(self.forward, names)
        locals_ = [Local(write(f, {**names, "out": out}), f.finite_constants()) for f in self.derivative]
        written = [(write(check.when, names), check) for check in self.checks]
        checks = [(when, check) for when, check in written if when not in ("False", "0")]  # folded: never raises
        return forward, locals_, checks

    def fail(self, *numbers: float) -> None:
        """Raise the error this op raises at these numbers (staged code calls it when a check fails)."""
        self._evaluate(*numbers)
        raise AssertionError(f"{self.name}{numbers}: a staged check failed but the op does not raise")

    # ---------------------------------------------------------- compiling

    def _compile(self) -> None:
        """Write the formulas out as Python functions, once: making nodes, evaluating, higher order."""
        namespace: dict[str, Any] = {name: f for name, (f, _) in FUNCTIONS.items()}
        namespace.update(CONSTANTS)
        namespace.update(
            __name__="engine.ops",
            op=self,
            _Value=Value,
            _node=make_node,
            _real=as_real,
            _leaf=Value,
            _math=math,
            _state=current_state,
            _new=object.__new__,
        )
        source = self._source_call() + "\n" + self._source_evaluate()
        source += "\n__apply__ = " + source.split("(", 1)[0].removeprefix("def ") + "\n"
        exec(compile(source, f"<op {self.name}>", "exec"), namespace)
        self.source = source
        # The compiled functions replace the generic methods on this op (calling a plain function is cheaper
        # than calling the op); mypy cannot follow functions made by exec.
        self.apply = namespace["__apply__"]  # type: ignore[method-assign]
        self._evaluate = namespace["evaluate"]  # type: ignore[method-assign]
        value_namespace: dict[str, Any] = {name: getattr(generic, name) for name in FUNCTIONS}
        value_namespace.update(CONSTANTS, _real=generic.real)
        args = ", ".join((*self.inputs, "out"))
        names = {arg: arg for arg in (*self.inputs, "out")}
        body = ", ".join(f.value_source(names) for f in self.derivative)
        exec(f"def rule({args}):\n    return ({body},)\n", value_namespace)
        self._value_rule = value_namespace["rule"]

    def _source_evaluate(self) -> str:
        data = {arg: f"_{arg}" for arg in self.inputs}
        lines = [f"def evaluate({', '.join(data.values())}):"]
        lines += self._source_forward(data, "    ")
        locals_ = ", ".join(f.python({**data, "out": "out"}) for f in self.derivative)
        lines.append(f"    return out, ({locals_},)")
        return "\n".join(lines) + "\n"

    def _source_forward(self, data: dict[str, str], indent: str) -> list[str]:
        """The checks, then ``out = forward`` (an overflow raising a clear error), over data variables."""
        shown = ", ".join(f"{{{v}!r}}" for v in data.values())
        lines = []
        for check in self.checks:
            lines.append(f"{indent}if {check.when.python(data)}:")
            message = f'f"{self.name}({shown}): {check.message}"'
            lines.append(f"{indent}    raise {check.error.__name__}({message})")
        forward = self.forward.python(data)
        if self.overflow:
            lines.append(f"{indent}try:")
            lines.append(f"{indent}    out = {forward}")
            lines.append(f"{indent}except OverflowError:")
            lines.append(
                f'{indent}    raise OverflowError(f"{self.name}({shown}): the result overflows a float") from None'
            )
        else:
            lines.append(f"{indent}out = {forward}")
        return lines

    def _source_call(self) -> str:
        """``apply(a, b)``: one branch for each way Values and numbers can mix among the inputs."""
        params = []
        for k, arg in enumerate(self.inputs):
            j = k - (len(self.inputs) - len(self.defaults))
            params.append(f"{arg}={self.defaults[j]!r}" if j >= 0 else arg)
        name = self.name if self.name.isidentifier() and self.name not in (*self.inputs, *_RESERVED) else "apply"
        lines = [f"def {name}({', '.join(params)}):"]  # named for the op: errors about its arguments name it
        data = {arg: f"_{arg}" for arg in self.inputs}

        def branch(k: int, pattern: tuple[bool, ...], indent: str) -> None:
            if k == len(self.inputs):
                lines.extend(self._source_node(pattern, data, indent))
                return
            arg = self.inputs[k]
            lines.append(f"{indent}if {arg}.__class__ is _Value or isinstance({arg}, _Value):")
            lines.append(f"{indent}    _{arg} = {arg}.data")
            branch(k + 1, (*pattern, True), indent + "    ")
            lines.append(f"{indent}else:")
            number = f'{arg} if {arg}.__class__ is float else _real({arg}, "{self.name}: {arg}")'  # a float as it is
            lines.append(f"{indent}    _{arg} = {number}")
            branch(k + 1, (*pattern, False), indent + "    ")

        branch(0, (), "    ")
        return "\n".join(lines) + "\n"

    def _source_node(self, pattern: tuple[bool, ...], data: dict[str, str], indent: str) -> list[str]:
        lines = self._source_forward(data, indent)
        children = [arg for arg, is_value in zip(self.inputs, pattern) if is_value]
        if not children:
            return [*lines, f"{indent}return _leaf(out)"]
        locals_ = []
        for is_value, formula in zip(pattern, self.derivative):
            if is_value:
                constant = formula.constant()
                locals_.append(repr(constant) if constant is not None else formula.python({**data, "out": "out"}))
        constants = (
            "()"
            if all(pattern)
            else "("
            + ", ".join("None" if is_value else data[arg] for arg, is_value in zip(self.inputs, pattern))
            + ",)"
        )
        tuple_ = f"({', '.join(locals_)},)"
        kinks = [f for f, is_value in zip(self.derivative, pattern) if is_value]
        if len(kinks) == 1 and kinks[0].finite_constants() and kinks[0].constant() is None:
            tuple_ = f"({kinks[0].python_1tuple({**data, 'out': 'out'})})"  # (0.0,) or (1.0,): shared tuples
        children_ = f"({', '.join(children)},)"
        # make_node's common case written in place (recording, no anomaly check): one call fewer a node
        lines.append(f"{indent}mode, scope = _state()")
        lines.append(f"{indent}if mode is True:")
        lines.append(f"{indent}    node = _new(_Value)")
        lines.append(f"{indent}    node.data = out")
        lines.append(f"{indent}    node.grad = 0.0")
        lines.append(f'{indent}    node.label = ""')
        lines.append(f"{indent}    node.scope = scope")
        lines.append(f"{indent}    node.op = op")
        lines.append(f"{indent}    node.children = {children_}")
        lines.append(f"{indent}    node.locals = {tuple_}")
        lines.append(f"{indent}    node.constants = {constants}")
        lines.append(f"{indent}    return node")
        lines.append(f"{indent}return _node(out, op, {children_}, {tuple_}, {constants})")
        return lines

    # ------------------------------------------- ops defined by Python functions

    def __call__(self, *args: Any, **kwargs: Any) -> Value:
        """Make a node of this op from Values and numbers (see `apply`)."""
        return self.apply(*args, **kwargs)

    def apply(self, *args: Any, **kwargs: Any) -> Value:
        """Apply an op defined by Python functions (formula ops get a compiled `apply` instead)."""
        if self.inputs:
            try:
                bound = self.signature.bind(*args, **kwargs)
            except TypeError as error:
                raise TypeError(f"{self.name}: {error}") from None
            bound.apply_defaults()
            arguments = list(bound.arguments.values())
            names = self.inputs
        else:  # any number of inputs
            if kwargs:
                raise TypeError(f"{self.name}: takes its inputs by position only")
            arguments, names = list(args), tuple(f"input {k}" for k in range(len(args)))
        numbers = [
            a.data if isinstance(a, Value) else as_real(a, f"{self.name}: {arg}") for arg, a in zip(names, arguments)
        ]
        return self.node_of(arguments, numbers)

    def node_of(self, arguments: Sequence[Any], numbers: Sequence[float]) -> Value:
        """The node of this op on `arguments` (Values and numbers) whose data are `numbers`: the Values
        are its children, the numbers its constants (a leaf when there is no Value)."""
        out, every = self._evaluate(*numbers)
        is_value = [isinstance(a, Value) for a in arguments]
        children = tuple(a for a, v in zip(arguments, is_value) if v)
        if not children:
            return Value(out)
        locals_ = tuple(local for local, v in zip(every, is_value) if v)
        constants = () if all(is_value) else tuple(None if v else n for v, n in zip(is_value, numbers))
        return make_node(out, self, children, locals_, constants)

    def _evaluate(self, *numbers: float) -> tuple[float, tuple[float, ...]]:  # replaced for formula ops
        shown = ", ".join(map(repr, numbers))
        try:
            out = self.forward(*numbers)
        except (ArithmeticError, ValueError) as error:
            raise type(error)(f"{self.name}({shown}): {error}") from None
        out = as_real(out, f"{self.name}: the forward's result", "a real number")
        every = self.derivative(*numbers, out)
        every = every if isinstance(every, tuple) else (every,)
        if len(every) != len(numbers):
            raise ValueError(f"{self.name}: the derivative gave {len(every)} local gradients for {len(numbers)} inputs")
        return out, tuple(as_real(local, f"{self.name}: a local gradient", "a real number") for local in every)


_RESERVED = {"out", "op", *FUNCTIONS, *CONSTANTS}


def _strings(items: object) -> bool:
    return isinstance(items, (tuple, list)) and bool(items) and all(isinstance(item, str) for item in items)


def defop(
    name: str,
    forward: str | Callable[..., float],
    derivative: str | Sequence[str] | Callable[..., Any],
    **entry: Any,
) -> Op:
    """Define an op once; it then works in every part of the engine.

    With formulas (the built-in ops' way; see `engine.formula` for the language)::

        atan = defop("atan", "atan(x)", "1 / (1 + x * x)")
        hypot = defop("hypot", "sqrt(a * a + b * b)", ("a / out", "b / out"), inputs=("a", "b"))

    ``derivative`` gives d out / d input for each input and may use ``out``. Or with
    Python functions, ``forward(*numbers) -> number`` and ``derivative(*inputs, out)``
    returning one local (or a tuple, one per input), written with arithmetic and
    `engine.generic` so they also run on Values (higher order); such an op works
    everywhere except compiled C.

    Call the result like a function: Values are children, numbers (and keyword
    arguments) are constants. Optional entries: ``inputs``, ``defaults`` (for the
    last inputs), ``symbol``, ``raises`` (``[(when, ErrorType, message)]``: the op
    raises where `when` holds), ``overflow`` (an overflowing result raises),
    ``gate`` (a function of the numbers, None for Values, giving the diagram
    label), ``zero`` (what a local gradient of 0 means), ``saturates``.
    """
    return Op(name, forward, derivative, **entry)
