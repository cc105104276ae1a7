"""Staged code compiled to C: compile time, a cache hit, the losses of a whole run, and a larger step.

* The demo model's code (MLP(2, [16, 16, 1]), one sample's forward and backward
  pass, the loop over the batch in C): compiled into an empty cache folder, then
  staged again in a fresh process (a cache hit: no compiler run).
* micrograd's 100-step demo run, compiled against the graph path: the losses
  compared at every step (target: 1e-12; they are equal bit for bit).
* A larger step, MLP(2, [64, 64, 1]) on 1,000 two-moons points: compiled C
  against hand-vectorised NumPy float64, the staged Python and the graph.

The demo step itself against NumPy, PyTorch and jax.jit is in demo_step.py.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from array import array

sys.path.insert(0, os.path.dirname(__file__))

import demo_step  # noqa: E402

from engine import gc_paused, stage  # noqa: E402
from nn import MLP, SGD, losses  # noqa: E402
from nn.data import moons  # noqa: E402

ALPHA = 1e-4
STAGE_ONCE = r"""
import sys, time
sys.path.insert(0, "tests/bench")
start = time.perf_counter()
from engine import stage
from nn import MLP, losses
from nn.data import moons
X, labels = moons(100, noise=0.1, seed=0)
y = [2 * c - 1 for c in labels]
model = MLP(2, [16, 16, 1], seed=1)
ready = time.perf_counter()
staged = stage(lambda x, label: losses.hinge([model(x)], [label]), X[0], y[0],
               plus=1e-4 * losses.l2(model.parameters()), backend="c")
staged.mean(X[:1], y[:1])
print(time.perf_counter() - ready)
"""


def compile_times() -> tuple[float, float]:
    """Seconds to stage and compile the demo's code into an empty cache, then to stage it again (a hit)."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, CIRCUITGRAD_CACHE=cache)
        first = float(
            subprocess.run(
                [sys.executable, "-c", STAGE_ONCE], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        again = float(
            subprocess.run(
                [sys.executable, "-c", STAGE_ONCE], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
    return first, again


def whole_run(steps: int = 100) -> float:
    """The largest difference between the compiled and the graph losses over micrograd's demo run."""
    X, labels = moons(100, noise=0.1, seed=0)
    y = [2 * c - 1 for c in labels]
    weights = demo_step.initial_weights()
    graph, compiled = demo_step.ModuleDemo(weights, X, y), demo_step.CompiledDemo(weights, X, y)
    return max(abs(graph.step(k) - compiled.step(k)) for k in range(steps))


class Larger:
    """MLP(2, [64, 64, 1]) on 1,000 points, one step of hinge + L2 and SGD, in four ways."""

    def __init__(self, backend: str):
        X, labels = moons(1000, noise=0.1, seed=0)
        y = [2 * c - 1 for c in labels]
        self.X, self.y = X, y
        self.model = MLP(2, [64, 64, 1], seed=1)
        self.params = self.model.parameters()
        self.optimizer = SGD(self.params, lr=0.05)
        self.backend = backend
        start = time.perf_counter()
        if backend != "graph":
            model, hinge = self.model, losses.hinge
            self.staged = stage(
                lambda x, label: hinge([model(x)], [label]),
                X[0],
                y[0],
                plus=ALPHA * losses.l2(self.params),
                backend=backend,
            )
            self.staged.mean(X[:1], y[:1])
        self.staging_time = time.perf_counter() - start

    def step(self) -> float:
        self.optimizer.zero_grad()
        if self.backend == "graph":
            loss = losses.hinge([self.model(x) for x in self.X], self.y) + ALPHA * losses.l2(self.params)
            loss.backward()
            value = loss.data
        else:
            value = self.staged.mean(self.X, self.y)
        self.optimizer.step()
        return value


class LargerTrainStep(Larger):
    """The compiled step on the batch bound once, the numbers and SGD's update in arrays (as `nn.fit`)."""

    def __init__(self):
        super().__init__("c")
        self.bound = self.staged.bind(self.X, self.y)
        self.numbers = array("d", [p.data for p in self.staged.parameters])
        self.optimizer = SGD(self.staged.parameters, lr=0.05)

    def step(self) -> float:
        value, grads = self.bound.value_and_grad(self.numbers)
        self.optimizer.update(self.numbers, grads)
        return value


class LargerNumpy(demo_step.NumpyDemo):
    def __init__(self):
        X, labels = moons(1000, noise=0.1, seed=0)
        model = MLP(2, [64, 64, 1], seed=1)
        weights = [[[*n.w, n.b] for n in layer.neurons] for layer in model.layers]
        super().__init__(
            [[[v.data for v in row] for row in layer] for layer in weights], X, [2 * c - 1 for c in labels]
        )

    def step(self) -> float:
        return super().step(0)


def main() -> int:
    first, again = compile_times()
    print("the demo model's code in C (MLP(2, [16, 16, 1]), one sample's forward and backward pass):")
    print(f"  staged and compiled into an empty cache: {first:.2f} s (target: under 2 s)")
    print(f"  staged again in a new process, a cache hit: {again * 1e3:.0f} ms (target: under 50 ms)")
    worst = whole_run()
    print(
        f"\nmicrograd's 100-step demo run, compiled against the graph: largest loss difference {worst:.1e} "
        "(target: 1e-12)"
    )

    contenders = {
        "C, train step": LargerTrainStep(),
        "compiled C": Larger("c"),
        "staged": Larger("python"),
        "numpy": LargerNumpy(),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(7):
        for name, run in contenders.items():
            run.step()
            with gc_paused():
                start = time.perf_counter()
                run.step()
                times[name].append(time.perf_counter() - start)
    graph = Larger("graph")
    with gc_paused():
        start = time.perf_counter()
        graph.step()
        graph_time = time.perf_counter() - start
    median = {name: statistics.median(t) for name, t in times.items()}
    print("\nMLP(2, [64, 64, 1]) on 1,000 points, a step (median of 7):")
    for name in contenders:
        print(f"  {name:<13} {median[name] * 1e3:9.2f} ms  {median[name] / median['numpy']:6.1f}x numpy")
    print(f"  {'graph':<13} {graph_time * 1e3:9.2f} ms  {graph_time / median['numpy']:6.1f}x numpy (one step)")
    print(
        f"  staging: compiled C {contenders['compiled C'].staging_time:.1f} s, "
        f"staged Python {contenders['staged'].staging_time:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
