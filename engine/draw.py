"""Graphviz diagrams of a Value's graph: every value with its gradient.

graphviz (the Python package) is imported only here, when a diagram is made;
rendering needs Graphviz's `dot` binary. Node ids are stable (the order in which
the graph is walked from the root), so the same graph gives the same DOT text.
"""

from __future__ import annotations

from .value import Value


def _graphviz():
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "drawing needs the graphviz Python package: pip install graphviz "
            "(and Graphviz's dot binary to render: sudo apt-get install graphviz)"
        ) from None
    return graphviz


def _walk(root: Value) -> list[Value]:
    """Every node behind root (leaves included), root first, each once, in a fixed order."""
    seen = {root}
    order = [root]
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.children:
            if child not in seen:
                seen.add(child)
                order.append(child)
                stack.append(child)
    return order


def _number(x: float, precision: int) -> str:
    return f"{x:.{precision}g}"


def _escape(text: str) -> str:
    """Escape the characters that record labels give a meaning to."""
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text


def draw_dot(root: Value, rankdir: str = "LR", collapse: str | None = None, precision: int = 4):
    """A `graphviz.Digraph` of root's graph, micrograd's record style.

    Each value is a record (label | data | grad), each op a small node of its
    own. ``collapse='neuron'`` draws one box per scope (e.g. a neuron of an
    `nn.MLP`), showing the value and gradient of the scope's output, with an edge
    wherever a value crosses from one scope into another. Leaves without a
    scope (parameters) are folded into the scope that uses them.
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be one of LR, TB, RL, BT, not {rankdir!r}")
    if collapse not in (None, "neuron"):
        raise ValueError(f"collapse must be None or 'neuron', not {collapse!r}")
    graphviz = _graphviz()
    graph = graphviz.Digraph(format="svg", graph_attr={"rankdir": rankdir}, node_attr={"fontsize": "10"})
    nodes = _walk(root)
    ids = {node: f"n{i}" for i, node in enumerate(nodes)}
    if collapse == "neuron":
        _draw_collapsed(graph, nodes, ids, precision)
        return graph
    for node in nodes:
        text = " | ".join(
            part
            for part in (
                _escape(node.label) if node.label else "",
                f"data {_number(node.data, precision)}",
                f"grad {_number(node.grad, precision)}",
            )
            if part
        )
        graph.node(ids[node], "{ " + text + " }", shape="record")
        if node.op:
            graph.node(ids[node] + "op", node.op, shape="circle", width="0.3")
            graph.edge(ids[node] + "op", ids[node])
            for child in node.children:
                graph.edge(ids[child], ids[node] + "op")
    return graph


def _draw_collapsed(graph, nodes: list[Value], ids: dict, precision: int) -> None:
    parents: dict[Value, set[str]] = {}
    for node in nodes:
        for child in node.children:
            parents.setdefault(child, set()).add(node.scope)
    owner = {}
    for node in nodes:
        scope = node.scope
        if not scope and node.is_leaf() and len(parents.get(node, ())) == 1:
            scope = next(iter(parents[node]))  # a parameter: inside the scope that uses it
        owner[node] = scope or ids[node]
    outputs: dict[str, Value] = {}
    for node in nodes:  # root first: the first node met in a group is its output
        outputs.setdefault(owner[node], node)
    group_ids = {group: f"g{i}" for i, group in enumerate(outputs)}
    for group, out in outputs.items():
        name = group if group != ids[out] else (out.label or out.op or "value")
        text = f"{_escape(name)} | data {_number(out.data, precision)} | grad {_number(out.grad, precision)}"
        graph.node(group_ids[group], "{ " + text + " }", shape="record")
    edges = []
    for node in nodes:
        for child in node.children:
            a, b = owner[child], owner[node]
            if a != b and (a, b) not in edges:
                edges.append((a, b))
    for a, b in edges:
        graph.edge(group_ids[a], group_ids[b])
