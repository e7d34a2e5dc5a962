# The two commands of the README. Each sets up what it needs (a virtualenv in .venv) first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(PY) -m pipeline ingest raw/

test: $(VENV)/.installed
	$(PY) -m ruff check pipeline tests bench
	$(PY) -m pytest

clean:
	rm -rf clean .clean.* $(VENV)
