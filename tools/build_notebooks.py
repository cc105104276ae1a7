"""Write the teaching notebooks from their cell sources and run them, outputs included.

    .venv/bin/python tools/build_notebooks.py

Each notebook is a list of (kind, source) cells below; the committed .ipynb files
are this script's output, executed top to bottom so they read well on a code host.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent.parent / "notebooks"

BACKPROP_INTUITIONS = [
    (
        "md",
        """# Backprop intuitions, run

A gradient is a **sensitivity**: how much the output moves per unit nudge of one input,
everything else held still. Backpropagation computes all of them at once by a local
process: every gate knows its own output and the *local* gradient of that output with
respect to its inputs, and the chain rule multiplies those local numbers along the
wires, from the output back to the inputs.

This notebook walks through the circuits of the CS231n notes "Backpropagation,
Intuitions" with circuitgrad. Every `Value` remembers the op that made it and the
local gradients of that op; `backward()` does the chaining.""",
    ),
    ("code", """from engine import Value, maximum, gradcheck, numerical_grad"""),
    (
        "md",
        """## One gate: a product

For f(x, y) = x·y the partial derivatives are ∂f/∂x = y and ∂f/∂y = x. At x = 4, y = -3,
f = -12; nudging x up by a tiny h moves f by about -3h, nudging y up moves it by about +4h.""",
    ),
    (
        "code",
        """x, y = Value(4.0, label='x'), Value(-3.0, label='y')
f = x * y
f.backward()
print(f)
print('df/dx =', x.grad, '  df/dy =', y.grad)
print('local gradients stored on f:', f.locals)""",
    ),
    (
        "md",
        """## Chaining: f(x, y, z) = (x + y) · z

Split it into q = x + y and f = q·z. The mul gate tells q its gradient is z = -4;
the add gate hands that gradient unchanged to both x and y. The chain rule is just
the multiplication of these local numbers.""",
    ),
    (
        "code",
        """x, y, z = Value(-2.0, label='x'), Value(5.0, label='y'), Value(-4.0, label='z')
q = x + y; q.label = 'q'
f = q * z; f.label = 'f'
f.backward()
for v in (x, y, z, q, f):
    print(v)""",
    ),
    (
        "md",
        """Check the arithmetic by hand: df/dz = q = 3, df/dq = z = -4, and df/dx = df/dq · dq/dx = -4 · 1.

## Patterns in the backward flow

Three gates do almost all the work in neural networks, and each has a simple story:

* **add distributes**: its local gradient is 1 for every input, so every input gets the output's gradient unchanged;
* **mul swaps**: the gradient on one input is the *other* input's value times the output's gradient;
* **max routes**: the whole gradient goes to the input that won; the loser gets 0.

The circuit 2·(x·y + max(z, w)) at x = 3, y = -4, z = 2, w = -1 shows all three.""",
    ),
    (
        "code",
        """x, y, z, w = Value(3.0), Value(-4.0), Value(2.0), Value(-1.0)
xy = x * y
m = maximum(z, w)
s = xy + m
f = s * 2
f.backward()
print('gradient arriving at the add gate:', s.grad)
print('add distributes -> xy.grad =', xy.grad, ' m.grad =', m.grad)
print('mul swaps       -> x.grad =', x.grad, '(= y * 2)  y.grad =', y.grad, '(= x * 2)')
print('max routes      -> z.grad =', z.grad, '  w.grad =', w.grad)""",
    ),
    (
        "md",
        """An unintuitive consequence of *mul swaps*: scale the data by 1000 and the gradient on
the weight that multiplies it grows by 1000 too. This is one reason preprocessing matters.""",
    ),
    (
        "code",
        """for scale in (1.0, 1000.0):
    w = Value(0.5)
    (w * (2.0 * scale)).backward()
    print(f'input {2.0 * scale:>7}: gradient on the weight {w.grad}')""",
    ),
    (
        "md",
        """## Gradients add up at forks

When a value feeds several parts of a circuit, the gradients flowing back along each
branch **add** (the multivariable chain rule). That is why backward does `+=`, never `=`.
In f = x·y + x, the variable x is used twice: ∂f/∂x = y + 1.""",
    ),
    (
        "code",
        """x, y = Value(2.0), Value(-3.0)
f = x * y + x
f.backward()
print('x.grad =', x.grad, ' (y + 1 =', y.data + 1, ')')
print('x appears twice among the children of x*x:', (x * x).children)""",
    ),
    (
        "md",
        """## Modularity: the sigmoid neuron

A 2-D neuron with a sigmoid: f(w, x) = 1 / (1 + e^-(w0·x0 + w1·x1 + w2)), with w = [2, -3, -3]
and x = [-1, -2]. First built from primitive gates only (multiply, add, negate, exp, add a
constant, reciprocal):""",
    ),
    (
        "code",
        """w = [Value(2.0), Value(-3.0), Value(-3.0)]
x = [Value(-1.0), Value(-2.0)]
dot = w[0] * x[0] + w[1] * x[1] + w[2]
f = 1 / (1 + (-dot).exp())
f.backward()
print(f'f = {f.data:.4f}')
print('dw =', [round(v.grad, 3) for v in w])
print('dx =', [round(v.grad, 3) for v in x])""",
    ),
    (
        "md",
        """The derivative of the sigmoid simplifies to σ(x)·(1 - σ(x)): the dot product is 1.0, the
sigmoid 0.73, its local gradient (1 - 0.73)·0.73 ≈ 0.2. So the whole chain can be one gate.
Here the neuron is one fused `dot` node and one `sigmoid` node, and the gradients agree:""",
    ),
    (
        "code",
        """w2 = [Value(2.0), Value(-3.0), Value(-3.0)]
x2 = [Value(-1.0), Value(-2.0)]
dot2 = Value.dot(w2[:2], x2, bias=w2[2])
f2 = dot2.sigmoid()
f2.backward()
print('sigmoid local gradient:', round(f2.locals[0], 4))
print('dw =', [round(v.grad, 3) for v in w2], '  dx =', [round(v.grad, 3) for v in x2])
print('same as the primitive circuit:', all(abs(a.grad - b.grad) < 1e-15 for a, b in zip(w + x, w2 + x2)))""",
    ),
    (
        "md",
        """## Staged computation

f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²) at x = 3, y = -4. Nobody should differentiate this
symbolically. Break it into stages with easy local gradients, then walk the stages
backwards; note the `+=` wherever x or y is reached a second time. Written out by hand:""",
    ),
    (
        "code",
        """import math
xv, yv = 3.0, -4.0
# forward, stage by stage
sigy = 1 / (1 + math.exp(-yv)); num = xv + sigy
sigx = 1 / (1 + math.exp(-xv)); xpy = xv + yv; xpysqr = xpy ** 2
den = sigx + xpysqr; invden = 1 / den; fv = num * invden
# backward, the stages in reverse
dnum, dinvden = invden, num
dden = -1 / den ** 2 * dinvden
dsigx, dxpysqr = dden, dden
dxpy = 2 * xpy * dxpysqr
dx, dy = dxpy, dxpy
dx += sigx * (1 - sigx) * dsigx   # x is reached again: +=
dx += dnum
dy += sigy * (1 - sigy) * dnum
print(f'by hand:     f = {fv:.6f}  dx = {dx:.6f}  dy = {dy:.6f}')

x, y = Value(xv), Value(yv)
f = (x + y.sigmoid()) / (x.sigmoid() + (x + y) ** 2)
f.backward()
print(f'circuitgrad: f = {f.data:.6f}  dx = {x.grad:.6f}  dy = {y.grad:.6f}')""",
    ),
    (
        "md",
        """The engine can write that staged code for you. `engine.stage` walks the graph once and
prints one line per stage forward, then one line per edge backward: the `+=` lines are the
forks. (The exp, sigmoid and division stages are re-run by the engine's own ops, which
return the value and its local gradient.) Calling the staged function re-runs it on the
leaves' current data, with no graph built, and it gives the same numbers as `backward()`.""",
    ),
    (
        "code",
        """from engine import stage
x, y = Value(3.0, 'x'), Value(-4.0, 'y')
sigy = y.sigmoid(); sigy.label = 'sigy'
num = x + sigy; num.label = 'num'
sigx = x.sigmoid(); sigx.label = 'sigx'
xpy = x + y; xpy.label = 'xpy'
xpysqr = xpy ** 2; xpysqr.label = 'xpysqr'
den = sigx + xpysqr; den.label = 'den'
f = num / den; f.label = 'f'
staged = stage(f)
print(staged.source)
print('staged:', staged(), ' dx =', x.grad, ' dy =', y.grad)
x.data, y.data = 1.0, 2.0  # new inputs: the same code, no new graph
x.grad = y.grad = 0.0
print('at x=1, y=2:', staged(), ' dx =', x.grad, ' dy =', y.grad)""",
    ),
    (
        "md",
        """## Checking a gradient

The derivative is the slope in a tiny neighbourhood, so it can be estimated with no
calculus at all: (f(x + h) - f(x - h)) / 2h. That costs two evaluations per input, far too
slow for training but the standard way to test a backward pass. `gradcheck` compares the
two and raises with a table when they disagree.""",
    ),
    (
        "code",
        """def staged(x, y):
    return (x + y.sigmoid()) / (x.sigmoid() + (x + y) ** 2)

print('numerical:', numerical_grad(staged, [3.0, -4.0]))
print('gradcheck:', gradcheck(staged, [3.0, -4.0]))""",
    ),
    (
        "md",
        """A classic bug is treating a value as a constant by accident. Here `x.detach()` cuts
one path, so backward says d(x²)/dx = x while the true slope is 2x. The check catches it:""",
    ),
    (
        "code",
        """from engine import GradcheckError
try:
    gradcheck(lambda x: x * x.detach(), [3.0])
except GradcheckError as error:
    print(error)""",
    ),
    (
        "md",
        """## What to take away

* A gradient is a sensitivity; backprop is the chain rule applied locally, gate by gate.
* add distributes, mul swaps, max routes; gradients add at forks.
* Group gates whose combined derivative is simple (the sigmoid), and stage the rest.
* Check every new gradient numerically before trusting it.""",
    ),
]

DEMO = [
    (
        "md",
        """# micrograd's demo, with circuitgrad

A two-layer ReLU network learns to separate the two moons: 100 points, `MLP(2, [16, 16, 1])`,
the max-margin (hinge) loss plus a little L2, and 100 steps of SGD whose learning rate
decays from 1.0 to 0.1. It is the demo micrograd ships, written with `nn`.""",
    ),
    (
        "code",
        """from nn import MLP, SGD, LinearDecay, fit, losses, plot_decision_boundary, plot_loss
from nn.data import moons, signed

X, labels = moons(n=100, noise=0.1, seed=0)
y = signed(labels)          # the hinge loss wants labels -1 / +1
print(X[:3], y[:3])""",
    ),
    (
        "md",
        """The network: two hidden layers of 16 ReLU neurons and one linear output, the score. Each
neuron is one fused `dot` node plus its `relu`, so one forward pass on one point is 65 nodes.""",
    ),
    (
        "code",
        """model = MLP(2, [16, 16, 1], seed=0)
print(model)
print(len(model.parameters()), 'parameters')""",
    ),
    ("md", """Train. The progress bar shows the loss and the training accuracy as it goes."""),
    (
        "code",
        """optimizer = SGD(model.parameters(), lr=1.0)
schedule = LinearDecay(optimizer, start=1.0, end=0.1, steps=100)
history = fit(model, X, y, losses.hinge, optimizer, steps=100, l2_weight=1e-4, schedule=schedule)
print(f'final loss {history.loss[-1]:.4f}, accuracy {history.accuracy[-1]:.0%}')""",
    ),
    (
        "md",
        """The loss falls by two orders of magnitude, with a few bumps where a large early
learning rate overshoots; the accuracy reaches 100%.""",
    ),
    ("code", """plot_loss(history);"""),
    (
        "md",
        """The decision boundary: what the network learned, evaluated on a grid (under `no_grad`,
so no graph is built for the grid).""",
    ),
    ("code", """plot_decision_boundary(model, X, y);"""),
    ("md", """The model's parameters save to JSON, exactly, and load back:"""),
    (
        "code",
        """import tempfile, pathlib
path = pathlib.Path(tempfile.mkdtemp()) / 'moons.json'
model.save(path)
copy = MLP(2, [16, 16, 1], seed=1)
copy.load(path)
print(copy.state_dict() == model.state_dict())""",
    ),
    (
        "md",
        """## Faster: the same training, staged

Every step above builds a new graph of about 7,000 nodes, sorts it and walks it back.
But the graph has the same shape every step: only the weights change. `fit(...,
staged=True)` builds it once, has `engine.stage` write its forward and backward pass out
as one Python function, and calls that function each step. The numbers are the same, bit
for bit; the time is not.""",
    ),
    (
        "code",
        """import time

def train(staged):
    model = MLP(2, [16, 16, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=1.0)
    schedule = LinearDecay(optimizer, start=1.0, end=0.1, steps=100)
    start = time.perf_counter()
    history = fit(model, X, y, losses.hinge, optimizer, steps=100, l2_weight=1e-4,
                  schedule=schedule, progress=False, staged=staged)
    return model, history, time.perf_counter() - start

graph_model, graph_history, graph_seconds = train(staged=False)
staged_model, staged_history, staged_seconds = train(staged=True)
print(f'graph every step: {graph_seconds:.2f} s;  staged: {staged_seconds:.2f} s '
      f'(most of it writing and compiling the code once)')
print('same losses:', staged_history.loss == graph_history.loss)
print('same weights:', staged_model.state_dict() == graph_model.state_dict())""",
    ),
]

LEAKY = [
    (
        "md",
        """# Backprop is a leaky abstraction

Stack layers, call `backward()`, and the network learns: that is the abstraction. It
leaks. The gradient that reaches a weight is a *product* of local gradients along the
way, and some gates have local gradients that are zero, tiny, or the same number again
and again. This notebook reproduces the four cases of the essay "Yes you should
understand backprop" and shows the circuitgrad diagnostics that make each one visible:
`saturation`, `dead_relus`, `gradient_stats`, `blocked`, `clip_grad_norm` and `diagnose`.""",
    ),
    (
        "code",
        """import math
import matplotlib.pyplot as plt
from engine import Value, blocked
from nn import (MLP, RNN, SGD, GradientMonitor, clip_grad_norm, dead_relus, diagnose, fit,
                gradient_stats, losses, saturation)
from nn.data import moons, signed

X, labels = moons(n=100, noise=0.1, seed=0)
y = signed(labels)""",
    ),
    (
        "md",
        """## 1. Vanishing gradients on sigmoids

A sigmoid's local gradient is z(1 - z): at most 0.25 (at z = 0.5), and nearly 0 when z is
close to 0 or 1. Initialise the weights too large and the pre-activations land far from
0, most z are almost exactly 0 or 1, and the gradient through those units all but
vanishes. Two sigmoid networks, one with a sensible (Xavier) init and one whose hidden
weights are 100 times too large:""",
    ),
    (
        "code",
        """def sigmoid_net(scale):
    model = MLP(2, [16, 16, 1], activation='sigmoid', init='xavier', seed=1)
    for layer in model.layers[:2]:          # the two hidden layers
        for p in layer.parameters():
            p.data *= scale
    return model

for scale in (1, 100):
    model = sigmoid_net(scale)
    print(f'hidden weights x{scale}: saturated fraction per layer', [f'{s:.0%}' for s in saturation(model, X)])
    print(diagnose(model, X, y, losses.hinge))
    print()""",
    ),
    (
        "md",
        """Does it matter? Train both for 60 steps and measure, for every unit of the first
hidden layer, how far its weights moved (relative to their size) against how often the
unit was saturated. A saturated unit receives almost no gradient, so it barely moves: it
stays a fixed, random step function for the layers above to work with.""",
    ),
    (
        "code",
        """from nn.diagnostics import layer_outputs

def saturated_fraction_and_change(scale):
    model = sigmoid_net(scale)
    outputs = layer_outputs(model, X)[0]                 # [unit][sample] of the first layer
    saturated = [sum(z * (1 - z) < 0.01 for z in unit) / len(unit) for unit in outputs]
    before = [[p.data for p in n.parameters()] for n in model.layers[0].neurons]
    history = fit(model, X, y, losses.hinge, SGD(model.parameters(), lr=0.5), steps=60, progress=False)
    after = [[p.data for p in n.parameters()] for n in model.layers[0].neurons]
    change = [math.dist(a, b) / math.hypot(*b) for a, b in zip(after, before)]
    return saturated, change, history

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for scale, colour in ((1, 'tab:blue'), (100, 'tab:orange')):
    saturated, change, history = saturated_fraction_and_change(scale)
    left.scatter(saturated, change, color=colour, label=f'hidden weights x{scale}')
    right.plot(history.loss, color=colour, label=f'hidden weights x{scale}')
left.set_yscale('log'); left.set_xlabel('fraction of inputs on which the unit is saturated')
left.set_ylabel('relative change of its weights'); left.set_title('first hidden layer, after 60 steps'); left.legend()
right.set_xlabel('step'); right.set_ylabel('hinge loss'); right.set_title('training loss'); right.legend();""",
    ),
    (
        "md",
        """The loss still falls in both: the output layer learns to combine whatever the hidden
units give it. But in the saturated network the hidden layers have stopped learning;
with deeper stacks of saturated layers, nothing below them learns at all.""",
    ),
    (
        "md",
        """## 2. Dying ReLUs

A ReLU passes gradient 1 where it fires and 0 where it does not. A neuron that is off for
*every* input gets no gradient at all, so its weights never change again: it is dead for
good. One step with a far too large learning rate is enough to knock many neurons into
that state.""",
    ),
    (
        "code",
        """model = MLP(2, [16, 16, 1], seed=0)
print('dead before:', dead_relus(model, X))
scores = [model(x) for x in X]
loss = losses.hinge(scores, y)
model.zero_grad(); loss.backward()
SGD(model.parameters(), lr=30.0).step()      # one reckless step
dead = dead_relus(model, X)
print(f'dead after one step at lr=30: {len(dead)} of 32 ->', dead)""",
    ),
    (
        "md",
        """`blocked` shows where the gradient stops on its way to a dead neuron's weight: at that
neuron's own relu, for every input. Train on at a sane learning rate: a dead neuron of
the first layer sees the fixed training inputs, so it stays dead for good. A dead neuron
higher up can come back to life if the layers below it change what it sees; others
can die along the way.""",
    ),
    (
        "code",
        """layer, neuron = dead[0]
weight = model.layers[layer].neurons[neuron].w[0]
out = model(X[0])
own = model.layers[layer].neurons[neuron].name
print(f'the gradient to {own}.w.0 stops at:', [str(b) for b in blocked(out, weight) if b.scope == own])

fit(model, X, y, losses.hinge, SGD(model.parameters(), lr=0.1), steps=30, progress=False)
still_dead = dead_relus(model, X)
first = [d for d in dead if d[0] == 0]
print(f'after 30 more steps: {len(still_dead)} dead')
print('first-layer neurons dead before and still dead:', first, all(d in still_dead for d in first))""",
    ),
    (
        "code",
        """fig, ax = plt.subplots(figsize=(6, 3))
per_layer = [sum(1 for l, _ in still_dead if l == i) / 16 for i in range(2)]
ax.bar(['hidden layer 0', 'hidden layer 1'], per_layer, color='tab:red')
ax.set_ylim(0, 1); ax.set_ylabel('fraction dead'); ax.set_title('ReLUs that never fire on the training set');""",
    ),
    (
        "md",
        """## 3. Exploding and vanishing gradients in an RNN

Unroll a scalar RNN h_t = tanh(w·h_(t-1) + u·x_t) over 50 steps. Going backwards in time,
the gradient is multiplied at every step by the same recurrent weight w (times tanh's
local gradient, at most 1). So it shrinks like w^t when |w| < 1 and grows like w^t when
|w| > 1. Here the state stays near 0, where tanh' = 1, and the measured gradient follows
w^t exactly.""",
    ),
    (
        "code",
        """def gradient_through_time(w_h, steps=50):
    rnn = RNN(1, 1, activation='tanh', seed=0)
    cell = rnn.cell.neurons[0]
    cell.w[0].data, cell.w[1].data, cell.b.data = 0.0, w_h, 0.0
    h0 = Value(0.0)
    states = rnn([[0.0]] * steps, h0=[h0])
    norms = []
    for t in range(1, steps + 1):
        h0.grad = 0.0
        states[t - 1][0].backward()
        norms.append(abs(h0.grad))
    return norms

fig, ax = plt.subplots(figsize=(6, 4))
for w_h in (1.5, 1.0, 0.5):
    ax.plot(range(1, 51), gradient_through_time(w_h), label=f'w = {w_h}')
ax.set_yscale('log'); ax.set_xlabel('time steps back'); ax.set_ylabel('|d h_t / d h_0|')
ax.set_title('the same factor at every step'); ax.legend();""",
    ),
    (
        "md",
        """An exploding gradient wrecks training: one update is so large that the weights jump
somewhere useless (or overflow). `clip_grad_norm` rescales the whole gradient to a
maximum length before the update, keeping its direction. A linear RNN learning to
output the sum of 20 inputs, starting from w = 1.3:""",
    ),
    (
        "code",
        """import random
rng = random.Random(0)
sequences = [[[rng.uniform(-1, 1)] for _ in range(20)] for _ in range(16)]
targets = [sum(x[0] for x in seq) for seq in sequences]

def train_rnn(max_norm, steps=60, lr=0.01):
    rnn = RNN(1, 1, activation='linear', seed=0)
    cell = rnn.cell.neurons[0]
    cell.w[0].data, cell.w[1].data, cell.b.data = 0.5, 1.3, 0.0
    history = []
    for _ in range(steps):
        try:
            preds = [rnn(seq)[-1][0] for seq in sequences]
            loss = losses.mse(preds, targets)
        except OverflowError:
            break
        if not math.isfinite(loss.data):
            break
        history.append(loss.data)
        rnn.zero_grad(); loss.backward()
        if max_norm is not None:
            clip_grad_norm(rnn.parameters(), max_norm)
        for p in rnn.parameters():
            p.data -= lr * p.grad
    return history, cell

plain, _ = train_rnn(None)
clipped, cell = train_rnn(1.0)
print(f'without clipping: {len(plain)} steps before the loss overflowed, last loss {plain[-1]:.3g}')
print(f'clipped to norm 1: loss {clipped[0]:.3g} -> {clipped[-1]:.3g}', end=', ')
print(f'w = {cell.w[1].data:.3f}, u = {cell.w[0].data:.3f} (the answer: 1 and 1)')
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(plain, label='no clipping'); ax.plot(clipped, label='clip_grad_norm(1.0)')
ax.set_yscale('log'); ax.set_xlabel('step'); ax.set_ylabel('mse'); ax.legend();""",
    ),
    (
        "md",
        """## 4. The DQN clipping bug, and the Huber loss

A DQN implementation clipped the raw error delta = Q(s, a) - target to [-1, 1] before
squaring it, to be robust to outliers. In the forward pass that looks sensible. In the
backward pass, a clip has local gradient **0 outside its range**: every sample whose
error is larger than 1 (the ones that most need correcting) sends no gradient at all.
What was wanted is the Huber loss: quadratic for small errors, linear for large ones,
so a large error still pushes, with a bounded force.""",
    ),
    (
        "code",
        """q = Value(5.0, label='q')            # the estimate; the target is 0
clipped = q.clip(-1, 1) ** 2 * 0.5
clipped.backward()
print('clipped error: gradient on q =', q.grad)
print('where it stopped:', [str(b) for b in blocked(clipped, q)])
q.grad = 0.0
losses.huber([q], [0.0]).backward()
print('huber loss:    gradient on q =', q.grad)""",
    ),
    (
        "code",
        """def regress(loss_kind, steps=40, lr=0.2):
    q = Value(5.0)
    path = []
    for _ in range(steps):
        error = q - 0.0
        loss = error.clip(-1, 1) ** 2 * 0.5 if loss_kind == 'clip' else losses.huber([q], [0.0])
        q.grad = 0.0
        loss.backward()
        q.data -= lr * q.grad
        path.append(q.data)
    return path

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(regress('clip'), label='clipped error (the bug): stuck')
ax.plot(regress('huber'), label='Huber loss: converges')
ax.axhline(0.0, color='gray', lw=0.5)
ax.set_xlabel('step'); ax.set_ylabel('q (target 0)'); ax.legend();""",
    ),
    (
        "md",
        """## Take-aways

* Saturated sigmoids and tanhs pass almost nothing back: check `saturation` after
  choosing an init.
* Dead ReLUs never come back: check `dead_relus` on the training set, especially after
  a high learning rate.
* Recurrent gradients scale like w^t: clip them with `clip_grad_norm`.
* A clip in the forward pass is a zero in the backward pass: `blocked(loss, param)` finds
  it; use a Huber loss instead.
* `diagnose(model, X, y, loss)` runs all the checks at once.""",
    ),
]

TRACE = [
    (
        "md",
        """# Drawing the graph: every value and every gradient

`draw_dot(root)` (or `root.draw()`) turns the graph behind a Value into a Graphviz diagram,
shown inline here as SVG. Two looks: `style='record'`, micrograd's, with each value a
record of its label, data and gradient; and `style='circuit'`, the CS231n notes', with
ops as gates and every wire carrying its forward value (green, above) and its gradient
(red, below).""",
    ),
    (
        "code",
        """from engine import Value, maximum, draw_dot
from nn import MLP

x, y, z = Value(-2.0, label='x'), Value(5.0, label='y'), Value(-4.0, label='z')
q = x + y; q.label = 'q'
f = q * z; f.label = 'f'
f.draw(style='circuit')""",
    ),
    (
        "md",
        """Before `backward()` the diagram says the gradients are not computed yet, instead of
showing zeros that would look like answers. After it, each wire shows both numbers:
the add gate hands -4 to both its inputs, the mul gate swaps its inputs' values.""",
    ),
    (
        "code",
        """f.backward()
f.draw(style='circuit')""",
    ),
    ("code", """f.draw()   # the record style"""),
    (
        "md",
        """The notes' second circuit, 2·(x·y + max(z, w)): the max gate routes its whole gradient
to z; the wire from w carries gradient 0 and is drawn dashed: the gradient is blocked
there. The legend explains every highlight in use.""",
    ),
    (
        "code",
        """x, y = Value(3.0, label='x'), Value(-4.0, label='y')
z, w = Value(2.0, label='z'), Value(-1.0, label='w')
g = (x * y + maximum(z, w)) * 2
g.label = 'f'
g.backward()
g.draw(style='circuit')""",
    ),
    (
        "md",
        """## A neuron

The 2-D sigmoid neuron of the notes, built from primitive gates, and then as one fused
`dot` node and one `sigmoid`: the same gradients, a much smaller graph.""",
    ),
    (
        "code",
        """w0, w1, w2 = Value(2.0, label='w0'), Value(-3.0, label='w1'), Value(-3.0, label='w2')
x0, x1 = Value(-1.0, label='x0'), Value(-2.0, label='x1')
out = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
out.label = 'f'
out.backward()
out.draw(style='circuit', precision=3)""",
    ),
    (
        "code",
        """fused = Value.dot([w0, w1], [x0, x1], bias=w2).sigmoid()
fused.label = 'f'
for v in (w0, w1, w2, x0, x1):
    v.grad = 0.0
fused.backward()
fused.draw(style='circuit', precision=3)""",
    ),
    (
        "md",
        """## A whole MLP

micrograd's demo network for one input is 65 nodes and 337 parameters: too many to read
one by one. Each neuron tags its nodes with its name (`layers.0.neurons.3`), so
`collapse='neuron'` draws one box per neuron with the value and gradient that leave it,
and `collapse='layer'` one box per layer.""",
    ),
    (
        "code",
        """model = MLP(2, [16, 16, 1], seed=0)
score = model([0.5, -0.3])
score.backward()
draw_dot(score, collapse='layer')""",
    ),
    ("code", """draw_dot(score, collapse='neuron', rankdir='LR')"""),
    (
        "md",
        """Two more ways to look at a large graph: `max_nodes` draws the nodes nearest the
output and says what it left out; `around=node, depth=k` draws one neighbourhood.""",
    ),
    ("code", """draw_dot(score, max_nodes=12)"""),
    (
        "md",
        """Diagrams render to files with `.render('name', format='svg')` (or `'png'`, `'pdf'`), and
`circuitgrad train` writes the collapsed diagram of the trained network to `out/graph.svg`.""",
    ),
]

HIGHER = [
    (
        "md",
        """# Beyond one backward pass

Every op in circuitgrad stores the rule for its local gradient, written once in plain
arithmetic (`engine.ops`). `backward()` evaluates the rules on floats. The functional
transforms evaluate the same rules on Values, so a gradient is itself a graph, and can be
differentiated again: `grad(grad(f))` is the second derivative. Forward mode (`jvp`)
pushes a tangent through the stored local gradients instead of pulling a gradient back.""",
    ),
    (
        "code",
        """import math, time
from engine import Value, grad, hessian, hvp, jvp, jacobian, gradgradcheck, defop""",
    ),
    (
        "md",
        """## Derivatives of any order

f(x) = x·sin(x). Its derivatives, by hand: f' = sin x + x cos x, f'' = 2 cos x - x sin x,
f''' = -3 sin x - x cos x.""",
    ),
    (
        "code",
        """f = lambda x: x * x.sin()
x = 0.7
rows = [
    ("f'", grad(f), math.sin(x) + x * math.cos(x)),
    ("f''", grad(grad(f)), 2 * math.cos(x) - x * math.sin(x)),
    ("f'''", grad(grad(grad(f))), -3 * math.sin(x) - x * math.cos(x)),
]
for name, derivative, exact in rows:
    print(f'{name:5} circuitgrad {derivative(x): .15f}   by hand {exact: .15f}')""",
    ),
    (
        "md",
        """## Newton's method

To minimise g(x) = x⁴ - 3x² + x, step x ← x - g'(x) / g''(x): where the tangent line of g'
crosses zero. Near the answer the number of correct digits doubles at every step.""",
    ),
    (
        "code",
        """g = lambda x: x**4 - 3 * x**2 + x
dg, d2g = grad(g), grad(grad(g))
x = 2.0
for step in range(7):
    print(f"step {step}: x = {x:.15f}   g'(x) = {dg(x): .3e}")
    x = x - dg(x) / d2g(x)""",
    ),
    (
        "md",
        """Nested transforms never confuse their variables: each one makes fresh variables for its
own inputs. The classic trap, d/dx [x · d/dy (x + y)], is 1:""",
    ),
    ("code", """print(grad(lambda x: x * grad(lambda y: x + y)(2.0))(3.0))"""),
    (
        "md",
        """## The Hessian of a tiny network's loss

One tanh neuron with an output weight, w = (w0, w1, b, v), and a squared error over three
points. `hessian` gives the 4×4 matrix of second derivatives; `gradgradcheck` compares it
with central differences of the gradient; `hvp` gives a Hessian-vector product.""",
    ),
    (
        "code",
        """X = [(0.5, -1.0), (1.5, 0.2), (-0.3, 0.8)]
y = [1.0, -1.0, 0.5]

def loss(w):
    preds = [Value.dot(w[0:2], x, bias=w[2]).tanh() * w[3] for x in X]
    return Value.sum((p - t) ** 2 for p, t in zip(preds, y)) * (1 / len(X))

w = [0.4, -0.7, 0.1, 1.3]
H = hessian(loss)(w)
for row in H:
    print('  '.join(f'{h: .5f}' for h in row))
print('symmetric:', all(abs(H[i][j] - H[j][i]) < 1e-12 for i in range(4) for j in range(4)))
print('gradgradcheck:', gradgradcheck(lambda *ws: loss(list(ws)), w))
print('H v for v = (1, 0, 0, 0):', [round(h, 5) for h in hvp(loss)(w, [1, 0, 0, 0])])""",
    ),
    (
        "md",
        """## Forward versus reverse mode, measured

For f: ℝⁿ → ℝᵐ the full Jacobian takes n forward-mode sweeps (one tangent per input) or
m reverse-mode sweeps (one gradient per output). Forward mode is cheap with few inputs,
reverse mode with few outputs: a loss has one output and many inputs, which is why
training uses reverse mode. Below, a long computation shared by every output; both
Jacobians use the same graph, built once.""",
    ),
    (
        "code",
        """from engine.functional import gradients
from engine import topological_order

def program(n, m, depth=200):
    \"\"\"n inputs, a long shared computation, then m cheap outputs.\"\"\"
    xs = [Value(0.1 * (k + 1)) for k in range(n)]
    h = Value.sum(x.sin() for x in xs)
    for _ in range(depth):
        h = (h * 0.9 + 0.1).tanh()
    ys = [h * (i + 1) for i in range(m)]
    return xs, ys

def forward_jacobian(xs, ys):
    order = list(reversed(topological_order(Value.sum(ys))))  # the program, inputs first
    columns = []
    for x in xs:  # one forward sweep over the program per input
        tangent = {x: 1.0}
        for node in order:
            tangent[node] = sum(local * tangent.get(child, 0.0) for child, local in zip(node.children, node.locals))
        columns.append([tangent.get(y, 0.0) for y in ys])
    return [list(row) for row in zip(*columns)]

def reverse_jacobian(xs, ys):
    return [gradients(y, xs) for y in ys]  # one backward sweep per output

def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start

print(f"{'inputs':>6} {'outputs':>7} {'forward mode':>13} {'reverse mode':>13}")
for n, m in [(1, 64), (4, 64), (16, 16), (64, 4), (64, 1)]:
    xs, ys = program(n, m)
    forward, t_forward = timed(forward_jacobian, xs, ys)
    reverse, t_reverse = timed(reverse_jacobian, xs, ys)
    assert all(abs(a - b) < 1e-9 for ra, rb in zip(forward, reverse) for a, b in zip(ra, rb))
    print(f'{n:>6} {m:>7} {t_forward * 1e3:>10.1f} ms {t_reverse * 1e3:>10.1f} ms')""",
    ),
    (
        "md",
        """The cost follows the count of sweeps: with one input, forward mode needs one sweep where
reverse mode needs one per output; with one output it is the other way round.""",
    ),
    (
        "md",
        """## Your own op

`defop(name, forward, derivative)` makes a new op. Its derivative rule uses arithmetic and
`engine.generic` (functions that take floats or Values), so the op works in `backward()`,
in higher-order derivatives and in forward mode. `engine.softplus` and `engine.silu` are
made this way. Here is the Gaussian bump e^(-x²):""",
    ),
    (
        "code",
        """bump = defop('bump', lambda x: math.exp(-x * x), lambda x, out: -2 * x * out)
x = Value(0.5)
out = bump(x)
out.backward()
print('value', out.data, ' grad', x.grad, ' by hand', -2 * 0.5 * math.exp(-0.25))
print('second derivative', grad(grad(bump))(0.5), ' by hand', (4 * 0.25 - 2) * math.exp(-0.25))
print('forward mode', jvp(bump, [0.5], [1.0]))""",
    ),
]

NOTEBOOKS = {
    "backprop-intuitions.ipynb": BACKPROP_INTUITIONS,
    "higher-order.ipynb": HIGHER,
    "trace_graph.ipynb": TRACE,
    "demo.ipynb": DEMO,
    "leaky-abstractions.ipynb": LEAKY,
}


def _merge_streams(outputs: list) -> list:
    """Join consecutive stream outputs and keep what a terminal shows after each carriage return.

    A progress bar redraws its line with \\r many times; the saved notebook keeps the last drawing.
    """
    merged: list = []
    for output in outputs:
        if (
            merged
            and output.output_type == "stream"
            and merged[-1].output_type == "stream"
            and merged[-1].name == output.name
        ):
            merged[-1].text += output.text
        else:
            merged.append(output)
    for output in merged:
        if output.output_type == "stream":
            output.text = "\n".join(line.rsplit("\r", 1)[-1] for line in output.text.split("\n"))
    return merged


def build(name: str, cells: list[tuple[str, str]]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, source) in enumerate(cells):
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        cell = make(source)
        cell["id"] = f"cell-{i}"  # stable ids: rebuilding changes nothing needlessly
        nb.cells.append(cell)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(cell.outputs)
    nbformat.write(nb, HERE / name)
    print("wrote", HERE / name)


if __name__ == "__main__":
    wanted = sys.argv[1:] or list(NOTEBOOKS)
    for name in wanted:
        build(name, NOTEBOOKS[name])
