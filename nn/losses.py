"""Losses over a batch, each returning the mean as one Value (like PyTorch's functional losses).

`preds`, `scores` and `logits` hold Values (or numbers); targets and labels are
plain numbers. Where a formula has a kink or could overflow, it branches on the
forward value so that every branch is exact and stable.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine import Value

Score = Value | float


def _mean(terms: list[Value], what: str) -> Value:
    if not terms:
        raise ValueError(f"{what}: the batch is empty")
    return Value.sum(terms) * (1.0 / len(terms))


def _check_lengths(a: Sequence, b: Sequence, what: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"{what}: {len(a)} predictions but {len(b)} targets")


def _as_value(x: Score) -> Value:
    return x if isinstance(x, Value) else Value(x)


def mse(preds: Sequence[Score], targets: Sequence[float]) -> Value:
    """mean((pred - target)**2); d/dpred = 2 (pred - target) / n."""
    _check_lengths(preds, targets, "mse")
    return _mean([(_as_value(p) - t) ** 2 for p, t in zip(preds, targets)], "mse")


def hinge(scores: Sequence[Score], labels: Sequence[float]) -> Value:
    """mean(relu(1 - label * score)), labels -1 / +1: micrograd's max-margin loss.

    A point classified correctly with margin >= 1 contributes 0 and no gradient.
    """
    _check_lengths(scores, labels, "hinge")
    for label in labels:
        if label not in (-1, 1):
            raise ValueError(f"hinge: labels must be -1 or +1, not {label!r}")
    return _mean([(1 - label * _as_value(s)).relu() for s, label in zip(scores, labels)], "hinge")


def softplus(z: Value) -> Value:
    """log(1 + e**z), stable for any z; d/dz = sigmoid(z)."""
    if z.data > 0:
        return z + (1 + (-z).exp()).log()
    return (1 + z.exp()).log()


def bce_with_logits(logits: Sequence[Score], labels: Sequence[float]) -> Value:
    """mean(softplus(z) - y z): binary cross-entropy on raw scores, labels 0 / 1.

    Equal to -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))] but never takes the
    log of a rounded-off 0; d/dz = sigmoid(z) - y.
    """
    _check_lengths(logits, labels, "bce_with_logits")
    terms = []
    for z, y in zip(logits, labels):
        z = _as_value(z)
        terms.append(softplus(z) - z * float(y))
    return _mean(terms, "bce_with_logits")


def cross_entropy(logits: Sequence[Sequence[Score]], targets: Sequence[int]) -> Value:
    """mean(logsumexp(l) - l[target]): softmax cross-entropy, targets are class indices.

    Stable: the largest logit is subtracted first (a constant, so the gradient,
    softmax(l) - onehot(target), is unchanged).
    """
    _check_lengths(logits, targets, "cross_entropy")
    terms = []
    for row, target in zip(logits, targets):
        row = [_as_value(v) for v in row]
        if not isinstance(target, int) or not 0 <= target < len(row):
            raise ValueError(f"cross_entropy: target {target!r} is not a class index below {len(row)}")
        top = max(v.data for v in row)
        log_sum_exp = Value.sum((v - top).exp() for v in row).log() + top
        terms.append(log_sum_exp - row[target])
    return _mean(terms, "cross_entropy")


def huber(preds: Sequence[Score], targets: Sequence[float], delta: float = 1.0) -> Value:
    """mean of 0.5 r**2 where |r| < delta, else delta (|r| - delta / 2), r = pred - target.

    Its gradient is r inside and delta * sign(r) outside: large errors still
    teach, but with a bounded push. Clipping the error instead (r.clip(-delta,
    delta)) gives gradient 0 outside: the DQN bug.
    """
    if delta <= 0:
        raise ValueError(f"huber: delta must be positive, not {delta!r}")
    _check_lengths(preds, targets, "huber")
    terms = []
    for p, t in zip(preds, targets):
        r = _as_value(p) - t
        terms.append(0.5 * r * r if abs(r.data) < delta else delta * (abs(r) - 0.5 * delta))
    return _mean(terms, "huber")


def l2(params: Sequence[Value]) -> Value:
    """The sum of squares of `params`: one fused dot node; d/dp = 2p."""
    return Value.dot(params, params)
