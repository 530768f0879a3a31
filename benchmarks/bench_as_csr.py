"""Cost of `graphpair.ops.as_csr` for each of PyG's adjacency forms of ogbl-ddi.

ogbl-ddi's training graph (4,267 nodes, 1,067,911 undirected edges, 2,135,822 directed
entries) in every form a PyG user may hold it, converted to graphpair's symmetric CSR:

- `edge_index`, one direction per edge (as OGB ships it): the general path, a sort and
  deduplication of the 2E keys; and both directions, sorted by (source, target) as PyG's
  `to_undirected` returns it: the structure is kept (see below);
- a `torch.sparse_csr` tensor and a coalesced `torch.sparse_coo` tensor of the symmetric
  graph, and `Data.adj_t` as written by PyG's `ToSparseTensor()` (a `sparse_csr` tensor here,
  where torch-sparse is absent): sorted, symmetric and loop-free, so the structure is kept
  (a check of the order, a degree count and a stable sort of the column ids in the
  narrowest integer type for the symmetry; no deduplication);
- a `sparse_csr` tensor of one direction per edge: asymmetric, so it falls back to the sort;
- a stand-in with `torch_sparse.SparseTensor`'s `csr()` API (torch-sparse is not installed on
  these machines): the kept-structure path of a real `SparseTensor`.

For scale, the table also times `CSR.from_edge_index` (what the runner always did) and PyG's
own `ToSparseTensor()` on the same graph (what a PyG user pays to get `adj_t`). Every output is
checked equal to `CSR.from_edge_index(edge_index)` first. Times: median of 7 calls after one
warm-up call, torch on one thread.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    add_common_arguments,
    fmt_time,
    load_ddi,
    markdown_table,
    median_time,
    publish,
    resolve_data_root,
)
from graphpair.ops import CSR, as_csr


class _StandInSparseTensor:
    """``torch_sparse.SparseTensor``'s ``csr()`` / ``coo()`` / ``sparse_sizes()`` on a CSR."""

    def __init__(self, rowptr: Tensor, col: Tensor, num_nodes: int) -> None:
        self._rowptr, self._col, self._n = rowptr, col, num_nodes

    def csr(self) -> tuple[Tensor, Tensor, None]:
        return self._rowptr, self._col, None

    def coo(self) -> tuple[Tensor, Tensor, None]:
        raise NotImplementedError  # as_csr reads csr() only

    def sparse_sizes(self) -> tuple[int, int]:
        return self._n, self._n


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="Sparse (CSR|CSC) tensor support is in beta")
    warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
    graph = load_ddi(resolve_data_root(args.data_root))
    edge_index, n = graph.edge_index, graph.num_nodes
    if args.quick:
        edge_index = edge_index[:, :20_000]
    from torch_geometric.data import Data
    from torch_geometric.transforms import ToSparseTensor

    reference = CSR.from_edge_index(edge_index, n)
    both = reference.to_edge_index()  # both directions, sorted
    shuffled = both[:, torch.randperm(both.size(1), generator=torch.Generator().manual_seed(0))]
    ones = torch.ones(both.size(1))
    sym_csr = torch.sparse_csr_tensor(reference.rowptr, reference.col, ones, (n, n))
    sym_coo = torch.sparse_coo_tensor(both, ones, (n, n)).coalesce()
    one_way = CSR.from_edge_index(edge_index, n, symmetric=False)
    asym_csr = torch.sparse_csr_tensor(
        one_way.rowptr, one_way.col, torch.ones(one_way.num_edges), (n, n)
    )
    adj_t_data = ToSparseTensor()(Data(edge_index=both, num_nodes=n))
    stand_in = _StandInSparseTensor(reference.rowptr, reference.col, n)
    cases: list[tuple[str, Callable[[], CSR]]] = [
        (
            "`CSR.from_edge_index(edge_index)` (one direction per edge)",
            lambda: CSR.from_edge_index(edge_index, n),
        ),
        ("`as_csr(edge_index)`, one direction per edge", lambda: as_csr(edge_index, n)),
        ("`as_csr(edge_index)`, both directions, sorted (kept)", lambda: as_csr(both, n)),
        ("`as_csr(edge_index)`, both directions, shuffled", lambda: as_csr(shuffled, n)),
        ("`as_csr(sparse_csr)`, symmetric (kept)", lambda: as_csr(sym_csr)),
        ("`as_csr(sparse_coo)`, coalesced, symmetric (kept)", lambda: as_csr(sym_coo)),
        ("`as_csr(data)`, `adj_t` from `ToSparseTensor()` (kept)", lambda: as_csr(adj_t_data)),
        ("`as_csr(SparseTensor stand-in)`, symmetric (kept)", lambda: as_csr(stand_in)),
        ("`as_csr(sparse_csr)`, one direction per edge (sorted)", lambda: as_csr(asym_csr)),
    ]
    rows = []
    for name, fn in cases:
        out = fn()
        assert torch.equal(out.rowptr, reference.rowptr), name
        assert torch.equal(out.col, reference.col), name
        seconds, _ = median_time(fn, repeats=3 if args.quick else 7)
        rows.append((name, fmt_time(seconds)))
    pyg = Data(edge_index=both, num_nodes=n)
    seconds, _ = median_time(lambda: ToSparseTensor()(pyg.clone()), repeats=3 if args.quick else 7)
    rows.append(
        ("for scale: PyG `ToSparseTensor()` on the both-directions `Data`", fmt_time(seconds))
    )
    section = (
        f"## ogbl-ddi: N = {n:,}, {edge_index.size(1):,} edges, "
        f"{reference.num_edges:,} directed entries\n\n"
        + markdown_table(["input", "median time"], rows)
    )
    return publish(
        "as_csr", "as_csr: PyG adjacency forms to a CSR", [__doc__ or "", section], args.quick
    )


if __name__ == "__main__":
    main()
