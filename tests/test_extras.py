"""Installs that fit the job: the extras in pyproject.toml, the Makefile's stamps, and the
ImportError that names the extra to install when a plotting, drawing or progress package is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nn import MLP, SGD, GradientMonitor, fit, losses, plot_decision_boundary, plot_loss
from nn.data import moons, signed
from nn.train import BoundaryRecorder, History, animate_training

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _names(requirements: list[str]) -> set[str]:
    """Distribution names of requirement strings: 'torch==2.13.0' -> 'torch'."""
    names = set()
    for requirement in requirements:
        name = requirement
        for stop in "=<>[;! ~":
            name = name.split(stop)[0]
        names.add(name.strip().lower())
    return names


def test_the_engine_needs_nothing_and_the_extras_fit_their_jobs():
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    assert project["dependencies"] == []
    assert _names(extras["plots"]) == {"matplotlib"}
    assert _names(extras["draw"]) == {"graphviz"}
    assert _names(extras["progress"]) == {"tqdm"}
    assert extras["demo"] == ["circuitgrad[plots,draw,progress]"]
    test = _names(extras["test"])
    assert {"circuitgrad", "pytest", "hypothesis", "torch", "micrograd", "nbclient", "jupytext", "ruff", "mypy"} <= test
    assert "circuitgrad[demo]" in extras["test"]
    assert "torch==2.13.0" in extras["test"]  # exactly: a range would pull the CUDA build
    assert _names(extras["bench"]) == {"micrograd", "numpy", "jax"}
    assert extras["dev"] == ["circuitgrad[test,bench]"]


def test_the_package_ships_its_license_and_type_markers():
    config = _pyproject()
    assert config["project"]["license-files"] == ["LICENSE"]
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert config["tool"]["setuptools"]["package-data"] == {"engine": ["py.typed"], "nn": ["py.typed", "names.txt"]}
    assert (ROOT / "engine" / "py.typed").exists() and (ROOT / "nn" / "py.typed").exists()
    assert "prune tests" in (ROOT / "MANIFEST.in").read_text()  # the sdist leaves out tests it could not run


# The Makefile: each target installs its own extra once, remembered by its own stamp file.


def _make(folder: Path, *args: str) -> str:
    """What `make` would run (`make -n`), as a fresh shell would see it (not as a make recipe inside another make)."""
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", *args], cwd=folder, capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def project_copy(tmp_path):
    """The Makefile and pyproject.toml in a folder of their own, with a (fake) virtual environment."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    os.utime(python, (1_000_000_000, 1_000_000_000))  # older than pyproject.toml: the venv need not be made
    return tmp_path


def test_make_demo_installs_the_demo_extra_and_no_test_tool(project_copy):
    plan = _make(project_copy, "demo")
    assert "pip install -q -e '.[demo]'" in plan
    assert "touch .venv/.installed-demo" in plan
    assert "[test" not in plan and "torch" not in plan and "pytest" not in plan
    assert "command -v dot" in plan and "command -v cc" in plan
    assert plan.rstrip().endswith(".venv/bin/circuitgrad train")


def test_make_test_after_make_demo_installs_the_test_extra(project_copy):
    stamp = project_copy / ".venv" / ".installed-demo"
    stamp.touch()  # as `make demo` leaves it
    assert "pip install" not in _make(project_copy, "demo")  # the demo extra is there
    plan = _make(project_copy, "test")
    assert "pip install -q -e '.[test]'" in plan and "touch .venv/.installed-test" in plan
    assert "command -v dot" in plan and "command -v cc" in plan
    assert plan.rstrip().endswith(".venv/bin/python -m pytest")
    (project_copy / ".venv" / ".installed-test").touch()
    assert "pip install" not in _make(project_copy, "test")
    assert "pip install -q -e '.[test,bench]'" in _make(project_copy, "bench")
    fuzz = _make(project_copy, "fuzz")
    assert "pip install" not in fuzz and "CIRCUITGRAD_FUZZ=" in fuzz and "tests/test_fuzz.py" in fuzz


def test_make_reinstalls_when_pyproject_changes(project_copy):
    for name in ("demo", "test"):
        (project_copy / ".venv" / f".installed-{name}").touch()
    os.utime(project_copy / ".venv" / ".installed-demo", (1_000_000_001, 1_000_000_001))
    assert "pip install -q -e '.[demo]'" in _make(project_copy, "demo")
    assert "pip install" not in _make(project_copy, "test")


def test_make_lint_runs_ruff_and_mypy_and_make_notebooks_runs_the_sources(project_copy):
    (project_copy / ".venv" / ".installed-test").touch()
    lint = _make(project_copy, "lint")
    assert "ruff check" in lint and "ruff format --check" in lint and "mypy" in lint
    assert "notebooks" in lint  # the notebook sources are linted too
    assert "tools/notebooks.py" in _make(project_copy, "notebooks")


def test_make_builds_the_venv_when_it_is_missing(project_copy):
    shutil.rmtree(project_copy / ".venv")
    plan = _make(project_copy, "demo")
    assert "-m venv .venv" in plan and "pip install -q -e '.[demo]'" in plan


# A missing extra: an ImportError that names it, raised before anything changes.


def _small():
    X, labels = moons(20, seed=0)
    return MLP(2, [4, 1], seed=0), X, signed(labels)


def _hide(monkeypatch, name: str) -> None:
    monkeypatch.setitem(sys.modules, name, None)  # `import name` now raises ImportError


def test_fit_without_tqdm_names_the_progress_extra_and_changes_nothing(monkeypatch):
    model, X, y = _small()
    before = model.state_dict()
    _hide(monkeypatch, "tqdm")
    with pytest.raises(ImportError, match=r"progress bar needs tqdm: pip install 'circuitgrad\[progress\]'"):
        fit(model, X, y, losses.hinge, SGD(model.parameters(), lr=0.1), steps=2)
    assert model.state_dict() == before and all(p.grad == 0.0 for p in model.parameters())
    history = fit(model, X, y, losses.hinge, SGD(model.parameters(), lr=0.1), steps=2, progress=False)
    assert len(history.loss) == 2  # without the bar it trains


@pytest.mark.parametrize(
    "plot",
    [
        lambda model, X, y: plot_loss(History(loss=[1.0, 0.5], accuracy=[0.5, 1.0])),
        lambda model, X, y: plot_decision_boundary(model, X, y, resolution=5),
        lambda model, X, y: BoundaryRecorder(model, X, y),
        lambda model, X, y: GradientMonitor(model).plot(),
    ],
    ids=["plot_loss", "plot_decision_boundary", "BoundaryRecorder", "GradientMonitor.plot"],
)
def test_plots_without_matplotlib_name_the_plots_extra(monkeypatch, plot):
    model, X, y = _small()
    _hide(monkeypatch, "matplotlib")
    with pytest.raises(ImportError, match=r"need matplotlib: pip install 'circuitgrad\[plots\]'"):
        plot(model, X, y)


def test_animate_training_without_matplotlib_fails_before_training(monkeypatch, tmp_path):
    model, X, y = _small()
    before = model.state_dict()
    _hide(monkeypatch, "matplotlib")
    with pytest.raises(ImportError, match=r"circuitgrad\[plots\]"):
        animate_training(
            model, X, y, losses.hinge, SGD(model.parameters(), lr=0.1), tmp_path / "a.gif", steps=2, progress=False
        )
    assert model.state_dict() == before and not (tmp_path / "a.gif").exists()


def test_the_message_names_the_extra_even_when_a_submodule_was_imported_before(monkeypatch):
    pytest.importorskip("matplotlib.pyplot")  # now cached in sys.modules
    from nn.extras import require

    _hide(monkeypatch, "matplotlib")
    with pytest.raises(ImportError, match=r"circuitgrad\[plots\]"):
        require("matplotlib.pyplot", "plots need matplotlib")
