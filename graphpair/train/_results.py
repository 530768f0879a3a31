"""Results of link runs: per-epoch records, per-metric model selection, mean ± std over runs."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from graphpair._version import __version__
from graphpair.train._config import LinkConfig
from graphpair.train._config_key import config_key

__all__ = [
    "SCORE_SCALE",
    "EarlyStopping",
    "EpochRecord",
    "LinkResult",
    "MetricSummary",
    "RunResult",
    "Selection",
    "format_mean_std",
    "pretrain_records",
    "select_best",
    "table_scale",
]

#: The factor between a recorded score (a fraction: Hits@K, MRR, accuracy, ROC-AUC) and the
#: number every table of the package prints: percent, as the OGB leaderboards and the papers
#: print them. Errors (MAE, RMSE: lower is better) are printed as recorded. Records always
#: hold the raw fractions.
SCORE_SCALE = 100.0


def table_scale(higher_is_better: bool) -> float:
    """The factor from a recorded value to the printed one: :data:`SCORE_SCALE` for a score
    (higher is better), 1 for an error such as MAE.

    Example:
        >>> table_scale(True), table_scale(False)
        (100.0, 1.0)
    """
    return SCORE_SCALE if higher_is_better else 1.0


def format_mean_std(mean: float, std: float, higher_is_better: bool) -> str:
    """A table cell for values already scaled by :func:`table_scale`: two decimals for
    percentages, four for errors; ``'n/a'`` when there is no value (NaN).

    Example:
        >>> format_mean_std(81.2, 0.53, True), format_mean_std(0.0712, 0.0031, False)
        ('81.20 ± 0.53', '0.0712 ± 0.0031')
    """
    if not math.isfinite(mean):
        return "n/a"
    digits = 2 if higher_is_better else 4
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def json_number(value: float) -> float | None:
    """JSON has no NaN: a non-finite value is written as ``null``."""
    return float(value) if math.isfinite(value) else None


def versions() -> dict[str, str]:
    """The package versions a result record carries."""
    return {"graphpair": __version__, "torch": torch.__version__}


def single_metric_record(
    config: Any,
    model: str,
    run: Any,
    metric: str,
    higher_is_better: bool,
    fold: int | None = None,
) -> dict[str, Any]:
    """The JSON record of one run selected on one metric (graph and node runners): dataset,
    model, seed, fold, metric and direction, the selected epoch, the curve, parameter count,
    timings, versions, the config and its key. ``run`` has ``seed``, ``best``
    (:class:`Selection`), ``history``, ``num_parameters``, ``seconds`` and
    ``seconds_per_epoch``."""
    return {
        "dataset": config.dataset,
        "model": model,
        "seed": run.seed,
        "fold": fold,
        "metric": metric,
        "higher_is_better": higher_is_better,
        "best": {
            "epoch": run.best.epoch,
            "valid": json_number(run.best.valid),
            "test": json_number(run.best.test),
        },
        "history": history_records(run.history),
        "num_parameters": run.num_parameters,
        "seconds": run.seconds,
        "seconds_per_epoch": run.seconds_per_epoch,
        "versions": versions(),
        "config": config.to_dict(),
        "config_key": config_key(config),
    }


def pretrain_records(
    config: Mapping[str, Any],
    valid: Sequence[float],
    test: Sequence[float],
    final_loss: Sequence[float],
    seconds_per_epoch: float,
    num_parameters: int,
    package_versions: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One record per GRACE pre-training run (``graphpair pretrain``), in the layout of the
    graph runner's records so that ``graphpair report`` and the results store treat it like
    any run: ``kind`` ``'pretrain'``, model ``'GRACE'``, metric ``'probe_acc'`` (the linear
    probe's accuracy, a fraction), the run's seed (``config['seed'] + run``), and as the
    selected epoch the last one (the probe scores the final encoder).

    Args:
        config: The run configuration as a dict (``GRACEConfig.to_dict()``).
        valid, test: Probe accuracy of every run.
        final_loss: The GRACE loss of every run's last epoch.
        seconds_per_epoch: Mean training time of an epoch over every run.
        num_parameters: Trainable parameters of the encoder and projection head.
        package_versions: The versions that ran it (:func:`versions` for a run made now);
            ``None`` (a line written before records carried them) leaves them out.

    Raises:
        ValueError: ``valid``, ``test`` and ``final_loss`` differ in length.

    Example:
        >>> config = {"dataset": "cora", "seed": 3, "epochs": 200}
        >>> records = pretrain_records(config, [0.7, 0.72], [0.69, 0.71], [5.1, 5.0], 0.5, 10)
        >>> [(r["seed"], r["metric"], r["best"]) for r in records]  # doctest: +NORMALIZE_WHITESPACE
        [(3, 'probe_acc', {'epoch': 200, 'valid': 0.7, 'test': 0.69}),
         (4, 'probe_acc', {'epoch': 200, 'valid': 0.72, 'test': 0.71})]
    """
    if not len(valid) == len(test) == len(final_loss):
        raise ValueError(
            "valid, test and final_loss must hold one value per run; got lengths "
            f"{len(valid)}, {len(test)} and {len(final_loss)}"
        )
    extra = {} if package_versions is None else {"versions": dict(package_versions)}
    return [
        {
            "kind": "pretrain",
            "dataset": config["dataset"],
            "model": "GRACE",
            "seed": int(config["seed"]) + run,
            "fold": None,
            "metric": "probe_acc",
            "higher_is_better": True,
            "best": {
                "epoch": config["epochs"],
                "valid": json_number(valid[run]),
                "test": json_number(test[run]),
            },
            "final_loss": json_number(final_loss[run]),
            "num_parameters": num_parameters,
            "seconds_per_epoch": seconds_per_epoch,
            "config": dict(config),
            **extra,
        }
        for run in range(len(test))
    ]


def epoch_to_state(record: EpochRecord) -> dict[str, Any]:
    """An :class:`EpochRecord` as plain Python values (NaN kept; for checkpoints)."""
    out = dataclasses.asdict(record)
    out["valid"], out["test"] = dict(record.valid), dict(record.test)
    return out


def epoch_from_state(state: Mapping[str, Any]) -> EpochRecord:
    """The :class:`EpochRecord` that :func:`epoch_to_state` described."""
    return EpochRecord(**{**state, "valid": dict(state["valid"]), "test": dict(state["test"])})


def history_records(history: Sequence[EpochRecord]) -> list[dict[str, Any]]:
    """The per-epoch curve of a run as JSON-serialisable dicts (non-finite numbers -> None)."""
    return [
        {
            "epoch": r.epoch,
            "loss": json_number(r.loss),
            "valid": {k: json_number(v) for k, v in r.valid.items()},
            "test": {k: json_number(v) for k, v in r.test.items()},
            "train_seconds": r.train_seconds,
            "eval_seconds": r.eval_seconds,
        }
        for r in history
    ]


class EarlyStopping:
    """Stop a run once its validation metric has not improved for ``patience`` evaluations.

    An evaluation improves when its value is strictly better than every earlier one (in the
    metric's direction), the same rule as model selection, so the run stops ``patience``
    evaluations after the epoch that will be selected. A NaN value never improves.

    Args:
        patience: evaluations without improvement before stopping; ``None`` = never stop.
        higher_is_better: direction of the metric.

    Example:
        >>> stop = EarlyStopping(2, higher_is_better=True)
        >>> [stop.update(v) for v in (0.5, 0.7, 0.6, 0.7)]  # 0.7 is not strictly better
        [False, False, False, True]
    """

    def __init__(self, patience: int | None, *, higher_is_better: bool = True) -> None:
        if patience is not None and (isinstance(patience, bool) or patience < 1):
            raise ValueError(f"patience must be >= 1 or None; got {patience!r}")
        self.patience = patience
        self.higher_is_better = higher_is_better
        self.best = math.nan
        self.stale = 0

    def update(self, value: float) -> bool:
        """Record one evaluation; ``True`` when the run should stop now."""
        better = value > self.best if self.higher_is_better else value < self.best
        if math.isfinite(value) and (math.isnan(self.best) or better):
            self.best, self.stale = value, 0
        else:
            self.stale += 1
        return self.patience is not None and self.stale >= self.patience


@dataclass(frozen=True)
class EpochRecord:
    """One evaluated epoch of a run.

    Attributes:
        epoch: 1-based epoch number.
        loss: mean training loss over the epoch's steps.
        valid, test: metric name -> value (fractions, not percentages).
        train_seconds: wall time of the epoch's training steps.
        eval_seconds: wall time of the evaluation.

    Example:
        >>> record = EpochRecord(1, 0.69, {"hits@20": 0.5}, {"hits@20": 0.4}, 2.0, 0.5)
        >>> record.valid["hits@20"]
        0.5
    """

    epoch: int
    loss: float
    valid: Mapping[str, float]
    test: Mapping[str, float]
    train_seconds: float
    eval_seconds: float


@dataclass(frozen=True)
class Selection:
    """The epoch chosen for one metric and its validation and test values.

    Attributes:
        epoch: 1-based epoch number of the selected evaluation.
        valid: its validation value (NaN where the split has no validation set).
        test: its test value, the number a run reports.

    Example:
        >>> Selection(epoch=3, valid=0.71, test=0.68).test
        0.68
    """

    epoch: int
    valid: float
    test: float


def select_best(records: Sequence[EpochRecord], metrics: Sequence[str]) -> dict[str, Selection]:
    """Model selection per metric (``specs/ncn.md`` §4.3).

    For every metric separately, the epoch with the best validation value wins; a later epoch
    replaces it only when **strictly** greater, so ties keep the earlier epoch, and the first
    evaluated epoch initialises the choice.

    Args:
        records: the evaluated epochs of one run, in order.
        metrics: metric names present in every record's ``valid`` and ``test``.

    Returns:
        Metric name -> the selected :class:`Selection`.

    Raises:
        ValueError: ``records`` is empty.

    Example:
        >>> recs = [EpochRecord(e, 0.0, {"m": v}, {"m": t}, 0.0, 0.0)
        ...         for e, (v, t) in enumerate([(0.5, 0.1), (0.7, 0.2), (0.7, 0.9)], 1)]
        >>> select_best(recs, ["m"])["m"]
        Selection(epoch=2, valid=0.7, test=0.2)
    """
    if not records:
        raise ValueError("records must hold at least one evaluated epoch; got none")
    best: dict[str, Selection] = {}
    for record in records:
        for name in metrics:
            value = record.valid[name]
            current = best.get(name)
            if current is None or value > current.valid:
                best[name] = Selection(record.epoch, value, record.test[name])
    return best


@dataclass(frozen=True)
class RunResult:
    """One run (one seed).

    Attributes:
        seed: the run's seed (split, initialisation, negatives, dropout).
        best: metric -> the selected epoch and its values.
        history: every evaluated epoch.
        num_parameters: trainable parameters of encoder + predictor.
        seconds: wall time of the run (split, model building, training and evaluation).

    Example:
        >>> history = (EpochRecord(1, 0.7, {"hits@20": 0.5}, {"hits@20": 0.4}, 0.2, 0.1),
        ...            EpochRecord(2, 0.6, {"hits@20": 0.6}, {"hits@20": 0.45}, 0.2, 0.1))
        >>> run = RunResult(0, select_best(history, ["hits@20"]), history, 100, 1.0)
        >>> run.best["hits@20"], run.seconds_per_epoch
        (Selection(epoch=2, valid=0.6, test=0.45), 0.2)
        >>> RunResult.from_state(run.to_state()) == run
        True
    """

    seed: int
    best: Mapping[str, Selection]
    history: tuple[EpochRecord, ...]
    num_parameters: int
    seconds: float

    @property
    def seconds_per_epoch(self) -> float:
        """Mean training time of an epoch (evaluation excluded)."""
        return float(np.mean([r.train_seconds for r in self.history]))

    def to_state(self) -> dict[str, Any]:
        """Plain Python values (for checkpoints); :meth:`from_state` inverts it exactly."""
        return {
            "seed": self.seed,
            "best": {k: dataclasses.asdict(v) for k, v in self.best.items()},
            "history": [epoch_to_state(r) for r in self.history],
            "num_parameters": self.num_parameters,
            "seconds": self.seconds,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> RunResult:
        """The :class:`RunResult` that :meth:`to_state` described."""
        return cls(
            seed=int(state["seed"]),
            best={k: Selection(**v) for k, v in state["best"].items()},
            history=tuple(epoch_from_state(r) for r in state["history"]),
            num_parameters=int(state["num_parameters"]),
            seconds=float(state["seconds"]),
        )


@dataclass(frozen=True)
class MetricSummary:
    """Mean ± population standard deviation (ddof = 0) over runs, in percent (×100).

    Attributes:
        metric: the metric summarised.
        valid_mean, valid_std: over the runs' selected validation values.
        test_mean, test_std: over the runs' test values at those epochs.

    Example:
        >>> summary = MetricSummary("hits@20", 65.0, 5.0, 47.5, 2.5)
        >>> f"{summary.test_mean:.1f} ± {summary.test_std:.1f}"
        '47.5 ± 2.5'
    """

    metric: str
    valid_mean: float
    valid_std: float
    test_mean: float
    test_std: float


@dataclass(frozen=True)
class LinkResult:
    """All runs of one configuration.

    Attributes:
        config: the configuration that produced it.
        runs: one :class:`RunResult` per seed.
        seconds: total wall time, data loading included.

    Example:
        Usually returned by :func:`~graphpair.train.train_link`; built by hand here:

        >>> from graphpair.train import link_config
        >>> config = link_config("karate", metrics=("hits@20",), metric="hits@20", runs=2)
        >>> def run(seed, valid, test):
        ...     best = {"hits@20": Selection(1, valid, test)}
        ...     record = EpochRecord(1, 0.5, {"hits@20": valid}, {"hits@20": test}, 0.2, 0.1)
        ...     return RunResult(seed, best, (record,), 100, 1.0)
        >>> result = LinkResult(config, (run(0, 0.6, 0.45), run(1, 0.7, 0.5)), seconds=2.5)
        >>> result.summary()  # doctest: +NORMALIZE_WHITESPACE
        MetricSummary(metric='hits@20', valid_mean=65.0, valid_std=5.0, test_mean=47.5,
                      test_std=2.5)
    """

    config: LinkConfig
    runs: tuple[RunResult, ...]
    seconds: float

    @property
    def num_parameters(self) -> int:
        """Trainable parameters of the model (the same for every run)."""
        return self.runs[0].num_parameters

    @property
    def seconds_per_epoch(self) -> float:
        """Mean training time of an epoch over every run."""
        return float(np.mean([r.seconds_per_epoch for r in self.runs]))

    def summary(self, metric: str | None = None) -> MetricSummary:
        """``metric`` (default: the headline metric) over runs, ×100, as the paper reports.

        Example:
            ``result.summary().test_mean`` is the paper-table number.
        """
        name = self.config.metric if metric is None else metric
        if name not in self.config.metrics:
            raise ValueError(f"metric must be one of {list(self.config.metrics)}; got {name!r}")
        valid = np.array([run.best[name].valid for run in self.runs]) * 100
        test = np.array([run.best[name].test for run in self.runs]) * 100
        return MetricSummary(
            name,
            float(valid.mean()),
            float(valid.std(ddof=0)),
            float(test.mean()),
            float(test.std(ddof=0)),
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-serialisable record per run: config, seed, selected values, the per-epoch
        curve, parameter count, timings and versions (``graphpair report`` reads them)."""
        out = []
        for run in self.runs:
            out.append(
                {
                    "dataset": self.config.data_name,
                    "predictor": self.config.predictor,
                    "seed": run.seed,
                    "metric": self.config.metric,
                    "best": {
                        name: {"epoch": s.epoch, "valid": s.valid, "test": s.test}
                        for name, s in run.best.items()
                    },
                    "history": history_records(run.history),
                    "num_parameters": run.num_parameters,
                    "seconds": run.seconds,
                    "seconds_per_epoch": run.seconds_per_epoch,
                    "versions": versions(),
                    "config": self.config.to_dict(),
                    "config_key": config_key(self.config),
                }
            )
        return out
