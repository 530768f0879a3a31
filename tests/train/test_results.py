from __future__ import annotations

import numpy as np
import pytest

from graphpair.train import (
    EarlyStopping,
    EpochRecord,
    LinkResult,
    RunResult,
    Selection,
    link_config,
    select_best,
)


def _records(valid: list[dict[str, float]], test: list[dict[str, float]]) -> list[EpochRecord]:
    pairs = enumerate(zip(valid, test, strict=True), 1)
    return [EpochRecord(e, 0.0, v, t, 0.1, 0.0) for e, (v, t) in pairs]


def test_each_metric_selects_its_own_epoch_on_validation() -> None:
    valid = [
        {"hits@20": 0.10, "hits@50": 0.30},
        {"hits@20": 0.40, "hits@50": 0.20},
        {"hits@20": 0.40, "hits@50": 0.50},  # hits@20 ties epoch 2: the earlier epoch stays
        {"hits@20": 0.35, "hits@50": 0.45},
    ]
    test = [
        {"hits@20": 0.9, "hits@50": 0.9},
        {"hits@20": 0.2, "hits@50": 0.8},
        {"hits@20": 0.7, "hits@50": 0.6},
        {"hits@20": 0.99, "hits@50": 0.99},  # best test, never selected
    ]
    best = select_best(_records(valid, test), ["hits@20", "hits@50"])
    assert best["hits@20"] == Selection(epoch=2, valid=0.40, test=0.2)
    assert best["hits@50"] == Selection(epoch=3, valid=0.50, test=0.6)


def test_first_epoch_initialises_even_at_zero() -> None:
    recs = _records([{"m": 0.0}, {"m": 0.0}], [{"m": 0.3}, {"m": 0.8}])
    assert select_best(recs, ["m"])["m"] == Selection(1, 0.0, 0.3)


def test_select_best_needs_records() -> None:
    with pytest.raises(ValueError, match="at least one evaluated epoch"):
        select_best([], ["m"])


def _result(tests: list[float]) -> LinkResult:
    cfg = link_config("karate", metrics=("rocauc",), metric="rocauc")
    runs = tuple(
        RunResult(
            seed=i,
            best={"rocauc": Selection(1, 0.5 + i / 10, t)},
            history=tuple(_records([{"rocauc": 0.5}], [{"rocauc": t}])),
            num_parameters=7,
            seconds=1.0,
        )
        for i, t in enumerate(tests)
    )
    return LinkResult(cfg, runs, seconds=2.0)


def test_summary_is_mean_and_population_std_times_100() -> None:
    s = _result([0.8, 0.9]).summary()
    assert s.test_mean == pytest.approx(85.0)
    assert s.test_std == pytest.approx(5.0)  # ddof = 0; ddof = 1 would give 7.07
    assert s.valid_mean == pytest.approx(55.0)
    values = [0.81, 0.9, 0.77]
    s = _result(values).summary("rocauc")
    assert s.test_std == pytest.approx(np.std(np.array(values) * 100))
    with pytest.raises(ValueError, match="metric must be one of"):
        _result(values).summary("hits@20")


def test_records_are_one_per_run() -> None:
    records = _result([0.8, 0.9]).to_records()
    assert [r["seed"] for r in records] == [0, 1]
    assert records[1]["best"]["rocauc"] == {"epoch": 1, "valid": 0.6, "test": 0.9}
    assert records[0]["config"]["dataset"] == "karate"


def test_early_stopping_counts_evaluations_without_strict_improvement() -> None:
    stop = EarlyStopping(2, higher_is_better=False)  # an error metric: lower is better
    assert [stop.update(v) for v in (0.9, 0.5, 0.5, 0.4, 0.6, float("nan"))] == [
        False,
        False,
        False,  # a tie is no improvement (1 stale)
        False,  # improved: reset
        False,
        True,  # NaN never improves: the second stale evaluation stops
    ]
    never = EarlyStopping(None)
    assert not any(never.update(0.1) for _ in range(100))
    first_nan = EarlyStopping(1)
    assert first_nan.update(float("nan"))  # nothing finite yet: stale
    for bad in (0, -1, True):
        with pytest.raises(ValueError, match="patience must be >= 1 or None"):
            EarlyStopping(bad)
