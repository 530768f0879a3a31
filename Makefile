# The two entry points of the README. Both set up .venv first (idempotent) and re-run cleanly.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench

demo:
	bash scripts/setup.sh
	$(PY) -m graphpair link

test:
	bash scripts/setup.sh test,scatter
	$(PY) -m ruff check graphpair tests benchmarks
	$(PY) -m ruff format --check graphpair tests benchmarks
	$(PY) -m mypy
	$(PY) -m pytest

bench:
	bash scripts/setup.sh test,scatter
	$(PY) benchmarks/run.py
