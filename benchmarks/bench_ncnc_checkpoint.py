"""NCNC's h' checkpoint by size: Planetoid training epochs with and without the rule.

NCNC's reference recursion computes h' = h + XLIN(h) on all N rows in every training call.
Checkpointing it keeps only h' for the backward and recomputes XLIN's activations there: it
took a full-size citation2 NCNC step from 15.37 to 11.81 GiB (`scale.md`), but on a small
graph it only adds the recomputation. Since then `NCNC_CHECKPOINT_BYTES` (64 MiB of h')
decides. Here the shipped Cora and CiteSeer NCNC configurations train under the rule (below
the threshold: nothing recomputed) and with the checkpoint forced (`NCNC_CHECKPOINT_BYTES =
0`, the behaviour before the rule), each in a fresh process per setting (the runner's own
`_train_epoch` through `bench_link.run_train_case`, graphpair only; median epoch of 10 after
one warm-up; peak = the child's `VmHWM` over its RSS before training). The rounds alternate
which setting runs first and are summarised by the median over rounds of each round's
median and by the median of the per-round ratios rule / forced.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    add_common_arguments,
    fmt_bytes,
    fmt_time,
    markdown_table,
    publish,
    resolve_data_root,
)
from benchmarks.bench_link import TrainCase, _child_main

#: Setting name -> NCNC_CHECKPOINT_BYTES in the child (None: the library's default).
SETTINGS: dict[str, int | None] = {"size rule": None, "checkpoint forced": 0}
DATASETS = ("Cora", "CiteSeer")


def _child(payload: str) -> None:
    """Child side: set the threshold, then ``bench_link``'s own child does the rest."""
    threshold = json.loads(payload)["threshold"]
    if threshold is not None:
        import graphpair.nn.link._ncnc as ncnc

        ncnc.NCNC_CHECKPOINT_BYTES = threshold
    _child_main(payload)


def run_setting(case: TrainCase, root: Path, threshold: int | None) -> dict[str, Any]:
    """One fresh interpreter: the graphpair method's entry (times, peak)."""
    payload = json.dumps(
        {
            "case": case.__dict__,
            "data_root": str(root),
            "methods": ["graphpair"],
            "threshold": threshold,
        }
    )
    result = subprocess.run(
        [sys.executable, __file__, "--child", payload], stdout=subprocess.PIPE, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"{case.dataset} child failed with exit {result.returncode}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    entry: dict[str, Any] = answer["methods"]["graphpair"]
    if "error" in entry:
        raise RuntimeError(f"{case.dataset}: {entry['error']}")
    return entry


def main(argv: list[str] | None = None) -> Path:
    """Run the rounds and write ``results/ncnc_checkpoint.md`` (``.quick.md``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every case")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1; got {args.rounds}")
    root = resolve_data_root(args.data_root)
    timed = 1 if args.quick else 10
    batches = 1 if args.quick else None
    cases = [
        TrainCase(name, "ncnc", "epoch", warmup=1, timed=timed, batches=batches)
        for name in DATASETS
    ]
    medians: dict[tuple[str, str], list[float]] = {
        (c.dataset, s): [] for c in cases for s in SETTINGS
    }
    peaks: dict[tuple[str, str], list[int]] = {(c.dataset, s): [] for c in cases for s in SETTINGS}
    stamps = []
    for round_ in range(args.rounds):
        stamps.append(time.strftime("%H:%M:%S", time.gmtime()))
        order = list(SETTINGS) if round_ % 2 == 0 else list(reversed(SETTINGS))
        for case in cases:
            for setting in order:
                print(f"  round {round_ + 1}: {case.dataset} {setting}", flush=True)
                entry = run_setting(case, root, SETTINGS[setting])
                medians[case.dataset, setting].append(statistics.median(entry["times"]))
                if entry["peak"] is not None:
                    peaks[case.dataset, setting].append(entry["peak"])
    rows = []
    rule, forced = SETTINGS
    for case in cases:
        ours, theirs = medians[case.dataset, rule], medians[case.dataset, forced]
        ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
        peak_rule, peak_forced = peaks[case.dataset, rule], peaks[case.dataset, forced]
        rows.append(
            [
                case.dataset,
                ", ".join(fmt_time(t) for t in ours),
                fmt_time(statistics.median(ours)),
                ", ".join(fmt_time(t) for t in theirs),
                fmt_time(statistics.median(theirs)),
                f"{statistics.median(ratios):.2f}x",
                fmt_bytes(statistics.median(peak_rule)) if peak_rule else "?",
                fmt_bytes(statistics.median(peak_forced)) if peak_forced else "?",
            ]
        )
    table = markdown_table(
        [
            "dataset (NCNC, shipped configuration)",
            f"{rule}, per round",
            f"{rule}, median",
            f"{forced}, per round",
            f"{forced}, median",
            f"{rule} / {forced} (median of rounds)",
            f"peak extra memory, {rule} (median)",
            f"peak extra memory, {forced} (median)",
        ],
        rows,
    )
    sections = [
        __doc__.split("\n\n", 1)[1],
        f"Data root: `{root}`. {args.rounds} rounds, started at {', '.join(stamps)} UTC; each "
        "figure per round is the median epoch of that round.",
        "## Training epoch",
        table,
    ]
    return publish("ncnc_checkpoint", "NCNC: the h' checkpoint by size", sections, args.quick)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(sys.argv[2])
    else:
        main()
