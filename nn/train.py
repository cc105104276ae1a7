"""Training: `fit` runs the loop with a progress bar; plots are drawn with matplotlib.

matplotlib and tqdm are imported only when used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from engine import Value, no_grad, stage

from .losses import l2
from .module import Module
from .optim import Optimizer


@dataclass
class History:
    """What `fit` saw: the loss and the training accuracy at every step, and the learning rate."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)


def accuracy(scores: Sequence, labels: Sequence[int]) -> float:
    """The fraction classified right.

    One score per sample (a Value or number): its sign against a label that is
    -1/+1 or 0/1. A list of class scores per sample: the argmax against the
    class index.
    """
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
    with no_grad():
        outputs = [model(x) for x in X]
    return [[v.data for v in out] if isinstance(out, list) else out.data for out in outputs]


def fit(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence,
    loss: Callable[[list, Sequence], Value],
    optimizer: Optimizer,
    steps: int = 100,
    l2_weight: float = 0.0,
    schedule=None,
    batch_size: int | None = None,
    progress: bool = True,
    callback: Callable[[int, Value], None] | None = None,
    rng=None,
    staged: bool = False,
) -> History:
    """Train `model` for `steps` full-batch (or minibatch) steps; return the History.

    Each step: scores = model(x) for every x, loss(scores, y) + l2_weight * sum(p**2),
    zero_grad, backward, `schedule.step()` if given, `optimizer.step()`. The
    progress bar (tqdm) shows the loss and the accuracy. `callback(k, loss)` runs
    after backward, before the update: a place to record gradients.

    ``staged=True`` builds the graph once and trains with its written-out code
    (`engine.stage`): the same numbers, many times faster. It needs full
    batches (the inputs are baked into the code) and a loss without Python
    branches on ``.data``; in `callback` the parameters' grads and the loss's
    data are current, the other nodes' are those of the first step.
    """
    import random

    if steps < 1:
        raise ValueError(f"steps must be at least 1, not {steps!r}")
    if len(X) != len(y) or not X:
        raise ValueError(f"fit: {len(X)} inputs but {len(y)} labels")
    params = model.parameters()
    history = History()
    bar = None
    if progress:
        from tqdm import tqdm  # a text bar: it reads the same in a terminal and a saved notebook

        bar = tqdm(total=steps, desc="training", unit="step")
    sampler = rng if rng is not None else random.Random(0)
    full_batch = batch_size is None or batch_size >= len(X)
    if staged and not full_batch:
        raise ValueError(f"fit: staged=True needs full batches (batch_size={batch_size!r} < {len(X)} samples)")
    run = None
    try:
        for k in range(steps):
            if full_batch:
                Xb, yb = X, y
            else:
                chosen = sampler.sample(range(len(X)), batch_size)
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
