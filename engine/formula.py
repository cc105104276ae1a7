"""Formulas: an op's forward value and local derivatives, written once as Python expressions.

An entry of the op table (`engine.ops`) writes its math as short expressions over
its inputs, like PyTorch's derivatives.yaml::

    forward="1.0 / (1.0 + exp(-x)) if x >= 0.0 else exp(x) / (1.0 + exp(x))"
    derivative="out * (1.0 - out)"

A `Formula` parses such an expression once (with the standard library's `ast`)
and writes it out in the forms the engine needs:

* `python(names)`: Python source with the inputs replaced by variable names or
  numbers, for the code that makes nodes and for `engine.stage`;
* `c(names)`: the same expression in C, for the compiled staged code;
* `value_source(names)`: Python source that runs on Values as well as floats,
  for higher-order derivatives (comparisons then look at ``.data``).

The language is a small, safe part of Python: numbers, the names of the inputs,
``out`` (the op's output, in derivatives), ``inf`` and ``nan``, the operators
``+ - * / **``, comparisons, ``and or not``, ``a if condition else b``, and
calls of the functions in `FUNCTIONS`. Every form computes the same IEEE
double operations in the same order, so the float, staged Python and C
results are equal bit for bit.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping
from typing import cast

__all__ = ["FUNCTIONS", "Formula", "FormulaError", "isinteger", "power", "sigmoid"]


class FormulaError(ValueError):
    """A formula uses something outside the formula language."""


def power(a: float, b: float) -> float:
    """a ** b with IEEE results where Python would raise: inf on overflow and for 0 ** -n, nan for (-a) ** 0.5."""
    try:
        result = a**b
    except OverflowError:  # |result| too large: its sign is that of a, for an odd integer exponent
        return -math.inf if a < 0 and isinteger(b) and b % 2 == 1 else math.inf
    except ZeroDivisionError:  # 0 ** negative
        return -math.inf if math.copysign(1.0, a) < 0 and isinteger(b) and b % 2 == 1 else math.inf
    return math.nan if isinstance(result, complex) else result


def isinteger(x: float) -> bool:
    """True for a finite whole number (3.0), False for 2.5, inf and nan."""
    return math.isfinite(x) and x == math.floor(x)


def sigmoid(x: float) -> float:
    """1 / (1 + e**-x), never taking exp of a large number."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    return math.exp(x) / (1.0 + math.exp(x))


#: name in a formula -> (the function on floats, its C spelling)
FUNCTIONS: dict[str, tuple[Callable[..., float], str]] = {
    "exp": (math.exp, "exp"),
    "log": (math.log, "log"),
    "log1p": (math.log1p, "log1p"),
    "expm1": (math.expm1, "expm1"),
    "sqrt": (math.sqrt, "sqrt"),
    "sin": (math.sin, "sin"),
    "cos": (math.cos, "cos"),
    "tan": (math.tan, "tan"),
    "asin": (math.asin, "asin"),
    "acos": (math.acos, "acos"),
    "atan": (math.atan, "atan"),
    "sinh": (math.sinh, "sinh"),
    "cosh": (math.cosh, "cosh"),
    "tanh": (math.tanh, "tanh"),
    "sigmoid": (sigmoid, "cg_sigmoid"),
    "abs": (abs, "fabs"),
    "copysign": (math.copysign, "copysign"),
    "power": (power, "pow"),
    "isfinite": (math.isfinite, "isfinite"),
    "isinf": (math.isinf, "isinf"),
    "isnan": (math.isnan, "isnan"),
    "isinteger": (isinteger, "cg_isinteger"),
}
CONSTANTS = {"inf": math.inf, "nan": math.nan}

_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.IfExp,
    ast.Compare,
    ast.BoolOp,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.Load,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.Not,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Eq,
    ast.NotEq,
    ast.And,
    ast.Or,
)
_C_OPERATORS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.USub: "-",
    ast.UAdd: "+",
    ast.Not: "!",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.And: "&&",
    ast.Or: "||",
}


def number_node(x: float) -> ast.expr:
    """A number as an expression node: negative numbers and -0.0 as a minus sign, inf and nan by name."""
    if x != x:
        return ast.Name("nan", ast.Load())
    if x < 0 or math.copysign(1.0, x) < 0:
        return ast.UnaryOp(ast.USub(), number_node(-x))
    return ast.Name("inf", ast.Load()) if x == math.inf else ast.Constant(float(x))


class Formula:
    """One expression of the formula language, parsed once."""

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError(f"a formula is a str, not {type(text).__name__}")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as error:
            raise FormulaError(f"formula {text!r} is not a Python expression: {error.msg}") from None
        self.text = text.strip()
        self.tree = tree
        self._templates: dict[tuple, str] = {}  # (language, the numbers given) -> source with markers
        self.names: list[str] = []  # free names in order of appearance: inputs and out
        for node in ast.walk(tree):
            if not isinstance(node, _ALLOWED):
                raise FormulaError(f"formula {text!r}: {type(node).__name__} is not allowed in a formula")
            if isinstance(node, ast.Call):
                if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
                    called = ast.unparse(node.func)
                    raise FormulaError(f"formula {text!r}: {called}() is not one of {', '.join(sorted(FUNCTIONS))}")
            elif isinstance(node, ast.Constant) and type(node.value) not in (int, float):
                raise FormulaError(f"formula {text!r}: only numbers may appear as constants")
        calls = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and id(node) not in calls and node.id not in CONSTANTS:
                if node.id not in self.names:
                    self.names.append(node.id)

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"

    def constant(self) -> float | None:
        """The formula's value when it is a plain number (a constant local gradient), else None."""
        body = self.tree.body
        if isinstance(body, ast.UnaryOp) and isinstance(body.op, ast.USub) and isinstance(body.operand, ast.Constant):
            return -float(cast(float, body.operand.value))  # the parser admits int and float constants alone
        return float(cast(float, body.value)) if isinstance(body, ast.Constant) else None

    def finite_constants(self) -> bool:
        """True when every value the formula can take is a finite number written in it (a kink's 0 or 1)."""

        def check(node: ast.expr) -> bool:
            if isinstance(node, ast.IfExp):
                return check(node.body) and check(node.orelse)
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
                return check(node.operand)
            return isinstance(node, ast.Constant) and math.isfinite(cast(float, node.value))

        return check(self.tree.body)

    def substituted(self, names: Mapping[str, str | float]) -> ast.expr:
        """The expression with each name replaced: a str by that variable, a number by its value."""

        class Substitute(ast.NodeTransformer):
            def visit_Call(self, node: ast.Call) -> ast.Call:
                node.args = [self.visit(arg) for arg in node.args]
                return node  # the function's name stays

            def visit_Name(self, node: ast.Name) -> ast.expr:
                if node.id in CONSTANTS:
                    return node
                if node.id not in names:
                    raise FormulaError(f"formula {formula.text!r}: unknown name {node.id!r}")
                value = names[node.id]
                return ast.Name(value, ast.Load()) if isinstance(value, str) else number_node(value)

        formula = self
        tree = Substitute().visit(ast.parse(self.text, mode="eval")).body
        return ast.fix_missing_locations(tree)

    def python(self, names: Mapping[str, str | float]) -> str:
        """Python source of the expression, run on floats (parts made of numbers alone worked out)."""
        return _fill(self._template(names, "python"), names, _python_number)

    def _template(self, names: Mapping[str, str | float], language: str) -> str:
        """The source with __name__ markers for the variables; the numbers given are put in and folded.

        Folding computes, now, what the code would compute each time on the same
        floats (``2.0 - 1.0``, ``b == 0.0`` with b = 2.0): the same bits, less code.
        """
        numbers = tuple((n, repr(float(v))) for n, v in names.items() if not isinstance(v, str) and n in self.names)
        key = (language, numbers)
        if key not in self._templates:
            given: dict[str, str | float] = {n: f"__{n}__" for n in self.names}
            given.update((n, float(v)) for n, v in names.items() if not isinstance(v, str) and n in self.names)
            tree = _fold(self.substituted(given))
            self._templates[key] = ast.unparse(tree) if language == "python" else _c(tree)
            if len(self._templates) > 4096:  # many different numbers: keep the cache small
                self._templates.clear()
        return self._templates[key]

    def python_1tuple(self, names: Mapping[str, str | float]) -> str:
        """For a kink formula (`finite_constants`): Python source giving a 1-tuple of it, e.g.
        ``(0.0,) if x <= 0.0 else (1.0,)``: constant tuples, shared by every node that uses them."""

        def wrap(node: ast.expr) -> ast.expr:
            if isinstance(node, ast.IfExp):
                return ast.IfExp(node.test, wrap(node.body), wrap(node.orelse))
            return ast.Tuple([node], ast.Load())

        tree = wrap(self.substituted({n: f"__{n}__" for n in self.names}))
        return _fill(ast.unparse(ast.fix_missing_locations(tree)), names, _python_number)

    def value_source(self, names: Mapping[str, str | float]) -> str:
        """Python source that also runs on Values: comparisons look at the numbers (``_real(x) > 0.0``)."""

        class Numbers(ast.NodeTransformer):
            def visit_Compare(self, node: ast.Compare) -> ast.Compare:
                real: list[ast.expr] = [
                    ast.Call(ast.Name("_real", ast.Load()), [self.visit(x)], []) for x in (node.left, *node.comparators)
                ]
                return ast.Compare(real[0], node.ops, real[1:])

            def visit_Call(self, node: ast.Call) -> ast.Call:
                node.args = [self.visit(arg) for arg in node.args]
                if cast(ast.Name, node.func).id.startswith("is"):  # isfinite, isnan, ...: of the number
                    node.args = [ast.Call(ast.Name("_real", ast.Load()), [arg], []) for arg in node.args]
                return node

        tree = Numbers().visit(self.substituted(names))
        return ast.unparse(ast.fix_missing_locations(tree))

    def c(self, names: Mapping[str, str | float]) -> str:
        """C source of the expression, every operation in parentheses (doubles throughout)."""
        return _fill(self._template(names, "c"), names, c_number)


def _fold(node: ast.expr) -> ast.expr:
    """The expression with every part made of numbers alone replaced by its value (as floats compute it).

    ``x == 0.0 and 2.0 < 0.0`` becomes False; ``0.0 if 2.0 == 0.0 else y`` becomes y. A part that
    would raise (a division by zero) is left as it is, to raise when it runs.
    """

    def value(part: ast.expr) -> float | bool | None:
        """The number (or truth value) a part stands for, or None if it involves a variable."""
        if isinstance(part, ast.Constant) and isinstance(part.value, (bool, int, float)):
            return part.value
        if isinstance(part, ast.Name) and part.id in CONSTANTS:
            return CONSTANTS[part.id]
        if isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.USub):
            inner = value(part.operand)
            return -inner if isinstance(inner, float) else None
        return None

    def known(part: ast.expr) -> bool:
        return value(part) is not None

    def constant(x: object) -> ast.expr:
        return ast.Constant(x) if isinstance(x, bool) else number_node(float(x))  # type: ignore[arg-type]

    class Fold(ast.NodeTransformer):
        def generic_visit(self, part: ast.AST) -> ast.AST:
            part = super().generic_visit(part)
            try:
                if isinstance(part, ast.BinOp) and known(part.left) and known(part.right):
                    operation = ast.BinOp(ast.Constant(value(part.left)), part.op, ast.Constant(value(part.right)))
                    return constant(
                        eval(compile(ast.fix_missing_locations(ast.Expression(operation)), "<fold>", "eval"))
                    )
                if isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.Not) and known(part.operand):
                    return ast.Constant(not value(part.operand))
                if isinstance(part, ast.Compare) and all(map(known, [part.left, *part.comparators])):
                    values = [value(part.left), *map(value, part.comparators)]
                    comparison = ast.Compare(ast.Constant(values[0]), part.ops, [ast.Constant(v) for v in values[1:]])
                    truth = eval(compile(ast.fix_missing_locations(ast.Expression(comparison)), "<fold>", "eval"))
                    return ast.Constant(bool(truth))
                if isinstance(part, ast.Call) and all(map(known, part.args)) and isinstance(part.func, ast.Name):
                    function = cast(Callable[..., object], FUNCTIONS[part.func.id][0])
                    result = function(*map(value, part.args))
                    return constant(result) if isinstance(result, (bool, float, int)) else part
                if isinstance(part, ast.IfExp) and isinstance(value(part.test), bool):
                    return part.body if value(part.test) else part.orelse
                if isinstance(part, ast.BoolOp):
                    decided = [v for v in part.values if isinstance(value(v), bool)]
                    stop = isinstance(part.op, ast.Or)  # True decides an or, False an and
                    if any(value(v) is stop for v in decided):
                        return ast.Constant(stop)
                    rest = [v for v in part.values if not isinstance(value(v), bool)]
                    if not rest:
                        return ast.Constant(not stop)
                    return rest[0] if len(rest) == 1 else ast.BoolOp(part.op, rest)
            except (ArithmeticError, ValueError):
                return part
            return part

    return ast.fix_missing_locations(Fold().visit(node))


def _c(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            return "1" if node.value else "0"
        return c_number(float(cast(float, node.value)))
    if isinstance(node, ast.Name):
        return {"inf": "INFINITY", "nan": "NAN"}.get(node.id, node.id)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            return f"pow({_c(node.left)}, {_c(node.right)})"
        return f"({_c(node.left)} {_C_OPERATORS[type(node.op)]} {_c(node.right)})"
    if isinstance(node, ast.UnaryOp):
        return f"({_C_OPERATORS[type(node.op)]}{_c(node.operand)})"
    if isinstance(node, ast.IfExp):
        return f"({_c(node.test)} ? {_c(node.body)} : {_c(node.orelse)})"
    if isinstance(node, ast.BoolOp):
        return "(" + f" {_C_OPERATORS[type(node.op)]} ".join(_c(value) for value in node.values) + ")"
    if isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        pairs = [
            f"({_c(left)} {_C_OPERATORS[type(op)]} {_c(right)})"
            for left, op, right in zip(operands, node.ops, operands[1:])
        ]
        return pairs[0] if len(pairs) == 1 else "(" + " && ".join(pairs) + ")"
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        return f"{FUNCTIONS[node.func.id][1]}({', '.join(_c(arg) for arg in node.args)})"
    raise FormulaError(f"no C form for {ast.unparse(node)!r}")  # pragma: no cover: the parser allows no other node


_MARKER = re.compile(r"__([A-Za-z][A-Za-z0-9_]*?)__")


def _fill(template: str, names: Mapping[str, str | float], number: Callable[[float], str]) -> str:
    """The template with each __name__ marker replaced by its variable, or its number in parentheses."""

    def replace(match: re.Match) -> str:
        value = names[match.group(1)]
        if isinstance(value, str):
            return value
        text = number(float(value))
        return f"({text})" if text.startswith("-") else text

    return _MARKER.sub(replace, template)


def _python_number(x: float) -> str:
    if x != x:
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def c_number(x: float) -> str:
    """A double as a C literal that reads back exactly (repr round-trips; C reads it the same)."""
    if x != x:
        return "NAN"
    if math.isinf(x):
        return "INFINITY" if x > 0 else "(-INFINITY)"
    text = repr(x)
    return f"({text})" if text.startswith("-") else text
