# MMOS: `make run` starts the embedded stack, `make test` runs the whole test suite.
# The logic lives in scripts/embedded.py; this file only names the entry points.

# Python 3.11 is required; prefer an explicit python3.11 when there is one.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test lint install help

help:
	@echo "make run      install what is missing, migrate, start the embedded stack (Ctrl-C stops it)"
	@echo "make test     install what is missing, run the whole test suite"
	@echo "make lint     ruff check and format check"
	@echo "make install  only install dependencies (skipped when nothing changed)"

run: $(PY)
	$(PY) scripts/embedded.py run

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

install: $(PY)
	$(PY) scripts/embedded.py install

$(PY):
	$(PYTHON) -m venv $(VENV)
