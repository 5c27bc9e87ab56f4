# Two entry points for a fresh machine: `make demo` (set up, then train on the embedded digits)
# and `make test` (set up, then run the test suite).
PYTHON ?= python3
VENV ?= .venv
# The CPU build of PyTorch; a plain `torch` requirement would pull a CUDA build of several GB.
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin

.PHONY: setup demo test lint
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

demo: setup
	$(BIN)/infogan train --preset mnist --epochs 20 --out runs/demo --overwrite

test: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
