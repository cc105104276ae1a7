"""Losses over a batch, each returning the mean as one Value (like PyTorch's functional losses).

`preds`, `scores` and `logits` hold Values (or numbers); targets and labels are
plain numbers, checked on entry: real numbers for `mse` and `huber`, -1 / +1
for `hinge`, numbers in [0, 1] for `bce_with_logits` (0 / 1, or soft labels),
class indices for `cross_entropy`. Where a formula has a kink or could
overflow, it branches on the forward value so that every branch is exact and
stable.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

from engine import Value

from . import _checks as check

Score = Value | float


def _mean(terms: list[Value]) -> Value:
    return Value.sum(terms) * (1.0 / len(terms))


def _batch(preds: object, targets: object, where: str, pred_name: str = "preds", target_name: str = "targets"):
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


def _real_targets(targets: Sequence, where: str, name: str = "targets", classes: int | None = None) -> list[float]:
    return [check.real(t, f"{name}[{i}]", where) for i, t in enumerate(targets)]


def _signed_labels(labels: Sequence, where: str, name: str = "labels", classes: int | None = None) -> list[float]:
    out = []
    for i, label in enumerate(labels):
        number = check.real(label, f"{name}[{i}]", where, what="-1 or +1")
        if number not in (-1.0, 1.0):
            raise ValueError(f"{where}: labels must be -1 or +1, not {check.shown(label)} ({name}[{i}])")
        out.append(number)
    return out


def _binary_labels(labels: Sequence, where: str, name: str = "labels", classes: int | None = None) -> list[float]:
    what = "a number in [0, 1] (0 or 1, or a soft label)"
    return [check.real(y, f"{name}[{i}]", where, low=0.0, high=1.0, what=what) for i, y in enumerate(labels)]


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
    """log(1 + e**z), stable for any z; d/dz = sigmoid(z)."""
    z = _as_value(z, "z", "softplus")
    if z.data > 0:
        return z + (1 + (-z).exp()).log()
    return (1 + z.exp()).log()


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
        terms.append(softplus(z) - z * y)
    return _mean(terms)


def cross_entropy(logits: Sequence[Sequence[Score]], targets: Sequence[int]) -> Value:
    """mean(logsumexp(l) - l[target]): softmax cross-entropy, targets are class indices.

    Stable: the largest logit is subtracted first (a constant, so the gradient,
    softmax(l) - onehot(target), is unchanged). Every row needs the same number
    of classes.
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
    terms = []
    for row, target in zip(rows, indices):
        top = max(v.data for v in row)
        log_sum_exp = Value.sum([(v - top).exp() for v in row]).log() + top
        terms.append(log_sum_exp - row[target])
    return _mean(terms)


def huber(preds: Sequence[Score], targets: Sequence[float], delta: float = 1.0) -> Value:
    """mean of 0.5 r**2 where |r| < delta, else delta (|r| - delta / 2), r = pred - target.

    Its gradient is r inside and delta * sign(r) outside: large errors still
    teach, but with a bounded push. Clipping the error instead (r.clip(-delta,
    delta)) gives gradient 0 outside: the DQN bug. `delta` is a finite number > 0.
    """
    delta = check.positive(delta, "delta", "huber")
    preds, targets = _batch(preds, targets, "huber")
    ts = _real_targets(targets, "huber")
    terms = []
    for i, (p, t) in enumerate(zip(preds, ts)):
        r = _as_value(p, f"preds[{i}]", "huber") - t
        terms.append(0.5 * r * r if abs(r.data) < delta else delta * (abs(r) - 0.5 * delta))
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
TARGETS: dict[Callable[..., Value], TargetCheck] = {
    mse: _real_targets,
    huber: _real_targets,
    hinge: _signed_labels,
    bce_with_logits: _binary_labels,
    cross_entropy: _class_indices,
}
