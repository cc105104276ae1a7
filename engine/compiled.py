"""Staged code compiled to C: the same forward and backward pass, a C statement per node and per edge.

`stage(fn, *example, backend="c")` writes the code of one call of `fn` (see
`engine.stage`) in C instead of Python: the same names, the same formulas from
the op table, the same order of every operation, and the loop over a batch's
samples in C. The system C compiler builds it into a shared library in a cache
folder (named by a hash of the code, so the same model is compiled once), and
`ctypes` calls it on the parameters' and the batch's numbers.

The results equal the staged Python code's bit for bit: the compiler is told to
keep IEEE semantics (``-ffp-contract=off``: no fused multiply-adds;
no ``-ffast-math``; ``-fno-builtin``: exp, log, pow ... are the C library's, the
ones Python calls). It optimizes with ``-Og``, or ``-O0`` for code of more than
`LARGE` lines (a very large model: see `optimization`). An op defined by Python functions has no C form: staging it
with ``backend="c"`` raises `StageError`; define the op with formulas instead.
A domain error (log of a negative number, ...) stops the C code, which then
runs the Python code on that sample to raise the engine's own error.

The compiler is found when first needed: the ``CC`` environment variable, else
``cc``, ``gcc`` or ``clang`` on the PATH. The cache folder is
``$CIRCUITGRAD_CACHE``, else ``$XDG_CACHE_HOME/circuitgrad``, else
``~/.cache/circuitgrad``.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from array import array
from pathlib import Path
from typing import Any

FLAGS = ("-std=c99", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math", "-fno-builtin")
#: Code longer than this many lines is compiled with -O0: gcc's register allocator takes minutes on a
#: function of tens of thousands of variables, and the values of such code live in memory anyway, so
#: optimizing gains little there (measured: MLP(2, [64, 64, 1]), 27,000 lines: -O1 160 s, -O0 2.5 s, the same speed).
LARGE = 4000


def optimization(source: str) -> str:
    """-Og, or -O0 for a very long source (see `LARGE`).

    -Og keeps the optimizations that are cheap to compile: on the demo model's code
    (2,000 lines) gcc takes 0.5 s, against 1.9 s at -O2, for a step as long (369,000
    instructions).
    """
    return "-O0" if source.count("\n") > LARGE else "-Og"


INSTALL = "install a C compiler (Debian/Ubuntu: sudo apt-get install gcc libc6-dev; macOS: xcode-select --install)"

#: Helpers of the formula language, computing exactly what the Python engine computes.
PRELUDE = r"""#include <math.h>

static int cg_isinteger(double x) { return isfinite(x) && x == floor(x); }

static double cg_sigmoid(double x) { return x >= 0.0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }

static double cg_logsumexp(int n, const double *x) {
    double top = -INFINITY, sum = -0.0;
    for (int i = 0; i < n; i++) {
        if (x[i] != x[i]) return NAN;
        if (x[i] > top) top = x[i];
    }
    if (isinf(top)) return top;
    for (int i = 0; i < n; i++) sum += exp(x[i] - top);
    return top + log(sum);
}
"""

_SIGNATURE = (
    "int forward_backward(const double *cg_params, const double *cg_inputs, const int *cg_variants, "
    "const double *cg_seeds, long cg_n, double plus_seed, double *cg_param_grads, double *cg_outputs, "
    "double *cg_aux, double *cg_input_grads, double *cg_plus, long *cg_failed)"
)


class CompilerNotFound(RuntimeError):
    """No C compiler on this machine: the message says what to install."""


class CompileError(RuntimeError):
    """The C compiler refused the generated code: the message holds its output and the source's path."""


def c_source(program: Any, n_inputs: int, n_aux: int) -> str:
    """The C function a staged function's `Program` (written in C) describes.

    The parameters and their gradients are the arrays' entries, under the Python
    code's names (``#define p0 cg_params[0]``): the gradients add up in place. That
    halves gcc's time at -Og (hundreds of local accumulators live across the loop
    weigh on its register allocator) for code as fast. Code compiled at -O0 (see
    `LARGE`) keeps them in local variables instead, which -O0 handles better.
    """
    source = _c_source(program, n_inputs, n_aux, in_place=True)
    return source if optimization(source) != "-O0" else _c_source(program, n_inputs, n_aux, in_place=False)


def _c_source(program: Any, n_inputs: int, n_aux: int, in_place: bool) -> str:
    lines = [PRELUDE, f"{_SIGNATURE} {{", "    long cg_s = -1;  /* the sample being run; -1 in the penalty */"]
    lines.append("#define CG_FAIL(k) do { *cg_failed = cg_s; return (k); } while (0)")
    if in_place:
        lines += [f"#define {name} cg_params[{k}]" for k, name in enumerate(program.params)]
        lines += [f"#define {name} cg_param_grads[{k}]" for k, name in enumerate(program.param_grads)]
        lines.append(f"    for (long cg_k = 0; cg_k < {len(program.params)}; cg_k++) cg_param_grads[cg_k] = 0.0;")
    else:
        lines += [f"    const double {name} = cg_params[{k}];" for k, name in enumerate(program.params)]
        lines += _declare(program.param_grads, "    ")
    if program.plus is not None:
        plus = program.plus
        lines.append("    {  /* the penalty, on the parameters alone */")
        lines += ["        " + line for line in plus["forward"]]
        lines += _declare(plus["zero"], "        ")
        if plus["seed"] is not None:
            lines.append(f"        {plus['seed']} = plus_seed;")
        lines += ["        " + line for line in plus["backward"]]
        lines.append(f"        *cg_plus = {plus['value']};")
        lines.append("    }")
    lines.append("    for (cg_s = cg_n - 1; cg_s >= 0; cg_s--) {  /* the last sample first, as backward() */")
    lines.append(f"        const double *cg_in = cg_inputs + cg_s * {max(n_inputs, 1)};")
    lines.append("        const double g = cg_seeds[cg_s];")
    lines.append("        switch (cg_variants[cg_s]) {")
    for k, variant in enumerate(program.variants):
        body = []
        flat = [name for names in variant["inputs"] for name in names]
        body += [f"const double {name} = cg_in[{j}];" for j, name in enumerate(flat)]
        body.append("/* forward: one line per node, children first */")
        body += variant["forward"]
        body.append("/* backward: the output gets g; every edge adds local * gradient */")
        body += _declare(variant["zero"], "")
        grad, how = variant["seed"]
        body.append(f"{grad} {how} g;")
        body += variant["backward"]
        body.append(f"cg_outputs[cg_s] = {variant['root']};")
        body += [f"cg_aux[cg_s * {n_aux} + {j}] = {name};" for j, name in enumerate(variant["aux"])]
        if variant["input_grads"]:
            body.append("if (cg_input_grads) {")
            body += [
                f"    cg_input_grads[cg_s * {n_inputs} + {j}] = {d};" for j, d in enumerate(variant["input_grads"])
            ]
            body.append("}")
        lines.append(f"        case {k}: {{")
        lines += ["            " + line for line in body]
        lines.append("            break;")
        lines.append("        }")
    lines.append("        }")
    lines.append("    }")
    if not in_place:
        lines += [f"    cg_param_grads[{k}] = {name};" for k, name in enumerate(program.param_grads)]
    lines.append("    return 0;")
    lines.append("#undef CG_FAIL")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _declare(names: list[str], indent: str) -> list[str]:
    return [f"{indent}double {' = 0.0, '.join(names[i : i + 16])} = 0.0;" for i in range(0, len(names), 16)]


def compiler() -> str:
    """The C compiler's path: $CC, else cc, gcc or clang on the PATH; CompilerNotFound if none."""
    named = os.environ.get("CC")
    candidates = [named] if named else ["cc", "gcc", "clang"]
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    raise CompilerNotFound(f"no C compiler found ({'$CC=' + named if named else 'cc, gcc, clang'}): {INSTALL}")


def cache_folder() -> Path:
    if os.environ.get("CIRCUITGRAD_CACHE"):
        return Path(os.environ["CIRCUITGRAD_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "circuitgrad"


def build(source: str) -> Path:
    """The shared library of `source`: from the cache if it was built before, else compiled now."""
    cc = compiler()
    flags = (*FLAGS, optimization(source))
    key = hashlib.sha256("\0".join([source, cc, *flags, sys.platform]).encode()).hexdigest()[:24]
    folder = cache_folder()
    library = folder / f"staged-{key}.so"
    if library.exists():
        return library
    folder.mkdir(parents=True, exist_ok=True)
    c_file = folder / f"staged-{key}.c"
    _write_atomically(c_file, source.encode())
    handle, temporary = tempfile.mkstemp(prefix=f".staged-{key}.", suffix=".so", dir=folder)
    os.close(handle)
    try:
        result = subprocess.run(
            [cc, *flags, "-o", temporary, str(c_file), "-lm"], capture_output=True, text=True, timeout=600
        )
        if result.returncode != 0:
            message = (result.stderr or result.stdout).strip()
            raise CompileError(f"the C compiler ({cc}) failed on {c_file}:\n{message}")
        os.replace(temporary, library)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return library


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


class Library:
    """The compiled code of a staged function, called through ctypes."""

    def __init__(self, source: str, n_params: int, n_inputs: int, n_aux: int):
        self.source = source
        self.path = build(source)
        self.function = ctypes.CDLL(str(self.path)).forward_backward
        self.function.restype = ctypes.c_int
        pointer, number = ctypes.c_void_p, ctypes.c_double
        self.function.argtypes = [*[pointer] * 4, ctypes.c_long, number, *[pointer] * 6]
        self.n_params, self.n_inputs, self.n_aux = n_params, n_inputs, n_aux

    def run(
        self,
        params: list[float] | array,
        inputs: array,
        variants: array,
        seeds: array,
        plus_seed: float,
        input_grads: bool,
    ) -> tuple[int, int, list[float], list[float], list[float], array, float]:
        """(error, failed sample, outputs, aux, input grads, param grads (an array), plus value) for one batch."""
        n = len(variants)
        p = params if isinstance(params, array) else array("d", params)
        param_grads = array("d", bytes(8 * self.n_params))
        outputs = array("d", bytes(8 * n))
        aux = array("d", bytes(8 * n * self.n_aux))
        grads = array("d", bytes(8 * n * self.n_inputs)) if input_grads else None
        plus = array("d", [0.0])
        failed = array("l", [-1])
        error = self.function(
            _address(p),
            _address(inputs),
            _address(variants),
            _address(seeds),
            n,
            plus_seed,
            _address(param_grads),
            _address(outputs),
            _address(aux),
            _address(grads) if grads is not None else None,
            _address(plus),
            _address(failed),
        )
        return (
            error,
            failed[0],
            outputs.tolist(),
            aux.tolist(),
            grads.tolist() if grads is not None else [],
            param_grads,
            plus[0],
        )


_SPARE = array("d", [0.0])  # where an empty array points: never read


def _address(buffer: array) -> int:
    """The address of an array's numbers, for C (an empty array points at a spare number)."""
    return (buffer if len(buffer) else _SPARE).buffer_info()[0]
