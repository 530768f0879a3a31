"""Leaderboard tables and figures from the runners' JSON records (``graphpair report``).

The runners write one JSON object per run (``graphpair link --output``, ``graphpair graph
--output``, ``graphpair node --output``; ``graphpair pretrain --output`` one line per
configuration). :func:`read_records` reads any number of such files (``_report_records``),
:func:`group_records` groups the runs that share a configuration (everything but the seed
and the bookkeeping fields; ``_report_groups``), and this module renders one row per group:
the reported metric's validation and test values at the selected epoch, mean ± population
standard deviation over the runs (x100 for scores, as every table of the package; errors
such as MAE as they are), with parameters and time per epoch. Figures (matplotlib, optional;
``_report_figures``): the metric against the epoch per run for every group, and the training
time per epoch.
"""

from __future__ import annotations

import io
import math
import os
import statistics
from collections.abc import Sequence
from pathlib import Path

from graphpair.data._io import atomic_write_bytes
from graphpair.train._report_figures import write_figures
from graphpair.train._report_groups import ReportGroup, group_records
from graphpair.train._report_records import ReportError, read_records
from graphpair.train._results import format_mean_std

__all__ = [
    "ReportError",
    "ReportGroup",
    "group_records",
    "read_records",
    "render_csv",
    "render_markdown",
    "write_figures",
    "write_report",
]


def _finite_stats(values: Sequence[float]) -> tuple[float, float] | None:
    """Mean and population std of the finite values (``None``: there are none)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    return statistics.fmean(finite), statistics.pstdev(finite)


def _mean_std(values: Sequence[float], higher_is_better: bool) -> str:
    stats = _finite_stats(values)
    if stats is None:
        return "n/a"
    return format_mean_std(stats[0], stats[1], higher_is_better)


_HEADER = (
    "dataset",
    "model",
    "variant",
    "metric",
    "runs",
    "valid",
    "test",
    "params",
    "s/epoch",
    "config",
)


def _rows(groups: Sequence[ReportGroup]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for g in groups:
        metric = g.metric if g.higher_is_better else f"{g.metric} (lower is better)"
        rows.append(
            (
                g.dataset,
                g.model,
                ", ".join(g.variant),
                metric,
                str(len(g.records)),
                _mean_std(g.values("valid"), g.higher_is_better),
                _mean_std(g.values("test"), g.higher_is_better),
                f"{int(g.records[0]['num_parameters']):,}",
                f"{g.seconds_per_epoch():.3f}",
                g.config_id,
            )
        )
    return rows


def render_markdown(groups: Sequence[ReportGroup], title: str | None = None) -> str:
    """A markdown leaderboard, one row per group (scores x100, mean ± population std).

    Args:
        groups: The groups to list, one row each (:func:`group_records`).
        title: A level-1 heading above the table, or ``None`` for none.

    Example:
        >>> def record(seed, valid, test):  # what the graph runner writes, in short
        ...     return {"dataset": "ZINC", "model": "gin", "seed": seed, "metric": "mae",
        ...             "higher_is_better": False, "best": {"epoch": 2, "valid": valid,
        ...             "test": test}, "config": {"hidden_channels": 64, "seed": seed},
        ...             "num_parameters": 1000, "seconds_per_epoch": 0.5}
        >>> groups = group_records([record(0, 0.30, 0.32), record(1, 0.34, 0.36)])
        >>> print(render_markdown(groups))  # doctest: +ELLIPSIS
        | dataset | model | variant | metric | runs | valid | test | params | s/epoch | config |
        |---|---|---|---|---|---|---|---|---|---|
        | ZINC | gin |  | mae (lower is better) | 2 | 0.3200 ± 0.0200 | 0.3400 ± 0.0200 | ...
        <BLANKLINE>
    """
    lines = [f"# {title}", ""] if title else []
    lines += ["| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
    for row in _rows(groups):
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines) + "\n"


_CSV_HEADER = (
    "dataset",
    "model",
    "variant",
    "metric",
    "higher_is_better",
    "runs",
    "valid_mean",
    "valid_std",
    "test_mean",
    "test_std",
    "params",
    "seconds_per_epoch",
    "config",
)


def _numbers(values: Sequence[float]) -> tuple[str, str]:
    """:func:`_finite_stats` as plain numbers for the CSV (empty cells: none)."""
    stats = _finite_stats(values)
    return ("", "") if stats is None else (repr(stats[0]), repr(stats[1]))


def render_csv(groups: Sequence[ReportGroup]) -> str:
    """The table as CSV for other programs: one row per group, every value a plain number
    (mean and population std in separate columns, scores x100 as in the markdown table,
    parameters without separators).

    Args:
        groups: The groups to list, one row each (:func:`group_records`).

    Example:
        >>> import csv
        >>> def record(seed, valid, test):  # what the graph runner writes, in short
        ...     return {"dataset": "ZINC", "model": "gin", "seed": seed, "metric": "mae",
        ...             "higher_is_better": False, "best": {"epoch": 2, "valid": valid,
        ...             "test": test}, "config": {"hidden_channels": 64, "seed": seed},
        ...             "num_parameters": 1000, "seconds_per_epoch": 0.5}
        >>> groups = group_records([record(0, 0.30, 0.32), record(1, 0.34, 0.36)])
        >>> row = list(csv.DictReader(render_csv(groups).splitlines()))[0]
        >>> row["metric"], row["runs"], round(float(row["test_mean"]), 4)
        ('mae', '2', 0.34)
    """
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_CSV_HEADER)
    for g in groups:
        writer.writerow(
            (
                g.dataset,
                g.model,
                "; ".join(g.variant),
                g.metric,
                str(g.higher_is_better).lower(),
                len(g.records),
                *_numbers(g.values("valid")),
                *_numbers(g.values("test")),
                int(g.records[0]["num_parameters"]),
                repr(g.seconds_per_epoch()),
                g.config_id,
            )
        )
    return buffer.getvalue()


def write_report(
    groups: Sequence[ReportGroup],
    folder: str | os.PathLike[str],
    *,
    title: str = "graphpair results",
    figures: bool = True,
) -> list[Path]:
    """``report.md`` (table, then the figures), ``report.csv`` and the figures in
    ``folder``, each written atomically. Returns the paths written.

    Args:
        groups: The groups to report (:func:`group_records`).
        folder: Where the files go (created if missing).
        title: The heading of ``report.md``.
        figures: Also draw :func:`write_figures` (needs matplotlib) and link them.

    Example:
        >>> import tempfile
        >>> def record(seed, valid, test):  # what the graph runner writes, in short
        ...     return {"dataset": "ZINC", "model": "gin", "seed": seed, "metric": "mae",
        ...             "higher_is_better": False, "best": {"epoch": 2, "valid": valid,
        ...             "test": test}, "config": {"hidden_channels": 64, "seed": seed},
        ...             "num_parameters": 1000, "seconds_per_epoch": 0.5}
        >>> groups = group_records([record(0, 0.30, 0.32), record(1, 0.34, 0.36)])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     paths = write_report(groups, tmp, title="ZINC", figures=False)
        ...     heading = paths[0].read_text().splitlines()[0]
        >>> [path.name for path in paths], heading
        (['report.md', 'report.csv'], '# ZINC')
    """
    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    pictures = write_figures(groups, out_dir) if figures else []
    text = render_markdown(groups, title)
    if pictures:
        text += "\n" + "\n".join(f"![{p.stem}]({p.name})" for p in pictures) + "\n"
    written = [out_dir / "report.md", out_dir / "report.csv"]
    atomic_write_bytes(written[0], text.encode())
    atomic_write_bytes(written[1], render_csv(groups).encode())
    return [*written, *pictures]
