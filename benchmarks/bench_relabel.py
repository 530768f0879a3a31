"""`neighbor_sample`'s two relabellings on OGB-size stand-ins: an ``[N]`` table against binary
searches, by batch size (issue 22).

A sampled link step relabels every sampled neighbour to a local id. By binary search in the
sorted nodes seen so far (``searchsorted``, a ``unique`` of the new ones and a merge) the cost
grows with the sample only, but each lookup is a search; by an ``[N]`` table of local ids
(gathers and scatters) each lookup is one read, but the table costs ``O(N)`` to fill.
``neighbor_sample`` uses the table when the sample can reach at least
``TABLE_LABELS_MIN_SHARE`` of the nodes (``B (1 + f + f^2 + f^3) >= N / 32`` for ``B`` seeds
and fanout ``f`` per hop). This times one ``neighbor_sample`` call both ways on the
ppa and citation2 stand-ins of ``bench_scale.py`` (the same cached files), fanout
(10, 10, 10), ``B`` random distinct seeds, no masked entries, the same seeds and generator
state for both: median of the timed calls after one warm-up, in one process, one after the
other per batch size. The column "reach / N" is the bound over the node count (the rule takes
the table from 1/32 = 0.03125; first set at 1/16, lowered after a run of this benchmark
showed the table faster from about 0.012 on citation2 and 0.06 on ppa). ``--real`` adds
Cora and ogbl-ddi (shared data) at ``bench_sampling.py``'s setting: 1,024 seeds, fanout
(15, 10, 5); both small graphs, so the rule takes the table.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from unittest import mock

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import bench_scale
from benchmarks._common import (
    add_common_arguments,
    fmt_time,
    load_cora,
    load_ddi,
    markdown_table,
    median_time,
    publish,
    resolve_data_root,
)
from graphpair.ops import CSR, _sampling, neighbor_sample

#: The stand-ins' fanout (the shipped ppa / citation2 NCN's); the real graphs get
#: ``bench_sampling.py``'s.
FANOUT = (10, 10, 10)
REAL_FANOUT = (15, 10, 5)
REAL_SEEDS = 1024


def _call(adj: CSR, seeds: torch.Tensor, fanout: tuple[int, ...], share: float) -> None:
    with mock.patch.object(_sampling, "TABLE_LABELS_MIN_SHARE", share):
        generator = torch.Generator().manual_seed(0)
        neighbor_sample(adj, seeds, fanout, generator=generator)


def _rows(
    adj: CSR, batches: list[int], fanout: tuple[int, ...], repeats: int
) -> list[tuple[str, ...]]:
    """One row per batch size: both relabellings of the same call, and the rule's choice."""
    n, rows = adj.num_nodes, []
    for batch in (b for b in batches if b <= n):
        seeds = torch.randperm(n, generator=torch.Generator().manual_seed(batch))[:batch]
        reach = _sampling._reach(batch, fanout)
        sub = neighbor_sample(adj, seeds, fanout, generator=torch.Generator().manual_seed(0))
        table, _ = median_time(lambda s=seeds: _call(adj, s, fanout, 0.0), repeats)
        search, _ = median_time(lambda s=seeds: _call(adj, s, fanout, math.inf), repeats)
        print(n, batch, table, search, flush=True)
        rows.append(
            (
                f"{batch:,}",
                f"{reach / n:.4g}",
                f"{sub.num_nodes:,} ({sub.num_nodes / n:.1%})",
                fmt_time(search),
                fmt_time(table),
                f"{table / search:.2f}x",
                "table" if _sampling._reaches(batch, fanout, n) else "search",
            )
        )
    return rows


def _section(title: str, fanout: tuple[int, ...], repeats: int, rows: list[tuple[str, ...]]) -> str:
    header = ("seeds", "reach / N", "sampled nodes", "search", "table", "table / search")
    return f"## {title}\n\nFanout {fanout}; median of {repeats} calls each.\n\n" + markdown_table(
        (*header, "the rule takes"), rows
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--graphs", default="ppa,citation2")
    parser.add_argument("--fraction", type=float, default=1.0)
    parser.add_argument("--batches", default="16,32,64,128,1024,8192,65536")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--real",
        action="store_true",
        help=f"also Cora and ogbl-ddi (shared data), {REAL_SEEDS:,} seeds, fanout {REAL_FANOUT}",
    )
    args = parser.parse_args()
    fraction = 0.004 if args.quick else args.fraction
    repeats = 1 if args.quick else args.repeats
    batches = [int(b) for b in args.batches.split(",")]
    sections = []
    for name in args.graphs.split(","):
        edges, n = bench_scale.standin(name, fraction)
        edge_index = torch.from_numpy(edges)
        adj = CSR.from_edge_index(torch.cat([edge_index, edge_index.flip(0)], 1), n)
        title = f"{name} stand-in at {fraction:g} ({n:,} nodes, {edges.shape[1]:,} edges)"
        sections.append(_section(title, FANOUT, repeats, _rows(adj, batches, FANOUT, repeats)))
    if args.real:
        root = resolve_data_root(args.data_root)
        for graph in (load_cora(root), load_ddi(root)):
            adj = CSR.from_edge_index(graph.edge_index, graph.num_nodes)
            title = f"{graph.name} ({graph.num_nodes:,} nodes, {adj.num_edges:,} entries)"
            rows = _rows(adj, [REAL_SEEDS], REAL_FANOUT, repeats)
            sections.append(_section(title, REAL_FANOUT, repeats, rows))
    publish("relabel", "neighbor_sample: relabelling by table or by search", sections, args.quick)


if __name__ == "__main__":
    main()
