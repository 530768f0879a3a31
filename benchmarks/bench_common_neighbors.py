"""Common neighbours of random pairs on ogbl-ddi and Cora: graphpair against two baselines.

Methods, all run in the same process on the same pairs, results checked identical:

- ``graphpair (auto)``: :func:`graphpair.ops.common_neighbors` with its default rule, plus the
  two paths forced (``sparse``: walk the shorter row + binary search; ``dense``: packed bitset);
- ``dense A[i]*A[j]``: a float32 dense adjacency, the product of the two gathered rows and
  ``nonzero`` (pairs in chunks of 16,384 so one chunk's [B, N] product stays near 300 MB);
- ``torch.sparse gather+intersect``: a coalesced ``torch.sparse_coo_tensor`` adjacency, rows
  gathered with ``index_select`` for both ends, coalesced, and intersected by sparse
  elementwise multiplication (same chunks).

Set-up (building each structure from the edge list) is not timed. graphpair builds its bitset
lazily on the first call: that call is reported separately, and peak memory is measured on a
first call (fresh process), so it includes the bitset.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
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
    load_ddi,
    markdown_table,
    median_time,
    peak_memory,
    write_results,
)
from graphpair.ops import CSR, common_neighbors, common_neighbors_method

METHODS = (
    "graphpair (auto)",
    "graphpair sparse",
    "graphpair dense",
    "dense A[i]*A[j]",
    "torch.sparse gather+intersect",
)
BASELINE_CHUNK = 16_384
LOADERS = {"ogbl-ddi": load_ddi, "Cora": load_cora}

Result = tuple[torch.Tensor, torch.Tensor]


def random_pairs(num_nodes: int, num_pairs: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(
        0, num_nodes, (2, num_pairs), generator=torch.Generator().manual_seed(seed)
    )


def prepare(method: str, edge_index: torch.Tensor, num_nodes: int) -> Any:
    """The method's adjacency structure (untimed set-up)."""
    if method.startswith("graphpair"):
        return CSR.from_edge_index(edge_index, num_nodes)
    sym = torch.cat([edge_index, edge_index.flip(0)], 1)
    sym = sym[:, sym[0] != sym[1]]
    if method.startswith("dense"):
        dense = torch.zeros(num_nodes, num_nodes)
        dense[sym[0], sym[1]] = 1.0
        return dense
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        adj = torch.sparse_coo_tensor(sym, torch.ones(sym.size(1)), (num_nodes, num_nodes))
        return adj.coalesce()


def run(method: str, state: Any, pairs: torch.Tensor) -> Result:
    """Compute (pair_idx, node_idx) of the common neighbours, sorted by pair then node."""
    if method.startswith("graphpair"):
        path = {
            "graphpair (auto)": "auto",
            "graphpair sparse": "sparse",
            "graphpair dense": "dense",
        }
        out = common_neighbors(state, pairs, method=path[method])
        return out.pair_idx, out.node_idx
    parts: list[Result] = []
    for lo in range(0, pairs.size(1), BASELINE_CHUNK):
        src, dst = pairs[:, lo : lo + BASELINE_CHUNK]
        if method.startswith("dense"):
            pair, node = (state[src] * state[dst]).nonzero(as_tuple=True)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                rows_i = state.index_select(0, src).coalesce()
                rows_j = state.index_select(0, dst).coalesce()
                pair, node = (rows_i * rows_j).coalesce().indices()
        parts.append((pair + lo, node))
    return torch.cat([p for p, _ in parts]), torch.cat([n for _, n in parts])


def build_case(case: dict[str, Any]) -> Callable[[], object]:
    """Entry point of the peak-memory child: inputs built, one call returned."""
    loaded = LOADERS[case["graph"]](Path(case["root"]))
    assert loaded is not None
    edge_index, num_nodes = loaded
    state = prepare(case["method"], edge_index, num_nodes)
    pairs = random_pairs(num_nodes, case["num_pairs"])
    return lambda: run(case["method"], state, pairs)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    args = parser.parse_args(argv)
    root = data_root(args.data_root)
    num_pairs = 4_096 if args.quick else 65_536
    repeats = 2 if args.quick else 5
    scaling = [1_024, 4_096] if args.quick else [4_096, 16_384, 65_536, 262_144]
    command = "python benchmarks/bench_common_neighbors.py" + (" --quick" if args.quick else "")

    sections = [__doc__.split("\n\n", 1)[1].strip()]
    main_rows, scale_rows = [], []
    for name, loader in LOADERS.items():
        loaded = loader(root) if root is not None else None
        if loaded is None:
            sections.append(f"**{name}: skipped, dataset files not found (data root: {root}).**")
            continue
        edge_index, num_nodes = loaded
        pairs = random_pairs(num_nodes, num_pairs)
        reference: Result | None = None
        timings: dict[str, float] = {}
        for method in METHODS:
            state = prepare(method, edge_index, num_nodes)
            start = time.perf_counter()
            result = run(method, state, pairs)  # first call (graphpair: builds bitset/keys)
            first = time.perf_counter() - start
            if reference is None:
                reference = result
            elif not (
                torch.equal(result[0], reference[0]) and torch.equal(result[1], reference[1])
            ):
                raise AssertionError(f"{method} disagrees with graphpair on {name}")
            timings[method], _ = median_time(
                lambda m=method, s=state, p=pairs: run(m, s, p), repeats, 0
            )
            case = {"graph": name, "root": str(root), "method": method, "num_pairs": num_pairs}
            peak = peak_memory(__file__, case)
            main_rows.append(
                [name, method, fmt_time(timings[method]), fmt_time(first), fmt_bytes(peak)]
            )
            del state
        auto = timings["graphpair (auto)"]
        for row in main_rows[-len(METHODS) :]:
            row.insert(3, f"{timings[row[1]] / auto:.2f}x")
        adj = CSR.from_edge_index(edge_index, num_nodes)
        members = int(reference[0].numel()) if reference is not None else 0
        sections.append(
            f"**{name}**: N = {num_nodes:,}, {adj.num_edges:,} stored entries, "
            f"{num_pairs:,} random pairs, {members:,} common neighbours in total; `auto` chose "
            f"`{common_neighbors_method(adj)}`."
        )
        deg = adj.degree()
        for size in scaling:
            batch = random_pairs(num_nodes, size, seed=1)
            work = int(torch.minimum(deg[batch[0]], deg[batch[1]]).sum())
            seconds, _ = median_time(lambda b=batch, a=adj: common_neighbors(a, b), repeats, 1)
            scale_rows.append(
                [
                    name,
                    f"{size:,}",
                    f"{work:,}",
                    fmt_time(seconds),
                    f"{seconds / size * 1e9:.0f} ns",
                    f"{seconds / max(work, 1) * 1e9:.1f} ns",
                ]
            )

    body = "\n\n".join(sections)
    body += "\n\n## Time and peak memory, " + f"{num_pairs:,} pairs (median of {repeats})\n\n"
    body += markdown_table(
        ["graph", "method", "median time", "vs auto", "first call", "peak extra memory"], main_rows
    )
    body += "\n\n## Scaling of the default path with the batch (median of " + f"{repeats})\n\n"
    body += markdown_table(
        ["graph", "pairs", "sum of min-degrees", "time", "per pair", "per min-degree unit"],
        scale_rows,
    )
    write_results("common_neighbors", body, command)
    return body


if __name__ == "__main__":
    print(main())
