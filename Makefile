# circuitgrad: `make demo` and `make test` set everything up themselves.
#
#   make demo       the package with what `circuitgrad train` needs (plots, diagrams, progress), then train
#   make test       the package with the test suite's tools (PyTorch CPU, micrograd, jupyter, ruff, mypy), then pytest
#   make bench      the test tools plus the benchmarks' baselines, then the benchmarks
#   make fuzz       the test tools, then 10,000 random DAGs against PyTorch and the 10^7-op chain (CIRCUITGRAD_FUZZ=n)
#   make notebooks  execute every notebook source in notebooks/*.py into its .ipynb, outputs included
#   make lint       ruff check, ruff format --check, mypy
#
# Each target installs its own extra into .venv once; a stamp file per extra remembers it
# (until pyproject.toml changes), so the targets can be run in any order.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test bench fuzz notebooks lint dot cc clean

demo: $(DEMO_STAMP) dot cc
	$(VENV)/bin/circuitgrad train

test: $(TEST_STAMP) dot cc
	$(PY) -m pytest

bench: $(BENCH_STAMP) cc
	$(PY) tests/bench/demo_step.py
	$(PY) tests/bench/nodes.py
	$(PY) tests/bench/staging.py
	$(PY) tests/bench/compiled.py
	$(PY) tests/bench/gpt_step.py

fuzz: $(TEST_STAMP)
	CIRCUITGRAD_FUZZ=$${CIRCUITGRAD_FUZZ:-10000} $(PY) -m pytest -s tests/test_fuzz.py tests/test_adversarial.py

notebooks: $(TEST_STAMP) dot
	$(PY) tools/notebooks.py

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check engine nn tests tools notebooks
	$(VENV)/bin/ruff format --check engine nn tests tools notebooks
	$(VENV)/bin/mypy

$(DEMO_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[demo]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	touch $@

$(BENCH_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $@

# The virtual environment itself (with python3-venv installed first where it is missing).
$(PY):
	@if ! $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  else \
	    echo "Python's venv module is missing; install it with: sudo apt-get install python3-venv"; exit 1; \
	  fi; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# The Graphviz `dot` binary renders graph diagrams.
dot:
	@if ! command -v dot >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else \
	    echo "Graphviz's dot is missing (diagrams will not render); install it with: sudo apt-get install graphviz"; \
	  fi; \
	fi

# A C compiler, for staged code compiled to C.
cc:
	@if ! command -v cc >/dev/null && ! command -v gcc >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null; \
	  else \
	    echo "No C compiler (cc or gcc) found; install one with: sudo apt-get install gcc libc6-dev"; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .mypy_cache .hypothesis build dist *.egg-info
