"""Graphviz diagrams of a Value's graph: every value and every gradient.

Two looks:

* ``style='record'`` (micrograd's): each value a record (label | data | grad),
  each op a small node of its own;
* ``style='circuit'`` (the CS231n notes'): ops are gates, and every wire carries
  its forward value above (green) and its gradient below (red).

Highlights, explained in a legend: wires whose local gradient is 0 (a relu that
was off, a clip outside its range: the gradient is blocked there), saturated
sigmoid/tanh gates, very large gradients, nan or inf. Before `backward()` has
run the gradients are shown as not computed, never as 0.

Large graphs stay readable: ``collapse='neuron'`` or ``'layer'`` draws one box
per scope (see `engine.scope`), ``max_nodes`` caps the drawing with a note of
what was left out, and ``around=node, depth=k`` draws one neighbourhood.

graphviz (the Python package) is imported only here, when a diagram is made;
rendering needs Graphviz's `dot` program. Node ids follow a breadth-first walk
from the root, so the same graph always gives the same DOT text.
"""

from __future__ import annotations

import math
from collections import Counter, deque

from .value import Value

DOT_INSTALL = "sudo apt-get install graphviz (Debian/Ubuntu), brew install graphviz (macOS)"
GREEN, RED = "darkgreen", "red3"
HIGHLIGHTS = {
    "blocked": ("gray55", "local gradient 0: nothing passes (a relu that was off, a clip out of range, a lost max)"),
    "saturated": ("orange", "saturated sigmoid/tanh: local gradient below {saturated_below:g}"),
    "large": ("purple", "|gradient| above {large_grad:g}"),
    "nonfinite": ("magenta", "nan or inf"),
}


class DotNotFound(RuntimeError):
    """Graphviz's dot program is needed to render a diagram and is not installed."""


def _graphviz():
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "drawing needs the graphviz Python package: pip install graphviz "
            f"(and Graphviz's dot program to render: {DOT_INSTALL})"
        ) from None
    return graphviz


_diagram_class = None


def _diagram(graphviz):
    """graphviz.Digraph whose rendering names the install command when dot is missing."""
    global _diagram_class
    if _diagram_class is None:

        class Diagram(graphviz.Digraph):
            def pipe(self, *args, **kwargs):
                try:
                    return super().pipe(*args, **kwargs)
                except graphviz.ExecutableNotFound as error:
                    raise DotNotFound(f"Graphviz's dot program is not installed: {DOT_INSTALL}") from error

            def render(self, *args, **kwargs):
                try:
                    return super().render(*args, **kwargs)
                except graphviz.ExecutableNotFound as error:
                    raise DotNotFound(f"Graphviz's dot program is not installed: {DOT_INSTALL}") from error

        _diagram_class = Diagram
    return _diagram_class


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


def _escape(text: str) -> str:
    """Escape the characters that record labels give a meaning to."""
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class _Painter:
    """Formats numbers and decides highlights, the same way for every style."""

    def __init__(self, root: Value, nodes: list[Value], precision: int, saturated_below: float, large_grad: float):
        self.precision = precision
        self.saturated_below = saturated_below
        self.large_grad = large_grad
        # backward() always sets the root's gradient; before it has run, every grad is 0.0
        self.computed = root.grad != 0.0 or any(node.grad != 0.0 for node in nodes)
        self.used: set[str] = set()

    def number(self, x: float) -> str:
        return f"{x:.{self.precision}g}"

    def grad(self, node: Value) -> str:
        return self.number(node.grad) if self.computed else "not computed"

    def node_highlight(self, node: Value) -> str | None:
        if not (math.isfinite(node.data) and math.isfinite(node.grad)):
            return self._use("nonfinite")
        if self.computed and abs(node.grad) > self.large_grad:
            return self._use("large")
        if node.op is not None and node.op.saturates and abs(node.locals[0]) < self.saturated_below:
            return self._use("saturated")
        return None

    def edge_blocked(self, local: float) -> bool:
        if local == 0.0:
            self._use("blocked")
            return True
        return False

    def _use(self, name: str) -> str:
        self.used.add(name)
        return HIGHLIGHTS[name][0]

    def legend(self, graph, notes: list[str]) -> None:
        lines = [
            f'<tr><td bgcolor="{colour}">  </td><td align="left">'
            f"{_html(text.format(saturated_below=self.saturated_below, large_grad=self.large_grad))}</td></tr>"
            for name, (colour, text) in HIGHLIGHTS.items()
            if name in self.used
        ]
        if not self.computed:
            notes = ["gradients not computed yet: call backward()", *notes]
        lines += [f'<tr><td colspan="2" align="left">{_html(note)}</td></tr>' for note in notes]
        if lines:
            table = '<<table border="0" cellborder="0" cellspacing="2">' + "".join(lines) + "</table>>"
            graph.node("legend", table, shape="box", style="rounded", fontsize="9")


def draw_dot(
    root: Value,
    style: str = "record",
    rankdir: str = "LR",
    collapse: str | None = None,
    max_nodes: int | None = None,
    around: Value | None = None,
    depth: int = 2,
    precision: int = 4,
    saturated_below: float = 1e-3,
    large_grad: float = 1e3,
):
    """A `graphviz.Digraph` of the graph behind `root`; in Jupyter it shows inline as SVG.

    Render it to a file with ``.render('name', format='svg' | 'png' | 'pdf')`` or get
    the bytes with ``.pipe(format=...)``; ``.source`` is the DOT text (no `dot`
    needed). `precision` is the number of significant digits shown.
    """
    if style not in ("record", "circuit"):
        raise ValueError(f"style must be 'record' or 'circuit', not {style!r}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be one of LR, TB, RL, BT, not {rankdir!r}")
    if collapse not in (None, "neuron", "layer"):
        raise ValueError(f"collapse must be None, 'neuron' or 'layer', not {collapse!r}")
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, not {max_nodes!r}")
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot draws a Value, not {type(root).__name__}")
    graphviz = _graphviz()
    graph = _diagram(graphviz)(
        graph_attr={"rankdir": rankdir, "fontsize": "10"},
        node_attr={"fontsize": "10", "fontname": "Helvetica"},
        edge_attr={"fontsize": "9", "fontname": "Helvetica"},
    )
    nodes = _walk(root)
    ids = {node: f"n{i}" for i, node in enumerate(nodes)}
    painter = _Painter(root, nodes, precision, saturated_below, large_grad)
    notes: list[str] = []
    if collapse is not None:
        _draw_collapsed(graph, root, nodes, ids, painter, collapse)
        painter.legend(graph, notes)
        return graph
    shown = nodes
    if around is not None:
        shown = _neighbourhood(nodes, around, depth)
        notes.append(f"{len(shown)} of {len(nodes)} values: those within {depth} steps of the chosen one")
    if max_nodes is not None and len(shown) > max_nodes:
        left_out = shown[max_nodes:]
        shown = shown[:max_nodes]
        kinds = Counter(node.op.name if node.op is not None else "leaf" for node in left_out)
        summary = ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
        notes.append(f"{len(left_out)} more values not drawn ({summary})")
    kept = set(shown)
    (_draw_circuit if style == "circuit" else _draw_record)(graph, root, shown, kept, ids, painter)
    painter.legend(graph, notes)
    return graph


def _neighbourhood(nodes: list[Value], around: Value, depth: int) -> list[Value]:
    if around not in set(nodes):
        raise ValueError("around= must be a node of the graph being drawn")
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


def _draw_record(graph, root, shown, kept, ids, painter) -> None:
    for node in shown:
        parts = [_escape(node.label)] if node.label else []
        parts += [f"data {painter.number(node.data)}", f"grad {painter.grad(node)}"]
        colour = painter.node_highlight(node)
        extra = {"style": "filled", "fillcolor": colour} if colour else {}
        graph.node(ids[node], "{ " + " | ".join(parts) + " }", shape="record", **extra)
        if node.op is not None:
            graph.node(ids[node] + "op", _escape(node.op.gate(node)), shape="circle", width="0.3")
            graph.edge(ids[node] + "op", ids[node])
            for child, local in zip(node.children, node.locals):
                if child in kept:
                    blocked = painter.edge_blocked(local)
                    graph.edge(ids[child], ids[node] + "op", **_blocked_style(blocked))


def _blocked_style(blocked: bool) -> dict:
    return {"style": "dashed", "color": HIGHLIGHTS["blocked"][0]} if blocked else {}


def _draw_circuit(graph, root, shown, kept, ids, painter) -> None:
    def wire_label(node: Value) -> str:
        label = f'<font color="{GREEN}">{_html(painter.number(node.data))}</font>'
        if painter.computed:
            label += f'<br/><font color="{RED}">{_html(painter.number(node.grad))}</font>'
        return f"<{label}>"

    for node in shown:
        colour = painter.node_highlight(node)
        extra = {"style": "filled", "fillcolor": colour} if colour else {}
        if node.op is not None:
            graph.node(ids[node], _escape(node.op.gate(node)), shape="circle", **extra)
        else:
            name = node.label or painter.number(node.data)
            graph.node(ids[node], _escape(name), shape="plaintext", **extra)
        for child, local in zip(node.children, node.locals):
            if child in kept:
                blocked = painter.edge_blocked(local)
                graph.edge(ids[child], ids[node], label=wire_label(child), **_blocked_style(blocked))
    graph.node("output", _escape(root.label or "output"), shape="plaintext")
    graph.edge(ids[root], "output", label=wire_label(root))


def _group_name(scope: str, collapse: str) -> str:
    if collapse == "layer" and ".neurons." in scope:
        return scope.split(".neurons.")[0]
    return scope


def _draw_collapsed(graph, root, nodes, ids, painter, collapse) -> None:
    """One box per scope, with the values that leave it; edges where values cross borders."""
    parents: dict[Value, list[Value]] = {}
    for node in nodes:
        for child in node.children:
            parents.setdefault(child, []).append(node)
    owner = {}
    for node in nodes:
        group = _group_name(node.scope, collapse)
        user_groups = {_group_name(p.scope, collapse) for p in parents.get(node, ())}
        if not group and node.is_leaf() and len(user_groups) == 1:
            group = next(iter(user_groups))  # a parameter: inside the scope that uses it
        owner[node] = group or ids[node]
    members: dict[str, list[Value]] = {}
    for node in nodes:
        members.setdefault(owner[node], []).append(node)
    group_ids = {group: f"g{i}" for i, group in enumerate(members)}
    for group, inside in members.items():
        leaving = [n for n in inside if n is root or any(owner[p] != group for p in parents.get(n, ()))]
        first = inside[0]
        name = group if group != ids[first] else (first.label or (first.op.name if first.op is not None else "value"))
        shown = [f"out {painter.number(n.data)}, grad {painter.grad(n)}" for n in leaving[:3]]
        if len(leaving) > 3:
            shown.append(f"and {len(leaving) - 3} more outputs")
        colour = next((c for c in map(painter.node_highlight, inside) if c), None)
        extra = {"style": "filled", "fillcolor": colour} if colour else {}
        graph.node(group_ids[group], "{ " + " | ".join([_escape(name), *shown]) + " }", shape="record", **extra)
    edges = {}
    for node in nodes:
        for child, local in zip(node.children, node.locals):
            a, b = owner[child], owner[node]
            if a != b:
                edges[(a, b)] = edges.get((a, b), True) and local == 0.0
    for (a, b), all_blocked in edges.items():
        graph.edge(group_ids[a], group_ids[b], **_blocked_style(painter.edge_blocked(0.0) if all_blocked else False))
