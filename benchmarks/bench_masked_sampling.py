"""Neighbour sampling on a masked graph: Floyd's algorithm over the active entries of every row.

A sampled link step masks its batch's target links (target link removal), so every hop of
its ``neighbor_sample`` runs on a CSR with masked entries. At first that sent every frontier
row down the random-key path, which expands all of a row's entries (``O(sum of degrees)``);
then only the rows holding a masked entry took it (the endpoints of the batch's positives,
whose degrees are the largest) and the others drew by Floyd's algorithm (``O(F k^2)``); now
every row draws by Floyd's algorithm among its active entries, the drawn ranks moved past the
masked entries before them. This measures one step's sampling in the three ways, side by
side in one process:

- ``active ranks``: ``neighbor_sample`` as shipped;
- ``split`` (the baseline, the rule before 2026-12-07): the rows holding a masked entry rank
  random keys over their entries, the others draw by Floyd's algorithm;
- ``all ranked`` (the rule before that): every row ranks random keys.

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
from graphpair.ops import CSR, _sampling, neighbor_sample


def split_hop(adj: CSR, frontier: torch.Tensor, k: int, generator: object) -> object:
    """One hop by the rule before 2026-12-07 (the ``split`` baseline, also
    ``bench_scale.py``'s ``step-sampled-before``)."""
    start = adj.rowptr[frontier]
    counts = adj.rowptr[frontier + 1] - start
    if not 0 <= k <= _sampling.FLOYD_MAX_FANOUT:
        return _sampling._ranked_hop(adj, start, counts, k, generator)  # type: ignore[arg-type]
    dirty = torch.isin(frontier, adj.masked_rows())
    clean, rough = (~dirty).nonzero().view(-1), dirty.nonzero().view(-1)
    pos_c, seg_c = _sampling._floyd_hop(start[clean], counts[clean], k, generator)
    pos_r, seg_r = _sampling._ranked_hop(adj, start[rough], counts[rough], k, generator)
    pos, seg = torch.cat([pos_c, pos_r]), torch.cat([clean[seg_c], rough[seg_r]])
    order = torch.sort(seg, stable=True).indices
    return pos[order], seg[order]


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

    def shipped() -> None:
        neighbor_sample(adj, seeds, fanout, generator=torch.Generator().manual_seed(1))

    every = torch.arange(n)

    def all_ranked_hop(adj: CSR, frontier: torch.Tensor, k: int, generator: object) -> object:
        adj.masked_rows = lambda: every  # type: ignore[method-assign]
        try:
            return split_hop(adj, frontier, k, generator)
        finally:
            del adj.masked_rows

    def patched(hop: object) -> object:
        def run() -> None:
            _sampling._sample_hop = hop  # type: ignore[assignment]
            try:
                shipped()
            finally:
                _sampling._sample_hop = sample_hop

        return run

    sample_hop = _sampling._sample_hop
    t_shipped, _ = median_time(shipped, repeats)
    t_split, _ = median_time(patched(split_hop), repeats)
    t_all, _ = median_time(patched(all_ranked_hop), repeats)
    return [
        f"{name} {fraction:g}",
        f"{adj.num_edges:,}",
        f"{seeds.numel():,}",
        f"{adj.masked_rows().numel():,}",
        fmt_time(t_shipped),
        fmt_time(t_split),
        fmt_time(t_all),
        f"{t_shipped / t_split:.2f}x",
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
        "active ranks (shipped)",
        "split (before)",
        "all ranked (first)",
        "shipped / split",
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
