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
# # Drawing the graph: every value and every gradient
#
# `draw_dot(root)` (or `root.draw()`) turns the graph behind a Value into a Graphviz diagram,
# shown inline here as SVG. Two looks: `style='record'`, micrograd's, with each value a
# record of its label, data and gradient; and `style='circuit'`, the look of the CS231n notes
# [Backpropagation, Intuitions](https://cs231n.github.io/optimization-2/), with ops as gates
# and every wire carrying its forward value (green, above) and the gradient flowing back
# along it (red, below). The circuits below are the notes' own.

# %%
# On Colab, install circuitgrad and its drawing extra first (Colab has Graphviz's `dot`).
# Elsewhere, run the notebook where circuitgrad is installed (from a clone: `make notebooks`,
# or `pip install -e '.[draw]'` and Graphviz's `dot` program).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "circuitgrad[draw]"], check=True)

# %%
from engine import Value, draw_dot, maximum
from nn import MLP

x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
q = x + y
q.label = "q"
f = q * z
f.label = "f"
f.draw(style="circuit")

# %% [markdown]
# Before `backward()` the diagram says the gradients are not computed yet, instead of
# showing zeros that would look like answers. After it, each wire shows both numbers:
# the add gate hands -4 to both its inputs, the mul gate swaps its inputs' values.

# %%
f.backward()
f.draw(style="circuit")

# %%
f.draw()  # the record style

# %% [markdown]
# The notes' second circuit, 2·(x·y + max(z, w)): the max gate routes its whole gradient
# to z; the wire from w carries gradient 0 and is drawn dashed: the gradient is blocked
# there. The legend explains every highlight in use, in the op's own words.

# %%
x, y = Value(3.0, label="x"), Value(-4.0, label="y")
z, w = Value(2.0, label="z"), Value(-1.0, label="w")
g = (x * y + maximum(z, w)) * 2
g.label = "f"
g.backward()
g.draw(style="circuit")

# %% [markdown]
# ## Constants, and a value used more than once
#
# A gate shows the constants it was made with: `1 + e` is a `+1` gate, `1 / s` a `1/x`
# gate, `s * 2` a `×2` gate, `x ** 2` an `x²` gate. Where the order of a gate's inputs
# matters (`a - b`), each wire says which input it is. Here x feeds three gates: each of
# its wires carries back its own share of the gradient, and x's gradient, under its name,
# is their sum, the "gradients add up at forks" of the notes.

# %%
x = Value(0.5, label="x")
y = (1 / (1 + x.exp())) * 2 + x**2 - x
y.label = "y"
y.backward()
y.draw(style="circuit")

# %% [markdown]
# ## A neuron
#
# The 2-D sigmoid neuron of the notes, built from primitive gates, and then as one fused
# `dot` node (the large `·`) and one `sigmoid`: the same gradients, a much smaller graph.

# %%
w0, w1, w2 = Value(2.0, label="w0"), Value(-3.0, label="w1"), Value(-3.0, label="w2")
x0, x1 = Value(-1.0, label="x0"), Value(-2.0, label="x1")
out = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
out.label = "f"
out.backward()
out.draw(style="circuit", precision=3)

# %%
fused = Value.dot([w0, w1], [x0, x1], bias=w2).sigmoid()
fused.label = "f"
for v in (w0, w1, w2, x0, x1):
    v.grad = 0.0
fused.backward()
fused.draw(style="circuit", precision=3)

# %% [markdown]
# ## A whole MLP
#
# micrograd's demo network for one input is 402 values (337 of them parameters): too many
# to read one by one, and drawn one box per neuron its 16 × 16 connections between the
# hidden layers form a black band. Each neuron tags its nodes with its name
# (`layers.0.neurons.3`), so `collapse='layer'` draws one box per layer instead: a row per
# neuron, in numeric order, with its output and that output's gradient, and the neurons
# whose relu is off for this input greyed. One neuron is drawn in full: its weights (named
# by `names=model.named_parameters()`), its bias, the inputs (plain numbers, drawn as grey
# boxes), its dot product and its relu. This is the picture `circuitgrad train` writes to
# `out/graph.svg`.

# %%
model = MLP(2, [16, 16, 1], seed=0)
score = model([0.5, -0.3])
score.label = "score"
score.backward()
draw_dot(
    score,
    style="circuit",
    collapse="layer",
    names=model.named_parameters(),
    title=f"MLP(2, [16, 16, 1]) on x = (0.5, -0.3): score {score.data:.4g}",
)

# %% [markdown]
# `expand='layers.1.neurons.3'` draws another neuron in full (a hidden one has 33 inputs);
# `collapse='scope'` draws one box per scope of any depth, which suits models whose
# modules are few and deep, as the GPT of `notebooks/microgpt.ipynb`.
#
# Two more ways to look at part of a large graph: `max_nodes` draws the values nearest the
# output, each gate with all its inputs or not at all (a value whose inputs did not fit
# is a dashed box), and says what it left out; `around=node, depth=k` draws one
# neighbourhood.

# %%
out.draw(style="circuit", max_nodes=6, precision=3)

# %% [markdown]
# Diagrams render to files with `.render('name', format='svg')` (or `'png'`, `'pdf'`);
# `.source` is the DOT text. Without Graphviz, `pip install 'circuitgrad[draw]'` and the
# `dot` program (`sudo apt-get install graphviz`, `brew install graphviz`) are what to install.
