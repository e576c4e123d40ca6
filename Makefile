# PortSign — two commands matter: `make run` and `make test` (see README.md).
# Both install what is missing on a fresh Debian machine (as root) and are safe to repeat.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PORTSIGN_DATA_DIR ?= $(CURDIR)/data
export PORTSIGN_PORT ?= 8000
export PORTSIGN_PUBLIC_URL ?= http://127.0.0.1:$(PORTSIGN_PORT)

# softhsm2: the embedded default's E-Port card tokens (a vendor's UKey module in production).
RUN_DEBS := fonts-noto-cjk fonts-arphic-ukai gettext libreoffice-writer-nogui softhsm2
TEST_DEBS := $(RUN_DEBS) chromium postgresql poppler-utils libnss3-tools openssl mupdf-tools

.PHONY: run test test-sqlite test-postgres lint typecheck deps deps-run debs-run debs-test assets messages bench clean

run: debs-run deps-run assets messages
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py pki init
	$(BIN)/python manage.py demo
	$(BIN)/python manage.py cleanup
	@# Embedded mode has no scheduler: webhook retries every 10 s and the hourly cleanup
	@# (expiry, reminders) run beside the server and stop with it.
	$(BIN)/python manage.py webhooks deliver --every 10 & \
	(while sleep 3600; do $(BIN)/python manage.py cleanup; done) & \
	trap 'kill $$(jobs -p) 2>/dev/null' EXIT; \
	$(BIN)/gunicorn portsign.wsgi --bind 127.0.0.1:$(PORTSIGN_PORT) --workers 2 --threads 4 \
		--access-logfile - --graceful-timeout 5

test: debs-test deps assets messages lint typecheck test-sqlite test-postgres

test-sqlite:
	PORTSIGN_DATA_DIR=$$(mktemp -d) $(BIN)/pytest -p no:cacheprovider -n 2

# The browser tests run once, on SQLite: they drive the same views the API tests reach on
# PostgreSQL, and running them twice pushed the whole of `make test` to 15 minutes.
test-postgres:
	scripts/with-postgres.sh env PORTSIGN_DATA_DIR=$$(mktemp -d) $(BIN)/pytest -p no:cacheprovider -n 2 -m "not e2e"

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	PORTSIGN_DATA_DIR=$$(mktemp -d) $(BIN)/mypy

debs-run:
	@scripts/ensure-debs.sh $(RUN_DEBS)

debs-test:
	@scripts/ensure-debs.sh $(TEST_DEBS)

# `make run` installs only what running needs (a newcomer sees the product in well under two
# minutes); the test tools (`.[dev]`: pytest, Playwright, schemathesis, mypy…) come with `make test`.
deps-run: $(VENV)/.installed-run
deps: $(VENV)/.installed

$(VENV)/.installed-run: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed: $(VENV)/.installed-run
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

assets: src/portsign/static/vendor/htmx.min.js

# Front-end packages from npm (never committed): htmx, and uPlot for the usage chart.
src/portsign/static/vendor/htmx.min.js: package.json
	npm install --no-audit --no-fund --loglevel=error
	mkdir -p src/portsign/static/vendor
	cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css src/portsign/static/vendor/
	cp node_modules/htmx.org/dist/htmx.min.js $@

messages:
	cd src/portsign && ../../$(BIN)/django-admin compilemessages --ignore=.venv -v 0

bench: deps
	PORTSIGN_DATA_DIR=$$(mktemp -d) $(BIN)/python bench/sign.py
	$(BIN)/python bench/flow.py
	scripts/with-postgres.sh $(BIN)/python bench/flow.py

clean:
	rm -rf $(VENV) node_modules src/portsign/static/vendor
