"""Checking analytic gradients against numerical ones (central differences).

The derivative is the slope of f in a tiny neighbourhood, so it can be
estimated without any calculus: df/dx ~ (f(x + eps) - f(x - eps)) / (2 eps),
with an error of order eps**2. It costs two evaluations of f per input, which is
why nobody trains this way, and why it is the standard check of a backward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .grad_mode import no_grad
from .number import as_real, as_tolerance
from .value import Number, Value


def _output(x: Value | Number) -> float:
    return x.data if isinstance(x, Value) else as_real(x, "numerical_grad: f's result")


def _point(who: str, f: object, inputs: object) -> list[float]:
    """The inputs' numbers, after checking f and inputs (errors name `who` and the argument)."""
    if not callable(f):
        raise TypeError(f"{who}: f must be a function of Values, not {f!r}")
    if isinstance(inputs, (str, bytes, Value)) or not hasattr(inputs, "__iter__") or not hasattr(inputs, "__len__"):
        raise TypeError(f"{who}: inputs must be a list of Values or numbers, not {inputs!r}")
    return [x.data if isinstance(x, Value) else as_real(x, f"{who}: inputs[{i}]") for i, x in enumerate(inputs)]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its numerical estimate."""


def rel_error(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|), and 0.0 when they are equal (both 0, or the same inf)."""
    a = as_real(a, "rel_error: a", "a real number")
    b = as_real(b, "rel_error: b", "a real number")
    if a == b:
        return 0.0
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale else 0.0


def numerical_grad(f: Callable[..., Value], inputs: Sequence[Value | Number], eps: float = 1e-6) -> list[float]:
    """df/d(input) for each input by central differences: f is called as f(*Values).

    f is evaluated under `no_grad()` on fresh leaves, so no graph is kept and no
    ``.grad`` anywhere is touched.
    """
    point = _point("numerical_grad", f, inputs)
    eps = as_tolerance(eps, "numerical_grad: eps")
    grads = []
    with no_grad():
        for i, x in enumerate(point):
            up = f(*[Value(x + eps if j == i else v) for j, v in enumerate(point)])
            down = f(*[Value(x - eps if j == i else v) for j, v in enumerate(point)])
            grads.append((_output(up) - _output(down)) / (2 * eps))
    return grads


def analytic_grad(f: Callable[..., Value], inputs: Sequence[Value | Number]) -> list[float]:
    """df/d(input) for each input by `backward()`, on fresh leaves."""
    leaves = [Value(x) for x in _point("analytic_grad", f, inputs)]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"f must return a Value, not {type(out).__name__}")
    out.backward()
    return [leaf.grad for leaf in leaves]


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[Value | Number],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """True if backward's gradient of f at `inputs` matches central differences.

    An input passes when |analytic - numeric| <= atol + rtol * |numeric|.
    Otherwise raises `GradcheckError` with a table of every input that failed.
    The inputs' own ``.grad`` are left alone: the check runs on copies.
    """
    _point("gradcheck", f, inputs)
    eps = as_tolerance(eps, "gradcheck: eps")
    atol = as_tolerance(atol, "gradcheck: atol", positive=False)
    rtol = as_tolerance(rtol, "gradcheck: rtol", positive=False)
    analytic = analytic_grad(f, inputs)
    numeric = numerical_grad(f, inputs, eps)
    rows = [
        (i, a, n)
        for i, (a, n) in enumerate(zip(analytic, numeric))
        if not abs(a - n) <= atol + rtol * abs(n)  # `not <=` also catches nan
    ]
    if rows:
        lines = [f"{'input':>5}  {'analytic':>14}  {'numeric':>14}  {'rel. error':>10}"]
        lines += [f"{i:>5}  {a:>14.8g}  {n:>14.8g}  {rel_error(a, n):>10.3g}" for i, a, n in rows]
        raise GradcheckError(
            f"gradient mismatch at {len(rows)} of {len(analytic)} inputs "
            f"(eps={eps}, atol={atol}, rtol={rtol}):\n" + "\n".join(lines)
        )
    return True


def gradgradcheck(
    f: Callable[..., Value],
    inputs: Sequence[Value | Number],
    eps: float = 1e-5,
    atol: float = 1e-4,
    rtol: float = 1e-3,
) -> bool:
    """True if the second derivatives of f (by `engine.hessian`) match central
    differences of its gradient (by `engine.grad`); raises GradcheckError otherwise.
    """
    from .functional import grad, hessian

    point = _point("gradgradcheck", f, inputs)
    eps = as_tolerance(eps, "gradgradcheck: eps")
    atol = as_tolerance(atol, "gradgradcheck: atol", positive=False)
    rtol = as_tolerance(rtol, "gradgradcheck: rtol", positive=False)
    n = len(point)
    analytic = hessian(lambda xs: f(*xs))(point)
    gradient = grad(f, argnums=tuple(range(n)))
    rows = []
    for j in range(n):
        up = gradient(*[x + eps if k == j else x for k, x in enumerate(point)])
        down = gradient(*[x - eps if k == j else x for k, x in enumerate(point)])
        for i in range(n):
            numeric = (up[i] - down[i]) / (2 * eps)
            a = analytic[i][j]
            if not abs(a - numeric) <= atol + rtol * abs(numeric):
                rows.append((i, j, a, numeric))
    if rows:
        lines = [f"{'d2f/dx_i dx_j':>13}  {'analytic':>14}  {'numeric':>14}  {'rel. error':>10}"]
        lines += [f"{f'({i}, {j})':>13}  {a:>14.8g}  {n_:>14.8g}  {rel_error(a, n_):>10.3g}" for i, j, a, n_ in rows]
        raise GradcheckError(
            f"second-derivative mismatch at {len(rows)} of {n * n} entries (eps={eps}, atol={atol}, rtol={rtol}):\n"
            + "\n".join(lines)
        )
    return True
