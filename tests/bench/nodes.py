"""Per-node cost on a generic graph: circuitgrad against micrograd 0.1.0.

The graph: 1,000 leaves and 60,000 nodes made of mul, add and relu, each
(a * b + a).relu() over leaves picked with a fixed stride, all summed into one
output with a chain of adds (so every node is reached, with forks at the leaves).
Prints medians of forward and backward time per node and the bytes each node
keeps alive after the forward pass (tracemalloc).
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc

from micrograd.engine import Value as MicrogradValue

from engine import Value

N_UNITS = 15_000  # 3 nodes each, plus one add each for the output: 60,000 nodes
ROUNDS = 5


def build(V, leaves):
    out = V(0.0)
    for i in range(N_UNITS):
        a, b = leaves[i % 1000], leaves[(i * 7 + 3) % 1000]
        out = out + (a * b + a).relu()
    return out


def timings(V):
    leaves = [V(float(i % 13) / 7 - 0.9) for i in range(1000)]
    forward, backward = [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        out = build(V, leaves)
        forward.append(time.perf_counter() - start)
        start = time.perf_counter()
        out.backward()
        backward.append(time.perf_counter() - start)
        del out
    nodes = 4 * N_UNITS
    return statistics.median(forward) / nodes, statistics.median(backward) / nodes


def bytes_per_node(V):
    leaves = [V(float(i % 13) / 7 - 0.9) for i in range(1000)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    out = build(V, leaves)
    after_forward = tracemalloc.get_traced_memory()[0]
    out.backward()
    after_backward = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    nodes = 4 * N_UNITS
    return (after_forward - before) / nodes, (after_backward - before) / nodes


def main() -> int:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 200_000))  # micrograd's backward recurses
    results = {}
    for name, V in (("circuitgrad", Value), ("micrograd", MicrogradValue)):
        forward, backward = timings(V)
        memory = bytes_per_node(V)
        results[name] = (forward, backward, memory)
    print(f"generic graph of {4 * N_UNITS:,} nodes (mul, add, relu), median of {ROUNDS} builds:")
    print(f"  {'':<12} {'forward/node':>13} {'backward/node':>14} {'bytes/node':>11} {'after backward':>15}")
    for name, (forward, backward, (mem_fwd, mem_bwd)) in results.items():
        print(f"  {name:<12} {forward * 1e9:>10.0f} ns {backward * 1e9:>11.0f} ns {mem_fwd:>11.0f} {mem_bwd:>15.0f}")
    ours, theirs = results["circuitgrad"], results["micrograd"]
    print(
        f"  ratios (micrograd / circuitgrad): forward {theirs[0] / ours[0]:.1f}x, "
        f"backward {theirs[1] / ours[1]:.1f}x, memory {theirs[2][0] / ours[2][0]:.1f}x"
    )
    print(f"  bytes per retained node: {ours[2][0]:.0f} (target: at most 200; micrograd {theirs[2][0]:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
