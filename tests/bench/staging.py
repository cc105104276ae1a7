"""Staging at scale: what staging costs as the data and the model grow, and training with it.

* Staging time and memory against the batch size (100, 1,000, 10,000 points) and
  the width of micrograd's demo network (16, 64, 192 units a hidden layer): a staged
  function (one sample's code, `stage(fn, *example)`) against the whole batch's graph
  written out (`stage(root)`, whose code grows with model x data; measured where it fits).
* Minibatch SGD, batch 32 on 1,000 two-moons points: `fit(staged=True)` (and
  `staged="c"`) per step against the graph path, and the losses compared.
* The graph path's demo step in a process that has imported PyTorch (hundreds of
  thousands of live objects, as in a notebook) against a light process, with the
  cyclic collector left on and paused (`engine.gc_paused`, as `nn.fit` runs).
* `nn.fit`'s own cost per step over the bare step.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import tracemalloc

from engine import stage
from nn import MLP, SGD, fit, losses
from nn.data import moons

ALPHA = 1e-4


def staging(width: int, n: int, whole_batch: bool) -> tuple[float, float, int]:
    """Seconds and MiB (peak, traced apart) to stage, and lines of code, for MLP(2, [width, width, 1]) on n points."""
    X, labels = moons(n, noise=0.1, seed=0)
    y = [2 * c - 1 for c in labels]
    model = MLP(2, [width, width, 1], seed=1)
    params = model.parameters()

    def make():
        if whole_batch:
            return stage(losses.hinge([model(x) for x in X], y) + ALPHA * losses.l2(params))
        return stage(lambda x, label: losses.hinge([model(x)], [label]), X[0], y[0], plus=ALPHA * losses.l2(params))

    start = time.perf_counter()
    staged = make()
    seconds = time.perf_counter() - start
    del staged
    tracemalloc.start()
    staged = make()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, staged.source.count("\n")


def minibatch_sgd(steps: int = 60) -> dict[str, float]:
    X, labels = moons(1000, noise=0.1, seed=0)
    y = [2 * c - 1 for c in labels]
    results, histories = {}, {}
    for staged in (False, True, "c"):
        model = MLP(2, [16, 16, 1], seed=1)
        optimizer = SGD(model.parameters(), lr=0.1)
        fit(model, X, y, losses.hinge, optimizer, steps=1, batch_size=32, progress=False, staged=staged)  # staging
        start = time.perf_counter()
        h = fit(model, X, y, losses.hinge, optimizer, steps=steps, batch_size=32, progress=False, staged=staged)
        results[str(staged)] = (time.perf_counter() - start) / steps
        histories[str(staged)] = h.loss
    results["equal"] = histories["False"] == histories["True"] == histories["c"]
    return results


CHILD = r"""
import gc, json, statistics, sys, time
sys.path.insert(0, "tests/bench")
if sys.argv[1] == "heavy":
    import torch  # noqa: F401  (hundreds of thousands of live objects, as in a notebook)
import demo_step
from engine import gc_paused
from nn.data import moons
X, labels = moons(100, noise=0.1, seed=0)
y = [2 * c - 1 for c in labels]
run = demo_step.ModuleDemo(demo_step.initial_weights(), X, y)
times = {"collector on": [], "collector paused": []}
for k in range(20):
    for how in times:
        run.step(k)
        start = time.perf_counter()
        if how == "collector on":
            run.step(k)
        else:
            with gc_paused():
                run.step(k)
        times[how].append(time.perf_counter() - start)
print(json.dumps({how: statistics.median(t) for how, t in times.items()} | {"objects": len(gc.get_objects())}))
"""


def busy_process() -> dict[str, dict[str, float]]:
    """Both processes at once, one on each core, so that both see the machine as it is at that time."""
    children = {
        kind: subprocess.Popen([sys.executable, "-c", CHILD, kind], stdout=subprocess.PIPE, text=True)
        for kind in ("light", "heavy")
    }
    out = {}
    for kind, child in children.items():
        stdout, _ = child.communicate(timeout=600)
        out[kind] = json.loads(stdout)
    return out


def fit_overhead(steps: int = 12) -> tuple[float, float]:
    """Seconds per step of `fit` (graph path, full batch) and of the same step written by hand."""
    sys.path.insert(0, "tests/bench")
    import demo_step

    X, labels = moons(100, noise=0.1, seed=0)
    y = [2 * c - 1 for c in labels]
    bare = demo_step.ModuleDemo(demo_step.initial_weights(), X, y)
    from engine import gc_paused

    times = []
    for k in range(steps):
        with gc_paused():
            start = time.perf_counter()
            bare.step(k)
            times.append(time.perf_counter() - start)
    model = bare.model
    optimizer = SGD(model.parameters(), lr=0.1)
    per_fit = []
    for _ in range(3):
        start = time.perf_counter()
        fit(model, X, y, losses.hinge, optimizer, steps=steps // 3, l2_weight=ALPHA, progress=False)
        per_fit.append((time.perf_counter() - start) / (steps // 3))
    return statistics.median(per_fit), statistics.median(times)


def main() -> int:
    print("staging micrograd's demo network: time, peak memory, lines of code")
    print(f"  {'':<34} {'batch 100':>22} {'batch 1,000':>22} {'batch 10,000':>22}")
    for whole_batch, label, sizes in (
        (False, "one sample's code (stage(fn, ...))", (100, 1000, 10000)),
        (True, "the whole batch (stage(root))", (100, 1000)),
    ):
        cells = []
        for n in (100, 1000, 10000):
            if n not in sizes:
                cells.append(f"{'(too big)':>22}")
                continue
            seconds, mib, lines = staging(16, n, whole_batch)
            cells.append(f"{seconds * 1e3:8.0f} ms {mib:6.1f} MiB".rjust(22))
        print(f"  {label:<34} {''.join(cells)}")
    print("\nstaging one sample's code against the width (MLP(2, [w, w, 1])):")
    for width in (16, 64, 192):
        seconds, mib, lines = staging(width, 100, False)
        print(f"  width {width:>3}: {seconds * 1e3:7.0f} ms, {mib:6.1f} MiB peak, {lines:,} lines")

    sgd = minibatch_sgd()
    print("\nminibatch SGD, batch 32 on 1,000 moons points (fit, per step):")
    print(f"  graph     {sgd['False'] * 1e3:7.3f} ms")
    print(f"  staged    {sgd['True'] * 1e3:7.3f} ms  = {sgd['True'] / sgd['False']:.3f}x the graph (target: 0.15x)")
    print(f"  staged C  {sgd['c'] * 1e3:7.3f} ms  = {sgd['c'] / sgd['False']:.3f}x the graph")
    print(f"  the three runs' losses equal bit for bit: {sgd['equal']}")

    busy = busy_process()
    print("\nthe graph path's demo step (nn.MLP), light process against one that imported torch:")
    for how in ("collector on", "collector paused"):
        light, heavy = busy["light"][how], busy["heavy"][how]
        print(f"  {how:<17} light {light * 1e3:7.2f} ms, heavy {heavy * 1e3:7.2f} ms: {heavy / light:.2f}x")
    print(f"  (live objects: light {busy['light']['objects']:,}, heavy {busy['heavy']['objects']:,}; target 1.2x)")

    per_fit, per_step = fit_overhead()
    print(
        f"\nnn.fit per step {per_fit * 1e3:.2f} ms, the bare step {per_step * 1e3:.2f} ms: "
        f"{(per_fit / per_step - 1) * 100:+.1f}% (target: at most +10%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
