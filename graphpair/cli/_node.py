"""``graphpair node``: node classification on one graph (Cora, CiteSeer, PubMed, ogbn-arxiv),
an encoder and a linear head over seeds, for one or several encoder convolutions."""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
from typing import Any

from graphpair.cli._common import (
    Progress,
    add_allocator_flag,
    add_config_file_flags,
    add_runner_flags,
    add_save_model_flag,
    add_save_predictions_flag,
    device_label,
    model_folder,
    names,
    percent,
    predictions_file,
    print_configs,
    printer,
    render_table,
    write_summary,
)
from graphpair.nn import CONVS
from graphpair.train import (
    ConfigError,
    EpochRecord,
    NodeConfig,
    NodeResult,
    NodeRun,
    node_config,
    train_node,
)
from graphpair.train._config_sources import add_config_flags, blame_file, merge_sources
from graphpair.train._store import append_records

__all__ = ["add_node_parser"]


def _node_configs(args: argparse.Namespace) -> list[NodeConfig]:
    """The configurations asked for: ``--config`` <- flags, one per convolution.

    Raises:
        ConfigError: naming the field of the first bad value.
    """
    chosen, overrides, from_file = merge_sources(args, NodeConfig, ("dataset", "conv"))
    dataset = chosen["dataset"] or "cora"
    convs = names(chosen["conv"], "gcn")
    if not convs:
        raise ConfigError("conv", "conv must name an encoder convolution")
    return [
        blame_file(
            functools.partial(node_config, dataset, conv=c, **overrides), from_file, args.config
        )
        for c in convs
    ]


def _node(args: argparse.Namespace) -> int:
    out: Any = sys.stdout
    configs: list[NodeConfig] = args.configs
    if args.print_config:
        print_configs(configs, out)
        return 0
    say = printer(out, args.quiet)
    rows = [("dataset", "encoder", "metric", "valid", "test", "params", "s/epoch", "total s")]
    results: list[NodeResult] = []
    for cfg in configs:
        say(
            f"{cfg.dataset} {cfg.conv}: {cfg.runs} run(s) x {cfg.epochs} epoch(s), "
            f"{cfg.num_layers} layer(s) x {cfg.hidden_channels}, device {device_label(cfg.device)}"
        )
        progress = Progress(args.quiet, cfg.runs, cfg.epochs, "acc")

        def on_epoch(run: int, record: EpochRecord, progress: Progress = progress) -> None:
            progress.epoch(run, record)
            if args.verbose and not args.quiet:
                say(
                    f"  run {run + 1} epoch {record.epoch}: loss {record.loss:.4f}, acc valid "
                    f"{100 * record.valid['acc']:.2f} test {100 * record.test['acc']:.2f}"
                )

        def on_run(
            run: int, result: NodeRun, cfg: NodeConfig = cfg, progress: Progress = progress
        ) -> None:
            progress.close()
            if args.output is not None:
                done = NodeResult(config=cfg, runs=(result,), seconds=result.seconds)
                append_records(args.output, done.to_records())
            say(
                f"  run {run + 1}/{cfg.runs} seed {result.seed}: acc valid "
                f"{100 * result.best.valid:.2f} test {100 * result.best.test:.2f} "
                f"(epoch {result.best.epoch}), {result.seconds:.1f} s"
            )

        try:
            result = train_node(
                cfg,
                on_epoch=on_epoch,
                on_run=on_run,
                checkpoint_dir=args.checkpoint_dir,
                resume=args.resume,
                save_model=model_folder(args.save_model, cfg.conv, len(configs)),
                save_predictions=predictions_file(args.save_predictions, cfg.conv, len(configs)),
                on_estimate=lambda estimate: say(f"  {estimate.describe()}"),
            )
        finally:
            progress.close()
        results.append(result)
        valid = [100 * r.best.valid for r in result.runs]
        mean, std = result.summary()
        rows.append(
            (
                cfg.dataset,
                cfg.conv,
                "acc",
                percent(statistics.fmean(valid), statistics.pstdev(valid)),
                percent(mean, std),
                f"{result.num_parameters:,}",
                f"{statistics.fmean(r.seconds_per_epoch for r in result.runs):.3f}",
                f"{result.seconds:.1f}",
            )
        )
    say("")
    print(render_table(rows), file=out)
    write_summary(args.output, results, say)
    return 0


def add_node_parser(sub: Any) -> None:
    """The ``node`` subcommand."""
    node = sub.add_parser(
        "node",
        help="node classification on one graph: an encoder and a linear head",
        description="Node classification on a single graph (Cora, CiteSeer, PubMed with their "
        "public split; ogbn-arxiv with OGB's): an MPNNEncoder (GCN, SAGE, SINC-GCN, ...) and a "
        "Linear head, full-batch cross-entropy, validation-selected test accuracy over seeds.",
    )
    node.add_argument(
        "--dataset",
        default=None,
        metavar="NAME",
        help="single-graph dataset with node labels, see 'graphpair datasets --task node' "
        "(default: cora)",
    )
    node.add_argument(
        "--conv",
        "--model",
        default=None,
        metavar="NAME[,NAME]",
        help=f"encoder convolution, one of {list(CONVS)}, or several separated by commas "
        "(default: gcn)",
    )
    add_config_file_flags(node, shipped=False)
    add_runner_flags(node)
    add_allocator_flag(node)
    add_save_model_flag(
        node, "the model of every run's selected epoch, with its graph, for 'graphpair predict'"
    )
    add_save_predictions_flag(node, "validation and test accuracies", "node indices and labels")
    node.add_argument("--quiet", action="store_true", help="no progress bar and no per-run lines")
    aliases = {"hidden_channels": ("--hidden",)}
    add_config_flags(node, NodeConfig, skip=("dataset", "conv"), aliases=aliases, shipped=False)
    node.set_defaults(func=_node, make_configs=_node_configs)
