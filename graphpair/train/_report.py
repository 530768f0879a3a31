"""Leaderboard tables and figures from the runners' JSON records (``graphpair report``).

Both runners write one JSON object per run (``graphpair link --output``, ``graphpair graph
--output``). This module reads any number of such files, groups the runs that share a
configuration (everything but the seed and the bookkeeping fields), and renders one row per
group: the headline metric's validation and test values at the selected epoch, mean ±
population standard deviation over the runs (x100 for scores, as the papers; errors such as
MAE as they are), with parameters and time per epoch. Figures (matplotlib, optional): the
headline metric against the epoch per run for every group, and the training time per epoch.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphpair.data._io import atomic_write_bytes
from graphpair.train._checkpoint import ADDED_FIELDS

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


class ReportError(ValueError):
    """A results file that cannot be read as runner records; the message names the file and
    the line.

    Raised by :func:`read_records`, by :func:`group_records` for a seed recorded twice, and
    by :func:`write_figures` when matplotlib is missing.

    Example:
        >>> try:
        ...     read_records(["no-such-file.jsonl"])
        ... except ReportError as err:
        ...     print(err)
        results file 'no-such-file.jsonl' does not exist
    """


def read_records(paths: Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """Every record of the JSON-lines files ``paths``, in order.

    Args:
        paths: JSON-lines files written by the runners (``--output``); blank lines are
            skipped.

    Raises:
        ReportError: a missing file, a line that is not JSON (e.g. a truncated last line),
            or an object that is not a link or graph run record; the message names the file
            and the line number.

    Example:
        >>> import json, tempfile
        >>> from pathlib import Path
        >>> line = {"dataset": "ZINC", "model": "gin", "seed": 0, "metric": "mae",
        ...         "best": {"epoch": 2, "valid": 0.3, "test": 0.32}, "config": {}}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = Path(tmp) / "runs.jsonl"
        ...     _ = path.write_text(json.dumps(line) + "\\n")
        ...     records = read_records([path])
        >>> records[0]["best"]["test"]
        0.32
    """
    records: list[dict[str, Any]] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise ReportError(f"results file {str(path)!r} does not exist")
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ReportError(
                    f"{path}:{number}: not a JSON record ({err.msg}); a truncated line is left "
                    "by an interrupted writer that did not write atomically"
                ) from None
            _check_record(record, f"{path}:{number}")
            records.append(record)
    return records


def _check_record(record: Any, where: str) -> None:
    if not isinstance(record, dict):
        raise ReportError(f"{where}: a record must be a JSON object; got {type(record).__name__}")
    missing = [k for k in ("dataset", "seed", "metric", "best", "config") if k not in record]
    if missing or ("predictor" not in record and "model" not in record):
        raise ReportError(
            f"{where}: not a graphpair run record (missing {missing or ['predictor/model']})"
        )


def _kind(record: Mapping[str, Any]) -> str:
    return "link" if "predictor" in record else "graph"


def _model(record: Mapping[str, Any]) -> str:
    return str(record["predictor"] if "predictor" in record else record["model"])


def _higher_is_better(record: Mapping[str, Any]) -> bool:
    return bool(record.get("higher_is_better", True))


def _selected(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """``{epoch, valid, test}`` of the headline metric (link records keep one per metric)."""
    best: Mapping[str, Any] = record["best"]
    if _kind(record) == "link":
        chosen: Mapping[str, Any] = best[record["metric"]]
        return chosen
    return best


def _scaled(record: Mapping[str, Any], value: float | None) -> float:
    if value is None:
        return math.nan
    return 100.0 * value if _higher_is_better(record) else float(value)


def _config_key(config: Mapping[str, Any]) -> str:
    kept = {
        k: v
        for k, v in config.items()
        if k not in _BOOKKEEPING and not (k in ADDED_FIELDS and v == ADDED_FIELDS[k])
    }
    return json.dumps(kept, sort_keys=True, default=str)


@dataclass(frozen=True)
class ReportGroup:
    """The runs of one configuration.

    Attributes:
        kind: ``'link'`` or ``'graph'``.
        dataset, model, metric: as recorded (``model`` is the predictor of a link run).
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
        """Direction of the headline metric."""
        return _higher_is_better(self.records[0])

    def values(self, split: str) -> list[float]:
        """The selected ``split`` value of every run (x100 for scores)."""
        return [_scaled(r, _selected(r)[split]) for r in self.records]

    def seconds_per_epoch(self) -> float:
        """Median over runs of the mean training time per epoch."""
        return statistics.median(float(r["seconds_per_epoch"]) for r in self.records)


def group_records(records: Sequence[Mapping[str, Any]]) -> list[ReportGroup]:
    """Group runs by (kind, dataset, model, headline metric, configuration without the seed
    and bookkeeping fields), in order of first appearance.

    A seed recorded twice in one group (the same file read twice, or a rerun appended) is an
    error: averaging it twice would weigh one run double.

    Args:
        records: Run records, as :func:`read_records` returns them.

    Raises:
        ReportError: A seed (and fold) recorded twice for one configuration.

    Example:
        >>> def record(seed, valid, test):  # what the graph runner writes, in short
        ...     return {"dataset": "ZINC", "model": "gin", "seed": seed, "metric": "mae",
        ...             "higher_is_better": False, "best": {"epoch": 2, "valid": valid,
        ...             "test": test}, "config": {"hidden_channels": 64, "seed": seed},
        ...             "num_parameters": 1000, "seconds_per_epoch": 0.5}
        >>> groups = group_records([record(0, 0.30, 0.32), record(1, 0.34, 0.36)])
        >>> [(g.dataset, g.model, len(g.records)) for g in groups]
        [('ZINC', 'gin', 2)]
    """
    groups: dict[tuple[str, str, str, str, str], list[dict[str, Any]]] = {}
    for record in records:
        key: tuple[str, str, str, str, str] = (
            _kind(record),
            str(record["dataset"]),
            _model(record),
            str(record["metric"]),
            _config_key(record["config"]),
        )
        groups.setdefault(key, []).append(dict(record))
    out = []
    for key, members in groups.items():
        seeds = [(r["seed"], r.get("fold")) for r in members]
        if len(set(seeds)) != len(seeds):
            dup = next(s for s in seeds if seeds.count(s) > 1)
            raise ReportError(
                f"{key[1]} {key[2]}: seed {dup[0]}"
                + (f" fold {dup[1]}" if dup[1] is not None else "")
                + " is recorded more than once for the same configuration"
            )
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


def _variant(config: str, others: Sequence[str]) -> tuple[str, ...]:
    if not others:
        return ()
    mine = json.loads(config)
    theirs = [json.loads(o) for o in others]
    # A field only one side has (a record from before the field existed) sets nothing apart.
    fields = sorted(k for k in mine if any(k in t and t[k] != mine[k] for t in theirs))
    return tuple(f"{k}={json.dumps(mine[k])}" for k in fields)


def _finite_stats(values: Sequence[float]) -> tuple[float, float] | None:
    """Mean and population std of the finite values (``None``: there are none)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    return statistics.fmean(finite), statistics.pstdev(finite)


def _mean_std(values: Sequence[float], digits: int) -> str:
    stats = _finite_stats(values)
    if stats is None:
        return "n/a"
    return f"{stats[0]:.{digits}f} ± {stats[1]:.{digits}f}"


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
        digits = 2 if g.higher_is_better else 4
        metric = g.metric if g.higher_is_better else f"{g.metric} (lower is better)"
        rows.append(
            (
                g.dataset,
                g.model,
                ", ".join(g.variant),
                metric,
                str(len(g.records)),
                _mean_std(g.values("valid"), digits),
                _mean_std(g.values("test"), digits),
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


def _slug(group: ReportGroup) -> str:
    text = f"{group.dataset}-{group.model}-{group.config_id}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ReportError(
            "figures need matplotlib: pip install 'graphpair[report]' (or pass --no-figures)"
        ) from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    atomic_write_bytes(path, buffer.getvalue())


def write_figures(groups: Sequence[ReportGroup], folder: str | os.PathLike[str]) -> list[Path]:
    """PNG figures in ``folder``: per group with per-epoch curves, the headline metric against
    the epoch (validation dashed, test solid, one colour per run) and the training loss; and
    one bar chart of the training time per epoch of every group. Returns the paths written.

    Args:
        groups: The groups to draw (:func:`group_records`); groups whose records have no
            ``history`` get no curve figure.
        folder: Where the PNG files go (created if missing).

    Raises:
        ReportError: matplotlib is not installed.

    Example:
        >>> import tempfile
        >>> curve = [{"epoch": 1, "loss": 0.9, "valid": {"mae": 0.5}, "test": {"mae": 0.52}},
        ...          {"epoch": 2, "loss": 0.5, "valid": {"mae": 0.3}, "test": {"mae": 0.32}}]
        >>> record = {"dataset": "ZINC", "model": "gin", "seed": 0, "metric": "mae",
        ...           "higher_is_better": False, "best": {"epoch": 2, "valid": 0.3, "test": 0.32},
        ...           "config": {}, "num_parameters": 1000, "seconds_per_epoch": 0.5,
        ...           "history": curve}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     paths = write_figures(group_records([record]), tmp)
        >>> [path.name for path in paths]
        ['curves_ZINC-gin-44136fa3.png', 'time_per_epoch.png']
    """
    plt = _pyplot()
    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for group in groups:
        runs = [r for r in group.records if r.get("history")]
        if not runs:
            continue
        fig, (ax_metric, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.6))
        for index, record in enumerate(runs):
            color = f"C{index % 10}"
            history = record["history"]
            epochs = [h["epoch"] for h in history]
            for split, style in (("valid", "--"), ("test", "-")):
                values = [_scaled(record, h[split].get(group.metric)) for h in history]
                label = f"seed {record['seed']} {split}"
                ax_metric.plot(epochs, values, style, color=color, label=label)
            losses = [math.nan if h["loss"] is None else h["loss"] for h in history]
            ax_loss.plot(epochs, losses, color=color, label=f"seed {record['seed']}")
        scale = "x100" if group.higher_is_better else ""
        ax_metric.set(xlabel="epoch", ylabel=f"{group.metric} {scale}".strip())
        ax_loss.set(xlabel="epoch", ylabel="training loss")
        ax_metric.legend(fontsize=7, ncol=2)
        variant = f" ({', '.join(group.variant)})" if group.variant else ""
        fig.suptitle(f"{group.dataset}, {group.model}{variant}", fontsize=10)
        path = out_dir / f"curves_{_slug(group)}.png"
        _save(fig, path)
        plt.close(fig)
        written.append(path)
    if groups:
        fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(groups) + 2), 3.6))
        labels = [f"{g.dataset}\n{g.model}\n{g.config_id}" for g in groups]
        ax.bar(range(len(groups)), [g.seconds_per_epoch() for g in groups], color="C0")
        ax.set_xticks(range(len(groups)), labels, fontsize=7)
        ax.set_ylabel("training seconds per epoch (median over runs)")
        path = out_dir / "time_per_epoch.png"
        _save(fig, path)
        plt.close(fig)
        written.append(path)
    return written


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
