"""Issue 4's accuracy rows: NCN / NCNC, 10 seeds, from the runner's own JSON records.

The runs are made with the CLI, one process per (dataset, predictor), one thread each::

    export GRAPHPAIR_DATA=../shared/data OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    graphpair link --dataset cora --predictor ncn --runs 10 \
        --output benchmarks/results/link_accuracy/cora_ncn.jsonl
    # ... and likewise cora/ncnc, citeseer/ncn, citeseer/ncnc

(a 10-seed run takes 7 min (Cora NCN) to 48 min (CiteSeer NCNC) on one core here). The
NCNC rows with the reference's completion recursion (now the shipped default) were recorded
with ``--official-recursion``; those with graphpair's own recursion before the switch. More
rows use the same command with extra flags: Cora NCN with ``--conv sinc``
(SINC-GCN as the encoder, issue 6, with Cora's puregcn hyper-parameters otherwise: nothing was
tuned for it), and ``--predictor grit-pair --runs 3`` on Cora (issue 5: GRIT on the sparse
RRWP of the masked graph, K = 3, width 64, 2 blocks, with the pair head; the rest of Cora's
configuration; not tuned). This
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import markdown_table, publish

#: Records file stem, dataset, model label, command flags beyond ``--dataset --predictor``,
#: the paper's (mean, std) and issue 4's threshold (None: not an issue-4 row), Hits@100 x 100.
#: The flags are those that reproduce the row with the current shipped configurations: NCNC
#: now ships with the reference's recursion, so the rows recorded with graphpair's own need
#: ``--no-official-recursion``.
ROWS: tuple[tuple[str, str, str, str, tuple[float, float] | None, float | None], ...] = (
    ("cora_ncn", "Cora", "NCN", "", (89.05, 0.96), 89.0),
    ("cora_ncnc_official", "Cora", "NCNC", "", (89.65, 1.36), 89.6),
    ("citeseer_ncn", "CiteSeer", "NCN", "", (91.56, 1.43), 91.5),
    ("citeseer_ncnc_official", "CiteSeer", "NCNC", "", (93.47, 0.95), 93.4),
    ("cora_ncnc", "Cora", "NCNC", "--no-official-recursion", (89.65, 1.36), None),
    ("citeseer_ncnc", "CiteSeer", "NCNC", "--no-official-recursion", (93.47, 0.95), None),
    ("cora_ncn_sinc", "Cora", "NCN, SINC encoder (issue 6)", "--conv sinc", None, None),
    ("cora_grit_pair", "Cora", "GRIT pair head (issue 5)", "(--predictor grit-pair)", None, None),
)
METRIC = "hits@100"
NOTES = """## Reading (of the records above, made on 2026-12-03)

- CiteSeer NCN meets its threshold. Cora NCN (88.40) is 0.6 below the paper and 0.4 below
  the reference implementation run on this machine kind (88.78 ± 1.17, issue 4), within one
  standard deviation of both.
- **NCNC with graphpair's default recursion scores below NCN on both datasets** (Cora 88.01
  against 88.40, CiteSeer 91.80 against 92.00), where the paper has it 0.6 and 1.9 points
  above. With the reference's recursion (``--official-recursion``: the completion scores come
  from the inner call on ``h'`` with XLIN applied again, edges dropped again and dropout
  active, quirk Q1) Cora NCNC reaches 88.85 ± 1.43: above NCN, +0.84 over the default
  recursion on the same seeds and splits, still 0.75 under the threshold. The shipped
  ``scale``, ``offset`` and ``pt`` were tuned by the paper's authors with that recursion, so
  it is the likely better default for the paper configurations; CiteSeer NCNC has not been
  rerun with it (48+ min on one core).
- SINC-GCN as the NCN encoder (``--conv sinc``) with Cora's puregcn hyper-parameters reaches
  62.27 ± 3.29, far under the puregcn encoder's 88.40: the best epoch is 74-98 of 100 in every
  seed, so it is still learning at the end of the budget, and the learning rates, dropout and
  width were tuned for a parameter-free propagation, not for a learned conv. Not a verdict on
  SINC, and not tuned here.
- Seconds per epoch are the training epoch alone (evaluation excluded), one thread. The four
  issue-4 rows ran one after another on a machine otherwise mostly idle (a one-thread profiling
  job ran beside the Cora runs for a few minutes); the last two ran side by side, partly beside
  a CI run, so their times are inflated. Issue 4's speed targets are measured by
  ``bench_link.py`` instead.
"""


def _load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def rows(folder: Path) -> list[list[str]]:
    out = []
    for stem, dataset, label, flags, paper, threshold in ROWS:
        path = folder / f"{stem}.jsonl"
        if not path.exists():
            out.append([dataset, label, flags, "not run", "", "", "", "", "", ""])
            continue
        records = _load(path)
        best = [r["best"][METRIC] for r in records]
        test = [100 * b["test"] for b in best]
        valid = [100 * b["valid"] for b in best]
        seconds = [float(r["seconds_per_epoch"]) for r in records]
        got = statistics.fmean(test)
        verdict = ""
        if threshold is not None:
            verdict = f">= {threshold:.1f}: {'met' if got >= threshold else 'MISSED'}"
        out.append(
            [
                dataset,
                label,
                flags,
                str(len(records)),
                f"{statistics.fmean(valid):.2f} ± {statistics.pstdev(valid):.2f}",
                f"**{got:.2f} ± {statistics.pstdev(test):.2f}**",
                "" if paper is None else f"{paper[0]:.2f} ± {paper[1]:.2f}",
                verdict,
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
            "model",
            "extra flags",
            "seeds",
            "valid Hits@100",
            "test Hits@100",
            "paper",
            "issue 4 threshold",
            "s/epoch (median, 1 thread)",
            "test per seed",
        ],
        rows(args.records),
    )
    sections = [__doc__.split("\n\n", 1)[1], "## Hits@100 (x 100)", table, NOTES]
    return publish("link_accuracy", "NCN / NCNC accuracy (issue 4)", sections, quick=False)


if __name__ == "__main__":
    main()
