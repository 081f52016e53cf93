# Every target creates .venv and installs the project into it when needed, so on a
# fresh machine each one is the only command a newcomer types.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

NODES ?= 100
PODS ?= 1000

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kubeactors run --nodes $(NODES) --pods $(PODS)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check kubeactors tests benchmarks
	$(BIN)/ruff format --check kubeactors tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	mkdir -p benchmarks/results
	$(BIN)/python -m benchmarks --output benchmarks/results/latest.jsonl

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
