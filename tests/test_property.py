"""Random expression DAGs over the whole op set, with forks, against PyTorch float64."""

from __future__ import annotations

import math
from functools import reduce

from conftest import close, import_torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine import Value, maximum, minimum


def torch_module():
    return import_torch()


def sequential_dot(pairs):
    """w0*x0 + w1*x1 + ... added left to right, as circuitgrad adds them."""
    return reduce(lambda total, pair: total + pair[0] * pair[1], pairs, 0.0)


# op: f(args, const) written once where Values and tensors share the syntax,
# or a pair (circuitgrad, PyTorch) where they differ.
OPS = {
    "neg": lambda v, c: -v[0],
    "abs": lambda v, c: abs(v[0]),
    "exp": lambda v, c: v[0].exp(),
    "log": lambda v, c: v[0].log(),
    "sqrt": lambda v, c: v[0].sqrt(),
    "tanh": lambda v, c: v[0].tanh(),
    "sigmoid": lambda v, c: v[0].sigmoid(),
    "relu": lambda v, c: v[0].relu(),
    "sin": lambda v, c: v[0].sin(),
    "cos": lambda v, c: v[0].cos(),
    "pow_number": lambda v, c: v[0] ** c,
    "rpow": lambda v, c: c ** v[0],
    "add_number": lambda v, c: v[0] + c,
    "rsub_number": lambda v, c: c - v[0],
    "add": lambda v, c: v[0] + v[1],
    "sub": lambda v, c: v[0] - v[1],
    "mul": lambda v, c: v[0] * v[1],
    "div": lambda v, c: v[0] / v[1],
    "pow": lambda v, c: v[0] ** v[1],
    "leaky_relu": (
        lambda v, c: v[0].leaky_relu(0.05),
        lambda v, c: torch_module().nn.functional.leaky_relu(v[0], 0.05),
    ),
    "clip": (lambda v, c: v[0].clip(-c, c), lambda v, c: v[0].clamp(-c, c)),
    "maximum": (lambda v, c: maximum(v[0], v[1]), lambda v, c: torch_module().maximum(v[0], v[1])),
    "minimum": (lambda v, c: minimum(v[0], v[1]), lambda v, c: torch_module().minimum(v[0], v[1])),
    "sum": (lambda v, c: Value.sum([*v, c]), lambda v, c: reduce(lambda s, x: s + x, [*v, c], 0.0)),
    "dot": (lambda v, c: Value.dot(v, [c, *v[1:]]), lambda v, c: sequential_dot(zip(v, [c, *v[1:]]))),
    "dot_bias": (
        lambda v, c: Value.dot(v[:-1], v[1:], bias=v[-1]),
        lambda v, c: sequential_dot(zip(v[:-1], v[1:])) + v[-1],
    ),
}
UNARY_LIKE = {
    "neg",
    "abs",
    "exp",
    "log",
    "sqrt",
    "tanh",
    "sigmoid",
    "relu",
    "sin",
    "cos",
    "pow_number",
    "rpow",
    "add_number",
    "rsub_number",
    "leaky_relu",
    "clip",
}
NARY = {"sum", "dot", "dot_bias"}


def apply(op, args, const, side):
    """Apply op for `side` 0 (circuitgrad) or 1 (PyTorch)."""
    rule = OPS[op]
    return (rule if callable(rule) else rule[side])(args, const)


@st.composite
def programs(draw):
    """Leaves, then steps (op, operand indices, constant) that reuse earlier nodes."""
    # Leaves of moderate size: dividing by a number like 1e-89 makes gradients that are
    # differences of numbers near 1e88, where any two summation orders disagree.
    moderate = st.floats(-2.0, 2.0, allow_nan=False).filter(lambda x: x == 0.0 or abs(x) >= 1e-3)
    leaves = draw(st.lists(moderate, min_size=1, max_size=4))
    steps = []
    for _ in range(draw(st.integers(1, 14))):
        n = len(leaves) + len(steps)
        op = draw(st.sampled_from(sorted(OPS)))
        arity = 1 if op in UNARY_LIKE else 2
        if op in NARY:
            arity = draw(st.integers(2, 4))
        args = draw(st.lists(st.integers(0, n - 1), min_size=arity, max_size=arity))
        const = draw(st.sampled_from([0.5, 1.5, 2.0, 3.0]))
        steps.append((op, args, const))
    return leaves, steps


def run_ours(leaves, steps):
    nodes = [Value(x) for x in leaves]
    for op, args, const in steps:
        try:
            nodes.append(apply(op, [nodes[i] for i in args], const, 0))
        except (ValueError, ZeroDivisionError, OverflowError):
            nodes.append(nodes[args[0]].tanh())  # outside the domain: a safe op instead
            steps[len(nodes) - len(leaves) - 1] = ("tanh", args[:1], const)
    # Where a local gradient is inf or nan, IEEE arithmetic decides (0 * nan = nan)
    # and PyTorch's relu and clamp mask instead: see test_non_finite_locals_follow_ieee.
    assume(all(math.isfinite(local) for v in nodes for local in v.locals))
    # The output depends on every node: forks everywhere.
    out = Value.sum(v.tanh() for v in nodes[len(leaves) :]) + nodes[-1]
    out.backward()
    return out.data, [v.grad for v in nodes[: len(leaves)]]


def run_torch(leaves, steps):
    torch = import_torch()
    nodes = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    for op, args, const in steps:
        nodes.append(apply(op, [nodes[i] for i in args], const, 1))
    out = reduce(lambda s, v: s + v.tanh(), nodes[len(leaves) :], 0.0) + nodes[-1]
    grads = torch.autograd.grad(out, nodes[: len(leaves)], allow_unused=True)
    return out.item(), [0.0 if g is None else g.item() for g in grads]


# derandomize and no example database: the same 400 graphs on every machine.
@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True, database=None
)
@given(programs())
def test_random_graphs_match_pytorch(program):
    leaves, steps = program
    steps = list(steps)
    value, grads = run_ours(leaves, steps)
    t_value, t_grads = run_torch(leaves, steps)
    assert close(value, t_value, rel=1e-9, abs_=1e-9), (value, t_value)
    for g, t in zip(grads, t_grads):
        assert close(g, t, rel=1e-9, abs_=1e-9), (grads, t_grads)


def test_non_finite_locals_follow_ieee():
    """0 * nan = nan: a nan behind a dead relu still reaches the leaves here.

    PyTorch masks in relu and clamp (the gradient there is exactly 0 whatever
    arrives); circuitgrad multiplies, so the nan stays visible.
    """
    x, e = Value(-1.0), Value(0.0)
    y = x ** e.relu()  # d/d(exponent) = 1 * log(-1) = nan
    y.backward()
    assert math.isnan(e.grad)
    assert x.grad == 0.0
