"""Cost of `graphpair.ops.neighbor_sample` against per-node Python loops.

One mini-batch of PyG ``NeighborLoader``-style sampling: 1,024 seed nodes drawn at random
(fixed seed), fanout (15, 10, 5), uniformly without replacement, relabelled, on

- ogbl-ddi's training graph (4,267 nodes, 2,135,822 directed entries: mean degree 500, so
  the first hop already expands about half a million entries), and
- Cora's citation graph (2,708 nodes, 10,556 entries: mean degree 3.9, small and sparse);
- a random graph with 200,000 nodes and 1,000,000 uniformly drawn edges (mean degree 10,
  generated here with a fixed seed, nothing stored): sparse like ogbn-products but large
  enough that the three hops reach hundreds of thousands of edges.

Three implementations, each returning the node ids and the sampled edges:

- `neighbor_sample`: vectorised per hop (expand the frontier's CSR rows, one random
  permutation key per entry of an over-full row, one sort by (row, key), relabel by
  `searchsorted`);
- a per-node loop over Python lists (`random.sample` per node, a dict for relabelling; the
  CSR converted to lists once, outside the timing): the fastest plain-Python baseline;
- a per-node loop over torch tensors (`CSR.neighbors(v)` and `torch.randperm` per node), as
  code written node by node in torch does it.

Times: median of the timed calls after one warm-up call, torch on one thread. The machine is
shared (2 cores, several engineers' jobs): the load average below says how busy it was;
ratios are more trustworthy than absolute times.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    Graph,
    add_common_arguments,
    fmt_time,
    load_cora,
    load_ddi,
    markdown_table,
    median_time,
    publish,
    resolve_data_root,
)
from graphpair.ops import CSR, neighbor_sample

FANOUT = (15, 10, 5)
NUM_SEEDS = 1024


def loop_lists(
    rowptr: list[int], col: list[int], seeds: list[int], fanout: tuple[int, ...], rng: random.Random
) -> tuple[list[int], list[int], list[int]]:
    """Per-node sampling over Python lists: nodes, edge sources and targets (local ids)."""
    local = {v: i for i, v in enumerate(seeds)}
    nodes, frontier, src, dst = list(seeds), list(seeds), [], []
    for k in fanout:
        new = []
        for v in frontier:
            neighbours = col[rowptr[v] : rowptr[v + 1]]
            if k != -1 and len(neighbours) > k:
                neighbours = rng.sample(neighbours, k)
            for u in neighbours:
                if u not in local:
                    local[u] = len(nodes)
                    nodes.append(u)
                    new.append(u)
                src.append(local[u])
                dst.append(local[v])
        frontier = new
    return nodes, src, dst


def loop_torch(
    adj: CSR, seeds: Tensor, fanout: tuple[int, ...], generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Per-node sampling with a torch call per node: nodes and edge_index (local ids)."""
    local = {int(v): i for i, v in enumerate(seeds)}
    nodes, frontier = seeds.tolist(), seeds.tolist()
    src: list[Tensor] = []
    dst: list[Tensor] = []
    for k in fanout:
        new = []
        for v in frontier:
            neighbours = adj.neighbors(v)
            if k != -1 and neighbours.numel() > k:
                neighbours = neighbours[torch.randperm(neighbours.numel(), generator=generator)[:k]]
            ids = []
            for u in neighbours.tolist():
                if u not in local:
                    local[u] = len(nodes)
                    nodes.append(u)
                    new.append(u)
                ids.append(local[u])
            src.append(torch.tensor(ids, dtype=torch.long))
            dst.append(torch.full((len(ids),), local[v], dtype=torch.long))
        frontier = new
    return torch.tensor(nodes), torch.stack([torch.cat(src), torch.cat(dst)])


def bench_graph(graph: Graph, repeats: int) -> str:
    adj = CSR.from_edge_index(graph.edge_index, graph.num_nodes)
    seeds = torch.randperm(graph.num_nodes, generator=torch.Generator().manual_seed(0))
    seeds = seeds[:NUM_SEEDS]
    rowptr, col, seed_list = adj.rowptr.tolist(), adj.col.tolist(), seeds.tolist()
    generator = torch.Generator().manual_seed(1)
    rng = random.Random(1)
    sub = neighbor_sample(adj, seeds, FANOUT, generator=generator)
    nodes, src, _ = loop_lists(rowptr, col, seed_list, FANOUT, rng)
    # the same distribution: same seeds, subgraphs of similar size (not equal: other draws)
    cases = [
        (
            "`neighbor_sample` (vectorised)",
            lambda: neighbor_sample(adj, seeds, FANOUT, generator=generator),
        ),
        ("per-node loop, Python lists", lambda: loop_lists(rowptr, col, seed_list, FANOUT, rng)),
        ("per-node loop, torch calls", lambda: loop_torch(adj, seeds, FANOUT, generator)),
    ]
    rows = []
    base = None
    for name, fn in cases:
        seconds, _ = median_time(fn, repeats=repeats)
        base = seconds if base is None else base
        rows.append((name, fmt_time(seconds), f"{seconds / base:.1f}x"))
    hops = ", ".join(f"{n:,}" for n in sub.num_sampled_nodes)
    edges = ", ".join(f"{n:,}" for n in sub.num_sampled_edges)
    return (
        f"## {graph.name}: N = {graph.num_nodes:,}, {adj.num_edges:,} directed entries\n\n"
        f"One sample: nodes per hop (seeds first) {hops}; edges per hop {edges} "
        f"({sub.num_nodes:,} nodes, {sub.edge.numel():,} edges; the Python-list loop drew "
        f"{len(nodes):,} nodes, {len(src):,} edges).\n\n"
        + markdown_table(["implementation", "median time", "relative"], rows)
    )


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per case")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    root = resolve_data_root(args.data_root)
    size = 20_000 if args.quick else 200_000
    edges = torch.randint(0, size, (2, 5 * size), generator=torch.Generator().manual_seed(0))
    graphs = [load_ddi(root), load_cora(root), Graph("random, mean degree 10", edges, size)]
    if args.quick:
        ddi = graphs[0]
        graphs[0] = Graph(
            ddi.name + " (first 50,000 edges)", ddi.edge_index[:, :50_000], ddi.num_nodes
        )
    sections = [bench_graph(graph, 2 if args.quick else args.repeats) for graph in graphs]
    return publish(
        "sampling",
        "neighbor_sample: vectorised neighbour sampling against per-node loops",
        [__doc__ or "", *sections],
        args.quick,
    )


if __name__ == "__main__":
    main()
