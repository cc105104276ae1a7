"""A training step that touches no Value: `BoundBatch.value_and_grad`, `Optimizer.update` on lists and
compiled on arrays (`engine.elementwise`), and `nn.fit` holding the numbers between steps; all of it
bit for bit what zero_grad, backward and step() on the Values give."""

from __future__ import annotations

import math
import random
from array import array

import pytest
from conftest import grouped_hinge, same

from engine import Value, stage
from engine.elementwise import Elementwise
from engine.formula import FormulaError
from nn import MLP, SGD, Adam, LinearDecay, fit, losses
from nn.data import moons
from nn.optim import _adam, _sgd


@pytest.fixture(autouse=True)
def cache(compiled_cache):
    return compiled_cache


def moons_signed(n=20):
    X, labels = moons(n, noise=0.1, seed=0)
    return X, [2 * c - 1 for c in labels]


def all_same(a, b) -> bool:
    a, b = list(a), list(b)
    return len(a) == len(b) and all(map(same, a, b))


# ------------------------------------------------------------ value_and_grad


@pytest.mark.parametrize("backend", ["python", "c"])
def test_value_and_grad_is_mean_on_zeroed_grads_at_the_given_numbers_and_touches_no_value(backend):
    w, staged, X, y, groups = grouped_hinge(3, 30, backend)
    rng = random.Random(3)
    bound = staged.bind(X, y, groups)
    for reduction in ("mean", "sum"):
        numbers = [rng.uniform(-1, 1) for _ in staged.parameters]
        before = [(p.data, p.grad) for p in w]
        got, grads = bound.value_and_grad(numbers, reduction=reduction)
        assert [(p.data, p.grad) for p in w] == before  # nothing read from or written to a Value
        assert isinstance(grads, array) and grads.typecode == "d"
        for p, x in zip(staged.parameters, numbers):
            p.data, p.grad = x, 0.0
        expected = getattr(bound, reduction)()
        assert same(got[0], expected[0]) and got[1] == expected[1] and got[2] == expected[2]
        assert all_same(grads, [p.grad for p in staged.parameters])
        assert all_same(bound.value_and_grad(array("d", numbers), reduction)[1], grads)  # an array of doubles too
        for p, (data, grad) in zip(w, before):
            p.data, p.grad = data, grad


def test_value_and_grad_checks_params_before_anything_runs():
    w = Value(0.5)
    bound = stage(lambda x: (w * x) ** 2, 1.0, backend="c").bind([1.0, 2.0])
    for params, error, words in [
        ([], ValueError, "must hold 1 number"),
        (array("d", [1.0, 2.0]), ValueError, "must hold 1 number"),
        (array("i", [1]), TypeError, "typecode 'd'"),
        ([w], TypeError, r"params\[0\] must be a real number"),
        (["1"], TypeError, r"params\[0\] must be a real number"),
        (w, TypeError, "must be a list of 1 number"),
        (None, TypeError, "must be a list of 1 number"),
    ]:
        with pytest.raises(error, match=words):
            bound.value_and_grad(params)
    assert (w.data, w.grad) == (0.5, 0.0)
    assert bound.value_and_grad((True,))[0] == 2.5  # any real number, as everywhere in the engine


# ------------------------------------------------------------ Elementwise and Optimizer.update

RULES = [_sgd(d, m, f) for d in (False, True) for m in (False, True) for f in ((False, True) if m else (False,))]
RULES += [_adam(False), _adam(True)]
AWKWARD = [0.0, -0.0, 1.0, -1.0, 1e-310, -1e-310, 1e300, -1e300, math.inf, -math.inf, math.nan, 3.5, 1e-8, 0.1]


@pytest.mark.parametrize("rule", RULES, ids=repr)
def test_every_optimizer_rule_compiled_equals_its_python_bit_for_bit(rule):
    rng = random.Random(len(repr(rule)))
    n = 600
    inputs = {
        name: [rng.choice(AWKWARD) if rng.random() < 0.3 else rng.uniform(-3, 3) for _ in range(n)]
        for name in rule.inputs
    }
    if "v" in inputs:
        inputs["v"] = [abs(v) for v in inputs["v"]]  # a second moment is never negative
    scalars = {name: rng.uniform(0.01, 0.99) for name in rule.scalars}
    expected = rule.run(inputs, scalars)
    arrays = {name: array("d", values) for name, values in inputs.items()}
    arrays.update({name: array("d", bytes(8 * n)) for name in rule.outputs if name not in arrays})
    rule.run_c(arrays, scalars)
    for name in rule.outputs:
        assert all_same(arrays[name], expected[name]), name


def test_elementwise_reads_like_the_formulas_and_refuses_nonsense():
    rule = Elementwise([("d", "g + decay * x"), ("x", "x - lr * d")], scalars=("lr", "decay"), temporaries=("d",))
    assert rule.inputs == ["g", "x"] and rule.outputs == ["x"]
    assert "    x = [x - lr * d for x, d in zip(x, d, strict=True)]" in rule.python_source()
    on = rule.python_source({"x": "data", "g": "grad"})  # on Values: x is p.data, g is p.grad
    assert "d = [cg_object.grad + decay * cg_object.data for cg_object in cg_objects]" in on
    assert "for cg_object, cg_d in zip(cg_objects, d, strict=True):" in on
    assert "cg_object.data = cg_object.data - lr * cg_d" in on
    values = [Value(2.0), Value(-1.0)]
    values[0].grad, values[1].grad = 1.0, -0.0
    assert rule.run_on(values, {"x": "data", "g": "grad"}, {}, {"lr": 0.5, "decay": 0.0}) == {}
    assert [v.data for v in values] == [1.5, -1.0]
    with pytest.raises(ValueError, match="zip"):  # state of another length is refused, not cut short
        rule.run({"g": [1.0], "x": [2.0, 3.0]}, {"lr": 0.5, "decay": 0.0})
    assert "double d = (g + (decay * x));" in rule.c_source and "cg_x[cg_i] = x;" in rule.c_source
    assert rule.run({"g": [1.0], "x": [2.0]}, {"lr": 0.5, "decay": 0.0}) == {"x": [1.5]}
    with pytest.raises(ValueError, match="arrays of doubles of one length"):
        rule.run_c({"g": array("d", [1.0]), "x": array("d", [1.0, 2.0])}, {"lr": 0.5, "decay": 0.0})
    with pytest.raises(ValueError, match="arrays of doubles"):
        rule.run_c({"g": [1.0], "x": array("d", [1.0])}, {"lr": 0.5, "decay": 0.0})
    for steps, words in [
        ([], "at least one step"),
        ([("lr", "x")], "cannot assign 'lr'"),
        ([("exp", "x")], "cannot assign 'exp'"),
        ([("x", "lr * 2.0")], "reads no array"),
        ([("x", "__import__('os')")], "not one of"),
        ([("x", "lambda * 2.0")], "not a Python expression"),
        ([("double", "x")], "cannot assign 'double'"),
        ([("x", "cg_x * lr")], "cannot be a name"),
    ]:
        with pytest.raises(FormulaError, match=words):
            Elementwise(steps, scalars=("lr",))


def optimizers(params):
    return [
        SGD(params, lr=0.1),
        SGD(params, lr=0.1, weight_decay=0.01),
        SGD(params, lr=0.1, momentum=0.9),
        SGD(params, lr=0.1, momentum=0.9, weight_decay=0.01),
        Adam(params, lr=0.01),
        Adam(params, lr=0.01, weight_decay=0.01),
    ]


@pytest.mark.parametrize("which", range(6))
def test_update_on_lists_and_compiled_on_arrays_is_step_bit_for_bit(which):
    rng = random.Random(which)
    data = [rng.uniform(-1, 1) for _ in range(50)] + [0.0, -0.0, 1e-310]
    values = [Value(x) for x in data]
    stepped, on_lists, on_arrays = (optimizers(values)[which] for _ in range(3))
    numbers, held = list(data), array("d", data)
    for _ in range(4):
        grads = [rng.uniform(-2, 2) for _ in data]
        grads[-3:] = [-0.0, 0.0, rng.choice([1e-300, -5.0])]
        for p, g in zip(values, grads):
            p.grad = g
        stepped.step()
        numbers = on_lists.update(numbers, grads)
        assert on_arrays.update(held, array("d", grads)) is held  # in place
        assert all_same(numbers, [p.data for p in values]) and all_same(held, numbers)
        for name in stepped.state_names:
            assert all_same(getattr(on_lists, name) or [], getattr(stepped, name) or [])
            assert all_same(getattr(on_arrays, name) or [], getattr(stepped, name) or [])
    assert getattr(on_arrays, "t", 4) == getattr(stepped, "t", 4) == 4


def test_update_checks_its_lengths_before_changing_the_state():
    adam = Adam([Value(1.0), Value(2.0)], lr=0.1)
    for data, grads in [([1.0], [1.0, 2.0]), ([1.0, 2.0], [1.0]), (array("d", [1.0]), array("d", [1.0, 2.0]))]:
        with pytest.raises(ValueError, match="must hold 2 numbers"):
            adam.update(data, grads)
    assert adam.t == 0 and list(adam.m) == [0.0, 0.0]


# ------------------------------------------------------------ fit holds the numbers


def train(staged, make_optimizer, steps=12, schedule=True, reverse=False):
    X, y = moons_signed(40)
    model = MLP(2, [6, 6, 1], seed=1)
    params = model.parameters()
    optimizer = make_optimizer(params[::-1] if reverse else params)
    decay = LinearDecay(optimizer, optimizer.lr, optimizer.lr * 0.1, steps) if schedule else None
    history = fit(model, X, y, losses.hinge, optimizer, steps, 1e-3, decay, progress=False, staged=staged)
    state = {name: list(getattr(optimizer, name) or []) for name in optimizer.state_names}
    return history, params, optimizer, state


MAKERS = {
    "sgd": lambda p: SGD(p, lr=0.5),
    "sgd momentum decay": lambda p: SGD(p, lr=0.2, momentum=0.9, weight_decay=1e-3),
    "adam": lambda p: Adam(p, lr=0.05),
    "adam decay": lambda p: Adam(p, lr=0.05, weight_decay=1e-2),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
@pytest.mark.parametrize("reverse", [False, True])
def test_fit_staged_full_batch_is_the_graph_bit_for_bit(name, reverse):
    graph = train(False, MAKERS[name], reverse=reverse)
    for staged in (True, "c"):
        got = train(staged, MAKERS[name], reverse=reverse)
        assert all_same(got[0].loss, graph[0].loss) and got[0].accuracy == graph[0].accuracy
        assert got[0].lr == graph[0].lr
        assert all_same([p.data for p in got[1]], [p.data for p in graph[1]])
        assert all_same([p.grad for p in got[1]], [p.grad for p in graph[1]])  # the last step's gradients
        for state in graph[3]:
            assert all_same(got[3][state], graph[3][state])
            assert type(getattr(got[2], state)) is type(getattr(graph[2], state))  # lists again, or None
        assert getattr(got[2], "t", 0) == getattr(graph[2], "t", 0)


class Stop(Exception):
    pass


@pytest.mark.parametrize("staged", [True, "c"])
@pytest.mark.parametrize("at", [1, 2, 5])
def test_an_interrupted_fit_leaves_the_values_as_the_graph_path_does(staged, at, monkeypatch):
    """An exception inside the optimizer's update at its `at`-th call (the update of step at - 1)."""
    calls = []
    for method in ("run_on", "run_c"):  # run is run_on with no objects
        original = getattr(Elementwise, method)

        def stopping(self, *args, original=original):
            calls.append(1)
            if len(calls) == at:
                raise Stop
            return original(self, *args)

        monkeypatch.setattr(Elementwise, method, stopping)
    states = []
    for way in (False, staged):
        calls.clear()
        X, y = moons_signed(40)
        model = MLP(2, [6, 6, 1], seed=1)
        optimizer = Adam(model.parameters(), lr=0.05, weight_decay=1e-3)
        with pytest.raises(Stop):
            fit(model, X, y, losses.hinge, optimizer, 10, 1e-3, progress=False, staged=way)
        params = model.parameters()
        states.append(([p.data for p in params], [p.grad for p in params], optimizer.t, optimizer.m, optimizer.v))
    assert all_same(states[0][0], states[1][0]) and all_same(states[0][1], states[1][1])
    assert states[0][2] == states[1][2] == at - 1
    assert all_same(states[0][3], states[1][3]) and all_same(states[0][4], states[1][4])


def test_fit_does_not_hold_the_numbers_when_something_looks_at_the_values():
    seen = []

    def callback(k, loss):  # reads the Values at every step: they must be up to date
        seen.append(model.parameters()[0].data)

    X, y = moons_signed(30)
    results = []
    for staged in (False, "c"):
        model = MLP(2, [4, 1], seed=1)
        seen.clear()
        fit(
            model,
            X,
            y,
            losses.hinge,
            SGD(model.parameters(), lr=0.5),
            6,
            progress=False,
            staged=staged,
            callback=callback,
        )
        results.append(list(seen))
    assert all_same(results[0], results[1]) and len(set(results[0])) == 6


@pytest.mark.parametrize("staged", [True, "c"])
def test_a_loss_that_raises_mid_training_leaves_zeroed_grads_as_the_graph_path_does(staged):
    X, y = moons_signed()
    results = []
    for way in (False, staged):
        model = MLP(2, [4, 1], seed=3)
        optimizer = SGD(model.parameters(), lr=1e10)  # diverges: mse's square overflows at a later step
        with pytest.raises(OverflowError):
            fit(model, X, y, losses.mse, optimizer, 9, progress=False, staged=way, schedule=None)
        params = model.parameters()
        results.append(([p.data for p in params], [p.grad for p in params]))
    assert all_same(results[0][0], results[1][0]) and all_same(results[0][1], results[1][1])
    assert set(results[0][1]) == {0.0}  # zero_grad ran, then the forward pass raised


class Accumulating(SGD):
    """Zeroes the gradients every other step: gradient accumulation, which fit must not skip."""

    calls = 0

    def zero_grad(self):
        self.calls += 1
        if self.calls % 2:
            super().zero_grad()


@pytest.mark.parametrize("staged", [True, "c"])
def test_custom_zero_grad_and_methods_set_on_the_objects_are_honoured(staged):
    X, y = moons_signed()
    runs = []
    for way in (False, staged):
        model = MLP(2, [4, 1], seed=1)
        h1 = fit(model, X, y, losses.hinge, Accumulating(model.parameters(), lr=0.1), 6, progress=False, staged=way)
        optimizer = SGD(model.parameters(), lr=0.5)
        plain_step, seen = optimizer.step, []

        def clipped_step(optimizer=optimizer, plain_step=plain_step):
            for p in optimizer.params:
                p.grad = max(-0.01, min(0.01, p.grad))
            plain_step()

        optimizer.step = clipped_step  # on the object, not its class
        schedule = LinearDecay(optimizer, 0.5, 0.1, 6)
        plain_schedule = schedule.step

        def watching(model=model, plain=plain_schedule, seen=seen):  # a schedule that reads the Values
            seen.append(model.parameters()[0].data)
            return plain()

        schedule.step = watching
        h2 = fit(model, X, y, losses.hinge, optimizer, 6, schedule=schedule, progress=False, staged=way)
        runs.append((h1.loss, h2.loss, seen, [p.data for p in model.parameters()]))
    for got, expected in zip(runs[1], runs[0]):
        assert all_same(got, expected)
    assert len(set(runs[0][2])) == 6  # the schedule saw the Values move at every step


@pytest.mark.parametrize("staged", [True, "c"])
def test_a_trainable_value_the_loss_reads_besides_the_model_gets_each_batchs_gradient_once(staged):
    X, y = moons_signed()
    results = []
    for way in (False, staged):
        model = MLP(2, [4, 1], seed=1)
        temperature = Value(1.5)

        def loss(scores, targets, temperature=temperature):
            terms = [(s * temperature - t) ** 2 for s, t in zip(scores, targets)]
            return Value.sum(terms) * (1.0 / len(terms))

        fit(model, X, y, loss, Adam(model.parameters(), lr=0.05), 4, 1e-3, progress=False, staged=way)
        results.append((temperature.grad, [p.data for p in model.parameters()]))
    assert same(results[0][0], results[1][0]) and all_same(results[0][1], results[1][1])
