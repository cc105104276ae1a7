"""Diagnostics on constructed models whose answers are known in advance."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from engine import AnomalyError, Value, blocked, detect_anomaly, ops, scope
from nn import MLP, RNN, SGD, GradientMonitor, dead_relus, diagnose, fit, gradient_stats, losses, saturation
from nn.data import moons, signed

X = [(0.5, -1.0), (1.5, 2.0), (-2.0, 0.3), (0.1, 0.1)]


def set_neuron(neuron, weights, bias):
    for w, value in zip(neuron.w, weights, strict=True):
        w.data = value
    neuron.b.data = bias


@pytest.mark.parametrize("k", [0, 1, 3, 5])
def test_exactly_k_of_n_relus_are_dead(k):
    model = MLP(2, [5, 1], seed=0)
    for j, neuron in enumerate(model.layers[0].neurons):
        set_neuron(neuron, [0.0, 0.0], -1.0 if j < k else 1.0)  # pre-activation -1 (dead) or +1
    assert dead_relus(model, X) == [(0, j) for j in range(k)]


def test_a_relu_alive_on_one_input_is_not_dead():
    model = MLP(2, [2, 1], seed=0)
    set_neuron(model.layers[0].neurons[0], [1.0, 0.0], -1.0)  # fires only where x0 > 1
    set_neuron(model.layers[0].neurons[1], [1.0, 0.0], -5.0)  # never on X
    assert dead_relus(model, X) == [(0, 1)]


def test_a_sigmoid_layer_forced_into_saturation():
    model = MLP(2, [4, 1], activation="sigmoid", seed=0)
    for neuron in model.layers[0].neurons:
        set_neuron(neuron, [40.0, 40.0], 0.0)  # |pre-activation| >= 8 on every x of X
    assert saturation(model, X) == [1.0, 0.0]
    for neuron in model.layers[0].neurons:
        set_neuron(neuron, [0.01, 0.01], 0.0)  # near 0: local gradient near 0.25
    assert saturation(model, X) == [0.0, 0.0]
    set_neuron(model.layers[0].neurons[0], [40.0, 40.0], 0.0)
    assert saturation(model, X) == [0.25, 0.0]


def test_tanh_saturation_threshold():
    model = MLP(1, [1, 1], activation="tanh", seed=0)
    set_neuron(model.layers[0].neurons[0], [1.0], 0.0)
    inputs = [(0.0,), (1.0,), (3.0,), (4.0,)]  # tanh' = 1, 0.42, 0.0099, 0.0013
    assert saturation(model, inputs, threshold=0.01) == [0.5, 0.0]
    assert saturation(model, inputs, threshold=0.5) == [0.75, 0.0]


@pytest.mark.parametrize("w_h", [1.5, 0.5])
def test_rnn_gradient_is_the_product_of_local_gradients(w_h):
    rnn = RNN(1, 1, activation="tanh", seed=0)
    neuron = rnn.cell.neurons[0]
    set_neuron(neuron, [0.0, w_h], 0.0)
    h0 = Value(0.0)  # the state stays at 0, where tanh' = 1: each step multiplies by w_h
    states = rnn([[0.0]] * 50, h0=[h0])
    states[-1][0].backward()
    predicted = math.prod(w_h * (1 - h[0].data ** 2) for h in states)
    assert h0.grad == pytest.approx(predicted, rel=1e-12)
    assert h0.grad == pytest.approx(w_h**50, rel=1e-12)
    if w_h > 1:
        assert h0.grad > 1e8  # explodes
    else:
        assert h0.grad < 1e-12  # vanishes


@pytest.mark.parametrize("error", [-3.0, -0.5, 0.5, 3.0])
def test_clip_versus_huber(error):
    clipped = Value(error)
    (0.5 * clipped.clip(-1, 1) ** 2).backward()
    huber = Value(error)
    losses.huber([huber], [0.0], delta=1.0).backward()
    if abs(error) < 1:
        assert clipped.grad == huber.grad == error  # the same inside the range
    else:
        assert clipped.grad == 0.0  # the clip silently zeroes it: the DQN bug
        assert huber.grad == math.copysign(1.0, error)  # Huber still pushes, with a bounded force


def test_blocked_names_the_exact_ops_with_their_scopes():
    w = Value(2.0, label="w")
    with scope("gate"):
        a = (w * -1.0).relu()  # off: blocks
        b = (w * 3.0).clip(-1, 1)  # outside its range: blocks
        c = (w * 10.0).sigmoid()  # saturated: chokes
        d = (w * 0.5).tanh()  # fine
    out = a + b + c + d
    found = {block.op.name: block for block in blocked(out, w)}
    assert sorted(found) == ["clip", "relu", "sigmoid"] and {b.scope for b in found.values()} == {"gate"}
    assert (found["relu"].node, found["clip"].node, found["sigmoid"].node) == (a, b, c)
    assert "relu was off" in str(found["relu"]) and "clip input outside its range" in str(found["clip"])
    assert "sigmoid saturated" in str(found["sigmoid"]) and found["relu"].local == 0.0
    assert blocked(d, w) == []
    assert blocked(out, Value(1.0)) == []  # no path


def test_blocked_only_looks_at_paths_to_the_leaf():
    x, y = Value(1.0), Value(-1.0)
    out = y.relu() + x * 2
    assert blocked(out, x) == []
    assert [b.op for b in blocked(out, y)] == [ops.relu]


def test_detect_anomaly_names_the_op_that_made_a_nan_and_where():
    infinite = Value(float("inf"))
    line = None
    with pytest.raises(AnomalyError) as info:
        with detect_anomaly():
            line = _line() + 1
            infinite - infinite
    message = str(info.value)
    assert message.startswith("nan in the forward pass: op 'sub'")
    assert "[inf, inf]" in message
    assert f"{Path(__file__).name}:{line}" in message


def test_detect_anomaly_in_the_backward_pass():
    x = Value(0.0)
    with detect_anomaly():
        line = _line() + 1
        y = x.sqrt() * 3.0
        with pytest.raises(AnomalyError) as info:
            y.backward()
    message = str(info.value)
    assert message.startswith("inf in the backward pass: op 'sqrt'")
    assert f"{Path(__file__).name}:{line}" in message


def test_detect_anomaly_passes_clean_computations_and_matches_the_plain_gradient():
    def f(x, y):
        return (x * y).tanh() + (x / y).exp()

    x, y = Value(0.3), Value(-1.2)
    with detect_anomaly():
        f(x, y).backward()
    checked = (x.grad, y.grad)
    x.grad = y.grad = 0.0
    f(x, y).backward()
    assert checked == (x.grad, y.grad)


def _line() -> int:
    import inspect

    return inspect.currentframe().f_back.f_lineno


def test_gradient_stats_and_monitor():
    model = MLP(2, [3, 1], seed=0)
    for p in model.parameters():
        p.grad = 0.0
    for p in model.layers[0].parameters():
        p.grad = 2.0
    stats = gradient_stats(model, lr=0.1)
    assert stats[0].norm == pytest.approx(2.0 * 3.0) and stats[0].mean_abs == 2.0
    assert stats[1].norm == 0.0
    weight_norm = math.sqrt(sum(p.data**2 for p in model.layers[0].parameters()))
    assert stats[0].update_ratio == pytest.approx(0.1 * 6.0 / weight_norm)

    Xm, labels = moons(20, seed=0)
    model = MLP(2, [4, 4, 1], seed=0)
    monitor = GradientMonitor(model, lr=0.1)
    fit(
        model,
        Xm,
        signed(labels),
        losses.hinge,
        SGD(model.parameters(), lr=0.1),
        steps=5,
        progress=False,
        callback=monitor,
    )
    assert len(monitor.steps) == 5 and len(monitor.norms) == 3 and len(monitor.norms[0]) == 5


def test_diagnose_reports_dead_units_and_renders():
    Xm, labels = moons(30, seed=0)
    y = signed(labels)
    model = MLP(2, [4, 1], seed=0)
    set_neuron(model.layers[0].neurons[2], [0.0, 0.0], -1.0)
    report = diagnose(model, Xm, y, losses.hinge)
    assert report.dead == [(0, 2)]
    text = str(report)
    assert "layer  activation  units  dead" in text and "layer 0: 1 of 4 ReLUs dead" in text
    assert repr(report) == text  # what the REPL shows
    html = report._repr_html_()
    assert "<table>" in html and "ReLUs dead" in html
    assert report.loss == pytest.approx(losses.hinge([model(x) for x in Xm], y).data)
