"""What new operations do with the graph: record it (the default), not (`no_grad`), or check it.

Two things decide what an op does with the node it makes: the mode and the
scope. Both live in one `contextvars.ContextVar`, a pair (mode, scope), so
changing them in one thread (or asyncio task) never affects another, and every
op reads them with one look-up:

* mode ``True``: record children and local gradients;
* ``False``: inside `no_grad()`: results are leaves;
* an `AnomalyDetector`: inside `detect_anomaly()`: record, and check each result;
* scope: the name `engine.scope` gives the nodes made inside its block ('' outside).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_state: ContextVar[tuple[Any, str]] = ContextVar("circuitgrad_state", default=(True, ""))

#: (mode, scope) for the next node: read by every op.
current_state = _state.get


def current_mode() -> Any:
    """True (record), False (inside `no_grad()`) or an AnomalyDetector (inside `detect_anomaly()`)."""
    return _state.get()[0]


def is_recording() -> bool:
    """True unless inside `no_grad()`."""
    return _state.get()[0] is not False


@contextmanager
def state_set(mode: Any = None, scope: str | None = None) -> Iterator[None]:
    """Inside the block: this mode and/or this scope (None keeps the current one)."""
    old_mode, old_scope = _state.get()
    token = _state.set((old_mode if mode is None else mode, old_scope if scope is None else scope))
    try:
        yield
    finally:
        _state.reset(token)


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block ops record no children: every result is a leaf.

    Use it for evaluation and for parameter updates, as in PyTorch::

        with no_grad():
            score = model(x)      # a plain number in a Value, no graph behind it
    """
    with state_set(mode=False):
        yield


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record the graph inside this block even within `no_grad()` (as torch.enable_grad)."""
    if _state.get()[0] is not False:
        yield
        return
    with state_set(mode=True):
        yield
