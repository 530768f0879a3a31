"""``graphpair pretrain``: GRACE contrastive pre-training with GRACE's published
configuration, overridden by ``--config`` and flags, scored by a linear probe."""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any

from graphpair.cli._common import (
    add_config_file_flags,
    add_save_model_flag,
    device_label,
    percent,
    print_configs,
)
from graphpair.train import GRACEConfig, grace_config, train_grace
from graphpair.train._config_sources import add_config_flags, blame_file, merge_sources
from graphpair.train._store import append_records

__all__ = ["add_pretrain_parser"]


def _pretrain_configs(args: argparse.Namespace) -> list[GRACEConfig]:
    """The configuration asked for: GRACE's published one <- ``--config`` <- flags."""
    chosen, overrides, from_file = merge_sources(args, GRACEConfig, ("dataset",))
    dataset = chosen["dataset"] or "cora"
    make = functools.partial(grace_config, dataset, **overrides)
    return [blame_file(make, from_file, args.config)]


def _pretrain(args: argparse.Namespace) -> int:
    out = sys.stdout
    (cfg,) = args.configs
    if args.print_config:
        print_configs([cfg], out)
        return 0
    print(
        f"{cfg.dataset} GRACE: {cfg.runs} run(s) x {cfg.epochs} epoch(s), "
        f"{cfg.num_layers} GCN layers -> {cfg.hidden_channels}, tau {cfg.temperature}, "
        f"device {device_label(cfg.device)}",
        file=out,
        flush=True,
    )
    result = train_grace(cfg, save_model=args.save_model)
    for run, (valid, test) in enumerate(zip(result.valid, result.test, strict=True)):
        print(
            f"  run {run + 1}/{cfg.runs} seed {cfg.seed + run}: probe accuracy valid "
            f"{100 * valid:.2f} test {100 * test:.2f}, final loss {result.final_loss[run]:.4f}",
            file=out,
        )
    mean, std = result.summary()
    print(
        f"\n{cfg.dataset}  GRACE  linear-probe test accuracy {percent(mean, std)}  "
        f"params {result.num_parameters:,}  {result.seconds_per_epoch:.3f} s/epoch",
        file=out,
    )
    if args.output is not None:
        record = {
            "config": cfg.to_dict(),
            "valid": list(result.valid),
            "test": list(result.test),
            "final_loss": list(result.final_loss),
            "seconds_per_epoch": result.seconds_per_epoch,
            "num_parameters": result.num_parameters,
        }
        # Appended under the results store's lock, as the other runners' records: a file
        # shared with link or graph runs keeps them (it used to be replaced by this line).
        append_records(args.output, [record])
    return 0


def add_pretrain_parser(sub: Any) -> None:
    """The ``pretrain`` subcommand."""
    pretrain = sub.add_parser(
        "pretrain",
        help="GRACE contrastive pre-training scored by a linear probe",
        description="GRACE pre-training (two augmented views, graphpair.losses.grace) with the "
        "dataset's published configuration, overridden by flags; the frozen representations "
        "are scored by a linear probe on the public split.",
    )
    pretrain.add_argument(
        "--dataset",
        default=None,
        metavar="NAME",
        help="node-labelled graph with features, see 'graphpair datasets --task node' "
        "(default: cora)",
    )
    add_config_file_flags(pretrain)
    pretrain.add_argument(
        "--output",
        default=None,
        metavar="FILE",
        help="append the result to FILE as one JSON line (earlier lines are kept; the same "
        "configuration is not appended twice)",
    )
    add_save_model_flag(pretrain, "every run's trained encoder, with its graph")
    add_config_flags(pretrain, GRACEConfig, skip=("dataset",))
    pretrain.set_defaults(func=_pretrain, make_configs=_pretrain_configs)
