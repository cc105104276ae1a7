"""Diagrams: golden DOT text, rendering with the real dot (parsed back), the demo picture, large graphs, errors.

The golden texts are what the diagrams are; when a change to the drawing is meant, look at
the new picture first (``dot -Tpng``), then rewrite the goldens with
``python tests/test_draw.py --update`` and read the diff.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import deque
from pathlib import Path

import pytest

from engine import DotNotFound, Value, draw_dot, maximum, ops, scope
from nn import MLP

graphviz = pytest.importorskip("graphviz", reason="the graphviz package draws diagrams: pip install graphviz")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
GOLDEN = Path(__file__).parent / "golden"
SVG = "{http://www.w3.org/2000/svg}"

HEADER = """digraph {
\tgraph [fontname=Helvetica fontsize=10 rankdir=LR]
\tnode [fontname=Helvetica fontsize=10]
\tedge [fontname=Helvetica fontsize=9]
"""

GOLDEN_RECORD = (
    HEADER
    + """\tn0 [label="{ f | data -12 | grad 1 }" shape=record]
\tn0op [label="×" fontsize=22 shape=circle width=0.3]
\tn0op -> n0
\tn1 [label="{ data 3 | grad -4 }" shape=record]
\tn1op [label="+" fontsize=22 shape=circle width=0.3]
\tn1op -> n1
\tn2 [label="{ z | data -4 | grad 3 }" shape=record]
\tn3 [label="{ x | data -2 | grad -4 }" shape=record]
\tn4 [label="{ y | data 5 | grad -4 }" shape=record]
\tn1 -> n0op
\tn2 -> n0op
\tn3 -> n1op
\tn4 -> n1op
}
"""
)

WIRE = '\tw{k} [label=<<font color="darkgreen">{value}</font><br/><font color="red3">{grad}</font>> margin=0.02 shape=plaintext width=0]\n'  # noqa: E501
LEGEND_CIRCUIT = (
    '\tlabel=<<table border="0" cellspacing="6"><tr><td><table border="1" color="gray70" style="rounded" '
    'cellborder="0" cellspacing="2" cellpadding="1"><tr><td colspan="2" align="left">on each wire: <font '
    'color="darkgreen">its value</font> (forward) and, below, <font color="red3">the gradient it carries back</font>, '
    "d f / d value</td></tr></table></td></tr></table>> labeljust=c labelloc=t\n"
)


def _wire(k: int, value: str, grad: str, tail: str, head: str) -> str:
    return WIRE.format(k=k, value=value, grad=grad) + f"\t{tail} -> w{k} [arrowhead=none]\n\tw{k} -> {head}\n"


GOLDEN_CIRCUIT = (
    HEADER
    + """\tn0 [label="×" fontsize=22 shape=circle]
\tn1 [label="+" fontsize=22 shape=circle]
\tn2 [label=<z> fontsize=14 shape=plaintext]
\tn3 [label=<x> fontsize=14 shape=plaintext]
\tn4 [label=<y> fontsize=14 shape=plaintext]
"""
    + _wire(0, "3", "-4", "n1", "n0")
    + _wire(1, "-4", "3", "n2", "n0")
    + _wire(2, "-2", "-4", "n3", "n1")
    + _wire(3, "5", "-4", "n4", "n1")
    + "\t{rank=same; n3 -> n4 [style=invis]}\n"
    + "\toutput [label=f fontsize=14 shape=plaintext]\n"
    + _wire(4, "-12", "1", "n0", "output")
    + LEGEND_CIRCUIT
    + "}\n"
)


def lecture_circuit(backward=True):
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    f = (x + y) * z
    f.label = "f"
    if backward:
        f.backward()
    return f


def constants_circuit():
    """1 + e, 1 / x and x * 2 (constants on their gates), x ** 2, a - b (which wire is which), x used thrice."""
    x = Value(0.5, label="x")
    y = (1 / (1 + x.exp())) * 2 + x**2 - x
    y.label = "y"
    y.backward()
    return x, y


def demo_score():
    """The demo's picture: MLP(2, [16, 16, 1]) on one input, by layer, with names and a title."""
    model = MLP(2, [16, 16, 1], seed=0)
    score = model([0.5, -0.3])
    score.label = "score"
    score.backward()
    return model, score


def demo_diagram():
    model, score = demo_score()
    title = f"MLP(2, [16, 16, 1]) on x = (0.5, -0.3): score {score.data:.4g}"
    names = dict((p, n) for n, p in model.named_parameters())
    return draw_dot(score, style="circuit", collapse="layer", names=names, title=title)


def golden(name: str) -> str:
    return (GOLDEN / name).read_text()


def walk(root):
    """The nodes behind root in the order draw_dot numbers them (n0, n1, ...): breadth first."""
    order, seen, queue = [root], {root}, deque([root])
    while queue:
        for child in queue.popleft().children:
            if child not in seen:
                seen.add(child)
                order.append(child)
                queue.append(child)
    return order


def svg_nodes(diagram):
    """The rendered SVG, parsed: {DOT node id: [(text, fill, x, y), ...]} and every text of the picture."""
    root = ET.fromstring(diagram.pipe(format="svg").decode())
    nodes = {}
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        if group.get("class") == "node" and title is not None:
            nodes[title.text] = [
                (t.text, t.get("fill"), float(t.get("x")), float(t.get("y"))) for t in group.iter(f"{SVG}text")
            ]
    return nodes, [t.text for t in root.iter(f"{SVG}text")]


# ------------------------------------------------------------------ golden DOT text


def test_golden_dot_in_both_styles():
    assert draw_dot(lecture_circuit()).source == GOLDEN_RECORD
    assert lecture_circuit().draw(style="circuit").source == GOLDEN_CIRCUIT


def test_golden_constants_wire_roles_and_shares():
    _, y = constants_circuit()
    assert y.draw(style="circuit").source == golden("constants_circuit.dot")
    assert y.draw().source == golden("constants_record.dot")


def test_golden_demo_picture():
    assert demo_diagram().source == golden("demo.dot")


def test_the_same_graph_gives_the_same_text():
    assert draw_dot(lecture_circuit(), style="circuit").source == draw_dot(lecture_circuit(), style="circuit").source
    assert demo_diagram().source == demo_diagram().source
    model = MLP(2, [3, 1], seed=0)
    a = draw_dot(model([0.1, 0.2])).source
    b = draw_dot(model([0.1, 0.2])).source
    assert a == b and "0x" not in a  # no memory addresses


# ------------------------------------------------------------------ what each diagram shows


def test_gates_show_their_constants():
    x = Value(3.0, label="x")
    gates = {
        "+1": 1 + x,
        "×2": x * 2,
        "1/x": 1 / x,
        "x²": x**2,
        "÷4": x / 4,
        "max 1": maximum(x, 1.0),
        "clip [-1, 1]": x.clip(-1.0, 1.0),
    }
    for label, node in gates.items():
        assert f'label="{label}"' in draw_dot(node).source, label
        assert f'label="{label}"' in draw_dot(node, style="circuit").source, label


def wire_labels(source: str) -> dict[str, tuple[str, float, float | None]]:
    """{wire id: (the input it is at its gate, or '', its value, its gradient)} in a circuit's DOT text."""
    found = re.findall(
        r'\t(w\d+) \[label=<(?:<font color="gray55">(\w+) =</font> )?<font color="darkgreen">([^<]+)</font>'
        r'(?:<br/><font color="red3">([^<]+)</font>)?>',
        source,
    )
    return {wire: (role, float(value), float(grad) if grad else None) for wire, role, value, grad in found}


def test_each_wire_carries_its_own_value_and_its_share_of_the_gradient():
    x, y = constants_circuit()
    source = y.draw(style="circuit", precision=12).source
    wires = wire_labels(source)
    from_x = re.findall(rf"\tn{walk(y).index(x)} -> (w\d+) \[arrowhead=none\]", source)
    assert len(from_x) == 3 and all(wires[w][1] == 0.5 for w in from_x)
    assert sum(wires[w][2] for w in from_x) == pytest.approx(x.grad)  # the shares add up to x's gradient
    assert sorted(wires[w][2] for w in from_x) == pytest.approx(sorted([-1.0, 2 * 0.5, x.grad]))
    assert sorted(role for role, _, _ in wires.values() if role) == ["a", "b"]  # the subtraction's wires alone
    assert f'<font color="red3" point-size="10">{x.grad:.12g}</font>' in source  # x's total, under its name


def test_the_dot_gate_is_large_and_explained():
    w, x = [Value(2.0), Value(-1.0)], [Value(0.5), Value(3.0)]
    source = Value.dot(w, x, bias=Value(1.0)).draw(style="circuit").source
    assert 'label="·" fontsize=22 shape=circle' in source
    assert "dot: w0*x0 + w1*x1 + ... (+ bias) as one node" in source


def test_numbers_fed_to_a_dot_are_drawn_as_boxes():
    w = [Value(2.0, label="w0"), Value(-1.0, label="w1")]
    out = Value.dot(w, [0.5, -0.25]).relu()
    out.backward()
    source = out.draw(style="circuit").source
    assert "c0 [label=0.5 color=gray55 shape=box style=rounded]" in source
    assert "c1 [label=-0.25 color=gray55 shape=box style=rounded]" in source
    assert "a plain number fed to a gate" in source


def test_names_label_parameters():
    model = MLP(2, [2, 1], seed=0)
    score = model([0.5, -0.3])
    score.backward()
    by_pairs = draw_dot(score, names=model.named_parameters()).source
    by_mapping = draw_dot(score, names={p: n for n, p in model.named_parameters()}).source
    assert by_pairs == by_mapping
    for name, _ in model.named_parameters():
        assert f"{{ {name} | data" in by_pairs
    circuit = draw_dot(score, style="circuit", names=model.named_parameters()).source
    assert "<layers.1.neurons.0.w.1>" in circuit
    unnamed = draw_dot(score).source
    assert "layers.1.neurons.0.w.1" not in unnamed


def test_before_backward_gradients_are_not_computed_yet():
    f = lecture_circuit(backward=False)
    record = draw_dot(f).source
    assert "grad not computed" in record and "grad 0" not in record
    assert "gradients not computed yet: call backward()" in record
    circuit = draw_dot(f, style="circuit").source
    assert "red3" not in circuit.split("label=<<table")[0] and "not computed yet" in circuit


def test_labels_are_escaped():
    x = Value(1.0, label='a|b{c}<d>"e"\\')
    source = draw_dot(x * 2).source
    assert '{ a\\|b\\{c\\}\\<d\\>\\"e\\"\\\\ | data 1' in source
    assert "a|b{c}&lt;d&gt;&quot;e&quot;\\" in draw_dot(x * 2, style="circuit").source


def test_precision():
    x = Value(1 / 3, label="x")
    assert "data 0.33 |" in draw_dot(x * 1, precision=2).source
    assert "data 0.333333 |" in draw_dot(x * 1, precision=6).source


def test_highlights_and_legend_in_the_ops_own_words():
    x = Value(-1.0, label="x")
    dead = x.relu()
    saturated = (x * 50).sigmoid()
    huge = x * 1e6
    out = dead + saturated + huge
    out.backward()
    source = draw_dot(out).source
    assert "style=dashed" in source  # the blocked relu input
    assert "fillcolor=orange" in source  # saturated sigmoid
    assert "fillcolor=plum" in source  # x's gradient is about 1e6
    assert "the relu was off (input &lt;= 0)" in source and "saturated gate" in source
    nan = Value(float("nan"), label="n") * 1
    assert "fillcolor=magenta" in draw_dot(nan).source


def test_a_title_and_a_readable_repr():
    f = lecture_circuit()
    diagram = draw_dot(f, style="circuit", title="the lecture's circuit <1>")
    assert "<b>the lecture's circuit &lt;1&gt;</b>" in diagram.source
    assert repr(diagram) == "Diagram(f: 5 values, circuit style; .source is the DOT text, .render(...) writes a file)"
    _, score = demo_score()
    assert repr(draw_dot(score, max_nodes=3)).startswith("Diagram(score: 1 of 402 values, record style;")
    assert repr(draw_dot(score, collapse="layer")).startswith("Diagram(score: 402 values in 3 boxes, record style;")


# ------------------------------------------------------------------ rendered by the real dot


@needs_dot
def test_rendered_svg_shows_values_gradients_and_colours():
    nodes, texts = svg_nodes(draw_dot(lecture_circuit(), style="circuit"))
    wires = [items for key, items in nodes.items() if key.startswith("w")]
    values = sorted(float(t) for items in wires for t, fill, _, _ in items if fill == "darkgreen")
    grads = sorted(float(t) for items in wires for t, fill, _, _ in items if fill == "#cd0000")  # dot writes red3 so
    assert values == sorted([3, -4, -2, 5, -12]) and grads == sorted([-4, 3, -4, -4, 1])
    for items in wires:
        (_, _, _, y_value), (_, _, _, y_grad) = items
        assert y_value < y_grad  # on each wire: its value above, its gradient below
    assert {"x", "y", "z", "f", "×", "+"} <= set(texts)
    record_svg = draw_dot(lecture_circuit()).pipe(format="svg").decode()
    assert "data &#45;12" in record_svg and "grad &#45;4" in record_svg


def table_rows(items) -> list[list[str]]:
    """The texts of a rendered table, row by row (top first), each row left to right."""
    rows: list[list[tuple[float, float, str]]] = []
    for text, _, x, y in sorted(items, key=lambda item: item[3]):
        if rows and abs(rows[-1][0][1] - y) < 5:
            rows[-1].append((x, y, text))
        else:
            rows.append([(x, y, text)])
    return [[text for _, _, text in sorted(row)] for row in rows]


@needs_dot
def test_the_demo_picture_rendered():
    model, score = demo_score()
    nodes, texts = svg_nodes(demo_diagram())
    assert f"MLP(2, [16, 16, 1]) on x = (0.5, -0.3): score {score.data:.4g}" in texts  # the title
    assert sorted(t for key in ("c0", "c1") for t, *_ in nodes[key]) == ["-0.3", "0.5"]  # the inputs
    for box, layer in (("g0", model.layers[0]), ("g1", model.layers[1])):
        rows = table_rows(nodes[box])
        assert rows[0] == [f"layers.{model.layers.index(layer)}", ": 16 neurons"]
        assert rows[1] == ["neuron", "out", "grad"]
        assert [int(row[0].split()[0]) for row in rows[2:]] == list(range(16))  # numeric order: 2 before 10
        for k, (name, value, grad) in enumerate(rows[2:]):
            relu = next(n for n in walk(score) if n.scope == layer.neurons[k].name and n.op is ops.relu)
            assert (value, grad) == (f"{relu.data:.4g}", f"{relu.grad:.4g}")  # its output and that output's gradient
            in_full = box == "g0" and k == 0
            assert ("(off)" in name) == (relu.data == 0.0 and not in_full) and ("(in full)" in name) == in_full
        colours = {fill for _, fill, _, _ in nodes[box]}
        assert {"darkgreen", "#cd0000"} <= colours  # values green, gradients red
    assert any("(off)" in row[0] for row in table_rows(nodes["g1"]))  # there are units off for this input
    # the neuron drawn in full: its weights and bias by name, the dot product, the relu
    assert {"w.0", "w.1", "b", "·", "relu", "neurons.0, in full", "score"} <= set(texts)
    first = model.layers[0].neurons[0]
    wires = [items for key, items in nodes.items() if key.startswith("w")]
    shown = {tuple(t for t, *_ in items) for items in wires}
    for p in (*first.w, first.b):
        assert (f"{p.data:.4g}", f"{p.grad:.4g}") in shown
    assert ("0.5",) in shown and ("-0.3",) in shown  # the inputs' wires into the dot carry their values
    # the legend explains the colours, the dot gate and what off means
    legend = " ".join(texts)
    assert "its value" in legend and "the gradient it carries back" in legend
    assert "dot: w0*x0 + w1*x1 + ... (+ bias) as one node" in legend
    assert "off for this input: the relu was off (input <= 0)" in legend


@needs_dot
def test_render_to_files_and_show_in_jupyter(tmp_path):
    f = lecture_circuit()
    for fmt, magic in (("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")):
        path = draw_dot(f).render(tmp_path / "circuit", format=fmt, cleanup=True)
        assert open(path, "rb").read(5).startswith(magic[:5])
    bundle = draw_dot(f, style="circuit")._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")


# ------------------------------------------------------------------ large graphs


def test_collapse_by_layer_draws_one_box_per_layer_and_one_neuron_in_full():
    _, score = demo_score()
    source = draw_dot(score, collapse="layer").source
    assert source.count('<table border="0" cellborder="1"') == 3  # a box per layer
    assert "<b>layers.0</b>: 16 neurons" in source and "<b>layers.2</b>" in source
    assert 'label="neurons.0, in full"' in source
    assert 'label="·"' in source and "label=relu" in source
    none = draw_dot(score, collapse="layer", expand=None).source
    assert "in full" not in none and 'label="·"' not in none
    third = draw_dot(score, collapse="layer", expand="layers.1.neurons.3", style="circuit").source
    dot_id = re.search(r'(n\d+) \[label="·"', third).group(1)
    assert len(re.findall(rf"w\d+ -> {dot_id}[\n ]", third)) == 33  # 16 weights, 16 inputs from layers.0's rows, a bias
    assert len(re.findall(r"g0:u\d+:e -> w\d+", third)) == 16
    assert "style=dashed" in third and '">-0<' not in third  # 0 times a negative gradient reads 0, not -0


def test_collapse_by_scope_in_numeric_order():
    _, score = demo_score()
    source = draw_dot(score, collapse="scope").source
    boxes = re.findall(r"<b>(layers\.\d+\.neurons\.\d+)</b>", source)
    assert len(boxes) == 33
    assert boxes[:16] == [f"layers.0.neurons.{k}" for k in range(16)]  # 2 before 10
    assert draw_dot(score, collapse="neuron").source == source  # the older name


def test_collapse_by_module_scopes_of_any_depth():
    x = [Value(0.5), Value(-1.0)]
    with scope("block"):
        with scope("attn"):
            heads = []
            for h in range(3):
                with scope(f"head.{h}"):
                    heads.append((x[0] * (h + 1) + x[1]).tanh())
        with scope("mlp"):
            out = Value.sum(heads).relu()
    with scope("loss"):
        loss = (out - 1.0) ** 2
    loss.backward()
    by_scope = draw_dot(loss, collapse="scope").source
    for box in ("block.attn.head.0", "block.attn.head.1", "block.attn.head.2", "block.mlp", "loss"):
        assert f"<b>{box}</b>" in by_scope
    assert "{rank=same; g0 -> g1 -> g2 [style=invis]}" in by_scope  # the heads side by side, in order
    by_layer = draw_dot(loss, collapse="layer", expand=None).source
    assert "<b>block.attn</b>: 3 heads" in by_layer and "block.attn.head" not in by_layer
    assert re.findall(r"<b>([\w.]+)</b>", draw_dot(loss, collapse=1).source) == ["block", "loss"]
    assert re.findall(r"<b>([\w.]+)</b>", draw_dot(loss, collapse=2).source) == ["block.attn", "block.mlp", "loss"]
    by_three = draw_dot(loss, collapse=3, style="circuit").source  # units named by a number alone
    assert "<b>block.attn.head</b>: 3 units" in by_three and "<i>unit</i>" in by_three
    assert 'label="0, in full"' in draw_dot(loss, collapse=3, expand="block.attn.head.0").source
    expanded = draw_dot(loss, collapse="scope", expand="block.attn.head.1", style="circuit").source
    assert 'label="head.1, in full"' not in expanded and 'label="block.attn.head.1, in full"' in expanded
    assert "label=tanh" in expanded


@needs_dot
def test_every_way_of_drawing_renders_without_a_warning():
    _, score = demo_score()
    with scope("outside"):
        loss = (score - 1.0) ** 2 + score * 0.5
    loss.backward()
    options = [{}, {"collapse": "scope"}, {"collapse": "layer"}, {"collapse": 2}, {"max_nodes": 40}]
    for style in ("record", "circuit"):
        for extra in options:
            source = draw_dot(loss, style=style, title="t", names=[("x", score)], **extra).source
            done = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True)
            assert done.returncode == 0 and not done.stderr, (style, extra, done.stderr.decode())


def drawn_gates(source: str, style: str) -> dict[str, int]:
    """{gate id: the number of wires into it} in a DOT text."""
    if style == "record":
        gates = re.findall(r"\t(n\d+op) \[label=", source)
        into = re.findall(r"\t\S+ -> (n\d+op)\b", source)
    else:
        gates = re.findall(r"\t(n\d+) \[label=\"[^\"]+\" fontsize=\d+ shape=(?:circle|ellipse)", source)
        into = re.findall(r"\tw\d+ -> (n\d+)[\n ]", source)
    return {gate: into.count(gate) for gate in gates}


@pytest.mark.parametrize("style", ["record", "circuit"])
def test_max_nodes_leaves_no_dangling_gate(style):
    model = MLP(2, [4, 4, 1], seed=0)
    score = model([0.5, -0.3])
    score.backward()
    order = walk(score)
    for budget in range(1, 60):
        source = draw_dot(score, max_nodes=budget, style=style).source
        gates = drawn_gates(source, style)
        for gate, wires in gates.items():
            node = order[int(gate[1:].removesuffix("op"))]
            numbers = sum(c is not None for c in node.constants) if not node.op.inputs else 0
            assert wires == len(node.children) + numbers, (budget, gate)  # every input wired, none missing
        drawn = set(re.findall(r"\t(n\d+) \[label=", source))
        assert len(drawn) <= budget
        if len(drawn) < len(order):
            assert "more values not drawn" in source
    # a value whose inputs did not fit is drawn without its gate, and the legend says what budget draws it
    source = draw_dot(score, max_nodes=3).source
    assert "n0op" not in source and "made by · from values not drawn" in source and "max_nodes=10" in source


def test_around_draws_one_neighbourhood():
    x = Value(1.0, label="x")
    chain = x
    for _ in range(10):
        chain = (chain * 2).tanh()
    middle = chain.children[0].children[0].children[0].children[0]
    source = draw_dot(chain, around=middle, depth=1).source
    assert source.count("shape=record") == 3 and "within 1 steps" in source
    assert len(drawn_gates(source, "record")) == 2  # the third value's input is outside: no gate for it
    with pytest.raises(ValueError, match="around="):
        draw_dot(chain, around=Value(5.0))


# ------------------------------------------------------------------ missing pieces and bad options


def test_a_missing_dot_names_the_install_command_and_source_still_works(monkeypatch):
    monkeypatch.setenv("PATH", "")
    graph = draw_dot(lecture_circuit())
    assert graph.source == GOLDEN_RECORD
    with pytest.raises(DotNotFound, match=r"apt-get install graphviz.*pip install 'circuitgrad\[draw\]'"):
        graph.pipe(format="svg")


def test_a_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match=r"pip install 'circuitgrad\[draw\]'"):
        draw_dot(lecture_circuit())


@needs_dot
def test_circuitgrad_writes_the_teaching_picture(tmp_path, capsys, monkeypatch):
    from nn.cli import _write_diagram

    model = MLP(2, [4, 4, 1], seed=0)
    path = _write_diagram(model, [0.5, -0.3], tmp_path)
    svg = path.read_text().replace("&#45;", "-")  # dot writes - as &#45;
    score = model([0.5, -0.3]).data
    assert f"MLP(2, [4, 4, 1]) on one input x = (0.5, -0.3): score {score:.4g}" in svg
    assert "layers.0.neurons" not in svg and "neurons.0, in full" in svg and "w.1" in svg
    assert all(p.grad == 0.0 for p in model.parameters())  # the model's gradients are left at zero
    monkeypatch.setitem(sys.modules, "graphviz", None)  # without the [draw] extra: a message, no diagram
    assert _write_diagram(model, [0.5, -0.3], tmp_path / "none") is None
    assert "pip install 'circuitgrad[draw]'" in capsys.readouterr().out


def test_bad_options():
    one = Value(1.0)
    bad = [
        (ValueError, "rankdir", {"rankdir": "XY"}),
        (ValueError, "collapse", {"collapse": "module"}),
        (ValueError, "collapse", {"collapse": 0}),
        (ValueError, "style", {"style": "fancy"}),
        (ValueError, "max_nodes", {"max_nodes": 0}),
        (TypeError, "max_nodes", {"max_nodes": True}),
        (TypeError, "max_nodes", {"max_nodes": 2.5}),
        (ValueError, "depth", {"depth": -1}),
        (TypeError, "depth", {"depth": 0.0}),
        (ValueError, "precision", {"precision": 0}),
        (TypeError, "large_grad", {"large_grad": "big"}),
        (ValueError, "saturated_below", {"saturated_below": float("nan")}),
        (TypeError, "around=", {"around": 3.0}),
        (TypeError, "names", {"names": "w"}),
        (TypeError, "names", {"names": {one: 3}}),
        (TypeError, "names", {"names": [("w", 1.0)]}),
        (TypeError, "title", {"title": 3}),
        (TypeError, "expand", {"collapse": "scope", "expand": 3}),
        (ValueError, "expand='nowhere'", {"collapse": "scope", "expand": "nowhere"}),
        (ValueError, "needs collapse=", {"expand": "layers.0"}),
        (ValueError, "with collapse= give neither", {"collapse": "layer", "max_nodes": 3}),
    ]
    for error, words, options in bad:
        with pytest.raises(error, match=re.escape(words)):
            draw_dot(one, **options)
    with pytest.raises(TypeError, match="draws a Value"):
        draw_dot(1.0)


def _update_goldens() -> None:
    """Rewrite the golden files from the current drawing (look at the pictures first)."""
    GOLDEN.mkdir(exist_ok=True)
    _, y = constants_circuit()
    (GOLDEN / "constants_circuit.dot").write_text(y.draw(style="circuit").source)
    (GOLDEN / "constants_record.dot").write_text(y.draw().source)
    (GOLDEN / "demo.dot").write_text(demo_diagram().source)


if __name__ == "__main__" and sys.argv[1:] == ["--update"]:
    _update_goldens()
