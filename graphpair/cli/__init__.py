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
import sys
import traceback
from collections.abc import Iterable, Sequence
from typing import Any

from graphpair._version import __version__

__all__ = ["COMMANDS", "build_parser", "main"]


#: The subcommands and their line in ``graphpair --help`` (each module's ``help=``), in the
#: order the help lists them. A command's module, with torch and PyG behind it, is imported
#: only when that command is given (:func:`_add_command`).
COMMANDS: dict[str, str] = {
    "demo": "tour of the ops layer on a built-in graph (no download)",
    "link": "train and evaluate link predictors (NCN, NCNC, GAE) with per-dataset configs",
    "graph": "train and evaluate graph-level models (GIN, GINE, GCN, SAGE, SINC, SIR, GRIT)",
    "pretrain": "GRACE contrastive pre-training scored by a linear probe",
    "node": "node classification on one graph: an encoder and a linear head",
    "datasets": "list the registered datasets: task, metric, split, size, local files",
    "report": "leaderboard (and figures) from link, graph, node and pretrain records",
    "predict": "apply a saved model: score node pairs, or predict graphs or nodes",
    "recommend": "the top-K likely new links of nodes, with a saved link model",
}


def _add_command(name: str, sub: Any) -> None:
    """Add the full parser of command ``name``, importing its module now (the imports are
    written out so that ``tests/test_layering.py`` sees them)."""
    if name == "demo":
        from graphpair.cli._demo import add_demo_parser

        add_demo_parser(sub)
    elif name == "link":
        from graphpair.cli._link import add_link_parser

        add_link_parser(sub)
    elif name == "graph":
        from graphpair.cli._graph import add_graph_parser

        add_graph_parser(sub)
    elif name == "pretrain":
        from graphpair.cli._pretrain import add_pretrain_parser

        add_pretrain_parser(sub)
    elif name == "node":
        from graphpair.cli._node import add_node_parser

        add_node_parser(sub)
    elif name == "datasets":
        from graphpair.cli._datasets import add_datasets_parser

        add_datasets_parser(sub)
    elif name == "report":
        from graphpair.cli._report import add_report_parser

        add_report_parser(sub)
    elif name == "predict":
        from graphpair.cli._predict import add_predict_parser

        add_predict_parser(sub)
    elif name == "recommend":
        from graphpair.cli._predict import add_recommend_parser

        add_recommend_parser(sub)
    else:
        raise ValueError(f"name must be one of {list(COMMANDS)}; got {name!r}")


_RUNNERS = ("link", "graph", "pretrain", "node")
# Set to 1 to see the traceback behind a one-line data error.
_TRACEBACK_ENV = "GRAPHPAIR_TRACEBACK"


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser of the ``graphpair`` command.

    Args:
        commands: The subcommands to build in full (default: all). The others are listed
            with their one-line summary only, so that ``graphpair --help`` and a command's
            parser do not import what the other commands need.

    Example:
        >>> parser = build_parser(["datasets"])
        >>> parser.parse_args(["datasets", "--task", "node"]).task
        'node'
    """
    full = set(COMMANDS) if commands is None else set(commands)
    parser = argparse.ArgumentParser(
        prog="graphpair",
        description="Pairwise and link tasks on graphs: train and evaluate link predictors, "
        "graph and node models, apply saved models, list datasets, report results.",
        epilog="'graphpair COMMAND --help' lists a command's flags, each with what it does, "
        "its choices and its default. Docs: docs/quickstart.md, docs/cli.md.",
    )
    parser.add_argument("--version", action="version", version=f"graphpair {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        if name in full:
            _add_command(name, sub)
            # Errors of a command print the command's usage, not the top-level one.
            sub.choices[name].set_defaults(command_parser=sub.choices[name])
        else:
            sub.add_parser(name, help=summary, add_help=False)
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


def _data_error(err: BaseException) -> bool:
    """Whether ``err`` is a problem with the user's data files (missing, unreadable,
    malformed), which the command reports as one line: a file error, a decoding error or a
    ``ValueError`` raised while the data layer read them."""
    from graphpair.data._io import CacheError, MissingDataError

    if isinstance(err, (MissingDataError, CacheError, UnicodeError)):
        return True
    if not isinstance(err, (OSError, ValueError)):
        return False
    data_dir = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data") + os.sep
    return any(
        frame.f_code.co_filename.startswith(data_dir)
        for frame, _ in traceback.walk_tb(err.__traceback__)
    )


def _quiet_stdout() -> None:
    """After a closed pipe (``graphpair datasets | head``): send what is left of stdout to
    the null device, so that Python's flush at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # a stdout without a file descriptor
        pass


def _run(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    args, extra = parser.parse_known_args(argv)
    command: argparse.ArgumentParser = args.command_parser
    if extra:
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "walk_length", 1) < 1:
        command.error(f"--walk-length must be >= 1; got {args.walk_length}")
    root = getattr(args, "data_root", None) if args.command == "datasets" else None
    if root is not None and not os.path.isdir(root):
        command.error(f"--data-root: must be an existing folder; got {args.data_root!r}")
    if args.command in _RUNNERS:
        return _run_runner(args, command)
    if args.command in ("predict", "recommend"):
        try:
            return int(args.func(args))
        except ValueError as err:  # bad model folders, pairs files, nodes, K (all named)
            command.error(str(err))
    if args.command == "report":
        from graphpair.train import ReportError

        try:
            return int(args.func(args))
        except ReportError as err:
            command.error(str(err))
    return int(args.func(args))


def _run_runner(args: argparse.Namespace, command: argparse.ArgumentParser) -> int:
    """A training command: configurations and output paths checked before any work, then
    the runs; a bad value names its flag, a data problem is one line."""
    from graphpair.cli._common import check_outputs
    from graphpair.train import CheckpointError, ConfigError
    from graphpair.train._config_sources import flag

    try:
        args.configs = args.make_configs(args)  # every value checked before any work
        if not args.print_config:
            check_outputs(args)  # before any data is loaded or any epoch trained
    except ConfigError as err:
        command.error(f"{flag(err.field)}: {err}")
    if getattr(args, "allocator", "system") == "reuse" and not args.print_config:
        from graphpair.train import reuse_freed_memory

        reuse_freed_memory()  # before the data are loaded: their blocks are reused too
    had_group = _process_group_initialized()
    finished = False
    try:
        code = int(args.func(args))
        finished = True
        return code
    except ConfigError as err:  # data-dependent checks (batch size vs. training set ...)
        command.error(f"{flag(err.field)}: {err}")
    except CheckpointError as err:  # a checkpoint to resume from is unusable
        command.error(f"--resume: {err}")
    finally:
        if not had_group:
            _close_process_group(finished)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``graphpair`` console script and ``python -m graphpair``.

    Only the given command's parser is built (with what it imports). A problem with data
    files (missing, unreadable, malformed) is reported as one line, ``graphpair COMMAND:
    error: ...``, exit status 1 (the traceback with ``GRAPHPAIR_TRACEBACK=1``); a bad flag
    value as ``graphpair COMMAND: error: --flag: ...`` under the command's usage, status 2.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in args if not a.startswith("-")), None)
    parser = build_parser([chosen] if chosen in COMMANDS else [])
    try:
        code = _run(parser, args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return 1
    except Exception as err:
        if os.environ.get(_TRACEBACK_ENV) == "1" or not _data_error(err):
            raise
        print(f"graphpair {chosen}: error: {err}", file=sys.stderr)
        return 1
