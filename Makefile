# Everything a developer or CI needs; the README names these targets.
#   make run     the whole system on embedded defaults (Temporal dev server, PostgreSQL, API, worker)
#   make test    the whole test suite against a real PostgreSQL and a real Temporal server
#   make bench   benchmarks (print figures; never part of the tests)
#   make lint    ruff (lint + format check) and mypy

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test bench lint format clean-data

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

test: $(STAMP)
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
