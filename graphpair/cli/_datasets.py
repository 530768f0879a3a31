"""``graphpair datasets``: the dataset registry (task, the commands that train on it, headline
metric, split protocol, size, and whether the raw files are under the data root) as text,
markdown, CSV or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from graphpair.cli._common import render_table
from graphpair.data import DatasetSpec, data_root, dataset_names, get_spec

__all__ = ["DATASET_TASKS", "LISTING_FORMATS", "add_datasets_parser", "commands_for"]

DATASET_TASKS = ("link", "graph", "node")
#: The training commands, in the listing's order.
_COMMANDS = ("link", "graph", "node", "pretrain")
LISTING_FORMATS = ("text", "markdown", "csv", "json")


def _size(spec: DatasetSpec) -> str:
    stats = spec.stats
    parts = [f"{stats[k]:,} {k}" for k in ("graphs", "nodes", "edges") if k in stats]
    return ", ".join(parts)


def commands_for(spec: DatasetSpec) -> tuple[str, ...]:
    """The ``graphpair`` training commands that take ``spec``: ``link`` its link datasets;
    ``graph`` the sets of graphs (graph-level tasks, and node-level ones such as PATTERN);
    ``node`` and ``pretrain`` the single graphs with node features and labels (Cora,
    ogbn-arxiv), whatever their registered task.

    Example:
        >>> from graphpair.data import get_spec
        >>> commands_for(get_spec("cora")), commands_for(get_spec("PATTERN"))
        (('link', 'node', 'pretrain'), ('graph',))
    """
    graph_set = spec.task == "graph" or "graphs" in spec.stats
    labelled = not graph_set and "features" in spec.stats and "classes" in spec.stats
    takes = {
        "link": spec.task == "link",
        "graph": graph_set,
        "node": labelled,
        "pretrain": labelled,
    }
    return tuple(name for name in _COMMANDS if takes[name])


def _where(spec: DatasetSpec, root: str | None) -> str:
    if spec.folder is None:
        return "built-in" if spec.source == "networkx" else "generated"
    if spec.files_present(root):
        return "present"
    return "downloadable" if spec.downloadable else "missing"


def _datasets(args: argparse.Namespace) -> int:
    out = sys.stdout
    specs = [get_spec(name) for name in dataset_names()]
    if args.task is not None:  # what `graphpair TASK --dataset NAME` accepts
        specs = [s for s in specs if args.task in commands_for(s)]
    header = ("name", "task", "commands", "metric", "split", "size", "files", "description")
    rows = [
        (
            s.name,
            s.task,
            ",".join(commands_for(s)),
            s.metric,
            s.split,
            _size(s),
            _where(s, args.data_root),
            s.description,
        )
        for s in specs
    ]
    if args.format == "json":
        payload: list[dict[str, Any]] = [dict(zip(header, row, strict=True)) for row in rows]
        for item in payload:  # a list in JSON
            item["commands"] = item["commands"].split(",") if item["commands"] else []
        print(json.dumps(payload, indent=2), file=out)
    elif args.format == "csv":
        import csv

        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    elif args.format == "markdown":
        print("| " + " | ".join(header) + " |", file=out)
        print("|" + "---|" * len(header), file=out)
        for row in rows:
            print("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |", file=out)
    else:
        print(render_table([header[:-1], *(row[:-1] for row in rows)]), file=out)
    root = data_root(args.data_root)
    where = f"data root {str(root)!r}" if root is not None else "no data root (set GRAPHPAIR_DATA)"
    if args.format == "text":
        print(f"\n{len(rows)} dataset(s); files looked up under {where}", file=out)
    return 0


def add_datasets_parser(sub: Any) -> None:
    """The ``datasets`` subcommand."""
    datasets = sub.add_parser(
        "datasets",
        help="list the registered datasets: task, metric, split, size, local files",
        description="List the dataset registry. 'task' is what the dataset's labels are "
        "about; 'commands' are the graphpair commands that train on it (Cora is a link "
        "dataset that 'graphpair node' also takes; PATTERN labels nodes of many graphs, so "
        "'graphpair graph' runs it). 'files' says whether the raw files are under "
        "the data root ('present'), can be fetched on first use ('downloadable'), must be "
        "placed by hand ('missing'), or need none ('built-in', 'generated').",
    )
    datasets.add_argument(
        "--task",
        default=None,
        choices=DATASET_TASKS,
        help="only the datasets 'graphpair TASK' trains on (default: all)",
    )
    datasets.add_argument(
        "--data-root",
        default=None,
        metavar="DIR",
        help="raw-data folder (default: $GRAPHPAIR_DATA)",
    )
    datasets.add_argument(
        "--format", default="text", choices=LISTING_FORMATS, help="output format (default: text)"
    )
    datasets.set_defaults(func=_datasets)
