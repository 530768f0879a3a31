"""Training noise of the NCN protocol on fixed splits (issue 4's accuracy rows).

Since ``ncn_planetoid_split`` draws the reference's own splits, two faithful implementations
run on the same ten splits; what still moves their 10-seed means apart is the training
randomness (initialisation, dropout, negatives, batch order), which nobody shares with the
reference (its negatives come from Python's unseeded ``random``, quirk Q6). This script
measures that part: it trains split ``r`` (``r`` = 0..9, the reference's run ``r``) with the
training seed ``offset + r`` instead of ``r``, through the runner's own ``train_link`` (only
the pairing of split and seed is changed), and compares the mean with the records of the
shipped command, whose run ``r`` trains split ``r`` with seed ``r``::

    export GRAPHPAIR_DATA=../shared/data OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    python benchmarks/link_training_noise.py train --dataset cora --predictor ncn \\
        --offset 100 --first 0 --count 5      # and --first 5 in a second process
    python benchmarks/link_training_noise.py report

``train`` appends one JSON line per run to ``results/link_training_noise/<dataset>_
<predictor>_offset<offset>.jsonl``; ``report`` writes ``results/link_training_noise.md``
from those lines and the records in ``results/link_accuracy/``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import markdown_table, publish
from graphpair.data import LinkSplit, link_split
from graphpair.train import link_config, read_records, train_link

HERE = Path(__file__).resolve().parent
RECORDS = HERE / "results" / "link_training_noise"
ACCURACY = HERE / "results" / "link_accuracy"
METRIC = "hits@100"


def _train(dataset: str, predictor: str, offset: int, first: int, count: int) -> Path:
    config = link_config(dataset, predictor, runs=count, seed=first)

    def splits(cfg: Any, loaded: Any) -> Iterator[tuple[int, LinkSplit]]:
        # Split r with training seed offset + r; the runner's own _splits pairs r with r.
        for r in range(cfg.seed, cfg.seed + cfg.runs):
            yield offset + r, link_split(loaded, r)

    RECORDS.mkdir(parents=True, exist_ok=True)
    out = RECORDS / f"{config.dataset.lower()}_{predictor}_offset{offset}.jsonl"
    with mock.patch("graphpair.train._link._splits", splits):
        result = train_link(config)
    lines = []
    for split_seed, run in zip(range(first, first + count), result.runs, strict=True):
        best = run.best[METRIC]
        line = {
            "dataset": config.dataset,
            "predictor": predictor,
            "split_seed": split_seed,
            "train_seed": run.seed,
            "epoch": best.epoch,
            "valid": best.valid,
            "test": best.test,
            "seconds_per_epoch": run.seconds_per_epoch,
        }
        lines.append(json.dumps(line) + "\n")
        print(lines[-1], end="")
    # One O_APPEND write of whole lines: two processes can share the file.
    with out.open("a") as f:
        f.write("".join(lines))
    return out


def _shipped(dataset: str, predictor: str) -> dict[int, float]:
    path = ACCURACY / f"{dataset.lower()}_{predictor}.jsonl"
    if not path.exists():
        return {}
    return {int(r["seed"]): 100 * r["best"][METRIC]["test"] for r in read_records([path])}


def _report() -> Path:
    rows = []
    # (dataset, predictor) -> split -> test values of every training draw, shipped included
    draws: dict[tuple[str, str], dict[int, list[float]]] = {}
    means: dict[tuple[str, str], list[float]] = {}
    for path in sorted(RECORDS.glob("*.jsonl")):
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        lines.sort(key=lambda line: line["split_seed"])
        first = lines[0]
        key = (first["dataset"], first["predictor"])
        shipped = _shipped(*key)
        if key not in draws:
            draws[key] = {r: [t] for r, t in shipped.items()}
            means[key] = [statistics.fmean(shipped.values())] if len(shipped) == 10 else []
        other = [100 * line["test"] for line in lines]
        for line, t in zip(lines, other, strict=True):
            draws[key].setdefault(line["split_seed"], []).append(t)
        if len(other) == 10:
            means[key].append(statistics.fmean(other))
        same = [shipped[line["split_seed"]] for line in lines if line["split_seed"] in shipped]
        rows.append(
            [
                first["dataset"],
                first["predictor"].upper(),
                f"{lines[0]['train_seed']}..{lines[-1]['train_seed']}",
                f"**{statistics.fmean(other):.2f} ± {statistics.pstdev(other):.2f}**",
                f"{statistics.fmean(same):.2f} ± {statistics.pstdev(same):.2f}" if same else "",
                ", ".join(f"{t:.2f}" for t in other),
            ]
        )
    table = markdown_table(
        [
            "dataset",
            "model",
            "training seeds (split r: seed offset + r)",
            "test Hits@100, these seeds",
            "test Hits@100, shipped seeds 0..9 (link_accuracy)",
            "test per split 0..9",
        ],
        rows,
    )
    pooled_rows = []
    for key, per_split in draws.items():
        spread = [statistics.variance(v) for v in per_split.values() if len(v) > 1]
        within = statistics.fmean(spread) ** 0.5 if spread else float("nan")
        pooled_rows.append(
            [
                key[0],
                key[1].upper(),
                str(len(means[key])),
                ", ".join(f"{m:.2f}" for m in means[key]),
                f"{statistics.fmean(means[key]):.2f}",
                f"{within:.2f}",
                f"{within / 10**0.5:.2f}",
            ]
        )
    pooled = markdown_table(
        [
            "dataset",
            "model",
            "10-run draws",
            "10-run means (shipped seeds first)",
            "mean of the draws",
            "training-noise std of one run (pooled within splits)",
            "its std for a 10-run mean",
        ],
        pooled_rows,
    )
    reading = (
        "The training-noise std of one run is the square root of the mean, over the ten "
        "splits, of the sample variance (ddof 1) of that split's test values across the "
        "draws; a 10-run mean on fixed splits carries that divided by sqrt(10)."
    )
    sections = [
        __doc__.split("\n\n", 1)[1],
        "## Test Hits@100 (x 100)",
        table,
        "## All draws on the same splits",
        pooled,
        reading,
    ]
    return publish(
        "link_training_noise", "NCN protocol: training noise on fixed splits", sections, False
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train splits first..first+count-1")
    train.add_argument("--dataset", default="cora")
    train.add_argument("--predictor", default="ncn")
    train.add_argument("--offset", type=int, default=100)
    train.add_argument("--first", type=int, default=0)
    train.add_argument("--count", type=int, default=10)
    sub.add_parser("report", help="write results/link_training_noise.md")
    args = parser.parse_args(argv)
    if args.command == "train":
        _train(args.dataset, args.predictor, args.offset, args.first, args.count)
    else:
        _report()


if __name__ == "__main__":
    main()
