"""Execute the notebooks from their sources: notebooks/<name>.py becomes notebooks/<name>.ipynb, outputs included.

    .venv/bin/python tools/notebooks.py              # every notebook (what `make notebooks` runs)
    .venv/bin/python tools/notebooks.py demo         # only notebooks/demo.py

A source is a jupytext percent-format script: cells start at ``# %%`` lines, markdown
cells are comments under ``# %% [markdown]``. Each is read with jupytext, run top to
bottom by nbclient with notebooks/ as the working folder, and written as the .ipynb
beside it, so the committed notebook reads well on a code host. Edit the .py, never
the .ipynb: the test suite checks that the two hold the same cells.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

FOLDER = Path(__file__).resolve().parent.parent / "notebooks"
TIMEOUT = 600  # seconds per cell


def sources(names: list[str] | None = None) -> list[Path]:
    """The notebook sources: every notebooks/*.py, or the ones named (with or without .py)."""
    if not names:
        return sorted(FOLDER.glob("*.py"))
    paths = [FOLDER / (name if name.endswith(".py") else f"{name}.py") for name in names]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise SystemExit(f"no such notebook source: {', '.join(missing)}")
    return paths


def read(source: Path) -> nbformat.NotebookNode:
    """The notebook a source describes, without outputs; cell ids are numbered, so rebuilding changes none."""
    nb = jupytext.read(source)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _merge_streams(outputs: list) -> list:
    """Join neighbouring outputs of the same stream, keeping of each line what a terminal would show.

    A line redrawn with carriage returns (a progress bar) keeps its last drawing only.
    """
    merged: list = []
    for output in outputs:
        last = merged[-1] if merged else None
        if last is not None and output.output_type == last.output_type == "stream" and output.name == last.name:
            last.text += output.text
        else:
            merged.append(output)
    for output in merged:
        if output.output_type == "stream":
            output.text = "\n".join(line.rsplit("\r", 1)[-1] for line in output.text.split("\n"))
    return merged


def execute(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Run every cell in a fresh python3 kernel, in notebooks/; raises CellExecutionError on the first failure."""
    client = NotebookClient(
        nb, timeout=TIMEOUT, kernel_name="python3", record_timing=False, resources={"metadata": {"path": str(FOLDER)}}
    )
    client.execute()
    nb.metadata["language_info"] = {"name": "python"}  # not the kernel's exact version: no churn between machines
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(cell.outputs)
    return nb


def build(source: Path) -> Path:
    """Execute one source and write its .ipynb beside it."""
    target = source.with_suffix(".ipynb")
    nbformat.write(execute(read(source)), target)
    return target


def main(argv: list[str]) -> int:
    for source in sources(argv):
        print(f"executing {source.name} ...", flush=True)
        print(f"wrote {build(source)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
