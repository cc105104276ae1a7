"""Training: `fit` runs the loop with a progress bar; plots and animations are drawn with matplotlib.

matplotlib (the ``plots`` extra) and tqdm (``progress``) are imported only when used.
"""

from __future__ import annotations

import os
import random
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from engine import BoundBatch, Staged, StageError, Value, gc_paused, no_grad, stage

from . import checks as check
from .extras import require
from .losses import PICKS_BY_TARGET, TARGETS, l2
from .module import MLP, Module, RandomSource
from .optim import LinearDecay, Optimizer

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


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
    return _accuracy(scores, labels)


def _accuracy(scores: Sequence, labels: Sequence) -> float:
    """`accuracy` without its argument checks (fit checked its data before the first step)."""
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
    rng: RandomSource | None = None,
    staged: bool | str = False,
) -> History:
    """Train `model` for `steps` steps; return the History.

    Each step: scores = model(x) for every x of the batch, loss(scores, y) +
    l2_weight * sum(p**2), zero_grad, backward, `schedule.step()` if given,
    `optimizer.step()`. Without `batch_size` every step sees the whole data in
    order; with it, each epoch shuffles the data (with `rng`, default
    ``random.Random(0)``) and walks it in batches of `batch_size`, the last one
    shorter if it must be. The progress bar (tqdm) shows the loss and the accuracy.
    `callback(k, loss)` runs after backward, before the update.

    Every argument and every sample is checked before the first step, so a bad
    row anywhere in X (or a bad label, for the losses of `nn.losses`) raises
    without changing the model, the optimizer or the schedule. The optimizer's
    parameters must be the model's (make it from ``model.parameters()``).

    ``staged=True`` writes the forward and backward pass of one sample out as code
    once (`engine.stage`) and runs each batch through it: the same numbers, bit for
    bit, many times faster, for any batch size. It needs a loss that is the mean of
    one term per sample with no Python branch on ``.data`` (every loss of
    `nn.losses` is); the first batch is run both ways and compared, and a loss that
    does not stage exactly raises `engine.StageError` before any update. In
    `callback` the loss is then a leaf holding the batch's value. ``staged="c"``
    compiles that code to C first (`engine.compiled`: the same numbers again). With
    full batches the data is checked and packed once (`StagedFunction.bind`), so
    changes to X and y during training are not seen; and from the second step on,
    when nothing else can look at the Values (no callback, an optimizer whose
    zero_grad, step and update are the library's, a LinearDecay schedule or none, and
    every parameter the loss reaches in the optimizer), the parameters' numbers (and,
    compiled, the optimizer's state, in arrays) stay out of the Values between steps
    (`BoundBatch.value_and_grad`, `Optimizer.update`) and are written back to them
    (data and grad) when training ends, however it ends: the same numbers.

    Python's cyclic garbage collector is paused during training (`engine.gc_paused`):
    the graphs hold no reference cycles, and in a busy process its passes would
    take most of each step.
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
    if not (isinstance(staged, bool) or staged in ("python", "c")):
        raise TypeError(f"fit: staged must be True or False, or 'python' or 'c', not {check.shown(staged)}")
    params = model.parameters()
    known = {id(p) for p in params}
    strangers = sum(id(p) not in known for p in optimizer.params)
    if strangers:
        raise ValueError(
            f"fit: the optimizer holds {strangers} Value(s) that are not parameters of the model "
            "(make the optimizer from model.parameters() after changing the model)"
        )
    size = len(X) if batch_size is None else min(batch_size, len(X))
    batches = _batches(len(X), size, sampler)
    history = History()
    bar = None
    if progress:
        tqdm = require("tqdm", "the progress bar needs tqdm", "(or pass progress=False)").tqdm  # a text bar
        bar = tqdm(total=steps, desc="training", unit="step")
    run = _stage_one_sample(model, loss, X, y, l2_weight, params, staged) if staged else None
    held: _Held | None = None  # from the second step of staged full-batch training: numbers out of the Values
    try:
        with gc_paused():
            bound = None  # the whole data set, checked and packed once, when every batch is all of it
            for k in range(steps):
                chosen = next(batches)
                if bound is None:
                    Xb, yb = [X[i] for i in chosen], [y[i] for i in chosen]
                if held is not None:
                    held.zero_grad()
                    (value, aux), held.grads = held.bound.value_and_grad(held.staged_numbers())
                    scores = _scores(aux, held.classes)
                else:
                    optimizer.zero_grad()
                    if run is not None:
                        value, scores = _staged_step(run, model, loss, Xb, yb, l2_weight, params, k == 0, bound)
                        if size == len(X) and bound is None:
                            bound = run[0].bind(Xb, yb)
                        total = Value(value)
                    else:
                        scores = [model(x) for x in Xb]
                        total = loss(scores, yb)
                        if l2_weight:
                            total = total + l2_weight * l2(params)
                        total.backward()
                        value = total.data
                    if callback is not None:
                        callback(k, total)
                if schedule is not None:
                    schedule.step()
                history.lr.append(optimizer.lr)
                if held is not None:
                    held.numbers = optimizer.update(held.numbers, held.optimizer_grads())
                else:
                    optimizer.step()
                history.loss.append(value)
                history.accuracy.append(_accuracy(scores, yb))
                if bar is not None:
                    bar.set_postfix(loss=f"{value:.4f}", accuracy=f"{history.accuracy[-1]:.0%}")
                    bar.update()
                if bound is not None and run is not None and k == 0:
                    held = _Held.if_possible(bound, run[1], optimizer, schedule, callback)
    finally:
        if held is not None:
            held.write_back()
        if bar is not None:
            bar.close()
    return history


class _Held:
    """The parameters' numbers and gradients held outside the Values between the steps of staged
    full-batch training, so that a step touches no Value: `BoundBatch.value_and_grad`, then
    `Optimizer.update` (with compiled code, on arrays and compiled too), the same numbers as
    zero_grad, backward and step() on the Values, bit for bit. They are written back to the Values
    (data and grad) when the training ends, however it ends.

    Used when nothing else looks at the Values during training: no callback, an optimizer whose
    step(), update() and zero_grad() are Optimizer's (its formulas, in `rule`), on its class and
    on the object, and a LinearDecay schedule (or none), which only sets the learning rate.
    """

    def __init__(self, bound: BoundBatch, classes: bool, optimizer: Optimizer, order: list[int] | None):
        self.bound, self.classes, self.optimizer, self.order = bound, classes, optimizer, order
        numbers = [p.data for p in optimizer.params]  # in the optimizer's order
        self.numbers: Sequence[float] = array("d", numbers) if bound.staged.backend == "c" else numbers
        self.grads: Sequence[float] = [p.grad for p in bound.staged.parameters]  # in the staged code's order
        self.zeros = array("d", bytes(8 * len(bound.staged.parameters)))

    @classmethod
    def if_possible(
        cls, bound: BoundBatch, classes: bool, optimizer: Optimizer, schedule: Any, callback: Any
    ) -> _Held | None:
        """Held numbers for this training, or None where something else may look at the Values."""
        staged = bound.staged
        if callback is not None or not _own(optimizer, Optimizer, ("step", "update", "_update", "zero_grad")):
            return None
        if schedule is not None and not (type(schedule) is LinearDecay and _own(schedule, LinearDecay, ("step",))):
            return None
        where = {id(p): i for i, p in enumerate(optimizer.params)}
        if not all(id(p) in where for p in staged.parameters):
            return None  # a parameter the optimizer does not update would gather gradients step after step
        order = [where[id(p)] for p in staged.parameters]
        return cls(bound, classes, optimizer, None if order == list(range(len(optimizer.params))) else order)

    def zero_grad(self) -> None:
        """What optimizer.zero_grad() does to the Values: if the step stops now, they show zeros."""
        self.grads = self.zeros

    def staged_numbers(self) -> Sequence[float]:
        return self.numbers if self.order is None else [self.numbers[i] for i in self.order]

    def optimizer_grads(self) -> Sequence[float]:
        if self.order is None:
            return self.grads
        grads = [0.0] * len(self.numbers)  # zero_grad's 0.0 for a parameter the loss does not reach
        for g, i in zip(self.grads, self.order):
            grads[i] = g
        return grads

    def write_back(self) -> None:
        optimizer = self.optimizer
        for p, x, g in zip(optimizer.params, self.numbers, self.optimizer_grads()):
            p.data, p.grad = x, g
        for name in optimizer.state_names:  # the compiled update keeps the state in arrays
            state = getattr(optimizer, name)
            if isinstance(state, array):
                setattr(optimizer, name, state.tolist())


def _own(thing: object, base: type, methods: tuple[str, ...]) -> bool:
    """Whether these methods of `thing` are `base`'s own: not overridden by its class nor set on it."""
    return all(getattr(type(thing), m) is getattr(base, m) and m not in vars(thing) for m in methods)


def _batches(n: int, size: int, rng: RandomSource) -> Iterator[list[int]]:
    """The indices of each step's batch: all of them in order, or shuffled epochs of `size` (the last shorter)."""
    while True:
        if size == n:
            yield list(range(n))
            continue
        order = list(range(n))
        rng.shuffle(order)
        for start in range(0, n, size):
            yield order[start : start + size]


def _stage_one_sample(
    model: Module, loss: Callable, X: Sequence, y: Sequence, l2_weight: float, params: list, staged: bool | str
) -> tuple[Staged, bool]:
    """The forward and backward pass of one sample, written out once; the label is an input, or static
    when it picks an entry (cross_entropy's class index: one trace per class)."""
    shape: dict[str, bool] = {}

    def one_sample(x: Sequence[Value], label: Any) -> tuple[Value, list[Value]]:
        score = model(x)
        shape["classes"] = isinstance(score, list)  # a list of class scores, or one score
        return loss([score], [label]), (score if isinstance(score, list) else [score])

    static = (1,) if loss in PICKS_BY_TARGET else ()
    plus = l2_weight * l2(params) if l2_weight else None
    backend = "c" if staged == "c" else "python"
    run = stage(one_sample, X[0], y[0], static=static, has_aux=True, plus=plus, backend=backend)
    return run, shape["classes"]


def _staged_step(
    staged: tuple[Staged, bool],
    model: Module,
    loss: Callable,
    Xb: list,
    yb: list,
    l2_weight: float,
    params: list[Value],
    first: bool,
    bound: BoundBatch | None = None,
) -> tuple[float, list]:
    """One batch through the staged code (already bound, or Xb and yb); the first one is also run as a graph
    and compared, bit for bit."""
    run, classes = staged
    expected = None
    if first:
        known = set(params)
        leaves = [*params, *(p for p in run.parameters if p not in known)]  # and Values the loss reads
        saved = [p.grad for p in leaves]
        scores = [model(x) for x in Xb]
        total = loss(scores, yb)
        if l2_weight:
            total = total + l2_weight * l2(params)
        total.backward()
        expected = (total.data, [p.grad for p in params])
        for p, grad in zip(leaves, saved):
            p.grad = grad  # the staged code adds the same gradients again
    value, aux = run.mean(Xb, yb) if bound is None else bound.mean()
    if expected is not None:
        grads = [p.grad for p in params]
        if not (_same(value, expected[0]) and all(map(_same, grads, expected[1]))):
            raise StageError(
                "fit(staged=True): on the first batch the staged step differs from the graph: the loss must be "
                "the mean of one term per sample (as nn.losses are) with no Python branch on .data; "
                "train with staged=False"
            )
    return value, _scores(aux, classes)


def _scores(aux: list, classes: bool) -> list:
    """Each sample's score (or list of class scores) from the staged code's aux values."""
    return [values if classes else values[0] for values in aux]


def _same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


# Plots. matplotlib brings numpy, so the drawing code below uses both; neither is
# imported before a plot is asked for.

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def _pyplot() -> ModuleType:
    return require("matplotlib.pyplot", "plots need matplotlib")


def _finish(fig: Figure | None, path: str | os.PathLike | None) -> None:
    """Lay out a figure this module made, and write it to `path` (then close it) if given."""
    if fig is None:
        return
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100, bbox_inches="tight")
        _pyplot().close(fig)


def _percent(fraction: float) -> str:
    """0.95 -> '95%', 0.955 -> '95.5%'."""
    return f"{fraction:.0%}" if round(fraction * 100, 6).is_integer() else f"{fraction:.1%}"


def plot_loss(history: History, path: str | os.PathLike | None = None, ax: Axes | None = None) -> Axes:
    """The loss per step (log scale) and the training accuracy on a second axis; saved to `path` if given."""
    plt = _pyplot()
    if not history.loss:
        raise ValueError("plot_loss: the history is empty (fit records one loss per step)")
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4))
    steps = range(len(history.loss))
    (loss_line,) = ax.plot(steps, history.loss, color="tab:blue", label="loss")
    ax.set_yscale("log" if min(history.loss) > 0 else "linear")
    ax.set_xlabel("step")
    ax.set_ylabel("loss", color="tab:blue")
    ax.grid(True, which="major", alpha=0.3)
    lines = [loss_line]
    if history.accuracy:
        other = ax.twinx()
        (accuracy_line,) = other.plot(
            range(len(history.accuracy)), history.accuracy, color="tab:green", label="training accuracy"
        )
        other.set_ylabel("training accuracy", color="tab:green")
        other.set_ylim(0, 1.05)
        other.yaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
        lines.append(accuracy_line)
    ax.legend(handles=lines, loc="center right")
    summary = f"final loss {history.loss[-1]:.4g}"
    if history.accuracy:
        summary += f", training accuracy {_percent(history.accuracy[-1])}"
    ax.set_title(f"training: {len(history.loss)} steps, {summary}")
    _finish(fig, path)
    return ax


def _classes(y: Sequence) -> tuple[list[int], list[str]]:
    """Each label's class index (labels -1/+1 become 0/1) and the name of every class index."""
    if min(y) < 0:
        return [1 if label > 0 else 0 for label in y], ["-1", "+1"]
    index = [int(label) for label in y]
    return index, [str(c) for c in range(max(index) + 1)]


def _interpolation(n: int, m: int) -> Any:
    """The (m, n) matrix that resamples n evenly spaced values to m, linearly."""
    import numpy as np

    t = np.linspace(0, n - 1, m)
    low = np.clip(np.floor(t).astype(int), 0, n - 2)
    weight = t - low
    matrix = np.zeros((m, n))
    matrix[np.arange(m), low] = 1 - weight
    matrix[np.arange(m), low + 1] += weight
    return matrix


@dataclass
class _Field:
    """The model's class scores over a grid: `scores[c][row][column]`, one row per y."""

    xs: Any
    ys: Any
    scores: Any

    @classmethod
    def of(cls, model: Module, bounds: tuple[float, float, float, float], resolution: int, smooth: int) -> _Field:
        """Evaluate the model on resolution x resolution points, then resample the scores `smooth` times finer.

        The scores are continuous, so resampling them linearly and taking the winning class
        gives a smooth boundary at a fraction of the cost of evaluating every pixel.
        """
        import numpy as np

        x_lo, x_hi, y_lo, y_hi = bounds
        xs, ys = np.linspace(x_lo, x_hi, resolution), np.linspace(y_lo, y_hi, resolution)
        outputs = predict(model, [(float(gx), float(gy)) for gy in ys for gx in xs])
        rows = [out if isinstance(out, list) else [out] for out in outputs]
        scores = np.array(rows, dtype=float).T.reshape(len(rows[0]), resolution, resolution)
        fine = resolution * smooth
        matrix = _interpolation(resolution, fine)
        scores = np.stack([matrix @ grid @ matrix.T for grid in scores])
        return cls(np.linspace(x_lo, x_hi, fine), np.linspace(y_lo, y_hi, fine), scores)

    def regions(self) -> Any:
        """The winning class at every grid point: argmax of the scores, or score > 0 for one score."""
        if len(self.scores) == 1:
            return (self.scores[0] > 0).astype(int)
        return self.scores.argmax(axis=0)

    def margins(self) -> list[Any]:
        """Per class, its score minus the best other score: its region is where this is > 0."""
        if len(self.scores) == 1:
            return [self.scores[0]]
        margins = []
        for c in range(len(self.scores)):
            others = self.scores[[k for k in range(len(self.scores)) if k != c]].max(axis=0)
            margins.append(self.scores[c] - others)
        return margins


def _bounds(X: Sequence[Sequence[float]], pad: float = 0.5) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in X], [p[1] for p in X]
    return min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad


def _figure_size(bounds: tuple[float, float, float, float], width: float) -> tuple[float, float]:
    """A figure `width` inches wide whose axes keep the data's aspect, with room for the title and labels."""
    aspect = (bounds[3] - bounds[2]) / (bounds[1] - bounds[0])
    return width, min(max((width - 1.9) * aspect + 1.1, 3.0), 7.0)


def _colours(n: int) -> list[Any]:
    """One colour per class: matplotlib's ten defaults, or hues around the circle for more classes."""
    if n <= len(PALETTE):
        return list(PALETTE[:n])
    cmap = _pyplot().get_cmap("hsv")
    return [cmap(i / n) for i in range(n)]


def _draw_field(ax: Axes, field: _Field, n_classes: int) -> None:
    """Class regions in light discrete colours (one colour per class, no in-between bands) and the boundary lines."""
    import numpy as np
    from matplotlib.colors import BoundaryNorm, ListedColormap, to_rgb

    light = [tuple(0.3 * c + 0.7 for c in to_rgb(colour)) for colour in _colours(n_classes)]
    ax.pcolormesh(
        field.xs,
        field.ys,
        field.regions(),
        cmap=ListedColormap(light),
        norm=BoundaryNorm(np.arange(n_classes + 1) - 0.5, n_classes),
        shading="nearest",
        rasterized=True,
    )
    for margin in field.margins():
        if margin.min() < 0 < margin.max():
            ax.contour(field.xs, field.ys, margin, levels=[0.0], colors="0.2", linewidths=1.0)


def _draw_points(ax: Axes, X: Sequence[Sequence[float]], index: list[int], names: list[str], n_classes: int) -> None:
    colours = _colours(n_classes)
    for c in sorted(set(index)):
        points = [p for p, k in zip(X, index) if k == c]
        ax.scatter(
            [p[0] for p in points],
            [p[1] for p in points],
            color=colours[c],
            s=22,
            edgecolors="k",
            linewidths=0.5,
            label=f"class {names[c]}",
            zorder=3,
        )


def _n_classes(field: _Field, index: list[int]) -> int:
    return max(2, len(field.scores), max(index) + 1)


def _style(ax: Axes, bounds: tuple[float, float, float, float]) -> None:
    ax.set_xlim(bounds[0], bounds[1])
    ax.set_ylim(bounds[2], bounds[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")


def _legend(ax: Axes) -> None:
    """The classes, beside the axes: nothing to hide, and no search for a free corner over the regions."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize="small", frameon=False)


def plot_decision_boundary(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence,
    path: str | os.PathLike | None = None,
    ax: Axes | None = None,
    resolution: int = 100,
    dataset: str | None = None,
    title: str | None = None,
) -> Axes:
    """The model's decision regions over 2-D data, the points on top; saved to `path` if given.

    One score per point (labels -1/+1 or 0/1) is split at 0; a list of class scores
    by its argmax. The model is evaluated on a `resolution` x `resolution` grid and
    the scores resampled four times finer, so the boundary is smooth. Each class has
    one colour, in the regions and the legend. The title names the `dataset` (if
    given) and the model's accuracy on these points; `title=` replaces it.
    """
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, not {resolution!r}")
    if len(X) != len(y) or not X:
        raise ValueError(f"plot_decision_boundary: {len(X)} points but {len(y)} labels")
    plt = _pyplot()
    bounds = _bounds(X)
    field = _Field.of(model, bounds, resolution, smooth=4)
    index, names = _classes(y)
    n_classes = _n_classes(field, index)
    names += [str(c) for c in range(len(names), n_classes)]
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=_figure_size(bounds, 6.5))
    _draw_field(ax, field, n_classes)
    _draw_points(ax, X, index, names, n_classes)
    _style(ax, bounds)
    _legend(ax)
    if title is None:
        title = "decision boundary" + (f" on {dataset}" if dataset else "")
        title += f": accuracy {_percent(accuracy(predict(model, X), y))}"
    ax.set_title(title)
    _finish(fig, path)
    return ax


@dataclass
class _Frame:
    step: int
    loss: float | None
    accuracy: float
    field: _Field


class BoundaryRecorder:
    """A `fit` callback that records the decision regions as the model trains; `save` writes a GIF.

        recorder = BoundaryRecorder(model, X, y, every=5)
        fit(model, X, y, loss, optimizer, steps=100, callback=recorder)
        recorder.save("training.gif")

    `fit` calls it after each backward pass, before the update, so the frame of step k
    shows the model after k updates, with the loss and the accuracy it had then.
    `save` adds a last frame for the trained model. Frames use a coarser grid than
    `plot_decision_boundary` (`resolution`, 40 by default): each costs resolution² forward passes.
    """

    def __init__(
        self,
        model: Module,
        X: Sequence[Sequence[float]],
        y: Sequence,
        every: int = 5,
        resolution: int = 40,
        dataset: str | None = None,
    ) -> None:
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a whole number of steps >= 1, not {every!r}")
        if not isinstance(resolution, int) or resolution < 2:
            raise ValueError(f"resolution must be a whole number >= 2, not {resolution!r}")
        if len(X) != len(y) or not X:
            raise ValueError(f"BoundaryRecorder: {len(X)} points but {len(y)} labels")
        _pyplot()  # before any training: the frames are drawn with matplotlib (and numpy, which it brings)
        self.model, self.X, self.y = model, X, y
        self.every, self.resolution, self.dataset = every, resolution, dataset
        self.frames: list[_Frame] = []
        self._bounds = _bounds(X)
        self._updates = 0

    def __call__(self, step: int, loss: Value) -> None:
        self._updates = step + 1  # fit updates the model after this call
        if step % self.every == 0:
            self.record(step, loss.data)

    def record(self, step: int, loss: float | None = None) -> None:
        """Add a frame of the model as it is now, labelled with `step` (and `loss`, if known)."""
        field = _Field.of(self.model, self._bounds, self.resolution, smooth=4)
        self.frames.append(_Frame(step, loss, accuracy(predict(self.model, self.X), self.y), field))

    def _finish(self) -> tuple[list[int], list[str], int]:
        """Add a frame of the trained model if it moved on since the last one; the classes to draw."""
        if not self.frames:
            raise ValueError("no frames recorded: pass the recorder to fit(..., callback=recorder) first")
        if self.frames[-1].step != self._updates:
            self.record(self._updates)
        index, names = _classes(self.y)
        n_classes = max(_n_classes(frame.field, index) for frame in self.frames)
        return index, names + [str(c) for c in range(len(names), n_classes)], n_classes

    def _draw(self, ax: Axes, frame: _Frame, classes: tuple[list[int], list[str], int], title: str) -> None:
        index, names, n_classes = classes
        ax.clear()
        _draw_field(ax, frame.field, n_classes)
        _draw_points(ax, self.X, index, names, n_classes)
        _style(ax, self._bounds)
        ax.set_title(title)

    def save(self, path: str | os.PathLike, fps: float = 5, hold: float = 2.0) -> Path:
        """Write the frames to `path` as a GIF (matplotlib's Pillow writer); the last one is held `hold` seconds."""
        if fps <= 0 or hold < 0:
            raise ValueError(f"fps must be > 0 and hold >= 0, not fps={fps!r}, hold={hold!r}")
        plt = _pyplot()
        animation = require("matplotlib.animation", "animations need matplotlib")
        classes = self._finish()
        fig, ax = plt.subplots(figsize=_figure_size(self._bounds, 6.0))
        where = f" on {self.dataset}" if self.dataset else ""

        def draw(i: int) -> None:
            frame = self.frames[i]
            loss = "" if frame.loss is None else f", loss {frame.loss:.3g}"
            self._draw(
                ax, frame, classes, f"training{where}: step {frame.step}{loss}, accuracy {_percent(frame.accuracy)}"
            )
            _legend(ax)

        order = list(range(len(self.frames))) + [len(self.frames) - 1] * round(hold * fps)
        draw(0)
        fig.tight_layout()  # around the first frame's title, labels and legend
        movie = animation.FuncAnimation(fig, draw, frames=order, interval=1000 / fps, repeat=False)
        path = Path(path)
        movie.save(path, writer=animation.PillowWriter(fps=fps), dpi=80)
        plt.close(fig)
        return path

    def plot(self, count: int = 4, path: str | os.PathLike | None = None) -> list[Axes]:
        """`count` frames side by side, evenly spaced from the first to the trained model; saved to `path` if given.

        A still picture of the same story as the GIF, for a page that shows no animation.
        """
        if not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be a whole number >= 1, not {count!r}")
        plt = _pyplot()
        classes = self._finish()
        last = len(self.frames) - 1
        chosen = sorted({round(i * last / (count - 1)) for i in range(count)} if count > 1 else {last})
        width, height = _figure_size(self._bounds, 4.0)
        fig, axes = plt.subplots(1, len(chosen), figsize=(3.0 * len(chosen) + 1.2, height - 0.6), squeeze=False)
        for ax, i in zip(axes[0], chosen):
            frame = self.frames[i]
            self._draw(ax, frame, classes, f"step {frame.step}: accuracy {_percent(frame.accuracy)}")
        for ax in axes[0][1:]:
            ax.set_ylabel("")
        _legend(axes[0][-1])
        if self.dataset:
            fig.suptitle(f"the decision boundary while training on {self.dataset}")
        _finish(fig, path)
        return list(axes[0])


def animate_training(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence,
    loss: Callable[[list, Sequence], Value],
    optimizer: Optimizer,
    path: str | os.PathLike,
    every: int = 5,
    resolution: int = 40,
    dataset: str | None = None,
    fps: float = 5,
    **fit_args: Any,
) -> History:
    """`fit`, recording the decision boundary every `every` steps, then write the GIF to `path`.

    ``fit_args`` go to `fit` (steps, schedule, l2_weight, ...); a `callback` there still runs.
    """
    recorder = BoundaryRecorder(model, X, y, every=every, resolution=resolution, dataset=dataset)
    theirs = fit_args.pop("callback", None)

    def both(step: int, total: Value) -> None:
        recorder(step, total)
        if theirs is not None:
            theirs(step, total)

    history = fit(model, X, y, loss, optimizer, callback=both, **fit_args)
    recorder.save(path, fps=fps)
    return history
