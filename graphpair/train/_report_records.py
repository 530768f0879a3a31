"""Reading the runners' JSON records for ``graphpair report``: where each record came from,
``graphpair pretrain``'s lines, runs recorded twice, and the metrics a record holds.

A record read from a file remembers its place (``file:line``) so that every later error can
name it; records built in memory (``result.to_records()``) are named by their position.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from graphpair.train._results import pretrain_records

__all__ = [
    "ReportError",
    "dedupe_records",
    "read_records",
    "record_kind",
    "record_metrics",
    "record_model",
    "record_source",
    "resolve_metric",
]


class ReportError(ValueError):
    """A results file that cannot be read as runner records; the message names the file and
    the line.

    Raised by :func:`read_records`, by :func:`group_records` for a run recorded twice or a
    metric the records lack, and by :func:`write_figures` when matplotlib is missing.

    Example:
        >>> try:
        ...     read_records(["no-such-file.jsonl"])
        ... except ReportError as err:
        ...     print(err)
        results file 'no-such-file.jsonl' does not exist
    """


class _Sourced(dict[str, Any]):
    """A record (a plain ``dict`` to every reader) that also knows its ``file:line``."""

    source: str | None = None


def record_source(record: Mapping[str, Any], index: int | None = None) -> str:
    """Where ``record`` was read (``'runs.jsonl:3'``), or ``'record #index'`` for one built
    in memory."""
    source = getattr(record, "source", None)
    if source is not None:
        return str(source)
    return "a record" if index is None else f"record #{index + 1}"


def _with_source(record: Mapping[str, Any], source: str | None) -> dict[str, Any]:
    out = _Sourced(record)
    out.source = source
    return out


def copy_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy that keeps the record's source."""
    return _with_source(record, getattr(record, "source", None))


def read_records(paths: Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """Every record of the JSON-lines files ``paths``, in order.

    Link, graph and node records hold one run per line; a ``graphpair pretrain`` line holds
    every run of its configuration (lists ``valid``, ``test``, ``final_loss``) and becomes one
    record per run (``kind`` ``'pretrain'``, model ``'GRACE'``, metric ``'probe_acc'``).
    Each record remembers the file and line it came from, for the errors of
    :func:`group_records`.

    Args:
        paths: JSON-lines files written by the runners (``--output``); blank lines are
            skipped.

    Raises:
        ReportError: a missing file, a line that is not JSON (e.g. a truncated last line),
            or an object that is not a run record; the message names the file and the line.

    Example:
        >>> import json, tempfile
        >>> from pathlib import Path
        >>> line = {"dataset": "ZINC", "model": "gin", "seed": 0, "metric": "mae",
        ...         "best": {"epoch": 2, "valid": 0.3, "test": 0.32}, "config": {}}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = Path(tmp) / "runs.jsonl"
        ...     _ = path.write_text(json.dumps(line) + "\\n")
        ...     records = read_records([path])
        >>> records[0]["best"]["test"], record_source(records[0]).endswith("runs.jsonl:1")
        (0.32, True)
    """
    records: list[dict[str, Any]] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise ReportError(f"results file {str(path)!r} does not exist")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise ReportError(
                f"{path}: not a JSON-lines results file (byte {err.start} is not UTF-8)"
            ) from None
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ReportError(
                    f"{where}: not a JSON record ({err.msg}); a truncated line is left "
                    "by an interrupted writer that did not write atomically"
                ) from None
            if _is_pretrain_line(record):
                records += [_with_source(r, where) for r in _expand_pretrain(record, where)]
                continue
            _check_record(record, where)
            records.append(_with_source(record, where))
    return records


def _is_pretrain_line(record: Any) -> bool:
    """``graphpair pretrain --output``'s line: every run's probe accuracies as lists."""
    return (
        isinstance(record, dict)
        and "best" not in record
        and isinstance(record.get("test"), list)
        and isinstance(record.get("config"), dict)
    )


def _expand_pretrain(record: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    missing = [
        k for k in ("valid", "final_loss", "seconds_per_epoch", "num_parameters") if k not in record
    ]
    missing += [k for k in ("dataset", "seed", "epochs") if k not in record["config"]]
    if missing:
        raise ReportError(f"{where}: not a graphpair pretrain record (missing {missing})")
    try:
        return pretrain_records(
            record["config"],
            record["valid"],
            record["test"],
            record["final_loss"],
            float(record["seconds_per_epoch"]),
            int(record["num_parameters"]),
        )
    except (TypeError, ValueError) as err:
        raise ReportError(f"{where}: not a graphpair pretrain record ({err})") from None


def _check_record(record: Any, where: str) -> None:
    if not isinstance(record, dict):
        raise ReportError(f"{where}: a record must be a JSON object; got {type(record).__name__}")
    missing = [k for k in ("dataset", "seed", "metric", "best", "config") if k not in record]
    if missing or ("predictor" not in record and "model" not in record):
        raise ReportError(
            f"{where}: not a graphpair run record (missing {missing or ['predictor/model']})"
        )


def record_kind(record: Mapping[str, Any]) -> str:
    """``'link'``, ``'graph'`` (graph and node runs) or ``'pretrain'``."""
    if "kind" in record:
        return str(record["kind"])
    return "link" if "predictor" in record else "graph"


def record_model(record: Mapping[str, Any]) -> str:
    """The model of a run (the predictor of a link run)."""
    return str(record["predictor"] if "predictor" in record else record["model"])


def record_metrics(record: Mapping[str, Any]) -> list[str]:
    """The metrics whose selected epoch a record holds: every metric of a link run (each
    selected on itself), the headline metric of the others."""
    if record_kind(record) == "link":
        return sorted(record["best"])
    return [str(record["metric"])]


def _normal(name: str) -> str:
    """Metric names match case- and separator-insensitively (``Hits@20`` = ``hits@20``)."""
    return re.sub(r"[\s_\-]+", "", name).lower()


def resolve_metric(records: Sequence[Mapping[str, Any]], name: str) -> list[str]:
    """The recorded spelling of metric ``name`` in every record, in order.

    Raises:
        ReportError: ``name`` is not recorded by some record; the message names the first
            such record (file and line), the metrics it has, and the metrics every record has.
    """
    out = []
    for index, record in enumerate(records):
        choices = record_metrics(record)
        match = [m for m in choices if _normal(m) == _normal(name)]
        if not match:
            shared = set(choices)
            for other in records:
                shared &= set(record_metrics(other))
            raise ReportError(
                f"metric {name!r} is not recorded by {record_source(record, index)} "
                f"({record['dataset']} {record_model(record)}, which records {choices}); "
                f"metrics every record holds: {sorted(shared)}"
            )
        out.append(match[0])
    return out


def dedupe_records(identity: Sequence[Any]) -> tuple[list[int], list[tuple[int, int]]]:
    """Keep the last record of every run: ``identity[i]`` names record ``i``'s run; returns
    the indices kept (in reading order) and a ``(dropped, kept)`` index pair per drop.

    Example:
        >>> dedupe_records(["a", "b", "a", "c", "a"])
        ([1, 3, 4], [(0, 4), (2, 4)])
    """
    last = {key: index for index, key in enumerate(identity)}
    kept = [i for i, key in enumerate(identity) if last[key] == i]
    dropped = [(i, last[key]) for i, key in enumerate(identity) if last[key] != i]
    return kept, dropped
