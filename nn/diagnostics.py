"""Diagnostics for the leaky abstraction: dead ReLUs, saturated units, gradient statistics.

Backprop leaks in a few well-known ways ("Yes you should understand backprop"):
a sigmoid or tanh whose local gradient z(1 - z) or 1 - z**2 is nearly 0 passes
almost nothing back; a ReLU that is off for every input never learns again; a
gradient multiplied by the same weight at every step of an RNN explodes or
vanishes. Each function here measures one of them on a model and some data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine import Value, no_grad

from . import checks as check
from .extras import require
from .losses import TARGETS
from .module import MLP, Layer, Module

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _layers(model: Module, where: str) -> list[Layer]:
    if isinstance(model, MLP):
        return model.layers
    if isinstance(model, Layer):
        return [model]
    raise TypeError(f"{where}: model must be an MLP or a Layer, not {check.shown(model)}")


def _inputs(model: Module, X: object, where: str) -> tuple[list[Layer], list]:
    """The model's layers and X as a list of rows, each as long as the model's input, or a clear error."""
    layers = _layers(model, where)
    return layers, check.samples(X, "X", where, nin=layers[0].nin)


def _units(model: Module, X: object, where: str) -> tuple[list[Layer], list[list[list[float]]]]:
    """The layers, and every neuron's input to its activation on every sample: pre[layer][neuron][sample]."""
    layers, X = _inputs(model, X, where)
    pre: list[list[list[float]]] = [[[] for _ in layer.neurons] for layer in layers]
    with no_grad():
        for x in X:
            acts: list = list(x)
            for i, layer in enumerate(layers):
                nexts = []
                for j, neuron in enumerate(layer.neurons):
                    z = Value.dot(neuron.w, acts, bias=neuron.b).data
                    pre[i][j].append(z)
                    op = neuron.activation_op
                    nexts.append(z if op is None else op.evaluate(z)[0])
                acts = nexts
    return layers, pre


def layer_outputs(model: Module, X: Sequence[Sequence[float]]) -> list[list[list[float]]]:
    """outputs[layer][neuron][sample]: every neuron's output on every input (no graph kept)."""
    layers, pre = _units(model, X, "layer_outputs")
    return [
        [
            zs if n.activation_op is None else [n.activation_op.evaluate(z)[0] for z in zs]
            for n, zs in zip(layer.neurons, p)
        ]
        for layer, p in zip(layers, pre)
    ]


def _locals(neuron: object, zs: list[float]) -> list[float] | None:
    """The activation's local gradient at each input (the op's own rule), or None for a linear unit."""
    op = neuron.activation_op  # type: ignore[attr-defined]
    return None if op is None else [op.evaluate(z)[1][0] for z in zs]


def dead_relus(model: Module, X: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """(layer index, neuron index) of every unit whose activation passes no gradient on any input in X.

    A ReLU that is off (input <= 0) for every sample: its local gradient is 0
    everywhere on the data, so no gradient ever reaches its weights: it is dead
    for good unless the inputs change. (The op's own derivative rule decides, so a
    leaky ReLU, whose local gradient is its slope, is never dead.)
    """
    layers, pre = _units(model, X, "dead_relus")
    dead = []
    for i, layer in enumerate(layers):
        for j, neuron in enumerate(layer.neurons):
            local = _locals(neuron, pre[i][j])
            if local is not None and all(g == 0.0 for g in local):
                dead.append((i, j))
    return dead


def saturation(model: Module, X: Sequence[Sequence[float]], threshold: float = 0.01) -> list[float]:
    """For each layer, the fraction of (unit, input) pairs whose local gradient is below `threshold`.

    Only units whose activation saturates (sigmoid, tanh: `op.saturates` in the op
    table) count; sigmoid's local gradient is at most 0.25, tanh's at most 1. Layers
    of other units report 0.0.
    """
    threshold = check.positive(threshold, "threshold", "saturation")
    layers, pre = _units(model, X, "saturation")
    fractions = []
    for i, layer in enumerate(layers):
        pairs = saturated = 0
        for j, neuron in enumerate(layer.neurons):
            op = neuron.activation_op
            if op is None or not op.saturates:
                continue
            for local in _locals(neuron, pre[i][j]) or []:
                pairs += 1
                saturated += abs(local) < threshold
        fractions.append(saturated / pairs if pairs else 0.0)
    return fractions


@dataclass
class LayerGradients:
    """Gradient statistics of one layer's parameters after a backward pass."""

    layer: int
    norm: float
    mean_abs: float
    weight_norm: float
    update_ratio: float | None  # |lr * grad| / |weights|: about 1e-3 is healthy

    def __str__(self) -> str:
        ratio = "" if self.update_ratio is None else f", update/weight {self.update_ratio:.2e}"
        return f"layer {self.layer}: grad norm {self.norm:.3e}, mean |grad| {self.mean_abs:.3e}{ratio}"


def gradient_stats(model: Module, lr: float | None = None) -> list[LayerGradients]:
    """Per layer: the gradient's L2 norm, its mean absolute value, and (given lr) lr*|g| / |w|."""
    layers = _layers(model, "gradient_stats")
    if lr is not None:
        lr = check.positive(lr, "lr", "gradient_stats")
    stats = []
    for i, layer in enumerate(layers):
        params = layer.parameters()
        norm = math.sqrt(sum(p.grad * p.grad for p in params))
        weight_norm = math.sqrt(sum(p.data * p.data for p in params))
        ratio = None if lr is None else (lr * norm / weight_norm if weight_norm else math.inf)
        stats.append(LayerGradients(i, norm, sum(abs(p.grad) for p in params) / len(params), weight_norm, ratio))
    return stats


class GradientMonitor:
    """Records `gradient_stats` at every step of `fit`: pass it as ``callback=``.

    ``monitor.norms[layer]`` is the list of gradient norms, one per step.
    """

    def __init__(self, model: Module, lr: float | None = None):
        _layers(model, "GradientMonitor")
        self.model = model
        self.lr = None if lr is None else check.positive(lr, "lr", "GradientMonitor")
        self.steps: list[list[LayerGradients]] = []

    def __call__(self, step: int, loss: Value) -> None:
        self.steps.append(gradient_stats(self.model, self.lr))

    @property
    def norms(self) -> list[list[float]]:
        return [[s[i].norm for s in self.steps] for i in range(len(self.steps[0]))] if self.steps else []

    def plot(self, ax: Axes | None = None) -> Axes:
        """Gradient norm per layer over the steps (log scale)."""
        plt = require("matplotlib.pyplot", "plots need matplotlib")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        for i, norms in enumerate(self.norms):
            ax.plot(norms, label=f"layer {i}")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("gradient norm")
        ax.legend()
        return ax


@dataclass(repr=False)
class Report:
    """What `diagnose` found. Shows as a summary in the REPL; renders as a table in Jupyter."""

    loss: float
    dead: list[tuple[int, int]]
    layer_sizes: list[int]
    activations: list[str]
    saturation: list[float]
    gradients: list[LayerGradients]
    non_finite: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        found = []
        if self.non_finite:
            found.append(f"nan or inf gradients in {', '.join(self.non_finite)}")
        for i, size in enumerate(self.layer_sizes):
            dead = sum(1 for layer, _ in self.dead if layer == i)
            if dead:
                found.append(f"layer {i}: {dead} of {size} ReLUs dead on this data")
            if self.saturation[i] > 0.1:
                found.append(f"layer {i}: {self.saturation[i]:.0%} of {self.activations[i]} units saturated")
        norms = [g.norm for g in self.gradients]
        if len(norms) > 1 and min(norms) > 0 and max(norms) / min(norms) > 1e3:
            found.append(f"gradient norms differ by {max(norms) / min(norms):.1e} across layers (vanishing?)")
        if any(g.norm == 0 for g in self.gradients):
            found.append("a layer receives no gradient at all")
        return found

    def rows(self) -> list[tuple]:
        dead = {i: sum(1 for layer, _ in self.dead if layer == i) for i in range(len(self.layer_sizes))}
        return [
            (i, self.activations[i], self.layer_sizes[i], dead[i], self.saturation[i], g.norm, g.mean_abs)
            for i, g in enumerate(self.gradients)
        ]

    def __str__(self) -> str:
        lines = [f"loss {self.loss:.6g}", "layer  activation  units  dead  saturated  grad norm  mean |grad|"]
        for i, act, size, dead, sat, norm, mean in self.rows():
            lines.append(f"{i:>5}  {act:>10}  {size:>5}  {dead:>4}  {sat:>9.0%}  {norm:>9.3e}  {mean:>11.3e}")
        warnings = self.warnings()
        lines += [f"warning: {w}" for w in warnings] or ["no leaks found"]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        head = "".join(
            f"<th>{h}</th>" for h in ("layer", "activation", "units", "dead", "saturated", "grad norm", "mean |grad|")
        )
        body = "".join(
            f"<tr><td>{i}</td><td>{act}</td><td>{size}</td><td>{dead}</td><td>{sat:.0%}</td>"
            f"<td>{norm:.3e}</td><td>{mean:.3e}</td></tr>"
            for i, act, size, dead, sat, norm, mean in self.rows()
        )
        warnings = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings()) or "<li>no leaks found</li>"
        return f"<p>loss {self.loss:.6g}</p><table><tr>{head}</tr>{body}</table><ul>{warnings}</ul>"


def diagnose(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence,
    loss: Callable[[list, Sequence], Value],
    saturation_threshold: float = 0.01,
) -> Report:
    """Run the model and the loss on (X, y) once, backward, and report every leak found.

    The parameters' gradients are left as this pass made them (zeroed first).
    Every argument is checked first; if the model or the loss fails on the
    data, no gradient has changed.
    """
    layers, X = _inputs(model, X, "diagnose")
    labels = check.sequence(y, "y", "diagnose", what="a list of labels, one per sample", empty=True)
    if len(labels) != len(X):
        raise ValueError(f"diagnose: {len(X)} inputs but {len(labels)} labels")
    check.function(loss, "loss", "diagnose")
    checker = TARGETS.get(loss) if type(loss).__hash__ is not None else None
    if checker is not None:
        checker(labels, "diagnose", "y", classes=len(layers[-1].neurons))
    saturation_threshold = check.positive(saturation_threshold, "saturation_threshold", "diagnose")
    total = loss([model(x) for x in X], labels)
    if not isinstance(total, Value):
        raise TypeError(f"diagnose: loss must return a Value, not {check.shown(total)}")
    model.zero_grad()
    total.backward()
    non_finite = [name for name, p in model.named_parameters() if not math.isfinite(p.grad)]
    return Report(
        loss=total.data,
        dead=dead_relus(model, X),
        layer_sizes=[len(layer.neurons) for layer in layers],
        activations=[layer.neurons[0].activation for layer in layers],
        saturation=saturation(model, X, saturation_threshold),
        gradients=gradient_stats(model),
        non_finite=non_finite,
    )
