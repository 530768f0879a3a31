"""The machine block of every benchmark report (``benchmarks/_common.py``), and what
importing the benchmarks leaves in the environment their child processes inherit."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest

import benchmarks._common as common


def test_machine_block_gives_the_load_at_the_start_and_when_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = datetime.datetime(2026, 12, 7, 22, 28, tzinfo=datetime.timezone.utc)
    monkeypatch.setattr(common, "_START", (started, (0.11, 0.22, 0.33)))
    monkeypatch.setattr(common.os, "getloadavg", lambda: (1.91, 1.52, 1.03))
    block = common.machine_info()
    assert "- date: 2026-12-07 22:28 UTC (the start)" in block
    assert "at the start: 0.11, 0.22, 0.33 (should be near 0: idle machine)" in block
    assert "when written: 1.91, 1.52, 1.03" in block


def test_mark_start_gives_each_benchmark_of_one_process_its_own_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(common, "_START", common._START)  # restored afterwards
    loads = iter([(0.5, 0.4, 0.3), (1.75, 1.5, 1.25)])
    monkeypatch.setattr(common.os, "getloadavg", lambda: next(loads))
    common.mark_start()
    assert common._START[1] == (0.5, 0.4, 0.3)
    assert "at the start: 0.50, 0.40, 0.30" in common.machine_info()


def test_importing_the_benchmarks_leaves_the_environment_alone() -> None:
    """``run.py`` imports every benchmark in one process, and their children inherit its
    environment: ``bench_grit`` once set ``OMP_WAIT_POLICY=PASSIVE`` on import, which made
    ``link_repeats``' Cora NCN epoch 241 ms instead of 136 ms."""
    code = (
        "import json, os; before = dict(os.environ); "
        "import benchmarks.run; "
        "after = dict(os.environ); "
        "print(json.dumps({k: [before.get(k), after.get(k)] for k in before.keys() | after.keys() "
        "if before.get(k) != after.get(k)}))"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {}
