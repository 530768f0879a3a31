"""``graphpair graph``: train and evaluate graph-level models (GIN, GINE, GCN, SAGE, SINC-GCN,
SIR-GCN, GRIT) on graph sets with the dataset's shipped configuration, overridden by
``--config`` and flags, and print a table."""

from __future__ import annotations

import argparse
import functools
import math
import sys
from collections.abc import Sequence
from typing import Any

from graphpair.cli._common import (
    Progress,
    add_config_file_flags,
    add_runner_flags,
    add_save_model_flag,
    add_save_predictions_flag,
    device_label,
    model_folder,
    names,
    predictions_file,
    print_configs,
    printer,
    render_table,
    write_summary,
)
from graphpair.data import get_spec
from graphpair.train import (
    GRAPH_MODELS,
    ConfigError,
    EpochRecord,
    GraphConfig,
    GraphResult,
    GraphRun,
    graph_config,
    train_graph,
)
from graphpair.train._config_sources import add_config_flags, blame_file, merge_sources
from graphpair.train._graph_config import fixed_split, fold_count
from graphpair.train._results import format_mean_std, table_scale
from graphpair.train._store import append_records

__all__ = ["add_graph_parser"]

_GRAPH_ALIASES = {"hidden_channels": ("--hidden",), "num_layers": ("--layers",)}
_MODEL_LABELS = {
    "gin": "GIN",
    "gine": "GINE",
    "gcn": "GCN",
    "sage": "SAGE",
    "sinc": "SINC-GCN",
    "sir": "SIR-GCN",
    "grit": "GRIT",
}


def _graph_configs(args: argparse.Namespace) -> list[GraphConfig]:
    """The configurations asked for: dataset defaults <- ``--config`` <- flags, one per model.

    Raises:
        ConfigError: naming the field of the first bad value.
    """
    chosen, overrides, from_file = merge_sources(args, GraphConfig, ("dataset", "model"))
    dataset = chosen["dataset"] or "CSL"
    models: list[str | None] = [None]  # the dataset's shipped model
    if chosen["model"] is not None:
        models = list(names(chosen["model"], ""))
        if not models:
            raise ConfigError("model", f"model must name one of {list(GRAPH_MODELS)}")
    return [
        blame_file(functools.partial(graph_config, dataset, m, **overrides), from_file, args.config)
        for m in models
    ]


def _fold_count(cfg: GraphConfig) -> int | None:
    """The folds a run of ``cfg`` goes through (``None``: one fixed split), from the
    dataset's protocol: the runner checks ``cfg.folds`` against the dataset's own folds."""
    protocol = get_spec(cfg.dataset).split
    if fixed_split(protocol):
        return None
    return cfg.folds if cfg.folds is not None else fold_count(protocol)


def _value(mean: float, std: float, higher_is_better: bool) -> str:
    """A summary cell (already x100 for scores): two decimals for scores, four for errors."""
    return "—" if math.isnan(mean) else format_mean_std(mean, std, higher_is_better)


def _scale(cfg: GraphConfig) -> float:
    """x100 for a score, 1 for an error: run lines on the scale of the tables."""
    from graphpair.metrics import Evaluator

    metric = cfg.metric if cfg.metric is not None else get_spec(cfg.dataset).metric
    return table_scale(Evaluator(metric).higher_is_better)


def _graph_table(results: Sequence[GraphResult]) -> str:
    header = ("dataset", "model", "metric", "runs", "valid", "test", "params", "s/epoch", "total s")
    rows = [header]
    for result in results:
        cfg = result.config
        s = result.summary()
        arrow = "↑" if s.higher_is_better else "↓"
        rows.append(
            (
                cfg.dataset,
                _MODEL_LABELS[cfg.model],
                f"{s.metric} {arrow}",
                str(s.runs),
                _value(s.valid_mean, s.valid_std, s.higher_is_better),
                _value(s.test_mean, s.test_std, s.higher_is_better),
                f"{result.num_parameters:,}",
                f"{result.seconds_per_epoch:.3f}",
                f"{result.seconds:.1f}",
            )
        )
    return render_table(rows)


def _graph(args: argparse.Namespace) -> int:
    out = sys.stdout
    configs: list[GraphConfig] = args.configs
    if args.print_config:
        print_configs(configs, out)
        return 0
    results = []
    say = printer(out, args.quiet)
    for cfg in configs:
        folds = _fold_count(cfg)
        runs = cfg.runs * (folds or 1)
        plan = f"{cfg.runs} run(s)"
        if folds is not None:  # every seed runs every fold
            plan = f"{folds} fold(s) x {cfg.runs} seed(s) = {runs} run(s)"
        say(
            f"{cfg.dataset} {_MODEL_LABELS[cfg.model]}: {plan} x {cfg.epochs} epoch(s), "
            f"{cfg.num_layers} layer(s) x {cfg.hidden_channels}, "
            f"device {device_label(cfg.device)}"
        )
        progress = Progress(args.quiet, runs, cfg.epochs, cfg.metric)
        scale = _scale(cfg)

        def on_epoch(
            run: int, record: EpochRecord, progress: Progress = progress, scale: float = scale
        ) -> None:
            progress.epoch(run, record)
            if args.verbose and not args.quiet:
                shown = ", ".join(
                    f"{stage} {scale * values[name]:.4f}"
                    for stage, values in (("valid", record.valid), ("test", record.test))
                    for name in values
                    if name != "loss"
                )
                print(
                    f"  run {run + 1} epoch {record.epoch}: loss {record.loss:.4f}, {shown} "
                    f"({record.train_seconds:.2f} s)",
                    file=out,
                    flush=True,
                )

        def on_run(
            run: int,
            result: GraphRun,
            progress: Progress = progress,
            runs: int = runs,
            scale: float = scale,
        ) -> None:
            progress.close()
            fold = "" if result.fold is None else f" fold {result.fold}"
            best = result.best
            valid = "—" if math.isnan(best.valid) else f"{scale * best.valid:.4f}"
            say(
                f"  run {run + 1}/{runs} seed {result.seed}{fold}: valid {valid} "
                f"test {scale * best.test:.4f} "
                f"(epoch {best.epoch}), {result.seconds_per_epoch:.3f} s/epoch, "
                f"{result.seconds:.1f} s"
            )

        def on_result(partial: GraphResult) -> None:
            if args.output is not None:  # stored as soon as it exists
                append_records(args.output, partial.to_records()[-1:])

        try:
            result = train_graph(
                cfg,
                on_epoch=on_epoch,
                on_run=on_run,
                on_result=on_result,
                checkpoint_dir=args.checkpoint_dir,
                resume=args.resume,
                save_model=model_folder(args.save_model, cfg.model, len(configs)),
                save_predictions=predictions_file(args.save_predictions, cfg.model, len(configs)),
                on_step=None if progress.disable else progress.step,
            )
        finally:
            progress.close()
        results.append(result)
    say("")
    print(_graph_table(results), file=out)
    write_summary(args.output, results, say)
    return 0


def add_graph_parser(sub: Any) -> None:
    """The ``graph`` subcommand."""
    graph = sub.add_parser(
        "graph",
        help="train and evaluate graph-level models (GIN, GINE, GCN, SAGE, SINC, SIR, GRIT)",
        description="Train and evaluate models on graph sets: graph regression and "
        "classification, node classification on sets of graphs. Values come from the "
        "dataset's shipped configuration (docs/graph.md), overridden by flags.",
    )
    graph.add_argument(
        "--dataset",
        default=None,
        metavar="NAME",
        help="registered graph dataset, or node dataset made of graphs, see 'graphpair "
        "datasets --task graph' (default: CSL, generated when its files are absent)",
    )
    graph.add_argument(
        "--model",
        default=None,
        metavar="NAME[,NAME]",
        help=f"one of {list(GRAPH_MODELS)}, or several separated by commas (default: the "
        "dataset's shipped model, else gin)",
    )
    add_config_file_flags(graph)
    add_runner_flags(graph)
    add_save_model_flag(
        graph, "the model of every run's selected epoch (per fold), for 'graphpair predict'"
    )
    add_save_predictions_flag(
        graph, "validation and test metrics", "graph (or node) indices and labels"
    )
    graph.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar and no per-run lines: only the final table (logs, CI)",
    )
    add_config_flags(graph, GraphConfig, skip=("dataset", "model"), aliases=_GRAPH_ALIASES)
    graph.set_defaults(func=_graph, make_configs=_graph_configs)
