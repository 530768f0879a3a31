"""Random-walk powers (GRIT's RRWP, K = 21) against per-graph dense matrix powers.

Inputs: a batch of 1,000 molecule-sized graphs (20-40 nodes: a random tree plus a few ring
closures, undirected), one 2,000-node random geometric graph (unit square, mean degree about
6) and, when the data is present, the Cora subgraph induced on its first 2,000 nodes.

Baseline: what the GRIT reference does per graph, in a Python loop: a dense n x n adjacency,
row normalisation, K - 1 dense products, the stack of channels, and the pairs where any channel
is non-zero. graphpair is timed with its default rule and with each path forced; all outputs
are checked equal to the baseline (same pairs in the same order, values allclose).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    data_root,
    fmt_bytes,
    fmt_time,
    load_cora,
    markdown_table,
    median_time,
    peak_memory,
    write_results,
)
from graphpair.ops import random_walk_powers

WALK_LENGTH = 21
METHODS = ("graphpair (auto)", "graphpair dense", "graphpair sparse", "per-graph dense loop")

Inputs = tuple[torch.Tensor, torch.Tensor]  # edge_index [2, E], batch [N]


def molecules(num_graphs: int, seed: int = 0) -> Inputs:
    gen = torch.Generator().manual_seed(seed)
    edges, sizes, offset = [], [], 0
    for _ in range(num_graphs):
        n = int(torch.randint(20, 41, (1,), generator=gen))
        parent = (torch.rand(n - 1, generator=gen) * torch.arange(1, n)).long()
        tree = torch.stack([torch.arange(1, n), parent])
        rings = torch.randint(0, n, (2, 3), generator=gen)
        rings = rings[:, rings[0] != rings[1]]
        both = torch.cat([tree, rings], 1)
        edges.append(torch.cat([both, both.flip(0)], 1) + offset)
        sizes.append(n)
        offset += n
    batch = torch.repeat_interleave(torch.arange(num_graphs), torch.tensor(sizes))
    return torch.unique(torch.cat(edges, 1), dim=1), batch


def geometric(num_nodes: int, mean_degree: float = 6.0, seed: int = 0) -> Inputs:
    gen = torch.Generator().manual_seed(seed)
    pos = torch.rand(num_nodes, 2, generator=gen)
    radius = math.sqrt(mean_degree / (num_nodes * math.pi))
    close = torch.cdist(pos, pos) < radius
    close.fill_diagonal_(False)
    return close.nonzero().t().contiguous(), torch.zeros(num_nodes, dtype=torch.long)


def cora_subgraph(root: Path | None, num_nodes: int) -> Inputs | None:
    loaded = load_cora(root) if root is not None else None
    if loaded is None:
        return None
    edge_index, _ = loaded
    keep = (edge_index < num_nodes).all(0)
    return edge_index[:, keep].contiguous(), torch.zeros(num_nodes, dtype=torch.long)


def per_graph_dense(edge_index: torch.Tensor, batch: torch.Tensor, walk_length: int) -> Inputs:
    """The reference's approach, graph by graph: dense powers, then the non-zero pairs."""
    sizes = torch.bincount(batch).tolist()
    pairs, values, offset = [], [], 0
    edge_graph = batch[edge_index[0]]
    order = torch.argsort(edge_graph, stable=True)
    counts = torch.bincount(edge_graph, minlength=len(sizes)).tolist()
    start = 0
    for n, count in zip(sizes, counts, strict=True):
        local = edge_index[:, order[start : start + count]] - offset
        start += count
        adj = torch.zeros(n, n)
        adj.index_put_((local[0], local[1]), torch.ones(local.size(1)), accumulate=True)
        deg = adj.sum(1, keepdim=True)
        trans = torch.where(deg > 0, adj / deg.clamp(min=1e-30), torch.zeros_like(adj))
        channels = [torch.eye(n)]
        for _ in range(1, walk_length):
            channels.append(channels[-1] @ trans)
        stack = torch.stack(channels, -1)
        i, j = (stack != 0).any(-1).nonzero(as_tuple=True)
        pairs.append(torch.stack([i, j]) + offset)
        values.append(stack[i, j])
        offset += n
    return torch.cat(pairs, 1), torch.cat(values)


def run(method: str, inputs: Inputs) -> Inputs:
    edge_index, batch = inputs
    if method == "per-graph dense loop":
        return per_graph_dense(edge_index, batch, WALK_LENGTH)
    path = method.split()[-1].strip("()")
    out = random_walk_powers(edge_index, WALK_LENGTH, batch=batch, method=path)
    return out.pair_index, out.pair_val


def make_inputs(name: str, root: Path | None, quick: bool) -> Inputs | None:
    if name.startswith("1,000 molecules") or name.startswith("100 molecules"):
        return molecules(100 if quick else 1_000)
    if name.startswith("geometric"):
        return geometric(500 if quick else 2_000)
    return cora_subgraph(root, 500 if quick else 2_000)


def build_case(case: dict[str, Any]) -> Callable[[], object]:
    inputs = make_inputs(case["input"], Path(case["root"]) if case["root"] else None, case["quick"])
    assert inputs is not None
    return lambda: run(case["method"], inputs)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    args = parser.parse_args(argv)
    root = data_root(args.data_root)
    repeats = 2 if args.quick else 5
    n = 500 if args.quick else 2_000
    names = [
        "100 molecules (20-40 nodes)" if args.quick else "1,000 molecules (20-40 nodes)",
        f"geometric graph, {n:,} nodes",
        f"Cora subgraph, first {n:,} nodes",
    ]
    command = "python benchmarks/bench_random_walk.py" + (" --quick" if args.quick else "")
    rows, notes = [], [__doc__.split("\n\n", 1)[1].strip()]
    for name in names:
        inputs = make_inputs(name, root, args.quick)
        if inputs is None:
            notes.append(f"**{name}: skipped, Cora not found (data root: {root}).**")
            continue
        reference = run("per-graph dense loop", inputs)
        timings = {}
        for method in METHODS:
            result = run(method, inputs)
            if not torch.equal(result[0], reference[0]):
                raise AssertionError(f"{method} keeps other pairs than the baseline on {name}")
            torch.testing.assert_close(result[1], reference[1], rtol=1e-4, atol=1e-6)
            timings[method], _ = median_time(lambda m=method, x=inputs: run(m, x), repeats, 0)
            case = {"input": name, "root": str(root) if root else None, "quick": args.quick}
            peak = peak_memory(__file__, {**case, "method": method})
            rows.append([name, method, fmt_time(timings[method]), "", fmt_bytes(peak)])
        for row in rows[-len(METHODS) :]:
            row[3] = f"{timings[row[1]] / timings['per-graph dense loop']:.2f}x"
        edge_index, batch = inputs
        notes.append(
            f"**{name}**: {batch.numel():,} nodes, {edge_index.size(1):,} directed edges, "
            f"{reference[0].size(1):,} kept pairs of K = {WALK_LENGTH} channels."
        )
    body = "\n\n".join(notes) + f"\n\n## Time and peak memory (median of {repeats})\n\n"
    body += markdown_table(
        ["input", "method", "median time", "vs per-graph dense loop", "peak extra memory"], rows
    )
    write_results("random_walk", body, command)
    return body


if __name__ == "__main__":
    print(main())
