"""`detect_anomaly()`: find the first nan or inf, the op that made it, and the line that ran it.

Inside the block each new node remembers where it was made (file:line, the
first frame outside the engine), every op's result is checked in the forward
pass, and `backward()` checks every gradient as it is accumulated. The first
nan or inf raises `AnomalyError` naming the op, its inputs and that place.
Wrap both the forward computation and `backward()` in the block.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from . import grad_mode
from .value import Value

_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))


class AnomalyError(FloatingPointError):
    """A nan or inf appeared in a forward value or a gradient."""


class AnomalyDetector:
    """The mode object `detect_anomaly()` installs: places of nodes, and the checks."""

    def __init__(self) -> None:
        self.places: dict[Value, str] = {}

    def place_of(self, node: Value) -> str:
        return self.places.get(node, "an unknown place (made outside detect_anomaly())")

    def check_forward(self, node: Value) -> None:
        frame = sys._getframe(2)  # the op's caller (check_forward <- Value.__init__ <- op)
        while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _ENGINE_DIR:
            frame = frame.f_back
        place = f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "?"
        self.places[node] = place
        if not math.isfinite(node.data):
            raise AnomalyError(
                f"{_kind(node.data)} in the forward pass: {_describe(node)} gave {node.data!r} "
                f"from inputs {_inputs(node)}, made at {place}{_scope(node)}"
            )

    def backward(self, root: Value, order: list[Value]) -> None:
        """The ordinary backward loop, checking each gradient as it is accumulated."""
        if not math.isfinite(root.grad):
            raise AnomalyError(f"the gradient fed to backward() is {root.grad!r}")
        for node in order:
            grad = node.grad
            edges = iter(node._edges)
            for index, (child, local) in enumerate(zip(edges, edges)):
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
    return f"op {node.op!r}" + (f" ({node.label!r})" if node.label else "")


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
    with grad_mode._mode_set(detector):
        yield detector
