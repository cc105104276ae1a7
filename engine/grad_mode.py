"""What new operations do with the graph: record it (the default), not (`no_grad`), or check it.

The mode lives in a `contextvars.ContextVar`, so changing it in one thread (or
asyncio task) never affects another. Every op reads it once:

* ``True``: record children and local gradients;
* ``False``: inside `no_grad()`: results are leaves;
* an `AnomalyDetector`: inside `detect_anomaly()`: record, and check each result.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_mode: ContextVar = ContextVar("circuitgrad_mode", default=True)

#: The current mode (True, False or an AnomalyDetector); read by every op.
current_mode = _mode.get


def is_recording() -> bool:
    """True unless inside `no_grad()`."""
    return _mode.get() is not False


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block ops record no children: every result is a leaf.

    Use it for evaluation and for parameter updates, as in PyTorch::

        with no_grad():
            score = model(x)      # a plain number in a Value, no graph behind it
    """
    token = _mode.set(False)
    try:
        yield
    finally:
        _mode.reset(token)


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record the graph inside this block even within `no_grad()` (as torch.enable_grad)."""
    if _mode.get() is not False:
        yield
        return
    token = _mode.set(True)
    try:
        yield
    finally:
        _mode.reset(token)


@contextmanager
def mode_set(mode) -> Iterator[None]:
    """Set the mode (True, False or an AnomalyDetector) inside the block."""
    token = _mode.set(mode)
    try:
        yield
    finally:
        _mode.reset(token)
