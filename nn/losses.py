"""Losses over a batch, each returning the mean as one Value (like PyTorch's functional losses).

`preds`, `scores` and `logits` hold Values (or numbers); targets and labels are
numbers, checked on entry: real numbers for `mse` and `huber`, -1 / +1 for
`hinge`, numbers in [0, 1] for `bce_with_logits` (0 / 1, or soft labels), class
indices for `cross_entropy`. A target may also be a Value (a staged function
traces its labels as inputs: see `engine.stage`). No loss branches on ``.data``:
kinks and overflow are handled inside ops (relu, clip, softplus, logsumexp), so a
staged loss stays right for every sample.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

from engine import Value, logsumexp
from engine import softplus as _softplus_op

from . import checks as check

Score = Value | float


def _mean(terms: list[Value]) -> Value:
    return Value.sum(terms) * (1.0 / len(terms))


def _batch(
    preds: object, targets: object, where: str, pred_name: str = "preds", target_name: str = "targets"
) -> tuple[list, list]:
    """Both as lists, non-empty and of equal length, or a clear error."""
    a = check.sequence(preds, pred_name, where, what="a list of Values or numbers", empty=True)
    b = check.sequence(targets, target_name, where, what="a list of numbers", empty=True)
    if not a:
        raise ValueError(f"{where}: the batch is empty")
    if len(a) != len(b):
        raise ValueError(f"{where}: {len(a)} predictions but {len(b)} targets")
    return a, b


def _as_value(x: object, name: str, where: str) -> Value:
    if isinstance(x, Value):
        return x
    if not check.is_number(x):
        raise TypeError(f"{where}: {name} must be a Value or a number, not {check.shown(x)}")
    return Value(float(x))  # type: ignore[arg-type]


def _traced(checked: Callable[..., float]) -> Callable[[object], Any]:
    """Check a target's number; a Value (a label a staged function traces) is checked and kept."""

    def check_one(target: object) -> Any:
        if isinstance(target, Value):
            checked(target.data)
            return target
        return checked(target)

    return check_one


def _real_targets(targets: Sequence, where: str, name: str = "targets", classes: int | None = None) -> list[Any]:
    return [_traced(lambda t, i=i: check.real(t, f"{name}[{i}]", where))(t) for i, t in enumerate(targets)]


def _signed_labels(labels: Sequence, where: str, name: str = "labels", classes: int | None = None) -> list[Any]:
    def signed(label: object, i: int) -> float:
        number = check.real(label, f"{name}[{i}]", where, what="-1 or +1")
        if number not in (-1.0, 1.0):
            raise ValueError(f"{where}: labels must be -1 or +1, not {check.shown(label)} ({name}[{i}])")
        return number

    return [_traced(lambda y, i=i: signed(y, i))(label) for i, label in enumerate(labels)]


def _binary_labels(labels: Sequence, where: str, name: str = "labels", classes: int | None = None) -> list[Any]:
    what = "a number in [0, 1] (0 or 1, or a soft label)"
    return [
        _traced(lambda y, i=i: check.real(y, f"{name}[{i}]", where, low=0.0, high=1.0, what=what))(y)
        for i, y in enumerate(labels)
    ]


def _class_indices(targets: Sequence, where: str, name: str = "targets", classes: int | None = None) -> list[int]:
    out = []
    for i, target in enumerate(targets):
        below = f" below {classes}" if classes is not None else ""
        if not isinstance(target, numbers.Integral) or isinstance(target, bool):
            raise TypeError(
                f"{where}: target {check.shown(target)} ({name}[{i}]) is not a class index (a whole number)"
            )
        index = int(target)
        if index < 0 or (classes is not None and index >= classes):
            raise ValueError(f"{where}: target {target!r} ({name}[{i}]) is not a class index{below}")
        out.append(index)
    return out


def mse(preds: Sequence[Score], targets: Sequence[float]) -> Value:
    """mean((pred - target)**2); d/dpred = 2 (pred - target) / n."""
    preds, targets = _batch(preds, targets, "mse")
    ts = _real_targets(targets, "mse")
    return _mean([(_as_value(p, f"preds[{i}]", "mse") - t) ** 2 for i, (p, t) in enumerate(zip(preds, ts))])


def hinge(scores: Sequence[Score], labels: Sequence[float]) -> Value:
    """mean(relu(1 - label * score)), labels -1 / +1: micrograd's max-margin loss.

    A point classified correctly with margin >= 1 contributes 0 and no gradient.
    """
    scores, labels = _batch(scores, labels, "hinge", "scores", "labels")
    ys = _signed_labels(labels, "hinge")
    values = [_as_value(s, f"scores[{i}]", "hinge") for i, s in enumerate(scores)]
    return _mean([(1 - y * s).relu() for s, y in zip(values, ys)])


def softplus(z: Value | float) -> Value:
    """log(1 + e**z), stable for any z; d/dz = sigmoid(z): the op `engine.softplus`."""
    return _softplus_op(_as_value(z, "z", "softplus"))


def bce_with_logits(logits: Sequence[Score], labels: Sequence[float]) -> Value:
    """mean(softplus(z) - y z): binary cross-entropy on raw scores, labels in [0, 1] (0 / 1, or soft).

    Equal to -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))] but never takes the
    log of a rounded-off 0; d/dz = sigmoid(z) - y. A label outside [0, 1] would
    make the loss negative, so it is refused.
    """
    logits, labels = _batch(logits, labels, "bce_with_logits", "logits", "labels")
    ys = _binary_labels(labels, "bce_with_logits")
    terms = []
    for i, (z, y) in enumerate(zip(logits, ys)):
        z = _as_value(z, f"logits[{i}]", "bce_with_logits")
        terms.append(_softplus_op(z) - z * y)
    return _mean(terms)


def cross_entropy(logits: Sequence[Sequence[Score]], targets: Sequence[int]) -> Value:
    """mean(logsumexp(l) - l[target]): softmax cross-entropy, targets are class indices.

    `engine.logsumexp` is one node that takes the largest logit out first, so it
    never overflows; the gradient is softmax(l) - onehot(target). Every row needs
    the same number of classes.
    """
    logits, targets = _batch(logits, targets, "cross_entropy", "logits", "targets")
    rows = []
    for i, row in enumerate(logits):
        items = check.sequence(row, f"logits[{i}]", "cross_entropy", what="a non-empty list of class scores")
        rows.append([_as_value(v, f"logits[{i}][{j}]", "cross_entropy") for j, v in enumerate(items)])
        if len(rows[-1]) != len(rows[0]):
            classes = check.plural(len(rows[-1]), "class")
            raise ValueError(f"cross_entropy: logits[{i}] has {classes}, logits[0] has {len(rows[0])}")
    indices = _class_indices(targets, "cross_entropy", classes=len(rows[0]))
    return _mean([logsumexp(row) - row[target] for row, target in zip(rows, indices)])


def huber(preds: Sequence[Score], targets: Sequence[float], delta: float = 1.0) -> Value:
    """mean of 0.5 r**2 where |r| < delta, else delta (|r| - delta / 2), r = pred - target.

    Its gradient is r inside and delta * sign(r) outside: large errors still
    teach, but with a bounded push. Clipping the error instead (r.clip(-delta,
    delta)) gives gradient 0 outside: the DQN bug. Here the clip is used right:
    with c = clip(r, -delta, delta), the loss is 0.5 c**2 + delta (|r| - |c|), one
    formula for both pieces, so no Python branch on the data. `delta` is a finite
    number > 0.
    """
    delta = check.positive(delta, "delta", "huber")
    preds, targets = _batch(preds, targets, "huber")
    ts = _real_targets(targets, "huber")
    terms = []
    for i, (p, t) in enumerate(zip(preds, ts)):
        r = _as_value(p, f"preds[{i}]", "huber") - t
        c = r.clip(-delta, delta)
        terms.append(0.5 * c * c + delta * (abs(r) - abs(c)))
    return _mean(terms)


def l2(params: Sequence[Value]) -> Value:
    """The sum of squares of `params` (Values or numbers): one fused dot node; d/dp = 2p."""
    items = check.sequence(params, "params", "l2", what="a list of Values", empty=True)
    for i, p in enumerate(items):
        if not isinstance(p, Value) and not check.is_number(p):
            raise TypeError(f"l2: params[{i}] must be a Value or a number, not {check.shown(p)}")
    return Value.dot(items, items)


# What each loss wants as targets, so `fit` can check every label before the first step.
TargetCheck = Callable[..., list[Any]]
#: The losses whose target decides the graph's shape (it picks a row entry): a staged `fit`
#: traces their targets as static arguments, one trace per class, instead of as inputs.
PICKS_BY_TARGET = {cross_entropy}
TARGETS: dict[Callable[..., Value], TargetCheck] = {
    mse: _real_targets,
    huber: _real_targets,
    hinge: _signed_labels,
    bce_with_logits: _binary_labels,
    cross_entropy: _class_indices,
}
