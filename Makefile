# The two entry points of the README. Both set up .venv first (idempotent) and re-run cleanly.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench report

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

# The leaderboard of the recorded benchmark runs (issue 8): benchmarks/results/report/.
report:
	bash scripts/setup.sh test,scatter
	$(PY) -m graphpair report benchmarks/results/link_accuracy/*.jsonl \
		benchmarks/results/grit_short/*.jsonl --output-dir benchmarks/results/report \
		--title "graphpair benchmark runs (from benchmarks/results/*/*.jsonl)"
