"""A 60-digit reference for every op of the engine, written independently of `engine.ops`.

`exact(name, xs)` takes the op's inputs as Decimals (in the order `engine.ops` gives
them) and returns its value and its partial derivatives as `Decimal`s computed with 60
significant digits (more where an argument must be reduced, as sin(1e300) needs).
`dec(x)` converts a float exactly, so the op can be applied to the very numbers the
engine saw. nan and inf follow IEEE arithmetic; the kinks follow the conventions of
DESIGN.md (PyTorch's): relu'(0) = 0, abs'(0) = 0, a tie of maximum/minimum splits
0.5 / 0.5, clip passes gradient 1 on its closed range, sqrt'(+-0) = +-inf, and the
power rule at a base of 0. NaN in any input makes every op's value nan.

The fuzz test (`test_fuzz.py`) asks it only where the engine and PyTorch disagree.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from functools import cache

DIGITS = 60
CONTEXT = decimal.Context(prec=DIGITS, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN, traps=[])
NAN, INF = Decimal("NaN"), Decimal("Infinity")
ZERO, ONE, TWO, HALF = Decimal(0), Decimal(1), Decimal(2), Decimal("0.5")


def dec(x: float) -> Decimal:
    """A float as the Decimal of exactly the same value (nan and inf included)."""
    return Decimal(x)


def to_float(x: Decimal) -> float:
    """The nearest float (correctly rounded; overflow gives inf, underflow 0)."""
    return float(x)


def finite(*xs: Decimal) -> bool:
    return all(x.is_finite() for x in xs)


def isnan(x: Decimal) -> bool:
    return x.is_nan()


# ----------------------------------------------------------------------- series


@cache
def pi(digits: int) -> Decimal:
    """pi to `digits` digits, by Machin's formula 16 atan(1/5) - 4 atan(1/239)."""
    with decimal.localcontext(decimal.Context(prec=digits + 10, traps=[])):

        def atan_inverse(n: int) -> Decimal:
            x = ONE / n
            x2 = x * x
            term, total, k = x, x, 1
            while True:
                term *= -x2
                k += 2
                step = term / k
                if step == 0 or abs(step) < Decimal(10) ** -(digits + 8):
                    return total
                total += step

        return +(16 * atan_inverse(5) - 4 * atan_inverse(239))


def _sin_cos(x: Decimal) -> tuple[Decimal, Decimal]:
    """sin and cos of a finite x, after reducing x modulo 2 pi with enough digits."""
    extra = max(0, x.adjusted()) + 20
    with decimal.localcontext(decimal.Context(prec=DIGITS + extra, Emin=decimal.MIN_EMIN, traps=[])):
        two_pi = 2 * pi(DIGITS + extra + 5)
        r = x - two_pi * (x / two_pi).to_integral_value(rounding=decimal.ROUND_HALF_EVEN)
        r2 = r * r
        s, c = r, ONE
        term_s, term_c, k = r, ONE, 0
        while True:
            k += 2
            term_c = -term_c * r2 / ((k - 1) * k)
            term_s = -term_s * r2 / (k * (k + 1))
            c += term_c
            s += term_s
            if (term_s == 0 or abs(term_s) < abs(s) * Decimal(10) ** -(DIGITS + 10)) and (
                term_c == 0 or abs(term_c) < Decimal(10) ** -(DIGITS + 10)
            ):
                break
    return +s, +c


def _expm1(x: Decimal) -> Decimal:
    """e**x - 1 without losing the digits of a small x."""
    if not x.is_finite():
        return x.exp() - 1
    if abs(x) < Decimal("1e-5"):
        total, term, k = ZERO, ONE, 0
        while True:
            k += 1
            term = term * x / k
            if term == 0 or abs(term) < abs(x) * Decimal(10) ** -(DIGITS + 5):
                return +total
            total += term
    with decimal.localcontext(CONTEXT.copy()) as context:
        context.prec = DIGITS + 10
        return x.exp() - 1


def _log1p(x: Decimal) -> Decimal:
    """log(1 + x) without losing the digits of a small x."""
    if x.is_finite() and abs(x) < Decimal("1e-5"):
        total, power, k = ZERO, ONE, 0
        while True:
            k += 1
            power *= x
            term = power / k if k % 2 else -power / k
            if term == 0 or abs(term) < abs(x) * Decimal(10) ** -(DIGITS + 5):
                return +total
            total += term
    return (1 + x).ln()


def _sigmoid(x: Decimal) -> Decimal:
    if x.is_nan():
        return NAN
    return ONE / (1 + (-x).exp())


# ------------------------------------------------------------------------ the ops


def _tanh(x: Decimal) -> tuple[Decimal, Decimal]:
    if x.is_nan():
        return NAN, NAN
    if x.is_infinite():
        return Decimal(1).copy_sign(x), ZERO
    if x > 20:
        t = 1 - 2 / ((2 * x).exp() + 1)
    elif x < -20:
        t = 2 / ((-2 * x).exp() + 1) - 1
    else:
        m = _expm1(2 * x)
        t = m / (m + 2)
    cosh = (x.exp() + (-x).exp()) / 2
    return t, 1 / (cosh * cosh)


def _pow(a: Decimal, b: Decimal, fa: float, fb: float) -> tuple[Decimal, list[Decimal]]:
    if not finite(a, b) or b == 0:
        # IEEE's special cases of pow (exact values: 1, 0, inf, nan), and the rule's conventions.
        out = _power_float(fa, fb)
        da = ZERO if fb == 0.0 else (INF if fa == 0.0 and fb < 1.0 else dec(fb) * _power_float(fa, fb - 1.0))
        db = out * dec(fa).ln() if fa > 0.0 else (ZERO if fa == 0.0 and fb >= 0.0 else NAN)  # as PyTorch
        return out, [da, db]
    if a == 0:
        out = ZERO if b > 0 else INF
        if a.is_signed() and b == b.to_integral_value() and b % 2 == 1:
            out = -out
        da = INF if b < 1 else (ONE if b == 1 else b * a ** (b - 1))
        return out, [da, ZERO]
    if a < 0:
        out = a**b  # b is a whole number here: the engine raises otherwise
        return out, [b * a ** (b - 1), NAN]
    out = a**b
    return out, [b * a ** (b - 1), out * a.ln()]


def _power_float(a: float, b: float) -> Decimal:
    try:
        return dec(a**b)
    except OverflowError:
        return INF
    except ZeroDivisionError:
        return INF


def _clip(x: Decimal, lo: Decimal, hi: Decimal) -> tuple[Decimal, list[Decimal]]:
    if isnan(x) or isnan(lo) or isnan(hi):
        value = NAN
    else:
        value = lo if x < lo else (hi if x > hi else x)
    inside = not isnan(x) and not isnan(lo) and not isnan(hi) and lo <= x <= hi
    below = not isnan(x) and not isnan(lo) and x < lo
    above = not isnan(x) and not isnan(hi) and x > hi
    return value, [ONE if inside else ZERO, ONE if below else ZERO, ONE if above else ZERO]


def _extreme(a: Decimal, b: Decimal, larger: bool) -> tuple[Decimal, list[Decimal]]:
    if isnan(a) or isnan(b):
        return NAN, [ONE, ONE]  # PyTorch: neither comparison holds, both inputs get the gradient
    if a == b:
        return a, [HALF, HALF]
    first = a > b if larger else a < b
    return (a, [ONE, ZERO]) if first else (b, [ZERO, ONE])


def exact(name: str, xs: list[Decimal]) -> tuple[Decimal, list[Decimal]]:
    """The value of op `name` at these inputs and d value / d input for each, in 60 digits."""
    with decimal.localcontext(CONTEXT.copy()):
        x = xs[0]
        if name == "add":
            return xs[0] + xs[1], [ONE, ONE]
        if name == "sub":
            return xs[0] - xs[1], [ONE, -ONE]
        if name == "mul":
            return xs[0] * xs[1], [xs[1], xs[0]]
        if name == "div":
            a, b = xs
            return a / b, [1 / b, -a / (b * b) if finite(a, b) else -(a / b) / b]
        if name == "pow":
            return _pow(xs[0], xs[1], float(xs[0]), float(xs[1]))
        if name == "neg":
            return -x, [-ONE]
        if name == "abs":
            slope = ZERO if isnan(x) or x == 0 else (ONE if x > 0 else -ONE)
            return abs(x), [slope]
        if name == "exp":
            e = x.exp()
            return e, [e]
        if name == "log":
            return x.ln(), [1 / x]
        if name == "sqrt":
            r = x.sqrt()
            return r, [1 / (2 * r)]
        if name in ("sin", "cos"):
            if not x.is_finite():
                return NAN, [NAN]
            s, c = _sin_cos(x)
            return (s, [c]) if name == "sin" else (c, [-s])
        if name == "tanh":
            t, d = _tanh(x)
            return t, [d]
        if name == "sigmoid":
            s = _sigmoid(x)
            return s, [s * _sigmoid(-x)]
        if name == "relu":
            if isnan(x):
                return NAN, [ONE]  # PyTorch's threshold: only x <= 0 stops the gradient
            return (x if x >= 0 else ZERO), [ONE if x > 0 else ZERO]
        if name == "leaky_relu":
            slope = xs[1]
            if not isnan(x) and x > 0:
                return x, [ONE, ZERO]
            return slope * x, [slope, x]
        if name == "clip":
            return _clip(*xs)
        if name == "maximum":
            return _extreme(xs[0], xs[1], larger=True)
        if name == "minimum":
            return _extreme(xs[0], xs[1], larger=False)
        if name == "sum":
            return sum(xs, ZERO), [ONE] * len(xs)
        if name == "dot":
            n, bias = len(xs) // 2, len(xs) % 2 == 1
            ws, vs = xs[:n], xs[n : 2 * n]
            total = sum((w * v for w, v in zip(ws, vs)), ZERO) + (xs[-1] if bias else ZERO)
            return total, [*vs, *ws, *([ONE] if bias else [])]
        if name == "logsumexp":
            if any(isnan(v) for v in xs):
                return NAN, [NAN] * len(xs)
            top = max(xs)
            if not top.is_finite():  # inf, or every value -inf: exp(x - out) as the engine has it
                return top, [NAN if v == top else ZERO for v in xs]
            shifted = [(v - top).exp() for v in xs]  # not exp(v - value): value is rounded to 60 digits
            total = sum(shifted, ZERO)
            return top + total.ln(), [e / total for e in shifted]
        if name == "softplus":
            if isnan(x):
                return NAN, [NAN]
            if x > 0:
                value = x + _log1p((-x).exp())
            else:
                value = _log1p(x.exp())
            return value, [_sigmoid(x)]
        if name == "silu":
            s = _sigmoid(x)
            return x * s, [s + x * s * _sigmoid(-x)]
        raise KeyError(name)
