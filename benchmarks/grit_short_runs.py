"""Issue 5's short GRIT runs (ZINC, PATTERN, CLUSTER, OGB molecules) from the runner's records.

The runs are made with the CLI, one process each, one after another, one thread::

    export GRAPHPAIR_DATA=../shared/data OMP_NUM_THREADS=1
    G="graphpair graph --runs 1 --verbose"
    $G --dataset zinc --model grit --fused --epochs 8 --warmup-epochs 2 \\
        --output benchmarks/results/grit_short/zinc_grit.jsonl
    $G --dataset zinc --model gine --epochs 8 --warmup-epochs 2 --output .../zinc_gine.jsonl
    $G --dataset zinc --model sinc --epochs 8 --warmup-epochs 2 --output .../zinc_sinc.jsonl
    $G --dataset pattern --model grit --fused \\
        --dataset-options num_train=1000,num_valid=200,num_test=200 \\
        --epochs 3 --warmup-epochs 1 --output .../pattern_grit.jsonl
    $G --dataset cluster --model grit --fused \\
        --dataset-options num_train=300,num_valid=100,num_test=100 \\
        --epochs 2 --warmup-epochs 0 --output .../cluster_grit.jsonl
    $G --dataset ogbg-molesol --model grit --epochs 20 --output .../molesol_grit.jsonl
    # and gine, and both on ogbg-molfreesolv

Every run keeps the dataset's shipped recipe (``docs/graph.md``: GRIT's ZINC and SBM
configurations, ``specs/grit.md`` §3.3-§3.4) except the budget: a few epochs, with the
warm-up shortened to fit them (the cosine then decays over the epochs run, not over the
reference's 2,000 or 100; with a one-epoch warm-up the first epoch runs at a learning rate of
0), and for PATTERN and CLUSTER a tenth and a thirtieth of the training graphs. GINE and
SINC-GCN are ZINC's baselines on the same number of epochs and schedule. The OGB molecule
sets use the shipped OGB-example configuration (5 layers of width 300, 20 of its 100 epochs,
one seed) as quick real-data checks; no published GRIT number exists for them. This script
only reads the records and writes ``results/grit_short_runs.md``; it trains nothing.

    python benchmarks/grit_short_runs.py [--records benchmarks/results/grit_short]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import markdown_table, publish

#: Records file stem, the published result (mean, std; None for the baselines), and the
#: number of epochs of the reference's recipe.
ROWS: tuple[tuple[str, tuple[float, float] | None, int], ...] = (
    ("zinc_grit", (0.059, 0.002), 2000),
    ("zinc_gine", None, 2000),
    ("zinc_sinc", None, 2000),
    ("pattern_grit", (87.196, 0.076), 100),
    ("cluster_grit", (80.026, 0.277), 100),
    ("molesol_grit", None, 100),
    ("molesol_gine", None, 100),
    ("molfreesolv_grit", None, 100),
    ("molfreesolv_gine", None, 100),
)


def _load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _value(record: dict[str, Any], value: float | None) -> str:
    if value is None:
        return "n/a"
    if record["higher_is_better"]:
        return f"{100 * value:.2f}"
    return f"{value:.4f}"


def _graphs(record: dict[str, Any]) -> str:
    options = record["config"].get("dataset_options") or {}
    if not options:
        return "all"
    return " / ".join(f"{options[k]:,}" for k in ("num_train", "num_valid", "num_test"))


def summary_rows(folder: Path) -> tuple[list[list[str]], list[str]]:
    rows, curves = [], []
    for stem, published, reference_epochs in ROWS:
        path = folder / f"{stem}.jsonl"
        if not path.exists():
            rows.append([stem, "not run", *[""] * 9])
            continue
        for record in _load(path):
            metric = record["metric"]
            history = record["history"]
            best = record["best"]
            paper = ""
            if published is not None:
                paper = f"{published[0]:.3f} ± {published[1]:.3f}"
            train = [h["train_seconds"] for h in history]
            rows.append(
                [
                    record["dataset"],
                    record["model"],
                    _graphs(record),
                    f"{len(history)} of {reference_epochs:,}",
                    f"{record['num_parameters']:,}",
                    metric,
                    str(best["epoch"]),
                    _value(record, best["valid"]),
                    f"**{_value(record, best['test'])}**",
                    paper,
                    f"{sorted(train)[len(train) // 2]:.0f}",
                ]
            )
            curve = [
                [
                    str(h["epoch"]),
                    "n/a" if h["loss"] is None else f"{h['loss']:.4f}",
                    _value(record, h["valid"][metric]),
                    _value(record, h["test"][metric]),
                    f"{h['train_seconds']:.0f}",
                ]
                for h in history
            ]
            curves.append(f"### {record['dataset']}, {record['model']} (seed {record['seed']})")
            curves.append(
                markdown_table(["epoch", "train loss", f"valid {metric}", "test", "train s"], curve)
            )
    return rows, curves


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = Path(__file__).resolve().parent
    parser.add_argument("--records", type=Path, default=here / "results" / "grit_short")
    parser.add_argument("--notes", type=Path, default=None, help="markdown appended as is")
    args = parser.parse_args(argv)
    rows, curves = summary_rows(args.records)
    table = markdown_table(
        [
            "dataset",
            "model",
            "graphs (train / valid / test)",
            "epochs run",
            "parameters",
            "metric",
            "best epoch",
            "valid",
            "test",
            "published (reference recipe)",
            "train s/epoch (median, 1 thread)",
        ],
        rows,
    )
    sections = [
        __doc__.split("\n\n", 1)[1],
        "## At the best validation epoch (accuracies x 100; ZINC: MAE, lower is better)",
        table,
    ]
    if args.notes is not None:
        sections.append(args.notes.read_text())
    sections += ["## Learning curves", *curves]
    return publish("grit_short_runs", "GRIT short runs: ZINC, PATTERN, CLUSTER", sections, False)


if __name__ == "__main__":
    main()
