"""Modules: shapes, names, options, scopes, state dicts, saving and loading."""

from __future__ import annotations

import json
import math
import os
import random

import pytest

from engine import Value, ops
from nn import MLP, RNN, Layer, Neuron


def test_shapes_and_outputs_like_micrograd():
    model = MLP(3, [4, 4, 1], seed=0)
    assert len(model.parameters()) == (3 + 1) * 4 + (4 + 1) * 4 + (4 + 1) * 1
    assert isinstance(model([1.0, 2.0, 3.0]), Value)
    assert len(Layer(3, 2, seed=0)([1.0, 2.0, 3.0])) == 2
    assert isinstance(Layer(3, 1, seed=0)([1.0, 2.0, 3.0]), Value)
    assert [layer.neurons[0].activation for layer in model.layers] == ["relu", "relu", "linear"]
    assert str(Neuron(2, nonlin=False, seed=0)) == "LinearNeuron(2)"


def test_named_parameters_are_stable_dotted_names():
    model = MLP(2, [3, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:4] == [
        "layers.0.neurons.0.w.0",
        "layers.0.neurons.0.w.1",
        "layers.0.neurons.0.b",
        "layers.0.neurons.1.w.0",
    ]
    assert names[-1] == "layers.1.neurons.0.b" and len(names) == len(set(names)) == 13
    assert [p for _, p in model.named_parameters()] == model.parameters()


def test_a_neuron_is_one_dot_node_plus_its_activation_tagged_with_its_name():
    model = MLP(2, [3, 1], seed=0)
    out = model([0.5, -1.0])
    assert out.op is ops.dot and out.scope == "layers.1.neurons.0"
    hidden = out.children[-2]  # the inputs of the last neuron come after its weights and before its bias
    assert hidden.op is ops.relu and hidden.scope.startswith("layers.0.neurons.")
    assert hidden.children[0].op is ops.dot


@pytest.mark.parametrize(
    "activation, op", [("tanh", ops.tanh), ("sigmoid", ops.sigmoid), ("leaky_relu", ops.leaky_relu)]
)
def test_activations(activation, op):
    model = MLP(2, [3, 1], activation=activation, seed=0)
    assert model([0.5, -1.0]).children[-2].op is op


def test_inits_and_seeds():
    assert MLP(2, [8, 1], seed=4).state_dict() == MLP(2, [8, 1], seed=4).state_dict()
    assert MLP(2, [8, 1], seed=4).state_dict() != MLP(2, [8, 1], seed=5).state_dict()
    rng = random.Random(9)
    assert MLP(2, [8, 1], rng=rng).state_dict() == MLP(2, [8, 1], seed=9).state_dict()
    xavier = MLP(100, [100, 1], init="xavier", seed=0).layers[0].neurons[0].w
    limit = math.sqrt(6 / 200)
    assert all(-limit <= w.data <= limit for w in xavier) and max(abs(w.data) for w in xavier) > limit / 2
    he = [w.data for n in MLP(50, [200, 1], init="he", seed=0).layers[0].neurons for w in n.w]
    std = math.sqrt(sum(w * w for w in he) / len(he))
    assert std == pytest.approx(math.sqrt(2 / 50), rel=0.05)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: MLP(2, [3, 1], activation="swish"), "activation must be one of 'relu', 'tanh'"),
        (lambda: MLP(2, [3, 1], init="zeros"), "init must be one of 'uniform', 'xavier', 'he', not 'zeros'"),
        (lambda: MLP(2, []), "nouts must be a non-empty list of layer sizes"),
        (lambda: MLP(2, [3, 1], seed=1, rng=random.Random(1)), "not both"),
        (lambda: Neuron(0), "nin must be a positive whole number, not 0"),
        (lambda: Layer(2, 0), "nout must be a positive whole number, not 0"),
    ],
)
def test_bad_options_are_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_zero_grad_and_state_dict_round_trip():
    model = MLP(2, [3, 1], seed=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    other = MLP(2, [3, 1], seed=1)
    other.load_state_dict(model.state_dict())
    assert other.state_dict() == model.state_dict()


def test_save_and_load_round_trip_exactly(tmp_path):
    model = MLP(2, [4, 1], seed=0)
    model.parameters()[0].data = 0.1 + 0.2  # not representable in short decimal
    path = tmp_path / "model.json"
    model.save(path)
    other = MLP(2, [4, 1], seed=1)
    other.load(path)
    assert other.state_dict() == model.state_dict()
    document = json.loads(path.read_text())
    assert document["format"] == "circuitgrad.module" and document["module"] == "MLP"
    assert document["config"] == {"nin": 2, "nouts": [4, 1], "activation": "relu", "init": "uniform"}
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def corrupt(document: dict, how: str) -> str:
    params = document["parameters"]
    first = next(iter(params))
    if how == "truncated":
        return json.dumps(document)[:-40]
    if how == "not json":
        return "this is not a model"
    if how == "wrong format":
        return json.dumps({**document, "format": "something.else"})
    if how == "wrong version":
        return json.dumps({**document, "version": 99})
    if how == "wrong module":
        return json.dumps({**document, "module": "RNN"})
    if how == "missing name":
        return json.dumps({**document, "parameters": {k: v for k, v in params.items() if k != first}})
    if how == "extra name":
        return json.dumps({**document, "parameters": {**params, "layers.9.neurons.0.b": 0.0}})
    if how == "string value":
        return json.dumps({**document, "parameters": {**params, first: "0.5"}})
    if how == "bool value":
        return json.dumps({**document, "parameters": {**params, first: True}})
    if how == "null value":
        return json.dumps({**document, "parameters": {**params, first: None}})
    if how == "list":
        return json.dumps([1, 2, 3])
    if how == "no parameters":
        return json.dumps({k: v for k, v in document.items() if k != "parameters"})
    raise AssertionError(how)


CORRUPTIONS = {
    "truncated": "truncated JSON",
    "not json": "truncated JSON",
    "wrong format": "not a circuitgrad model file",
    "wrong version": "unsupported version 99",
    "wrong module": "holds a 'RNN', not a MLP",
    "missing name": "missing 'layers.0.neurons.0.w.0'",
    "extra name": "unexpected 'layers.9.neurons.0.b'",
    "string value": "must be a number, not str",
    "bool value": "must be a number, not bool",
    "null value": "must be a number, not NoneType",
    "list": "not a circuitgrad model file",
    "no parameters": "has no parameters",
}


@pytest.mark.parametrize("how", list(CORRUPTIONS))
def test_a_bad_file_is_a_clear_error_and_changes_nothing(tmp_path, how):
    source = MLP(2, [4, 1], seed=0)
    path = tmp_path / "model.json"
    source.save(path)
    path.write_text(corrupt(json.loads(path.read_text()), how))
    model = MLP(2, [4, 1], seed=1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=CORRUPTIONS[how]) as info:
        model.load(path)
    assert str(path) in str(info.value)
    assert model.state_dict() == before


def test_a_model_of_another_shape_is_refused(tmp_path):
    path = tmp_path / "model.json"
    MLP(2, [4, 1], seed=0).save(path)
    model = MLP(2, [5, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(
        ValueError, match=r"config does not match this MLP: the file's nouts is \[4, 1\], this model's is \[5, 1\]"
    ):
        model.load(path)
    assert model.state_dict() == before
    with pytest.raises(ValueError, match="missing 'layers.0.neurons.4.w.0'"):
        model.load_state_dict(MLP(2, [4, 1], seed=0).state_dict())
    assert model.state_dict() == before


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    MLP(2, [4, 1], seed=0).save(path)
    old = path.read_text()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        MLP(2, [4, 1], seed=1).save(path)
    assert path.read_text() == old
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_rnn_unrolls_and_its_gradient_scales_with_the_recurrent_weight():
    def gradient_at_start(w_h: float, steps: int = 50) -> float:
        rnn = RNN(1, 1, activation="linear", seed=0)
        neuron = rnn.cell.neurons[0]
        neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.0, w_h, 0.0
        h0 = Value(1.0)
        states = rnn([[0.0]] * steps, h0=[h0])
        states[-1][0].backward()
        return h0.grad

    assert gradient_at_start(1.5) == pytest.approx(1.5**50, rel=1e-12)
    assert gradient_at_start(0.5) == pytest.approx(0.5**50, rel=1e-12)
    rnn = RNN(2, 3, seed=0)
    states = rnn([[0.1, 0.2], [0.3, -0.1], [0.0, 0.5]])
    assert len(states) == 3 and all(len(h) == 3 for h in states)
    assert states[-1][0].op is ops.tanh
    assert len(rnn.parameters()) == 3 * (2 + 3 + 1)
