# HackOps — every target doubles as documentation. `make help` lists them.
# A fresh clone needs only Python 3.11+ and make: the first `make run` / `make test` builds .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv
HOST   ?= 127.0.0.1
PORT   ?= 8000

# Installs come from uv.lock (every package, runtime and dev, pinned with its hashes): a fresh
# clone installs exactly what CI tested. `make run` installs the runtime set only; `make test`
# the runtime and dev sets. uv itself is installed hash-checked from requirements-bootstrap.txt
# into .tools/ (outside .venv, so syncing .venv never removes it). uv never downloads a Python:
# .venv is made from $(PYTHON).
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Test processes (pytest-xdist): each makes its own migrated database and live server.
PYTEST_WORKERS ?= auto
# The tests write Python's bytecode caches (__pycache__/, ignored by git; in .venv) even where
# PYTHONDONTWRITEBYTECODE is set: a run starts ~40 Python processes (the test processes, the CLI,
# workers and servers the tests start), and without the caches each one compiles every module
# it imports from source again (~5 s of CPU for the app and its libraries).
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.DEFAULT_GOAL := help
.PHONY: help run test test-fast lint lock lock-check fmt typecheck db-upgrade db-downgrade \
        db-revision db-current worker demo bench bench-events bench-similarity bench-faults clean \
        bench-webhooks

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(UV): requirements-bootstrap.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "HackOps needs Python 3.11+ (found %s)" % sys.version.split()[0])'
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --require-hashes -r requirements-bootstrap.txt
	@touch $(UV)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# The runtime set only (inexact: a .venv that also has the dev set keeps it).
$(RUN_STAMP): pyproject.toml uv.lock $(UV) | $(VENV)/bin/python
	$(UV) sync --frozen --inexact --no-dev --quiet
	@touch $(RUN_STAMP)

# Runtime + dev, exactly what the lock says (packages not in it are removed).
$(DEV_STAMP): pyproject.toml uv.lock $(UV) | $(VENV)/bin/python
	$(UV) sync --frozen --extra dev --quiet
	@touch $(DEV_STAMP) $(RUN_STAMP)

run: $(RUN_STAMP) ## Start everything on the embedded default (PostgreSQL, files, migrations, demo data, web + API + worker) → http://127.0.0.1:8000
	HACKOPS_ENV=$${HACKOPS_ENV:-dev} LOG_JSON=$${LOG_JSON:-false} $(BIN)/hackops serve --host $(HOST) --port $(PORT) --with-worker --demo

test: $(DEV_STAMP) lock-check ## Lock check, lint, type-check and run the whole test suite
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(PYTEST) -n $(PYTEST_WORKERS) --durations=40

test-fast: $(DEV_STAMP) ## Only the tests, without the slow ones (real worker, throwaway clusters, browser)
	$(PYTEST) -n $(PYTEST_WORKERS) -m "not slow and not browser"

lint: $(DEV_STAMP) lock-check ## Lock check + ruff check + format check + mypy + import contracts
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

lock-check: $(UV) ## Fail when uv.lock and pyproject.toml disagree
	@$(UV) lock --check --quiet || (echo "uv.lock does not match pyproject.toml: run 'make lock'" && exit 1)

lock: $(UV) ## Re-resolve uv.lock after changing dependencies in pyproject.toml
	$(UV) lock

fmt: $(DEV_STAMP) ## Format and autofix
	$(BIN)/ruff format src tests bench migrations
	$(BIN)/ruff check --fix src tests bench migrations

db-upgrade: $(RUN_STAMP) ## Apply migrations (DATABASE_URL, or the embedded database)
	HACKOPS_ENV=$${HACKOPS_ENV:-dev} $(BIN)/hackops db upgrade

db-downgrade: $(RUN_STAMP) ## Revert one migration
	HACKOPS_ENV=$${HACKOPS_ENV:-dev} $(BIN)/hackops db downgrade -- -1

db-current: $(RUN_STAMP) ## Show the database's revision
	HACKOPS_ENV=$${HACKOPS_ENV:-dev} $(BIN)/hackops db current

db-revision: $(RUN_STAMP) ## New migration from the models: make db-revision m="add teams"
	@test -n "$(m)" || (echo 'usage: make db-revision m="what it does"' && exit 2)
	HACKOPS_ENV=$${HACKOPS_ENV:-dev} $(BIN)/hackops db revision -m "$(m)"

worker: $(RUN_STAMP) ## Run a background job worker on its own
	HACKOPS_ENV=$${HACKOPS_ENV:-dev} LOG_JSON=$${LOG_JSON:-false} $(BIN)/hackops worker

demo: $(RUN_STAMP) ## Load the demo data (idempotent)
	HACKOPS_ENV=$${HACKOPS_ENV:-dev} $(BIN)/hackops demo

bench: $(DEV_STAMP) ## HTTP baseline benchmark (HackOps vs a bare raw-driver app) and the judging-quality simulation
	$(BIN)/python bench/http_baseline.py
	$(BIN)/python -m bench.judging_sim

.PHONY: bench-perf
bench-perf: $(DEV_STAMP) ## Issue 15's table in one run: every fast-path row vs same-run baselines, pass/fail (QUICK=1: smoke run; ROWS=me,gallery)
	$(BIN)/python bench/perf.py $(if $(QUICK),--quick) $(if $(ROWS),--rows $(ROWS))

bench-events: $(DEV_STAMP) ## Team finder latency and registrations/s at scale (bench/events_load.py)
	$(BIN)/python bench/events_load.py

bench-similarity: $(DEV_STAMP) ## Duplicate detection: recall/precision on a generated corpus with planted near-duplicates
	$(BIN)/python -m bench.similarity_eval

bench-faults: $(DEV_STAMP) ## Fault harness: PG/app/Redis killed under load, slow uploads, 500 MB bodies (QUICK=1: short)
	$(BIN)/python bench/faults.py $(if $(QUICK),--quick) $(SCENARIOS)

.PHONY: bench-exports
bench-exports: $(DEV_STAMP) ## Every export of a 50- and a 5,000-registration event: the server's peak RSS growth per download (memory flat)
	$(BIN)/python bench/exports.py

.PHONY: bench-announce
bench-announce: $(DEV_STAMP) ## An announcement to 5,000 people: send → every notification visible, every mail queued (IN_PROCESS=1: no worker)
	$(BIN)/python bench/announce.py $(if $(IN_PROCESS),--in-process)

bench-webhooks: $(DEV_STAMP) ## Webhook deliveries per second to a local receiver that verifies every signature (bench/webhooks.py)
	$(BIN)/python bench/webhooks.py

.PHONY: bench-bus
bench-bus: $(DEV_STAMP) ## RabbitMQ event bus: outbox → broker lag p50/p95 under a steady 200 events/s (local RabbitMQ)
	$(BIN)/python bench/bus.py

clean: ## Remove the virtualenv and caches (keeps .hackops/ data)
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache src/*.egg-info

.PHONY: bench-dashboard
bench-dashboard: $(DEV_STAMP) ## The event dashboard of 5,000 registrations, 1,200 teams, 900 projects, 40 judges over HTTP: median and p95 (target p95 < 300 ms), /health alongside
	$(BIN)/python bench/dashboard.py $(if $(REQUESTS),--requests $(REQUESTS))
