# Everything a developer or CI needs; the README names these targets.
#   make run     the whole system on embedded defaults (Temporal dev server, PostgreSQL, API, worker);
#                WORKERS=2 starts two worker processes
#   make test    the whole test suite against a real PostgreSQL and a real Temporal server
#   make bench   benchmarks (print figures; never part of the tests)
#   make chaos   the stack under seeded faults for ten minutes, then its checks (docs/chaos.md);
#                CHAOS_ARGS="--seed 7 --minutes 20"; `python -m chaos --short` runs in make test
#   make lint    ruff (lint + format check) and mypy
#   make ui      the web apps (admin_ui/dist, customer_app/dist) as make run builds them: npm ci when
#                a lockfile changed, a build when a source did (python -m devstack apps)
#   make openapi the API's OpenAPI document into web_common/openapi.json and the apps' typed schema from it

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
WORKERS ?= 1
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test bench chaos lint format clean-data ui openapi browser nginx

install: $(STAMP)

# The virtualenv is (re)built when the dependency pins change. Versions come from constraints.txt,
# so every machine runs what CI ran.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m devstack run --workers $(WORKERS)

test: $(STAMP) ui browser nginx
	cd admin_ui && npx vitest run --root ../web_common
	cd customer_app && npx vitest run
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m bench

chaos: $(STAMP)
	$(PY) -m chaos $(CHAOS_ARGS)

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
# The same decisions as `make run` (devstack/web_apps.py: npm ci when a lockfile's content
# changed, a build when a source's did), so neither redoes what the other did.
ui: $(STAMP)
	$(PY) -m devstack apps

# Needs the admin panel's packages (openapi-typescript), not a build: a build of a client behind the
# API is what this repairs.
openapi: $(STAMP)
	$(PY) -m api.openapi_document web_common/openapi.json
	cd admin_ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run gen:api

# The browser tests drive Debian's chromium (never a downloaded one): installed here when it is
# missing and we are root (CI is); otherwise those tests skip, loudly (and fail when CI is set).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get install -y -qq chromium || { apt-get update -qq && apt-get install -y -qq chromium; }; \
	  else echo "make: no chromium and not root: the web apps' browser tests will skip"; fi; }

# The proxy's tests run Debian's nginx on admin_ui/nginx.conf (`nginx -t`, then serving TLS, gzip and
# a live stream); installed like chromium, else those two tests skip (and fail when CI is set).
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get install -y -qq nginx-light || { apt-get update -qq && apt-get install -y -qq nginx-light; }; \
	  else echo "make: no nginx and not root: the proxy's nginx tests will skip"; fi; }
