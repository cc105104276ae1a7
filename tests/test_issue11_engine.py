"""Issue 11's engine items, each as the reproduction the issue gives (and a little more around it).

1 NaN propagates through every op in every argument order; detect_anomaly sees a nan
that enters through a leaf. 2 a backward pass adds each leaf's total once. 3 the power
rule at base 0, at every order. 4 stage is bit for bit. 8 backward(gradient) checks
its argument before it changes anything. 10 errors name the op and the operand. 11
Value checks its label. 13 any real number is a number. 14 REPL habits. And micrograd's
lecture: its own trace/draw_dot over `_prev`/`_op`, and its backprop-by-hand cells.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from conftest import import_torch
from test_fuzz import Step, apply_ours, apply_torch

from engine import AnomalyError, Value, defop, detect_anomaly, grad, hessian, maximum, minimum, stage

NAN, INF = math.nan, math.inf


def snapshot(*nodes: Value) -> list:
    return [(n.data, n.grad, n.children, n.locals, n.constants) for n in nodes]


# ------------------------------------------------ 1. NaN propagates, in every argument order

# Inputs at which every op has an ordinary value; a nan in any one position must make the result nan
# (PyTorch's answer is checked alongside). pow avoids 0 and 1, whose IEEE powers ignore a nan.
ORDINARY = {
    "add": [1.5, 2.0],
    "sub": [1.5, 2.0],
    "mul": [1.5, 2.0],
    "div": [1.5, 2.0],
    "pow": [2.0, 0.5],
    "maximum": [1.5, 2.0],
    "minimum": [1.5, 2.0],
    "clip": [0.5, 0.0, 1.0],
    "leaky_relu": [-1.0, 0.1],
    "sum": [1.0, 2.0, 3.0],
    "dot": [1.0, 2.0, 3.0, 4.0, 5.0],  # w0 w1 x0 x1 bias
    **{name: [0.5] for name in ("neg", "abs", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu")},
    "softplus": [0.5],
    "silu": [0.5],
}


def nan_cases():
    for name, args in ORDINARY.items():
        for position in range(len(args)):
            for as_value in (True, False) if len(args) > 1 else (True,):
                how = "Value" if as_value else "number"
                yield pytest.param(name, args, position, as_value, id=f"{name}-nan-{how}-at-{position}")


@pytest.mark.parametrize("name, args, position, as_value", list(nan_cases()))
def test_nan_propagates_through_every_op_in_every_argument_order(name, args, position, as_value):
    numbers = list(args)
    numbers[position] = NAN
    inputs = [Value(x) if (k != position or as_value) else x for k, x in enumerate(numbers)]
    step = Step(name, list(range(len(args))), pairs=2 if name == "dot" else 0)
    out = apply_ours(step, inputs)
    torch = import_torch()
    theirs = apply_torch(torch, step, [torch.tensor(x, dtype=torch.float64) for x in numbers])
    assert math.isnan(theirs.item())  # the oracle agrees that a nan belongs here
    assert math.isnan(out.data), f"{name}{tuple(numbers)} = {out.data}"


@pytest.mark.parametrize("base", [0.0, -0.0])
def test_the_power_rules_zero_at_a_base_of_0_does_not_hide_a_nan_exponent(base):
    torch = import_torch()
    a = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(NAN, dtype=torch.float64, requires_grad=True)
    (a**b).backward()
    x, y = Value(base), Value(NAN)
    (x**y).backward()
    assert math.isnan(b.grad.item()) and math.isnan(y.grad)


def test_the_issues_nan_examples():
    assert math.isnan(Value(NAN).relu().data)
    assert math.isnan(maximum(Value(NAN), 1.0).data) and math.isnan(maximum(1.0, Value(NAN)).data)
    assert math.isnan(minimum(Value(NAN), 1.0).data) and math.isnan(minimum(1.0, Value(NAN)).data)
    assert math.isnan(Value(NAN).clip(0.0, 1.0).data)


def test_detect_anomaly_catches_a_nan_or_inf_that_enters_through_a_leaf():
    outside = Value(NAN, label="x")
    with pytest.raises(AnomalyError, match=r"nan entered through a leaf: input 0 of op 'pow'"):
        with detect_anomaly():
            outside**0  # nan ** 0 is 1: the result does not show it
    with pytest.raises(AnomalyError, match=r"inf in a leaf: Value\(inf\) made at .*test_issue11_engine.py"):
        with detect_anomaly():
            Value(INF)
    leaf = Value(2.0)
    leaf.data = -INF  # changed after it was made
    with pytest.raises(AnomalyError, match=r"inf entered through a leaf: input 1 of op 'maximum'"):
        with detect_anomaly():
            maximum(Value(1.0), leaf).clip(-1.0, 1.0)


def test_detect_anomaly_catches_a_nan_that_enters_as_a_number():
    """1 ** nan is 1 (as in IEEE and PyTorch): the nan is in a constant, not a leaf."""
    x = Value(1.0)
    with pytest.raises(AnomalyError, match=r"nan entered as a number: input 1 of op 'pow'"):
        with detect_anomaly():
            x**NAN
    with pytest.raises(AnomalyError, match=r"nan in the forward pass: op 'clip' gave nan"):
        with detect_anomaly():
            Value(0.5).clip(0.0, NAN)  # a nan bound gives nan, as torch.clamp
    with detect_anomaly():  # an infinite bound is a clip on one side only: no anomaly
        assert Value(0.5).clip(-INF, INF).data == 0.5


# ------------------------------------------- 2. a pass adds each leaf's total once


def test_a_gradient_already_there_does_not_change_the_passs_rounding():
    x = Value(1.0)
    f = x * 1e17 + x * -1e17
    x.grad = 1.0
    f.backward()
    assert x.grad == 1.0  # PyTorch: 1.0; the pass's total is 0.0
    x.grad = 1.0
    stage(f)()
    assert x.grad == 1.0
    x.grad = 1.0
    with detect_anomaly():
        f.backward()
    assert x.grad == 1.0


def test_a_second_backward_exactly_doubles_1000_leaf_gradients():
    rng = random.Random(0)
    leaves = [Value(rng.gauss(0.0, 1.0)) for _ in range(1000)]
    inputs = [rng.uniform(-1.0, 1.0) for _ in range(20)]
    hidden = []
    for k in range(50):
        ws = leaves[k * 20 : (k + 1) * 20]
        hidden.append(Value.dot(ws, inputs, bias=ws[0] * ws[1]).tanh())
    out = Value.sum(h * leaves[k] for k, h in enumerate(hidden)) + Value.dot(hidden, hidden)
    out.backward()
    first = [leaf.grad for leaf in leaves]
    out.backward()
    assert [leaf.grad for leaf in leaves] == [2 * g for g in first]
    assert sum(g != 0.0 for g in first) >= 990


# --------------------------------------------------- 3. the power rule at base 0, every order


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("x0", [0.0, -0.0])
def test_every_derivative_of_x_to_the_n_at_0_matches_pytorch(n, x0):
    torch = import_torch()
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    g = x**n

    def f(v):
        return v**n

    for order in range(1, n + 2):
        (g,) = torch.autograd.grad(g, x, create_graph=True)
        f = grad(f)
        assert f(x0) == g.item() == (math.factorial(n) if order == n else 0.0), (n, order)


def test_the_issues_power_examples():
    assert grad(grad(lambda x: x**2))(0.0) == 2.0
    assert hessian(lambda v: v[0] ** 2 + v[0] * v[1])([0.0, 0.0]) == [[2.0, 1.0], [1.0, 0.0]]
    assert grad(grad(grad(lambda x: x**3)))(0.0) == 6.0
    assert grad(grad(grad(lambda x: x**2.5)))(0.0) == INF  # 2.5 * 1.5 * 0.5 * 0 ** -0.5, as PyTorch


def test_a_nan_first_derivative_stays_nan_at_the_next_order():
    torch = import_torch()
    a = torch.tensor(-1.5, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (db,) = torch.autograd.grad(a**b, b, create_graph=True)
    theirs = torch.autograd.grad(db, (a, b))
    assert math.isnan(db.item()) and all(math.isnan(t.item()) for t in theirs)
    d_db = grad(lambda x, y: x**y, argnums=1)
    assert math.isnan(d_db(-1.5, 2.0))
    mine = grad(d_db, argnums=(0, 1))(-1.5, 2.0)
    assert all(math.isnan(m) for m in mine), mine


# ---------------------------------------------------------------- 4. stage is bit for bit


def test_stage_of_a_dot_with_numbers_among_values_is_bit_for_bit():
    a, b, c, d = Value(0.1), Value(0.3), Value(0.1), Value(1.1)
    out = Value.dot([0.1, a, c], [b, 0.2, d])
    out.backward()
    grads = [v.grad for v in (a, b, c, d)]
    for v in (a, b, c, d):
        v.grad = 0.0
    assert stage(out)() == out.data == 0.1 * 0.3 + 0.1 * 0.2 + 0.1 * 1.1 + -0.0
    assert [v.grad for v in (a, b, c, d)] == grads


@pytest.mark.parametrize("labels", [("ℓ", "l"), ("ｘ0", ""), ("x0", "ｘ0"), ("ﬁ", "fi"), ("dx", "x")])
def test_labels_that_python_would_read_as_one_name_stay_two_variables(labels):
    p, q = Value(2.0, labels[0]), Value(5.0, labels[1])
    out = p * 3.0 - q
    staged = stage(out)
    assert staged() == out.data == 1.0
    assert (p.grad, q.grad) == (3.0, -1.0)


# ----------------------------------------- 8. backward(gradient) checks before it changes anything


@pytest.mark.parametrize(
    "gradient, error, message",
    [
        ("1", TypeError, "backward\\(gradient\\): gradient must be a real number, not str"),
        (None, TypeError, "gradient must be a real number, not NoneType"),
        (10**400, OverflowError, "backward\\(gradient\\): gradient: an int of 1329 bits is too large"),
        (1j, TypeError, "gradient must be a real number, not complex"),
        ([1.0], TypeError, "gradient must be a real number, not list"),
    ],
)
def test_backward_checks_its_gradient_before_changing_any_grad(gradient, error, message):
    x, w = Value(2.0), Value(-3.0)
    h = (x * w).tanh()
    f = h * h + x
    f.backward()
    before = snapshot(x, w, h, f)
    with pytest.raises(error, match=message):
        f.backward(gradient)
    assert snapshot(x, w, h, f) == before


# --------------------------------------------------------- 10. errors name the op and operand


def test_sin_of_inf_names_the_op_and_the_operand():
    with pytest.raises(ValueError, match=r"^sin\(inf\): the sine needs a finite input"):
        Value(INF).sin()
    with pytest.raises(ValueError, match=r"^cos\(-inf\): the cosine needs a finite input"):
        Value(-INF).cos()


def test_a_finite_power_whose_gradient_overflows_is_a_value():
    x = Value(1e-300)
    y = x**-1
    assert y.data == 1e-300**-1  # about 1e300: finite
    y.backward()
    torch = import_torch()
    t = torch.tensor(1e-300, dtype=torch.float64, requires_grad=True)
    (t**-1).backward()
    assert x.grad == t.grad.item() == -INF


SPECIALS = [NAN, INF, -INF, 0.0, -0.0, -1.0, 1e300, -1e300, 1e-300, 5e-324, 710.0]


@pytest.mark.parametrize("name", [n for n in ORDINARY if n not in ("sum", "dot")])
def test_no_op_raises_a_bare_math_error(name):
    """At every special number in every position, an op either computes or raises naming itself."""
    args = ORDINARY[name]
    for position in range(len(args)):
        for special in SPECIALS:
            numbers = list(args)
            numbers[position] = special
            try:
                apply_ours(Step(name, list(range(len(args)))), [Value(x) for x in numbers])
            except (ValueError, ArithmeticError) as error:
                assert str(error).startswith(f"{name}("), f"{name}{tuple(numbers)}: {error!r}"


# ------------------------------------------------------------------ 11. Value checks its label


@pytest.mark.parametrize("label", [3, None, b"x", ["x"]])
def test_value_refuses_a_label_that_is_not_a_str(label):
    with pytest.raises(TypeError, match=f"label must be a str, not {type(label).__name__}"):
        Value(1.0, label=label)


# ------------------------------------------------------- 13. any real number is a number


def test_numpy_scalars_fractions_and_big_ints_are_numbers_stored_as_floats():
    np = pytest.importorskip("numpy")
    assert type(Value(np.float32(0.5)).data) is float and Value(np.float32(0.5)).data == 0.5
    assert (Value(2.0) * np.int64(2)).data == 4.0
    for v in (Value(1) + np.float32(2), np.float32(2) + Value(1), np.float64(2.0) * Value(1.5)):
        assert isinstance(v, Value) and type(v.data) is float and v.data == 3.0
    y = np.float32(2.0) ** Value(3.0) - np.int8(1)
    assert y.data == 7.0 and all(type(c) is float for c in y.constants if c is not None)
    d = Value.dot([Value(1.0)], [np.float32(0.5)], bias=np.int64(2))
    assert d.data == 2.5 and all(type(x) is float for x in (*d.locals, *(c for c in d.constants if c is not None)))
    assert Value(Fraction(1, 4)).data == 0.25 and Value(2**1000).data == 2.0**1000
    with pytest.raises(OverflowError, match="Value\\(data\\): data: an int of 1329 bits is too large for a float"):
        Value(10**400)
    x = Value(3.0)
    f = x * x
    f.backward(np.float32(1))
    assert type(x.grad) is float and x.grad == 6.0
    with pytest.raises(TypeError, match="gradient must be a real number, not complex"):
        f.backward(1j)
    for bad in ("1.0", None, 1j, [1.0], np.array([1.0, 2.0])):
        with pytest.raises(TypeError, match=f"must be a real number, not {type(bad).__name__}"):
            Value(bad)


# ------------------------------------------------------------------------ 14. REPL habits


def test_format_round_int_and_float_read_the_data():
    v = Value(2.675, "v") * 1.0
    assert f"{v:.2f}" == f"{2.675:.2f}" and f"{v:>8.1e}" == f"{2.675:>8.1e}"
    assert f"{v}" == repr(v)
    assert round(v) == 3 and type(round(v)) is int and round(v, 1) == round(2.675, 1)
    assert int(Value(-2.7)) == -2 and float(v) == 2.675
    assert math.exp(v) == math.exp(2.675)  # through float(): a number, outside the graph


# ----------------------------------------------- micrograd's lecture, cells that run unchanged


def trace(root):
    """All the nodes and edges behind root, walking `_prev` as the lecture's helper does."""
    nodes, edges = set(), set()
    stack = [root]
    while stack:
        v = stack.pop()
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                stack.append(child)
    return nodes, edges


def lecture_draw_dot(root):
    """The lecture's diagram: a record per value, a small node per op (from `_op`), edges between."""
    graphviz = pytest.importorskip("graphviz")
    dot = graphviz.Digraph(format="svg", graph_attr={"rankdir": "LR"})
    nodes, edges = trace(root)
    for n in nodes:
        uid = str(id(n))
        dot.node(name=uid, label=f"{{ {n.label} | data {n.data:.4f} | grad {n.grad:.4f} }}", shape="record")
        if n._op:
            dot.node(name=uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot


def lecture_neuron():
    x1 = Value(2.0, label="x1")
    x2 = Value(0.0, label="x2")
    w1 = Value(-3.0, label="w1")
    w2 = Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, x1w1x2w2=x1w1x2w2, n=n, o=o)


# The lecture's numbers (its diagrams show 4 decimals).
LECTURE_GRADS = dict(o=1.0, n=0.5, b=0.5, x1w1x2w2=0.5, x1w1=0.5, x2w2=0.5, x1=-1.5, w1=1.0, x2=0.5, w2=0.0)


def check_lecture_numbers(v):
    assert v["o"].data == pytest.approx(0.7071, abs=5e-5) and v["n"].data == pytest.approx(0.8814, abs=5e-5)
    for name, expected in LECTURE_GRADS.items():
        assert v[name].grad == pytest.approx(expected, abs=1e-12), name


def test_the_lectures_backprop_by_hand_cells():
    v = lecture_neuron()
    v["o"].grad = 1.0
    for name in ("o", "n", "b", "x1w1x2w2", "x2w2", "x1w1"):  # node by node, as the lecture calls them
        v[name]._backward()
    check_lecture_numbers(v)
    labels = lecture_draw_dot(v["o"]).source
    for text in ("o | data 0.7071 | grad 1.0000", "n | data 0.8814 | grad 0.5000", "x1 | data 2.0000 | grad -1.5000"):
        assert text in labels
    assert 'label="*"' in labels and 'label="+"' in labels and "label=tanh" in labels


def test_the_lectures_topological_sort_and_backward():
    v = lecture_neuron()
    topo, visited = [], set()

    def build_topo(node):
        if node not in visited:
            visited.add(node)
            for child in node._prev:
                build_topo(child)
            topo.append(node)

    build_topo(v["o"])
    assert len(topo) == 10 and topo[-1] is v["o"]
    v["o"].grad = 1.0
    for node in reversed(topo):
        node._backward()  # a leaf's _backward does nothing
    check_lecture_numbers(v)
    w = lecture_neuron()
    w["o"].backward()
    check_lecture_numbers(w)


def test_the_lectures_tanh_written_with_exp():
    v = lecture_neuron()
    e = (2 * v["n"]).exp()
    o = (e - 1) / (e + 1)
    o.backward()
    assert o.data == pytest.approx(0.7071067811865476, abs=1e-15)
    assert (v["x1"].grad, v["w1"].grad, v["x2"].grad, v["w2"].grad) == pytest.approx((-1.5, 1.0, 0.5, 0.0), abs=1e-12)


def test_the_lectures_names_are_read_only_and_a_node_by_hand_is_refused():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    d = a * b + a
    assert d._prev == {d.children[0], a} and isinstance(d._prev, set)
    assert d._op == "+" and d.children[0]._op == "*" and a._op == ""
    with pytest.raises(AttributeError):
        d._prev = set()
    with pytest.raises(AttributeError):
        d._op = "*"
    with pytest.raises(AttributeError):
        d._backward = lambda: None
    with pytest.raises(TypeError, match="engine.defop"):
        Value(math.exp(2.0), (a,), "exp")  # the lecture's way of making a node by hand
    a2 = Value(3.0, label="a")
    b2 = a2 + a2
    b2.backward()
    assert a2.grad == 2.0  # the lecture's bug, fixed: a Value used twice gets both contributions
    assert defop("exp2", "exp(x) * exp(x)", "2.0 * out")(Value(1.0)).data == math.exp(1.0) ** 2
