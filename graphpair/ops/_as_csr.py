r"""Conversions of PyG's adjacency forms into a :class:`~graphpair.ops.CSR`.

PyG code carries a graph's structure in one of four forms: an ``edge_index [2, E]``, a
``torch.sparse`` adjacency (COO, CSR or CSC layout; what ``ToSparseTensor`` writes to ``adj_t``
when torch-sparse is absent), a ``torch_sparse.SparseTensor`` (``adj_t`` when it is present)
or a :class:`~torch_geometric.data.Data` holding one of them. :func:`as_csr` turns any of them
into graphpair's CSR once, with vectorised tensor ops only.

**Direction.** A matrix ``A`` is read as ``A[i, j]`` stored = the edge ``i -> j``; PyG's
``adj_t`` is the *transposed* adjacency (row = target ``edge_index[1]``), which
``transposed=True`` (and ``Data.adj_t`` always) reads back so that the CSR's rows are sources,
as :meth:`CSR.from_edge_index` stores them. With ``symmetric=True`` (the default: the link
predictors work on undirected graphs) the direction does not matter: an asymmetric input
becomes the union of both directions, ``A + A^T`` as a pattern. With ``symmetric=False`` the
input direction is kept.

**Values** are ignored: every *stored* entry is an edge, an explicitly stored zero included
(PyG's layers message-pass along stored entries too). Duplicates are merged, self loops dropped
unless ``self_loops=True``.

**Cost.** A sorted, duplicate-free input whose pattern already is what was asked for (a
``sparse_csr`` tensor, a coalesced COO tensor or a ``SparseTensor`` of a symmetric graph) keeps
its structure: one pass to check the order and, for ``symmetric=True``, one sort of the
transposed entries to check the symmetry (no deduplication); anything else is sorted and
deduplicated once (:meth:`CSR.from_edge_index`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from graphpair._validation import check_edge_index, check_index, check_int, check_ptr, describe
from graphpair.ops._csr import _MAX_NODES, CSR
from graphpair.ops._segment import counts_to_ptr, ptr_to_index

__all__ = [
    "as_csr",
    "csr_from_data",
    "csr_from_sparse",
    "csr_from_sparse_tensor",
    "is_sparse_tensor",
]

_SPARSE_LAYOUTS = (torch.sparse_coo, torch.sparse_csr, torch.sparse_csc)


def is_sparse_tensor(value: Any) -> bool:
    """Whether ``value`` is a ``torch_sparse.SparseTensor`` (or an object with its
    ``csr()`` / ``coo()`` / ``sparse_sizes()`` API): duck typing, so torch-sparse is never
    imported here.

    Args:
        value: Any object.

    Example:
        >>> is_sparse_tensor(torch.zeros(2, 2).to_sparse())  # a torch.sparse tensor is not one
        False
    """
    if isinstance(value, Tensor):
        return False
    return all(callable(getattr(value, name, None)) for name in ("csr", "coo", "sparse_sizes"))


def _num_nodes_of_matrix(name: str, rows: int, cols: int, num_nodes: int | None) -> int:
    if rows != cols:
        raise ValueError(
            f"{name} must be a square N x N adjacency; got size ({rows}, {cols}) "
            "(a bipartite adjacency has no graphpair CSR)"
        )
    if num_nodes is not None:
        num_nodes = check_int("num_nodes", num_nodes, minimum=0, maximum=_MAX_NODES)
        if num_nodes != rows:
            raise ValueError(f"num_nodes={num_nodes} but {name} has size ({rows}, {cols})")
    return check_int(f"{name}.size(0)", rows, maximum=_MAX_NODES)


def _from_pairs(row: Tensor, col: Tensor, num_nodes: int, symmetric: bool, self_loops: bool) -> CSR:
    """The general path: sort and deduplicate (:meth:`CSR.from_edge_index`)."""
    edge_index = torch.stack([row.long(), col.long()])
    return CSR.from_edge_index(edge_index, num_nodes, symmetric=symmetric, self_loops=self_loops)


def _from_rows(
    name: str,
    rowptr: Tensor,
    col: Tensor,
    num_nodes: int,
    *,
    symmetric: bool,
    self_loops: bool,
    transposed: bool,
) -> CSR:
    """A CSR from a row-compressed structure, kept as it is when it is already sorted,
    duplicate-free and (for ``symmetric``) symmetric; sorted once otherwise."""
    col = check_index(f"{name} column indices", col, size=num_nodes).long()
    rowptr = check_ptr(f"{name} row pointer", rowptr, total=col.numel()).long()
    if rowptr.numel() != num_nodes + 1:
        raise ValueError(
            f"{name} row pointer must have num_nodes + 1 = {num_nodes + 1} entries; "
            f"got {rowptr.numel()}"
        )
    row = ptr_to_index(rowptr)
    if not self_loops:
        loop = row == col
        if bool(loop.any()):  # dropping entries keeps the order: still row-major sorted
            row, col = row[~loop], col[~loop]
            rowptr = counts_to_ptr(torch.bincount(row, minlength=num_nodes))
    keys = row * num_nodes + col
    ordered = keys.numel() < 2 or bool((keys[1:] > keys[:-1]).all())
    if ordered and symmetric and keys.numel() > 0:
        # The unique entries are closed under transposition iff the transposed entries, sorted
        # by (col, row), are the entries themselves. A stable sort by col alone gives that
        # order (the entries are sorted by row already); its col sequence equals row iff in-
        # and out-degrees agree (an O(E) count that turns most asymmetric inputs away before
        # the sort), so what remains is row[perm] == col. The column ids are sorted in the
        # narrowest integer type that holds them: on ogbl-ddi int16 sorted 3.5x faster than
        # the int64 keys, which beat a binary search of every transposed key 4-7x.
        ordered = torch.equal(torch.bincount(col, minlength=num_nodes), rowptr[1:] - rowptr[:-1])
        if ordered:
            narrow = torch.int16 if num_nodes <= 2**15 else torch.int32
            narrow = narrow if num_nodes <= 2**31 else torch.long
            perm = torch.sort(col.to(narrow), stable=True).indices
            ordered = torch.equal(row[perm], col)
    if not ordered:
        src, dst = (col, row) if transposed else (row, col)
        return _from_pairs(src, dst, num_nodes, symmetric, self_loops)
    if transposed and not symmetric:  # rows of adj_t are targets: transpose back
        return _from_pairs(col, row, num_nodes, False, self_loops)
    adj = CSR._from_sorted(rowptr, col, num_nodes)
    adj._keys, adj._row = keys, row
    return adj


def _from_edge_index(
    edge_index: Tensor, num_nodes: int | None, *, symmetric: bool, self_loops: bool
) -> CSR:
    """An ``edge_index`` as a CSR; one sorted by (source, target) without duplicates (as
    PyG's ``coalesce`` / ``to_undirected`` return it) keeps its order: no sort."""
    if num_nodes is not None:
        num_nodes = check_int("num_nodes", num_nodes, minimum=0, maximum=_MAX_NODES)
    edge_index = check_edge_index("adj", edge_index, num_nodes=num_nodes)
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() > 0 else 0
        check_int("num_nodes", num_nodes, maximum=_MAX_NODES)
    row, col = edge_index.long()
    keys = row * num_nodes + col
    if keys.numel() > 1 and bool((keys[1:] > keys[:-1]).all()):
        rowptr = counts_to_ptr(torch.bincount(row, minlength=num_nodes))
        return _from_rows(
            "adj",
            rowptr,
            col,
            num_nodes,
            symmetric=symmetric,
            self_loops=self_loops,
            transposed=False,
        )
    return CSR.from_edge_index(edge_index, num_nodes, symmetric=symmetric, self_loops=self_loops)


def csr_from_sparse(
    adj: Tensor,
    num_nodes: int | None = None,
    *,
    symmetric: bool = True,
    self_loops: bool = False,
    transposed: bool = False,
) -> CSR:
    r"""A :class:`CSR` from a ``torch.sparse`` adjacency matrix (COO, CSR or CSC layout).

    ``adj[i, j]`` stored means the edge ``i -> j``; with ``transposed=True`` it is read as
    PyG's ``adj_t`` (``adj_t[j, i]`` stored means ``i -> j``). Values are ignored (every stored
    entry is an edge), duplicates merged, self loops dropped unless ``self_loops``. With
    ``symmetric=True`` every edge is stored in both directions, so an asymmetric ``adj`` gives
    the pattern of :math:`A + A^\top`. A ``sparse_csr`` tensor (or a coalesced COO one) that is
    already symmetric and loop-free keeps its row pointer and columns.

    Args:
        adj: Sparse ``[N, N]`` tensor.
        num_nodes: ``N``, checked against ``adj``'s size when given.
        symmetric: Store both directions of every edge.
        self_loops: Keep the input's self loops.
        transposed: ``adj`` is a transposed adjacency (row = target), as PyG's ``adj_t``.

    Example:
        >>> index = torch.tensor([[1, 2], [0, 1]])  # adj_t: row = target
        >>> adj_t = torch.sparse_coo_tensor(index, torch.ones(2), (3, 3), check_invariants=True)
        >>> csr_from_sparse(adj_t, transposed=True, symmetric=False).to_edge_index()
        tensor([[0, 1],
                [1, 2]])
    """
    if not isinstance(adj, Tensor) or adj.layout not in _SPARSE_LAYOUTS:
        raise TypeError(
            "adj must be a torch.sparse tensor with layout sparse_coo, sparse_csr or "
            f"sparse_csc; got {describe(adj) if not isinstance(adj, Tensor) else adj.layout}"
        )
    if adj.dim() != 2 or adj.dense_dim() != 0:
        raise ValueError(
            f"adj must be a 2-D sparse matrix without dense dimensions; got shape "
            f"{tuple(adj.shape)} with {adj.dense_dim()} dense dimension(s)"
        )
    n = _num_nodes_of_matrix("adj", adj.size(0), adj.size(1), num_nodes)
    if adj.layout == torch.sparse_csr:
        return _from_rows(
            "adj",
            adj.crow_indices(),
            adj.col_indices(),
            n,
            symmetric=symmetric,
            self_loops=self_loops,
            transposed=transposed,
        )
    if adj.layout == torch.sparse_csc:  # the CSR of adj^T
        return _from_rows(
            "adj",
            adj.ccol_indices(),
            adj.row_indices(),
            n,
            symmetric=symmetric,
            self_loops=self_loops,
            transposed=not transposed,
        )
    row, col = adj._indices()  # the stored entries; coalesced or not
    if adj.is_coalesced():  # sorted row-major and unique: the row pointer is a bincount
        check_index("adj row indices", row, size=n)
        rowptr = counts_to_ptr(torch.bincount(row, minlength=n))
        return _from_rows(
            "adj",
            rowptr,
            col,
            n,
            symmetric=symmetric,
            self_loops=self_loops,
            transposed=transposed,
        )
    check_index("adj row indices", row, size=n)
    check_index("adj column indices", col, size=n)
    src, dst = (col, row) if transposed else (row, col)
    return _from_pairs(src, dst, n, symmetric, self_loops)


def csr_from_sparse_tensor(
    adj: Any,
    num_nodes: int | None = None,
    *,
    symmetric: bool = True,
    self_loops: bool = False,
    transposed: bool = False,
) -> CSR:
    r"""A :class:`CSR` from a ``torch_sparse.SparseTensor`` (read through its ``csr()`` and
    ``sparse_sizes()``; torch-sparse itself is not imported).

    The same rules as :func:`csr_from_sparse`: ``adj[i, j]`` stored is the edge ``i -> j``
    (``transposed=True`` for PyG's ``adj_t``), values ignored, duplicates merged, self loops
    dropped unless ``self_loops``, both directions with ``symmetric``. A SparseTensor is kept
    sorted by row, so a duplicate-free, symmetric, loop-free one keeps its row pointer and
    columns.

    Tested here against an object with ``SparseTensor``'s ``csr()`` / ``coo()`` /
    ``sparse_sizes()`` API (torch-sparse is not installed on graphpair's test machines); a test
    with the real class runs where torch-sparse is installed.

    Args:
        adj: ``SparseTensor`` of size ``[N, N]``.
        num_nodes: ``N``, checked against ``adj.sparse_sizes()`` when given.
        symmetric: Store both directions of every edge.
        self_loops: Keep the input's self loops.
        transposed: ``adj`` is a transposed adjacency (row = target), as PyG's ``adj_t``.

    Example:
        >>> class Stub:  # SparseTensor(row=[0, 1], col=[1, 2], sparse_sizes=(3, 3))
        ...     def csr(self): return torch.tensor([0, 1, 2, 2]), torch.tensor([1, 2]), None
        ...     def coo(self): return torch.tensor([0, 1]), torch.tensor([1, 2]), None
        ...     def sparse_sizes(self): return (3, 3)
        >>> csr_from_sparse_tensor(Stub()).degree()
        tensor([1, 2, 1])
    """
    if not is_sparse_tensor(adj):
        raise TypeError(f"adj must be a torch_sparse.SparseTensor; got {describe(adj)}")
    rows, cols = (int(s) for s in adj.sparse_sizes())
    n = _num_nodes_of_matrix("adj", rows, cols, num_nodes)
    rowptr, col, _ = adj.csr()
    return _from_rows(
        "adj",
        rowptr,
        col,
        n,
        symmetric=symmetric,
        self_loops=self_loops,
        transposed=transposed,
    )


def csr_from_data(data: Any, *, symmetric: bool = True, self_loops: bool = False) -> CSR:
    """A :class:`CSR` of a PyG :class:`~torch_geometric.data.Data` graph with
    ``data.num_nodes`` nodes.

    Reads ``data.edge_index`` (source -> target) when present, else ``data.adj_t`` (a
    ``torch.sparse`` tensor or a ``SparseTensor``, as ``ToSparseTensor`` writes it: row =
    target, read back to source -> target). ``symmetric`` and ``self_loops`` as in
    :meth:`CSR.from_edge_index`.

    Args:
        data: A homogeneous graph with ``num_nodes`` and ``edge_index`` or ``adj_t``.
        symmetric: Store both directions of every edge.
        self_loops: Keep the input's self loops.

    Example:
        >>> from torch_geometric.data import Data
        >>> csr_from_data(Data(edge_index=torch.tensor([[0, 1], [1, 2]]), num_nodes=4)).degree()
        tensor([1, 2, 1, 0])
    """
    # Imported here: a Data means torch_geometric.data is loaded already; ops stays light.
    from torch_geometric.data import Data

    if not isinstance(data, Data):
        raise TypeError(
            f"data must be a torch_geometric.data.Data (homogeneous); got {describe(data)}"
        )
    num_nodes = data.num_nodes
    if num_nodes is None:
        raise ValueError("data has no nodes: set data.num_nodes (or x) to say how many")
    edge_index = data.get("edge_index")
    if edge_index is not None:
        return CSR.from_edge_index(
            edge_index, num_nodes, symmetric=symmetric, self_loops=self_loops
        )
    adj_t = data.get("adj_t")
    if adj_t is None:
        raise ValueError("data has neither edge_index nor adj_t")
    kwargs = {"symmetric": symmetric, "self_loops": self_loops, "transposed": True}
    if is_sparse_tensor(adj_t):
        return csr_from_sparse_tensor(adj_t, num_nodes, **kwargs)
    return csr_from_sparse(adj_t, num_nodes, **kwargs)


def as_csr(
    adj: Any,
    num_nodes: int | None = None,
    *,
    symmetric: bool = True,
    self_loops: bool = False,
    transposed: bool = False,
) -> CSR:
    r"""Any of PyG's adjacency forms as a graphpair :class:`CSR`, converted once.

    ============================================  ===============================================
    ``adj``                                       conversion
    ============================================  ===============================================
    :class:`CSR`                                  returned as it is (no copy; its mask is kept)
    ``edge_index`` ``[2, E]`` (integer, strided)  as :meth:`CSR.from_edge_index`, source -> target
    ``torch.sparse`` COO / CSR / CSC ``[N, N]``   :func:`csr_from_sparse`
    ``torch_sparse.SparseTensor``                 :func:`csr_from_sparse_tensor`
    :class:`~torch_geometric.data.Data`           :func:`csr_from_data` (``edge_index`` or
                                                  ``adj_t``)
    ============================================  ===============================================

    The direction rules are the module's: a matrix is read ``A[i, j]`` = ``i -> j`` unless
    ``transposed`` (PyG's ``adj_t``, row = target); with ``symmetric=True`` (the default, the
    undirected graph the link predictors expect) both directions are stored, so direction does
    not matter. A sorted input with the requested pattern keeps its structure (no
    deduplicating sort of the keys): on ogbl-ddi (4,267 nodes, 2.1 M entries) that path is
    several times faster than sorting a shuffled ``edge_index``, and faster than PyG's own
    ``ToSparseTensor`` (``benchmarks/results/as_csr.md``).

    Args:
        adj: The adjacency in one of the forms above.
        num_nodes: ``N``. Inferred for an ``edge_index`` as ``max + 1`` when ``None``; checked
            against the size of a matrix, a CSR or a Data.
        symmetric: Store both directions of every edge (not applied to a :class:`CSR`).
        self_loops: Keep the input's self loops (not applied to a :class:`CSR`).
        transposed: A sparse matrix ``adj`` is transposed (row = target); only for
            ``torch.sparse`` tensors and ``SparseTensor``.

    Example:
        >>> edge_index = torch.tensor([[0, 1, 1], [1, 2, 3]])
        >>> a = as_csr(edge_index)
        >>> ones = torch.ones(3)
        >>> b = as_csr(torch.sparse_coo_tensor(edge_index, ones, (4, 4), check_invariants=True))
        >>> torch.equal(a.to_edge_index(), b.to_edge_index())
        True
        >>> as_csr(a) is a
        True
    """
    matrix = is_sparse_tensor(adj) or (isinstance(adj, Tensor) and adj.layout in _SPARSE_LAYOUTS)
    if transposed and not matrix:
        raise ValueError(
            "transposed=True applies to a torch.sparse tensor or a SparseTensor; "
            f"got adj={describe(adj)}"
        )
    kwargs = {"symmetric": symmetric, "self_loops": self_loops, "transposed": transposed}
    if isinstance(adj, CSR):
        if num_nodes is not None and num_nodes != adj.num_nodes:
            raise ValueError(f"num_nodes={num_nodes} but the CSR adj has {adj.num_nodes} nodes")
        return adj
    if is_sparse_tensor(adj):
        return csr_from_sparse_tensor(adj, num_nodes, **kwargs)
    if isinstance(adj, Tensor):
        if adj.layout in _SPARSE_LAYOUTS:
            return csr_from_sparse(adj, num_nodes, **kwargs)
        if adj.layout != torch.strided or adj.dim() != 2 or adj.size(0) != 2:
            raise ValueError(
                "adj as a dense tensor must be an edge_index of shape [2, E]; got "
                f"{describe(adj)} with layout {adj.layout} (pass a dense adjacency "
                "matrix as adj.to_sparse())"
            )
        return _from_edge_index(adj, num_nodes, symmetric=symmetric, self_loops=self_loops)
    if hasattr(adj, "edge_stores"):  # a PyG Data (HeteroData is refused there)
        out = csr_from_data(adj, symmetric=symmetric, self_loops=self_loops)
        if num_nodes is not None and num_nodes != out.num_nodes:
            raise ValueError(f"num_nodes={num_nodes} but the Data adj has {out.num_nodes} nodes")
        return out
    raise TypeError(
        "adj must be a graphpair.ops.CSR, an edge_index [2, E], a torch.sparse adjacency, "
        f"a torch_sparse.SparseTensor or a torch_geometric Data; got {describe(adj)}"
    )
