"""`detect_anomaly()`: find the first nan or inf, the op that made it, and the line that ran it.

Inside the block each new node remembers where it was made (file:line, the
first frame outside the engine), and every value is checked: a leaf made with a
nan or inf, an op whose result is nan or inf, an op that takes a nan or inf from
a leaf made outside the block or a nan as a number (neither may show in the
result: nan ** 0 and 1 ** nan are 1), and in `backward()` every gradient as it is
accumulated. An infinite number is no anomaly: ``x.clip(-inf, 0.0)`` is min(x, 0). The first one raises
`AnomalyError` naming the op, its inputs and that place. Wrap both the forward
computation and `backward()` in the block.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from . import grad_mode
from .value import Value


class AnomalyError(FloatingPointError):
    """A nan or inf appeared in a forward value or a gradient."""


def _place() -> str:
    """file:line of the first frame outside the engine."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "engine":
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "?"


class AnomalyDetector:
    """The mode object `detect_anomaly()` installs: places of nodes, and the checks."""

    def __init__(self) -> None:
        self.places: dict[Value, str] = {}

    def place_of(self, node: Value) -> str:
        return self.places.get(node, "an unknown place (made outside detect_anomaly())")

    def check_leaf(self, leaf: Value) -> None:
        place = self.places[leaf] = _place()
        if not math.isfinite(leaf.data):
            raise AnomalyError(f"{_kind(leaf.data)} in a leaf: Value({leaf.data!r}) made at {place}")

    def check_forward(self, node: Value) -> None:
        place = self.places[node] = _place()
        if not math.isfinite(node.data):
            raise AnomalyError(
                f"{_kind(node.data)} in the forward pass: {_describe(node)} gave {node.data!r} "
                f"from inputs {_inputs(node)}, made at {place}{_scope(node)}"
            )
        for index, child in enumerate(node.children):
            if child.is_leaf() and not math.isfinite(child.data):
                raise AnomalyError(
                    f"{_kind(child.data)} entered through a leaf: input {index} of {_describe(node)} "
                    f"(inputs {_inputs(node)}, made at {place}{_scope(node)}) is {child!r}"
                )
        for index, number in enumerate(node.constants):
            if number is not None and number != number:
                raise AnomalyError(
                    f"nan entered as a number: input {index} of {_describe(node)} "
                    f"(made at {place}{_scope(node)}) is nan"
                )

    def backward(self, root: Value, order: list[Value]) -> None:
        """The ordinary backward loop, checking each gradient as it is accumulated."""
        if not math.isfinite(root.grad):
            raise AnomalyError(f"the gradient fed to backward() is {root.grad!r}")
        for node in order:
            grad = node.grad
            for index, (child, local) in enumerate(zip(node.children, node.locals)):
                child.grad += local * grad
                if not math.isfinite(child.grad):
                    raise AnomalyError(
                        f"{_kind(child.grad)} in the backward pass: {_describe(node)} (made at "
                        f"{self.place_of(node)}{_scope(node)}) passed gradient {grad!r} x local "
                        f"{local!r} to its input {index}, {child!r}, whose gradient became {child.grad!r}; "
                        f"the op's inputs: {_inputs(node)}"
                    )


def _kind(x: float) -> str:
    return "nan" if x != x else "inf"


def _describe(node: Value) -> str:
    name = node.op.name if node.op is not None else "leaf"
    return f"op {name!r}" + (f" ({node.label!r})" if node.label else "")


def _inputs(node: Value) -> str:
    return "[" + ", ".join(f"{child.data!r}" for child in node.children) + "]"


def _scope(node: Value) -> str:
    return f", in scope {node.scope!r}" if node.scope else ""


@contextmanager
def detect_anomaly() -> Iterator[AnomalyDetector]:
    """Check every op and every gradient for nan and inf inside the block (slow: for debugging).

    Inside `no_grad()` nothing is recorded, so nothing is checked either.
    """
    if grad_mode.current_mode() is False:
        yield AnomalyDetector()
        return
    detector = AnomalyDetector()
    with grad_mode.state_set(mode=detector):
        yield detector
