"""Whether new operations record the graph: `no_grad()` turns recording off.

The switch lives in a `contextvars.ContextVar`, so turning it off in one thread
(or asyncio task) never affects another.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_recording: ContextVar[bool] = ContextVar("circuitgrad_recording", default=True)

#: Read by every op: `is_recording()` is True unless inside `no_grad()`.
is_recording = _recording.get


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block ops record no children: every result is a leaf.

    Use it for evaluation and for parameter updates, as in PyTorch::

        with no_grad():
            score = model(x)      # a plain number in a Value, no graph behind it
    """
    token = _recording.set(False)
    try:
        yield
    finally:
        _recording.reset(token)
