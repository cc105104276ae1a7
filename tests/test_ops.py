"""Every op: value and local gradient against PyTorch float64 and central differences."""

from __future__ import annotations

import math

import pytest
from conftest import close, import_torch, torch_grads

from engine import Value, maximum, minimum, numerical_grad, ops


def T():
    return import_torch()


# name: (circuitgrad function, torch function, ordinary points, kink points)
UNARY = {
    "neg": (lambda a: -a, lambda a: -a, [-1.3, 0.7], []),
    "abs": (abs, abs, [-1.3, 0.7], [0.0]),
    "exp": (Value.exp, lambda a: a.exp(), [-2.0, 0.3, 5.0], []),
    "log": (Value.log, lambda a: a.log(), [0.2, 1.0, 7.5], []),
    "sqrt": (Value.sqrt, lambda a: a.sqrt(), [0.2, 4.0], [0.0]),
    "tanh": (Value.tanh, lambda a: a.tanh(), [-2.0, 0.0, 0.4, 30.0], []),
    "sigmoid": (Value.sigmoid, lambda a: a.sigmoid(), [-3.0, 0.0, 1.0, 40.0, -800.0], []),
    "relu": (Value.relu, lambda a: a.relu(), [-1.0, 2.0], [0.0]),
    "leaky_relu": (
        lambda a: a.leaky_relu(0.1),
        lambda a: T().nn.functional.leaky_relu(a, 0.1),
        [-1.0, 2.0],
        [0.0],
    ),
    "leaky_relu_default": (
        Value.leaky_relu,
        lambda a: T().nn.functional.leaky_relu(a),
        [-1.0, 2.0],
        [0.0],
    ),
    "sin": (Value.sin, lambda a: a.sin(), [-1.0, 0.5, 3.0], []),
    "cos": (Value.cos, lambda a: a.cos(), [-1.0, 0.5, 3.0], []),
    "clip": (lambda a: a.clip(-1, 2), lambda a: a.clamp(-1, 2), [-3.0, 0.5, 3.0], [-1.0, 2.0]),
    "square": (lambda a: a**2, lambda a: a**2, [-1.5, 3.0], [0.0]),
    "cube": (lambda a: a**3, lambda a: a**3, [-1.5, 3.0], [0.0]),
    "pow_half": (lambda a: a**0.5, lambda a: a**0.5, [0.3, 2.0], [0.0]),
    "pow_zero": (lambda a: a**0, lambda a: a**0, [-2.0, 3.0], [0.0]),
    "pow_one": (lambda a: a**1, lambda a: a**1, [-2.0, 3.0], [0.0]),
    "reciprocal": (lambda a: a**-1, lambda a: a**-1, [-2.0, 0.5], []),
    "pow_neg_base_int": (lambda a: a**-2, lambda a: a**-2, [-2.0, -0.5], []),
    "rpow": (lambda a: 2**a, lambda a: 2**a, [-1.0, 0.0, 3.5], []),
    "radd": (lambda a: 3 + a, lambda a: 3 + a, [0.5], []),
    "rsub": (lambda a: 3 - a, lambda a: 3 - a, [0.5], []),
    "rmul": (lambda a: 3 * a, lambda a: 3 * a, [0.5], []),
    "rdiv": (lambda a: 3 / a, lambda a: 3 / a, [0.5, -2.0], []),
    "add_number": (lambda a: a + 2.5, lambda a: a + 2.5, [0.5], []),
    "sub_number": (lambda a: a - 2.5, lambda a: a - 2.5, [0.5], []),
    "mul_number": (lambda a: a * 2.5, lambda a: a * 2.5, [0.5], []),
    "div_number": (lambda a: a / 2.5, lambda a: a / 2.5, [0.5], []),
    "self_mul": (lambda a: a * a, lambda a: a * a, [-1.5], []),
    "self_add": (lambda a: a + a, lambda a: a + a, [-1.5], []),
}

BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, [(1.5, -2.0)], []),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, [(1.5, -2.0)], []),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, [(1.5, -2.0)], []),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [(1.5, -2.0), (-3.0, 0.25)], []),
    "pow": (lambda a, b: a**b, lambda a, b: a**b, [(1.5, -2.0), (0.3, 2.5)], [(0.0, 2.0), (-2.0, 3.0)]),
    "maximum": (maximum, lambda a, b: T().maximum(a, b), [(1.5, -2.0), (-1.0, 3.0)], [(0.7, 0.7)]),
    "minimum": (minimum, lambda a, b: T().minimum(a, b), [(1.5, -2.0), (-1.0, 3.0)], [(0.7, 0.7)]),
}


def ours(fn, inputs):
    leaves = [Value(x) for x in inputs]
    out = fn(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def cases(table, arity):
    for name, (mine, theirs, points, kinks) in table.items():
        for kind, group in (("point", points), ("kink", kinks)):
            for p in group:
                p = (p,) if arity == 1 else p
                yield pytest.param(mine, theirs, p, id=f"{name}-{kind}-{p}")


@pytest.mark.parametrize("mine, theirs, point", [*cases(UNARY, 1), *cases(BINARY, 2)])
def test_value_and_gradient_match_pytorch(mine, theirs, point):
    value, grads = ours(mine, point)
    t_value, t_grads = torch_grads(theirs, point)
    assert close(value, t_value), (value, t_value)
    assert all(close(g, t) for g, t in zip(grads, t_grads)), (grads, t_grads)


def smooth_points(table, arity):
    """Ordinary points only: central differences are meaningless at a kink."""
    for name, (mine, _, points, _) in table.items():
        for p in points:
            p = (p,) if arity == 1 else p
            yield pytest.param(mine, p, id=f"{name}-{p}")


@pytest.mark.parametrize("mine, point", [*smooth_points(UNARY, 1), *smooth_points(BINARY, 2)])
def test_gradient_matches_central_differences(mine, point):
    _, grads = ours(mine, point)
    numeric = numerical_grad(mine, point, eps=1e-6)
    for g, n in zip(grads, numeric):
        assert abs(g - n) <= 1e-6 + 1e-6 * abs(n), (grads, numeric)


def test_kink_conventions_written_out():
    assert ours(Value.relu, [0.0])[1] == [0.0]
    assert ours(abs, [0.0])[1] == [0.0]
    assert ours(lambda a: a.leaky_relu(0.2), [0.0])[1] == [0.2]
    assert ours(maximum, [1.0, 1.0])[1] == [0.5, 0.5]
    assert ours(minimum, [1.0, 1.0])[1] == [0.5, 0.5]
    assert ours(lambda a: a.clip(-1, 1), [1.0])[1] == [1.0]
    assert ours(lambda a: a.clip(-1, 1), [-1.0])[1] == [1.0]
    assert ours(lambda a: a.clip(-1, 1), [1.0000001])[1] == [0.0]
    assert ours(Value.sqrt, [0.0])[1] == [math.inf]


def test_fused_sum_and_dot_match_pytorch():
    torch = import_torch()
    ws, xs, b = [0.5, -1.25, 2.0], [3.0, 0.75, -0.5], 0.3

    def mine(*v):
        return Value.dot(v[:3], v[3:6], bias=v[6]) + Value.sum(v[:3]) * Value.sum([v[6], 2.0, v[0]])

    def theirs(*v):
        w, x = torch.stack(v[:3]), torch.stack(v[3:6])
        return (w @ x + v[6]) + w.sum() * (v[6] + 2.0 + v[0])

    point = ws + xs + [b]
    value, grads = ours(mine, point)
    t_value, t_grads = torch_grads(theirs, point)
    assert close(value, t_value)
    assert all(close(g, t) for g, t in zip(grads, t_grads))


def test_fused_nodes_are_one_node_with_one_local_per_child():
    w = [Value(1.0), Value(2.0)]
    x = [Value(3.0), 4.0]
    d = Value.dot(w, x, bias=w[0])
    assert d.data == 1 * 3 + 2 * 4 + 1
    assert d.op is ops.dot and d.children == (w[0], w[1], x[0], w[0])
    assert d.locals == (3.0, 4.0, 1.0, 1.0)
    s = Value.sum([w[0], 5, w[1], w[0]])
    assert s.data == 9.0 and s.children == (w[0], w[1], w[0]) and s.locals == (1.0, 1.0, 1.0)
    assert Value.sum([]).data == 0.0 and Value.sum([]).is_leaf()
    numbers_only = Value.dot([1, 2], [3, 4])
    assert numbers_only.data == 11.0 and numbers_only.is_leaf()
    empty = Value.dot([], [])
    assert empty.data == 0.0 and empty.is_leaf() and empty.op is None


def test_dot_children_are_the_values_among_ws_then_xs_then_the_bias():
    w, x, b = Value(2.0), Value(3.0), Value(0.5)
    input_layer = Value.dot([w, x], [4, 5.0], bias=b)  # Values times numbers
    assert input_layer.children == (w, x, b) and input_layer.locals == (4.0, 5.0, 1.0)
    assert input_layer.data == 2 * 4 + 3 * 5 + 0.5
    hidden = Value.dot([w, b], [x, w], bias=1.0)  # Values on both sides, a number bias
    assert hidden.children == (w, b, x, w) and hidden.locals == (3.0, 2.0, 2.0, 0.5)
    assert hidden.data == 2 * 3 + 0.5 * 2 + 1.0


def test_a_value_used_twice_appears_twice_among_children():
    x = Value(3.0)
    y = x * x
    assert y.children == (x, x) and y.locals == (3.0, 3.0)
    y.backward()
    assert x.grad == 6.0
