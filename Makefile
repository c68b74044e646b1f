# Everything a developer or CI needs; the README names these targets.
#   make run     the whole system on embedded defaults (Temporal dev server, PostgreSQL, API, worker)
#   make test    the whole test suite against a real PostgreSQL and a real Temporal server
#   make bench   benchmarks (print figures; never part of the tests)
#   make lint    ruff (lint + format check) and mypy
#   make ui      the web apps (admin_ui/dist, customer_app/dist): npm ci when a lockfile changed, a build when a source did
#   make openapi the API's OpenAPI document into web_common/openapi.json and the apps' typed schema from it

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test bench lint format clean-data ui openapi browser

install: $(STAMP)

# The virtualenv is (re)built when the dependency pins change. Versions come from constraints.txt,
# so every machine runs what CI ran.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m devstack run

test: $(STAMP) ui browser
	cd admin_ui && npx vitest run --root ../web_common
	cd customer_app && npx vitest run
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Stops nothing: run it while `make run` is stopped to start again from an empty system.
clean-data:
	rm -rf .data

# --- the web apps (Node 20 + npm from the machine; nothing is fetched at run time) -------------
# admin_ui/ (the admin panel) and customer_app/ (the customer app), both built over web_common/.
UI := admin_ui
APP := customer_app
COMMON_SOURCES := $(shell find web_common -type f -not -name '*.test.ts' 2>/dev/null)
sources = $(shell find $(1)/src $(1)/public $(1)/scripts -type f 2>/dev/null) \
	$(1)/index.html $(1)/vite.config.ts $(1)/tsconfig.json $(1)/package.json $(COMMON_SOURCES)

ui: $(UI)/dist/index.html $(APP)/dist/index.html

# npm ci writes node_modules/.package-lock.json: newer than the lockfile until the lockfile changes.
%/node_modules/.package-lock.json: %/package-lock.json
	cd $* && npm ci --no-audit --no-fund
	@touch $@

$(UI)/dist/index.html: $(UI)/node_modules/.package-lock.json $(call sources,$(UI))
	cd $(UI) && npm run build
	@touch $@

$(APP)/dist/index.html: $(APP)/node_modules/.package-lock.json $(call sources,$(APP))
	cd $(APP) && npm run build
	@touch $@

openapi: $(STAMP) $(UI)/node_modules/.package-lock.json
	$(PY) -m api.openapi_document web_common/openapi.json
	cd $(UI) && npm run gen:api

# The browser tests drive Debian's chromium (never a downloaded one): installed here when it is
# missing and we are root (CI is); otherwise those tests skip, loudly (and fail when CI is set).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get install -y -qq chromium || { apt-get update -qq && apt-get install -y -qq chromium; }; \
	  else echo "make: no chromium and not root: the web apps' browser tests will skip"; fi; }
