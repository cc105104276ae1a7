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
# # Beyond one backward pass
#
# Every op in circuitgrad stores the rule for its local gradient, written once in plain
# arithmetic (`engine.ops`): the gates of the CS231n notes
# [Backpropagation, Intuitions](https://cs231n.github.io/optimization-2/), each knowing its
# own output and its local gradient. `backward()` evaluates the rules on floats. The
# functional transforms evaluate the same rules on Values, so a gradient is itself a graph,
# and can be differentiated again: `grad(grad(f))` is the second derivative. Forward mode
# (`jvp`) pushes a tangent through the stored local gradients instead of pulling a gradient
# back.

# %%
# On Colab, install circuitgrad first. Elsewhere, run the notebook where circuitgrad is
# installed (from a clone: `make notebooks`, or `pip install -e .`).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "circuitgrad"], check=True)

# %%
import math
import time

from engine import Value, defop, grad, gradgradcheck, hessian, hvp, jacobian, jvp

# %% [markdown]
# ## Derivatives of any order
#
# f(x) = x·sin(x). Its derivatives, by hand: f' = sin x + x cos x, f'' = 2 cos x - x sin x,
# f''' = -3 sin x - x cos x.


# %%
def f(x):
    return x * x.sin()


x = 0.7
rows = [
    ("f'", grad(f), math.sin(x) + x * math.cos(x)),
    ("f''", grad(grad(f)), 2 * math.cos(x) - x * math.sin(x)),
    ("f'''", grad(grad(grad(f))), -3 * math.sin(x) - x * math.cos(x)),
]
for name, derivative, exact in rows:
    print(f"{name:5} circuitgrad {derivative(x): .15f}   by hand {exact: .15f}")

# %% [markdown]
# ## Newton's method
#
# To minimise g(x) = x⁴ - 3x² + x, step x ← x - g'(x) / g''(x): where the tangent line of g'
# crosses zero. Near the answer the number of correct digits doubles at every step.


# %%
def g(x):
    return x**4 - 3 * x**2 + x


dg, d2g = grad(g), grad(grad(g))
x = 2.0
for step in range(7):
    print(f"step {step}: x = {x:.15f}   g'(x) = {dg(x): .3e}")
    x = x - dg(x) / d2g(x)

# %% [markdown]
# Nested transforms never confuse their variables: each one makes fresh variables for its
# own inputs. The classic trap, d/dx [x · d/dy (x + y)], is 1:

# %%
print(grad(lambda x: x * grad(lambda y: x + y)(2.0))(3.0))

# %% [markdown]
# ## The Hessian of a tiny network's loss
#
# One tanh neuron with an output weight, w = (w0, w1, b, v), and a squared error over three
# points. `hessian` gives the 4×4 matrix of second derivatives; `gradgradcheck` compares it
# with central differences of the gradient; `hvp` gives a Hessian-vector product.

# %%
X = [(0.5, -1.0), (1.5, 0.2), (-0.3, 0.8)]
y = [1.0, -1.0, 0.5]


def loss(w):
    preds = [Value.dot(w[0:2], x, bias=w[2]).tanh() * w[3] for x in X]
    return Value.sum((p - t) ** 2 for p, t in zip(preds, y)) * (1 / len(X))


w = [0.4, -0.7, 0.1, 1.3]
H = hessian(loss)(w)
for row in H:
    print("  ".join(f"{h: .5f}" for h in row))
print("symmetric:", all(abs(H[i][j] - H[j][i]) < 1e-12 for i in range(4) for j in range(4)))
print("gradgradcheck:", gradgradcheck(lambda *ws: loss(list(ws)), w))
print("H v for v = (1, 0, 0, 0):", [round(h, 5) for h in hvp(loss)(w, [1, 0, 0, 0])])

# %% [markdown]
# The same neuron's predictions as a function of its weights have a Jacobian, one row per
# point: `jacobian(f)(xs)` for an `f` with several outputs.

# %%
J = jacobian(lambda w: [Value.dot(w[0:2], x, bias=w[2]).tanh() * w[3] for x in X])(w)
for row in J:
    print("  ".join(f"{d: .5f}" for d in row))

# %% [markdown]
# ## Forward versus reverse mode, measured
#
# For f: ℝⁿ → ℝᵐ the full Jacobian takes n forward-mode sweeps (one tangent per input) or
# m reverse-mode sweeps (one gradient per output). Forward mode is cheap with few inputs,
# reverse mode with few outputs: a loss has one output and many inputs, which is why
# training uses reverse mode. Below, a long computation shared by every output; both
# Jacobians use the same graph, built once.

# %%
from engine import topological_order
from engine.functional import gradients


def program(n, m, depth=200):
    """n inputs, a long shared computation, then m cheap outputs."""
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
    print(f"{n:>6} {m:>7} {t_forward * 1e3:>10.1f} ms {t_reverse * 1e3:>10.1f} ms")

# %% [markdown]
# The cost follows the count of sweeps: with one input, forward mode needs one sweep where
# reverse mode needs one per output; with one output it is the other way round.

# %% [markdown]
# ## Your own op
#
# `defop(name, forward, derivative)` makes a new op. Its derivative rule uses arithmetic and
# `engine.generic` (functions that take floats or Values), so the op works in `backward()`,
# in higher-order derivatives and in forward mode. `engine.softplus` and `engine.silu` are
# made this way. Here is the Gaussian bump e^(-x²):

# %%
bump = defop("bump", lambda x: math.exp(-x * x), lambda x, out: -2 * x * out)
x = Value(0.5)
out = bump(x)
out.backward()
print("value", out.data, " grad", x.grad, " by hand", -2 * 0.5 * math.exp(-0.25))
print("second derivative", grad(grad(bump))(0.5), " by hand", (4 * 0.25 - 2) * math.exp(-0.25))
print("forward mode", jvp(bump, [0.5], [1.0]))
