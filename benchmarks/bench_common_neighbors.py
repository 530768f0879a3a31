"""Common neighbours of random node pairs on ogbl-ddi and Cora: graphpair against two baselines.

Methods, run one after the other in the same process on the same uniformly random pairs
(fixed seed); each method's set of `(pair, node)` is checked equal to graphpair's (both sorted)
before it is timed:

- `graphpair (auto)`: `graphpair.ops.common_neighbors` with its default rule, which picks one
  of the two paths below (`graphpair.ops.common_neighbors_method`);
- `graphpair sparse`: walk the shorter of the two rows, binary-search the other's sorted keys;
- `graphpair dense`: intersect the rows of the packed adjacency bitset (built on first use);
- `dense A[i]·A[j]`: a float32 dense adjacency `A [N, N]`, the product of the gathered rows
  `A[i] * A[j]` and `nonzero()`; the pairs are processed in chunks only where the whole
  `[P, N]` float product would exceed the chunk budget (the notes column says which);
- `torch.sparse gather+intersect`: a coalesced `torch.sparse_coo_tensor` adjacency, the rows of
  `i` and of `j` gathered with `index_select` as sparse `[P, N]` matrices and intersected by
  sparse elementwise multiplication (`a * b` of two coalesced tensors).

Each method first builds its structure from the edge list (column *set-up*, not part of a
call). graphpair's CSR caches its sorted keys when it is built; its dense path builds the bitset
on the first call. *First call* includes that (it is also the warm-up); *warm call* is the
median of the calls after it. *Peak extra memory* is that of a first call in a fresh process
(see `_common.py`), so graphpair's includes building the bitset. The second table times the
default path on growing batches against the work Σ_p min(deg(i_p), deg(j_p)): a constant time
per unit means linear growth.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    LOADERS,
    PEAK_FALLBACK_NOTE,
    Graph,
    add_common_arguments,
    fmt_bytes,
    fmt_peak,
    fmt_time,
    markdown_table,
    median_time,
    peak_memory,
    publish,
    resolve_data_root,
    time_once,
)
from graphpair.ops import CSR, common_neighbors, common_neighbors_method

PairNodes = tuple[Tensor, Tensor]  # (pair_idx [M], node_idx [M])


@dataclass(frozen=True)
class Config:
    """Sizes of one run."""

    num_pairs: int
    scaling_sizes: tuple[int, ...]
    repeats: int
    dense_chunk_bytes: int
    """Largest `[B, N]` float32 product the dense baseline forms at once."""
    data_root: Path
    quick: bool

    @classmethod
    def from_args(cls, quick: bool, data_root: str | None) -> Config:
        root = resolve_data_root(data_root)
        if quick:  # a small chunk budget so the smoke test runs the chunked baseline too
            return cls(4_096, (1_024, 4_096), 2, 16 << 20, root, quick)
        return cls(65_536, (4_096, 16_384, 65_536, 262_144), 5, 2 << 30, root, quick)


class CNMethod(Protocol):
    """A method's structure, built from the edge list; calling it computes the CN sets."""

    def __call__(self, pairs: Tensor) -> PairNodes: ...

    def note(self, num_pairs: int) -> str:
        """What the table should say about how this method ran."""
        ...


def undirected_edges(graph: Graph) -> Tensor:
    """Both directions of every edge, self loops dropped: the graph graphpair's CSR stores."""
    edge_index = torch.cat([graph.edge_index, graph.edge_index.flip(0)], 1)  # [2, 2E]
    return edge_index[:, edge_index[0] != edge_index[1]]


class GraphpairCN:
    """:func:`graphpair.ops.common_neighbors` on a fresh CSR with a given ``method``."""

    def __init__(self, graph: Graph, method: str) -> None:
        self.adj = CSR.from_edge_index(graph.edge_index, graph.num_nodes)
        self.method = method

    def __call__(self, pairs: Tensor) -> PairNodes:
        out = common_neighbors(self.adj, pairs, method=self.method)
        return out.pair_idx, out.node_idx

    def note(self, num_pairs: int) -> str:
        if self.method == "auto":
            return f"auto chose {common_neighbors_method(self.adj)}"
        return ""


class DenseProduct:
    """Baseline: rows of a dense float32 adjacency multiplied elementwise, then ``nonzero``."""

    def __init__(self, graph: Graph, chunk_bytes: int) -> None:
        src, dst = undirected_edges(graph)
        self.num_nodes = graph.num_nodes
        self.adj = torch.zeros(graph.num_nodes, graph.num_nodes)  # [N, N] float32
        self.adj[src, dst] = 1.0
        self.chunk_bytes = chunk_bytes
        self.chunk = max(1, chunk_bytes // (4 * max(graph.num_nodes, 1)))  # pairs per chunk

    def __call__(self, pairs: Tensor) -> PairNodes:
        parts = []
        for lo in range(0, pairs.size(1), self.chunk):
            src, dst = pairs[:, lo : lo + self.chunk]
            pair, node = (self.adj[src] * self.adj[dst]).nonzero(as_tuple=True)  # [B, N]
            parts.append((pair + lo, node))
        return torch.cat([p for p, _ in parts]), torch.cat([n for _, n in parts])

    def note(self, num_pairs: int) -> str:
        product = fmt_bytes(4 * num_pairs * self.num_nodes)
        chunks = math.ceil(num_pairs / self.chunk)
        if chunks == 1:
            return f"unchunked: [P, N] product {product} <= {fmt_bytes(self.chunk_bytes)}"
        return (
            f"{chunks} chunks of <= {self.chunk:,} pairs: [P, N] product {product} "
            f"> {fmt_bytes(self.chunk_bytes)}"
        )


class SparseIntersect:
    """Baseline: sparse COO rows gathered with ``index_select``, intersected by ``a * b``."""

    def __init__(self, graph: Graph) -> None:
        size = (graph.num_nodes, graph.num_nodes)
        edge_index = undirected_edges(graph)
        values = torch.ones(edge_index.size(1))
        merged = torch.sparse_coo_tensor(edge_index, values, size, check_invariants=True)
        indices = merged.coalesce().indices()  # sorted, duplicates merged
        self.adj = torch.sparse_coo_tensor(
            indices, torch.ones(indices.size(1)), size, is_coalesced=True, check_invariants=True
        )

    def __call__(self, pairs: Tensor) -> PairNodes:
        rows_i = self.adj.index_select(0, pairs[0]).coalesce()  # sparse [P, N]
        rows_j = self.adj.index_select(0, pairs[1]).coalesce()
        pair, node = (rows_i * rows_j).coalesce().indices()  # product of coalesced = intersection
        return pair, node

    def note(self, num_pairs: int) -> str:
        return ""


#: Table label -> structure builder (the untimed set-up).
METHODS: dict[str, Callable[[Graph, Config], CNMethod]] = {
    "graphpair (auto)": lambda g, c: GraphpairCN(g, "auto"),
    "graphpair sparse": lambda g, c: GraphpairCN(g, "sparse"),
    "graphpair dense": lambda g, c: GraphpairCN(g, "dense"),
    "dense A[i]·A[j]": lambda g, c: DenseProduct(g, c.dense_chunk_bytes),
    "torch.sparse gather+intersect": lambda g, c: SparseIntersect(g),
}
REFERENCE = "graphpair (auto)"


def random_pairs(num_nodes: int, num_pairs: int, seed: int) -> Tensor:
    """``[2, P]`` node pairs drawn uniformly (with a fixed seed)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, num_nodes, (2, num_pairs), generator=generator)


def sorted_keys(result: PairNodes, num_nodes: int) -> Tensor:
    """The set ``{(pair, node)}`` as sorted keys ``pair * N + node``, for comparisons."""
    pair, node = result
    return torch.sort(pair * num_nodes + node).values


def setup_case(case: dict[str, Any]) -> Callable[[], object]:
    """Peak-memory child: load the graph, build the method's structure, return one call."""
    config = Config.from_args(case["quick"], case["data_root"])
    graph = LOADERS[case["graph"]](config.data_root)
    method = METHODS[case["method"]](graph, config)
    pairs = random_pairs(graph.num_nodes, config.num_pairs, seed=0)
    return lambda: method(pairs)


def compare_methods(graph: Graph, config: Config) -> tuple[list[list[str]], str]:
    """Main table rows for one graph, and a sentence describing the graph and the pairs."""
    pairs = random_pairs(graph.num_nodes, config.num_pairs, seed=0)
    timings: dict[str, float] = {}
    rows, peaks = [], []
    reference: Tensor | None = None
    for label, build in METHODS.items():
        print(f"  {graph.name}: {label}", flush=True)
        setup_s, method = time_once(partial(build, graph, config))
        first_s, result = time_once(partial(method, pairs))
        keys = sorted_keys(result, graph.num_nodes)
        if reference is None:
            reference = keys
        elif not torch.equal(keys, reference):
            raise AssertionError(
                f"{label} on {graph.name}: {keys.numel():,} (pair, node) members, "
                f"graphpair (auto) {reference.numel():,}; the sets differ"
            )
        # The first call was the warm-up.
        timings[label], _ = median_time(partial(method, pairs), config.repeats, warmup=0)
        case = {
            "quick": config.quick,
            "data_root": str(config.data_root),
            "graph": graph.name,
            "method": label,
        }
        peaks.append(peak_memory(__file__, case))
        rows.append(
            [
                graph.name,
                label,
                fmt_time(setup_s),
                fmt_time(first_s),
                fmt_time(timings[label]),
                "",
                fmt_peak(peaks[-1]),
                method.note(config.num_pairs),
            ]
        )
        del method, result
    for row in rows:
        row[5] = f"{timings[row[1]] / timings[REFERENCE]:.2f}x"
    adj = CSR.from_edge_index(graph.edge_index, graph.num_nodes)
    assert reference is not None
    summary = (
        f"**{graph.name}**: N = {graph.num_nodes:,}, {adj.num_edges:,} stored entries (both "
        f"directions, mean degree {adj.num_edges / graph.num_nodes:.1f}); {config.num_pairs:,} "
        f"random pairs with {reference.numel():,} common neighbours in total; "
        f"`common_neighbors_method(adj)` = `{common_neighbors_method(adj)}`."
    )
    if not all(p.exact for p in peaks):
        summary += "\n\n" + PEAK_FALLBACK_NOTE
    return rows, summary


def scaling(graph: Graph, config: Config) -> list[list[str]]:
    """Default-path time against the sum of min-degrees, for growing batches."""
    adj = CSR.from_edge_index(graph.edge_index, graph.num_nodes)
    degree = adj.degree()
    path = common_neighbors_method(adj)
    rows = []
    for size in config.scaling_sizes:
        print(f"  {graph.name}: scaling, {size:,} pairs", flush=True)
        pairs = random_pairs(graph.num_nodes, size, seed=1)
        work = int(torch.minimum(degree[pairs[0]], degree[pairs[1]]).sum())
        seconds, _ = median_time(partial(common_neighbors, adj, pairs), config.repeats)
        rows.append(
            [
                graph.name,
                path,
                f"{size:,}",
                f"{work:,}",
                fmt_time(seconds),
                fmt_time(seconds / max(work, 1) * 1e6),
            ]
        )
    return rows


def tables(main_rows: list[list[str]], scale_rows: list[list[str]], config: Config) -> list[str]:
    """The two results tables with their headings."""
    return [
        f"## {config.num_pairs:,} random pairs (warm call: median of {config.repeats})",
        markdown_table(
            [
                "graph",
                "method",
                "set-up",
                "first call",
                "warm call",
                "vs graphpair (auto)",
                "peak extra memory",
                "notes",
            ],
            main_rows,
        ),
        f"## Growth with the batch: default path, warm (median of {config.repeats})",
        "Work: Σ_p min(deg(i_p), deg(j_p)), the number of candidates the sparse path examines "
        "(the dense path reads P · ⌈N / 8⌉ bitset bytes instead, also linear in P).",
        markdown_table(
            ["graph", "path", "pairs", "Σ min-degree", "time", "time per 10⁶ units"],
            scale_rows,
        ),
    ]


def main(argv: list[str] | None = None) -> Path:
    """Run the benchmark and write ``results/common_neighbors.md`` (``.quick.md``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    config = Config.from_args(args.quick, args.data_root)

    notes, main_rows, scale_rows = [], [], []
    for name, loader in LOADERS.items():
        try:
            graph = loader(config.data_root)
        except FileNotFoundError as err:
            line = f"**{name}: skipped.** {err}"
            print(line, flush=True)
            notes.append(line)
            continue
        rows, summary = compare_methods(graph, config)
        main_rows += rows
        notes.append(summary)
        scale_rows += scaling(graph, config)

    sections = [__doc__.split("\n\n", 1)[1], f"Data root: `{config.data_root}`.", *notes]
    if main_rows:
        sections += tables(main_rows, scale_rows, config)
    return publish("common_neighbors", "Common neighbours", sections, args.quick)


if __name__ == "__main__":
    main()
