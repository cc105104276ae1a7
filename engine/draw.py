"""Graphviz diagrams of a Value's graph: every value and every gradient.

Two looks:

* ``style='record'`` (micrograd's): each value a record (label | data | grad),
  each op a small circle of its own;
* ``style='circuit'`` (the CS231n notes'): ops are gates, and every wire carries
  its forward value (green) and the gradient flowing back along it (red). The
  numbers sit on the wire itself, so where wires meet at a gate each pair
  belongs to one wire. Where a value feeds several gates each wire carries its
  own share of the gradient; the value's gradient is their sum.

Gates show their constants (``+1``, ``×2``, ``1/x``, ``x²``: the op's `gate`).
Numbers fed to a many-input op (the inputs of a first-layer neuron's ``·``)
are drawn as boxes of their own. `names` labels values, e.g. a model's
parameters: ``names=model.named_parameters()``.

Highlights, explained in a legend: wires whose local gradient is 0 (a relu that
was off, a clip outside its range: the gradient is blocked there, in the op's
own words, `Op.zero`), saturated gates (`Op.saturates`), very large gradients,
nan or inf. Before `backward()` has run the gradients are shown as not
computed, never as 0.

Large graphs stay readable:

* ``collapse='scope'`` draws one box per module scope (see `engine.scope`), of
  any depth (``layers.0.attn.head.3``); ``collapse='layer'`` merges numbered
  units (``neurons.3``, ``head.2``) into one box for their parent, a row per
  unit in numeric order, and draws one unit in full (``expand=``); an int k
  keeps the first k parts of each scope. Values outside every scope are drawn
  in full.
* ``max_nodes`` draws the values nearest the output, a gate always with all its
  inputs (a value whose inputs did not fit is drawn without its gate);
  ``around=node, depth=k`` draws one neighbourhood.

graphviz (the Python package) is imported only here, when a diagram is made;
rendering needs Graphviz's `dot` program. Node ids follow a breadth-first walk
from the root, so the same graph always gives the same DOT text.
"""

from __future__ import annotations

import math
import numbers
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .value import Value

if TYPE_CHECKING:
    import graphviz

PIP_INSTALL = "pip install 'circuitgrad[draw]'"
DOT_INSTALL = "sudo apt-get install graphviz (Debian/Ubuntu), brew install graphviz (macOS)"
GREEN, RED, GREY = "darkgreen", "red3", "gray55"
STYLES = ("record", "circuit")
COLLAPSES = ("scope", "neuron", "layer")  # 'neuron' is the older name of 'scope'
HIGHLIGHTS = {  # name: (colour, legend text); the fills are light enough to read black text on
    "off": ("gray80", "off for this input: {why}; no gradient passes back through it"),
    "blocked": (GREY, "dashed wire: local gradient 0 ({why}): nothing passes back along it"),
    "saturated": ("orange", "saturated gate: local gradient below {saturated_below:g}"),
    "large": ("plum", "|gradient| above {large_grad:g}"),
    "nonfinite": ("magenta", "nan or inf"),
    "expanded": ("lightblue", "drawn in full beside its box"),
}


class DotNotFound(RuntimeError):
    """Graphviz's dot program is needed to render a diagram and is not installed."""


def _graphviz() -> Any:
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            f"diagrams need the graphviz package: {PIP_INSTALL} (and Graphviz's dot program to render them: "
            f"{DOT_INSTALL})"
        ) from None
    return graphviz


def _no_dot(error: Exception) -> DotNotFound:
    return DotNotFound(
        f"rendering a diagram needs Graphviz's dot program, which is not installed: {DOT_INSTALL}; "
        f"the Python side comes with {PIP_INSTALL}. The DOT text needs neither: .source"
    )


_diagram_class = None


def _diagram(gv: Any) -> Any:
    """A graphviz.Digraph with a readable repr, whose rendering names the install command when dot is missing."""
    global _diagram_class
    if _diagram_class is None:

        class Diagram(gv.Digraph):
            """A drawing of a Value's graph: shown as SVG in Jupyter; ``.source`` is the DOT text."""

            summary = "a diagram"

            def __repr__(self) -> str:
                return f"Diagram({self.summary}; .source is the DOT text, .render(...) writes a file)"

            def pipe(self, *args, **kwargs):
                try:
                    return super().pipe(*args, **kwargs)
                except gv.ExecutableNotFound as error:
                    raise _no_dot(error) from error

            def render(self, *args, **kwargs):
                try:
                    return super().render(*args, **kwargs)
                except gv.ExecutableNotFound as error:
                    raise _no_dot(error) from error

        _diagram_class = Diagram
    return _diagram_class


# ---------------------------------------------------------------------------- the graph


def _walk(root: Value) -> list[Value]:
    """Every node behind root (leaves included), each once, breadth first from the root."""
    seen = {root}
    order = [root]
    queue = deque([root])
    while queue:
        for child in queue.popleft().children:
            if child not in seen:
                seen.add(child)
                order.append(child)
                queue.append(child)
    return order


def _natural(text: str) -> tuple:
    """A sort key reading the numbers in a name as numbers: neurons.2 before neurons.10."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text))


def _many_inputs(node: Value) -> bool:
    """True for an op of any number of inputs (sum, dot): its gate cannot name its constants."""
    return node.op is not None and not node.op.inputs


def _constants(node: Value) -> list[tuple[int, float]]:
    """(position, number) of each number among the inputs of a many-input op."""
    if not _many_inputs(node):
        return []
    return [(k, c) for k, c in enumerate(node.constants) if c is not None]


def _off(node: Value) -> bool:
    """A node whose every local gradient is 0: nothing it receives passes back (a relu that is off)."""
    return node.op is not None and bool(node.locals) and all(local == 0.0 for local in node.locals)


def _escape(text: str) -> str:
    """Escape the characters that record labels give a meaning to."""
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# ---------------------------------------------------------------------------- numbers and colours


class _Painter:
    """Formats numbers and decides highlights the same way for every look; collects the legend."""

    def __init__(self, root: Value, nodes: list[Value], precision: int, saturated_below: float, large_grad: float):
        self.precision = precision
        self.saturated_below = saturated_below
        self.large_grad = large_grad
        # backward() always sets the root's gradient; before it has run, every grad is 0.0
        self.computed = root.grad != 0.0 or any(node.grad != 0.0 for node in nodes)
        self.used: dict[str, list[str]] = {}  # highlight -> the reasons seen (the ops' own words)
        self.lines: list[str] = []  # legend lines explaining the look, in HTML, each once
        self.gates: dict[str, str] = {}  # gate label -> what it is, for labels that do not say it
        self.notes: list[str] = []

    def number(self, x: float) -> str:
        return f"{x + 0.0:.{self.precision}g}"  # + 0.0: a -0.0 (0 times a negative gradient) reads 0

    def grad(self, node: Value) -> str:
        return self.number(node.grad) if self.computed else "not computed"

    def node_highlight(self, node: Value) -> str | None:
        if not (math.isfinite(node.data) and math.isfinite(node.grad)):
            return self.use("nonfinite")
        if self.computed and abs(node.grad) > self.large_grad:
            return self.use("large")
        if node.op is not None and node.op.saturates and abs(node.locals[0]) < self.saturated_below:
            return self.use("saturated")
        return None

    def blocked(self, node: Value, local: float) -> bool:
        """Whether the wire into `node` with this local gradient passes nothing back (noted for the legend)."""
        if local == 0.0:
            self.use("blocked", node.op.zero if node.op is not None else "")
            return True
        return False

    def off(self, node: Value) -> bool:
        """Whether nothing `node` receives passes back (a relu that is off), noted for the legend."""
        if _off(node):
            self.use("off", node.op.zero if node.op is not None else "")
            return True
        return False

    def say(self, line: str) -> None:
        """Add a line (HTML) to the legend, once."""
        if line not in self.lines:
            self.lines.append(line)

    def use(self, name: str, why: str = "") -> str:
        reasons = self.used.setdefault(name, [])
        if why and why not in reasons:
            reasons.append(why)
        return HIGHLIGHTS[name][0]

    def gate(self, node: Value) -> str:
        """The node's gate label; one that does not say what it computes goes into the legend."""
        op = node.op
        assert op is not None
        label = op.gate(node)
        if label not in self.gates:
            doc = (op.__doc__ or "").strip().splitlines()[0].split(";")[0].strip().rstrip(".")
            own = doc and doc != f"The op {op.name!r}"
            if own or (len(label) == 1 and label not in "+-*/−×÷"):  # a symbol that does not say what it does
                self.gates[label] = op.name + (f": {doc}" if own else "")
        return label

    def legend(self, title: str | None) -> str | None:
        """The title and the legend as an HTML label, or None when there is nothing to say."""
        rows = [f'<tr><td colspan="2" align="left">{line}</td></tr>' for line in self.lines]
        for label, what in self.gates.items():
            rows.append(f'<tr><td align="center"><b>{_html(label)}</b></td><td align="left">{_html(what)}</td></tr>')
        for name, (colour, text) in HIGHLIGHTS.items():
            if name in self.used:
                why = "; ".join(self.used[name]) or "local gradient 0"
                shown = text.format(why=why, saturated_below=self.saturated_below, large_grad=self.large_grad)
                swatch = (
                    f'<td><font color="{GREY}">- - -</font></td>'
                    if name == "blocked"
                    else f'<td bgcolor="{colour}">   </td>'
                )
                rows.append(f'<tr>{swatch}<td align="left">{_html(shown)}</td></tr>')
        notes = self.notes if self.computed else ["gradients not computed yet: call backward()", *self.notes]
        rows += [f'<tr><td colspan="2" align="left">{_html(note)}</td></tr>' for note in notes]
        if not rows and not title:
            return None
        legend = (
            '<table border="1" color="gray70" style="rounded" cellborder="0" cellspacing="2" cellpadding="1">'
            + "".join(rows)
            + "</table>"
        )
        heading = f'<tr><td><font point-size="14"><b>{_html(title)}</b></font></td></tr>' if title else ""
        body = f"<tr><td>{legend}</td></tr>" if rows else ""
        return f'<<table border="0" cellspacing="6">{heading}{body}</table>>'


# ---------------------------------------------------------------------------- the drawing


class _Sketch:
    """The DOT being written: nodes in containers (the graph or a cluster), values drawn in full, wires.

    A value drawn in full has an outlet (where its wires leave: its record, its gate)
    and, when its gate is drawn, an inlet (where its inputs arrive: the op circle, the gate).
    """

    def __init__(
        self, graph: Any, painter: _Painter, style: str, rankdir: str, names: dict[Value, str], ids: dict[Value, str]
    ):
        self.graph = graph
        # the sides of a box where wires leave and arrive, following the flow
        self.out_side, self.in_side = {"LR": ("e", "w"), "RL": ("w", "e"), "TB": ("s", "n"), "BT": ("n", "s")}[rankdir]
        self.painter = painter
        self.style = style
        self.names = names
        self.ids = ids
        self.where: dict[str, Any] = {}  # DOT node id -> its container
        self.outlet: dict[Value, str] = {}
        self.inlet: dict[Value, str] = {}
        self.constant_ids: dict[tuple[int, int, float], str] = {}
        self.fanout: Counter[Value] = Counter()  # how many wires leave each value drawn in full
        self.wires = 0

    def name(self, node: Value, within: str = "") -> str:
        """The node's name (from names=), else its label; relative to the scope `within` when inside it."""
        name = self.names.get(node) or node.label
        if within and name.startswith(within + "."):
            return name[len(within) + 1 :]
        return name

    def node(self, container: Any, key: str, label: str, **attrs: str) -> str:
        container.node(key, label, **attrs)
        self.where[key] = container
        return key

    def edge(self, tail: str, head: str, **attrs: str) -> None:
        self.graph.edge(tail, head, **attrs)

    # -- values

    def value(self, node: Value, container: Any, gate: bool, within: str = "") -> None:
        """Draw `node` in full: with its gate when `gate` (its inputs are drawn), else as a value alone."""
        (self._circuit if self.style == "circuit" else self._record)(node, container, gate, within)

    def _record(self, node: Value, container: Any, gate: bool, within: str) -> None:
        key = self.ids[node]
        name = self.name(node, within)
        parts = [_escape(name)] if name else []
        parts += [f"data {self.painter.number(node.data)}", f"grad {self.painter.grad(node)}"]
        if node.op is not None and not gate:
            parts.append(_escape(f"made by {node.op.gate(node)} from values not drawn"))
        colour = self.painter.node_highlight(node)
        extra = {"style": "filled", "fillcolor": colour} if colour else {}
        self.outlet[node] = self.node(container, key, "{ " + " | ".join(parts) + " }", shape="record", **extra)
        if node.op is not None and gate:
            label = self.painter.gate(node)
            op = self.node(container, key + "op", _escape(label), shape="circle", width="0.3", **_gate_font(label))
            self.inlet[node] = op
            self.edge(op, key)

    def _circuit(self, node: Value, container: Any, gate: bool, within: str) -> None:
        key = self.ids[node]
        colour = self.painter.node_highlight(node)
        extra = {"style": "filled", "fillcolor": colour} if colour else {}
        total = self._total(node)
        if node.op is not None and gate:
            label = self.painter.gate(node)
            shape = "circle" if len(label) <= 3 else "ellipse"
            if total:
                extra["xlabel"] = total
            self.outlet[node] = self.inlet[node] = self.node(
                container, key, _escape(label), shape=shape, **_gate_font(label), **extra
            )
        elif node.op is not None:  # its inputs are not drawn: the value alone, never a gate without inputs
            name = self.name(node, within)
            label = (name + "\n" if name else "") + f"{node.op.gate(node)} of values not drawn"
            style = "dashed,filled" if colour else "dashed"
            self.outlet[node] = self.node(
                container, key, _escape(label), shape="box", style=style, **({"fillcolor": colour} if colour else {})
            )
        else:
            name = _html(self.name(node, within) or self.painter.number(node.data))
            label = f"<{name}<br/>{total[1:-1]}>" if total else f"<{name}>"
            self.outlet[node] = self.node(container, key, label, shape="plaintext", fontsize="14", **extra)

    def _total(self, node: Value) -> str:
        """For a value feeding several wires (each carrying its share back), its gradient: their sum."""
        if self.fanout.get(node, 0) < 2 or not self.painter.computed:
            return ""
        self.painter.say(
            "where a value feeds several wires, each carries back its own share; "
            f'<font color="{RED}">the value\'s gradient</font> (beside it) is their sum'
        )
        return f'<<font color="{RED}" point-size="10">{_html(self.painter.number(node.grad))}</font>>'

    def constant(self, container: Any, node: Value, position: int, number: float) -> str:
        """The box of a number fed to a many-input op; gates of one shape share it (a layer's inputs)."""
        key = (len(node.constants), position, number)
        if key not in self.constant_ids:
            label = self.painter.number(number)
            self.constant_ids[key] = self.node(
                container, f"c{len(self.constant_ids)}", label, shape="box", style="rounded", color=GREY
            )
            if len(self.constant_ids) == 1:
                self.painter.say(
                    f'<font color="{GREY}">a grey box</font>: a plain number fed to a gate (an input or a '
                    "constant): it has no gradient"
                )
        return self.constant_ids[key]

    # -- wires

    def wire(
        self, tail: str, head: str, value: float, grad: float | None, blocked: bool = False, role: str = ""
    ) -> None:
        """A wire from tail to head carrying a value forward and (if given) a gradient back; `role` names
        the input it is at its head (a, b) where the order matters.

        In the circuit look the numbers are a node on the wire; in the record look the
        values are in the records, and the wire is a plain edge.
        """
        style = {"style": "dashed", "color": GREY} if blocked else {}
        if self.style != "circuit":
            at_head = {"headlabel": role, "labelfontcolor": GREY} if role else {}
            self.edge(tail, head, **style, **at_head)
            return
        text = f'<font color="{GREEN}">{_html(self.painter.number(value))}</font>'
        if role:
            text = f'<font color="{GREY}">{_html(role)} =</font> ' + text
        if grad is not None and self.painter.computed:
            text += f'<br/><font color="{RED}">{_html(self.painter.number(grad))}</font>'
        container = self.where.get(head.split(":")[0], self.graph)  # on the head's side of a cluster's border
        key = self.node(container, f"w{self.wires}", f"<{text}>", shape="plaintext", margin="0.02", width="0")
        self.wires += 1
        self.edge(tail, key, arrowhead="none", **style)
        self.edge(key, head, **style)

    def stack(self, keys: list[str], always: bool = False) -> None:
        """Keep these nodes (a gate's leaves, sibling boxes) side by side, in this order, when they share a
        container. Records only when `always` (dot cannot order records this way): boxes are not records."""
        if self.style != "circuit" and not always:
            return
        for container in dict.fromkeys(self.where[key] for key in keys):
            inside = [key for key in keys if self.where[key] is container]
            if len(inside) > 1:
                container.body.append("\t{rank=same; " + " -> ".join(inside) + " [style=invis]}\n")

    def link(self, tail: str, head: str, label: str = "", blocked: bool = False) -> None:
        """A plain edge between boxes, with an optional label (how many values cross)."""
        style = {"style": "dashed", "color": GREY} if blocked else {}
        self.edge(tail, head, **({"label": label} if label else {}), **style)


def _gate_font(label: str) -> dict[str, str]:
    """Gates are read first: their symbols large (a lone · is otherwise a speck)."""
    return {"fontsize": "22" if len(label) == 1 else "14"}


def _wire_grad(node: Value, local: float) -> float:
    """The gradient a wire into `node` carries back: local gradient times the node's gradient."""
    return local * node.grad


# ---------------------------------------------------------------------------- the entry point


def draw_dot(
    root: Value,
    style: str = "record",
    rankdir: str = "LR",
    collapse: str | int | None = None,
    max_nodes: int | None = None,
    around: Value | None = None,
    depth: int = 2,
    precision: int = 4,
    saturated_below: float = 1e-3,
    large_grad: float = 1e3,
    *,
    expand: str | Iterable[str] | None = "auto",
    names: Mapping[Value, str] | Iterable[tuple[str, Value]] | None = None,
    title: str | None = None,
) -> graphviz.Digraph:
    """A `graphviz.Digraph` of the graph behind `root`; in Jupyter it shows inline as SVG.

    Render it to a file with ``.render('name', format='svg' | 'png' | 'pdf')`` or get
    the bytes with ``.pipe(format=...)``; ``.source`` is the DOT text (no `dot`
    needed). `precision` is the number of significant digits shown.

    * `style`: ``'record'`` or ``'circuit'`` (see the module's docstring).
    * `collapse`: ``'scope'`` (alias ``'neuron'``): a box per module scope;
      ``'layer'``: a box per layer, a row per unit, one unit drawn in full;
      an int k: a box per first k parts of the scopes.
    * `expand`: with `collapse`, the scope(s) drawn in full inside their box
      (``'layers.0.neurons.3'``); ``'auto'`` picks the first unit that passes a
      gradient back, in the first box of several units, for ``collapse='layer'``;
      None draws none.
    * `max_nodes`, `around` and `depth`: draw part of a large graph.
    * `names`: a mapping Value -> name, or (name, Value) pairs such as
      ``model.named_parameters()``; names replace labels.
    * `title`: a line drawn above the diagram.
    """
    options = _check(root, style, rankdir, collapse, max_nodes, around, depth, precision, saturated_below, large_grad)
    named = _check_names(names)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"draw_dot: title must be a str or None, not {type(title).__name__}")
    if collapse is not None and (max_nodes is not None or around is not None):
        raise ValueError("draw_dot: max_nodes and around= draw part of a full graph; with collapse= give neither")
    nodes = _walk(root)
    if around is not None and around not in set(nodes):
        raise ValueError("around= must be a node of the graph being drawn")
    if collapse is None and expand not in (None, "auto"):
        raise ValueError("draw_dot: expand= names the scopes drawn in full inside their boxes: it needs collapse=")
    expanded = _check_expand(expand, nodes) if collapse is not None else []
    graph = _diagram(_graphviz())(
        graph_attr={"rankdir": rankdir, "fontsize": "10", "fontname": "Helvetica", **options},
        node_attr={"fontsize": "10", "fontname": "Helvetica"},
        edge_attr={"fontsize": "9", "fontname": "Helvetica"},
    )
    ids = {node: f"n{i}" for i, node in enumerate(nodes)}
    painter = _Painter(root, nodes, precision, saturated_below, large_grad)
    sketch = _Sketch(graph, painter, style, rankdir, named, ids)
    if style == "circuit":
        painter.say(
            f'on each wire: <font color="{GREEN}">its value</font> (forward) and, below, '
            f'<font color="{RED}">the gradient it carries back</font>, d {_html(_root_name(root, named))} / d value'
        )
    if collapse is not None:
        boxes = _draw_collapsed(sketch, root, nodes, collapse, expanded)
        graph.summary = f"{_root_name(root, named)}: {len(nodes)} values in {boxes} boxes, {style} style"
    else:
        shown, gates = _select(root, nodes, max_nodes, around, depth, painter)
        _draw_full(sketch, root, shown, gates)
        graph.summary = f"{_root_name(root, named)}: {len(shown)} of {len(nodes)} values, {style} style"
        if len(shown) == len(nodes):
            graph.summary = f"{_root_name(root, named)}: {len(nodes)} values, {style} style"
    heading = painter.legend(title)
    if heading is not None:  # the title, then the legend, above the drawing
        graph.attr(label=heading, labelloc="t", labeljust="c")
    return graph


def _root_name(root: Value, names: dict[Value, str]) -> str:
    return names.get(root) or root.label or "output"


def _check(
    root: object,
    style: object,
    rankdir: object,
    collapse: object,
    max_nodes: object,
    around: object,
    depth: object,
    precision: object,
    saturated_below: object,
    large_grad: object,
) -> dict[str, str]:
    """Every option, checked before anything is drawn; the extra graph attributes they ask for."""
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot draws a Value, not {type(root).__name__}")
    if style not in STYLES:
        raise ValueError(f"style must be 'record' or 'circuit', not {style!r}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be one of LR, TB, RL, BT, not {rankdir!r}")
    if isinstance(collapse, int) and not isinstance(collapse, bool):
        _whole("collapse", collapse, 1)
    elif not (collapse is None or collapse in COLLAPSES):
        raise ValueError(f"collapse must be None, 'scope', 'layer', 'neuron' or a whole number >= 1, not {collapse!r}")
    if max_nodes is not None:
        _whole("max_nodes", max_nodes, 1)
    if around is not None and not isinstance(around, Value):
        raise TypeError(f"around= must be a Value of the graph being drawn, not {type(around).__name__}")
    _whole("depth", depth, 0)
    _whole("precision", precision, 1)
    for name, number in (("saturated_below", saturated_below), ("large_grad", large_grad)):
        if isinstance(number, bool) or not isinstance(number, numbers.Real):
            raise TypeError(f"{name} must be a number >= 0, not {type(number).__name__}")
        if not float(number) >= 0:
            raise ValueError(f"{name} must be a number >= 0, not {number!r}")
    return {"newrank": "true"} if collapse is not None else {}


def _whole(name: str, x: object, least: int) -> None:
    """Check that an option is a whole number >= least: a TypeError for another type, a ValueError below."""
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"{name} must be a whole number >= {least}, not {type(x).__name__}")
    if x < least:
        raise ValueError(f"{name} must be a whole number >= {least}, not {x!r}")


def _check_names(names: object) -> dict[Value, str]:
    """names= as a dict Value -> name, from a mapping or from (name, Value) pairs."""
    if names is None:
        return {}
    hint = "a mapping Value -> name, or (name, Value) pairs such as model.named_parameters()"
    if isinstance(names, (str, bytes)) or not isinstance(names, (Mapping, Iterable)):
        raise TypeError(f"draw_dot: names must be {hint}, not {type(names).__name__}")
    if isinstance(names, Mapping):
        pairs = [(value, name) for value, name in names.items()]
    else:
        pairs = []
        for pair in names:
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise TypeError(f"draw_dot: names must be {hint}; found {pair!r}")
            pairs.append((pair[1], pair[0]))
    for value, name in pairs:
        if not isinstance(value, Value) or not isinstance(name, str):
            raise TypeError(f"draw_dot: names must be {hint}; found {type(value).__name__} -> {name!r}")
    return dict(pairs)


def _check_expand(expand: object, nodes: list[Value]) -> list[str]:
    """The scopes expand= names ('auto' is decided later), each checked against the graph's scopes."""
    if expand is None or expand == "auto":
        return [expand] if expand else []
    hint = "a scope's name, a list of them, 'auto' or None"
    if not isinstance(expand, (str, Iterable)):
        raise TypeError(f"draw_dot: expand must be {hint}, not {type(expand).__name__}")
    wanted = [expand] if isinstance(expand, str) else list(expand)
    if not all(isinstance(name, str) and name for name in wanted):
        raise TypeError(f"draw_dot: expand must be {hint}, not {expand!r}")
    scopes = {node.scope for node in nodes}
    for name in wanted:
        if not any(s == name or s.startswith(name + ".") for s in scopes):
            known = ", ".join(sorted((s for s in scopes if s), key=_natural)[:6])
            raise ValueError(f"draw_dot: expand={name!r} names no scope of this graph (its scopes: {known}, ...)")
    return wanted


# ---------------------------------------------------------------------------- the whole graph, or part of it


def _select(
    root: Value, nodes: list[Value], max_nodes: int | None, around: Value | None, depth: int, painter: _Painter
) -> tuple[list[Value], set[Value]]:
    """The values to draw, nearest the output first, and the gates drawn (those whose inputs are all drawn)."""
    shown = nodes
    if around is not None:
        shown = _neighbourhood(nodes, around, depth)
        painter.notes.append(f"{len(shown)} of {len(nodes)} values: those within {depth} steps of the chosen one")
    if max_nodes is not None and len(shown) > max_nodes:
        left_out = shown
        shown, needed = _within_budget(shown, max_nodes)
        kept = set(shown)
        left_out = [node for node in left_out if node not in kept]
        kinds = Counter(node.op.name if node.op is not None else "leaf" for node in left_out)
        summary = ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
        painter.notes.append(f"{len(left_out)} more values not drawn ({summary})")
        if needed:
            painter.notes.append(f"values made from values not drawn show no gate: max_nodes={needed} draws the next")
    kept = set(shown)
    return shown, {node for node in shown if node.children and all(child in kept for child in node.children)}


def _within_budget(candidates: list[Value], max_nodes: int) -> tuple[list[Value], int]:
    """At most max_nodes of the candidates, breadth first from the top ones (the root); a gate's inputs are
    taken all together or not at all. Also the budget that would draw the first gate left without its inputs."""
    allowed = set(candidates)
    below = {child for node in candidates for child in node.children}
    chosen = [node for node in candidates if node not in below][:max_nodes]  # the root, or around='s tops
    seen = set(chosen)
    queue = deque(chosen)
    needed = 0
    while queue:
        node = queue.popleft()
        new = [child for child in dict.fromkeys(node.children) if child in allowed and child not in seen]
        if len(chosen) + len(new) > max_nodes:
            needed = needed or len(chosen) + len(new)
            continue  # this gate's inputs do not fit: it is drawn as a value alone
        seen.update(new)
        chosen.extend(new)
        queue.extend(new)
    order = {node: k for k, node in enumerate(candidates)}
    return sorted(chosen, key=order.__getitem__), needed


def _neighbourhood(nodes: list[Value], around: Value, depth: int) -> list[Value]:
    """The values within `depth` steps of `around`, along wires either way, in the walk's order."""
    neighbours: dict[Value, list[Value]] = {node: [] for node in nodes}
    for node in nodes:
        for child in node.children:
            neighbours[node].append(child)
            neighbours[child].append(node)
    distance = {around: 0}
    queue = deque([around])
    while queue:
        node = queue.popleft()
        if distance[node] < depth:
            for other in neighbours[node]:
                if other not in distance:
                    distance[other] = distance[node] + 1
                    queue.append(other)
    return [node for node in nodes if node in distance]


def _draw_full(sketch: _Sketch, root: Value, shown: list[Value], gates: set[Value]) -> None:
    """Every shown value in full, then a wire for every input of every drawn gate."""
    sketch.fanout = Counter(child for node in gates for child in node.children)
    sketch.fanout[root] += sketch.style == "circuit"  # the wire to the output
    for node in shown:
        sketch.value(node, sketch.graph, node in gates)
    uses = Counter(child for node in gates for child in dict.fromkeys(node.children))
    for node in shown:
        if node in gates:
            _wires_into(sketch, node, sketch.outlet, uses)
    if sketch.style == "circuit":
        _output(sketch, root, sketch.outlet[root])


def _inputs(node: Value) -> list[tuple[Value | float, float | None, int]]:
    """A gate's inputs in order, each (child, its local gradient, -1) or (number, None, position): the numbers
    fed to a many-input op get boxes of their own; other ops show theirs on the gate."""
    op = node.op
    assert op is not None
    locals_ = iter(zip(node.children, node.locals))
    many = _many_inputs(node)
    inputs: list[tuple[Value | float, float | None, int]] = []
    for position, argument in enumerate(op.arguments(node)):
        if isinstance(argument, Value):
            child, local = next(locals_)
            inputs.append((child, local, -1))
        elif many:
            inputs.append((argument, None, position))
    return inputs


def _roles(node: Value) -> list[str]:
    """The names of a gate's inputs (a, b), when which wire is which matters: swapping two of its Value inputs
    changes its output (a - b, a / b, a ** b; not a + b). Probed at distinct positive numbers."""
    op = node.op
    assert op is not None
    if not op.inputs or len(node.children) < 2:
        return []
    arguments = op.arguments(node)
    probe = [0.7 + 0.3 * k if isinstance(a, Value) else a for k, a in enumerate(arguments)]
    values = [k for k, a in enumerate(arguments) if isinstance(a, Value)]
    try:
        out = op.evaluate(*probe)[0]
        for i, j in zip(values, values[1:]):
            swapped = list(probe)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            if op.evaluate(*swapped)[0] != out:
                return [op.inputs[k] for k in values]
    except (ArithmeticError, ValueError, TypeError):
        return [op.inputs[k] for k in values]
    return []


def _wires_into(sketch: _Sketch, node: Value, tail_of: Mapping[Value, str], uses: Counter[Value]) -> None:
    """The wires into a gate drawn in full, in the order of its inputs; its leaves stacked in that order."""
    stack: list[str] = []  # the leaves (used by this gate alone) and numbers' boxes feeding it
    roles = _roles(node)
    for k, (child, local, position) in enumerate(_inputs(node)):
        if isinstance(child, Value):
            assert local is not None
            blocked = sketch.painter.blocked(node, local)
            role = roles[k] if roles else ""  # roles come with fixed inputs, where numbers are not among _inputs
            sketch.wire(tail_of[child], sketch.inlet[node], child.data, _wire_grad(node, local), blocked, role)
            if child.is_leaf() and uses[child] == 1 and child in sketch.outlet:
                stack.append(sketch.outlet[child])
        else:
            box = sketch.constant(sketch.graph, node, position, child)
            sketch.wire(box, sketch.inlet[node], child, None)
            stack.append(box)
    sketch.stack(stack)


def _output(sketch: _Sketch, root: Value, tail: str) -> None:
    name = _root_name(root, sketch.names)
    sketch.node(sketch.graph, "output", _escape(name), shape="plaintext", fontsize="14")
    sketch.wire(tail, "output", root.data, root.grad)


# ---------------------------------------------------------------------------- boxes per scope


def _group_of(unit: str, collapse: str | int) -> str:
    """The box a scope goes into: itself; its parent for a numbered unit ('layer'); its first k parts."""
    if isinstance(collapse, int):
        return ".".join(unit.split(".")[:collapse])
    if collapse == "layer":
        parts = unit.split(".")
        if len(parts) >= 3 and parts[-1].isdigit():  # layers.0.neurons.3 -> layers.0; head.2 -> its attention
            return ".".join(parts[:-2])
    return unit


def _draw_collapsed(sketch: _Sketch, root: Value, nodes: list[Value], collapse: str | int, expand: list[str]) -> int:
    """One box per group of scopes, a row per unit; the values outside every scope, and expanded units, in full.

    Returns the number of boxes drawn.
    """
    painter = sketch.painter
    parents: dict[Value, list[Value]] = {}
    for node in nodes:
        for child in dict.fromkeys(node.children):
            parents.setdefault(child, []).append(node)
    unit = {node: node.scope for node in nodes}
    for node in nodes:  # a parameter (a leaf made outside any scope) belongs to the one unit that uses it
        users = {p.scope for p in parents.get(node, ())}
        if not node.scope and node.is_leaf() and len(users) == 1:
            unit[node] = next(iter(users))
    grouped: dict[str, dict[str, list[Value]]] = {}  # box -> unit -> its nodes
    for node in nodes:
        if unit[node]:
            grouped.setdefault(_group_of(unit[node], collapse), {}).setdefault(unit[node], []).append(node)
    groups = {
        group: dict(sorted(members.items(), key=lambda item: _natural(item[0])))
        for group, members in sorted(grouped.items(), key=lambda item: _natural(item[0]))
    }

    def leaving(members: list[Value], scope: str) -> list[Value]:
        """A unit's outputs: its values used outside it (or the root)."""
        return [n for n in members if n is root or any(unit[p] != scope for p in parents.get(n, ()))]

    if expand == ["auto"]:  # one unit alone, not the scopes inside it
        chosen = _auto_expand(groups, leaving) if collapse == "layer" else ""
        in_full = {node for node in nodes if not unit[node] or unit[node] == chosen}
    else:
        in_full = {node for node in nodes if not unit[node] or any(_inside(unit[node], e) for e in expand)}

    outlet: dict[Value, str] = {}  # where a boxed value's wires leave: its unit's row
    box_of: dict[Value, str] = {}
    for g, members in enumerate(groups.values()):
        for k, (u, members_of_u) in enumerate(members.items()):
            if not all(n in in_full for n in members_of_u):
                outlet.update((node, f"g{g}:u{k}:{sketch.out_side}") for node in leaving(members_of_u, u))
                box_of.update((node, f"g{g}") for node in members_of_u)
    for node in in_full:  # how many wires leave each value drawn in full: one to each gate, one to each box
        using = parents.get(node, [])
        boxes = {box_of[p] for p in using if p not in in_full}
        sketch.fanout[node] = sum(p.children.count(node) for p in using if p in in_full) + len(boxes) + (node is root)

    digraph = _graphviz().Digraph
    clusters = []  # (container, cluster), merged last: wires placed inside a cluster must be in it by then
    for g, (group, members) in enumerate(groups.items()):
        full_units = [u for u in members if all(n in in_full for n in members[u])]
        label = _box_label(group, members, full_units, leaving, painter)
        if label is not None:
            sketch.node(sketch.graph, f"g{g}", label, shape="plaintext")
        for k, u in enumerate(members):
            if u in full_units:
                inner = digraph(name=f"cluster_g{g}_{k}")
                inner.attr(label=f"{_relative(u, group)}, in full", style="dashed", color=GREY, fontsize="10")
                clusters.append((sketch.graph, inner))
                for node in members[u]:
                    sketch.value(node, inner, gate=node.op is not None, within=u)
    for node in nodes:
        if not unit[node]:
            sketch.value(node, sketch.graph, gate=node.op is not None)

    # the wires: between values in full, from a box's row to a value in full, into a box, between boxes
    into: dict[tuple[str, str], list[tuple[Value, Value, float]]] = {}
    between: dict[tuple[str, str], list[tuple[Value, Value, float]]] = {}
    numbers: dict[str, list[tuple[Value, int, float]]] = {}  # box -> the numbers its gates take
    fed: set[str] = set()  # the boxes with values coming in
    tail_of = {**outlet, **sketch.outlet}
    uses = Counter({child: len(users) for child, users in parents.items()})
    for node in reversed(nodes):  # from the inputs towards the output
        if node in in_full:
            if node.op is not None:
                _wires_into(sketch, node, tail_of, uses)
            continue
        box = box_of[node]
        numbers.setdefault(box, []).extend((node, position, number) for position, number in _constants(node))
        for child, local in zip(node.children, node.locals):
            if child in in_full:
                into.setdefault((sketch.outlet[child], f"{box}:{sketch.in_side}"), []).append((child, node, local))
                fed.add(box)
            elif box_of[child] != box:
                tail, head = f"{box_of[child]}:{sketch.out_side}", f"{box}:{sketch.in_side}"
                between.setdefault((tail, head), []).append((child, node, local))
                fed.add(box)
    for box, taken in numbers.items():  # a first box's numbers are the graph's inputs: drawn; others stay inside
        if box not in fed:
            for key in dict.fromkeys(sketch.constant(sketch.graph, node, k, number) for node, k, number in taken):
                sketch.link(key, f"{box}:{sketch.in_side}")
    for (tail, head), wires in into.items():
        grad = math.fsum(_wire_grad(node, local) for _, node, local in wires)
        sketch.wire(tail, head, wires[0][0].data, grad, _all_blocked(painter, wires))
    for (tail, head), wires in between.items():
        count = len({child for child, _, _ in wires})
        sketch.link(tail, head, f"{count} value" + ("s" if count != 1 else ""), _all_blocked(painter, wires))
    _side_by_side(sketch, groups, {(t.split(":")[0], h.split(":")[0]) for t, h in between})
    _output(sketch, root, sketch.outlet[root] if root in in_full else outlet[root])
    for container, cluster in clusters:
        container.subgraph(cluster)
    several = any(len(members) > 1 for members in groups.values())
    of = f"the gradient of {_html(_root_name(root, sketch.names))} with respect to it"
    painter.say(
        f'in each box, a row per {"unit" if several else "output"}: <font color="{GREEN}">'
        f'{"its output" if several else "its value"}</font> and <font color="{RED}">{of}</font>'
    )
    return len(groups)


def _all_blocked(painter: _Painter, wires: list[tuple[Value, Value, float]]) -> bool:
    """Whether nothing passes back along any of these wires (then noted for the legend)."""
    if all(local == 0.0 for _, _, local in wires):
        return all([painter.blocked(node, local) for _, node, local in wires])
    return False


def _side_by_side(sketch: _Sketch, groups: dict[str, dict[str, list[Value]]], edges: set[tuple[str, str]]) -> None:
    """Numbered sibling boxes that do not feed each other (the heads of an attention) side by side, in order."""
    siblings: dict[str, list[str]] = {}
    for g, group in enumerate(groups):
        stem, _, number = group.rpartition(".")
        if number.isdigit() and f"g{g}" in sketch.where:
            siblings.setdefault(stem, []).append(f"g{g}")
    for boxes in siblings.values():
        if len(boxes) > 1 and not any((a, b) in edges for a in boxes for b in boxes):
            sketch.stack(boxes, always=True)


def _inside(scope: str, name: str) -> bool:
    """Whether `scope` is the scope `name` or one inside it."""
    return scope == name or scope.startswith(name + ".")


def _relative(scope: str, group: str) -> str:
    return scope[len(group) + 1 :] if scope.startswith(group + ".") else scope


Leaving = Callable[[list[Value], str], list[Value]]  # a unit's values used outside it


def _auto_expand(units: dict[str, dict[str, list[Value]]], leaving: Leaving) -> str:
    """The unit drawn in full by default: in the first box of several units, the first small one that passes a
    gradient back ('' for none)."""
    for members in units.values():
        if len(members) < 2:
            continue
        for name, nodes in members.items():
            if len(nodes) <= 20 and not all(map(_off, leaving(nodes, name))):
                return name
        return ""
    return ""


def _box_label(
    group: str, members: dict[str, list[Value]], full_units: list[str], leaving: Leaving, painter: _Painter
) -> str | None:
    """A box's HTML table: a row per unit (its output and gradient), or a row per output for a box of one unit."""
    several = len(members) > 1
    if not several and full_units:
        return None  # its one unit is drawn in full: its cluster is the box
    relative = [_relative(u, group) for u in members]
    stems = {r.rpartition(".")[0] for r in relative}
    numbered = several and len(stems) == 1 and all(r.rpartition(".")[2].isdigit() for r in relative)
    kind = (next(iter(stems)).rpartition(".")[2] if numbered else "") or "unit"  # neurons.3 -> neuron
    kind = kind[:-1] if kind.endswith("s") else kind
    header = f"<b>{_html(group)}</b>"
    if numbered:  # layers.0: 16 neurons
        header += f": {len(members)} {_html(kind)}s"
    colours = (painter.node_highlight(n) for u in members if u not in full_units for n in members[u])
    colour = next((c for c in colours if c), None) if not several else None
    rows = [f'<tr><td colspan="3" bgcolor="{colour or "gray95"}">{header}</td></tr>']
    if several:
        rows.append(
            f'<tr><td><i>{_html(kind)}</i></td><td><font color="{GREEN}">out</font></td>'
            f'<td><font color="{RED}">grad</font></td></tr>'
        )
    for k, (u, nodes) in enumerate(members.items()):
        outs = leaving(nodes, u)
        if not several:  # one unit: a row per output, the first three
            for j, out in enumerate(outs[:3]):
                fill = painter.node_highlight(out) or (HIGHLIGHTS["off"][0] if painter.off(out) else None)
                name = "out" if len(outs) == 1 else f"out {j}"
                rows.append(_row(name, [out], painter, fill, f"u{k}" if j == 0 else ""))
            if len(outs) > 3:
                rows.append(f'<tr><td colspan="3">and {len(outs) - 3} more outputs</td></tr>')
            continue
        name = relative[k].rpartition(".")[2] if numbered else relative[k]
        if u in full_units:
            rows.append(_row(name + " (in full)", outs, painter, painter.use("expanded"), ""))
            continue
        fill = next((c for c in map(painter.node_highlight, nodes) if c), None)
        if outs and all(painter.off(out) for out in outs):
            fill, name = HIGHLIGHTS["off"][0], name + " (off)"
        rows.append(_row(name, outs, painter, fill, f"u{k}"))
    return '<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">' + "".join(rows) + "</table>>"


def _row(name: str, outs: list[Value], painter: _Painter, fill: str | None, port: str) -> str:
    """A table row: a name, the values (green) and their gradients (red); the port where its wires leave."""
    more = ", …" if len(outs) > 2 else ""
    values = ", ".join(painter.number(out.data) for out in outs[:2]) + more
    grads = ", ".join(painter.grad(out) for out in outs[:2]) + more
    cell = f' bgcolor="{fill}"' if fill else ""
    at = f' port="{port}"' if port else ""
    return (
        f"<tr><td{cell}>{_html(name)}</td>"
        f'<td{cell}><font color="{GREEN}">{_html(values)}</font></td>'
        f'<td{cell}{at}><font color="{RED}">{_html(grads)}</font></td></tr>'
    )
