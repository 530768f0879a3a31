"""PyG's adjacency forms of one graph, for tests that every form gives the same answer.

torch-sparse is not installed on the project's machines, so :class:`StandInSparseTensor`
mimics the part of ``torch_sparse.SparseTensor``'s API that graphpair reads (``csr()``,
``coo()``, ``sparse_sizes()``, with its storage rule: entries sorted by row then column,
duplicates kept). Where torch-sparse is importable, :func:`adjacency_forms` adds the real one.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data

HAS_TORCH_SPARSE = importlib.util.find_spec("torch_sparse") is not None


class StandInSparseTensor:
    """The ``csr()`` / ``coo()`` / ``sparse_sizes()`` API of ``torch_sparse.SparseTensor``
    (built from ``row`` / ``col`` like ``SparseTensor(row=..., col=..., sparse_sizes=...)``)."""

    def __init__(self, row: Tensor, col: Tensor, sparse_sizes: tuple[int, int]) -> None:
        order = torch.argsort(row * max(sparse_sizes[1], 1) + col, stable=True)
        self._row, self._col = row[order], col[order]
        self._sizes = sparse_sizes

    def sparse_sizes(self) -> tuple[int, int]:
        return self._sizes

    def coo(self) -> tuple[Tensor, Tensor, Tensor | None]:
        return self._row, self._col, None

    def csr(self) -> tuple[Tensor, Tensor, Tensor | None]:
        counts = torch.bincount(self._row, minlength=self._sizes[0])
        rowptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        return rowptr, self._col, None

    def t(self) -> StandInSparseTensor:
        return StandInSparseTensor(self._col, self._row, (self._sizes[1], self._sizes[0]))


def _coo(index: Tensor, num_nodes: int, *, coalesce: bool) -> Tensor:
    values = torch.ones(index.size(1))
    matrix = torch.sparse_coo_tensor(index, values, (num_nodes, num_nodes), check_invariants=True)
    return matrix.coalesce() if coalesce else matrix


def adjacency_forms(edge_index: Tensor, num_nodes: int) -> dict[str, Any]:
    """The graph ``edge_index`` (source -> target) in every form: ``(adj, transposed)`` per name.

    ``transposed`` says whether the form is PyG's ``adj_t`` (row = target), so that a caller
    can pass ``transposed=True`` where direction matters. ``Data`` forms carry the graph
    themselves.
    """
    flipped = edge_index.flip(0)
    forms: dict[str, Any] = {
        "edge_index": (edge_index, False),
        "edge_index_int32": (edge_index.int(), False),
        "coo": (_coo(edge_index, num_nodes, coalesce=True), False),
        "coo_uncoalesced": (_coo(edge_index, num_nodes, coalesce=False), False),
        "csr": (_coo(edge_index, num_nodes, coalesce=True).to_sparse_csr(), False),
        "csc": (_coo(edge_index, num_nodes, coalesce=True).to_sparse_csc(), False),
        "adj_t_csr": (_coo(flipped, num_nodes, coalesce=True).to_sparse_csr(), True),
        "adj_t_coo": (_coo(flipped, num_nodes, coalesce=True), True),
        "sparse_tensor": (
            StandInSparseTensor(edge_index[0], edge_index[1], (num_nodes, num_nodes)),
            False,
        ),
        "sparse_tensor_t": (
            StandInSparseTensor(edge_index[1], edge_index[0], (num_nodes, num_nodes)),
            True,
        ),
        "data_edge_index": (Data(edge_index=edge_index, num_nodes=num_nodes), False),
        "data_adj_t": (
            Data(
                adj_t=_coo(flipped, num_nodes, coalesce=True).to_sparse_csr(), num_nodes=num_nodes
            ),
            False,
        ),
    }
    if HAS_TORCH_SPARSE:  # pragma: no cover - torch-sparse is absent on the project's machines
        from torch_sparse import SparseTensor

        sizes = (num_nodes, num_nodes)
        forms["torch_sparse"] = (
            SparseTensor(row=edge_index[0], col=edge_index[1], sparse_sizes=sizes),
            False,
        )
        forms["torch_sparse_t"] = (
            SparseTensor(row=edge_index[1], col=edge_index[0], sparse_sizes=sizes),
            True,
        )
    return forms


#: Form names of :func:`adjacency_forms` that exist on every machine.
FORM_NAMES = (
    "edge_index",
    "edge_index_int32",
    "coo",
    "coo_uncoalesced",
    "csr",
    "csc",
    "adj_t_csr",
    "adj_t_coo",
    "sparse_tensor",
    "sparse_tensor_t",
    "data_edge_index",
    "data_adj_t",
)

#: Warning filter for tests that build sparse CSR/CSC tensors (torch marks them beta).
SPARSE_BETA = "ignore:Sparse (CSR|CSC) tensor support is in beta state:UserWarning"
