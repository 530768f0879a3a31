"""Issue 4's accuracy rows: NCN / NCNC, 10 seeds, from the runner's own JSON records.

The runs are made with the CLI, one process per (dataset, predictor), one thread each::

    export GRAPHPAIR_DATA=../shared/data OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    graphpair link --dataset cora --predictor ncn --runs 10 \
        --output benchmarks/results/link_accuracy/cora_ncn.jsonl
    # ... and likewise cora/ncnc, citeseer/ncn, citeseer/ncnc

(a 10-seed run takes 7 min (Cora NCN) to 48 min (CiteSeer NCNC) on one core here). This
script only reads those records and writes ``results/link_accuracy.md``: per-seed test
Hits@100 at the epoch of best validation Hits@100, mean ± population std x 100 as the runner's
summary, next to the paper's numbers and issue 4's thresholds. It trains nothing.

    python benchmarks/link_accuracy.py [--records benchmarks/results/link_accuracy]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import markdown_table, publish

#: (dataset, predictor) -> (paper mean, paper std, issue 4 threshold), Hits@100 x 100.
PAPER: dict[tuple[str, str], tuple[float, float, float]] = {
    ("Cora", "ncn"): (89.05, 0.96, 89.0),
    ("Cora", "ncnc"): (89.65, 1.36, 89.6),
    ("CiteSeer", "ncn"): (91.56, 1.43, 91.5),
    ("CiteSeer", "ncnc"): (93.47, 0.95, 93.4),
}
METRIC = "hits@100"
NOTES = """## Reading (of the records above, made on 2026-12-03)

- CiteSeer NCN meets its threshold. Cora NCN (88.40) is 0.6 below the paper and 0.4 below
  the reference implementation run on this machine kind (88.78 ± 1.17, issue 4), within one
  standard deviation of both.
- **NCNC scores below NCN on both datasets** (Cora 88.01 against 88.40, CiteSeer 91.80 against
  92.00), where the paper has it 0.6 and 1.9 points above. That points at a difference in the
  completion rather than at noise. Not yet isolated; the suspects are the recursion
  (``official_recursion=False`` by default: the completion scores are the plain prediction on
  ``h``, not the reference's re-applied XLIN on ``h'`` with dropout active, quirk Q1), since
  the shipped ``scale``, ``offset`` and ``pt`` were tuned by the paper's authors with the
  reference recursion. A 10-seed run with ``--official-recursion`` is the next measurement.
- Seconds per epoch are the training epoch alone (evaluation excluded), one thread, on a
  machine that was otherwise mostly idle (a one-thread profiling job ran beside the Cora runs
  for a few minutes); issue 4's speed targets are measured by ``bench_link.py`` instead.
"""


def _load(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def rows(folder: Path) -> list[list[str]]:
    out = []
    for (dataset, predictor), (mean, std, threshold) in PAPER.items():
        path = folder / f"{dataset.lower()}_{predictor}.jsonl"
        if not path.exists():
            out.append([dataset, predictor.upper(), "not run", "", "", "", "", "", ""])
            continue
        records = _load(path)
        best = [r["best"][METRIC] for r in records]  # type: ignore[index]
        test = [100 * b["test"] for b in best]
        valid = [100 * b["valid"] for b in best]
        seconds = [float(r["seconds_per_epoch"]) for r in records]  # type: ignore[arg-type]
        got = statistics.fmean(test)
        out.append(
            [
                dataset,
                predictor.upper(),
                str(len(records)),
                f"{statistics.fmean(valid):.2f} ± {statistics.pstdev(valid):.2f}",
                f"**{got:.2f} ± {statistics.pstdev(test):.2f}**",
                f"{mean:.2f} ± {std:.2f}",
                f">= {threshold:.1f}: {'met' if got >= threshold else 'MISSED'}",
                f"{statistics.median(seconds):.3f}",
                ", ".join(f"{t:.2f}" for t in test),
            ]
        )
    return out


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = Path(__file__).resolve().parent
    parser.add_argument("--records", type=Path, default=here / "results" / "link_accuracy")
    args = parser.parse_args(argv)
    table = markdown_table(
        [
            "dataset",
            "predictor",
            "seeds",
            "valid Hits@100",
            "test Hits@100",
            "paper",
            "issue 4 threshold",
            "s/epoch (median, 1 thread)",
            "test per seed 0..9",
        ],
        rows(args.records),
    )
    sections = [__doc__.split("\n\n", 1)[1], "## Hits@100 (x 100), 10 seeds", table, NOTES]
    return publish("link_accuracy", "NCN / NCNC accuracy (issue 4)", sections, quick=False)


if __name__ == "__main__":
    main()
