"""Element-by-element updates written once as formulas: run over lists in Python, or compiled to C.

An optimizer's step is a few formulas applied to every parameter alike, as
``torch.optim`` writes them. Adam, for instance::

    Elementwise(
        [("m", "m + (g - m) * a"), ("v", "v * beta2 + b * g * g"),
         ("x", "x + c * m / (sqrt(v) / correction2_sqrt + eps)")],
        scalars=("a", "b", "beta2", "c", "correction2_sqrt", "eps"),
    )

Each step assigns a name from a formula of the op table's language
(`engine.formula`); the names that are not `scalars` are arrays, one number per
element. `run` computes the steps over Python lists, one list comprehension a
step; `run_on` the same with some arrays held as attributes of objects (an
optimizer's step on Values); `run_c` the same in place on ``array("d")`` arrays,
one C loop over the elements, compiled once by the system C compiler
(`engine.compiled`: cached, no fused multiply-adds). All do the same operations in
the same order, so their numbers are equal bit for bit wherever the Python code
runs: where Python raises (a division by zero, sqrt of a negative number) C gives
inf or nan. The optimizers' formulas never meet either (Adam divides by at least eps).
"""

from __future__ import annotations

import ctypes
import keyword
from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from .formula import CONSTANTS, FUNCTIONS, Formula, FormulaError

__all__ = ["Elementwise"]


class Elementwise:
    """Steps ``name = formula`` over arrays, element by element (see the module's docs).

    ``inputs``: the arrays read before they are assigned (the caller gives them);
    ``outputs``: the arrays assigned, in order (returned by `run`, written by `run_c`),
    except the `temporaries` (a number per element within one step, never stored).
    """

    def __init__(self, steps: Sequence[tuple[str, str]], scalars: Sequence[str] = (), temporaries: Sequence[str] = ()):
        self.steps = [(target, Formula(text)) for target, text in steps]
        self.scalars, self.temporaries = tuple(scalars), tuple(temporaries)
        if not self.steps:
            raise FormulaError("Elementwise: give at least one step")
        for name in [*self.scalars, *(n for _, f in self.steps for n in f.names)]:
            if not _free(name):
                raise FormulaError(f"Elementwise: {name!r} cannot be a name (a keyword, a function, or cg_...)")
        if len(set(self.scalars)) != len(self.scalars):
            raise FormulaError(f"Elementwise: scalars {self.scalars} name one twice")
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        assigned: set[str] = set()
        for target, formula in self.steps:
            if target in self.scalars or not _free(target):
                raise FormulaError(f"Elementwise: cannot assign {target!r}")
            arrays = [name for name in formula.names if name not in self.scalars]
            if not arrays:
                raise FormulaError(f"Elementwise: {target} = {formula.text} reads no array")
            self.inputs += [name for name in arrays if name not in self.inputs and name not in assigned]
            assigned.add(target)
            if target not in self.outputs and target not in self.temporaries:
                self.outputs.append(target)
        self._python: dict[tuple, Callable[..., Any]] = {}  # the Python functions, by attributes
        self._c: Any = None

    def __repr__(self) -> str:
        return "Elementwise(" + "; ".join(f"{target} = {formula.text}" for target, formula in self.steps) + ")"

    def python_source(self, attributes: Mapping[str, str] | None = None) -> str:
        """The steps as a Python function of the input lists and the scalars, one list comprehension a
        step; it returns the outputs by name. With `attributes` (``{"x": "data"}``), the function takes
        objects first, and those arrays are their attributes: read there and, when assigned, written
        there, in one loop (an optimizer's step on Values)."""
        attributes = attributes or {}
        others = [name for name in self.inputs if name not in attributes]
        first = ["cg_objects"] if attributes else []
        lines = [f"def elementwise({', '.join([*first, *others, *self.scalars])}):"]
        for target, formula in self.steps:
            arrays = [name for name in formula.names if name not in self.scalars]
            listed = [name for name in arrays if name not in attributes]
            objects = target in attributes or len(listed) < len(arrays)
            iterated = ["cg_objects", *listed] if objects else listed
            looped = iterated[0] if len(iterated) == 1 else f"zip({', '.join(iterated)}, strict=True)"
            # a for loop's variables outlive it: there they get names of their own, not the lists'
            element = {name: f"cg_{name}" if target in attributes else name for name in listed}
            loop = [*(["cg_object"] if objects else []), *(element[name] for name in listed)]
            where = {name: f"cg_object.{attributes[name]}" if name in attributes else name for name in formula.names}
            expression = formula.python({**where, **element})
            if target in attributes:
                lines.append(f"    for {', '.join(loop)} in {looped}:")
                lines.append(f"        cg_object.{attributes[target]} = {expression}")
            else:
                lines.append(f"    {target} = [{expression} for {', '.join(loop)} in {looped}]")
        kept = [name for name in self.outputs if name not in attributes]
        lines.append(f"    return {{{', '.join(f'{name!r}: {name}' for name in kept)}}}")
        return "\n".join(lines) + "\n"

    @property
    def c_source(self) -> str:
        """The steps as one C loop over the elements, reading and writing the arrays in place."""
        from .compiled import PRELUDE

        arrays = [*self.inputs, *(name for name in self.outputs if name not in self.inputs)]
        parameters = ["long cg_n", *(f"double *cg_{name}" for name in arrays), *(f"double {s}" for s in self.scalars)]
        lines = [PRELUDE, f"void elementwise({', '.join(parameters)}) {{"]
        lines.append("    for (long cg_i = 0; cg_i < cg_n; cg_i++) {")
        lines += [f"        double {name} = cg_{name}[cg_i];" for name in self.inputs]
        declared = set(self.inputs)
        for target, formula in self.steps:
            expression = formula.c({name: name for name in formula.names})
            lines.append(f"        {'' if target in declared else 'double '}{target} = {expression};")
            declared.add(target)
        lines += [f"        cg_{name}[cg_i] = {name};" for name in self.outputs]
        lines += ["    }", "}"]
        return "\n".join(lines) + "\n"

    def run(self, lists: Mapping[str, Sequence[float]], scalars: Mapping[str, float]) -> dict[str, list[float]]:
        """The outputs, by name, as new lists, from the input lists and the scalars' numbers."""
        return self.run_on((), {}, lists, scalars)

    def run_on(
        self,
        objects: Sequence[Any],
        attributes: Mapping[str, str],
        lists: Mapping[str, Sequence[float]],
        scalars: Mapping[str, float],
    ) -> dict[str, list[float]]:
        """The same steps with the arrays named in `attributes` held by `objects`, one number an object
        (``{"x": "data", "g": "grad"}`` on Values: an optimizer's step); the other outputs, as new lists."""
        key = tuple(sorted(attributes.items()))
        function = self._python.get(key)
        if function is None:
            function = self._python[key] = _compiled(self.python_source(attributes))
        others = [lists[name] for name in self.inputs if name not in attributes]
        leading = (objects,) if attributes else ()
        return function(*leading, *others, *(scalars[name] for name in self.scalars))

    def run_c(self, arrays: Mapping[str, array], scalars: Mapping[str, float]) -> None:
        """The same in C, in place: `arrays` holds an ``array("d")`` for every input and output, all as long."""
        if self._c is None:
            from .compiled import build

            function = ctypes.CDLL(str(build(self.c_source))).elementwise
            names = [*self.inputs, *(name for name in self.outputs if name not in self.inputs)]
            function.argtypes = [ctypes.c_long, *[ctypes.c_void_p] * len(names), *[ctypes.c_double] * len(self.scalars)]
            function.restype = None
            self._c = function, names
        function, names = self._c
        given = [arrays[name] for name in names]
        n = len(given[0])
        if any(not isinstance(a, array) or a.typecode != "d" or len(a) != n for a in given):
            raise ValueError(f"Elementwise.run_c: {', '.join(names)} must be arrays of doubles of one length")
        function(n, *(a.buffer_info()[0] for a in given), *(float(scalars[name]) for name in self.scalars))


_RESERVED = set(FUNCTIONS) | set(CONSTANTS) | set(keyword.kwlist) | {"double", "long", "int", "float", "const", "void"}


def _free(name: str) -> bool:
    """Whether a formula may use `name` for an array or a scalar: not a keyword or function of Python or
    C, nor the generated code's own names (cg_...)."""
    return name.isidentifier() and name not in _RESERVED and not name.lower().startswith("cg_")


def _compiled(source: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = {function: f for function, (f, _) in FUNCTIONS.items()}
    namespace.update(CONSTANTS)
    exec(compile(source, "<elementwise>", "exec"), namespace)
    return cast(Callable[..., Any], namespace["elementwise"])
