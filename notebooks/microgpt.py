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
# # microgpt, from scalars
#
# In February 2026 Karpathy published **microgpt**: about 200 lines of dependency-free Python
# that train a character-level GPT on a list of names with a scalar autograd engine. Every
# number is a node that remembers its children and the local gradient to each, as in
# circuitgrad, and "everything else is just efficiency".
#
# `nn.GPT` is the same model, number for number: token and position embeddings, RMSNorm,
# causal multi-head attention with a key/value cache, a ReLU MLP, `lm_head`; the loss is the
# mean of -log p(next character); Adam with microgpt's settings. The tests check its losses
# against microgpt's algorithm over 20 Adam steps, and its loss and every gradient against
# PyTorch in float64. What differs is how the graph is built: a matrix-vector product is one
# fused `Value.dot` node per output, not two nodes per multiply-add.
#
# Backprop through it is the same local process the CS231n notes
# [Backpropagation, Intuitions](https://cs231n.github.io/optimization-2/) describe for one
# neuron: every gate multiplies the gradient coming in by its local gradient.

# %%
# On Colab, install circuitgrad and its plotting extra first. Elsewhere, run the notebook
# where circuitgrad is installed (from a clone: `make notebooks`, or `pip install -e '.[demo]'`).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "circuitgrad[plots]"], check=True)

# %%
import random
import time
from collections import Counter

from engine import draw_dot, topological_order
from nn import GPT, CharTokenizer, diagnose_gpt, fit_gpt
from nn.data import names
from nn.gpt import StagedLoss
from nn.gpt_inside import ModuleGradientMonitor, plot_attention, plot_gpt_loss, position_graph

# %% [markdown]
# ## The data and the tokenizer
#
# `nn.data.names()` is 5,163 real first names (the US Census 1990 lists), shipped with the
# package. Each character is a token; one more token, BOS, marks where a name starts and ends.

# %%
docs = names()
random.Random(42).shuffle(docs)
tokenizer = CharTokenizer.from_documents(docs)
print(len(docs), "names, e.g.", docs[:6])
print("vocabulary:", "".join(tokenizer.chars), "+ BOS =", tokenizer.vocab_size, "tokens")
print("emma ->", tokenizer.frame("emma"))

# %% [markdown]
# ## The model
#
# microgpt's sizes: 16-wide embeddings, 4 heads of 4, one layer, 16 positions. Its
# parameters, in microgpt's layout (`model.matrices()`), are lists of rows of Values.

# %%
model = GPT(tokenizer.vocab_size, n_embd=16, n_head=4, n_layer=1, block_size=16, seed=42, tokenizer=tokenizer)
print(model, "with", len(model.parameters()), "parameters")
for key, rows in model.matrices().items():
    print(f"  {key:16} {len(rows):3} x {len(rows[0])}")

# %% [markdown]
# ## How many scalar nodes one step makes
#
# The loss of one name runs the model once per position; attention at position t reads the
# keys and values that positions 0..t left in the cache. Here is the graph of the loss for
# "emma" (5 positions), counted by op and by module. microgpt's own engine makes 38,116 nodes
# for it, 20 times as many: there each multiply and each add of every dot product is a node.

# %%
loss = model.loss(tokenizer.frame("emma"))
nodes = topological_order(loss)
print(f"loss {loss.data:.4f}: {len(nodes):,} nodes")
print("by op:    ", Counter(str(n.op) for n in nodes).most_common(8))
print("by module:", Counter(n.scope.split(".head.")[0] for n in nodes).most_common(8))

# %% [markdown]
# ## Training
#
# One name per step, Adam (betas 0.85 and 0.99), the learning rate falling from 0.01 to 0 in a
# straight line. A short run here; `circuitgrad gpt` runs microgpt's 1,000 steps. The monitor
# records the gradient norm of every module at every step.

# %%
monitor = ModuleGradientMonitor(model)
start = time.perf_counter()
history = fit_gpt(model, docs, steps=200, progress=False, callback=monitor)
seconds = time.perf_counter() - start
last = sum(history.loss[-50:]) / 50
print(f"200 steps in {seconds:.1f} s; first loss {history.loss[0]:.3f}, mean of the last 50 {last:.3f}")
ax = plot_gpt_loss(history)

# %% [markdown]
# Where the learning happens: the gradient reaching each module, step by step. The query and
# key projections get the least: their gradient passes through the attention softmax. `wte`
# and `wpe` lie on top of each other: the add gate in wte[token] + wpe[position] hands both the
# same gradient (their norms differ only when a letter repeats in a name).

# %%
ax = monitor.plot()

# %% [markdown]
# ## Sampling
#
# Start from BOS, run one position, draw the next character from softmax(logits / 0.5), feed
# it back, stop at BOS. Thanks to the cache each new character costs one position.

# %%
print(model.generate(12, temperature=0.5, seed=1))

# %% [markdown]
# The cache changes nothing but the cost: the logits seen while sampling equal those of a
# full forward pass over the whole prefix (all positions at once, with a causal mask).

# %%
sample = model.sample(temperature=0.5, rng=random.Random(3))
full = model([model.bos, *sample.tokens][: len(sample.logits)])
print(repr(sample.text), all(cached == [z.data for z in row] for cached, row in zip(sample.logits, full)))

# %% [markdown]
# ## Attention maps
#
# Row t of a head's map is how position t spreads its attention over positions 0..t.

# %%
fig = plot_attention(model, "emma")

# %% [markdown]
# ## One position, by module
#
# The graph of the loss at the last position of "emma". The earlier positions ran first
# without recording a graph, so their keys and values enter as leaves (the `cache` boxes),
# exactly what the KV cache hands on. Each box is a module, with the values that leave it
# and their gradients.

# %%
draw_dot(position_graph(model, "emma"), collapse="neuron", rankdir="TB")

# %% [markdown]
# ## Seen from inside
#
# The leaks of backprop show up in a transformer too: a ReLU off at every position never
# learns; an attention row that puts almost all its weight on one position is a saturated
# softmax, whose local gradients are all near zero; and the gradient per module shows where
# the learning happens.

# %%
diagnose_gpt(model, docs[:32], lr=0.01)

# %% [markdown]
# Break it on purpose: zero one MLP unit's weights (its input is then 0 everywhere and
# relu'(0) = 0), and scale the query and key weights up until attention saturates.

# %%
broken = GPT(tokenizer.vocab_size, seed=42, tokenizer=tokenizer)
for p in broken.matrices()["layer0.mlp_fc1"][7]:
    p.data = 0.0
for key in ("layer0.attn_wq", "layer0.attn_wk"):
    for row in broken.matrices()[key]:
        for p in row:
            p.data *= 30
diagnose_gpt(broken, docs[:32])

# %% [markdown]
# ## Faster: staged code
#
# Every step above built a graph of a few thousand nodes, sorted it and walked it, only to
# throw it away. Yet the graph of a name of n letters has the same shape for every such name:
# only the numbers change. `engine.stage` writes the forward and backward pass of one call of
# a function out as Python code, once; `StagedLoss` stages the loss of a document of n
# positions as a function of its data, so the code does not depend on which letters the name
# holds: the token embeddings come in as numbers (the code hands back their gradients, which
# are added to the rows of `wte`), the targets as one-hot rows (a dot with the logits picks
# the target's logit exactly). Here is that code for 7 positions (a name of 6 letters):

# %%
staged = StagedLoss(model)
start = time.perf_counter()
code = staged.prepare(7)
print(f"staged in {time.perf_counter() - start:.1f} s: {code!r}")
source = code.source.splitlines()
first = next(k for k, line in enumerate(source) if "# forward" in line)
print("\n".join(line[:110] for line in source[first : first + 6]), "\n        ...")
first = next(k for k, line in enumerate(source) if line.endswith(" = g"))  # the output's gradient: the seed
print("\n".join(line[:110] for line in source[first : first + 10]), "\n        ...")

# %% [markdown]
# One line per node going forward, one line per edge going back, each guarded like
# `backward()`: a node whose gradient is exactly 0 (a ReLU that is off) passes nothing on.
# The same operations in the same order, so the same numbers, bit for bit, several times
# faster: no node is made and nothing is sorted.

# %%
tokens = tokenizer.frame("olivia")
model.zero_grad()
start = time.perf_counter()
graph_loss = model.loss(tokens)
graph_loss.backward()
graph = time.perf_counter() - start
expected = [p.grad for p in model.parameters()]
model.zero_grad()
start = time.perf_counter()
staged_loss = staged(tokens)
replay = time.perf_counter() - start
same = staged_loss == graph_loss.data and [p.grad for p in model.parameters()] == expected
print(f"a step as a graph {1e3 * graph:.1f} ms, staged {1e3 * replay:.1f} ms; the same loss and gradients: {same}")
model.zero_grad()

# %% [markdown]
# Staging costs about as much as running the code a few hundred times, so code for every
# length would not pay for itself in a short run. Code for m positions also serves shorter
# documents: attention is causal, so the positions past the end of a document change nothing
# before them; their loss gets weight 0, their gradient is exactly 0, and the code skips their
# backward pass. `plan` weighs staging against those wasted positions (and against building a
# graph for a rare length) over the documents of a run: microgpt's 1,000 names share one code.

# %%
lengths = [len(tokenizer.frame(doc)) - 1 for doc in docs[:1000]]
print("names of", sorted(set(lengths)), "positions; staged code for", StagedLoss(model).plan(lengths))

# %% [markdown]
# `fit_gpt(..., staged=True)` plans and trains that way. The 200 steps of the training above,
# staged, from the same weights: the same losses, bit for bit, in a fraction of the time.

# %%
twin = GPT(tokenizer.vocab_size, n_embd=16, n_head=4, n_layer=1, block_size=16, seed=42, tokenizer=tokenizer)
start = time.perf_counter()
staged_history = fit_gpt(twin, docs, steps=200, progress=False, staged=True)
staged_seconds = time.perf_counter() - start
print(f"200 steps staged in {staged_seconds:.1f} s (staging included), as a graph {seconds:.1f} s")
print("the same losses:", staged_history.loss == history.loss)
print("the same weights:", [p.data for p in twin.parameters()] == [p.data for p in model.parameters()])
