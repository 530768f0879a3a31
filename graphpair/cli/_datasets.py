"""``graphpair datasets``: the dataset registry (task, headline metric, split protocol, size,
and whether the raw files are under the data root) as text, markdown, CSV or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from graphpair.cli._common import render_table
from graphpair.data import DatasetSpec, data_root, dataset_names, get_spec

__all__ = ["DATASET_TASKS", "LISTING_FORMATS", "add_datasets_parser"]

DATASET_TASKS = ("link", "graph", "node")
LISTING_FORMATS = ("text", "markdown", "csv", "json")


def _size(spec: DatasetSpec) -> str:
    stats = spec.stats
    parts = [f"{stats[k]:,} {k}" for k in ("graphs", "nodes", "edges") if k in stats]
    return ", ".join(parts)


def _where(spec: DatasetSpec, root: str | None) -> str:
    if spec.folder is None:
        return "built-in" if spec.source == "networkx" else "generated"
    if spec.files_present(root):
        return "present"
    return "downloadable" if spec.downloadable else "missing"


def _datasets(args: argparse.Namespace) -> int:
    out = sys.stdout
    specs = [get_spec(name) for name in dataset_names()]
    if args.task is not None:
        specs = [s for s in specs if s.task == args.task]
    header = ("name", "task", "metric", "split", "size", "files", "description")
    rows = [
        (s.name, s.task, s.metric, s.split, _size(s), _where(s, args.data_root), s.description)
        for s in specs
    ]
    if args.format == "json":
        payload = [dict(zip(header, row, strict=True)) for row in rows]
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
        description="List the dataset registry. 'files' says whether the raw files are under "
        "the data root ('present'), can be fetched on first use ('downloadable'), must be "
        "placed by hand ('missing'), or need none ('built-in', 'generated').",
    )
    datasets.add_argument(
        "--task", default=None, choices=DATASET_TASKS, help="only datasets of this task"
    )
    datasets.add_argument(
        "--data-root", default=None, help="raw-data folder (default: $GRAPHPAIR_DATA)"
    )
    datasets.add_argument(
        "--format", default="text", choices=LISTING_FORMATS, help="output format (default: text)"
    )
    datasets.set_defaults(func=_datasets)
