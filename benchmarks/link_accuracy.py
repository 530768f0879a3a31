"""Issue 4's accuracy rows: NCN / NCNC, 10 seeds, from the runner's own JSON records.

The runs are made with the CLI, one process per (dataset, predictor), one thread each::

    export GRAPHPAIR_DATA=../shared/data OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    graphpair link --dataset cora --predictor ncn --runs 10 \
        --output benchmarks/results/link_accuracy/cora_ncn.jsonl
    # ... and likewise cora/ncnc, citeseer/ncn, citeseer/ncnc

On the reference's splits (the four issue-4 rows, two processes side by side) a 10-seed run
took 6 min (Cora NCN), 11 min (CiteSeer NCN), 26 min (Cora NCNC) and 20 + 18 min (CiteSeer
NCNC, run as ``--runs 5 --seed 0`` and ``--runs 5 --seed 5``, records concatenated). The rows
marked ``earlier`` were recorded under ``earlier_splits/`` before the split drew the
reference's draws: the NCNC ones with graphpair's own recursion under
``--no-official-recursion``, the others with the commands above, and more rows with extra
flags: Cora NCN with ``--conv sinc`` (SINC-GCN as the encoder, issue 6, with Cora's puregcn
hyper-parameters otherwise: nothing was tuned for it), and ``--predictor grit-pair --runs 3``
on Cora (issue 5: GRIT on the sparse RRWP of the masked graph, K = 3, width 64, 2 blocks,
with the pair head; the rest of Cora's configuration; not tuned). This
script only reads those records and writes ``results/link_accuracy.md``: per-seed test
Hits@100 at the epoch of best validation Hits@100, mean ± population std x 100 as the runner's
summary, next to the paper's numbers and issue 4's thresholds. It trains nothing.

    python benchmarks/link_accuracy.py [--records benchmarks/results/link_accuracy]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import markdown_table, publish
from graphpair.train import read_records

#: Records file stem, dataset, model label, command flags beyond ``--dataset --predictor``,
#: the split draws, the paper's (mean, std) and issue 4's threshold (None: not an issue-4
#: row), Hits@100 x 100. The flags are those that reproduce the row with the current shipped
#: configurations. The rows under ``earlier_splits/`` were recorded before ``ncn-planetoid``
#: drew the reference's own splits (graphpair's own draws of the same protocol, 2026-12-03 and
#: 2026-12-04): their commands now give other numbers.
ROWS: tuple[tuple[str, str, str, str, str, tuple[float, float] | None, float | None], ...] = (
    ("cora_ncn", "Cora", "NCN", "", "reference", (89.05, 0.96), 89.0),
    ("cora_ncnc", "Cora", "NCNC", "", "reference", (89.65, 1.36), 89.6),
    ("citeseer_ncn", "CiteSeer", "NCN", "", "reference", (91.56, 1.43), 91.5),
    ("citeseer_ncnc", "CiteSeer", "NCNC", "", "reference", (93.47, 0.95), 93.4),
    ("earlier_splits/cora_ncn", "Cora", "NCN", "", "earlier", (89.05, 0.96), None),
    ("earlier_splits/cora_ncnc_official", "Cora", "NCNC", "", "earlier", (89.65, 1.36), None),
    ("earlier_splits/citeseer_ncn", "CiteSeer", "NCN", "", "earlier", (91.56, 1.43), None),
    (
        "earlier_splits/citeseer_ncnc_official",
        "CiteSeer",
        "NCNC",
        "",
        "earlier",
        (93.47, 0.95),
        None,
    ),
    (
        "earlier_splits/cora_ncnc",
        "Cora",
        "NCNC",
        "--no-official-recursion",
        "earlier",
        (89.65, 1.36),
        None,
    ),
    (
        "earlier_splits/citeseer_ncnc",
        "CiteSeer",
        "NCNC",
        "--no-official-recursion",
        "earlier",
        (93.47, 0.95),
        None,
    ),
    (
        "earlier_splits/cora_ncn_sinc",
        "Cora",
        "NCN, SINC encoder (issue 6)",
        "--conv sinc",
        "earlier",
        None,
        None,
    ),
    (
        "earlier_splits/cora_grit_pair",
        "Cora",
        "GRIT pair head (issue 5)",
        "--predictor grit-pair --runs 3",
        "earlier",
        None,
        None,
    ),
)
METRIC = "hits@100"
NOTES = """## Reading (reference-split rows made on 2026-12-04, the others on 2026-12-03 and -04)

- **On the reference's own splits** (``ncn_planetoid_split`` since 2026-12-04 draws the
  splits the reference draws for its runs 0..9; tested against PyG's
  ``train_test_split_edges`` after ``torch.manual_seed(run)``): Cora NCN 88.27 ± 0.79,
  Cora NCNC 89.02 ± 0.96, CiteSeer NCN 91.60 ± 1.28 and CiteSeer NCNC 92.89 ± 1.19.
  CiteSeer NCN meets its threshold. The other three are MISSED, by 0.73 (Cora NCN), 0.58
  (Cora NCNC) and 0.51 (CiteSeer NCNC), each within one standard deviation of the paper.
  The reference implementation run on this machine kind gave Cora NCN 88.78 ± 1.17
  (issue 4): 0.27 under the paper's 89.05 and 0.51 over graphpair. The splits are the same
  if its torch drew the same permutations; the torch here (2.13) keeps the draws of the old
  ``randperm`` for fewer than 2**32 / 20 elements. With the splits fixed, what remains
  between two runs is the training randomness (initialisation, dropout, negatives, batch
  order), which no implementation shares with the reference: its negatives come from
  Python's unseeded ``random`` (quirk Q6).
- **How much of the gap is training noise** (``benchmarks/link_training_noise.py``,
  ``results/link_training_noise.md``, 2026-12-04 15:14-15:37 UTC): the same ten reference
  splits retrained with other training seeds (split ``r`` with seed ``100 + r``, and
  ``200 + r``). Cora NCN gave 88.88 ± 0.83 and 88.85 ± 1.20 beside the shipped seeds'
  88.27; Cora NCNC gave 89.17 ± 1.45 beside 89.02. Pooled over the draws, one run's
  training noise has a std of 0.66 (NCN) and 1.31 (NCNC), so a 10-run mean on fixed splits
  moves by 0.21 and 0.41 from training alone. The mean of the three Cora NCN draws, 88.67,
  is 0.11 from the reference's 88.78 on this machine kind; the paper's 89.05 and the
  threshold 89.0 sit 1.6 to 1.8 of those standard errors above it. The shipped seeds' Cora
  NCN row is the lowest of the three draws.
- Ran on 2026-12-04 from 13:54 to about 14:50 UTC: two CLI processes side by side, one
  thread each, and a 16-minute test run beside them for part of the time. CiteSeer NCNC ran
  as two halves,
  ``--runs 5 --seed 0`` and ``--runs 5 --seed 5``, whose records are concatenated; seeds
  and runs are bookkeeping fields, so ``graphpair report`` groups the halves as one
  configuration.
- **Earlier split draws.** The ``earlier`` rows were recorded before that change, on
  graphpair's own draws of the same protocol, so their per-seed numbers do not pair with
  the reference-split rows. On those draws, Cora NCN gave 88.40 (and 88.41 twice after the
  speed changes, below), Cora NCNC 88.85, CiteSeer NCN 92.00 and CiteSeer NCNC 93.32. Over
  both sets of splits, graphpair sits 0.4 to 0.8 under the paper on Cora and on CiteSeer
  NCNC, and at or above it on CiteSeer NCN.
- **NCNC with the reference's completion recursion** is the shipped configuration since
  2026-12-04 (quirk Q1: the completion scores come from the inner call on ``h'``, with XLIN
  applied again, edges dropped again and dropout active). It scores above NCN on both
  datasets and both sets of splits, as in the paper. With graphpair's own recursion
  (``--no-official-recursion``, earlier splits), NCNC scored below NCN on both datasets
  (88.01, 91.80). That is why the recursion was switched: the authors tuned the shipped
  ``scale``, ``offset`` and ``pt`` with the reference's recursion.
- SINC-GCN as the NCN encoder (``--conv sinc``) with Cora's puregcn hyper-parameters reaches
  62.27 ± 3.29 (earlier splits), far under the puregcn encoder's 88.40: the best epoch is
  74-98 of 100 in every seed, so it is still learning at the end of the budget, and the
  learning rates, dropout and width were tuned for a parameter-free propagation, not for a
  learned conv. Not a verdict on SINC, and not tuned here.
- The GRIT pair head (3 seeds, untuned: width 64, 2 blocks, 4 heads, K = 3 over the sparse
  RRWP of the masked training graph, 55,452 kept pairs) reaches 84.77 ± 1.13, 3.6 under NCN
  with 1.7 s per epoch: a graph transformer scoring links end to end, not a competitor yet.
- Seconds per epoch are the training epoch alone (evaluation excluded), one thread. The first
  four 2026-12-03 rows ran one after another on a machine otherwise mostly idle; Cora NCNC
  official and the SINC row ran side by side, partly beside a CI run, and CiteSeer NCNC
  official (4.4 s per epoch against 2.5 s for graphpair's recursion) and the GRIT row ran
  beside two or three other training jobs, so their times are inflated. Issue 4's speed
  targets are measured by ``bench_link.py`` instead.
- **ogbl-ddi NCN: one epoch of the paper's configuration, not a full seed.** ``graphpair
  link --dataset ogbl-ddi --predictor ncn --epochs 1 --runs 1 --output
  link_accuracy/ddi_ncn_1epoch.jsonl`` (2026-12-04, two threads, beside three other
  training jobs: load about 3): 1,766 s for the training epoch, Hits@20 valid 27.56 and test
  17.22 after it (paper after 100 epochs: 82.32 ± 6.10). The shipped configuration trains
  100 epochs: about 49 hours per seed at that speed; at the step time of ``link_speed.md``
  (10.2 s per step of 24,576 pairs, 43 steps, after ``pair_sum`` became a sparse product)
  about 12-13 hours per seed and 5 days for 10 seeds. Not run on this CPU.
- **ogbl-ddi NCN, one full seed on a GPU** (an H200 lent for 15 minutes on 2026-12-04, torch
  2.11.0+cu130, record ``link_accuracy/ddi_ncn_gpu.jsonl``): the paper's configuration for
  its 100 epochs with ``--device cuda --eval-every 2`` (validation every second epoch, to fit
  the 10-minute limit of one call; the paper evaluates every epoch): Hits@20 valid 71.99,
  **test 87.46** at epoch 82, against the paper's 82.32 ± 6.10 over 10 seeds; 5.03 s per
  training epoch, 531 s for the run. One seed is no mean ± std (the test value swung between
  62.5 and 88.1 over the last 40 epochs); 10 seeds would take about 90 minutes on that GPU.
- **Accuracy after the link-path speed change** (commit 26aadb6, 2026-12-04: CSR sparse
  features, graphpair's fast dropout in the encoder, ``index_select`` gathers; other dropout
  draws, same distribution): ``graphpair link --dataset cora --predictor ncn --runs 10`` (one
  thread, beside other jobs) gave valid 90.19 ± 1.12 and **test 88.41 ± 1.28** (per seed
  88.34, 88.25, 85.97, 90.14, 88.15, 87.96, 89.38, 86.64, 89.95, 89.29), against the 88.40 ±
  0.93 of the row above: the same accuracy, still under the 89.0 threshold. Its records are not
  stored here: with the same configuration and seeds, ``graphpair report`` would group them
  with the row's records as repeated seeds. The NCNC rows were not rerun (about an hour on
  this CPU).
- **Accuracy after the second speed change** (commits 46e50ff and b4882bc, 2026-12-04: CSR
  propagation, int16 dropout masks from the same draws, bitset lookups, ``index_add_`` sums;
  sums added in another order): the same command at 11:56 UTC, one thread, gave valid 90.19 ±
  1.12 and **test 88.41 ± 1.28**, every seed's test value equal to the run above at two
  decimals, in 0.266 s per epoch (308 s for the ten runs). Not stored, for the same reason.
"""


def rows(folder: Path) -> list[list[str]]:
    out = []
    for stem, dataset, label, flags, split, paper, threshold in ROWS:
        path = folder / f"{stem}.jsonl"
        if not path.exists():
            out.append([dataset, label, flags, split, "not run", "", "", "", "", "", ""])
            continue
        records = read_records([path])
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
                split,
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
            "splits",
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
