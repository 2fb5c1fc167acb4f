# Two commands on a fresh machine with Python 3.11 and pip: `make demo`, `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.metricflow-installed

.PHONY: demo test test-slow test-exhaustive bench lint clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/metricflow demo

test: $(STAMP)
	$(PY) -m pytest

test-slow: $(STAMP)
	$(PY) -m pytest -m "slow and not exhaustive"

test-exhaustive: $(STAMP)
	$(PY) -m pytest -m exhaustive

bench: $(STAMP)
	@for b in benchmarks/*.py; do \
	  case $$(basename $$b) in _*|peers_compare.py) continue;; esac; \
	  echo "== $$b"; $(PY) $$b || exit 1; done   # peers: python benchmarks/peers_compare.py

lint: $(STAMP)
	$(VENV)/bin/ruff check metricflow tests benchmarks

clean:
	rm -rf $(VENV) metricflow-out .pytest_cache .hypothesis
