"""Why training can pause Python's cyclic garbage collector: a graph holds no reference cycles.

A node refers to its children and their local gradients, never to itself or to
the nodes made from it, so when the last reference to an output goes, reference
counting frees its whole graph at once. The cyclic collector has nothing to find
there; yet every few hundred new objects it runs, and now and then it walks
every live object of the process. In a notebook that has imported PyTorch or
matplotlib (hundreds of thousands of objects) those walks take half of a step
that makes thousands of nodes. `gc_paused()` turns the collector off inside a
block and restores it after: `nn.fit` and the benchmarks train inside one.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off inside the block (for the whole process), as it was after.

    Safe for the engine's graphs, which reference counting frees. Cycles your own
    code makes inside the block are collected after it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
