"""Diagrams: golden DOT text, rendering with the real dot, highlights, large graphs, errors."""

from __future__ import annotations

import shutil
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from engine import DotNotFound, Value, draw_dot
from nn import MLP

graphviz = pytest.importorskip("graphviz", reason="the graphviz package draws diagrams: pip install graphviz")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")

HEADER = """digraph {
\tgraph [fontsize=10 rankdir=LR]
\tnode [fontname=Helvetica fontsize=10]
\tedge [fontname=Helvetica fontsize=9]
"""

GOLDEN_RECORD = (
    HEADER
    + """\tn0 [label="{ f | data -12 | grad 1 }" shape=record]
\tn0op [label="×" shape=circle width=0.3]
\tn0op -> n0
\tn1 -> n0op
\tn2 -> n0op
\tn1 [label="{ data 3 | grad -4 }" shape=record]
\tn1op [label="+" shape=circle width=0.3]
\tn1op -> n1
\tn3 -> n1op
\tn4 -> n1op
\tn2 [label="{ z | data -4 | grad 3 }" shape=record]
\tn3 [label="{ x | data -2 | grad -4 }" shape=record]
\tn4 [label="{ y | data 5 | grad -4 }" shape=record]
}
"""
)

GOLDEN_CIRCUIT = (
    HEADER
    + """\tn0 [label="×" shape=circle]
\tn1 -> n0 [label=<<font color="darkgreen">3</font><br/><font color="red3">-4</font>>]
\tn2 -> n0 [label=<<font color="darkgreen">-4</font><br/><font color="red3">3</font>>]
\tn1 [label="+" shape=circle]
\tn3 -> n1 [label=<<font color="darkgreen">-2</font><br/><font color="red3">-4</font>>]
\tn4 -> n1 [label=<<font color="darkgreen">5</font><br/><font color="red3">-4</font>>]
\tn2 [label=z shape=plaintext]
\tn3 [label=x shape=plaintext]
\tn4 [label=y shape=plaintext]
\toutput [label=f shape=plaintext]
\tn0 -> output [label=<<font color="darkgreen">-12</font><br/><font color="red3">1</font>>]
}
"""
)


def lecture_circuit(backward=True):
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    f = (x + y) * z
    f.label = "f"
    if backward:
        f.backward()
    return f


def test_golden_dot_in_both_styles():
    assert draw_dot(lecture_circuit()).source == GOLDEN_RECORD
    assert lecture_circuit().draw(style="circuit").source == GOLDEN_CIRCUIT


def test_the_same_graph_gives_the_same_text():
    assert draw_dot(lecture_circuit(), style="circuit").source == draw_dot(lecture_circuit(), style="circuit").source
    model = MLP(2, [3, 1], seed=0)
    a = draw_dot(model([0.1, 0.2])).source
    b = draw_dot(model([0.1, 0.2])).source
    assert a == b and "0x" not in a  # no memory addresses


def test_before_backward_gradients_are_not_computed_yet():
    f = lecture_circuit(backward=False)
    record = draw_dot(f).source
    assert "grad not computed" in record and "grad 0" not in record
    assert "gradients not computed yet: call backward()" in record
    circuit = draw_dot(f, style="circuit").source
    assert "red3" not in circuit and "not computed yet" in circuit


def test_labels_are_escaped():
    x = Value(1.0, label='a|b{c}<d>"e"\\')
    source = draw_dot(x * 2).source
    assert '{ a\\|b\\{c\\}\\<d\\>\\"e\\"\\\\ | data 1' in source


def test_precision():
    x = Value(1 / 3, label="x")
    assert "data 0.33 |" in draw_dot(x * 1, precision=2).source
    assert "data 0.333333 |" in draw_dot(x * 1, precision=6).source


def test_highlights_and_legend():
    x = Value(-1.0, label="x")
    dead = x.relu()
    saturated = (x * 50).sigmoid()
    huge = x * 1e6
    out = dead + saturated + huge
    out.backward()
    source = draw_dot(out).source
    assert "style=dashed" in source  # the blocked relu input
    assert "fillcolor=orange" in source  # saturated sigmoid
    assert "fillcolor=purple" in source  # x's gradient is about 1e6
    assert "legend" in source and "nothing passes" in source and "saturated sigmoid/tanh" in source
    nan = Value(float("nan"), label="n") * 1
    assert "fillcolor=magenta" in draw_dot(nan).source


@needs_dot
def test_rendered_svg_shows_values_gradients_and_colours():
    svg = draw_dot(lecture_circuit(), style="circuit").pipe(format="svg").decode()
    root = ET.fromstring(svg)
    texts = [(t.text, t.get("fill"), float(t.get("y"))) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    green = [(text, y) for text, fill, y in texts if fill == "darkgreen"]
    red = [(text, y) for text, fill, y in texts if fill in ("red3", "#cd0000")]  # dot writes red3 as #cd0000
    assert sorted((t for t, _ in green), key=float) == sorted(["3", "-4", "-2", "5", "-12"], key=float)
    assert sorted((t for t, _ in red), key=float) == sorted(["-4", "3", "-4", "-4", "1"], key=float)
    for (_, y_value), (_, y_gradient) in zip(green, red, strict=True):
        assert y_value < y_gradient  # each wire: the value above, its gradient below
    assert {"x", "y", "z", "f", "×", "+"} <= {text for text, _, _ in texts}
    record_svg = draw_dot(lecture_circuit()).pipe(format="svg").decode()
    assert "data &#45;12" in record_svg and "grad &#45;4" in record_svg


@needs_dot
def test_render_to_files(tmp_path):
    f = lecture_circuit()
    for fmt, magic in (("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")):
        path = draw_dot(f).render(tmp_path / "circuit", format=fmt, cleanup=True)
        assert open(path, "rb").read(5).startswith(magic[:5])


def test_a_missing_dot_names_the_install_command_and_source_still_works(monkeypatch):
    monkeypatch.setenv("PATH", "")
    graph = draw_dot(lecture_circuit())
    assert graph.source == GOLDEN_RECORD
    with pytest.raises(DotNotFound, match="apt-get install graphviz"):
        graph.pipe(format="svg")


def test_a_missing_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match="pip install graphviz"):
        draw_dot(lecture_circuit())


@needs_dot
def test_the_demo_mlp_collapsed_by_neuron_within_budget():
    model = MLP(2, [16, 16, 1], seed=0)
    out = model([0.5, -0.3])
    out.backward()
    start = time.perf_counter()
    graph = draw_dot(out, collapse="neuron")
    svg = graph.pipe(format="svg").decode()
    assert time.perf_counter() - start < 5
    boxes = graph.source.count("shape=record")
    assert boxes == 33 and boxes <= 100
    assert "layers.0.neurons.15" in svg and "out " in svg
    layers = draw_dot(out, collapse="layer").source
    assert layers.count("shape=record") == 3 and "layers.1" in layers


def test_max_nodes_leaves_a_visible_summary():
    model = MLP(2, [4, 1], seed=0)
    out = model([0.5, -0.3])
    source = draw_dot(out, max_nodes=5).source
    assert source.count("shape=record") == 5
    assert "more values not drawn" in source and "leaf" in source


def test_around_draws_one_neighbourhood():
    x = Value(1.0, label="x")
    chain = x
    for _ in range(10):
        chain = (chain * 2).tanh()
    middle = chain.children[0].children[0].children[0].children[0]
    source = draw_dot(chain, around=middle, depth=1).source
    assert source.count("shape=record") == 3 and "within 1 steps" in source
    with pytest.raises(ValueError, match="around="):
        draw_dot(chain, around=Value(5.0))


def test_bad_options():
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(Value(1.0), rankdir="XY")
    with pytest.raises(ValueError, match="collapse"):
        draw_dot(Value(1.0), collapse="module")
    with pytest.raises(ValueError, match="style"):
        draw_dot(Value(1.0), style="fancy")
    with pytest.raises(ValueError, match="max_nodes"):
        draw_dot(Value(1.0), max_nodes=0)
    with pytest.raises(TypeError, match="draws a Value"):
        draw_dot(1.0)
