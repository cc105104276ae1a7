"""Training: `fit` runs the loop with a progress bar; plots are drawn with matplotlib.

matplotlib and tqdm are imported only when used.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine import Value, no_grad, stage

from . import _checks as check
from .losses import TARGETS, l2
from .module import MLP, Module
from .optim import LinearDecay, Optimizer


@dataclass(repr=False)
class History:
    """What `fit` saw: the loss and the training accuracy at every step, and the learning rate.

    Shows as one line, ``History(100 steps, final loss 0.0021, final accuracy 100.0%)``;
    the lists are `loss`, `accuracy` and `lr`.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)

    def __repr__(self) -> str:
        steps = len(self.loss)
        if not steps:
            return "History(0 steps)"
        shown = [f"{steps} step{'' if steps == 1 else 's'}", f"final loss {self.loss[-1]:.4g}"]
        if self.accuracy:
            shown.append(f"final accuracy {self.accuracy[-1]:.1%}")
        return f"History({', '.join(shown)})"


def accuracy(scores: Sequence, labels: Sequence[float]) -> float:
    """The fraction classified right (0.0 for no samples).

    One score per sample (a Value or number): its sign against a label that is
    -1/+1 or 0/1. A list of class scores per sample: the argmax against the
    class index.
    """
    scores = check.sequence(scores, "scores", "accuracy", what="a list of scores", empty=True)
    labels = check.sequence(labels, "labels", "accuracy", what="a list of labels", empty=True)
    if len(scores) != len(labels):
        raise ValueError(f"accuracy: {len(scores)} scores but {len(labels)} labels")
    if not scores:
        return 0.0
    right = 0
    for s, label in zip(scores, labels):
        if isinstance(s, (list, tuple)):
            values = [float(v) for v in s]
            right += values.index(max(values)) == label
        else:
            right += (float(s) > 0) == (label > 0)
    return right / len(scores)


def predict(model: Module, X: Sequence[Sequence[float]]) -> list:
    """The model's outputs on X as plain numbers (a float, or a list of floats, per sample), no graph."""
    if not isinstance(model, Module):
        raise TypeError(f"predict: model must be a Module (an MLP, ...), not {check.shown(model)}")
    rows = check.sequence(X, "X", "predict", what="a list of samples (each a list of numbers)", empty=True)
    with no_grad():
        outputs = [model(x) for x in rows]
    return [[v.data for v in out] if isinstance(out, list) else out.data for out in outputs]


def _check_samples(model: Module, X: object, y: object, loss: Callable) -> tuple[list, list]:
    """X and y as lists, every sample and label checked, or a clear error naming the first bad one."""
    rows = check.samples(X, "X", "fit")
    labels = check.sequence(y, "y", "fit", what="a list of labels, one per sample", empty=True)
    if len(labels) != len(rows):
        raise ValueError(f"fit: {len(rows)} inputs but {len(labels)} labels")
    width = len(rows[0])
    if isinstance(model, MLP) and width != model.nin:
        raise ValueError(f"fit: the samples have {width} numbers each, but the model takes {model.nin} inputs")
    checker = TARGETS.get(loss) if type(loss).__hash__ is not None else None
    if checker is not None:  # one of nn.losses: its labels are known
        classes = model.nouts[-1] if isinstance(model, MLP) else None
        checker(labels, "fit", "y", classes=classes)
    return rows, labels


def fit(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence,
    loss: Callable[[list, Sequence], Value],
    optimizer: Optimizer,
    steps: int = 100,
    l2_weight: float = 0.0,
    schedule: Any = None,
    batch_size: int | None = None,
    progress: bool = True,
    callback: Callable[[int, Value], None] | None = None,
    rng: random.Random | None = None,
    staged: bool = False,
) -> History:
    """Train `model` for `steps` full-batch (or minibatch) steps; return the History.

    Each step: scores = model(x) for every x, loss(scores, y) + l2_weight * sum(p**2),
    zero_grad, backward, `schedule.step()` if given, `optimizer.step()`. The
    progress bar (tqdm) shows the loss and the accuracy. `callback(k, loss)` runs
    after backward, before the update: a place to record gradients.

    Every argument and every sample is checked before the first step, so a bad
    row anywhere in X (or a bad label, for the losses of `nn.losses`) raises
    without changing the model, the optimizer or the schedule. The optimizer's
    parameters must be the model's (make it from ``model.parameters()`` after
    any change to the model); `batch_size` >= len(X) means full batches.

    ``staged=True`` builds the graph once and trains with its written-out code
    (`engine.stage`): the same numbers, many times faster. It needs full
    batches (the inputs are baked into the code) and a loss without Python
    branches on ``.data``; in `callback` the parameters' grads and the loss's
    data are current, the other nodes' are those of the first step.
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be a Module (an MLP, ...), not {check.shown(model)}")
    check.function(loss, "loss", "fit")
    X, y = _check_samples(model, X, y, loss)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"fit: optimizer must be an optimizer (SGD, Adam), not {check.shown(optimizer)}")
    steps = check.count(steps, "steps", "fit")
    l2_weight = check.non_negative(l2_weight, "l2_weight", "fit")
    if schedule is not None and not callable(getattr(schedule, "step", None)):
        raise TypeError(
            f"fit: schedule must have a step() method (a LinearDecay) or be None, not {check.shown(schedule)}"
        )
    if isinstance(schedule, LinearDecay) and schedule.optimizer is not optimizer:
        raise ValueError("fit: schedule sets the learning rate of another optimizer, not of optimizer")
    if batch_size is not None:
        batch_size = check.count(batch_size, "batch_size", "fit")
    check.flag(progress, "progress", "fit")
    check.function(callback, "callback", "fit", optional=True)
    sampler = check.rng(rng, "fit") or random.Random(0)
    check.flag(staged, "staged", "fit")
    params = model.parameters()
    known = {id(p) for p in params}
    strangers = sum(id(p) not in known for p in optimizer.params)
    if strangers:
        raise ValueError(
            f"fit: the optimizer holds {strangers} Value(s) that are not parameters of the model "
            "(make the optimizer from model.parameters() after changing the model)"
        )
    size = len(X) if batch_size is None else min(batch_size, len(X))
    full_batch = size == len(X)
    if staged and not full_batch:
        raise ValueError(f"fit: staged=True needs full batches (batch_size={batch_size!r} < {len(X)} samples)")

    history = History()
    bar = None
    if progress:
        from tqdm import tqdm  # type: ignore[import-untyped]  # a text bar: reads the same in a terminal and a notebook

        bar = tqdm(total=steps, desc="training", unit="step")
    run = None
    try:
        for k in range(steps):
            if full_batch:
                Xb, yb = X, y
            else:
                chosen = sampler.sample(range(len(X)), size)
                Xb, yb = [X[i] for i in chosen], [y[i] for i in chosen]
            if run is None:
                scores = [model(x) for x in Xb]
                total = loss(scores, yb)
                if l2_weight:
                    total = total + l2_weight * l2(params)
                if staged:  # the graph is built once; every step re-runs its code
                    run = stage(total, watch=[v for out in scores for v in (out if isinstance(out, list) else [out])])
            optimizer.zero_grad()
            if run is not None:
                run()
            else:
                total.backward()
            if callback is not None:
                callback(k, total)
            if schedule is not None:
                schedule.step()
            history.lr.append(optimizer.lr)
            optimizer.step()
            history.loss.append(total.data)
            history.accuracy.append(accuracy(scores, yb))
            if bar is not None:
                bar.set_postfix(loss=f"{total.data:.4f}", accuracy=f"{history.accuracy[-1]:.0%}")
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return history


def _finish(fig, path) -> None:
    """Lay out a figure this module made, and write it to `path` (then close it) if given."""
    if fig is None:
        return
    fig.tight_layout()
    if path is not None:
        import matplotlib.pyplot as plt

        fig.savefig(path, dpi=100)
        plt.close(fig)


def plot_loss(history: History, path=None, ax=None):
    """The loss curve (log scale) with the accuracy on a second axis; saved to `path` if given."""
    import matplotlib.pyplot as plt

    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    steps = range(len(history.loss))
    ax.plot(steps, history.loss, color="tab:blue", label="loss")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss", color="tab:blue")
    other = ax.twinx()
    other.plot(steps, history.accuracy, color="tab:green", label="accuracy")
    other.set_ylabel("training accuracy", color="tab:green")
    other.set_ylim(0, 1.05)
    ax.set_title("training")
    _finish(fig, path)
    return ax


def plot_decision_boundary(model: Module, X, y, path=None, ax=None, resolution: int = 60):
    """The model's decision regions over 2-D data, with the points on top; saved to `path` if given."""
    import matplotlib.pyplot as plt

    xs, ys = [p[0] for p in X], [p[1] for p in X]
    pad = 0.5
    x_lo, x_hi, y_lo, y_hi = min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad
    grid_x = [x_lo + (x_hi - x_lo) * i / (resolution - 1) for i in range(resolution)]
    grid_y = [y_lo + (y_hi - y_lo) * j / (resolution - 1) for j in range(resolution)]
    outputs = predict(model, [(gx, gy) for gy in grid_y for gx in grid_x])
    if isinstance(outputs[0], list):
        region = [out.index(max(out)) for out in outputs]
    else:
        region = [1 if out > 0 else 0 for out in outputs]
    rows = [region[j * resolution : (j + 1) * resolution] for j in range(resolution)]
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 5))
    ax.contourf(grid_x, grid_y, rows, alpha=0.35, cmap="coolwarm" if max(region) <= 1 else "viridis")
    classes = [(1 if c > 0 else 0) if min(y) < 0 else c for c in y]
    ax.scatter(
        xs, ys, c=classes, s=18, edgecolors="k", linewidths=0.4, cmap="coolwarm" if max(classes) <= 1 else "viridis"
    )
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_title("decision boundary")
    _finish(fig, path)
    return ax
