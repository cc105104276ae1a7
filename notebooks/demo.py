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
# # micrograd's demo, with circuitgrad
#
# A two-layer ReLU network learns to separate the two moons: 100 points, `MLP(2, [16, 16, 1])`,
# the max-margin (hinge) loss plus a little L2, and 100 steps of SGD whose learning rate
# decays from 1.0 to 0.1. It is the demo micrograd ships, written with `nn`. Every gradient
# here is computed by the scalar engine, one `Value` at a time, as in the CS231n notes
# [Backpropagation, Intuitions](https://cs231n.github.io/optimization-2/).

# %%
# On Colab, install circuitgrad and its plotting extra first. Elsewhere, run the notebook
# where circuitgrad is installed (from a clone: `make notebooks`, or `pip install -e '.[demo]'`).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "circuitgrad[plots]"], check=True)

# %%
import matplotlib.pyplot as plt

from nn import MLP, SGD, BoundaryRecorder, LinearDecay, fit, losses, plot_decision_boundary, plot_loss
from nn.data import moons, signed

X, labels = moons(n=100, noise=0.1, seed=0)
y = signed(labels)  # the hinge loss wants labels -1 / +1
print(X[:3], y[:3])

# %% [markdown]
# The network: two hidden layers of 16 ReLU neurons and one linear output, the score. Each
# neuron is one fused `dot` node plus its `relu`, so one forward pass on one point is 65 nodes.

# %%
model = MLP(2, [16, 16, 1], seed=0)
print(len(model.parameters()), "parameters")
model

# %% [markdown]
# Train. `fit` can show a progress bar (`progress=True`, the default in a terminal); here it
# is off and the `BoundaryRecorder` passed as `callback` keeps a picture of the decision
# regions every 10 steps, for the animation further down.

# %%
optimizer = SGD(model.parameters(), lr=1.0)
schedule = LinearDecay(optimizer, start=1.0, end=0.1, steps=100)
recorder = BoundaryRecorder(model, X, y, every=10, resolution=30, dataset="moons")
history = fit(
    model,
    X,
    y,
    losses.hinge,
    optimizer,
    steps=100,
    l2_weight=1e-4,
    schedule=schedule,
    progress=False,
    callback=recorder,
)
print(f"final loss {history.loss[-1]:.4f}, accuracy {history.accuracy[-1]:.0%}")

# %% [markdown]
# The loss falls by two orders of magnitude, with a few bumps where a large early
# learning rate overshoots; the accuracy reaches 100%.

# %%
plot_loss(history)
plt.show()

# %% [markdown]
# The decision boundary: what the network learned, evaluated on a grid (under `no_grad`,
# so no graph is built for the grid). Each class has one colour, in the regions and the
# points; the line is where the score crosses 0.

# %%
plot_decision_boundary(model, X, y, dataset="moons")
plt.show()

# %% [markdown]
# And how it got there: the frames the recorder kept. `recorder.save(path)` writes them as
# a GIF (so does `circuitgrad train --animate`; in Jupyter, `IPython.display.Image(filename=path)`
# plays it), and `recorder.plot()` puts a few side by side. The boundary starts as the
# random network's and bends around the moons as the hidden units learn.

# %%
import tempfile
from pathlib import Path

gif = recorder.save(Path(tempfile.mkdtemp()) / "moons-training.gif")
print(f"{gif.name}: {len(recorder.frames)} frames")
recorder.plot(count=4)
plt.show()

# %% [markdown]
# The model's parameters save to JSON, exactly, and load back:

# %%
path = Path(tempfile.mkdtemp()) / "moons.json"
model.save(path)
copy = MLP(2, [16, 16, 1], seed=1)
copy.load(path)
print(copy.state_dict() == model.state_dict())

# %% [markdown]
# ## Faster: the same training, staged
#
# Every step above builds a new graph of about 7,000 nodes, sorts it and walks it back.
# But the graph has the same shape every step: only the weights change. `fit(...,
# staged=True)` builds it once, has `engine.stage` write its forward and backward pass out
# as one Python function, and calls that function each step. The numbers are the same, bit
# for bit; the time is not.

# %%
import time


def train(staged):
    model = MLP(2, [16, 16, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=1.0)
    schedule = LinearDecay(optimizer, start=1.0, end=0.1, steps=100)
    start = time.perf_counter()
    history = fit(
        model,
        X,
        y,
        losses.hinge,
        optimizer,
        steps=100,
        l2_weight=1e-4,
        schedule=schedule,
        progress=False,
        staged=staged,
    )
    return model, history, time.perf_counter() - start


graph_model, graph_history, graph_seconds = train(staged=False)
staged_model, staged_history, staged_seconds = train(staged=True)
print(
    f"graph every step: {graph_seconds:.2f} s;  staged: {staged_seconds:.2f} s "
    f"(most of it writing and compiling the code once)"
)
print("same losses:", staged_history.loss == graph_history.loss)
print("same weights:", staged_model.state_dict() == graph_model.state_dict())

# %% [markdown]
# ## Fastest: compiled to C, the weights kept in an array
#
# `staged="c"` writes the same code in C and compiles it with the system's C compiler, once:
# a second run finds it in a cache. With the whole data set in every step, `fit` also keeps
# the weights out of the `Value`s between steps, in an array, as NumPy code keeps its
# weights, and runs SGD's update compiled too. The numbers are still the same.

# %%
c_model, c_history, c_seconds = train(staged="c")
print(f"compiled: {c_seconds:.2f} s, writing and compiling the code included (or finding it in the cache)")
print("same losses:", c_history.loss == graph_history.loss)

# %% [markdown]
# An optimizer's update is its formulas, written once (`optimizer.rule()`), and from them
# come both `optimizer.step()` on the `Value`s and a loop in C over arrays. Adam's:

# %%
from nn import Adam

formulas, numbers = Adam(c_model.parameters(), lr=0.01).rule()
print(formulas)
print(formulas.c_source[formulas.c_source.index("void elementwise") :])

# %% [markdown]
# Here is that loop by hand. `staged.bind(X, y)` packs the data once;
# `bound.value_and_grad(weights)` runs the compiled forward and backward pass over the 100
# points at these weights and returns the loss and the gradients, touching no `Value`;
# `optimizer.update(weights, grads)` changes the array in place, as `step()` would change
# the `Value`s.

# %%
from array import array

from engine import stage

model = MLP(2, [16, 16, 1], seed=0)
staged = stage(
    lambda x, label: losses.hinge([model(x)], [label]),
    X[0],
    y[0],
    plus=1e-4 * losses.l2(model.parameters()),
    backend="c",
)
bound = staged.bind(X, y)
weights = array("d", [p.data for p in staged.parameters])
optimizer = SGD(staged.parameters, lr=1.0)
start = time.perf_counter()
for k in range(100):
    loss, grads = bound.value_and_grad(weights)
    optimizer.lr = 1.0 - 0.9 * k / 100
    optimizer.update(weights, grads)
print(
    f"100 steps in {(time.perf_counter() - start) * 1e3:.0f} ms; final loss {loss:.6f}, fit's {c_history.loss[-1]:.6f}"
)
