# The two entry points of the README. Both set up .venv first (idempotent) and re-run cleanly.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test docs lint bench report gpu-check

demo:
	bash scripts/setup.sh
	$(PY) -m graphpair link

test:
	bash scripts/setup.sh test,docs,scatter
	$(PY) -m ruff check graphpair tests benchmarks docs/conf.py docs/_ext docs/tutorials
	$(PY) -m ruff format --check graphpair tests benchmarks docs/conf.py docs/_ext docs/tutorials
	$(PY) -m mypy
	$(MAKE) docs
	$(PY) -m pytest

# The documentation site (docs/README.md): warnings are errors, every reference is checked.
docs:
	bash scripts/setup.sh test,docs,scatter
	$(PY) -m sphinx -W -n --keep-going -q -b html docs docs/_build/html

bench:
	bash scripts/setup.sh test,scatter
	$(PY) benchmarks/run.py

# The leaderboard of the recorded benchmark runs (issue 8): benchmarks/results/report/.
report:
	bash scripts/setup.sh test,scatter
	$(PY) -m graphpair report benchmarks/results/link_accuracy/*.jsonl \
		benchmarks/results/grit_short/*.jsonl --output-dir benchmarks/results/report \
		--title "graphpair benchmark runs (from benchmarks/results/*/*.jsonl)"

# The prepared GPU check of issue 23 (benchmarks/gpu_check.sh): its own CUDA venv, the sweep,
# the cuda tests, torch.compile on CUDA and the benchmarks -> benchmarks/results/gpu.md.
gpu-check:
	bash benchmarks/gpu_check.sh
