"""`make lint` in the test suite: ruff and mypy stay clean on the engine, nn, the tests and the notebooks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is a test dependency: pip install -e '.[test]'")
    return str(found)


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "engine", "nn", "tests", "tools", "notebooks"],
        ["ruff", "format", "--check", "engine", "nn", "tests", "tools", "notebooks"],
        ["mypy"],
    ],
    ids=["ruff check", "ruff format", "mypy"],
)
def test_lint_is_clean(command):
    result = subprocess.run([tool(command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
