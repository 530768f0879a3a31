"""Calibration of the ``'auto'`` rule of :func:`graphpair.ops.common_neighbors`.

Both paths on random graphs (uniform edges, symmetrised) with N from 64 to 30,000 and mean
degree 2 to 256, 65,536 random pairs each. Per pair, the dense path reads N/8 bitset bytes and
the sparse path examines about the mean degree E/N candidates, so which one wins depends on
the bitset bytes per stored edge, N * ceil(N/8) / E. The table lists that ratio, both times,
the winner, and the path ``'auto'`` picks (``CN_DENSE_BYTES_PER_EDGE`` = 16,
``CN_DENSE_SMALL_BYTES`` = 4 KiB).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import fmt_time, markdown_table, median_time, write_results
from graphpair.ops import CSR, common_neighbors, common_neighbors_method
from graphpair.ops._csr import bitset_bytes

GRID = [(n, d) for n in (64, 256, 1_024, 2_708, 10_000, 30_000) for d in (2, 4, 16, 64, 256)]


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--data-root", default=None, help="unused; accepted for run.py")
    args = parser.parse_args(argv)
    num_pairs = 4_096 if args.quick else 65_536
    repeats = 2 if args.quick else 3
    grid = [(n, d) for n, d in GRID if n <= 2_708] if args.quick else GRID
    command = "python benchmarks/bench_cn_method_rule.py" + (" --quick" if args.quick else "")
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
        adj.bitset()  # built once per adjacency in real use; not part of the per-batch cost
        sparse, _ = median_time(
            lambda a=adj, p=pairs: common_neighbors(a, p, method="sparse"), repeats
        )
        dense, _ = median_time(
            lambda a=adj, p=pairs: common_neighbors(a, p, method="dense"), repeats
        )
        winner = "dense" if dense < sparse else "sparse"
        chosen = common_neighbors_method(adj)
        agree += chosen == winner
        ratio = bitset_bytes(num_nodes) / max(adj.num_edges, 1)
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
    body = __doc__.split("\n\n", 1)[1].strip()
    body += f"\n\n## {num_pairs:,} pairs per graph (median of {repeats})\n\n"
    body += markdown_table(
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
    body += f"\n\n`auto` picked the faster path on {agree} of {len(rows)} graphs."
    write_results("cn_method_rule", body, command)
    return body


if __name__ == "__main__":
    print(main())
