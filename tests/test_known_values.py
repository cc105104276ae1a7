"""The worked examples of the CS231n notes "Backpropagation, Intuitions"."""

import math

import pytest

from engine import Value


def test_add_then_multiply_circuit():
    x, y, z = Value(-2), Value(5), Value(-4)
    q = x + y
    f = q * z
    f.backward()
    assert (q.data, f.data) == (3.0, -12.0)
    assert (x.grad, y.grad, z.grad, q.grad, f.grad) == (-4.0, -4.0, 3.0, -4.0, 1.0)


def sigmoid_neuron_from_primitives(w, x):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    return 1 / (1 + (-dot).exp())


def sigmoid_neuron_fused(w, x):
    return Value.dot(w[:2], x, bias=w[2]).sigmoid()


@pytest.mark.parametrize("neuron", [sigmoid_neuron_from_primitives, sigmoid_neuron_fused])
def test_sigmoid_neuron(neuron):
    w = [Value(2), Value(-3), Value(-3)]
    x = [Value(-1), Value(-2)]
    f = neuron(w, x)
    f.backward()
    # The notes: the dot product is 1.0, the sigmoid 0.73, its local gradient ~0.2.
    s = 1 / (1 + math.exp(-1.0))
    ddot = (1 - s) * s
    assert f.data == pytest.approx(s, rel=1e-15)
    assert [v.grad for v in x] == pytest.approx([2 * ddot, -3 * ddot], rel=1e-14)
    assert [v.grad for v in w] == pytest.approx([-1 * ddot, -2 * ddot, ddot], rel=1e-14)
    assert [round(v.grad, 2) for v in x] == [0.39, -0.59]
    assert [round(v.grad, 2) for v in w] == [-0.2, -0.39, 0.2]


def test_staged_computation():
    """The notes' staged backward pass, written out line by line, is the oracle."""
    xv, yv = 3.0, -4.0
    sigy = 1.0 / (1 + math.exp(-yv))
    num = xv + sigy
    sigx = 1.0 / (1 + math.exp(-xv))
    xpy = xv + yv
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1.0 / den
    expected = num * invden
    dnum, dinvden = invden, num
    dden = (-1.0 / (den**2)) * dinvden
    dsigx = dxpysqr = dden
    dxpy = (2 * xpy) * dxpysqr
    dx = dy = dxpy
    dx += ((1 - sigx) * sigx) * dsigx
    dx += dnum
    dy += ((1 - sigy) * sigy) * dnum

    x, y = Value(xv), Value(yv)
    f = (x + y.sigmoid()) / (x.sigmoid() + (x + y) ** 2)
    f.backward()
    assert f.data == pytest.approx(expected, rel=1e-14)
    assert x.grad == pytest.approx(dx, rel=1e-13)
    assert y.grad == pytest.approx(dy, rel=1e-13)


def test_patterns_add_distributes_mul_swaps_max_routes():
    """The notes' example circuit: 2 * (x*y + max(z, w)) at x=3, y=-4, z=2, w=-1."""
    from engine import maximum

    x, y, z, w = Value(3), Value(-4), Value(2), Value(-1)
    f = (x * y + maximum(z, w)) * 2
    f.backward()
    assert (x.grad, y.grad) == (-8.0, 6.0)  # mul swaps its inputs, times 2
    assert (z.grad, w.grad) == (2.0, 0.0)  # max routes to the winner
