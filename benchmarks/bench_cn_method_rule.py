"""Calibration of the `'auto'` rule of `graphpair.ops.common_neighbors`.

Both paths on random graphs (uniform edges, symmetrised) with N from 64 to 30,000 and mean
degree 2 to 256, 65,536 random pairs each. Per pair, the dense path reads N/8 bitset bytes and
the sparse path examines about the mean degree E/N candidates, so which one wins depends on
the bitset bytes per stored edge, N * ceil(N/8) / E. The table lists that ratio, both times,
the winner, and the path `'auto'` picks with the rule's current constants (stated below the
table). The bitset is built before timing (once per adjacency in use).
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
from graphpair.ops import (
    CN_DENSE_BYTES_PER_EDGE,
    CN_DENSE_SMALL_BYTES,
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
        adj.bitset()  # built once per adjacency in real use; not part of the per-batch cost
        # The check doubles as the warm-up: both paths return sets sorted by pair, then node.
        by_sparse = common_neighbors(adj, pairs, method="sparse")
        by_dense = common_neighbors(adj, pairs, method="dense")
        if not all(torch.equal(a, b) for a, b in zip(by_sparse, by_dense, strict=True)):
            raise AssertionError(f"the CN paths disagree on N = {num_nodes}, degree {degree}")
        sparse, _ = median_time(
            lambda a=adj, p=pairs: common_neighbors(a, p, method="sparse"), repeats, warmup=0
        )
        dense, _ = median_time(
            lambda a=adj, p=pairs: common_neighbors(a, p, method="dense"), repeats, warmup=0
        )
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
                fmt_time(sparse),
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
            "sparse",
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
        f"of {len(rows)} graphs.",
    ]
    return publish(
        "cn_method_rule", "Common neighbours: calibration of the 'auto' rule", sections, args.quick
    )


if __name__ == "__main__":
    main()
