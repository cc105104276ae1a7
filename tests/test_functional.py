"""Higher-order derivatives, forward mode, functional transforms and user-defined ops."""

from __future__ import annotations

import math

import pytest
from conftest import close, import_torch

from engine import (
    GradcheckError,
    Value,
    defop,
    generic,
    grad,
    gradgradcheck,
    hessian,
    hvp,
    jacobian,
    jvp,
    maximum,
    minimum,
    silu,
    softplus,
    value_and_grad,
)


def torch_derivatives(fn, x: float, order: int) -> list[float]:
    """[f, f', f'', ...] up to `order` by torch.autograd.grad with create_graph=True."""
    torch = import_torch()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    values = [fn(t)]
    for _ in range(order):
        last = values[-1]
        if not last.requires_grad:
            values.append(torch.zeros((), dtype=torch.float64))
            continue
        (d,) = torch.autograd.grad(last, t, create_graph=True, allow_unused=True)
        values.append(torch.zeros((), dtype=torch.float64) if d is None else d)
    return [v.item() for v in values]


def ours(fn, x: float, order: int) -> list[float]:
    results, f = [], fn
    for _ in range(order + 1):
        results.append(float(f(Value(x)).data) if f is fn else f(x))
        f = grad(f)
    return results


def T():
    return import_torch()


UNARY = {
    "exp": (Value.exp, lambda t: t.exp(), [0.3, -1.2]),
    "log": (Value.log, lambda t: t.log(), [0.3, 2.5]),
    "sqrt": (Value.sqrt, lambda t: t.sqrt(), [0.3, 2.5]),
    "tanh": (Value.tanh, lambda t: t.tanh(), [0.3, -1.2]),
    "sigmoid": (Value.sigmoid, lambda t: t.sigmoid(), [0.3, -1.2]),
    "sin": (Value.sin, lambda t: t.sin(), [0.3, 2.0]),
    "cos": (Value.cos, lambda t: t.cos(), [0.3, 2.0]),
    "cube": (lambda v: v**3, lambda t: t**3, [0.7, -1.5]),
    "pow_half": (lambda v: v**0.5, lambda t: t**0.5, [0.7, 2.0]),
    "pow_value": (lambda v: v ** (v * 0.5), lambda t: t ** (t * 0.5), [0.7, 2.0]),
    "rpow": (lambda v: 2**v, lambda t: 2**t, [0.7, -1.5]),
    "reciprocal": (lambda v: 1 / v, lambda t: 1 / t, [0.7, -1.5]),
    "div": (lambda v: v / (v * v + 1), lambda t: t / (t * t + 1), [0.7, -1.5]),
    "square_mul": (lambda v: v * v * 3, lambda t: t * t * 3, [0.7]),
    "relu": (lambda v: (v * v).relu() * v, lambda t: (t * t).relu() * t, [0.7]),
    "abs": (lambda v: abs(v) * v, lambda t: t.abs() * t, [-0.7]),
    "clip_max": (lambda v: maximum(v.clip(-1, 1), 0.2) * v, lambda t: t.clamp(-1, 1).clamp(min=0.2) * t, [0.5]),
    "dot": (lambda v: Value.dot([v, v * 2], [v.sin(), v], bias=v), lambda t: t * t.sin() + 2 * t * t + t, [0.7]),
    "sum": (lambda v: Value.sum([v.exp(), v * v, 3.0]), lambda t: t.exp() + t * t + 3.0, [0.7]),
    "neg_sub": (lambda v: -(v * v) - (2 - v) * v, lambda t: -(t * t) - (2 - t) * t, [0.7]),
    "leaky_relu": (
        lambda v: (v - 1).leaky_relu(0.1) * v * v,
        lambda t: T().nn.functional.leaky_relu(t - 1, 0.1) * t * t,
        [0.7, 1.5],
    ),
    "minimum": (lambda v: minimum(v * v, v) * v, lambda t: T().minimum(t * t, t) * t, [0.7, 1.5]),
    "mixed_dot": (
        lambda v: Value.dot([v, 2.0, v * v], [3.0, v, v.exp()]),
        lambda t: t * 3.0 + 2.0 * t + t * t * t.exp(),
        [0.7],
    ),
    "softplus": (softplus, lambda t: T().nn.functional.softplus(t), [0.3, -2.0]),
    "silu": (silu, lambda t: T().nn.functional.silu(t), [0.3, -2.0]),
}


@pytest.mark.parametrize(
    "mine, theirs, x", [pytest.param(m, t, x, id=f"{name}-{x}") for name, (m, t, xs) in UNARY.items() for x in xs]
)
def test_second_and_third_derivatives_match_pytorch(mine, theirs, x):
    expected = torch_derivatives(theirs, x, 3)
    got = ours(mine, x, 3)
    for order, (a, b) in enumerate(zip(got, expected)):
        assert close(a, b, rel=1e-10, abs_=1e-12), (order, got, expected)


def test_against_analytic_formulas():
    x = 0.4
    s = 1 / (1 + math.exp(-x))
    assert grad(grad(Value.sigmoid))(x) == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-13)
    t = math.tanh(x)
    assert grad(grad(Value.tanh))(x) == pytest.approx(-2 * t * (1 - t * t), rel=1e-13)
    assert grad(grad(grad(Value.log)))(x) == pytest.approx(2 / x**3, rel=1e-13)
    assert grad(grad(grad(lambda v: v**4)))(x) == pytest.approx(24 * x, rel=1e-13)
    assert grad(grad(Value.sin))(x) == pytest.approx(-math.sin(x), rel=1e-13)


def test_hessian_matches_torch_func_hessian():
    torch = import_torch()

    def mine(v):
        x, y, z = v
        return (x * y).tanh() + x / (z * z + 1) + (y**z) + Value.dot([x, y], [y, z], bias=z).sigmoid()

    def theirs(t):
        x, y, z = t
        return (x * y).tanh() + x / (z * z + 1) + (y**z) + (x * y + y * z + z).sigmoid()

    point = [0.3, 1.7, -0.6]
    H = hessian(mine)(point)
    expected = torch.func.hessian(theirs)(torch.tensor(point, dtype=torch.float64)).tolist()
    for row, t_row in zip(H, expected):
        assert all(close(a, b, rel=1e-10, abs_=1e-12) for a, b in zip(row, t_row)), (H, expected)
    assert all(close(H[i][j], H[j][i], rel=1e-12) for i in range(3) for j in range(3))
    product = hvp(mine)(point, [1.0, -2.0, 0.5])
    expected_product = [sum(h * v for h, v in zip(row, [1.0, -2.0, 0.5])) for row in expected]
    assert all(close(a, b, rel=1e-10, abs_=1e-12) for a, b in zip(product, expected_product))


def test_jvp_matches_torch_func_jvp_and_the_gradient():
    torch = import_torch()

    def mine(x, y):
        return (x * y).sin() + softplus(x - y) + x**2 / y

    def theirs(x, y):
        return (x * y).sin() + torch.nn.functional.softplus(x - y) + x**2 / y

    primals, tangents = (0.8, -1.3), (0.25, 2.0)
    value, derivative = jvp(mine, primals, tangents)
    t_value, t_derivative = torch.func.jvp(
        theirs,
        tuple(torch.tensor(p, dtype=torch.float64) for p in primals),
        tuple(torch.tensor(t, dtype=torch.float64) for t in tangents),
    )
    assert close(value, t_value.item(), rel=1e-13) and close(derivative, t_derivative.item(), rel=1e-12)
    gradient = grad(mine, argnums=(0, 1))(*primals)
    assert derivative == pytest.approx(sum(g * t for g, t in zip(gradient, tangents)), rel=1e-12)


def test_jacobian_of_several_outputs():
    J = jacobian(lambda v: [v[0] * v[1], v[0].exp() + v[1], Value(3.0)])([2.0, 3.0])
    assert J == [[3.0, 2.0], [pytest.approx(math.exp(2.0)), 1.0], [0.0, 0.0]]


def test_no_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1
    assert grad(lambda x: x * grad(lambda y: x + y)(2.0))(3.0) == 1.0
    # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x
    assert grad(lambda x: x * grad(lambda y: x * y)(2.0))(3.0) == 6.0


def test_argnums_and_value_and_grad_touch_no_grad():
    x, y = Value(3.0), Value(4.0)

    def f(a, b):
        return a * b + a.exp()

    value, (dx, dy) = value_and_grad(f, argnums=(0, 1))(x, y)
    assert value == 12.0 + math.exp(3.0) and dx == pytest.approx(4.0 + math.exp(3.0)) and dy == 3.0
    assert grad(f, argnums=1)(3.0, 4.0) == 3.0
    assert grad(f, argnums=-1)(3.0, 4.0) == 3.0
    assert (x.grad, y.grad) == (0.0, 0.0)
    with pytest.raises(ValueError, match="argnums"):
        grad(f, argnums=2)(3.0, 4.0)
    with pytest.raises(TypeError, match="must return a Value"):
        grad(lambda a: 1.0)(3.0)


def test_grad_of_a_function_that_closes_over_parameters_leaves_them_alone():
    w = Value(2.0)
    assert grad(lambda x: (w * x).tanh())(0.5) == pytest.approx(2.0 * (1 - math.tanh(1.0) ** 2))
    assert w.grad == 0.0


def test_a_user_defined_op_in_every_mode():
    torch = import_torch()
    # hypot(a, b) = sqrt(a^2 + b^2): d/da = a/out, d/db = b/out
    hypot = defop("hypot", math.hypot, lambda a, b, out: (a / out, b / out))
    a, b = Value(3.0), Value(4.0)
    out = hypot(a, b)
    assert out.data == 5.0 and out.op is hypot
    out.backward()
    assert (a.grad, b.grad) == (0.6, 0.8)
    H = hessian(lambda v: hypot(v[0], v[1]))([3.0, 4.0])
    expected = torch.func.hessian(lambda t: torch.hypot(t[0], t[1]))(torch.tensor([3.0, 4.0], dtype=torch.float64))
    assert all(close(x, y, rel=1e-12) for x, y in zip(sum(H, []), expected.flatten().tolist()))
    assert jvp(hypot, (3.0, 4.0), (1.0, 1.0)) == (5.0, pytest.approx(1.4))
    assert gradgradcheck(hypot, [3.0, 4.0])
    assert hypot(3, Value(4.0)).data == 5.0  # numbers become constant leaves


def test_gradgradcheck_catches_a_wrong_second_derivative():
    # A rule that is right on floats but a constant on Values: the first derivative is
    # right, the second is 0 instead of 2.
    square = defop("square", lambda x: x * x, lambda x, out: 2 * float(x))
    assert grad(square)(3.0) == 6.0
    with pytest.raises(GradcheckError, match="second-derivative mismatch") as info:
        gradgradcheck(square, [3.0])
    assert "(0, 0)" in str(info.value)


def test_defop_errors():
    bad = defop("bad", lambda x, y: x + y, lambda x, y, out: 1.0)
    with pytest.raises(ValueError, match="1 local gradients for 2 inputs"):
        bad(Value(1.0), Value(2.0))
    with pytest.raises(TypeError, match="must both be formulas"):
        defop("nothing", None, None)


def test_generic_functions_on_floats_and_values():
    for name in ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid"):
        fn = getattr(generic, name)
        assert fn(Value(0.7)).data == pytest.approx(fn(0.7), rel=1e-15)


def test_hessian_of_a_tiny_network_loss_matches_torch():
    torch = import_torch()
    X = [(0.5, -1.0), (1.5, 0.2), (-0.3, 0.8)]
    y = [1.0, -1.0, 0.5]

    def mine(w):
        preds = [(Value.dot(w[0:2], x, bias=w[2])).tanh() * w[3] for x in X]
        return Value.sum((p - t) ** 2 for p, t in zip(preds, y)) * (1 / len(X))

    def theirs(w):
        preds = [torch.tanh(w[0] * x0 + w[1] * x1 + w[2]) * w[3] for x0, x1 in X]
        return sum((p - t) ** 2 for p, t in zip(preds, y)) / len(X)

    point = [0.4, -0.7, 0.1, 1.3]
    H = hessian(mine)(point)
    expected = torch.func.hessian(theirs)(torch.tensor(point, dtype=torch.float64)).tolist()
    for row, t_row in zip(H, expected):
        assert all(close(a, b, rel=1e-10, abs_=1e-13) for a, b in zip(row, t_row))


def test_transforms_work_inside_no_grad():
    from engine import enable_grad, no_grad

    with no_grad():
        assert grad(lambda x: x * x)(3.0) == 6.0
        assert hessian(lambda v: v[0] * v[0] * v[1])([1.0, 2.0]) == [[4.0, 2.0], [2.0, 0.0]]
        assert jvp(lambda x: x.exp(), [0.0], [2.0]) == (1.0, 2.0)
        assert (Value(1.0) * 2).is_leaf()
        with enable_grad():
            assert not (Value(1.0) * 2).is_leaf()
        assert (Value(1.0) * 2).is_leaf()
