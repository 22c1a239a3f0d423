# Two commands do everything on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The strict editable install links every module into build/__editable__.jobpulse-*/, a tree
# shaped like the installed `jobpulse` package: mypy checks that tree as project code.
EDITABLE = $(firstword $(wildcard build/__editable__.jobpulse-*))

.PHONY: demo test lint relink bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip "setuptools>=77" wheel
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet -e ".[dev]" --config-settings editable_mode=strict
	touch $(STAMP)

# Strict editable installs link files, not folders: re-link so that new modules are importable.
relink: $(STAMP)
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet --no-deps --no-build-isolation -e . \
		--config-settings editable_mode=strict

demo: relink
	$(BIN)/jobpulse demo

lint: relink
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	MYPYPATH=$(EDITABLE) $(BIN)/mypy -p jobpulse -p bench -p tests

# The suite runs on every core: its loads spend most of their time waiting on loopback sandboxes.
test: lint
	$(BIN)/pytest -n auto

bench: relink
	$(BIN)/python -m bench.bench_backfill
	$(BIN)/python -m bench.bench_models

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache jobpulse.duckdb jobpulse_demo.duckdb
