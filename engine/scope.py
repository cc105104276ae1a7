"""Scopes: a name stored on every node made inside a `with scope(...)` block.

Modules use them so diagrams and diagnostics can group a graph by neuron and
layer. Nested scopes join with dots: ``layers.0`` inside ``model`` is
``model.layers.0``. Like `no_grad`, the current scope is a context variable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_scope: ContextVar[str] = ContextVar("circuitgrad_scope", default="")

#: The scope new nodes get: '' outside every `scope()` block.
current_scope = _scope.get


@contextmanager
def scope(name: str) -> Iterator[str]:
    """Tag every node made inside the block with `name` (joined to any outer scope)."""
    if not isinstance(name, str):
        raise TypeError(f"scope: the name must be a non-empty string, not {name!r}")
    if not name:
        raise ValueError(f"scope: the name must be a non-empty string, not {name!r}")
    outer = _scope.get()
    full = f"{outer}.{name}" if outer else name
    token = _scope.set(full)
    try:
        yield full
    finally:
        _scope.reset(token)
