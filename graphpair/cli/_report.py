"""``graphpair report``: a leaderboard table from the runners' JSON records, and with
``--output-dir`` markdown, CSV and PNG figures."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from graphpair.train import group_records, read_records, render_csv, render_markdown, write_report

__all__ = ["add_report_parser"]


def _report(args: argparse.Namespace) -> int:
    out = sys.stdout
    records = read_records(args.results)
    groups = group_records(records, metric=args.metric, dedupe=args.dedupe)
    dropped = len(records) - sum(len(g.records) for g in groups)
    if dropped:
        print(
            f"report: dropped {dropped} record(s) of runs recorded again later "
            "(--dedupe keeps the last one read)",
            file=sys.stderr,
        )
    if args.output_dir is None:
        text = render_csv(groups) if args.format == "csv" else render_markdown(groups, args.title)
        print(text, end="", file=out)
        return 0
    written = write_report(groups, args.output_dir, title=args.title, figures=args.figures)
    print(render_markdown(groups), end="", file=out)
    for path in written:
        print(f"wrote {path}", file=out)
    return 0


def add_report_parser(sub: Any) -> None:
    """The ``report`` subcommand."""
    report = sub.add_parser(
        "report",
        help="leaderboard (and figures) from link, graph, node and pretrain records",
        description="Read the JSON records that 'graphpair link/graph/node/pretrain --output' "
        "write, group the runs of one configuration (all fields but the seed), and print one "
        "row per group: "
        "the headline metric (or --metric) on validation and test at the selected epoch, mean "
        "± population std over runs (x100 for scores, as every table graphpair prints; errors "
        "such as MAE as they are), parameters and training seconds per epoch. Reads link, "
        "graph, node and pretrain records. With --output-dir, also write report.md, report.csv "
        "and PNG figures (learning curves per run with the selected epoch starred, time per "
        "epoch; needs matplotlib).",
    )
    report.add_argument(
        "results",
        nargs="+",
        help="JSON-lines results files written by --output of link, graph, node or pretrain",
    )
    report.add_argument(
        "--output-dir",
        default=None,
        metavar="DIR",
        help="write report.md, report.csv and figures here",
    )
    report.add_argument(
        "--metric",
        default=None,
        metavar="NAME",
        help="report this recorded metric instead of each run's headline metric, e.g. "
        "hits@20 or hits@50 of link runs (each at its own selected epoch); a metric some "
        "record lacks is an error naming the metrics recorded (default: the headline metric)",
    )
    report.add_argument(
        "--dedupe",
        action="store_true",
        help="when a run (same configuration, dataset, seed and fold) is recorded more than "
        "once, keep the last one read (later file, then later line) instead of stopping with "
        "an error that names both places",
    )
    report.add_argument(
        "--title",
        default="graphpair results",
        help="heading of the markdown table and of report.md (default: graphpair results)",
    )
    report.add_argument(
        "--format",
        default="markdown",
        choices=("markdown", "csv"),
        help="stdout format without --output-dir (default: markdown)",
    )
    report.add_argument(
        "--figures",
        default=True,
        action=argparse.BooleanOptionalAction,
        help="write PNG figures with --output-dir (default: yes)",
    )
    report.set_defaults(func=_report)
