# segmint: `make demo` and `make test` work on a fresh machine (they create the venv).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
DEMO_DIR ?= demo-project
PYTEST_ARGS ?=

.PHONY: setup demo test test-slow test-spark test-all lint typecheck bench bench-clv clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Build the demo project (50,000 customers), load it through ingest, print where to look.
demo: setup
	$(VENV)/bin/segmint demo $(DEMO_DIR)

## The default suite (no slow or Spark tests): what the README and CI run.
test: setup
	$(PY) -m pytest -q -n 2 -m "not slow and not spark" $(PYTEST_ARGS)

## Slow tests (large data); CI runs them after `make test`.
test-slow: setup
	$(PY) -m pytest -q -m "slow" $(PYTEST_ARGS) || [ $$? -eq 5 ]

SPARK_STAMP := $(VENV)/.installed-spark
$(SPARK_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	touch $(SPARK_STAMP)

## Spark parity tests: one local Spark for the whole run (Java 17+); never with -n.
test-spark: $(SPARK_STAMP)
	$(PY) -m pytest -q -m spark $(PYTEST_ARGS)

test-all: test test-slow test-spark

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: setup
	$(VENV)/bin/mypy

bench: setup
	$(PY) benchmarks/generate.py
	$(PY) benchmarks/ingest.py
	$(PY) benchmarks/segments.py
	$(PY) benchmarks/activation.py
	$(PY) benchmarks/api.py

## CLV fits vs lifetimes and PyMC-Marketing; those live in their own venv, never in .venv.
benchmarks/.venv-clv/bin/python:
	python3.11 -m venv benchmarks/.venv-clv
	benchmarks/.venv-clv/bin/pip install --quiet lifetimes pymc-marketing "setuptools<81" pyarrow

bench-clv: setup benchmarks/.venv-clv/bin/python
	$(PY) benchmarks/clv.py --customers 1000000

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
