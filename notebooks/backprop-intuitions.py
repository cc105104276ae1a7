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
# # Backprop intuitions, run
#
# A gradient is a **sensitivity**: how much the output moves per unit nudge of one input,
# everything else held still. Backpropagation computes all of them at once by a local
# process: every gate knows its own output and the *local* gradient of that output with
# respect to its inputs, and the chain rule multiplies those local numbers along the
# wires, from the output back to the inputs.
#
# This notebook runs the circuits of the CS231n notes
# [Backpropagation, Intuitions](https://cs231n.github.io/optimization-2/) with circuitgrad.
# Read the notes beside it: each section here has the same title as one there. Every
# `Value` remembers the op that made it and the local gradients of that op;
# `backward()` does the chaining.

# %%
# On Colab, install circuitgrad first. Elsewhere, run the notebook where circuitgrad is
# installed (from a clone: `make notebooks`, or `pip install -e .`).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "circuitgrad"], check=True)

# %%
from engine import Value, gradcheck, maximum, numerical_grad

# %% [markdown]
# ## One gate: a product
#
# For f(x, y) = x·y the partial derivatives are ∂f/∂x = y and ∂f/∂y = x. At x = 4, y = -3,
# f = -12; nudging x up by a tiny h moves f by about -3h, nudging y up moves it by about +4h.

# %%
x, y = Value(4.0, label="x"), Value(-3.0, label="y")
f = x * y
f.backward()
print(f)
print("df/dx =", x.grad, "  df/dy =", y.grad)
print("local gradients stored on f:", f.locals)

# %% [markdown]
# ## Chaining: f(x, y, z) = (x + y) · z
#
# Split it into q = x + y and f = q·z. The mul gate tells q its gradient is z = -4;
# the add gate hands that gradient unchanged to both x and y. The chain rule is just
# the multiplication of these local numbers.

# %%
x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
q = x + y
q.label = "q"
f = q * z
f.label = "f"
f.backward()
for v in (x, y, z, q, f):
    print(v)

# %% [markdown]
# Check the arithmetic by hand: df/dz = q = 3, df/dq = z = -4, and df/dx = df/dq · dq/dx = -4 · 1.
#
# ## Patterns in the backward flow
#
# Three gates do almost all the work in neural networks, and each has a simple story:
#
# * **add distributes**: its local gradient is 1 for every input, so every input gets the output's gradient unchanged;
# * **mul swaps**: the gradient on one input is the *other* input's value times the output's gradient;
# * **max routes**: the whole gradient goes to the input that won; the loser gets 0.
#
# The circuit 2·(x·y + max(z, w)) at x = 3, y = -4, z = 2, w = -1 shows all three.

# %%
x, y, z, w = Value(3.0), Value(-4.0), Value(2.0), Value(-1.0)
xy = x * y
m = maximum(z, w)
s = xy + m
f = s * 2
f.backward()
print("gradient arriving at the add gate:", s.grad)
print("add distributes -> xy.grad =", xy.grad, " m.grad =", m.grad)
print("mul swaps       -> x.grad =", x.grad, "(= y * 2)  y.grad =", y.grad, "(= x * 2)")
print("max routes      -> z.grad =", z.grad, "  w.grad =", w.grad)

# %% [markdown]
# An unintuitive consequence of *mul swaps*: scale the data by 1000 and the gradient on
# the weight that multiplies it grows by 1000 too. This is one reason preprocessing matters.

# %%
for scale in (1.0, 1000.0):
    w = Value(0.5)
    (w * (2.0 * scale)).backward()
    print(f"input {2.0 * scale:>7}: gradient on the weight {w.grad}")

# %% [markdown]
# ## Gradients add up at forks
#
# When a value feeds several parts of a circuit, the gradients flowing back along each
# branch **add** (the multivariable chain rule). That is why backward does `+=`, never `=`.
# In f = x·y + x, the variable x is used twice: ∂f/∂x = y + 1.

# %%
x, y = Value(2.0), Value(-3.0)
f = x * y + x
f.backward()
print("x.grad =", x.grad, " (y + 1 =", y.data + 1, ")")
print("x appears twice among the children of x*x:", (x * x).children)

# %% [markdown]
# ## Modularity: the sigmoid neuron
#
# A 2-D neuron with a sigmoid: f(w, x) = 1 / (1 + e^-(w0·x0 + w1·x1 + w2)), with w = [2, -3, -3]
# and x = [-1, -2]. First built from primitive gates only (multiply, add, negate, exp, add a
# constant, reciprocal):

# %%
w = [Value(2.0), Value(-3.0), Value(-3.0)]
x = [Value(-1.0), Value(-2.0)]
dot = w[0] * x[0] + w[1] * x[1] + w[2]
f = 1 / (1 + (-dot).exp())
f.backward()
print(f"f = {f.data:.4f}")
print("dw =", [round(v.grad, 3) for v in w])
print("dx =", [round(v.grad, 3) for v in x])

# %% [markdown]
# The derivative of the sigmoid simplifies to σ(x)·(1 - σ(x)): the dot product is 1.0, the
# sigmoid 0.73, its local gradient (1 - 0.73)·0.73 ≈ 0.2. So the whole chain can be one gate.
# Here the neuron is one fused `dot` node and one `sigmoid` node, and the gradients agree:

# %%
w2 = [Value(2.0), Value(-3.0), Value(-3.0)]
x2 = [Value(-1.0), Value(-2.0)]
dot2 = Value.dot(w2[:2], x2, bias=w2[2])
f2 = dot2.sigmoid()
f2.backward()
print("sigmoid local gradient:", round(f2.locals[0], 4))
print("dw =", [round(v.grad, 3) for v in w2], "  dx =", [round(v.grad, 3) for v in x2])
print("same as the primitive circuit:", all(abs(a.grad - b.grad) < 1e-15 for a, b in zip(w + x, w2 + x2)))

# %% [markdown]
# ## Backprop in practice: staged computation
#
# f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²) at x = 3, y = -4. Nobody should differentiate this
# symbolically. Break it into stages with easy local gradients, then walk the stages
# backwards; note the `+=` wherever x or y is reached a second time. Written out by hand:

# %%
import math

xv, yv = 3.0, -4.0
# forward, stage by stage
sigy = 1 / (1 + math.exp(-yv))
num = xv + sigy
sigx = 1 / (1 + math.exp(-xv))
xpy = xv + yv
xpysqr = xpy**2
den = sigx + xpysqr
invden = 1 / den
fv = num * invden
# backward, the stages in reverse
dnum, dinvden = invden, num
dden = -1 / den**2 * dinvden
dsigx, dxpysqr = dden, dden
dxpy = 2 * xpy * dxpysqr
dx, dy = dxpy, dxpy
dx += sigx * (1 - sigx) * dsigx  # x is reached again: +=
dx += dnum
dy += sigy * (1 - sigy) * dnum
print(f"by hand:     f = {fv:.6f}  dx = {dx:.6f}  dy = {dy:.6f}")

x, y = Value(xv), Value(yv)
f = (x + y.sigmoid()) / (x.sigmoid() + (x + y) ** 2)
f.backward()
print(f"circuitgrad: f = {f.data:.6f}  dx = {x.grad:.6f}  dy = {y.grad:.6f}")

# %% [markdown]
# The engine can write that staged code for you. `engine.stage` walks the graph once and
# prints one line per stage forward, then one line per edge backward: the `+=` lines are the
# forks. (The exp, sigmoid and division stages are re-run by the engine's own ops, which
# return the value and its local gradient.) Calling the staged function re-runs it on the
# leaves' current data, with no graph built, and it gives the same numbers as `backward()`.

# %%
from engine import stage


def named(value: Value, label: str) -> Value:
    value.label = label
    return value


x, y = Value(3.0, "x"), Value(-4.0, "y")
sigy = named(y.sigmoid(), "sigy")
num = named(x + sigy, "num")
sigx = named(x.sigmoid(), "sigx")
xpy = named(x + y, "xpy")
xpysqr = named(xpy**2, "xpysqr")
den = named(sigx + xpysqr, "den")
f = named(num / den, "f")
staged = stage(f)
print(staged.source)
print("staged:", staged(), " dx =", x.grad, " dy =", y.grad)
x.data, y.data = 1.0, 2.0  # new inputs: the same code, no new graph
x.grad = y.grad = 0.0
print("at x=1, y=2:", staged(), " dx =", x.grad, " dy =", y.grad)

# %% [markdown]
# ## Checking a gradient
#
# The derivative is the slope in a tiny neighbourhood, so it can be estimated with no
# calculus at all: (f(x + h) - f(x - h)) / 2h. That costs two evaluations per input, far too
# slow for training but the standard way to test a backward pass. `gradcheck` compares the
# two and raises with a table when they disagree.


# %%
def expression(x, y):
    return (x + y.sigmoid()) / (x.sigmoid() + (x + y) ** 2)


print("numerical:", numerical_grad(expression, [3.0, -4.0]))
print("gradcheck:", gradcheck(expression, [3.0, -4.0]))

# %% [markdown]
# A classic bug is treating a value as a constant by accident. Here `x.detach()` cuts
# one path, so backward says d(x²)/dx = x while the true slope is 2x. The check catches it:

# %%
from engine import GradcheckError

try:
    gradcheck(lambda x: x * x.detach(), [3.0])
except GradcheckError as error:
    print(error)

# %% [markdown]
# ## What to take away
#
# * A gradient is a sensitivity; backprop is the chain rule applied locally, gate by gate.
# * add distributes, mul swaps, max routes; gradients add at forks.
# * Group gates whose combined derivative is simple (the sigmoid), and stage the rest.
# * Check every new gradient numerically before trusting it.
#
# Next: [leaky-abstractions](leaky-abstractions.ipynb) runs the cases of the essay
# ["Yes you should understand backprop"](https://karpathy.medium.com/yes-you-should-understand-backprop-e2f06eab496b),
# where these local gradients are zero, tiny, or the same factor again and again.
