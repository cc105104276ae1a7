"""The decided semantics of DESIGN.md: types, operators, errors, no_grad, detach."""

from __future__ import annotations

import math
import threading

import pytest

from engine import Value, is_recording, maximum, minimum, no_grad


@pytest.mark.parametrize("x", [3, -2.5, True, False, 0])
def test_value_accepts_int_float_bool_as_float(x):
    v = Value(x)
    assert type(v.data) is float and v.data == float(x)


@pytest.mark.parametrize("bad", ["1.0", None, [1.0], 1j, object()])
def test_value_rejects_other_types_naming_them(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_numbers_on_either_side():
    x = Value(2.0)
    assert [(op(x, 3)).data for op in (lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b)] == [
        5,
        -1,
        6,
    ]
    assert [(op(3, x)).data for op in (lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b)] == [
        5,
        1,
        6,
    ]
    assert (x / 4).data == 0.5 and (4 / x).data == 2.0
    assert (x**3).data == 8.0 and (3**x).data == 9.0 and (x ** Value(3.0)).data == 8.0
    assert (-x).data == -2.0 and abs(Value(-2.0)).data == 2.0 and float(x) == 2.0


def test_unsupported_operand_is_a_type_error():
    with pytest.raises(TypeError):
        Value(1.0) + "a"
    with pytest.raises(TypeError):
        "a" * Value(1.0) + 1
    with pytest.raises(TypeError, match="str"):
        Value.dot([Value(1.0)], ["a"])


def test_equality_and_hash_are_identity_comparisons_compare_data():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a and len({a, b}) == 2 and {a: 1}[a] == 1
    assert (a < 2) is True and (a <= b) is True and (a > b) is False and (a >= 1.0) is True
    assert (Value(3.0) > Value(2.0)) is True and (2 < Value(3.0)) is True


def test_repr_shows_only_what_is_set():
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    f = (x + y) * z
    f.label = "f"
    assert repr(x) == "Value(data=-2.0)"
    assert repr(f) == "Value(data=-12.0, op='*', label='f')"
    f.backward()
    assert repr(f) == "Value(data=-12.0, grad=1.0, op='*', label='f')"
    assert repr(Value(1.0, label="w")) == "Value(data=1.0, label='w')"


def snapshot(*nodes):
    return [(n.data, n.grad, n.op, n.label, n.children, n.locals, n.constants) for n in nodes]


DOMAIN_ERRORS = [
    (lambda x: x.log(), -1.0, ValueError, r"^log\(-1\.0\): "),
    (lambda x: x.log(), 0.0, ValueError, r"^log\(0\.0\): "),
    (lambda x: x.sqrt(), -4.0, ValueError, r"^sqrt\(-4\.0\): "),
    (lambda x: x / 0, 1.0, ZeroDivisionError, r"^div\(1\.0, 0\.0\): "),
    (lambda x: x / Value(0.0), 1.0, ZeroDivisionError, r"^div\(1\.0, 0\.0\): "),
    (lambda x: 2 / x, 0.0, ZeroDivisionError, r"^div\(2\.0, 0\.0\): "),
    (lambda x: x**-1, 0.0, ZeroDivisionError, r"^pow\(0\.0, -1\.0\): "),
    (lambda x: x**0.5, -8.0, ValueError, r"^pow\(-8\.0, 0\.5\): "),
    (lambda x: x ** Value(0.5), -8.0, ValueError, r"^pow\(-8\.0, 0\.5\): "),
    (lambda x: (-2.0) ** x, 0.5, ValueError, r"^pow\(-2\.0, 0\.5\): "),
    (lambda x: x**2, 1e200, OverflowError, r"^pow\(1e\+200, 2\.0\): "),
    (lambda x: x.exp(), 1000.0, OverflowError, r"^exp\(1000\.0\): "),
    (lambda x: x.clip(1, -1), 0.0, ValueError, r"^clip\(0\.0, 1\.0, -1\.0\): "),
    (lambda x: Value.dot([x, x], [1.0]), 0.0, ValueError, r"^dot: 2 weights but 1 inputs"),
]


@pytest.mark.parametrize("op, x, error, message", DOMAIN_ERRORS)
def test_domain_errors_name_the_op_and_change_nothing(op, x, error, message):
    a = Value(x, label="a")
    other = Value(2.0)
    y = a * other
    y.backward()
    before = snapshot(a, other, y)
    with pytest.raises(error, match=message):
        op(a)
    assert snapshot(a, other, y) == before


def test_tanh_and_sigmoid_are_stable_for_any_finite_input():
    for x in (-1e308, -1000.0, -710.0, 710.0, 1000.0, 1e308):
        s = Value(x).sigmoid()
        t = Value(x).tanh()
        assert 0.0 <= s.data <= 1.0 and -1.0 <= t.data <= 1.0
        assert math.isfinite(s.locals[0]) and math.isfinite(t.locals[0])
    assert Value(-1000.0).sigmoid().data == 0.0 and Value(1000.0).sigmoid().data == 1.0
    assert Value(-30.0).sigmoid().data == pytest.approx(1 / (1 + math.exp(30.0)), rel=1e-15)


def test_no_grad_makes_leaves_and_restores():
    x = Value(2.0)
    assert is_recording()
    with no_grad():
        assert not is_recording()
        y = (x * 3).tanh() + Value.dot([x], [x]) + maximum(x, 1.0)
        with no_grad():
            pass
        assert not is_recording()
    assert is_recording()
    assert y.is_leaf() and y.op is None and y.children == ()
    assert y.data == pytest.approx(math.tanh(6.0) + 4.0 + 2.0)
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("boom")
    assert is_recording() and not (x * 2).is_leaf()


def test_no_grad_in_one_thread_does_not_leak_into_another():
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with no_grad():
            inside.set()
            release.wait(5)
            seen["worker"] = (Value(1.0) * Value(2.0)).is_leaf()

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(5)
    seen["main"] = (Value(1.0) * Value(2.0)).is_leaf()
    release.set()
    thread.join(5)
    assert seen == {"worker": True, "main": False}


def test_detach_stops_the_gradient():
    x = Value(3.0)
    y = x * x.detach()
    y.backward()
    assert x.grad == 3.0
    d = x.detach()
    assert d is not x and d.data == x.data and d.is_leaf()


def test_minimum_and_maximum_take_numbers_on_either_side():
    x = Value(2.0)
    assert maximum(x, 5).data == 5.0 and maximum(5, x).children == (x,)
    m = minimum(3.0, x)
    m.backward()
    assert m.data == 2.0 and x.grad == 1.0
    assert maximum(1, 2).is_leaf()


def test_engine_imports_only_the_standard_library():
    import subprocess
    import sys

    code = (
        "import sys, engine; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'graphviz', 'numpy', 'torch', 'matplotlib', 'tqdm', 'nn'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
