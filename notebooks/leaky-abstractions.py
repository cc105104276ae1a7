# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Backprop is a leaky abstraction
#
# Stack layers, call `backward()`, and the network learns: that is the abstraction. It
# leaks. The gradient that reaches a weight is a *product* of local gradients along the
# way, and some gates have local gradients that are zero, tiny, or the same number again
# and again. This notebook reproduces the four cases of the essay
# ["Yes you should understand backprop"](https://karpathy.medium.com/yes-you-should-understand-backprop-e2f06eab496b)
# and shows the circuitgrad diagnostics that make each one visible: `saturation`,
# `dead_relus`, `blocked`, `clip_grad_norm` and `diagnose` (which adds the gradient
# statistics of `gradient_stats`). The local gradients themselves (add distributes, mul
# swaps, max routes) are the subject of the CS231n notes
# [Backpropagation, Intuitions](https://cs231n.github.io/optimization-2/) and of the
# notebook [backprop-intuitions](backprop-intuitions.ipynb).

# %%
# On Colab, install circuitgrad and its plotting extra first. Elsewhere, run the notebook
# where circuitgrad is installed (from a clone: `make notebooks`, or `pip install -e '.[plots]'`).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "circuitgrad[plots]"], check=True)

# %%
import math

import matplotlib.pyplot as plt
from IPython.display import display

from engine import Value, blocked
from nn import MLP, RNN, SGD, clip_grad_norm, dead_relus, diagnose, fit, losses, saturation
from nn.data import moons, signed

X, labels = moons(n=100, noise=0.1, seed=0)
y = signed(labels)

# %% [markdown]
# ## 1. Vanishing gradients on sigmoids
#
# A sigmoid's local gradient is z(1 - z): at most 0.25 (at z = 0.5), and nearly 0 when z is
# close to 0 or 1. Initialise the weights too large and the pre-activations land far from
# 0, most z are almost exactly 0 or 1, and the gradient through those units all but
# vanishes. Two sigmoid networks, one with a sensible (Xavier) init and one whose hidden
# weights are 100 times too large. `diagnose` runs the network on the data once and
# reports, layer by layer, dead and saturated units and the size of the gradient:


# %%
def sigmoid_net(scale):
    model = MLP(2, [16, 16, 1], activation="sigmoid", init="xavier", seed=1)
    for layer in model.layers[:2]:  # the two hidden layers
        for p in layer.parameters():
            p.data *= scale
    return model


for scale in (1, 100):
    model = sigmoid_net(scale)
    print(f"hidden weights x{scale}: saturated fraction per layer", [f"{s:.0%}" for s in saturation(model, X)])
    display(diagnose(model, X, y, losses.hinge))

# %% [markdown]
# Does it matter? Train both for 60 steps and measure, for every unit of the first
# hidden layer, how far its weights moved (relative to their size) against how often the
# unit was saturated. A saturated unit receives almost no gradient, so it barely moves: it
# stays a fixed, random step function for the layers above to work with.

# %%
from nn.diagnostics import layer_outputs


def saturated_fraction_and_change(scale):
    model = sigmoid_net(scale)
    outputs = layer_outputs(model, X)[0]  # [unit][sample] of the first layer
    saturated = [sum(z * (1 - z) < 0.01 for z in unit) / len(unit) for unit in outputs]
    before = [[p.data for p in n.parameters()] for n in model.layers[0].neurons]
    history = fit(model, X, y, losses.hinge, SGD(model.parameters(), lr=0.5), steps=60, progress=False)
    after = [[p.data for p in n.parameters()] for n in model.layers[0].neurons]
    change = [math.dist(a, b) / math.hypot(*b) for a, b in zip(after, before)]
    return saturated, change, history


fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for scale, colour in ((1, "tab:blue"), (100, "tab:orange")):
    saturated, change, history = saturated_fraction_and_change(scale)
    left.scatter(saturated, change, color=colour, label=f"hidden weights x{scale}")
    right.plot(history.loss, color=colour, label=f"hidden weights x{scale}")
left.set_yscale("log")
left.set_xlabel("fraction of inputs on which the unit is saturated")
left.set_ylabel("relative change of its weights")
left.set_title("first hidden layer, after 60 steps")
left.legend()
right.set_xlabel("step")
right.set_ylabel("hinge loss")
right.set_title("training loss")
right.legend()
plt.show()

# %% [markdown]
# The loss still falls in both: the output layer learns to combine whatever the hidden
# units give it. But in the saturated network the hidden layers have stopped learning;
# with deeper stacks of saturated layers, nothing below them learns at all.

# %% [markdown]
# ## 2. Dying ReLUs
#
# A ReLU passes gradient 1 where it fires and 0 where it does not. A neuron that is off for
# *every* input gets no gradient at all, so its weights never change again: it is dead for
# good. One step with a far too large learning rate is enough to knock many neurons into
# that state.

# %%
model = MLP(2, [16, 16, 1], seed=0)
print("dead before:", dead_relus(model, X))
scores = [model(x) for x in X]
loss = losses.hinge(scores, y)
model.zero_grad()
loss.backward()
SGD(model.parameters(), lr=30.0).step()  # one reckless step
dead = dead_relus(model, X)
print(f"dead after one step at lr=30: {len(dead)} of 32 ->", dead)
diagnose(model, X, y, losses.hinge)

# %% [markdown]
# `blocked` shows where the gradient stops on its way to a dead neuron's weight: at that
# neuron's own relu, for every input. Train on at a sane learning rate: a dead neuron of
# the first layer sees the fixed training inputs, so it stays dead for good. A dead neuron
# higher up can come back to life if the layers below it change what it sees; others
# can die along the way.

# %%
layer, neuron = dead[0]
weight = model.layers[layer].neurons[neuron].w[0]
out = model(X[0])
own = model.layers[layer].neurons[neuron].name
print(f"the gradient to {own}.w.0 stops at:", [str(b) for b in blocked(out, weight) if b.scope == own])

fit(model, X, y, losses.hinge, SGD(model.parameters(), lr=0.1), steps=30, progress=False)
still_dead = dead_relus(model, X)
first = [d for d in dead if d[0] == 0]
print(f"after 30 more steps: {len(still_dead)} dead")
print("first-layer neurons dead before and still dead:", first, all(d in still_dead for d in first))

# %%
fig, ax = plt.subplots(figsize=(6, 3))
per_layer = [sum(1 for layer, _ in still_dead if layer == i) / 16 for i in range(2)]
ax.bar(["hidden layer 0", "hidden layer 1"], per_layer, color="tab:red")
ax.set_ylim(0, 1)
ax.set_ylabel("fraction dead")
ax.set_title("ReLUs that never fire on the training set")
plt.show()

# %% [markdown]
# ## 3. Exploding and vanishing gradients in an RNN
#
# Unroll a scalar RNN h_t = tanh(w·h_(t-1) + u·x_t) over 50 steps. Going backwards in time,
# the gradient is multiplied at every step by the same recurrent weight w (times tanh's
# local gradient, at most 1). So it shrinks like w^t when |w| < 1 and grows like w^t when
# |w| > 1. Here the state stays near 0, where tanh' = 1, and the measured gradient follows
# w^t exactly.


# %%
def gradient_through_time(w_h, steps=50):
    rnn = RNN(1, 1, activation="tanh", seed=0)
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
    ax.plot(range(1, 51), gradient_through_time(w_h), label=f"w = {w_h}")
ax.set_yscale("log")
ax.set_xlabel("time steps back")
ax.set_ylabel("|d h_t / d h_0|")
ax.set_title("the same factor at every step")
ax.legend()
plt.show()

# %% [markdown]
# An exploding gradient wrecks training: one update is so large that the weights jump
# somewhere useless (or overflow). `clip_grad_norm` rescales the whole gradient to a
# maximum length before the update, keeping its direction. A linear RNN learning to
# output the sum of 20 inputs, starting from w = 1.3:

# %%
import random

rng = random.Random(0)
sequences = [[[rng.uniform(-1, 1)] for _ in range(20)] for _ in range(16)]
targets = [sum(x[0] for x in seq) for seq in sequences]


def train_rnn(max_norm, steps=60, lr=0.01):
    rnn = RNN(1, 1, activation="linear", seed=0)
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
        rnn.zero_grad()
        loss.backward()
        if max_norm is not None:
            clip_grad_norm(rnn.parameters(), max_norm)
        for p in rnn.parameters():
            p.data -= lr * p.grad
    return history, cell


plain, _ = train_rnn(None)
clipped, cell = train_rnn(1.0)
print(f"without clipping: {len(plain)} steps before the loss overflowed, last loss {plain[-1]:.3g}")
print(f"clipped to norm 1: loss {clipped[0]:.3g} -> {clipped[-1]:.3g}", end=", ")
print(f"w = {cell.w[1].data:.3f}, u = {cell.w[0].data:.3f} (the answer: 1 and 1)")
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(plain, label="no clipping")
ax.plot(clipped, label="clip_grad_norm(1.0)")
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_ylabel("mse")
ax.legend()
plt.show()

# %% [markdown]
# ## 4. The DQN clipping bug, and the Huber loss
#
# A DQN implementation clipped the raw error delta = Q(s, a) - target to [-1, 1] before
# squaring it, to be robust to outliers. In the forward pass that looks sensible. In the
# backward pass, a clip has local gradient **0 outside its range**: every sample whose
# error is larger than 1 (the ones that most need correcting) sends no gradient at all.
# What was wanted is the Huber loss: quadratic for small errors, linear for large ones,
# so a large error still pushes, with a bounded force.

# %%
q = Value(5.0, label="q")  # the estimate; the target is 0
clipped = q.clip(-1, 1) ** 2 * 0.5
clipped.backward()
print("clipped error: gradient on q =", q.grad)
print("where it stopped:", [str(b) for b in blocked(clipped, q)])
q.grad = 0.0
losses.huber([q], [0.0]).backward()
print("huber loss:    gradient on q =", q.grad)


# %%
def regress(loss_kind, steps=40, lr=0.2):
    q = Value(5.0)
    path = []
    for _ in range(steps):
        error = q - 0.0
        loss = error.clip(-1, 1) ** 2 * 0.5 if loss_kind == "clip" else losses.huber([q], [0.0])
        q.grad = 0.0
        loss.backward()
        q.data -= lr * q.grad
        path.append(q.data)
    return path


fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(regress("clip"), label="clipped error (the bug): stuck")
ax.plot(regress("huber"), label="Huber loss: converges")
ax.axhline(0.0, color="gray", lw=0.5)
ax.set_xlabel("step")
ax.set_ylabel("q (target 0)")
ax.legend()
plt.show()

# %% [markdown]
# ## Take-aways
#
# * Saturated sigmoids and tanhs pass almost nothing back: check `saturation` after
#   choosing an init.
# * Dead ReLUs never come back: check `dead_relus` on the training set, especially after
#   a high learning rate.
# * Recurrent gradients scale like w^t: clip them with `clip_grad_norm`.
# * A clip in the forward pass is a zero in the backward pass: `blocked(loss, param)` finds
#   it; use a Huber loss instead.
# * `diagnose(model, X, y, loss)` runs all the checks at once.
