"""The ``graphpair`` command.

Subcommands:

``demo``
    The link-prediction job in miniature on the embedded default graph (generated, no
    download): the registry, NCN's seeded split and its leakage audit, and a common-neighbour
    scorer evaluated with OGB-identical Hits@K. Then a short tour of the ops layer on the Les
    Misérables co-occurrence graph from networkx: CSR adjacency, target link removal by the
    edge mask, common neighbours on held-out edges, and random-walk powers (GRIT's RRWP).

``link``
    Train and evaluate link predictors (NCN, NCNC, GAE, ...) with the dataset's shipped
    configuration, overridden by flags, and print a leaderboard-style table
    (``graphpair link --dataset cora --predictor ncn,ncnc --runs 10``; ``docs/link.md``).

``graph``
    Train and evaluate graph-level models (GIN, GINE, GCN, SAGE, SINC-GCN, SIR-GCN, GRIT) on
    graph sets (graph regression / classification, node classification on sets of graphs)
    with the dataset's shipped configuration, overridden by flags, and print a table
    (``graphpair graph --dataset zinc --model grit,gine --epochs 10``; ``docs/graph.md``).

``pretrain``
    GRACE contrastive pre-training of a GCN encoder with GRACE's published configuration,
    scored by a linear probe on the frozen representations
    (``graphpair pretrain --dataset cora --runs 3``; ``docs/losses.md``).

``node``
    Node classification on one graph (Cora, CiteSeer, PubMed, ogbn-arxiv): an encoder and a
    linear head over seeds (``graphpair node --dataset cora --conv gcn,sage --runs 10``).

``report``
    A leaderboard table from the runners' JSON records (one row per configuration, mean ± std
    over seeds), and with ``--output-dir`` markdown, CSV and PNG figures
    (``graphpair report runs/*.jsonl --output-dir report/``).

``predict``, ``recommend``
    Apply a model saved with ``--save-model``: score the pairs of a file
    (``graphpair predict DIR/run-0 --pairs pairs.csv``), or list the top-K likely new links of
    nodes (``graphpair recommend DIR/run-0 --nodes Valjean,Javert --k 5``), as CSV.

``datasets``
    The dataset registry: task, headline metric, split protocol, size, and whether the raw
    files are under the data root (``graphpair datasets --task link --data-root DIR``), as
    text, markdown, CSV or JSON.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from graphpair._version import __version__
from graphpair.cli._datasets import add_datasets_parser
from graphpair.cli._demo import add_demo_parser
from graphpair.cli._graph import add_graph_parser
from graphpair.cli._link import add_link_parser
from graphpair.cli._node import add_node_parser
from graphpair.cli._predict import add_predict_parser, add_recommend_parser
from graphpair.cli._pretrain import add_pretrain_parser
from graphpair.cli._report import add_report_parser
from graphpair.train import CheckpointError, ConfigError, ReportError
from graphpair.train._config_sources import flag

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``graphpair`` command."""
    parser = argparse.ArgumentParser(
        prog="graphpair", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--version", action="version", version=f"graphpair {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_demo_parser(sub)
    add_link_parser(sub)
    add_graph_parser(sub)
    add_pretrain_parser(sub)
    add_node_parser(sub)
    add_datasets_parser(sub)
    add_report_parser(sub)
    add_predict_parser(sub)
    add_recommend_parser(sub)
    return parser


def _process_group_initialized() -> bool:
    import torch.distributed as dist

    return bool(dist.is_available() and dist.is_initialized())


def _close_process_group(finished: bool) -> None:
    """Shut down the process group a command opened under ``torchrun``.

    Left to interpreter exit, gloo's threads could still be running when a worker's Python
    finished, and a worker aborted ("terminate called without an active exception"): 2 of 11
    runs of ``tests/train/test_distributed_link.py`` failed so after the link path got faster
    (0 of 6 before; a timing race), none of 8 with this. The barrier lets rank 0 finish
    writing first; it is skipped after an error, which another rank may not share.
    """
    if not _process_group_initialized():
        return
    import torch.distributed as dist

    if finished:
        dist.barrier()
    dist.destroy_process_group()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``graphpair`` console script and ``python -m graphpair``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "walk_length", 1) < 1:
        parser.error(f"--walk-length must be >= 1; got {args.walk_length}")
    root = getattr(args, "data_root", None) if args.command == "datasets" else None
    if root is not None and not os.path.isdir(root):
        parser.error(f"--data-root: must be an existing folder; got {args.data_root!r}")
    if args.command in ("link", "graph", "pretrain", "node"):
        try:
            args.configs = args.make_configs(args)  # every value checked before any work
        except ConfigError as err:
            parser.error(f"{flag(err.field)}: {err}")
        had_group = _process_group_initialized()
        finished = False
        try:
            code = int(args.func(args))
            finished = True
            return code
        except ConfigError as err:  # data-dependent checks (batch size vs. training set ...)
            parser.error(f"{flag(err.field)}: {err}")
        except CheckpointError as err:  # a checkpoint to resume from is unusable
            parser.error(f"--resume: {err}")
        finally:
            if not had_group:
                _close_process_group(finished)
    if args.command in ("predict", "recommend"):
        try:
            return int(args.func(args))
        except ValueError as err:  # bad model folders, pairs files, nodes, K (all named)
            parser.error(f"{args.command}: {err}")
    if args.command == "report":
        try:
            return int(args.func(args))
        except ReportError as err:
            parser.error(f"report: {err}")
    result: int = args.func(args)
    return result
