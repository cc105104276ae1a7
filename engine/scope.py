"""Scopes: a name stored on every node made inside a `with scope(...)` block.

Modules use them so diagrams and diagnostics can group a graph by neuron and
layer. Nested scopes join with dots: ``layers.0`` inside ``model`` is
``model.layers.0``. Like `no_grad`, the current scope is kept in a context
variable (see `engine.grad_mode`), so each thread has its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .grad_mode import current_state, state_set


def current_scope() -> str:
    """The scope new nodes get: '' outside every `scope()` block."""
    return current_state()[1]


@contextmanager
def scope(name: str) -> Iterator[str]:
    """Tag every node made inside the block with `name` (joined to any outer scope)."""
    if not isinstance(name, str):
        raise TypeError(f"scope: the name must be a non-empty string, not {name!r}")
    if not name:
        raise ValueError(f"scope: the name must be a non-empty string, not {name!r}")
    outer = current_state()[1]
    full = f"{outer}.{name}" if outer else name
    with state_set(scope=full):
        yield full
