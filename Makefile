# cornerstore: `make run` serves the demo on SQLite, `make test` runs the whole suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
CS := $(VENV)/bin/cornerstore
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
	touch $@

$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(PIP) install --quiet -e '.[test,bench]'
	touch $@

install: $(VENV)/.installed ## Create .venv and install cornerstore with the test extras

bench-install: $(VENV)/.bench-installed ## Also install the peers the benchmarks measure (the bench extra)

run: install ## Create ./cornerstore.db with the demo business if missing, learn from it, serve on http://127.0.0.1:8000
	$(CS) demo --if-missing
	$(CS) learn
	@echo "Staff API token for this demo (valid one day):"
	@$(CS) tokens create --name make-run --role owner --expires 1d | tail -n 1
	$(CS) serve --host $(HOST) --port $(PORT)

test: install ## Run lint and the whole test suite (SQLite and PostgreSQL)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

lint: install ## ruff and mypy
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

fix: install ## Format and autofix
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

bench: bench-install ## Run every benchmark, print tables and write benchmarks/results/*.json
	$(PY) -m benchmarks.run

docs: install ## Check that the docs name every command, setting and route
	$(VENV)/bin/pytest tests/test_docs.py

.PHONY: help install bench-install run test lint fix bench docs
