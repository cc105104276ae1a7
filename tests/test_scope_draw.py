"""Scopes on nodes, and the basic graphviz diagrams (rendered with the real dot)."""

from __future__ import annotations

import shutil

import pytest

from engine import Value, current_scope, draw_dot, scope
from nn import MLP


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


def test_draw_dot_record_style_is_deterministic_and_escaped():
    pytest.importorskip("graphviz", reason="the graphviz package draws diagrams: pip install graphviz")

    def build():
        x, y = Value(-2.0, label="x"), Value(5.0, label="y|<z>")
        f = (x + y) * x
        f.backward()
        return f

    a, b = draw_dot(build()).source, draw_dot(build()).source
    assert a == b
    assert "data -2 | grad 1" in a and "y\\|\\<z\\>" in a and 'label="*"' in a


def test_mlp_diagram_collapsed_by_neuron_renders():
    graphviz = pytest.importorskip("graphviz", reason="the graphviz package draws diagrams: pip install graphviz")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed: sudo apt-get install graphviz")
    model = MLP(2, [16, 16, 1], seed=0)
    out = model([0.5, -0.3])
    out.backward()
    graph = draw_dot(out, collapse="neuron")
    assert isinstance(graph, graphviz.Digraph)
    assert graph.source.count("shape=record") == 33  # one box per neuron
    svg = graph.pipe(format="svg").decode()
    assert "layers.2.neurons.0" in svg and "layers.0.neurons.15" in svg


def test_draw_dot_rejects_bad_options():
    pytest.importorskip("graphviz", reason="the graphviz package draws diagrams: pip install graphviz")
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(Value(1.0), rankdir="XY")
    with pytest.raises(ValueError, match="collapse"):
        draw_dot(Value(1.0), collapse="layer")
