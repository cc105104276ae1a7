"""Bad input to every public function of `nn` and every flag of `circuitgrad`: a clear error, and nothing changed.

Each row calls one function (or the command) with one bad argument, checks that
the error is of the right type and names the problem, then checks that the
models' parameters and gradients, the optimizers' and the schedule's state and
the files in the folder are exactly as they were.
"""

from __future__ import annotations

import math
import random
import re
import stat
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine import Value
from nn import (
    MLP,
    RNN,
    SGD,
    Adam,
    GradientMonitor,
    Layer,
    LinearDecay,
    Module,
    Neuron,
    accuracy,
    clip_grad_norm,
    dead_relus,
    diagnose,
    fit,
    gradient_stats,
    losses,
    predict,
    saturation,
)
from nn import data as datasets
from nn.cli import main
from nn.diagnostics import layer_outputs
from nn.module import make_rng

NAN, INF = math.nan, math.inf


class World:
    """Everything a bad call could change: models with grads, optimizers with state, a schedule, files."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.model = MLP(2, [3, 1], seed=0)
        self.rnn = RNN(1, 2, seed=0)
        self.params = self.model.parameters()
        for i, p in enumerate([*self.params, *self.rnn.parameters()]):
            p.grad = 0.1 * (i + 1)  # non-zero, so a zero_grad would show
        self.sgd = SGD(self.params, lr=0.1, momentum=0.9)
        self.adam = Adam(self.params, lr=0.01)
        self.sgd.step()
        self.adam.step()
        self.schedule = LinearDecay(self.sgd, 0.1, 0.01, 10)
        self.schedule.step()
        self.file = folder / "model.json"
        self.model.save(self.file)
        X, labels = datasets.moons(12, seed=0)
        self.X, self.labels, self.y = X, labels, datasets.signed(labels)
        self.out = folder / "out"

    def fit(self, **changes):
        arguments = dict(
            model=self.model, X=self.X, y=self.y, loss=losses.hinge, optimizer=self.sgd, steps=2, progress=False
        )
        arguments.update(changes)
        return fit(**arguments)

    def snapshot(self):
        modules = (self.model, self.rnn)
        return (
            [(p.data, p.grad) for m in modules for p in m.parameters()],
            [n for m in modules for n, _ in m.named_parameters()],
            (self.sgd.lr, list(self.sgd.buffers or []), self.sgd.momentum, self.sgd.weight_decay),
            (self.adam.lr, self.adam.t, list(self.adam.m), list(self.adam.v), self.adam.betas, self.adam.eps),
            (self.schedule.k, self.schedule.start, self.schedule.end, self.schedule.steps),
            sorted(
                (
                    str(p.relative_to(self.folder)),
                    p.read_bytes() if p.is_file() else None,
                    stat.S_IMODE(p.stat().st_mode),
                )
                for p in self.folder.rglob("*")
            ),
        )


@dataclass
class Row:
    call: Callable[[World], object]
    error: type[BaseException]
    message: str


def cli(*flags: str) -> Callable[[World], object]:
    """The command with these flags (and a fresh --out unless one is given)."""

    def run(w: World):
        argv = ["train", *flags]
        if not any(flag.startswith("--out") for flag in flags):
            argv += ["--out", str(w.out)]
        return main([a.replace("{folder}", str(w.folder)) for a in argv])

    return run


R = Row
ROWS: dict[str, Row] = {
    # ----------------------------------------------------------------- modules
    "MLP(2, 3)": R(lambda w: MLP(2, 3), TypeError, "MLP: nouts must be a non-empty list of layer sizes .*, not 3"),
    "MLP(2, [])": R(lambda w: MLP(2, []), ValueError, "MLP: nouts must be a non-empty list"),
    "MLP(2, '16')": R(lambda w: MLP(2, "16"), TypeError, "MLP: nouts must be a non-empty list of layer sizes"),
    "MLP(2, [3, 0])": R(
        lambda w: MLP(2, [3, 0]), ValueError, "MLP: nouts\\[1\\] must be a positive whole number, not 0"
    ),
    "MLP(2, [3.5])": R(
        lambda w: MLP(2, [3.5]), TypeError, "MLP: nouts\\[0\\] must be a positive whole number, not 3.5"
    ),
    "MLP(2, [True])": R(lambda w: MLP(2, [True]), TypeError, "nouts\\[0\\] must be a positive whole number, not True"),
    "MLP(True, [3])": R(lambda w: MLP(True, [3]), TypeError, "MLP: nin must be a positive whole number, not True"),
    "MLP(0, [3])": R(lambda w: MLP(0, [3]), ValueError, "MLP: nin must be a positive whole number, not 0"),
    "MLP(2.0, [3])": R(lambda w: MLP(2.0, [3]), TypeError, "MLP: nin must be a positive whole number, not 2.0"),
    "MLP(rng=3)": R(lambda w: MLP(2, [3], rng=3), TypeError, "MLP: rng must be a random.Random or None, not 3"),
    "MLP(seed='a')": R(lambda w: MLP(2, [3], seed="a"), TypeError, "MLP: seed must be a whole number or None, not 'a'"),
    "MLP(seed=1.5)": R(lambda w: MLP(2, [3], seed=1.5), TypeError, "MLP: seed must be a whole number or None, not 1.5"),
    "MLP(seed and rng)": R(
        lambda w: MLP(2, [3], seed=1, rng=random.Random(1)), ValueError, "MLP: give seed= or rng=, not both"
    ),
    "MLP(activation='swish')": R(
        lambda w: MLP(2, [3], activation="swish"), ValueError, "MLP: activation must be one of 'relu', 'tanh'"
    ),
    "MLP(activation=None)": R(lambda w: MLP(2, [3], activation=None), TypeError, "MLP: activation must be one of"),
    "MLP(init='zeros')": R(lambda w: MLP(2, [3], init="zeros"), ValueError, "MLP: init must be one of 'uniform'"),
    "Layer(2, 0)": R(lambda w: Layer(2, 0), ValueError, "Layer: nout must be a positive whole number, not 0"),
    "Layer(-1, 2)": R(lambda w: Layer(-1, 2), ValueError, "Layer: nin must be a positive whole number, not -1"),
    "Layer(nonlin=1)": R(lambda w: Layer(2, 2, nonlin=1), TypeError, "Layer: nonlin must be True or False, not 1"),
    "Layer(name=3)": R(lambda w: Layer(2, 2, name=3), TypeError, "Layer: name must be a str, not 3"),
    "Layer(init='he ')": R(lambda w: Layer(2, 2, init="he "), ValueError, "Layer: init must be one of"),
    "Neuron(0)": R(lambda w: Neuron(0), ValueError, "Neuron: nin must be a positive whole number, not 0"),
    "Neuron('2')": R(lambda w: Neuron("2"), TypeError, "Neuron: nin must be a positive whole number, not '2'"),
    "Neuron(nonlin=None)": R(lambda w: Neuron(2, nonlin=None), TypeError, "Neuron: nonlin must be True or False"),
    "Neuron(activation='ReLU')": R(lambda w: Neuron(2, activation="ReLU"), ValueError, "Neuron: activation must be"),
    "Neuron(fan_out=0)": R(lambda w: Neuron(2, fan_out=0), ValueError, "Neuron: fan_out must be a positive whole"),
    "Neuron(rng=random)": R(lambda w: Neuron(2, rng="random"), TypeError, "Neuron: rng must be a random.Random"),
    "RNN(-1, 2)": R(lambda w: RNN(-1, 2), ValueError, "RNN: nin must be a positive whole number, not -1"),
    "RNN(1, 0)": R(lambda w: RNN(1, 0), ValueError, "RNN: nhidden must be a positive whole number, not 0"),
    "RNN(1, 2.0)": R(lambda w: RNN(1, 2.0), TypeError, "RNN: nhidden must be a positive whole number, not 2.0"),
    "RNN(activation='gelu')": R(lambda w: RNN(1, 2, activation="gelu"), ValueError, "RNN: activation must be"),
    "RNN(seed=True)": R(lambda w: RNN(1, 2, seed=True), TypeError, "RNN: seed must be a whole number or None"),
    "make_rng(seed and rng)": R(lambda w: make_rng(1, random.Random(1)), ValueError, "give seed= or rng=, not both"),
    "rnn(xs=3)": R(lambda w: w.rnn(3), TypeError, "RNN: xs must be a list of inputs"),
    "rnn(xs=[[1, 2]])": R(lambda w: w.rnn([[1.0, 2.0]]), ValueError, "RNN: xs\\[0\\] must hold 1 number, not 2"),
    "rnn(xs=['a'])": R(lambda w: w.rnn(["a"]), TypeError, "RNN: xs\\[0\\] must be a list of 1 number, not .a."),
    "rnn(h0=[0.0])": R(lambda w: w.rnn([[1.0]], h0=[0.0]), ValueError, "RNN: h0 must hold 2 numbers, not 1"),
    "rnn(h0=0.0)": R(lambda w: w.rnn([[1.0]], h0=0.0), TypeError, "RNN: h0 must be a list of 2 numbers or None"),
    "model(x of 3)": R(lambda w: w.model([1.0, 2.0, 3.0]), ValueError, "MLP: x has 3 numbers, but this MLP takes 2"),
    "model(5.0)": R(lambda w: w.model(5.0), TypeError, "MLP: x must be a list of 2 numbers, not 5.0"),
    "model('ab')": R(lambda w: w.model("ab"), TypeError, "MLP: x must be a list of 2 numbers, not 'ab'"),
    "layer(x of 1)": R(lambda w: w.model.layers[1]([1.0]), ValueError, "Layer: x has 1 number, but this Layer takes 3"),
    "Module()(x)": R(lambda w: Module()([1.0]), NotImplementedError, "Module does not define its forward pass"),
    # ---------------------------------------------------------- state dicts, files
    "load_state_dict(list)": R(
        lambda w: w.model.load_state_dict([1.0]),
        ValueError,
        "MLP.load_state_dict: a state dict must be a dict of name -> number, not \\[1.0\\]",
    ),
    "load_state_dict(missing)": R(
        lambda w: w.model.load_state_dict({}),
        ValueError,
        "MLP.load_state_dict: parameters do not match this MLP: missing .layers.0",
    ),
    "load_state_dict(str value)": R(
        lambda w: w.model.load_state_dict({**w.model.state_dict(), "layers.1.neurons.0.b": "1"}),
        ValueError,
        "parameter 'layers.1.neurons.0.b' must be a number, not str",
    ),
    "load_state_dict(inf, last)": R(
        lambda w: w.model.load_state_dict({**w.model.state_dict(), "layers.1.neurons.0.b": INF}),
        ValueError,
        "parameter 'layers.1.neurons.0.b' must be a finite number, not inf",
    ),
    "load_state_dict(10**400, last)": R(
        lambda w: w.model.load_state_dict({**w.model.state_dict(), "layers.1.neurons.0.b": 10**400}),
        ValueError,
        "parameter 'layers.1.neurons.0.b' must be a finite number, not an integer of about 400 digits",
    ),
    "save('')": R(lambda w: w.model.save(""), ValueError, "MLP.save: path must be a path naming a file, not ''"),
    "save(None)": R(lambda w: w.model.save(None), TypeError, "MLP.save: path must be a file path .*, not None"),
    "save(folder/)": R(lambda w: w.model.save(str(w.folder) + "/"), ValueError, "path must be a path naming a file"),
    "save(a folder)": R(lambda w: w.model.save(w.folder), IsADirectoryError, "is a folder, not a file"),
    "save(no such folder)": R(
        lambda w: w.model.save(w.folder / "nowhere" / "m.json"), FileNotFoundError, "the folder .* does not exist"
    ),
    "save(nan parameter)": R(
        lambda w: (setattr(w.rnn.parameters()[0], "data", NAN), w.rnn.save(w.folder / "rnn.json")),
        ValueError,
        "RNN.save: parameter 'cell.neurons.0.w.0' is nan",
    ),
    "load('')": R(lambda w: w.model.load(""), ValueError, "MLP.load: path must be a path naming a file, not ''"),
    "load(3)": R(lambda w: w.model.load(3), TypeError, "MLP.load: path must be a file path"),
    "load(no such file)": R(lambda w: w.model.load(w.folder / "none.json"), FileNotFoundError, "none.json"),
    "load(into an RNN)": R(lambda w: w.rnn.load(w.file), ValueError, "model.json: holds a 'MLP', not a RNN"),
    "load(into another shape)": R(
        lambda w: MLP(2, [4, 1]).load(w.file), ValueError, "config does not match this MLP: the file's nouts is"
    ),
    "load(into another activation)": R(
        lambda w: MLP(2, [3, 1], activation="tanh").load(w.file), ValueError, "the file's activation is 'relu'"
    ),
    # -------------------------------------------------------------- optimizers
    "SGD(lr='0.1')": R(
        lambda w: SGD(w.params, lr="0.1"), TypeError, "SGD: lr must be a positive finite number .*'0.1'"
    ),
    "SGD(lr=inf)": R(lambda w: SGD(w.params, lr=INF), ValueError, "SGD: lr must be a positive finite number .*inf"),
    "SGD(lr=nan)": R(lambda w: SGD(w.params, lr=NAN), ValueError, "SGD: lr must be a positive finite number .*nan"),
    "SGD(lr=0)": R(lambda w: SGD(w.params, lr=0), ValueError, "SGD: lr must be a positive finite number"),
    "SGD(lr=-1)": R(lambda w: SGD(w.params, lr=-1), ValueError, "SGD: lr must be a positive finite number"),
    "SGD(lr=True)": R(lambda w: SGD(w.params, lr=True), TypeError, "SGD: lr must be a positive finite number"),
    "SGD(lr=Value)": R(lambda w: SGD(w.params, lr=Value(0.1)), TypeError, "SGD: lr must be .*\\(Value\\)"),
    "SGD(lr=10**400)": R(lambda w: SGD(w.params, lr=10**400), ValueError, "SGD: lr must be a positive finite number"),
    "SGD(momentum=-0.5)": R(lambda w: SGD(w.params, 0.1, momentum=-0.5), ValueError, "SGD: momentum must be a non-neg"),
    "SGD(momentum=nan)": R(lambda w: SGD(w.params, 0.1, momentum=NAN), ValueError, "SGD: momentum must be"),
    "SGD(weight_decay='0')": R(lambda w: SGD(w.params, 0.1, weight_decay="0"), TypeError, "SGD: weight_decay must be"),
    "SGD([])": R(lambda w: SGD([], lr=0.1), ValueError, "SGD: params is empty: there are no parameters to update"),
    "SGD([1.0])": R(lambda w: SGD([1.0], lr=0.1), TypeError, "SGD: params must all be Values, but item 0 is 1.0"),
    "SGD(model)": R(lambda w: SGD(w.model, lr=0.1), TypeError, "params must be an iterable of Values such as model"),
    "SGD(a Value)": R(lambda w: SGD(w.params[0], lr=0.1), TypeError, "SGD: params must be an iterable of Values"),
    "SGD(twice)": R(
        lambda w: SGD([w.params[0], w.params[0]], 0.1), ValueError, "SGD: params holds the same Value twice"
    ),
    "Adam(betas=(0.9,))": R(lambda w: Adam(w.params, betas=(0.9,)), ValueError, "Adam: betas must be two numbers"),
    "Adam(betas=0.9)": R(
        lambda w: Adam(w.params, betas=0.9), TypeError, "Adam: betas must be two numbers in \\[0, 1\\)"
    ),
    "Adam(betas=(0.9, 1.0))": R(
        lambda w: Adam(w.params, betas=(0.9, 1.0)),
        ValueError,
        "Adam: betas\\[1\\] must be a finite number in \\[0, 1\\)",
    ),
    "Adam(betas=(-0.1, 0.9))": R(lambda w: Adam(w.params, betas=(-0.1, 0.9)), ValueError, "Adam: betas\\[0\\] must be"),
    "Adam(betas=('a', 0.9))": R(lambda w: Adam(w.params, betas=("a", 0.9)), TypeError, "Adam: betas\\[0\\] must be"),
    "Adam(eps=-1)": R(
        lambda w: Adam(w.params, eps=-1), ValueError, "Adam: eps must be a positive finite number, not -1"
    ),
    "Adam(eps=0)": R(lambda w: Adam(w.params, eps=0), ValueError, "Adam: eps must be a positive finite number, not 0"),
    "Adam(lr=None)": R(lambda w: Adam(w.params, lr=None), TypeError, "Adam: lr must be a positive finite number"),
    "Adam(weight_decay=-1)": R(lambda w: Adam(w.params, weight_decay=-1), ValueError, "Adam: weight_decay must be"),
    "SGD.update(None, grads)": R(
        lambda w: w.sgd.update(None, [0.0] * len(w.params)), TypeError, r"^SGD\.update: data must be a list of \d+ num"
    ),
    "SGD.update(data, 'abc')": R(
        lambda w: w.sgd.update([0.0] * len(w.params), "abc"), TypeError, r"^SGD\.update: grads must be a list of"
    ),
    "SGD.update(too short)": R(
        lambda w: w.sgd.update([0.0], [0.0] * len(w.params)), ValueError, r"^SGD\.update: data must hold \d+ numbers"
    ),
    "Adam.update(grads with a str)": R(
        lambda w: w.adam.update([0.0] * len(w.params), ["a"] * len(w.params)),
        TypeError,
        r"^Adam\.update: grads\[0\] must be a real number, not str",
    ),
    "Adam.update(data with a Value)": R(
        lambda w: w.adam.update(w.params, [0.0] * len(w.params)),
        TypeError,
        r"^Adam\.update: data\[0\] must be a real number, not Value",
    ),
    "Adam.update(array('f'))": R(
        lambda w: w.adam.update(array("f", [0.0] * len(w.params)), array("d", [0.0] * len(w.params))),
        TypeError,
        r"^Adam\.update: data must be an array of doubles \(typecode 'd'\)",
    ),
    "Adam.update(arrays of another length)": R(
        lambda w: w.adam.update(array("d", [0.0]), array("d", [0.0])), ValueError, r"^Adam\.update: data must hold"
    ),
    "optimizer.lr = '0.1'": R(
        lambda w: setattr(w.sgd, "lr", "0.1"), TypeError, "SGD: lr must be a non-negative finite number, not .0.1."
    ),
    "optimizer.lr = -1": R(
        lambda w: setattr(w.adam, "lr", -1.0), ValueError, "Adam: lr must be a non-negative finite number"
    ),
    "optimizer.lr = nan": R(
        lambda w: setattr(w.adam, "lr", NAN), ValueError, "Adam: lr must be a non-negative finite number"
    ),
    "clip_grad_norm(max_norm=-1)": R(
        lambda w: clip_grad_norm(w.params, -1), ValueError, "clip_grad_norm: max_norm must be a positive number, not -1"
    ),
    "clip_grad_norm(max_norm=0)": R(lambda w: clip_grad_norm(w.params, 0), ValueError, "max_norm must be a positive"),
    "clip_grad_norm(max_norm=nan)": R(
        lambda w: clip_grad_norm(w.params, NAN), ValueError, "max_norm must be a positive"
    ),
    "clip_grad_norm(max_norm='1')": R(
        lambda w: clip_grad_norm(w.params, "1"), TypeError, "max_norm must be a positive"
    ),
    "clip_grad_norm(floats)": R(lambda w: clip_grad_norm([1.0], 1.0), TypeError, "clip_grad_norm: params must all be"),
    "LinearDecay(None, ...)": R(
        lambda w: LinearDecay(None, 1.0, 0.1, 10), TypeError, "LinearDecay: optimizer must be an optimizer"
    ),
    "LinearDecay(start=0)": R(
        lambda w: LinearDecay(w.sgd, 0, 0.1, 10),
        ValueError,
        "LinearDecay: start must be a positive finite number, not 0",
    ),
    "LinearDecay(end=-0.1)": R(lambda w: LinearDecay(w.sgd, 1.0, -0.1, 10), ValueError, "LinearDecay: end must be"),
    "LinearDecay(end=inf)": R(lambda w: LinearDecay(w.sgd, 1.0, INF, 10), ValueError, "LinearDecay: end must be"),
    "LinearDecay(steps=0)": R(
        lambda w: LinearDecay(w.sgd, 1.0, 0.1, 0), ValueError, "LinearDecay: steps must be a pos"
    ),
    "LinearDecay(steps=2.5)": R(lambda w: LinearDecay(w.sgd, 1.0, 0.1, 2.5), TypeError, "LinearDecay: steps must be"),
    # ------------------------------------------------------------------ losses
    "mse(lengths)": R(lambda w: losses.mse([1.0], [1.0, 2.0]), ValueError, "mse: 1 predictions but 2 targets"),
    "mse(empty)": R(lambda w: losses.mse([], []), ValueError, "mse: the batch is empty"),
    "mse(preds=Value)": R(lambda w: losses.mse(Value(1.0), [1.0]), TypeError, "mse: preds must be a list of Values"),
    "mse(target nan)": R(lambda w: losses.mse([1.0], [NAN]), ValueError, "mse: targets\\[0\\] must be a finite number"),
    "mse(target str)": R(lambda w: losses.mse([1.0], ["1"]), TypeError, "mse: targets\\[0\\] must be a finite number"),
    "mse(pred str)": R(lambda w: losses.mse(["1"], [1.0]), TypeError, "mse: preds\\[0\\] must be a Value or a number"),
    "hinge(label 0)": R(lambda w: losses.hinge([1.0], [0]), ValueError, "hinge: labels must be -1 or \\+1, not 0"),
    "hinge(label 2)": R(lambda w: losses.hinge([1.0], [2]), ValueError, "hinge: labels must be -1 or \\+1, not 2"),
    "hinge(label True)": R(lambda w: losses.hinge([1.0], [True]), TypeError, "hinge: labels\\[0\\] must be -1 or \\+1"),
    "hinge(labels str)": R(lambda w: losses.hinge([1.0], "1"), TypeError, "hinge: labels must be a list of numbers"),
    "bce_with_logits(label 2)": R(
        lambda w: losses.bce_with_logits([1.0], [2]), ValueError, "bce_with_logits: labels\\[0\\] must be a number in"
    ),
    "bce_with_logits(label -1)": R(
        lambda w: losses.bce_with_logits([1.0], [-1]), ValueError, "labels\\[0\\] must be a number in \\[0, 1\\]"
    ),
    "bce_with_logits(label '1')": R(
        lambda w: losses.bce_with_logits([1.0], ["1"]), TypeError, "labels\\[0\\] must be a number in \\[0, 1\\]"
    ),
    "bce_with_logits(logit None)": R(
        lambda w: losses.bce_with_logits([None], [1]), TypeError, "bce_with_logits: logits\\[0\\] must be a Value"
    ),
    "cross_entropy(target 2 of 2)": R(
        lambda w: losses.cross_entropy([[1.0, 2.0]], [2]), ValueError, "target 2 \\(targets\\[0\\]\\) is not a class"
    ),
    "cross_entropy(target -1)": R(
        lambda w: losses.cross_entropy([[1.0, 2.0]], [-1]), ValueError, "cross_entropy: target -1 .* not a class index"
    ),
    "cross_entropy(target 1.0)": R(
        lambda w: losses.cross_entropy([[1.0, 2.0]], [1.0]), TypeError, "target 1.0 .* is not a class index"
    ),
    "cross_entropy(ragged)": R(
        lambda w: losses.cross_entropy([[1.0, 2.0], [1.0]], [0, 0]),
        ValueError,
        "logits\\[1\\] has 1 class, logits\\[0\\] has 2",
    ),
    "cross_entropy(empty row)": R(
        lambda w: losses.cross_entropy([[]], [0]), ValueError, "logits\\[0\\] must be a non-empty list of class scores"
    ),
    "huber(delta=nan)": R(
        lambda w: losses.huber([1.0], [1.0], delta=NAN), ValueError, "huber: delta must be a positive"
    ),
    "huber(delta=0)": R(lambda w: losses.huber([1.0], [1.0], delta=0), ValueError, "huber: delta must be a positive"),
    "huber(delta=inf)": R(
        lambda w: losses.huber([1.0], [1.0], delta=INF), ValueError, "huber: delta must be a positive"
    ),
    "huber(target inf)": R(lambda w: losses.huber([1.0], [INF]), ValueError, "huber: targets\\[0\\] must be a finite"),
    "l2(a Value)": R(lambda w: losses.l2(w.params[0]), TypeError, "l2: params must be a list of Values"),
    "l2(str inside)": R(lambda w: losses.l2([w.params[0], "x"]), TypeError, "l2: params\\[1\\] must be a Value or"),
    "softplus('1')": R(lambda w: losses.softplus("1"), TypeError, "softplus: z must be a Value or a number, not '1'"),
    # ---------------------------------------------------------------- data sets
    "moons(n=1)": R(lambda w: datasets.moons(1), ValueError, "moons: n must be a whole number >= 2, not 1"),
    "moons(n=2.5)": R(lambda w: datasets.moons(2.5), TypeError, "moons: n must be a whole number >= 2, not 2.5"),
    "moons(noise=-1)": R(lambda w: datasets.moons(noise=-1), ValueError, "moons: noise must be a non-negative finite"),
    "moons(noise=nan)": R(
        lambda w: datasets.moons(noise=NAN), ValueError, "moons: noise must be a non-negative finite"
    ),
    "moons(seed='x')": R(lambda w: datasets.moons(seed="x"), TypeError, "moons: seed must be a whole number or None"),
    "circles(factor=1)": R(
        lambda w: datasets.circles(factor=1), ValueError, "circles: factor must be a finite number in"
    ),
    "circles(n=0)": R(lambda w: datasets.circles(0), ValueError, "circles: n must be a whole number >= 2, not 0"),
    "circles(noise=inf)": R(lambda w: datasets.circles(noise=INF), ValueError, "circles: noise must be"),
    "spiral(n_classes=1)": R(lambda w: datasets.spiral(n_classes=1), ValueError, "spiral: n_classes must be a whole"),
    "spiral(n_per_class=1)": R(lambda w: datasets.spiral(1), ValueError, "spiral: n_per_class must be a whole number"),
    "spiral(noise='0.2')": R(lambda w: datasets.spiral(noise="0.2"), TypeError, "spiral: noise must be a non-negative"),
    "xor(n=3)": R(lambda w: datasets.xor(3), ValueError, "xor: n must be a whole number >= 4, not 3"),
    "xor(noise=-0.1)": R(lambda w: datasets.xor(noise=-0.1), ValueError, "xor: noise must be a non-negative"),
    "blobs(n=2, centers=3)": R(lambda w: datasets.blobs(2), ValueError, "blobs: n must be a whole number >= 3, not 2"),
    "blobs(centers=0)": R(lambda w: datasets.blobs(centers=0), ValueError, "blobs: centers must be a positive whole"),
    "blobs(std=-1)": R(lambda w: datasets.blobs(std=-1), ValueError, "blobs: std must be a non-negative finite number"),
    "signed([2])": R(lambda w: datasets.signed([0, 2]), ValueError, "signed: labels must be 0 or 1, not 2 \\(labels"),
    "signed('01')": R(lambda w: datasets.signed("01"), TypeError, "signed: labels must be a list of 0 / 1 labels"),
    # --------------------------------------------------------------------- fit
    "fit(steps=2.5)": R(lambda w: w.fit(steps=2.5), TypeError, "fit: steps must be a positive whole number, not 2.5"),
    "fit(steps=0)": R(lambda w: w.fit(steps=0), ValueError, "fit: steps must be a positive whole number, not 0"),
    "fit(steps=True)": R(
        lambda w: w.fit(steps=True), TypeError, "fit: steps must be a positive whole number, not True"
    ),
    "fit(batch_size=-1)": R(lambda w: w.fit(batch_size=-1), ValueError, "fit: batch_size must be a positive whole"),
    "fit(batch_size=0.5)": R(lambda w: w.fit(batch_size=0.5), TypeError, "fit: batch_size must be a positive whole"),
    "fit(optimizer=None)": R(lambda w: w.fit(optimizer=None), TypeError, "fit: optimizer must be an optimizer \\(SGD"),
    "fit(optimizer of another model)": R(
        lambda w: w.fit(optimizer=SGD(MLP(2, [3, 1]).parameters(), 0.1)), ValueError, "fit: the optimizer holds 13"
    ),
    "fit(model=None)": R(lambda w: w.fit(model=None), TypeError, "fit: model must be a Module"),
    "fit(model=a function)": R(lambda w: w.fit(model=lambda x: x), TypeError, "fit: model must be a Module"),
    "fit(loss=None)": R(lambda w: w.fit(loss=None), TypeError, "fit: loss must be a function, not None"),
    "fit(loss='hinge')": R(lambda w: w.fit(loss="hinge"), TypeError, "fit: loss must be a function, not 'hinge'"),
    "fit(X=[])": R(lambda w: w.fit(X=[], y=[]), ValueError, "fit: X must be a non-empty list of samples"),
    "fit(X='ab')": R(lambda w: w.fit(X="ab"), TypeError, "fit: X must be a non-empty list of samples"),
    "fit(y shorter)": R(lambda w: w.fit(y=w.y[:-1]), ValueError, "fit: 12 inputs but 11 labels"),
    "fit(X of 3 numbers)": R(
        lambda w: w.fit(X=[(1.0, 2.0, 3.0)] * 12),
        ValueError,
        "fit: the samples have 3 numbers each, but the model takes 2",
    ),
    "fit(row 11 'a')": R(
        lambda w: w.fit(X=[*w.X[:11], ("a", 0.0)], batch_size=3), TypeError, "fit: X\\[11\\]\\[0\\] must be a finite"
    ),
    "fit(row 11 inf)": R(
        lambda w: w.fit(X=[*w.X[:11], (INF, 0.0)]), ValueError, "fit: X\\[11\\]\\[0\\] must be a finite"
    ),
    "fit(row 11 short)": R(
        lambda w: w.fit(X=[*w.X[:11], (0.0,)]), ValueError, "fit: X\\[11\\] has 1 number, X\\[0\\] has 2"
    ),
    "fit(label 11 is 0)": R(lambda w: w.fit(y=[*w.y[:11], 0]), ValueError, "fit: labels must be -1 or \\+1, not 0"),
    "fit(l2_weight=-1)": R(lambda w: w.fit(l2_weight=-1), ValueError, "fit: l2_weight must be a non-negative finite"),
    "fit(l2_weight=nan)": R(lambda w: w.fit(l2_weight=NAN), ValueError, "fit: l2_weight must be a non-negative finite"),
    "fit(schedule=0.1)": R(lambda w: w.fit(schedule=0.1), TypeError, "fit: schedule must have a step\\(\\) method"),
    "fit(schedule of another optimizer)": R(
        lambda w: w.fit(optimizer=w.adam, schedule=w.schedule), ValueError, "fit: schedule sets the learning rate of"
    ),
    "fit(progress='no')": R(lambda w: w.fit(progress="no"), TypeError, "fit: progress must be True or False, not 'no'"),
    "fit(staged=1)": R(
        lambda w: w.fit(staged=1), TypeError, "fit: staged must be True or False, or 'python' or 'c', not 1"
    ),
    "fit(staged='yes')": R(lambda w: w.fit(staged="yes"), TypeError, "fit: staged must be True or False"),
    "fit(callback=1)": R(lambda w: w.fit(callback=1), TypeError, "fit: callback must be a function or None, not 1"),
    "fit(rng=0)": R(lambda w: w.fit(rng=0), TypeError, "fit: rng must be a random.Random or None, not 0"),
    # --------------------------------------------------- predict, accuracy, diagnostics
    "predict(model=None)": R(lambda w: predict(None, w.X), TypeError, "predict: model must be a Module"),
    "predict(X=3)": R(lambda w: predict(w.model, 3), TypeError, "predict: X must be a list of samples"),
    "accuracy(lengths)": R(lambda w: accuracy([1.0, 2.0], [1]), ValueError, "accuracy: 2 scores but 1 labels"),
    "accuracy(scores=1.0)": R(lambda w: accuracy(1.0, [1]), TypeError, "accuracy: scores must be a list of scores"),
    "dead_relus(model=rnn)": R(
        lambda w: dead_relus(w.rnn, w.X), TypeError, "dead_relus: model must be an MLP or a Lay"
    ),
    "dead_relus(X=[])": R(lambda w: dead_relus(w.model, []), ValueError, "dead_relus: X must be a non-empty list"),
    "dead_relus(X of 3)": R(
        lambda w: dead_relus(w.model, [(1.0, 2.0, 3.0)]), ValueError, "X\\[0\\] has 3 numbers, the model takes 2 inputs"
    ),
    "saturation(threshold=-1)": R(
        lambda w: saturation(w.model, w.X, threshold=-1), ValueError, "saturation: threshold must be a positive finite"
    ),
    "saturation(X nan)": R(lambda w: saturation(w.model, [(NAN, 0.0)]), ValueError, "X\\[0\\]\\[0\\] must be a finite"),
    "layer_outputs(model=3)": R(lambda w: layer_outputs(3, w.X), TypeError, "layer_outputs: model must be an MLP"),
    "gradient_stats(lr=0)": R(lambda w: gradient_stats(w.model, lr=0), ValueError, "gradient_stats: lr must be a pos"),
    "gradient_stats(model=None)": R(lambda w: gradient_stats(None), TypeError, "gradient_stats: model must be an MLP"),
    "GradientMonitor(lr='1')": R(lambda w: GradientMonitor(w.model, lr="1"), TypeError, "GradientMonitor: lr must be"),
    "GradientMonitor(model=rnn)": R(lambda w: GradientMonitor(w.rnn), TypeError, "GradientMonitor: model must be an"),
    "diagnose(y shorter)": R(
        lambda w: diagnose(w.model, w.X, w.y[:3], losses.hinge), ValueError, "diagnose: 12 inputs but 3 labels"
    ),
    "diagnose(0/1 labels, hinge)": R(
        lambda w: diagnose(w.model, w.X, w.labels, losses.hinge),
        ValueError,
        "diagnose: labels must be -1 or \\+1, not 0",
    ),
    "diagnose(loss=None)": R(
        lambda w: diagnose(w.model, w.X, w.y, None), TypeError, "diagnose: loss must be a function"
    ),
    "diagnose(a loss that fails)": R(
        lambda w: diagnose(w.model, w.X, w.y, lambda s, y: 1 / 0), ZeroDivisionError, "division by zero"
    ),
    "diagnose(a loss that is not a Value)": R(
        lambda w: diagnose(w.model, w.X, w.y, lambda s, y: 1.0), TypeError, "diagnose: loss must return a Value"
    ),
    "diagnose(saturation_threshold=nan)": R(
        lambda w: diagnose(w.model, w.X, w.y, losses.hinge, saturation_threshold=NAN),
        ValueError,
        "diagnose: saturation_threshold must be a positive",
    ),
    # ---------------------------------------------------------- the command line
    "--lr 0": R(cli("--lr", "0"), SystemExit, "argument --lr: must be a positive number, not '0'"),
    "--lr -1": R(cli("--lr", "-1"), SystemExit, "argument --lr: must be a positive number, not '-1'"),
    "--lr nan": R(cli("--lr", "nan"), SystemExit, "argument --lr: must be a finite number, not 'nan'"),
    "--lr inf": R(cli("--lr", "inf"), SystemExit, "argument --lr: must be a finite number, not 'inf'"),
    "--lr x": R(cli("--lr", "x"), SystemExit, "argument --lr: must be a number, not 'x'"),
    "--steps 0": R(cli("--steps", "0"), SystemExit, "argument --steps: must be at least 1, not '0'"),
    "--steps 2.5": R(cli("--steps", "2.5"), SystemExit, "argument --steps: must be a whole number, not '2.5'"),
    "--samples 1": R(cli("--samples", "1"), SystemExit, "argument --samples: moons needs at least 2, not 1"),
    "--samples 0": R(cli("--samples", "0"), SystemExit, "argument --samples: must be at least 1, not '0'"),
    "--samples 3 (xor)": R(
        cli("--dataset", "xor", "--samples", "3"), SystemExit, "argument --samples: xor needs at least 4, not 3"
    ),
    "--samples 2 (blobs)": R(
        cli("--dataset", "blobs", "--samples", "2"), SystemExit, "argument --samples: blobs needs at least 3, not 2"
    ),
    "--noise nan": R(cli("--noise", "nan"), SystemExit, "argument --noise: must be a finite number, not 'nan'"),
    "--noise -0.1": R(cli("--noise", "-0.1"), SystemExit, "argument --noise: must be a number >= 0, not '-0.1'"),
    "--l2 -1": R(cli("--l2", "-1"), SystemExit, "argument --l2: must be a number >= 0, not '-1'"),
    "--l2 inf": R(cli("--l2", "inf"), SystemExit, "argument --l2: must be a finite number"),
    "--hidden a,b": R(cli("--hidden", "a,b"), SystemExit, "argument --hidden: hidden sizes must be whole numbers"),
    "--hidden 0": R(cli("--hidden", "16,0"), SystemExit, "argument --hidden: hidden sizes must be positive"),
    "--hidden ''": R(cli("--hidden", ","), SystemExit, "argument --hidden: hidden sizes must be positive"),
    "--dataset iris": R(cli("--dataset", "iris"), SystemExit, "argument --dataset: invalid choice: 'iris'"),
    "--activation swish": R(cli("--activation", "swish"), SystemExit, "argument --activation: invalid choice"),
    "--activation linear": R(cli("--activation", "linear"), SystemExit, "argument --activation: invalid choice"),
    "--init zeros": R(cli("--init", "zeros"), SystemExit, "argument --init: invalid choice: 'zeros'"),
    "--optimizer rmsprop": R(cli("--optimizer", "rmsprop"), SystemExit, "argument --optimizer: invalid choice"),
    "--seed x": R(cli("--seed", "x"), SystemExit, "argument --seed: invalid int value: 'x'"),
    "--out a file": R(cli("--out", "{folder}/model.json"), SystemExit, "argument --out: '.*model.json' is a file, not"),
    "--out under a file": R(
        cli("--out", "{folder}/model.json/out"), SystemExit, "argument --out: cannot make .* is a file, not a folder"
    ),
    "--out ''": R(cli("--out", ""), SystemExit, "argument --out: must name a folder, not ''"),
    "--no-progress=1": R(cli("--no-progress=1"), SystemExit, "argument --no-progress: ignored explicit argument '1'"),
    "--staged=yes": R(cli("--staged=yes"), SystemExit, "argument --staged: invalid choice: 'yes'"),
    "--bogus": R(cli("--bogus"), SystemExit, "unrecognized arguments: --bogus"),
    "no command": R(lambda w: main([]), SystemExit, "the following arguments are required: COMMAND"),
    "--version=2": R(lambda w: main(["--version=2"]), SystemExit, "argument --version: ignored explicit argument '2'"),
}


@pytest.mark.parametrize("case", list(ROWS))
def test_bad_input_is_a_clear_error_and_changes_nothing(case, tmp_path, capsys):
    row = ROWS[case]
    world = World(tmp_path)
    capsys.readouterr()
    before = world.snapshot()
    with pytest.raises(row.error) as info:
        row.call(world)
    if row.error is SystemExit:
        assert info.value.code == 2
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert "Traceback" not in err and lines[-1].startswith("circuitgrad"), err
        assert re.search(row.message, lines[-1]), lines[-1]
    else:
        info.match(row.message)
    if case == "save(nan parameter)":
        world.rnn.parameters()[0].data = before[0][len(world.model.parameters())][0]  # the row's own setup
    assert world.snapshot() == before
