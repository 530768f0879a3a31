"""Grouping the runs of one configuration for ``graphpair report``: the grouping key, runs
recorded twice (an error naming both places, or ``dedupe``), and the reported metric."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphpair.train._config_key import ADDED_FIELDS
from graphpair.train._report_records import (
    ReportError,
    copy_record,
    dedupe_records,
    record_kind,
    record_model,
    record_source,
    resolve_metric,
)
from graphpair.train._results import table_scale

__all__ = ["ReportGroup", "group_records"]

log = logging.getLogger(__name__)

#: Config fields that do not change what a run computes: left out of the grouping key (so a
#: record written before ``deterministic`` existed groups with the same run written after).
_BOOKKEEPING = frozenset(
    {
        "seed",
        "runs",
        "data_root",
        "cache",
        "download",
        "device",
        "folds",
        "eval_every",
        "deterministic",
    }
)


def _higher_is_better(record: Mapping[str, Any]) -> bool:
    return bool(record.get("higher_is_better", True))


def selected(record: Mapping[str, Any], metric: str) -> Mapping[str, Any]:
    """``{epoch, valid, test}`` of ``metric`` at its selected epoch (link records keep one
    selection per metric; the others one, for their headline metric)."""
    best: Mapping[str, Any] = record["best"]
    if record_kind(record) == "link":
        chosen: Mapping[str, Any] = best[metric]
        return chosen
    return best


def scaled(record: Mapping[str, Any], value: float | None) -> float:
    """A recorded value on the printed scale (x100 for scores); ``None`` (NaN) -> NaN."""
    if value is None:
        return math.nan
    return table_scale(_higher_is_better(record)) * float(value)


def _config_key(config: Mapping[str, Any]) -> str:
    kept = {
        k: v
        for k, v in config.items()
        if k not in _BOOKKEEPING and not (k in ADDED_FIELDS and v == ADDED_FIELDS[k])
    }
    return json.dumps(kept, sort_keys=True, default=str)


def run_label(record: Mapping[str, Any]) -> str:
    """``'seed 0'``, or ``'fold 3 seed 0'`` for a cross-validation run."""
    fold = record.get("fold")
    return f"seed {record['seed']}" if fold is None else f"fold {fold} seed {record['seed']}"


@dataclass(frozen=True)
class ReportGroup:
    """The runs of one configuration.

    Attributes:
        kind: ``'link'``, ``'graph'`` (graph and node runs) or ``'pretrain'``.
        dataset, model: as recorded (``model`` is the predictor of a link run).
        metric: the reported metric: the headline metric, or the one asked for.
        variant: the config fields that set this group apart from the other groups of the
            same dataset and model, as ``'field=value'`` strings (empty when it is alone).
            Fields that some of the configurations lack (records written before a field
            existed) are left out.
        config_id: the first 8 hex digits of the SHA-256 of the grouping key.
        records: the group's records, in reading order.

    Example:
        >>> def record(seed, valid, test):  # what the graph runner writes, in short
        ...     return {"dataset": "ZINC", "model": "gin", "seed": seed, "metric": "mae",
        ...             "higher_is_better": False, "best": {"epoch": 2, "valid": valid,
        ...             "test": test}, "config": {"hidden_channels": 64, "seed": seed},
        ...             "num_parameters": 1000, "seconds_per_epoch": 0.5}
        >>> group = group_records([record(0, 0.30, 0.32), record(1, 0.34, 0.36)])[0]
        >>> group.dataset, group.model, len(group.records), group.higher_is_better
        ('ZINC', 'gin', 2, False)
        >>> group.values("test")  # errors as they are; scores would be x100
        [0.32, 0.36]
    """

    kind: str
    dataset: str
    model: str
    metric: str
    variant: tuple[str, ...]
    config_id: str
    records: tuple[dict[str, Any], ...]

    @property
    def higher_is_better(self) -> bool:
        """Direction of the reported metric."""
        return _higher_is_better(self.records[0])

    def selected(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """``{epoch, valid, test}`` of the reported metric in one of the group's records."""
        return selected(record, self.metric)

    def values(self, split: str) -> list[float]:
        """The selected ``split`` value of every run (x100 for scores)."""
        return [scaled(r, self.selected(r)[split]) for r in self.records]

    def seconds_per_epoch(self) -> float:
        """Median over runs of the mean training time per epoch."""
        return statistics.median(float(r["seconds_per_epoch"]) for r in self.records)


def group_records(
    records: Sequence[Mapping[str, Any]], *, metric: str | None = None, dedupe: bool = False
) -> list[ReportGroup]:
    """Group runs by (kind, dataset, model, reported metric, configuration without the seed
    and bookkeeping fields), in order of first appearance.

    A run recorded twice (same kind, dataset, model, configuration, seed and fold: the same
    file read twice, or a rerun appended to another file) is an error naming both places,
    since averaging it twice would weigh one run double; with ``dedupe`` the last one read
    is kept (a later file wins over an earlier one, a later line over an earlier line) and
    the others are dropped with a warning in the log.

    Args:
        records: Run records, as :func:`read_records` returns them.
        metric: The metric to report (case- and separator-insensitive): any metric the
            records hold (a link run records every metric of ``--metrics``, e.g.
            ``'hits@20'``, each at its own selected epoch); ``None`` for each record's
            headline metric.
        dedupe: Keep the last record of a run recorded more than once.

    Raises:
        ReportError: A run recorded twice without ``dedupe`` (both files and lines named),
            or ``metric`` missing from a record (the metrics recorded are named).

    Example:
        >>> def record(seed, valid, test):  # what the link runner writes, in short
        ...     return {"dataset": "cora", "predictor": "ncn", "seed": seed,
        ...             "metric": "hits@100", "best": {
        ...                 "hits@100": {"epoch": 5, "valid": valid, "test": test},
        ...                 "hits@20": {"epoch": 3, "valid": valid / 2, "test": test / 2}},
        ...             "config": {"hidden_channels": 64, "seed": seed},
        ...             "num_parameters": 1000, "seconds_per_epoch": 0.5}
        >>> runs = [record(0, 0.80, 0.70), record(1, 0.84, 0.74)]
        >>> [(g.dataset, g.model, g.metric, g.values("test")) for g in group_records(runs)]
        [('cora', 'ncn', 'hits@100', [70.0, 74.0])]
        >>> group_records(runs, metric="Hits@20")[0].values("test")
        [35.0, 37.0]
        >>> group_records(runs + runs[:1], dedupe=True)[0].values("test")
        [74.0, 70.0]
    """
    records = list(records)
    metrics = (
        [str(r["metric"]) for r in records] if metric is None else resolve_metric(records, metric)
    )
    keys = [
        (
            record_kind(r),
            str(r["dataset"]),
            record_model(r),
            metrics[i],
            _config_key(r["config"]),
        )
        for i, r in enumerate(records)
    ]
    # One run, whatever metric it is reported on.
    identity = [
        (*k[:3], k[4], r["seed"], r.get("fold")) for k, r in zip(keys, records, strict=True)
    ]
    if dedupe:
        kept, dropped = dedupe_records(identity)
        for old, new in dropped:
            log.warning(
                "%s: run recorded again at %s; keeping the later one",
                record_source(records[old], old),
                record_source(records[new], new),
            )
        records, keys = [records[i] for i in kept], [keys[i] for i in kept]
    else:
        _refuse_duplicates(records, identity)
    groups: dict[tuple[str, str, str, str, str], list[dict[str, Any]]] = {}
    for key, record in zip(keys, records, strict=True):
        groups.setdefault(key, []).append(copy_record(record))
    out = []
    for key, members in groups.items():
        siblings = [k for k in groups if k[:4] == key[:4]]
        out.append(
            ReportGroup(
                kind=key[0],
                dataset=key[1],
                model=key[2],
                metric=key[3],
                variant=_variant(key[4], [k[4] for k in siblings if k != key]),
                config_id=hashlib.sha256(key[4].encode()).hexdigest()[:8],
                records=tuple(members),
            )
        )
    return out


def _refuse_duplicates(records: Sequence[Mapping[str, Any]], identity: Sequence[Any]) -> None:
    first: dict[Any, int] = {}
    for index, key in enumerate(identity):
        if key not in first:
            first[key] = index
            continue
        record = records[index]
        fold = "" if record.get("fold") is None else f" fold {record['fold']}"
        earlier = record_source(records[first[key]], first[key])
        later = record_source(record, index)
        raise ReportError(
            f"{record['dataset']} {record_model(record)}: seed {record['seed']}{fold} is "
            f"recorded more than once for the same configuration, at {earlier} and at "
            f"{later}; pass --dedupe (dedupe=True) to keep the last one read ({later})"
        )


def _variant(config: str, others: Sequence[str]) -> tuple[str, ...]:
    if not others:
        return ()
    mine = json.loads(config)
    theirs = [json.loads(o) for o in others]
    # A field only one side has (a record from before the field existed) sets nothing apart.
    fields = sorted(k for k in mine if any(k in t and t[k] != mine[k] for t in theirs))
    return tuple(f"{k}={json.dumps(mine[k])}" for k in fields)
