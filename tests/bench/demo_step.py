"""micrograd's demo training step, four ways in one run.

The step: MLP(2, [16, 16, 1]) with ReLU hidden layers on 100 two-moons points,
max-margin (hinge) loss plus 1e-4 * L2, a backward pass and a plain SGD update.

* circuitgrad: the network built from `Value.dot` (one node a neuron) and `relu`;
* the same with `nn.MLP`, `nn.losses` and `nn.SGD`;
* both again staged: the graph built once, written out by `engine.stage` as
  one Python function, and that function called each step (the time to build
  and stage is printed on its own, and spread over the demo's 100 steps);
* micrograd 0.1.0 as people run it (its own MLP, garbage collector on);
* plain Python floats, forward and backward written out by hand as tightly as
  we could: the floor for scalar Python.

All start from the same weights; the script checks that their losses
agree to 1e-9 at every step, then times steps round-robin and prints medians.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from operator import add, mul

from engine import Value, stage
from nn.data import moons

SIZES = [2, 16, 16, 1]
ALPHA = 1e-4
STEPS_CHECKED = 10
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


class StagedEngineDemo(EngineDemo):
    """The same graph, built once and staged: each step re-runs the written-out code."""

    def __init__(self, weights, X, y):
        super().__init__(weights, X, y)
        start = time.perf_counter()
        self.staged = stage(self.loss())
        self.staging_time = time.perf_counter() - start

    def step(self, k: int) -> float:
        for p in self.params:
            p.grad = 0.0
        loss = self.staged()
        lr = learning_rate(k)
        for p in self.params:
            p.data -= lr * p.grad
        return loss


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


def main() -> int:
    X, labels = moons(100, noise=0.1, seed=0)
    y = [2 * c - 1 for c in labels]
    contenders = {
        "circuitgrad": EngineDemo,
        "nn.MLP": ModuleDemo,
        "staged": StagedEngineDemo,
        "nn.MLP staged": StagedModuleDemo,
        "micrograd": MicrogradDemo,
        "floats": FloatDemo,
    }

    weights = initial_weights()
    runs = {name: cls(weights, X, y) for name, cls in contenders.items()}
    losses = {name: [run.step(k) for k in range(STEPS_CHECKED)] for name, run in runs.items()}
    worst = max(abs(a - b) for name in contenders for a, b in zip(losses["circuitgrad"], losses[name]))
    print(
        f"losses over {STEPS_CHECKED} steps from the same weights: first {losses['circuitgrad'][0]:.12f}, "
        f"last {losses['circuitgrad'][-1]:.12f}; largest difference between contenders {worst:.2e}"
    )
    if worst > 1e-9:
        print("FAIL: the contenders disagree by more than 1e-9")
        return 1

    times: dict[str, list[float]] = {name: [] for name in contenders}
    runs = {name: cls(initial_weights(), X, y) for name, cls in contenders.items()}
    for k in range(ROUNDS):
        for name, run in runs.items():
            # Each contender in its own steady state: a clean heap, one step whose
            # garbage the timed step then lives with (micrograd's cycles are freed
            # by the collector during its next step, as in real training).
            gc.collect()
            run.step(2 * k)
            start = time.perf_counter()
            run.step(2 * k + 1)
            times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(t) for name, t in times.items()}
    print(f"\ndemo step, median of {ROUNDS} steps each (round-robin, each after one untimed step):")
    for name in contenders:
        print(f"  {name:<14} {median[name] * 1e3:9.2f} ms")
    speedup = median["micrograd"] / median["circuitgrad"]
    floor = median["circuitgrad"] / median["floats"]
    print(f"  circuitgrad is {speedup:.1f}x faster than micrograd (target: at least 40x)")
    print(f"  circuitgrad takes {floor:.2f}x the hand-written float code (target: at most 4x; staged below)")
    modules = median["nn.MLP"] / median["floats"]
    print(
        f"  nn.MLP takes {modules:.2f}x the hand-written float code (target: at most 4x), "
        f"{median['nn.MLP'] / median['circuitgrad']:.2f}x the bare engine"
    )
    print("\nstaged (engine.stage: the graph built once, then its written-out code called each step):")
    for name in ("staged", "nn.MLP staged"):
        once = runs[name].staging_time
        spread = median[name] + once / DEMO_STEPS
        print(
            f"  {name:<14} {median[name] / median['floats']:.2f}x the float code (target: at most 4x), "
            f"{median['micrograd'] / median[name]:.0f}x faster than micrograd; "
            f"building and staging once took {once * 1e3:.0f} ms, "
            f"so over the demo's {DEMO_STEPS} steps {spread / median['floats']:.2f}x the float code"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
