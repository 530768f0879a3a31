"""``graphpair link``: train and evaluate link predictors (NCN, NCNC, GAE, ...) with the
dataset's shipped configuration, overridden by ``--config`` and flags, and print a table."""

from __future__ import annotations

import argparse
import functools
import io
import sys
from collections.abc import Sequence
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
from graphpair.train import (
    LINK_PREDICTORS,
    ConfigError,
    EpochRecord,
    LinkConfig,
    LinkResult,
    RunResult,
    link_config,
    train_link,
)
from graphpair.train._config_sources import add_config_flags, blame_file, merge_sources
from graphpair.train._link import distributed_shard
from graphpair.train._store import append_records

__all__ = ["add_link_parser"]

_LINK_ALIASES = {"hidden_channels": ("--hidden",), "num_layers": ("--layers",)}
_PREDICTOR_LABELS = {
    "ncn": "NCN",
    "ncnc": "NCNC",
    "ncnc2": "NCNC2",
    "gae": "GAE",
    "ncn-diff": "NCN-diff",
    "grit-pair": "GRIT-pair",
}


def _encoder_label(cfg: LinkConfig) -> str:
    if cfg.predictor == "grit-pair":
        return f"GRIT/{cfg.num_layers}/{cfg.hidden_channels}, K={cfg.walk_length}"
    return f"{cfg.conv}/{cfg.num_layers}/{cfg.hidden_channels}"


def _link_configs(args: argparse.Namespace) -> list[LinkConfig]:
    """The configurations asked for: dataset defaults <- ``--config`` <- flags, one per
    predictor.

    Raises:
        ConfigError: naming the field of the first bad value.
    """
    chosen, overrides, from_file = merge_sources(args, LinkConfig, ("dataset", "predictor"))
    dataset = chosen["dataset"] or "default"
    predictor = chosen["predictor"]
    if predictor is None:  # the README's main job: NCNC against GAE on the embedded default
        predictor = "ncnc,gae" if link_config(dataset).dataset == "default" else "ncn"
    predictors = names(predictor, "")
    if not predictors:
        raise ConfigError("predictor", f"predictor must name one of {list(LINK_PREDICTORS)}")
    return [
        blame_file(functools.partial(link_config, dataset, p, **overrides), from_file, args.config)
        for p in predictors
    ]


def _link_table(results: Sequence[LinkResult]) -> str:
    header = ("dataset", "model", "metric", "valid", "test", "params", "s/epoch", "total s")
    rows = [header]
    for result in results:
        cfg = result.config
        encoder = "GRIT" if cfg.predictor == "grit-pair" else cfg.conv
        label = f"{_PREDICTOR_LABELS[cfg.predictor]} ({encoder})"
        # The headline metric first, then the others the run tracked.
        for metric in (cfg.metric, *(m for m in cfg.metrics if m != cfg.metric)):
            s = result.summary(metric)
            rows.append(
                (
                    cfg.data_name,
                    label,
                    metric,
                    percent(s.valid_mean, s.valid_std),
                    percent(s.test_mean, s.test_std),
                    f"{result.num_parameters:,}",
                    f"{result.seconds_per_epoch:.3f}",
                    f"{result.seconds:.1f}",
                )
            )
    return render_table(rows)


def _link(args: argparse.Namespace) -> int:
    out: Any = sys.stdout
    configs: list[LinkConfig] = args.configs
    if distributed_shard().rank != 0:  # under torchrun, rank 0 alone reports and writes
        out, args.quiet, args.output = io.StringIO(), True, None
    if args.print_config:
        print_configs(configs, out)
        return 0
    results = []
    say = printer(out, args.quiet)
    for cfg in configs:
        name = _PREDICTOR_LABELS[cfg.predictor]
        say(
            f"{cfg.data_name} {name}: {cfg.runs} run(s) x {cfg.epochs} epoch(s), "
            f"{_encoder_label(cfg)}, device {device_label(cfg.device)}"
        )
        progress = Progress(args.quiet, cfg.runs, cfg.epochs, cfg.metric)

        def on_epoch(
            run: int, record: EpochRecord, cfg: LinkConfig = cfg, progress: Progress = progress
        ) -> None:
            progress.epoch(run, record)
            if args.verbose and not args.quiet:
                print(
                    f"  run {run + 1} epoch {record.epoch}: loss {record.loss:.4f}, {cfg.metric} "
                    f"valid {100 * record.valid[cfg.metric]:.2f} "
                    f"test {100 * record.test[cfg.metric]:.2f} ({record.train_seconds:.2f} s)",
                    file=out,
                    flush=True,
                )

        def on_run(
            run: int, result: RunResult, cfg: LinkConfig = cfg, progress: Progress = progress
        ) -> None:
            progress.close()
            if args.output is not None:  # stored as soon as it exists
                done = LinkResult(config=cfg, runs=(result,), seconds=result.seconds)
                append_records(args.output, done.to_records())
            best = result.best[cfg.metric]
            stopped = ""
            if result.history[-1].epoch < cfg.epochs:
                stopped = f", stopped early at epoch {result.history[-1].epoch}"
            say(
                f"  run {run + 1}/{cfg.runs} seed {result.seed}: {cfg.metric} valid "
                f"{100 * best.valid:.2f} test {100 * best.test:.2f} (epoch {best.epoch}){stopped}, "
                f"{result.seconds:.1f} s"
            )

        try:
            result = train_link(
                cfg,
                on_epoch=on_epoch,
                on_run=on_run,
                checkpoint_dir=args.checkpoint_dir,
                resume=args.resume,
                on_step=None if progress.disable else progress.step,
                save_model=model_folder(args.save_model, cfg.predictor, len(configs)),
                save_predictions=predictions_file(
                    args.save_predictions, cfg.predictor, len(configs)
                ),
                on_estimate=lambda estimate: say(f"  {estimate.describe()}"),
            )
        finally:
            progress.close()
        results.append(result)
    say("")
    print(_link_table(results), file=out)
    write_summary(args.output, results, say)
    return 0


def add_link_parser(sub: Any) -> None:
    """The ``link`` subcommand."""
    link = sub.add_parser(
        "link",
        help="train and evaluate link predictors (NCN, NCNC, GAE) with per-dataset configs",
        description="Train and evaluate link predictors. Values come from the dataset's "
        "shipped configuration (the NCN paper's hyper-parameters), overridden by flags.",
    )
    link.add_argument(
        "--dataset",
        default=None,
        metavar="NAME",
        help="registered link dataset, see 'graphpair datasets --task link' (default: "
        "'default', the embedded synthetic graph; --edge-list trains on your own file)",
    )
    link.add_argument(
        "--predictor",
        "--model",
        default=None,
        metavar="NAME[,NAME]",
        help=f"one of {list(LINK_PREDICTORS)}, or several separated by commas (default: ncn; "
        "ncnc,gae on the embedded default graph)",
    )
    add_config_file_flags(link)
    add_runner_flags(link)
    add_allocator_flag(link)
    add_save_model_flag(
        link,
        "the model of every run's selected epoch, with its training graph, for 'graphpair "
        "predict' / 'recommend'",
    )
    add_save_predictions_flag(link, "validation and test metrics", "pair ids")
    link.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar and no per-run lines: only the final table (logs, CI)",
    )
    add_config_flags(link, LinkConfig, skip=("dataset", "predictor"), aliases=_LINK_ALIASES)
    link.set_defaults(func=_link, make_configs=_link_configs)
