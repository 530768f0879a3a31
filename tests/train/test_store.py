from __future__ import annotations

import json
import logging
import multiprocessing
import pathlib
from typing import Any

import pytest

from graphpair.train._store import append_records, record_key


def _record(seed: int, writer: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "dataset": "karate",
        "predictor": "ncn",
        "seed": seed,
        "metric": "rocauc",
        "best": {"rocauc": {"epoch": 1, "valid": 0.5, "test": 0.5}},
        "config": {"writer": writer},
        "config_key": f"writer-{writer}",
        "payload": "x" * 5000,  # records larger than a pipe buffer, as real ones with curves
        **extra,
    }


def _append_many(path: str, writer: int, count: int, start: Any) -> None:
    start.wait(timeout=60)  # both writers go at once
    for seed in range(count):
        append_records(path, [_record(seed, 0)])  # the same run from both: stored once
        append_records(path, [_record(seed, writer)])


def test_two_processes_appending_lose_and_duplicate_nothing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "runs.jsonl"
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [
        context.Process(target=_append_many, args=(str(path), writer, 60, start))
        for writer in (1, 2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    lines = path.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line whole
    keys = [(r["config_key"], r["seed"]) for r in records]
    assert len(keys) == len(set(keys)) == 180
    assert set(keys) == {(f"writer-{w}", s) for w in (0, 1, 2) for s in range(60)}


def test_runs_already_stored_are_not_appended_again(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "runs.jsonl"
    assert append_records(path, [_record(0), _record(1)]) == 2
    with caplog.at_level(logging.WARNING):
        assert append_records(path, [_record(1), _record(2), _record(2)]) == 1
    assert "already in the results file" in caplog.text
    assert [json.loads(x)["seed"] for x in path.read_text().splitlines()] == [0, 1, 2]
    # Another fold, configuration or model is another run.
    assert append_records(path, [_record(0, fold=1), _record(0, writer=9)]) == 2
    assert record_key(_record(0)) != record_key({**_record(0), "predictor": "gae"})


def test_a_partial_last_line_is_cut_and_a_missing_newline_added(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "runs.jsonl"
    whole = json.dumps(_record(0))
    path.write_text(whole + "\n" + json.dumps(_record(1))[:100])  # killed mid-write
    with caplog.at_level(logging.WARNING):
        assert append_records(path, [_record(2)]) == 1
    assert "dropping a partial last line" in caplog.text
    assert [json.loads(x)["seed"] for x in path.read_text().splitlines()] == [0, 2]
    # A complete last record without its newline is kept.
    path.write_text(whole)
    assert append_records(path, [_record(3)]) == 1
    assert [json.loads(x)["seed"] for x in path.read_text().splitlines()] == [0, 3]


def test_non_finite_numbers_are_refused_before_writing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "runs.jsonl"
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        append_records(path, [_record(0, loss=float("nan"))])
    assert path.read_text() == ""
