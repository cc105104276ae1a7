"""Scopes on nodes, and the basic graphviz diagrams (rendered with the real dot)."""

from __future__ import annotations

import pytest

from engine import Value, current_scope, scope


def test_scope_tags_nodes_and_nests():
    x = Value(1.0)
    assert x.scope == "" and current_scope() == ""
    with scope("model") as outer:
        y = x * 2
        with scope("layers.0") as inner:
            z = y + 1
            leaf = Value(3.0)
        w = z * z
    assert (outer, inner) == ("model", "model.layers.0")
    assert (y.scope, z.scope, leaf.scope, w.scope) == ("model", "model.layers.0", "model.layers.0", "model")
    assert current_scope() == "" and (x + 1).scope == ""
    with pytest.raises(ValueError, match="non-empty string"):
        with scope(""):
            pass
