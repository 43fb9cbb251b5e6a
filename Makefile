# cornerstore: `make run` serves the demo on SQLite, `make test` runs the whole suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
CS := $(VENV)/bin/cornerstore
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo web shop's write key, kept beside ./cornerstore.db (the server stores only a digest,
# so this file is the one place `make run` can show it again after a restart).
DEMO_KEY := .demo-web-shop.key
# Exit 0 when the key in the file named first is an active write key named demo-web-shop.
KEY_IS_ACTIVE := import json, sys, pathlib; f = pathlib.Path(sys.argv[1]); \
	key = f.read_text().strip() if f.exists() else ""; \
	active = [k["prefix"] for k in json.load(sys.stdin) \
	          if k["name"] == "demo-web-shop" and k["revoked_at"] is None]; \
	sys.exit(0 if key and any(key.startswith(p) for p in active) else 1)

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

# Running needs the runtime dependencies only; the tests add pyspark, ruff, mypy and more.
$(VENV)/.run-installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
	touch $@

$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(PIP) install --quiet -e '.[test,bench]'
	touch $@

run-install: $(VENV)/.run-installed ## Create .venv and install cornerstore with what running needs

install: $(VENV)/.installed ## Create .venv and install cornerstore with the test extras

bench-install: $(VENV)/.bench-installed ## Also install the peers the benchmarks measure (the bench extra)

run: run-install ## Create ./cornerstore.db with the demo business if missing, learn from it, serve the console and API on http://127.0.0.1:8000
	$(CS) demo --if-missing
	$(CS) learn
	@$(CS) keys list --json | $(PY) -c '$(KEY_IS_ACTIVE)' $(DEMO_KEY) || \
		(umask 077 && $(CS) keys create --name demo-web-shop --touchpoint web | tail -n 1 > $(DEMO_KEY))
	@echo
	@echo "Staff console: http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/docs)"
	@echo "Demo logins, one per role (local use only): demo-<role> / demo-<role>-password"
	@echo "  demo-owner / demo-owner-password      demo-support / demo-support-password"
	@echo "  demo-shipping / demo-shipping-password  demo-billing / demo-billing-password"
	@echo "  demo-marketing / demo-marketing-password  demo-analyst / demo-analyst-password"
	@echo "  demo-supervisor / demo-supervisor-password (approves remedies above support's limit)"
	@echo "Staff API token for this demo (role owner, valid one day):"
	@$(CS) tokens create --name make-run --role owner --expires 1d | tail -n 1
	@echo "Write key of the demo's web shop (kept in $(DEMO_KEY)):"
	@cat $(DEMO_KEY)
	@echo "Send it an event:"
	@echo "  curl -u '$$(cat $(DEMO_KEY)):' -H 'Content-Type: application/json' \\"
	@echo "    -d '{\"userId\": \"web-42\", \"event\": \"Order Completed\", \"properties\": {\"total\": 42.5}}' \\"
	@echo "    http://$(HOST):$(PORT)/v1/track"
	@echo
	$(CS) serve --host $(HOST) --port $(PORT)

test: install ## Run lint, the import contracts and the whole test suite (SQLite and PostgreSQL)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest

test-fast: install ## Run the tests on SQLite without the slow ones, for the inner loop
	$(VENV)/bin/pytest -q -m "not slow" -k "not postgresql"

lint: install ## ruff, mypy and the import contracts (lint-imports)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

fix: install ## Format and autofix
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

bench: bench-install ## Run every benchmark, print tables and write benchmarks/results/*.json
	$(PY) -m benchmarks.run

docs: install ## Check that the docs name every command, setting and route
	$(VENV)/bin/pytest tests/test_docs.py

.PHONY: help run-install install bench-install run test test-fast lint fix bench docs
