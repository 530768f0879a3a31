"""The figures of ``graphpair report`` (matplotlib, an optional extra): learning curves per
configuration and the training time per epoch of every configuration."""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graphpair.data._io import atomic_write_bytes
from graphpair.train._report_groups import ReportGroup, run_label, scaled
from graphpair.train._report_records import ReportError

__all__ = ["SHORT_RUN_EPOCHS", "curve_figure", "time_figure", "write_figures"]

#: Curves of at most this many evaluated epochs are drawn with a marker at every point, so
#: that a run of one or a few epochs is visible (a line through one point draws nothing).
SHORT_RUN_EPOCHS = 20

#: Colour of each kind of run in the time figure.
_KIND_COLOURS = {"link": "C0", "graph": "C1", "pretrain": "C2"}


def _slug(group: ReportGroup) -> str:
    text = f"{group.dataset}-{group.model}-{group.config_id}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the file-only ``Agg`` backend.

    Raises:
        ReportError: matplotlib is not installed.
    """
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


def curve_figure(group: ReportGroup, plt: Any) -> Any:
    """The learning curves of one group, or ``None`` when no record has a ``history``.

    Left, the reported metric against the epoch (validation dashed, test solid, one colour
    per run), with a star on both curves at the run's selected epoch; right, the training
    loss in the same colours. The legend, below the panels, names each run by its seed and,
    for cross-validation, its fold. Runs of at most :data:`SHORT_RUN_EPOCHS` evaluated
    epochs get a marker at every point.
    """
    runs = [r for r in group.records if r.get("history")]
    if not runs:
        return None
    fig, (ax_metric, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.6))
    for index, record in enumerate(runs):
        color = f"C{index % 10}"
        history = record["history"]
        epochs = [h["epoch"] for h in history]
        marker = "o" if len(history) <= SHORT_RUN_EPOCHS else None
        for split, style in (("valid", "--"), ("test", "-")):
            values = [scaled(record, h[split].get(group.metric)) for h in history]
            # One legend entry per run (its colour); the line styles have their own entries.
            label = run_label(record) if split == "test" else "_nolegend_"
            ax_metric.plot(epochs, values, style, color=color, marker=marker, ms=3, label=label)
        chosen = group.selected(record)
        ax_metric.plot(
            [chosen["epoch"]] * 2,
            [scaled(record, chosen["valid"]), scaled(record, chosen["test"])],
            linestyle="none",
            marker="*",
            ms=11,
            color=color,
            markeredgecolor="black",
            label="_nolegend_",
        )
        losses = [math.nan if h["loss"] is None else h["loss"] for h in history]
        ax_loss.plot(epochs, losses, color=color, marker=marker, ms=3)
    scale = "x100" if group.higher_is_better else ""
    ax_metric.set(xlabel="epoch", ylabel=f"{group.metric} {scale}".strip())
    ax_loss.set(xlabel="epoch", ylabel="training loss")
    handles, labels = ax_metric.get_legend_handles_labels()
    line = plt.Line2D
    handles += [
        line([], [], color="grey", linestyle="--", label="validation"),
        line([], [], color="grey", linestyle="-", label="test"),
        line([], [], color="grey", linestyle="none", marker="*", ms=11, mec="black"),
    ]
    labels += ["validation", "test", "selected epoch"]
    # Below the panels: ten folds would hide the curves inside them.
    ax_metric.legend(
        handles,
        labels,
        fontsize=7,
        ncol=min(4, len(labels)),
        loc="upper left",
        bbox_to_anchor=(0.0, -0.18),
        frameon=False,
    )
    variant = f" ({', '.join(group.variant)})" if group.variant else ""
    fig.suptitle(f"{group.dataset}, {group.model}{variant}", fontsize=10)
    return fig


def time_figure(groups: Sequence[ReportGroup], plt: Any) -> Any:
    """One bar per group: the median over its runs of the training seconds per epoch, on a
    log axis (a link run on ogbl-ddi and a graph run on MUTAG differ by orders of
    magnitude), coloured by the kind of run."""
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(groups) + 2), 3.6))
    labels = [f"{g.dataset}\n{g.model}\n{g.config_id}" for g in groups]
    colours = [_KIND_COLOURS.get(g.kind, "C7") for g in groups]
    seconds = [g.seconds_per_epoch() for g in groups]
    bars = ax.bar(range(len(groups)), seconds, color=colours)
    ax.set_yscale("log")
    positive = [s for s in seconds if s > 0]
    if positive:  # bars grow from the decade below the fastest group's
        ax.set_ylim(bottom=10.0 ** (math.floor(math.log10(min(positive))) - 1))
    ax.bar_label(bars, [f"{s:.3g} s" for s in seconds], fontsize=7)
    plain = plt.FuncFormatter(lambda value, _: f"{value:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xticks(range(len(groups)), labels, fontsize=7)
    ax.set_ylabel("training seconds per epoch\n(median over runs, log scale)")
    kinds = list(dict.fromkeys(g.kind for g in groups))
    handles = [plt.Rectangle((0, 0), 1, 1, color=_KIND_COLOURS.get(k, "C7")) for k in kinds]
    ax.legend(handles, [f"{k} runs" for k in kinds], fontsize=7)
    return fig


def write_figures(groups: Sequence[ReportGroup], folder: str | os.PathLike[str]) -> list[Path]:
    """PNG figures in ``folder``, and the paths written: per group with per-epoch curves, the
    reported metric against the epoch for every run (validation dashed, test solid, a star at
    each run's selected epoch; markers at every point of runs of at most 20 evaluated
    epochs; the legend names each run's seed and fold) beside the training loss; and one bar
    chart of the training time per epoch of every group, on a log axis.

    Args:
        groups: The groups to draw (:func:`group_records`); groups whose records have no
            ``history`` get no curve figure.
        folder: Where the PNG files go (created if missing).

    Raises:
        ReportError: matplotlib is not installed.

    Example:
        >>> import tempfile
        >>> from graphpair.train import group_records
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
    plt = pyplot()
    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for group in groups:
        fig = curve_figure(group, plt)
        if fig is None:
            continue
        path = out_dir / f"curves_{_slug(group)}.png"
        _save(fig, path)
        plt.close(fig)
        written.append(path)
    if groups:
        fig = time_figure(groups, plt)
        path = out_dir / "time_per_epoch.png"
        _save(fig, path)
        plt.close(fig)
        written.append(path)
    return written
