"""Neighbour sampling on a masked graph: Floyd's algorithm for the rows without a masked entry.

A sampled link step masks its batch's target links (target link removal), so every hop of
its ``neighbor_sample`` runs on a CSR with masked entries. Those used to send every frontier
row down the random-key path, which expands all of a row's entries (``O(sum of degrees)``);
now only the rows holding a masked entry take it and the others draw by Floyd's algorithm
(``O(F k^2)``). This measures one step's sampling in both ways, side by side in one process:

- ``split``: ``neighbor_sample`` as shipped;
- ``all ranked`` (the baseline, the rule before): the same call with
  :meth:`~graphpair.ops.CSR.masked_rows` reporting every row, so that every row ranks.

Setup per graph (the power-law stand-ins of ``bench_scale.py``, generated or read from its
cache): 16,384 stored edges masked (one training batch of positives), seeds the distinct
endpoints of those and of 16,384 random pairs, fanout (10, 10, 10) (the link runner's default
for a 3-layer encoder). Median of ``--repeats`` timed calls after one warm-up, two threads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    add_common_arguments,
    fmt_time,
    markdown_table,
    median_time,
    publish,
)
from benchmarks.bench_scale import standin
from graphpair.ops import CSR, neighbor_sample


def bench(name: str, fraction: float, repeats: int) -> list[object]:
    edges, n = standin(name, fraction)
    adj = CSR.from_edge_index(torch.from_numpy(edges), n)
    gen = torch.Generator().manual_seed(0)
    stored = adj.to_edge_index()
    pos = stored[:, torch.randint(0, stored.size(1), (16_384,), generator=gen)]
    neg = torch.randint(0, n, (2, 16_384), generator=gen)
    seeds = torch.unique(torch.cat([pos, neg], 1))
    fanout = (10, 10, 10)
    adj.mask_edges(pos)

    def split() -> None:
        neighbor_sample(adj, seeds, fanout, generator=torch.Generator().manual_seed(1))

    every = torch.arange(n)

    def all_ranked() -> None:
        adj.masked_rows = lambda: every  # type: ignore[method-assign]
        try:
            split()
        finally:
            del adj.masked_rows

    t_split, _ = median_time(split, repeats)
    t_all, _ = median_time(all_ranked, repeats)
    return [
        f"{name} {fraction:g}",
        f"{adj.num_edges:,}",
        f"{seeds.numel():,}",
        f"{adj.masked_rows().numel():,}",
        fmt_time(t_split),
        fmt_time(t_all),
        f"{t_split / t_all:.2f}x",
    ]


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--fractions", default="0.0625,0.25")
    parser.add_argument("--graphs", default="ppa,citation2")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    fractions = [0.004] if args.quick else [float(f) for f in args.fractions.split(",")]
    rows = [
        bench(name, fraction, 1 if args.quick else args.repeats)
        for name in args.graphs.split(",")
        for fraction in fractions
    ]
    header = [
        "graph",
        "stored entries",
        "seeds",
        "rows holding a mask",
        "split (shipped)",
        "all ranked (before)",
        "ratio",
    ]
    command = "`.venv/bin/python benchmarks/bench_masked_sampling.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    section = "\n\n".join(
        [
            "Command: " + command.rstrip() + "`",
            "## One step's sampling",
            markdown_table(header, rows),
        ]
    )
    return publish("masked_sampling", "Neighbour sampling on a masked graph", [section], args.quick)


if __name__ == "__main__":
    main()
