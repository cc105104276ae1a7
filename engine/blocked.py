"""`blocked(root, leaf)`: where the gradient from root to a leaf was stopped or choked.

Backprop is a product of local gradients along each path. One local gradient
of exactly 0 on a path (a relu that was off, a clip outside its range, a max that
lost) cuts that path; a sigmoid or tanh deep in saturation nearly does. This
lists those ops, on the paths from root to leaf only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from .functional import reaching
from .number import as_tolerance
from .op import Op
from .value import Value


@dataclass(frozen=True)
class Block:
    """One op on a root-to-leaf path whose local gradient toward the leaf is 0 (or tiny)."""

    node: Value
    op: Op
    scope: str
    local: float
    reason: str

    def __str__(self) -> str:
        where = f" in {self.scope}" if self.scope else ""
        return f"{self.op.name}{where}: {self.reason} (local gradient {self.local:.3g}, output {self.node.data:.4g})"


def blocked(root: Value, leaf: Value, saturated_below: float = 1e-3) -> list[Block]:
    """The ops on the paths from `root` to `leaf` that stop or choke the gradient.

    An edge toward the leaf with local gradient 0 is listed with its reason; a
    sigmoid or tanh whose local gradient is below `saturated_below` is listed as
    saturated. The list is in topological order, root side first (an op is
    listed before the ops it was computed from). Returns [] when the gradient
    reaches the leaf unhindered, or when there is no path at all.
    """
    if not isinstance(root, Value):
        raise TypeError(f"blocked: root must be a Value, not {type(root).__name__}")
    if not isinstance(leaf, Value):
        raise TypeError(f"blocked: leaf must be a Value, not {type(leaf).__name__}")
    saturated_below = as_tolerance(saturated_below, "blocked: saturated_below", positive=False)
    order, reaches = reaching(root, {leaf})  # root first; the nodes with a path to leaf
    found = []
    for node in order:
        if node not in reaches:
            continue
        for child, local in zip(node.children, node.locals):
            if child not in reaches:
                continue
            op = cast(Op, node.op)  # not None: a node with children was made by an op
            if local == 0.0:
                reason = op.zero  # what a 0 means at this op: a relu that was off, a lost max, ...
            elif op.saturates and abs(local) < saturated_below:
                reason = f"{op.name} saturated (output {node.data:.4g})"
            else:
                continue
            found.append(Block(node, op, node.scope, local, reason))
            break  # one entry per op
    return found
