"""Random-walk powers (GRIT's RRWP, K = 21) against the reference's per-graph dense powers.

Inputs, all undirected (both directions of every edge), generated with fixed seeds:

- a batch of molecule-sized graphs of 20-40 nodes: a random tree whose nodes hang off one of
  the 3 previous nodes (chains with short branches), plus 1-3 ring-closing edges from a node to
  its ancestor 4 or 5 steps up (5- and 6-rings), concatenated with a `batch` vector;
- a random geometric graph: nodes uniform in the unit square, joined within the radius that
  gives a mean degree of about 6;
- the Cora citation graph induced on its first nodes (when the data is present);
- a batch of long chains (paths of 300 nodes, peptide-like backbones), whose K - 1 hop reach is
  a small fraction of each graph's n^2 pairs.

Baseline: what the GRIT reference does, graph by graph in a Python loop: a dense n x n
adjacency, row-normalised, K - 1 dense products, the stack of the K channels `[n, n, K]`, and
the pairs where any channel is non-zero with their values. The per-graph edge lists are split
off the batch beforehand (the reference gets one graph at a time); the loop, the offsets and the
concatenation of the outputs are timed. graphpair (`graphpair.ops.random_walk_powers`) gets the
batched graph; it runs with its default rule (`auto`: dense products for connected components
of at most 512 nodes, sparse products above) and with each path forced. Every output is checked
against the baseline first: the same pairs in the same row-major order, values allclose.
*Time* is the median of the calls after a first (warm-up) call; *peak extra memory* is that of
one call in a fresh process (see `_common.py`).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import networkx as nx
import numpy as np
import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    PEAK_FALLBACK_NOTE,
    add_common_arguments,
    fmt_peak,
    fmt_time,
    load_cora,
    markdown_table,
    median_time,
    peak_memory,
    publish,
    resolve_data_root,
    time_once,
)
from graphpair.ops import RANDOM_WALK_DENSE_MAX_NODES, random_walk_powers

WALK_LENGTH = 21
PairValues = tuple[Tensor, Tensor]  # (pair_index [2, S], pair_val [S, K])


@dataclass(frozen=True)
class Config:
    """Sizes of one run."""

    num_molecules: int
    num_chains: int
    num_nodes: int
    """Nodes of the geometric graph and of the Cora subgraph."""
    repeats: int
    data_root: Path
    quick: bool

    @classmethod
    def from_args(cls, quick: bool, data_root: str | None) -> Config:
        root = resolve_data_root(data_root)
        if quick:
            return cls(100, 10, 500, 2, root, quick)
        return cls(1_000, 100, 2_000, 5, root, quick)


class WalkInput(NamedTuple):
    """A batch of graphs in PyG's layout, plus the per-graph split the baseline starts from."""

    name: str
    edge_index: Tensor
    """Edges ``[2, E]``, both directions, sorted by graph."""
    ptr: Tensor
    """First node of every graph ``[B + 1]`` (``[0, N]`` for one graph)."""

    @property
    def num_nodes(self) -> int:
        return int(self.ptr[-1])

    @property
    def batch(self) -> Tensor | None:
        """Graph of every node ``[N]``, or ``None`` for a single graph."""
        if self.ptr.numel() == 2:
            return None
        sizes = self.ptr[1:] - self.ptr[:-1]
        return torch.repeat_interleave(torch.arange(sizes.numel()), sizes)

    def per_graph(self) -> list[tuple[int, Tensor]]:
        """``(n, local edge_index)`` of every graph, as the reference receives them."""
        graph_of_edge = torch.searchsorted(self.ptr, self.edge_index[0], right=True) - 1
        order = torch.argsort(graph_of_edge, stable=True)
        counts = torch.bincount(graph_of_edge, minlength=self.ptr.numel() - 1).tolist()
        edges = self.edge_index[:, order].split(counts, dim=1)
        sizes = (self.ptr[1:] - self.ptr[:-1]).tolist()
        offsets = self.ptr[:-1].tolist()
        return [(n, e - o) for n, e, o in zip(sizes, edges, offsets, strict=True)]


def _both_directions(src: np.ndarray, dst: np.ndarray, num_nodes: int) -> Tensor:
    """Sorted, duplicate-free ``[2, E]`` with both directions of every edge, no self loops."""
    keep = src != dst
    src, dst = src[keep], dst[keep]
    keys = np.unique(np.concatenate([src * num_nodes + dst, dst * num_nodes + src]))
    return torch.from_numpy(np.stack([keys // num_nodes, keys % num_nodes]))


def molecule_batch(num_graphs: int, seed: int = 0) -> WalkInput:
    """Molecule-like graphs of 20-40 nodes: a branching chain with 1-3 ring closures."""
    rng = np.random.default_rng(seed)
    parts, sizes, offset = [], [], 0
    for _ in range(num_graphs):
        n = int(rng.integers(20, 41))
        child = np.arange(1, n)
        parent = child - rng.integers(1, np.minimum(child, 3) + 1)  # one of the 3 previous nodes
        parent_of = np.concatenate([[0], parent])
        depth = np.zeros(n, dtype=np.int64)
        for node in range(1, n):
            depth[node] = depth[parent_of[node]] + 1
        src, dst = [child], [parent]
        deep = np.flatnonzero(depth >= 5)
        for node in rng.choice(deep, size=min(len(deep), int(rng.integers(1, 4))), replace=False):
            ancestor = int(node)
            for _ in range(int(rng.integers(4, 6))):  # ring of 5 or 6 atoms
                ancestor = int(parent_of[ancestor])
            src.append(np.array([node]))
            dst.append(np.array([ancestor]))
        parts.append(_both_directions(np.concatenate(src), np.concatenate(dst), n) + offset)
        sizes.append(n)
        offset += n
    ptr = torch.tensor([0, *np.cumsum(sizes).tolist()])
    name = f"{num_graphs:,} molecule-sized graphs (20-40 nodes)"
    return WalkInput(name, torch.cat(parts, 1), ptr)


def geometric_graph(num_nodes: int, mean_degree: float = 6.0, seed: int = 0) -> WalkInput:
    """Random geometric graph in the unit square with about ``mean_degree`` neighbours."""
    rng = np.random.default_rng(seed)
    pos = torch.from_numpy(rng.random((num_nodes, 2)))
    radius = math.sqrt(mean_degree / (math.pi * (num_nodes - 1)))
    close = torch.cdist(pos, pos) < radius  # [N, N]
    close.fill_diagonal_(False)
    name = f"random geometric graph, {num_nodes:,} nodes"
    return WalkInput(name, close.nonzero().t().contiguous(), torch.tensor([0, num_nodes]))


def chain_batch(num_graphs: int, length: int = 300) -> WalkInput:
    """Paths of ``length`` nodes, batched: long, thin components."""
    src = np.arange(length - 1)
    one = _both_directions(src, src + 1, length)
    edges = torch.cat([one + g * length for g in range(num_graphs)], 1)
    ptr = torch.arange(num_graphs + 1) * length
    return WalkInput(f"{num_graphs:,} paths of {length} nodes", edges, ptr)


def cora_subgraph(data_root: Path, num_nodes: int) -> WalkInput:
    """Cora induced on its first ``num_nodes`` nodes (raises FileNotFoundError without it)."""
    graph = load_cora(data_root)
    keep = (graph.edge_index < num_nodes).all(0)
    name = f"Cora induced on its first {num_nodes:,} nodes"
    return WalkInput(name, graph.edge_index[:, keep].contiguous(), torch.tensor([0, num_nodes]))


#: Input key -> builder. Keys travel to the peak-memory child.
INPUTS: dict[str, Callable[[Config], WalkInput]] = {
    "molecules": lambda c: molecule_batch(c.num_molecules),
    "geometric": lambda c: geometric_graph(c.num_nodes),
    "cora": lambda c: cora_subgraph(c.data_root, c.num_nodes),
    "chains": lambda c: chain_batch(c.num_chains),
}


def per_graph_dense_powers(graphs: list[tuple[int, Tensor]], walk_length: int) -> PairValues:
    """The reference's computation: per graph, dense powers of D^-1 A and the non-zero pairs."""
    pairs, values, offset = [], [], 0
    for n, edge_index in graphs:
        adj = torch.zeros(n, n)
        adj[edge_index[0], edge_index[1]] = 1.0
        trans = adj / adj.sum(1, keepdim=True).clamp(min=1)  # rows without edges stay 0
        channels = [torch.eye(n)]
        for _ in range(walk_length - 1):
            channels.append(channels[-1] @ trans)
        stack = torch.stack(channels, -1)  # [n, n, K]
        i, j = stack.ne(0).any(-1).nonzero(as_tuple=True)  # row-major
        pairs.append(torch.stack([i, j]) + offset)
        values.append(stack[i, j])
        offset += n
    return torch.cat(pairs, 1), torch.cat(values)


def graphpair_powers(inputs: WalkInput, batch: Tensor | None, method: str) -> PairValues:
    out = random_walk_powers(
        inputs.edge_index, WALK_LENGTH, inputs.num_nodes, batch=batch, method=method
    )
    return out.pair_index, out.pair_val


BASELINE = "per-graph dense loop (reference)"
METHODS = ("graphpair (auto)", "graphpair dense", "graphpair sparse", BASELINE)
REFERENCE = "graphpair (auto)"


def prepare(label: str, inputs: WalkInput) -> Callable[[], PairValues]:
    """One call of ``label`` on ``inputs``, with its untimed set-up done."""
    if label == BASELINE:
        return partial(per_graph_dense_powers, inputs.per_graph(), WALK_LENGTH)
    method = label.removeprefix("graphpair ").strip("()")
    return partial(graphpair_powers, inputs, inputs.batch, method)


def setup_case(case: dict[str, Any]) -> Callable[[], object]:
    """Peak-memory child: build the input, return one call of the method."""
    config = Config.from_args(case["quick"], case["data_root"])
    return prepare(case["method"], INPUTS[case["input"]](config))


def describe(inputs: WalkInput, kept: int) -> str:
    """One line on the input's size, components and kept pairs."""
    graph = nx.Graph()
    graph.add_nodes_from(range(inputs.num_nodes))
    graph.add_edges_from(inputs.edge_index.t().tolist())
    components = [len(c) for c in nx.connected_components(graph)]
    largest = max(components)
    auto = "dense" if largest <= RANDOM_WALK_DENSE_MAX_NODES else "sparse for the largest"
    return (
        f"**{inputs.name}**: {inputs.num_nodes:,} nodes, {inputs.edge_index.size(1):,} directed "
        f"edges (mean degree {inputs.edge_index.size(1) / inputs.num_nodes:.1f}), "
        f"{len(components):,} connected components, the largest of {largest:,} nodes "
        f"(`auto`: {auto}); {kept:,} kept pairs of K = {WALK_LENGTH} channels."
    )


def compare_methods(key: str, inputs: WalkInput, config: Config) -> tuple[list[list[str]], str]:
    """Table rows for one input, and a sentence describing it."""
    expected = per_graph_dense_powers(inputs.per_graph(), WALK_LENGTH)
    timings: dict[str, float] = {}
    rows, peaks = [], []
    for label in METHODS:
        print(f"  {inputs.name}: {label}", flush=True)
        call = prepare(label, inputs)
        first_s, (pair_index, pair_val) = time_once(call)
        if not torch.equal(pair_index, expected[0]):
            raise AssertionError(
                f"{label} on {inputs.name}: {pair_index.size(1):,} pairs, the baseline "
                f"{expected[0].size(1):,}; the pairs or their order differ"
            )
        torch.testing.assert_close(pair_val, expected[1], rtol=1e-4, atol=1e-6)
        timings[label], _ = median_time(call, config.repeats, warmup=0)
        case = {
            "quick": config.quick,
            "data_root": str(config.data_root),
            "input": key,
            "method": label,
        }
        peaks.append(peak_memory(__file__, case))
        rows.append(
            [
                inputs.name,
                label,
                fmt_time(first_s),
                fmt_time(timings[label]),
                "",
                fmt_peak(peaks[-1]),
                f"{pair_index.size(1):,}",
            ]
        )
    for row in rows:
        row[4] = f"{timings[row[1]] / timings[REFERENCE]:.2f}x"
    summary = describe(inputs, expected[0].size(1))
    if not all(p.exact for p in peaks):
        summary += "\n\n" + PEAK_FALLBACK_NOTE
    return rows, summary


def main(argv: list[str] | None = None) -> Path:
    """Run the benchmark and write ``results/random_walk.md`` (``.quick.md``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    config = Config.from_args(args.quick, args.data_root)

    notes, rows = [], []
    for key, build in INPUTS.items():
        try:
            inputs = build(config)
        except FileNotFoundError as err:
            line = f"**{key}: skipped.** {err}"
            print(line, flush=True)
            notes.append(line)
            continue
        input_rows, summary = compare_methods(key, inputs, config)
        rows += input_rows
        notes.append(summary)

    sections = [
        __doc__.split("\n\n", 1)[1],
        f"Data root: `{config.data_root}`.",
        *notes,
        f"## K = {WALK_LENGTH} (median of {config.repeats} after one warm-up call)",
        markdown_table(
            [
                "input",
                "method",
                "first call",
                "time",
                "vs graphpair (auto)",
                "peak extra memory",
                "kept pairs",
            ],
            rows,
        ),
    ]
    return publish("random_walk", "Random-walk powers", sections, args.quick)


if __name__ == "__main__":
    main()
