"""micrograd's demo training step, every way we know, in one run.

The step: MLP(2, [16, 16, 1]) with ReLU hidden layers on 100 two-moons points,
max-margin (hinge) loss plus 1e-4 * L2, a backward pass and a plain SGD update.

* circuitgrad: the network built from `Value.dot` (one node a neuron) and `relu`;
* the same with `nn.MLP`, `nn.losses` and `nn.SGD`;
* staged (`engine.stage`): the whole batch's graph written out once as Python
  (the old way: its code grows with the data), and one sample's forward and
  backward pass written out once and run over the batch in a loop (its code grows
  with the model only), in Python and compiled to C (also on a batch bound once,
  `staged.bind(X, y)`, as NumPy holds its data as arrays); the time to stage (and
  to compile) is printed on its own, and spread over the demo's 100 steps;
* micrograd 0.1.0 as people run it (its own MLP, garbage collector on);
* plain Python floats, forward and backward written out by hand as tightly as
  we could: the floor for scalar Python;
* hand-vectorised NumPy float64, and where installed vectorised PyTorch float64
  (CPU) and a `jax.jit` step (float64): what array libraries do with the same step.

All start from the same weights; the script checks that their losses agree to
1e-9 at every step, then times steps round-robin and prints medians. Each
circuitgrad step runs with the cyclic garbage collector paused, as `nn.fit` runs
it (`engine.gc_paused`: the engine's graphs hold no cycles); micrograd keeps it
on, since its closures make cycles that only the collector frees.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from array import array
from operator import add, mul

from engine import Value, gc_paused, stage
from nn.data import moons

SIZES = [2, 16, 16, 1]
ALPHA = 1e-4
STEPS_CHECKED = 10
EXACT = ("staged graph", "staged", "compiled C", "C, batch bound", "C, train step")  # bit for bit the graph's losses
ROUNDS = 15  # steps 0..29 of the demo: the learning rate decays over 100
DEMO_STEPS = 100


def initial_weights(seed: int = 1) -> list[list[list[float]]]:
    """Layers of neurons of [w..., b]: micrograd's init, U(-1, 1) weights, zero bias."""
    rng = random.Random(seed)
    return [
        [[rng.uniform(-1, 1) for _ in range(nin)] + [0.0] for _ in range(nout)] for nin, nout in zip(SIZES, SIZES[1:])
    ]


def learning_rate(k: int) -> float:
    return 1.0 - 0.9 * k / 100


# ------------------------------------------------------------------ circuitgrad


class EngineDemo:
    def __init__(self, weights, X, y):
        # each neuron: (weights, bias)
        self.layers = [[([Value(w) for w in row[:-1]], Value(row[-1])) for row in layer] for layer in weights]
        self.params = [p for layer in self.layers for w, b in layer for p in (*w, b)]
        self.X, self.y = X, y

    def loss(self) -> Value:
        scores = []
        last = len(self.layers) - 1
        for x in self.X:
            acts = x
            for i, layer in enumerate(self.layers):
                acts = [Value.dot(w, acts, bias=b) for w, b in layer]
                if i < last:
                    acts = [a.relu() for a in acts]
            scores.append(acts[0])
        margins = [(1 - yi * s).relu() for yi, s in zip(self.y, scores)]
        data_loss = Value.sum(margins) * (1.0 / len(margins))
        return data_loss + ALPHA * Value.dot(self.params, self.params)

    def step(self, k: int) -> float:
        loss = self.loss()
        for p in self.params:
            p.grad = 0.0
        loss.backward()
        lr = learning_rate(k)
        for p in self.params:
            p.data -= lr * p.grad
        return loss.data


# ----------------------------------------------------------------- circuitgrad nn


class ModuleDemo:
    """The same step with nn.MLP, nn.losses, nn.SGD: the modules should add almost nothing."""

    def __init__(self, weights, X, y):
        from nn import MLP, SGD, losses

        self.model = MLP(SIZES[0], SIZES[1:])
        self.model.load_state_dict(
            {name: w for (name, _), w in zip(self.model.named_parameters(), _flat(weights), strict=True)}
        )
        self.params = self.model.parameters()
        self.optimizer = SGD(self.params, lr=1.0)
        self.losses = losses
        self.X, self.y = X, y

    def step(self, k: int) -> float:
        scores = [self.model(x) for x in self.X]
        loss = self.losses.hinge(scores, self.y) + ALPHA * self.losses.l2(self.params)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.lr = learning_rate(k)
        self.optimizer.step()
        return loss.data


class StagedModuleDemo(ModuleDemo):
    """nn.MLP's graph, built once and staged."""

    def __init__(self, weights, X, y):
        super().__init__(weights, X, y)
        start = time.perf_counter()
        scores = [self.model(x) for x in self.X]
        self.staged = stage(self.losses.hinge(scores, self.y) + ALPHA * self.losses.l2(self.params))
        self.staging_time = time.perf_counter() - start

    def step(self, k: int) -> float:
        self.optimizer.zero_grad()
        loss = self.staged()
        self.optimizer.lr = learning_rate(k)
        self.optimizer.step()
        return loss


class StagedFunctionDemo(ModuleDemo):
    """One sample's forward and backward pass written out once (its code grows with the model, not the
    data) and run over the batch in a loop: `staged.mean(X, y)`, bit for bit the graph's numbers."""

    backend = "python"

    def __init__(self, weights, X, y):
        super().__init__(weights, X, y)
        start = time.perf_counter()
        model, hinge = self.model, self.losses.hinge
        penalty = ALPHA * self.losses.l2(self.params)
        self.staged = stage(lambda x, label: hinge([model(x)], [label]), X[0], y[0], plus=penalty, backend=self.backend)
        self.staged.mean(X[:1], y[:1])  # compiled C is built on its first call
        for p in self.params:
            p.grad = 0.0
        self.staging_time = time.perf_counter() - start

    def step(self, k: int) -> float:
        self.optimizer.zero_grad()
        loss = self.staged.mean(self.X, self.y)
        self.optimizer.lr = learning_rate(k)
        self.optimizer.step()
        return loss


class CompiledDemo(StagedFunctionDemo):
    """The same one-sample code compiled to C (`backend="c"`), batch loop in C."""

    backend = "c"


class CompiledBoundDemo(CompiledDemo):
    """The compiled code on a batch checked and packed once (`staged.bind(X, y)`), as NumPy holds
    its data as arrays: what a step costs without re-reading the data."""

    def __init__(self, weights, X, y):
        super().__init__(weights, X, y)
        start = time.perf_counter()
        self.bound = self.staged.bind(self.X, self.y)
        self.staging_time += time.perf_counter() - start

    def step(self, k: int) -> float:
        self.optimizer.zero_grad()
        loss = self.bound.mean()
        self.optimizer.lr = learning_rate(k)
        self.optimizer.step()
        return loss


class CompiledTrainingDemo(CompiledBoundDemo):
    """The compiled code on a bound batch, with the parameters' numbers and the optimizer's state
    kept in arrays from step to step, as NumPy and JAX keep theirs: `bound.value_and_grad`, then
    `SGD.update` compiled to C. What `nn.fit(staged="c")` runs from its second step on; no Value
    is touched."""

    def __init__(self, weights, X, y):
        super().__init__(weights, X, y)
        assert self.staged.parameters == self.optimizer.params  # the same order: no reordering needed
        self.numbers = array("d", [p.data for p in self.staged.parameters])
        self.optimizer.update(array("d", self.numbers), array("d", bytes(len(self.numbers) * 8)))  # compile
        self.optimizer = type(self.optimizer)(self.params, lr=1.0)  # a fresh state

    def step(self, k: int) -> float:
        loss, grads = self.bound.value_and_grad(self.numbers)
        self.optimizer.lr = learning_rate(k)
        self.optimizer.update(self.numbers, grads)
        return loss


class NumpyDemo:
    """Hand-vectorised NumPy float64: the whole batch as matrices, masks for the ReLUs and the hinge."""

    def __init__(self, weights, X, y):
        import numpy as np

        self.np = np
        self.W = [np.array([row[:-1] for row in layer]) for layer in weights]
        self.b = [np.array([row[-1] for row in layer]) for layer in weights]
        self.X, self.y = np.array(X), np.array(y, dtype=float)

    def step(self, k: int) -> float:
        np, W, b = self.np, self.W, self.b
        z1 = self.X @ W[0].T + b[0]
        a1 = np.maximum(z1, 0.0)
        z2 = a1 @ W[1].T + b[1]
        a2 = np.maximum(z2, 0.0)
        s = (a2 @ W[2].T + b[2])[:, 0]
        margin = 1.0 - self.y * s
        n = len(self.y)
        loss = np.maximum(margin, 0.0).sum() / n + ALPHA * sum((w * w).sum() + (c * c).sum() for w, c in zip(W, b))
        ds = np.where(margin > 0, -self.y / n, 0.0)
        dz2 = (ds[:, None] * W[2]) * (z2 > 0)
        dz1 = (dz2 @ W[1]) * (z1 > 0)
        grads = [(dz1.T @ self.X, dz1.sum(0)), (dz2.T @ a1, dz2.sum(0)), (ds[None, :] @ a2, ds.sum(keepdims=True))]
        lr = learning_rate(k)
        for i, (gw, gb) in enumerate(grads):
            W[i] -= lr * (gw + 2 * ALPHA * W[i])
            b[i] -= lr * (gb + 2 * ALPHA * b[i])
        return float(loss)


class TorchDemo:
    """Vectorised PyTorch float64 on the CPU, autograd for the backward pass."""

    def __init__(self, weights, X, y):
        import torch

        self.torch = torch
        torch.set_num_threads(1)
        as_tensor = lambda rows: torch.tensor(rows, dtype=torch.float64, requires_grad=True)  # noqa: E731
        self.W = [as_tensor([row[:-1] for row in layer]) for layer in weights]
        self.b = [as_tensor([row[-1] for row in layer]) for layer in weights]
        self.X, self.y = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)

    def step(self, k: int) -> float:
        torch, W, b = self.torch, self.W, self.b
        a = self.X
        for i in range(3):
            a = a @ W[i].T + b[i]
            if i < 2:
                a = torch.relu(a)
        loss = torch.relu(1.0 - self.y * a[:, 0]).mean() + ALPHA * sum(
            (w * w).sum() + (c * c).sum() for w, c in zip(W, b)
        )
        for t in (*W, *b):
            t.grad = None
        loss.backward()
        with torch.no_grad():
            for t in (*W, *b):
                t -= learning_rate(k) * t.grad
        return float(loss)


class JaxDemo:
    """`jax.jit` of the same step (float64, CPU): the forward, `jax.grad` and the update traced and compiled."""

    def __init__(self, weights, X, y):
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        def loss_of(params, X, y):
            a = X
            for i, (w, c) in enumerate(params):
                a = a @ w.T + c
                if i < 2:
                    a = jnp.maximum(a, 0.0)
            data = jnp.maximum(1.0 - y * a[:, 0], 0.0).mean()
            return data + ALPHA * sum((w * w).sum() + (c * c).sum() for w, c in params)

        def step(params, X, y, lr):
            loss, grads = jax.value_and_grad(loss_of)(params, X, y)
            return [(w - lr * gw, c - lr * gc) for (w, c), (gw, gc) in zip(params, grads)], loss

        self.step_jit = jax.jit(step)
        self.params = [
            (jnp.array([row[:-1] for row in layer]), jnp.array([row[-1] for row in layer])) for layer in weights
        ]
        self.X, self.y = jnp.array(X), jnp.array(y, dtype=jnp.float64)
        start = time.perf_counter()
        jax.block_until_ready(self.step_jit(self.params, self.X, self.y, 1.0))  # trace and compile once
        self.staging_time = time.perf_counter() - start

    def step(self, k: int) -> float:
        self.params, loss = self.step_jit(self.params, self.X, self.y, learning_rate(k))
        return float(loss)


def _flat(weights):
    return [w for layer in weights for row in layer for w in row]


# -------------------------------------------------------------------- micrograd


class MicrogradDemo:
    def __init__(self, weights, X, y):
        from micrograd.engine import Value as MValue
        from micrograd.nn import MLP

        self.Value = MValue
        self.model = MLP(SIZES[0], SIZES[1:])
        flat = _flat(weights)
        params = self.model.parameters()  # neuron by neuron: weights, then bias
        assert len(params) == len(flat)
        for p, w in zip(params, flat):
            p.data = w
        self.X, self.y = X, y

    def step(self, k: int) -> float:  # micrograd's demo.ipynb, verbatim in spirit
        model, Value = self.model, self.Value
        inputs = [list(map(Value, xrow)) for xrow in self.X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(self.y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        model.zero_grad()
        total_loss.backward()
        lr = learning_rate(k)
        for p in model.parameters():
            p.data -= lr * p.grad
        return total_loss.data


# ------------------------------------------------------------ hand-written floats


class FloatDemo:
    """Forward and backward by hand: ReLU masks, skipped dead units and inactive margins."""

    def __init__(self, weights, X, y):
        self.W = [[list(row) for row in layer] for layer in weights]
        self.X, self.y = X, y

    def step(self, k: int) -> float:
        W1, W2, W3 = self.W
        w3 = W3[0]
        G1 = [[0.0] * len(row) for row in W1]
        G2 = [[0.0] * len(row) for row in W2]
        g3 = [0.0] * len(w3)
        W2_columns = list(zip(*W2))[:-1]  # weights out of each hidden-1 unit
        w3_hidden = w3[:-1]
        n = len(self.X)
        data_loss = 0.0
        for (x0, x1), yi in zip(self.X, self.y):
            a0 = (x0, x1, 1.0)
            a1 = [z if z > 0 else 0.0 for z in [r[0] * x0 + r[1] * x1 + r[2] for r in W1]]
            a1.append(1.0)
            a2 = [z if z > 0 else 0.0 for z in [sum(map(mul, r, a1)) for r in W2]]
            a2.append(1.0)
            margin = 1.0 - yi * sum(map(mul, w3, a2))
            if margin <= 0:
                continue  # relu off: this point sends no gradient
            data_loss += margin
            ds = -yi / n
            g3[:] = map(add, g3, [ds * a for a in a2])
            dz2 = [ds * w if a > 0 else 0.0 for w, a in zip(w3_hidden, a2)]
            for g, d in zip(G2, dz2):
                if d:
                    g[:] = map(add, g, [d * a for a in a1])
            dz1 = [sum(map(mul, col, dz2)) if a > 0 else 0.0 for col, a in zip(W2_columns, a1)]
            for g, d in zip(G1, dz1):
                if d:
                    g[0] += d * x0
                    g[1] += d * x1
                    g[2] += d
        del a0
        reg = 0.0
        lr = learning_rate(k)
        two_alpha = 2 * ALPHA
        for layer, grads in ((W1, G1), (W2, G2), ([w3], [g3])):
            for row, g in zip(layer, grads):
                reg += sum(map(mul, row, row))
                row[:] = [w - lr * (gw + two_alpha * w) for w, gw in zip(row, g)]
        return data_loss / n + ALPHA * reg


# ------------------------------------------------------------------------- main


def _installed(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def main() -> int:
    X, labels = moons(100, noise=0.1, seed=0)
    y = [2 * c - 1 for c in labels]
    contenders = {
        "circuitgrad": EngineDemo,
        "nn.MLP": ModuleDemo,
        "staged graph": StagedModuleDemo,
        "staged": StagedFunctionDemo,
        "compiled C": CompiledDemo,
        "C, batch bound": CompiledBoundDemo,
        "C, train step": CompiledTrainingDemo,
        "micrograd": MicrogradDemo,
        "floats": FloatDemo,
        "numpy": NumpyDemo,
        "torch": TorchDemo,
        "jax.jit": JaxDemo,
    }
    for name, package in (("torch", "torch"), ("jax.jit", "jax"), ("numpy", "numpy")):
        if not _installed(package):
            print(f"{name}: not installed, left out (pip install -e '.[bench]')")
            del contenders[name]

    weights = initial_weights()
    runs = {name: cls(weights, X, y) for name, cls in contenders.items()}
    losses = {name: [run.step(k) for k in range(STEPS_CHECKED)] for name, run in runs.items()}
    worst = max(abs(a - b) for name in contenders for a, b in zip(losses["circuitgrad"], losses[name]))
    exact = [name for name in EXACT if losses[name] == losses["nn.MLP"]]
    print(
        f"losses over {STEPS_CHECKED} steps from the same weights: first {losses['circuitgrad'][0]:.12f}, "
        f"last {losses['circuitgrad'][-1]:.12f}; largest difference between contenders {worst:.2e}; "
        f"equal to nn.MLP's bit for bit: {', '.join(exact)}"
    )
    if worst > 1e-9:
        print("FAIL: the contenders disagree by more than 1e-9")
        return 1

    times: dict[str, list[float]] = {name: [] for name in contenders}
    runs = {name: cls(initial_weights(), X, y) for name, cls in contenders.items()}
    for k in range(ROUNDS):
        for name, run in runs.items():
            # Each contender in its own steady state: a clean heap, one step whose garbage
            # the timed step then lives with (micrograd's cycles are freed by the collector
            # during its next step, as in real training).
            gc.collect()
            run.step(2 * k)
            if name == "micrograd":
                start = time.perf_counter()
                run.step(2 * k + 1)
                times[name].append(time.perf_counter() - start)
                continue
            with gc_paused():
                start = time.perf_counter()
                run.step(2 * k + 1)
                times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(t) for name, t in times.items()}
    floats = median["floats"]
    print(f"\ndemo step, median of {ROUNDS} steps each (round-robin, each after one untimed step):")
    print(f"  {'':<14} {'per step':>10} {'/ floats':>9} {'micrograd /':>12}")
    for name in contenders:
        print(
            f"  {name:<14} {median[name] * 1e3:>7.3f} ms {median[name] / floats:>8.2f}x "
            f"{median['micrograd'] / median[name]:>11.0f}x"
        )
    print(f"  circuitgrad is {median['micrograd'] / median['circuitgrad']:.1f}x faster than micrograd (target: 40x)")
    print(f"  nn.MLP is {median['nn.MLP'] / median['circuitgrad']:.2f}x the bare engine")
    print("\nstaging (once), and spread over the demo's 100 steps:")
    for name in (*EXACT, "jax.jit"):
        if name not in runs:
            continue
        once = runs[name].staging_time
        spread = median[name] + once / DEMO_STEPS
        print(
            f"  {name:<14} staging {once * 1e3:8.1f} ms; with it, {spread * 1e3:.3f} ms a step = "
            f"{spread / floats:.2f}x the float code"
        )
    print(
        f"  target (staging issue): staged, staging included, at most 1x the float code: "
        f"{(median['staged'] + runs['staged'].staging_time / DEMO_STEPS) / floats:.2f}x"
    )
    for name in ("numpy", "torch", "jax.jit"):
        if name in median:
            print(
                f"  target (compiled issue): compiled / {name}, at most 1x: "
                f"train step {median['C, train step'] / median[name]:.2f}x, "
                f"batch bound {median['C, batch bound'] / median[name]:.2f}x, "
                f"compiled C {median['compiled C'] / median[name]:.2f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
