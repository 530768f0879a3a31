"""The results of graph-level runs: model selection, one run, the runs of a configuration."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphpair.train._graph_config import GraphConfig
from graphpair.train._graph_task import GraphTask
from graphpair.train._results import (
    EpochRecord,
    Selection,
    epoch_from_state,
    epoch_to_state,
    single_metric_record,
    table_scale,
)

__all__ = ["GraphResult", "GraphRun", "GraphSummary", "select_graph_best"]


def select_graph_best(
    records: Sequence[EpochRecord], metric: str, higher_is_better: bool
) -> Selection:
    """Model selection: the epoch with the strictly best validation ``metric`` (ties keep the
    earlier epoch; the first evaluation initialises); without validation values (a split
    without a validation set), the last evaluated epoch with ``valid = NaN``.

    Args:
        records: The evaluated epochs of one run, in order.
        metric: The metric to select on.
        higher_is_better: Its direction.

    Raises:
        ValueError: ``records`` is empty.

    Example:
        >>> from graphpair.train import EpochRecord
        >>> records = [EpochRecord(e, 0.0, {"mae": v}, {"mae": t}, 0.0, 0.0)
        ...            for e, (v, t) in enumerate([(0.5, 0.6), (0.3, 0.4), (0.3, 0.2)], 1)]
        >>> select_graph_best(records, "mae", higher_is_better=False)  # the tie keeps epoch 2
        Selection(epoch=2, valid=0.3, test=0.4)
    """
    if not records:
        raise ValueError("records must hold at least one evaluated epoch; got none")
    if metric not in records[0].valid:
        last = records[-1]
        return Selection(last.epoch, math.nan, last.test[metric])
    best: Selection | None = None
    for record in records:
        value = record.valid[metric]
        better = best is None or (value > best.valid if higher_is_better else value < best.valid)
        if better:
            best = Selection(record.epoch, value, record.test[metric])
    assert best is not None
    return best


@dataclass(frozen=True)
class GraphRun:
    """One run: one seed on one fold.

    Attributes:
        seed: the run's seed (initialisation, shuffling, dropout).
        fold: the fold index, or ``None`` for a dataset with one fixed split.
        best: the selected epoch and its validation and test values.
        history: every evaluated epoch (``valid`` / ``test`` hold the metric and ``'loss'``).
        num_parameters: trainable parameters of the model.
        seconds: wall time of the run (model building, training and evaluation).
        epoch_seconds: training time of every epoch, evaluated or not.

    Example:
        >>> from graphpair.train import EpochRecord
        >>> record = EpochRecord(1, 0.7, {"acc": 0.5}, {"acc": 0.4}, 0.2, 0.1)
        >>> run = GraphRun(0, None, Selection(1, 0.5, 0.4), (record,), 1000, 0.5, (0.2,))
        >>> run.seconds_per_epoch
        0.2
        >>> GraphRun.from_state(run.to_state()) == run
        True
    """

    seed: int
    fold: int | None
    best: Selection
    history: tuple[EpochRecord, ...]
    num_parameters: int
    seconds: float
    epoch_seconds: tuple[float, ...]

    @property
    def seconds_per_epoch(self) -> float:
        """Mean training time of an epoch (evaluation excluded)."""
        return float(np.mean(self.epoch_seconds))

    def to_state(self) -> dict[str, Any]:
        """Plain Python values (for checkpoints); :meth:`from_state` inverts it exactly."""
        return {
            "seed": self.seed,
            "fold": self.fold,
            "best": dataclasses.asdict(self.best),
            "history": [epoch_to_state(r) for r in self.history],
            "num_parameters": self.num_parameters,
            "seconds": self.seconds,
            "epoch_seconds": list(self.epoch_seconds),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> GraphRun:
        """The :class:`GraphRun` that :meth:`to_state` described."""
        return cls(
            seed=int(state["seed"]),
            fold=None if state["fold"] is None else int(state["fold"]),
            best=Selection(**state["best"]),
            history=tuple(epoch_from_state(r) for r in state["history"]),
            num_parameters=int(state["num_parameters"]),
            seconds=float(state["seconds"]),
            epoch_seconds=tuple(float(s) for s in state["epoch_seconds"]),
        )


@dataclass(frozen=True)
class GraphSummary:
    """Mean ± population standard deviation (ddof = 0) over every run, on the scale of every
    table the package prints: scores such as accuracy and ROC-AUC x100 (percent, as the OGB
    leaderboards), errors such as MAE as they are. ``valid_*`` are NaN for a split without a
    validation set.

    Attributes:
        metric: the metric summarised.
        higher_is_better: its direction (scores are x100, errors are not).
        valid_mean, valid_std: over the runs' selected validation values.
        test_mean, test_std: over the runs' test values at those epochs.
        runs: number of runs (folds x seeds).

    Example:
        >>> summary = GraphSummary("acc", True, 90.0, 1.0, 88.0, 2.0, runs=10)
        >>> f"{summary.test_mean:.1f} ± {summary.test_std:.1f}"
        '88.0 ± 2.0'
    """

    metric: str
    higher_is_better: bool
    valid_mean: float
    valid_std: float
    test_mean: float
    test_std: float
    runs: int


@dataclass(frozen=True)
class GraphResult:
    """All runs of one configuration.

    Attributes:
        config: the configuration that produced it.
        task: the task inferred from the dataset.
        runs: one :class:`GraphRun` per fold and seed (fold-major).
        seconds: total wall time, data loading and transforms included.

    Example:
        >>> from graphpair.train import graph_config, train_graph
        >>> config = graph_config("UniqueSignature", epochs=1, runs=1,
        ...                       dataset_options={"num_graphs": 20})
        >>> result = train_graph(config)
        >>> result.task.metric, len(result.runs), result.summary().runs
        ('balanced_acc', 1, 1)
    """

    config: GraphConfig
    task: GraphTask
    runs: tuple[GraphRun, ...]
    seconds: float

    @property
    def num_parameters(self) -> int:
        """Trainable parameters of the model (the same for every run)."""
        return self.runs[0].num_parameters

    @property
    def seconds_per_epoch(self) -> float:
        """Mean training time of an epoch over every run."""
        return float(np.mean([r.seconds_per_epoch for r in self.runs]))

    def summary(self) -> GraphSummary:
        """The selected validation and test values over every run (folds x seeds): scores
        x100, errors as they are (:class:`GraphSummary`).

        Example:
            ``result.summary().test_mean`` is the number a paper table reports.
        """
        scale = table_scale(self.task.higher_is_better)
        valid = np.array([run.best.valid for run in self.runs]) * scale
        test = np.array([run.best.test for run in self.runs]) * scale
        return GraphSummary(
            self.task.metric,
            self.task.higher_is_better,
            float(valid.mean()),
            float(valid.std(ddof=0)),
            float(test.mean()),
            float(test.std(ddof=0)),
            len(self.runs),
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-serialisable record per run: config, seed, fold, selected values, the
        per-epoch curve, parameter count, timings and versions (NaN is written as ``None``)."""

        task = self.task
        return [
            single_metric_record(
                self.config, self.config.model, run, task.metric, task.higher_is_better, run.fold
            )
            for run in self.runs
        ]


# ------------------------------------------------------------------------------------ loop
