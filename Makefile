# HackOps — every target doubles as documentation. `make help` lists them.
# A fresh clone needs only Python 3.11+ and make: the first `make run` / `make test` builds .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run test test-fast lint fmt typecheck db-upgrade db-downgrade db-revision db-current \
        worker demo bench bench-events bench-similarity bench-faults clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "HackOps needs Python 3.11+ (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: $(STAMP) ## Start everything on the embedded default (PostgreSQL, files, migrations, demo data, web + API + worker) → http://127.0.0.1:8000
	HACKOPS_ENV=$${HACKOPS_ENV:-dev} LOG_JSON=$${LOG_JSON:-false} $(BIN)/hackops serve --host $(HOST) --port $(PORT) --with-worker --demo

test: $(STAMP) ## Lint, type-check and run the whole test suite
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/mypy
	$(BIN)/pytest

test-fast: $(STAMP) ## Only the tests, without the slow ones (real worker, throwaway clusters, browser)
	$(BIN)/pytest -m "not slow and not browser"

lint: $(STAMP) ## ruff check + format check + mypy
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/mypy

fmt: $(STAMP) ## Format and autofix
	$(BIN)/ruff format src tests bench migrations
	$(BIN)/ruff check --fix src tests bench migrations

db-upgrade: $(STAMP) ## Apply migrations (DATABASE_URL, or the embedded database)
	HACKOPS_ENV=$${HACKOPS_ENV:-dev} $(BIN)/hackops db upgrade

db-downgrade: $(STAMP) ## Revert one migration
	HACKOPS_ENV=$${HACKOPS_ENV:-dev} $(BIN)/hackops db downgrade -- -1

db-current: $(STAMP) ## Show the database's revision
	HACKOPS_ENV=$${HACKOPS_ENV:-dev} $(BIN)/hackops db current

db-revision: $(STAMP) ## New migration from the models: make db-revision m="add teams"
	@test -n "$(m)" || (echo 'usage: make db-revision m="what it does"' && exit 2)
	HACKOPS_ENV=$${HACKOPS_ENV:-dev} $(BIN)/hackops db revision -m "$(m)"

worker: $(STAMP) ## Run a background job worker on its own
	HACKOPS_ENV=$${HACKOPS_ENV:-dev} LOG_JSON=$${LOG_JSON:-false} $(BIN)/hackops worker

demo: $(STAMP) ## Load the demo data (idempotent)
	HACKOPS_ENV=$${HACKOPS_ENV:-dev} $(BIN)/hackops demo

bench: $(STAMP) ## HTTP baseline benchmark (HackOps vs a bare raw-driver app) and the judging-quality simulation
	$(BIN)/python bench/http_baseline.py
	$(BIN)/python -m bench.judging_sim

bench-events: $(STAMP) ## Team finder latency and registrations/s at scale (bench/events_load.py)
	$(BIN)/python bench/events_load.py

bench-similarity: $(STAMP) ## Duplicate detection: recall/precision on a generated corpus with planted near-duplicates
	$(BIN)/python -m bench.similarity_eval

bench-faults: $(STAMP) ## Fault harness: PG/app/Redis killed under load, slow uploads, 500 MB bodies (QUICK=1: short)
	$(BIN)/python bench/faults.py $(if $(QUICK),--quick) $(SCENARIOS)

clean: ## Remove the virtualenv and caches (keeps .hackops/ data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache src/*.egg-info
