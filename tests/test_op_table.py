"""The op table: an op defined once (here atan) works in every part of the engine, and ops are
objects, never names: a user op called "relu" or "sigmoid" behaves as itself everywhere."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from conftest import close, import_torch

import engine
from engine import (
    AnomalyError,
    Value,
    blocked,
    defop,
    detect_anomaly,
    draw_dot,
    grad,
    gradcheck,
    gradgradcheck,
    hessian,
    jvp,
    maximum,
    ops,
    stage,
)

# One place: its forward, its local derivative, and that it saturates (atan' = 1 / (1 + x^2) -> 0).
atan = defop("atan", "atan(x)", "1 / (1 + x * x)", saturates=True)


def f(x: Value, y: Value) -> Value:
    return atan(x * y) + atan(x) * y


def test_backward_matches_pytorch():
    torch = import_torch()
    for point in [(0.3, -1.2), (2.0, 0.5), (-4.0, 3.0)]:
        x, y = (Value(v) for v in point)
        out = f(x, y)
        out.backward()
        tx, ty = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point)
        expected = torch.atan(tx * ty) + torch.atan(tx) * ty
        expected.backward()
        assert close(out.data, expected.item()) and close(x.grad, tx.grad.item()) and close(y.grad, ty.grad.item())
    assert gradcheck(f, [0.3, -1.2])


def test_higher_order_matches_pytorch_at_any_order():
    torch = import_torch()
    t = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    derivatives = [torch.atan(t)]
    for _ in range(4):
        (d,) = torch.autograd.grad(derivatives[-1], t, create_graph=True)
        derivatives.append(d)
    g = lambda v: atan(v)  # noqa: E731
    for order, expected in enumerate(derivatives[1:], start=1):
        g = grad(g)
        assert close(g(0.7), expected.item(), rel=1e-12), order
    h = hessian(lambda v: f(v[0], v[1]))([0.3, -1.2])
    expected = torch.func.hessian(lambda v: torch.atan(v[0] * v[1]) + torch.atan(v[0]) * v[1])(
        torch.tensor([0.3, -1.2], dtype=torch.float64)
    )
    assert all(close(a, b, rel=1e-12) for a, b in zip(sum(h, []), expected.flatten().tolist()))
    assert gradgradcheck(f, [0.3, -1.2])


def test_forward_mode_matches_pytorch():
    torch = import_torch()
    value, tangent = jvp(f, (0.3, -1.2), (1.0, 0.5))
    primals = (torch.tensor(0.3, dtype=torch.float64), torch.tensor(-1.2, dtype=torch.float64))
    tangents = (torch.tensor(1.0, dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64))
    t_value, t_tangent = torch.func.jvp(lambda a, b: torch.atan(a * b) + torch.atan(a) * b, primals, tangents)
    assert close(value, t_value.item()) and close(tangent, t_tangent.item())


@pytest.mark.parametrize("backend", ["python", "c"])
def test_staged_python_and_c_equal_backward_bit_for_bit(backend, tmp_path, monkeypatch):
    monkeypatch.setenv("CIRCUITGRAD_CACHE", str(tmp_path))
    staged = stage(f, 0.3, -1.2, input_grads=True, backend=backend)
    assert "atan(" in (staged.source if backend == "python" else staged.c_source)
    for point in [(0.3, -1.2), (2.0, 0.5), (-4.0, 3.0)]:
        x, y = (Value(v) for v in point)
        out = f(x, y)
        out.backward()
        value, grads = staged(*point)
        assert value == out.data and grads == [x.grad, y.grad]


def test_drawn_in_both_styles_and_seen_by_blocked_and_anomaly():
    x = Value(30.0, label="x")
    out = atan(x * 2.0)
    out.backward()
    for style in ("record", "circuit"):
        assert "atan" in draw_dot(out, style=style).source
    [block] = blocked(out, x)  # atan' = 1 / (1 + 3600): saturated, the op says so (saturates=True)
    assert block.op is atan and "atan saturated" in block.reason
    outside = Value(math.inf)
    with pytest.raises(AnomalyError, match="inf entered through a leaf: input 0 of op 'atan'"):
        with detect_anomaly():
            atan(outside)


def test_the_diagnostics_take_it_as_an_activation():
    from nn import MLP, diagnose, losses, saturation
    from nn.data import moons, signed
    from nn.module import ACTIVATIONS

    ACTIVATIONS["atan"] = atan
    try:
        model = MLP(2, [4, 1], activation="atan", seed=0)
        for neuron in model.layers[0].neurons:  # push the units deep into atan's flat tails
            neuron.w = [Value(w.data * 200) for w in neuron.w]
        X, labels = moons(20, seed=0)
        first, last = saturation(model, X)
        assert first > 0.8 and last == 0.0  # atan' = 1 / (1 + z^2) < 0.01 for most (unit, input) pairs
        report = diagnose(model, X, signed(labels), losses.hinge)
        assert any("saturated" in warning for warning in report.warnings())
    finally:
        del ACTIVATIONS["atan"]


# ---------------------------------------------------------------- ops are objects, not names


def test_a_user_op_called_relu_is_itself_in_backward_and_in_staged_code():
    half = defop("relu", "x if x > 0.0 else 0.5 * x", "1.0 if x > 0.0 else 0.5")  # not the table's relu
    x = Value(-2.0)
    out = half(x) * 3.0
    out.backward()
    assert x.grad == 1.5
    for backend in ("python", "c"):
        staged = stage(lambda v: half(v) * 3.0, -2.0, input_grads=True, backend=backend)
        assert staged(-2.0) == (-3.0, [1.5])
    assert stage(out)() == -3.0 and x.grad == 3.0  # the graph form too (x's grad accumulates)


def test_a_user_op_called_sigmoid_does_not_saturate_unless_it_says_so():
    square = defop("sigmoid", "x * x", "2.0 * x")
    x = Value(1e-6)
    out = square(x)
    out.backward()
    assert blocked(out, x) == []  # its local 2e-6 is tiny, but the op does not saturate: it is no sigmoid
    assert blocked(ops.sigmoid(Value(-20.0)), Value(0.0)) == []  # no path: nothing listed


def test_the_sign_of_a_zero_numerator_is_kept_in_staged_code():
    for zero in (0.0, -0.0):
        x = Value(2.0)
        graph = zero / x
        staged = stage(lambda v, zero=zero: zero / v, 2.0)
        assert math.copysign(1.0, staged(2.0)) == math.copysign(1.0, graph.data) == math.copysign(1.0, zero)
        assert math.copysign(1.0, stage(graph)()) == math.copysign(1.0, zero)


def test_maximum_with_a_number_first_stays_in_order_and_propagates_nan():
    x = Value(1.0)
    out = maximum(3.0, x)
    staged = stage(out)
    x.data = math.nan
    assert math.isnan(staged()) and math.isnan(maximum(3.0, Value(math.nan)).data)
    assert out.constants == (3.0, None)  # the number stays in its place: maximum(3.0, x), not maximum(x, 3.0)


def test_no_module_outside_the_table_compares_an_op_s_name():
    root = Path(engine.__file__).parent.parent
    pattern = re.compile(r"""\.op\.name\s*(==|!=|\bin\b)|\bop\s*==\s*["']|activation\s*(==|!=)\s*["']""")
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for folder in ("engine", "nn")
        for path in sorted((root / folder).glob("*.py"))
        if path.name != "ops.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_every_op_is_an_object_of_the_table_and_a_node_refers_to_it():
    x, y = Value(0.5), Value(2.0)
    made = [x + y, x - 1, x * y, x / y, x**y, -x, abs(x), x.exp(), x.log(), x.sqrt(), x.sin(), x.cos()]
    made += [x.tanh(), x.sigmoid(), x.relu(), x.leaky_relu(), x.clip(0, 1), maximum(x, y), engine.minimum(x, y)]
    made += [Value.sum([x, y])]
    made += [Value.dot([x], [y]), engine.logsumexp([x, y])]
    assert [node.op for node in made] == list(ops.TABLE)
    assert all(isinstance(op, engine.Op) for op in ops.TABLE)
