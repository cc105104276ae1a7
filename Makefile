# circuitgrad: `make demo` and `make test` set everything up themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: demo test bench lint venv dot clean

demo: $(STAMP) dot
	$(VENV)/bin/circuitgrad train

test: $(STAMP) dot
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) tests/bench/demo_step.py
	$(PY) tests/bench/nodes.py
	$(PY) tests/bench/gpt_step.py

lint: $(STAMP)
	$(VENV)/bin/ruff check engine nn tests
	$(VENV)/bin/ruff format --check engine nn tests

# A virtual environment with the package (editable) and its test and bench tools.
$(STAMP): pyproject.toml
	@if [ ! -x $(PY) ]; then \
	  if ! $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	    else \
	      echo "Python's venv module is missing; install it with: sudo apt-get install python3-venv"; exit 1; \
	    fi; \
	  fi; \
	  $(PYTHON) -m venv $(VENV); \
	fi
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $(STAMP)

# The Graphviz `dot` binary renders graph diagrams.
dot:
	@if ! command -v dot >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else \
	    echo "Graphviz's dot is missing (diagrams will not render); install it with: sudo apt-get install graphviz"; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis
