"""The notebooks: each jupytext source (notebooks/<name>.py) runs top to bottom, and its committed
.ipynb holds the same cells, executed, with no error, no stderr and no memory address in its outputs."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is a test dependency: pip install -e '.[test]'")
nbclient = pytest.importorskip("nbclient", reason="nbclient is a test dependency: pip install -e '.[test]'")
jupytext = pytest.importorskip("jupytext", reason="jupytext is a test dependency: pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebooks").glob("*.py"))
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _runner():
    """tools/notebooks.py, the script behind `make notebooks`: the tests run the sources the same way."""
    spec = importlib.util.spec_from_file_location("notebook_runner", ROOT / "tools" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cells(nb) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in nb.cells]


def test_every_notebook_has_a_source_and_every_source_a_notebook():
    names = {path.stem for path in SOURCES}
    assert {"backprop-intuitions", "demo", "higher-order", "leaky-abstractions", "trace_graph"} <= names
    assert names == {path.stem for path in (ROOT / "notebooks").glob("*.ipynb")}
    assert not (ROOT / "tools" / "build_notebooks.py").exists()


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_the_committed_notebook_has_the_cells_of_its_source(source):
    committed = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    assert _cells(committed) == _cells(jupytext.read(source)), f"run `make notebooks` after editing {source.name}"
    assert committed.metadata["jupytext"]["formats"] == "ipynb,py:percent"  # paired, for Jupyter with jupytext


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_the_committed_notebook_is_executed_cleanly(source):
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(cell.execution_count for cell in code), "not executed: run `make notebooks`"
    outputs = [out for cell in code for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    # progress bars and warnings go to stderr, which a code host shows as an error-tinted block
    assert not [out.text for out in outputs if out.output_type == "stream" and out.name == "stderr"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_each_notebook_links_its_texts_and_installs_itself_on_colab(source):
    text = source.read_text()
    assert "https://cs231n.github.io/optimization-2/" in text
    first_code = next(cell for cell in jupytext.read(source).cells if cell.cell_type == "code")
    assert '"google.colab" in sys.modules' in first_code.source and "pip" in first_code.source
    assert "circuitgrad" in first_code.source


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_outputs_show_no_memory_address(source):
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    shown = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            text = out.get("text", "") + out.get("data", {}).get("text/plain", "")
            shown += [(i, line) for line in text.splitlines() if ADDRESS.search(line)]
    assert not shown, f"outputs with an address, which changes on every run: {shown}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_the_source_executes(source):
    runner = _runner()
    runner.execute(runner.read(source))  # raises CellExecutionError naming the first failing cell
