"""Calibration of the `'auto'` rule of `graphpair.ops.common_neighbors`.

The paths on random graphs (uniform edges, symmetrised) with N from 64 to 30,000 and mean
degree 2 to 256, 65,536 random pairs each. Per pair, the dense path reads N/8 bitset bytes and
the sparse path examines about the mean degree E/N candidates, so which one wins depends on
the bitset bytes per stored edge, N * ceil(N/8) / E. The sparse path finds each candidate in
the other row by a binary search, or by a lookup in the adjacency bitset where the bitset is
cheap (`CN_LOOKUP_BITSET_BYTES`, `CN_LOOKUP_BYTES_PER_EDGE`) or already built; both are timed,
and *sparse as run* is the one the sparse path takes on a fresh adjacency. The table lists the
bytes per entry, the times, the faster of the sparse path as run and the dense path, and the
path `'auto'` picks with the rule's current constants (stated below the table). Bitsets are
built before timing (once per adjacency in use).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from unittest import mock

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import graphpair.ops._common_neighbors as cn_module
from benchmarks._common import (
    add_common_arguments,
    fmt_time,
    markdown_table,
    median_time,
    publish,
)
from graphpair.ops import (
    CN_DENSE_BYTES_PER_EDGE,
    CN_DENSE_SMALL_BYTES,
    CN_LOOKUP_BITSET_BYTES,
    CN_LOOKUP_BYTES_PER_EDGE,
    CSR,
    common_neighbors,
    common_neighbors_method,
)

GRID = [(n, d) for n in (64, 256, 1_024, 2_708, 10_000, 30_000) for d in (2, 4, 16, 64, 256)]


def main(argv: list[str] | None = None) -> Path:
    """Run the calibration and write ``results/cn_method_rule.md`` (``.quick.md``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)  # --data-root is accepted for run.py and unused
    args = parser.parse_args(argv)
    num_pairs = 4_096 if args.quick else 65_536
    repeats = 2 if args.quick else 3
    grid = [(n, d) for n, d in GRID if n <= 2_708] if args.quick else GRID
    gen = torch.Generator().manual_seed(0)
    rows, agree = [], 0
    for num_nodes, degree in grid:
        num_edges = num_nodes * degree // 2
        if num_edges > 4_000_000 or degree >= num_nodes:
            continue
        adj = CSR.from_edge_index(
            torch.randint(0, num_nodes, (2, num_edges), generator=gen), num_nodes
        )
        pairs = torch.randint(0, num_nodes, (2, num_pairs), generator=gen)
        print(f"  N = {num_nodes:,}, mean degree {degree}", flush=True)
        lookup_as_run = cn_module._lookup_bits(adj) is not None  # builds it where it would
        adj.drop_bitset()
        with (
            mock.patch.object(cn_module, "CN_LOOKUP_BITSET_BYTES", -1),
            mock.patch.object(cn_module, "CN_LOOKUP_BYTES_PER_EDGE", -1),
        ):
            by_search = common_neighbors(adj, pairs, method="sparse")  # also the warm-up
            search, _ = median_time(
                lambda a=adj, p=pairs: common_neighbors(a, p, method="sparse"), repeats, warmup=0
            )
        assert not adj.has_bitset
        adj.bitset()  # built once per adjacency in real use; not part of the per-batch cost
        # The checks double as the warm-up: every path returns sets sorted by pair, then node.
        by_lookup = common_neighbors(adj, pairs, method="sparse")
        by_dense = common_neighbors(adj, pairs, method="dense")
        for other in (by_lookup, by_dense):
            if not all(torch.equal(a, b) for a, b in zip(by_search, other, strict=True)):
                raise AssertionError(f"the CN paths disagree on N = {num_nodes}, degree {degree}")
        lookup, _ = median_time(
            lambda a=adj, p=pairs: common_neighbors(a, p, method="sparse"), repeats, warmup=0
        )
        dense, _ = median_time(
            lambda a=adj, p=pairs: common_neighbors(a, p, method="dense"), repeats, warmup=0
        )
        sparse = lookup if lookup_as_run else search
        winner = "dense" if dense < sparse else "sparse"
        chosen = common_neighbors_method(adj)
        agree += chosen == winner
        ratio = num_nodes * ((num_nodes + 7) // 8) / max(adj.num_edges, 1)  # bitset bytes
        rows.append(
            [
                f"{num_nodes:,}",
                degree,
                f"{adj.num_edges:,}",
                f"{ratio:.1f}",
                fmt_time(search),
                fmt_time(lookup),
                "lookup" if lookup_as_run else "search",
                fmt_time(dense),
                winner,
                chosen,
                f"{max(sparse, dense) / min(sparse, dense):.2f}x",
            ]
        )
    table = markdown_table(
        [
            "N",
            "mean degree",
            "stored entries",
            "bitset bytes / entry",
            "sparse, search",
            "sparse, lookup",
            "sparse as run",
            "dense",
            "faster",
            "auto picks",
            "gap",
        ],
        rows,
    )
    sections = [
        __doc__.split("\n\n", 1)[1],
        f"## {num_pairs:,} pairs per graph (median of {repeats} after one warm-up call)",
        table,
        f"`auto` (`CN_DENSE_BYTES_PER_EDGE` = {CN_DENSE_BYTES_PER_EDGE}, "
        f"`CN_DENSE_SMALL_BYTES` = {CN_DENSE_SMALL_BYTES:,}) picked the faster path on {agree} "
        f"of {len(rows)} graphs. The sparse path looks up where the bitset is at most "
        f"{CN_LOOKUP_BITSET_BYTES / 2**20:.0f} MiB (`CN_LOOKUP_BITSET_BYTES`) or "
        f"{CN_LOOKUP_BYTES_PER_EDGE} bytes per entry (`CN_LOOKUP_BYTES_PER_EDGE`).",
    ]
    return publish(
        "cn_method_rule", "Common neighbours: calibration of the 'auto' rule", sections, args.quick
    )


if __name__ == "__main__":
    main()
