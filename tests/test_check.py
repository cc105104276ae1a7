"""numerical_grad and gradcheck: the torch-free oracle, and that it catches bugs."""

from __future__ import annotations

import math

import pytest

from engine import GradcheckError, Value, gradcheck, numerical_grad, rel_error


def test_numerical_grad_of_a_known_function():
    grads = numerical_grad(lambda x, y: x * y + x.exp(), [2.0, 3.0])
    assert grads == pytest.approx([3.0 + math.exp(2.0), 2.0], rel=1e-8)


def test_gradcheck_passes_a_correct_gradient():
    def f(x, y):
        return (x + y.sigmoid()) / (x.sigmoid() + (x + y) ** 2)

    assert gradcheck(f, [3.0, -4.0]) is True
    assert gradcheck(lambda *v: Value.dot(v[:2], v[2:]).tanh(), [0.1, -0.4, 0.9, 1.2])


def test_gradcheck_catches_a_wrong_gradient_with_a_table():
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: x * x.detach(), [3.0])
    message = str(info.value)
    assert "1 of 1 inputs" in message
    assert "analytic" in message and "numeric" in message and "rel. error" in message
    row = message.splitlines()[-1].split()
    assert row[0] == "0" and float(row[1]) == 3.0 and float(row[2]) == pytest.approx(6.0)
    assert float(row[3]) == pytest.approx(0.5, rel=1e-6)


def test_gradcheck_lists_only_the_mismatching_inputs():
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: x * y + y * y.detach(), [2.0, 5.0])
    lines = str(info.value).splitlines()
    assert "1 of 2 inputs" in lines[0] and len(lines) == 3 and lines[2].split()[0] == "1"


def test_gradcheck_leaves_the_callers_values_alone():
    x = Value(2.0)
    x.grad = 7.0
    gradcheck(lambda v: v * v, [x])
    assert x.grad == 7.0 and x.data == 2.0


def test_gradcheck_wants_a_value_back():
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda x: 1.0, [1.0])


def test_rel_error():
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(1.0, 2.0) == 0.5
