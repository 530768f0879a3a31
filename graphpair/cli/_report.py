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
    groups = group_records(read_records(args.results))
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
        help="leaderboard table (and figures) from the JSON records of link and graph runs",
        description="Read the JSON records that 'graphpair link/graph --output' write, group "
        "the runs of one configuration (all fields but the seed), and print one row per group: "
        "the headline metric on validation and test at the selected epoch, mean ± population "
        "std over runs (x100 for scores), parameters and training seconds per epoch. With "
        "--output-dir, also write report.md, report.csv and PNG figures (learning curves per "
        "run, time per epoch; needs matplotlib).",
    )
    report.add_argument("results", nargs="+", help="JSON-lines results files")
    report.add_argument(
        "--output-dir", default=None, help="write report.md, report.csv and figures here"
    )
    report.add_argument("--title", default="graphpair results", help="report title")
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
