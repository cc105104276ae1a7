"""Staged code compiled to C (`stage(..., backend="c")`): the same numbers as the staged Python, bit for bit."""

from __future__ import annotations

import math
import os
import random
import stat

import pytest
from conftest import grouped_hinge, same
from test_property import OPS, UNARY_LIKE, apply

from engine import StageError, Value, defop, logsumexp, silu, softplus, stage
from engine.compiled import CompileError, CompilerNotFound


@pytest.fixture(autouse=True)
def cache(compiled_cache):
    return compiled_cache


EXTRA = {
    "logsumexp": lambda v, c: logsumexp([*v, c]),
    "softplus": lambda v, c: softplus(v[0]),
    "silu": lambda v, c: silu(v[0]),
}


def random_function(seed: int, programs: int = 40):
    """A function of 3 inputs and 2 parameters mixing every op of the table, its programs' outputs as aux;
    and an example input at which every program is inside its ops' domains (so the trace can be made)."""
    rng = random.Random(seed)
    params = [Value(rng.uniform(-1.5, 1.5)) for _ in range(2)]
    example = [rng.uniform(0.2, 1.8) * rng.choice([-1, 1]) for _ in range(3)]
    ops = sorted(OPS) + sorted(EXTRA)

    def run(steps, x):
        nodes = [*x, *params]
        for op, args, const in steps:
            values = [nodes[i] for i in args]
            nodes.append(EXTRA[op](values, const) if op in EXTRA else apply(op, values, const, 0))
        return Value.sum([n.tanh() for n in nodes[5:]]) + nodes[-1]

    plans = []
    while len(plans) < programs:
        steps = []
        for _ in range(rng.randint(1, 8)):
            op = rng.choice(ops)
            arity = 1 if op in UNARY_LIKE or op in ("softplus", "silu") else rng.randint(2, 3)
            steps.append((op, [rng.randrange(5 + len(steps)) for _ in range(arity)], rng.choice([0.5, 1.5, 2.0, 3.0])))
        try:
            run(steps, [Value(v) for v in example])
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
        plans.append(steps)

    def fn(x):
        outputs = [run(steps, x) for steps in plans]
        return Value.sum(outputs), outputs

    return fn, params, example


SPECIAL = [0.0, -0.0, 1.0, -1.0, 1e-300, -1e300, 1e300, math.inf, -math.inf, math.nan, 709.0, 2.5]


def one(staged, x, params):
    """(value, aux, input grads, param grads) or (the error's type, its message); grads untouched on error."""
    for p in params:
        p.grad = 0.0
    try:
        value, aux, grads = staged(x)
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        assert all(p.grad == 0.0 for p in params), "a failing call changed a gradient"
        return type(error), str(error)
    return value, aux, grads, [p.grad for p in params]


def equal(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(map(equal, a, b))
    if isinstance(a, float) and isinstance(b, float):
        return same(a, b)
    return a == b


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_functions_over_every_op_match_the_staged_python_bit_for_bit(seed):
    fn, params, example = random_function(seed)
    rng = random.Random(seed)
    staged = {b: stage(fn, example, has_aux=True, input_grads=True, backend=b) for b in ("python", "c")}
    samples = [example] + [[rng.uniform(-3, 3) for _ in range(3)] for _ in range(60)]
    samples += [[rng.choice(SPECIAL), rng.uniform(-2, 2), rng.choice(SPECIAL)] for _ in range(60)]
    errors = 0
    for x in samples:
        python, c = one(staged["python"], x, params), one(staged["c"], x, params)
        assert equal(python, c), (x, python, c)
        errors += isinstance(python[0], type)
    assert 0 < errors < len(samples)  # both the domain errors and the results were compared
    # and a whole batch at once: the same totals, the same per-sample values
    batch = [x for x in samples if not isinstance(one(staged["python"], x, params)[0], type)]
    results = []
    for b in ("python", "c"):
        for p in params:
            p.grad = 0.0
        total, aux, grads = staged[b].mean(batch)
        results.append((total, aux, grads, [p.grad for p in params]))
    assert equal(results[0], results[1])


@pytest.mark.parametrize("seed", [4, 5])
def test_both_forms_of_the_c_code_match_the_staged_python_bit_for_bit(seed, monkeypatch):
    """Gradients added up in place (-Og) or in local variables (-O0, for very long code: `LARGE`)."""
    import engine.compiled

    fn, params, example = random_function(seed)
    rng = random.Random(seed)
    batch = [[rng.uniform(-1.9, 1.9) * s for s in (1, -1, 1)] for _ in range(60)]
    python = stage(fn, example, has_aux=True, input_grads=True)
    batch = [x for x in batch if not isinstance(one(python, x, params)[0], type)]  # inside every op's domain
    assert len(batch) > 10
    results, forms = [], []
    for large in (None, 10):
        if large is not None:
            monkeypatch.setattr(engine.compiled, "LARGE", large)
        staged = stage(fn, example, has_aux=True, input_grads=True, backend="c")
        forms.append("#define p0 cg_params[0]" in staged.c_source)
        for how in (staged, python):
            for p in params:
                p.grad = 0.0
            results.append((how.mean(batch), [p.grad for p in params]))
    assert forms == [True, False]
    assert equal(results[0], results[1]) and equal(results[2], results[3]) and equal(results[0], results[2])


def test_the_c_code_reads_like_backprop_by_hand():
    staged = stage(lambda x, y, z: (x + y) * z, -2.0, 5.0, -4.0, backend="c")
    source = staged.c_source
    assert "const double x = cg_in[0];" in source and "double v1 = (v0 * z);" in source
    assert "dv1 = g;\n            dv0 += z * dv1;\n            dz += v0 * dv1;" in source  # no skip in C
    assert staged(-2.0, 5.0, -4.0) == -12.0


def test_training_compiled_equals_the_graph():
    from nn import MLP, SGD, fit, losses
    from nn.data import moons, spiral

    X, labels = moons(40, noise=0.2, seed=1)
    y = [2 * c - 1 for c in labels]
    runs = []
    for staged in (False, "c"):
        model = MLP(2, [8, 8, 1], seed=2)
        h = fit(
            model,
            X,
            y,
            losses.hinge,
            SGD(model.parameters(), lr=0.3),
            steps=8,
            l2_weight=1e-4,
            batch_size=16,
            progress=False,
            staged=staged,
        )
        runs.append((h.loss, h.accuracy, [p.data for p in model.parameters()]))
    assert runs[0] == runs[1]
    X, classes = spiral(n_per_class=8, n_classes=3, seed=0)  # cross-entropy: one trace per class, as branches
    runs = []
    for staged in (False, "c"):
        model = MLP(2, [8, 3], seed=2)
        h = fit(
            model,
            X,
            classes,
            losses.cross_entropy,
            SGD(model.parameters(), lr=0.3),
            steps=4,
            progress=False,
            staged=staged,
        )
        runs.append((h.loss, [p.data for p in model.parameters()]))
    assert runs[0] == runs[1]


def test_a_second_staging_of_the_same_model_does_not_compile_again(cache, monkeypatch):
    w = Value(0.5)
    stage(lambda x: (w * x).tanh(), 1.0, backend="c")(2.0)
    built = sorted(cache.glob("staged-*.so"))
    import subprocess

    def no_compiler(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(subprocess, "run", no_compiler)
    assert stage(lambda x: (w * x).tanh(), 1.0, backend="c")(2.0) == math.tanh(1.0)
    assert sorted(cache.glob("staged-*.so")) == built


def test_no_compiler_names_what_to_install(monkeypatch):
    monkeypatch.setenv("CC", "no-such-compiler-here")
    staged = stage(lambda x: x * 3.0, 1.0, backend="c")  # staging itself needs no compiler
    with pytest.raises(CompilerNotFound, match="apt-get install gcc"):
        staged(2.0)


def test_a_failed_compile_shows_the_compiler_and_the_source(tmp_path, monkeypatch):
    broken = tmp_path / "broken-cc"
    broken.write_text("#!/bin/sh\necho 'broken-cc: out of ideas' >&2\nexit 1\n")
    broken.chmod(broken.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("CC", str(broken))
    monkeypatch.setenv("CIRCUITGRAD_CACHE", str(tmp_path / "cache"))
    with pytest.raises(CompileError, match=r"out of ideas") as info:
        stage(lambda x: x * 4.0, 1.0, backend="c")(2.0)
    assert ".c:" in str(info.value) or ".c\n" in str(info.value)
    assert any(p.suffix == ".c" for p in (tmp_path / "cache").iterdir())
    assert not any(p.suffix == ".so" for p in (tmp_path / "cache").iterdir())


def test_an_op_defined_by_python_functions_has_no_c_form():
    cube = defop("cube", lambda x: x**3, lambda x, out: 3 * x * x)
    with pytest.raises(StageError, match="'cube' is defined by Python functions and has no C form"):
        stage(lambda x: cube(x) + 1.0, 2.0, backend="c")
    assert stage(lambda x: cube(x) + 1.0, 2.0)(3.0) == 28.0  # the Python backend calls it
    atan = defop("atan", "atan(x)", "1 / (1 + x * x)")  # the same op with formulas compiles
    staged = stage(lambda x: atan(x * 2.0), 0.5, backend="c")
    x = Value(0.5)
    atan(x * 2.0).backward()
    assert staged(0.5) == math.atan(1.0)
    assert "atan(" in staged.c_source


def test_a_domain_error_in_c_raises_the_engines_error_and_changes_nothing():
    w = Value(2.0)
    staged = stage(lambda x: (x - w).log() * w, 3.0, backend="c")
    assert staged(3.0) == 0.0
    w.grad = 0.0
    with pytest.raises(ValueError, match=r"^log\(-1\.0\): the logarithm needs a positive input"):
        staged.mean([3.0, 1.0, 4.0])
    assert w.grad == 0.0
    with pytest.raises(OverflowError, match=r"^exp\(800\.0\)"):
        stage(lambda x: x.exp(), 1.0, backend="c")(800.0)


@pytest.mark.skipif(os.name != "posix", reason="the cache folder's rules are POSIX here")
def test_bad_backends_are_clear_errors():
    with pytest.raises(ValueError, match="backend must be 'python' or 'c'"):
        stage(lambda x: x, 1.0, backend="fortran")
    with pytest.raises(TypeError, match="takes only watch="):
        stage(Value(1.0), backend="c")


@pytest.mark.parametrize("backend", ["python", "c"])
def test_a_bound_batch_gives_the_batchs_numbers_bit_for_bit_and_is_a_snapshot(backend):
    w, staged, X, y, groups = grouped_hinge(7, 40, backend)
    for how in ("mean", "sum"):
        for p in w:
            p.grad = 0.5  # leaves accumulate: the same totals are added to what is there
        expected = getattr(staged, how)(X, y, groups)
        grads = [p.grad for p in w]
        bound = staged.bind(X, y, groups)
        for p in w:
            p.grad = 0.5
        got = getattr(bound, how)()
        assert equal(list(got), list(expected)) and equal([p.grad for p in w], grads)
    assert len(bound) == 40 and repr(bound) == "BoundBatch(40 samples)"
    first = bound.mean()
    X[0], y[0] = (100.0, 100.0), -y[0]  # the bound batch is a copy: later changes are not seen
    assert equal(list(bound.mean()), list(first))
    assert not equal(list(staged.mean(X, y, groups)), list(first))


def test_bind_checks_its_batches_before_anything_changes():
    w = Value(0.5)
    staged = stage(lambda x, label: (w * x - label) ** 2, 1.0, 0.0, backend="c")
    w.grad = 0.25
    for batches, error, words in [
        (([1.0, 2.0],), TypeError, "1 batches given, the function takes 2"),
        (([1.0, 2.0], [1.0]), ValueError, "different lengths"),
        (([], []), ValueError, "the batch is empty"),
        ((1.0, [1.0]), TypeError, "batch 0 must be a list"),
        ((["a"], [1.0]), TypeError, "must be a number"),
        (([Value(1.0)], [1.0]), TypeError, "not a Value"),
        (([[1.0, 2.0]], [1.0]), TypeError, "argument 0"),
    ]:
        with pytest.raises(error, match=words):
            staged.bind(*batches)
        assert w.grad == 0.25 and w.data == 0.5
    with pytest.raises(TypeError, match="bind\\(\\) is for a staged function"):
        stage(w * 2.0).bind([1.0])
    with pytest.raises(TypeError, match="gradient"):
        staged.bind([1.0], [2.0]).mean(gradient="1")
    assert w.grad == 0.25


def test_no_aux_values_and_no_traced_inputs_compile_as_they_stage():
    w = Value(0.5)
    for backend in ("python", "c"):
        staged = stage(lambda x: ((w * x).tanh(), []), 1.0, has_aux=True, backend=backend)
        assert staged(0.5) == (math.tanh(0.25), []) and staged.mean([0.5, 1.0])[1] == [[], []]
        picked = stage(lambda k: w * (2.0 if k else 3.0), 1, static=(0,), input_grads=True, backend=backend)
        assert picked.mean([0, 1]) == (1.25, [[], []])


def test_labels_that_would_clash_in_generated_code_are_not_used_as_names():
    params = [Value(0.5, "CG_FAIL"), Value(0.2, "o"), Value(0.1, "ef"), Value(0.3, "cg_params"), Value(0.7, "w")]

    def fn(x):
        a, b, c, d, w = params
        return (x * a + b).tanh() * c + d * w

    python, c = stage(fn, 1.0), stage(fn, 1.0, backend="c")
    assert same(python(0.3), c(0.3))
    assert python.source == c.source  # the same Python code, whichever backend is asked for
    assert "#define w cg_params[4]" in c.c_source and "dw" in python.source  # a free label is kept
    assert " def " not in python.source and "double do" not in c.c_source
