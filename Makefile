# IronClaw: `make dev` runs the fleet on this machine, `make test` runs the test suite.
# Needs only Python 3.11+, git and make: uv is installed into .ironclaw/tools on first use.

SHELL := /bin/bash
export IRONCLAW_HOME ?= $(CURDIR)/.ironclaw
UV := $(shell command -v uv 2>/dev/null || echo $(IRONCLAW_HOME)/tools/bin/uv)
SOURCES := contracts/src $(wildcard *-service/src) api-gateway/src

.PHONY: dev test lint format typecheck bench up sync help

help:
	@echo "make dev    run the fleet locally (SQLite ledger, gateway on http://127.0.0.1:8000)"
	@echo "make test   run the test suite (set IRONCLAW_TEST_DATABASE_URL / _REDIS_URL for the full run)"
	@echo "make lint   ruff + mypy"
	@echo "make bench  run the benchmarks in bench/"
	@echo "make up     docker compose up (Postgres, Redis, every service)"

$(IRONCLAW_HOME)/tools/bin/uv:
	@echo "installing uv into $(IRONCLAW_HOME)/tools (first run only)"
	python3 -m venv $(IRONCLAW_HOME)/tools
	$(IRONCLAW_HOME)/tools/bin/pip install --quiet uv

sync: $(UV)
	$(UV) sync --locked

# The embedded broker: Celery messages as files under $IRONCLAW_HOME/broker, no server needed.
dev: export IRONCLAW_BROKER_URL ?= filesystem://$(IRONCLAW_HOME)/broker
dev: sync
	@mkdir -p $(IRONCLAW_HOME)
	$(UV) run ironclaw-ledger migrate
	$(UV) run honcho --procfile Procfile.dev start

test: sync
	$(UV) run pytest

lint: sync
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy $(SOURCES) bench

format: sync
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

bench: sync
	$(UV) run python bench/ledger_append.py
	$(UV) run python bench/e2e_overhead.py
	$(UV) run python bench/patrol_scale.py

up:
	docker compose up --build
