"""engine.stage: the written-out forward and backward pass agrees with the graph, bit for bit."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_property import apply, programs

from engine import Value, defop, maximum, no_grad
from engine.custom import softplus
from engine.stage import stage


def same(a: float, b: float) -> bool:
    """Equal as floats, with nan equal to nan."""
    return a == b or (math.isnan(a) and math.isnan(b))


def build(leaf_datas, steps):
    """The program's graph over fresh leaves; None where an op is outside its domain."""
    leaves = [Value(x) for x in leaf_datas]
    nodes = list(leaves)
    for op, args, const in steps:
        try:
            nodes.append(apply(op, [nodes[i] for i in args], const, 0))
        except (ValueError, ZeroDivisionError, OverflowError):
            return None
    out = Value.sum(v.tanh() for v in nodes[len(leaves) :]) + nodes[-1]
    return leaves, out


def dynamic(leaf_datas, steps):
    built = build(leaf_datas, steps)
    if built is None:
        return None
    leaves, out = built
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True, database=None
)
@given(programs(), st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=4, max_size=4))
def test_staged_graphs_equal_the_dynamic_engine_on_old_and_new_data(program, new_datas):
    """Every op, forks, constants: the same numbers as backward(), then again after the leaves change."""
    leaf_datas, steps = program
    built = build(leaf_datas, steps)
    if built is None:
        return
    leaves, out = built
    staged = stage(out)
    assert set(staged.leaves) <= set(leaves)
    expected = dynamic(leaf_datas, steps)
    assert same(staged(), expected[0])
    for leaf, grad in zip(leaves, expected[1]):
        assert same(leaf.grad, grad)

    new_datas = new_datas[: len(leaves)]
    for leaf, x in zip(leaves, new_datas):
        leaf.data, leaf.grad = x, 0.0
    expected = dynamic(new_datas, steps)
    if expected is None:  # the new data leaves some op's domain: the staged code raises too
        with pytest.raises((ValueError, ZeroDivisionError, OverflowError)):
            staged()
        assert all(leaf.grad == 0.0 for leaf in leaves)
        return
    assert same(staged(), expected[0])
    for leaf, grad in zip(leaves, expected[1]):
        assert same(leaf.grad, grad)


def test_the_source_reads_like_backprop_written_by_hand():
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    staged = stage(f)
    assert staged.source == (
        "def forward_backward(leaf_datas, seed):\n"
        "    (x, y, z, ) = leaf_datas\n"
        "    # forward: one line per node, children first\n"
        "    q = x + y\n"
        "    f = q * z\n"
        "    # backward: the root gets the seed; every edge adds local * gradient\n"
        "    dq = df = dx = dy = dz = 0.0\n"
        "    df = seed\n"
        "    if df or not isfinite(f):\n"
        "        dq += z * df\n"
        "        dz += q * df\n"
        "    if dq:\n"
        "        dx += dq\n"
        "        dy += dq\n"
        "    return f, (dx, dy, dz, ), ()\n"
    )
    assert staged() == -12.0
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)  # the CS231n values


def test_calls_accumulate_into_leaves_and_update_the_root_and_watched_nodes():
    x, w = Value(0.5), Value(-1.5)
    hidden = (x * w).tanh()
    out = hidden * hidden + 1
    staged = stage(out, watch=[hidden])
    staged()
    staged()
    reference = Value(0.5), Value(-1.5)
    check = ((reference[0] * reference[1]).tanh() ** 2) + 1
    check.backward()
    assert x.grad == 2 * reference[0].grad and w.grad == 2 * reference[1].grad
    x.data = 2.0
    value = staged()
    assert value == out.data == math.tanh(-3.0) ** 2 + 1
    assert hidden.data == math.tanh(-3.0)
    assert hidden.grad == 0.0  # the original graph's other nodes are left alone


def test_a_domain_error_is_the_engines_and_changes_no_gradient():
    x = Value(2.0)
    y = (x - 1).log() * x
    staged = stage(y)
    x.data = 0.5
    with pytest.raises(ValueError, match=r"^log\(-0\.5\)"):
        staged()
    assert x.grad == 0.0


def test_works_inside_no_grad_and_for_a_leaf():
    x = Value(3.0)
    staged = stage(x.exp() * 2.0)
    with no_grad():
        assert staged() == math.exp(3.0) * 2.0
    assert x.grad == math.exp(3.0) * 2.0
    alone = stage(x)
    assert alone() == 3.0 and x.grad == math.exp(3.0) * 2.0 + 1.0


def test_custom_ops_and_numbers_everywhere_are_replayed():
    a, b = Value(0.3, "a"), Value(-1.2, "b")
    out = softplus(a * b) + maximum(a, 0.4) + 2**b + Value.dot([a, 2.0], [3.0, b], bias=0.25) - 1 / (b - 2)
    staged = stage(out)
    out.backward()
    expected = a.grad, b.grad
    a.grad = b.grad = 0.0
    assert staged() == out.data
    assert (a.grad, b.grad) == expected


def test_a_nan_behind_a_dead_relu_still_shows():
    x, e = Value(-1.0), Value(0.0)
    staged = stage(x ** e.relu())  # d/d(exponent) = log(-1) = nan, times a relu' of 0
    staged()
    assert math.isnan(e.grad) and x.grad == 0.0


def test_a_long_sum_compiles():
    xs = [Value(float(i)) for i in range(5000)]
    staged = stage(Value.sum(xs) * Value.dot(xs, xs))
    assert staged() == float(sum(range(5000))) * float(sum(i * i for i in range(5000)))
    assert xs[7].grad == sum(i * i for i in range(5000)) + sum(range(5000)) * 14


def test_an_op_defined_by_python_functions_is_called_and_bad_arguments_are_clear_errors():
    import math as m

    hypot = defop("hypot", m.hypot, lambda a, b, out: (a / out, b / out))
    x, y = Value(3.0, "x"), Value(4.0, "y")
    out = hypot(x, y) * x
    staged = stage(out)
    assert "_evaluate_hypot(x, y)" in staged.source
    assert staged() == 15.0
    out.backward()
    assert x.grad == 2 * (5.0 + 0.6 * 3.0) and y.grad == 2 * 0.8 * 3.0
    with pytest.raises(TypeError, match="expected a Value or a function"):
        stage(1.0)
    with pytest.raises(ValueError, match="not a node of the graph"):
        stage(x * 2, watch=[Value(1.0)])


def test_a_staged_mlp_trains_exactly_like_the_graph():
    from nn import MLP, SGD, losses
    from nn.data import moons

    X, labels = moons(30, noise=0.1, seed=1)
    y = [2 * c - 1 for c in labels]
    models = [MLP(2, [8, 8, 1], seed=3), MLP(2, [8, 8, 1], seed=3)]
    optimizers = [SGD(m.parameters(), lr=0.1) for m in models]

    def loss_of(model):
        scores = [model(x) for x in X]
        return losses.hinge(scores, y) + 1e-4 * losses.l2(model.parameters()), scores

    staged_loss, scores = loss_of(models[1])
    staged = stage(staged_loss, watch=scores)
    for _ in range(5):
        total, dynamic_scores = loss_of(models[0])
        optimizers[0].zero_grad()
        total.backward()
        optimizers[0].step()
        optimizers[1].zero_grad()
        assert staged() == total.data
        assert [s.data for s in scores] == [s.data for s in dynamic_scores]  # watched
        optimizers[1].step()
    for p, q in zip(models[0].parameters(), models[1].parameters()):
        assert p.data == q.data


def test_staging_is_deterministic():
    rng = random.Random(0)
    xs = [Value(rng.uniform(-1, 1)) for _ in range(5)]
    out = Value.dot(xs, xs[::-1]).relu() + xs[0].sigmoid()
    assert stage(out).source == stage(out).source


def test_numbers_in_a_sum_are_added_first_the_one_rounding_difference():
    a, b = Value(0.1), Value(0.2)
    out = Value.sum([a, 1e16, b]) + Value.dot([2.0, a], [3.0, b])
    staged = stage(out)
    assert staged() == pytest.approx(out.data, rel=1e-15)
    assert (a.grad, b.grad) == (1.0 + 0.2, 1.0 + 0.1)
