"""backward(): accumulation rules, deep chains, huge path counts, memory per node."""

from __future__ import annotations

import gc
import math
import sys
import time
import tracemalloc

import pytest

from engine import Value, topological_order


def test_leaves_accumulate_intermediates_show_the_latest_pass():
    x, y = Value(2.0), Value(-3.0)
    q = x * y
    f = q + x  # x forks: two paths
    f.backward()
    assert (x.grad, y.grad, q.grad, f.grad) == (-2.0, 2.0, 1.0, 1.0)
    f.backward()
    assert (x.grad, y.grad) == (-4.0, 4.0)  # leaves accumulate, as in PyTorch
    assert (q.grad, f.grad) == (1.0, 1.0)  # never doubled
    x.grad = y.grad = 0.0
    f.backward(gradient=0.5)
    assert (x.grad, y.grad, q.grad, f.grad) == (-1.0, 1.0, 0.5, 0.5)


def test_backward_from_a_shared_node_resets_only_its_own_graph():
    x = Value(2.0)
    a = x * 3
    b = a * a
    c = a + 1
    b.backward()
    assert a.grad == 2 * a.data and x.grad == 2 * a.data * 3
    c.backward()
    assert a.grad == 1.0  # reset at the start of c's pass: shows c's gradient only
    assert b.grad == 1.0  # b is not behind c: untouched
    assert x.grad == 2 * a.data * 3 + 3


def test_backward_on_a_leaf_accumulates_one():
    x = Value(5.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_topological_order_puts_each_node_before_its_children():
    x, y = Value(1.0), Value(2.0)
    a = x * y
    b = a + x
    c = b * a
    order = topological_order(c)
    assert order == [c, b, a]
    assert topological_order(x) == []


def test_a_chain_of_a_million_ops_under_the_default_recursion_limit():
    limit = sys.getrecursionlimit()
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + 1e-6
    y.backward()
    assert x.grad == 1.0
    assert y.data == pytest.approx(1.0 + 1.0, rel=1e-9)
    assert sys.getrecursionlimit() == limit
    del y
    gc.collect()


def test_a_diamond_with_2_to_the_60_paths_is_instant():
    x = Value(1.0)
    y = x
    for _ in range(60):
        y = y + y  # every level doubles the number of paths from y to x
    start = time.perf_counter()
    y.backward()
    assert time.perf_counter() - start < 0.1
    assert x.grad == 2.0**60
    assert y.data == 2.0**60


def retained_bytes_per_node(unit, nodes_per_unit: int) -> float:
    leaves = [Value(float(i % 7) - 2.5) for i in range(1000)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        nodes = []
        for i in range(20_000):
            nodes.append(unit(leaves[i % 1000], leaves[(i * 7 + 3) % 1000]))
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before - sys.getsizeof(nodes)) / (nodes_per_unit * len(nodes))


def test_retained_memory_per_node_is_small():
    """Bytes kept alive per node of the benchmark's graph of mul, add and relu (target: 200).

    A relu's local gradient is one of two shared tuples, (0.0,) or (1.0,); a node whose
    local is a number of its own (tanh, exp) keeps that float and its tuple too.
    """
    assert retained_bytes_per_node(lambda a, b: (a * b + a).relu(), 3) <= 200
    assert retained_bytes_per_node(lambda a, b: (a * b + a).tanh(), 3) <= 220


def test_zero_gradient_nodes_are_skipped_only_when_it_changes_nothing():
    x = Value(2.0)
    dead = (x * 3.0 - 10.0).relu()  # off: everything below it gets gradient exactly 0
    (dead + x).backward()
    assert x.grad == 1.0
    # A zero gradient times an infinite local is nan, as in IEEE arithmetic and PyTorch.
    z = Value(0.0)
    y = z.sqrt()  # local gradient inf
    (y * 0.0).backward()
    assert math.isnan(z.grad)
