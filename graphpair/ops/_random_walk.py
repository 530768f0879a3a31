r"""Relative random-walk probabilities: the powers :math:`I, P, \dots, P^{K-1}` on reachable pairs.

:math:`P = D^{-1} A` is the row-normalised (out-degree) transition matrix of each graph, with
rows of nodes without out-edges left at zero and no self loops added (GRIT's RRWP, spec
``grit.md`` §1). Weighted edges use :math:`A_{ij} = w_{ij}`; duplicate edges are summed, so
every row of a node with out-edges sums to 1 (the reference writes duplicates into its dense
copy without summing but counts them in the degree; graphpair sums both).

A pair ``(i, j)`` is kept when some channel is non-zero, i.e. ``j`` is reachable from ``i`` by a
walk of at most ``K - 1`` steps (every node keeps ``(i, i)`` through the identity channel).
Walks never leave a graph, so a batch of graphs is handled as one block-diagonal matrix and
pairs never cross graphs.

Two paths give the same pairs and values:

``'sparse'``
    Propagates :math:`P^{k} = P^{k-1} P` as sparse-sparse products (``torch.sparse.mm`` on
    CSR tensors, on CPU and CUDA), so the cost follows the number of reachable pairs and no
    :math:`n \times n` matrix is formed; one sort at the end aligns the K channels.
``'dense'``
    Pads graphs to the largest one in a chunk and runs batched dense products
    (:math:`O(K n^3)` per graph); fast for molecule-sized graphs.

``'auto'`` uses the dense path for graphs with at most ``RANDOM_WALK_DENSE_MAX_NODES`` (= 512)
nodes and the sparse path for larger graphs, per graph within a batch. At GRIT's walk lengths
(K = 17-32) the reach of a graph of a few hundred nodes usually covers most pairs, and then the
dense products win (measured in ``benchmarks/results/random_walk.md``); on larger sparse graphs
the reach is a fraction of the n^2 pairs and the sparse path wins. The dense path refuses a graph
whose ``[n, n, K]`` stack would exceed ``RANDOM_WALK_DENSE_MAX_BYTES`` (1 GiB).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import torch
from torch import Tensor

from graphpair._validation import (
    check_choice,
    check_edge_index,
    check_finite,
    check_index,
    check_int,
    check_tensor,
)

__all__ = [
    "RANDOM_WALK_DENSE_MAX_BYTES",
    "RANDOM_WALK_DENSE_MAX_NODES",
    "RandomWalkPowers",
    "random_walk_powers",
]

#: ``'auto'`` computes graphs with at most this many nodes with dense products.
RANDOM_WALK_DENSE_MAX_NODES = 512
#: The dense path refuses a graph whose ``[n, n, K]`` stack of powers exceeds this many bytes.
RANDOM_WALK_DENSE_MAX_BYTES = 1 << 30
#: Bound on the floats of one chunk of padded dense matrices (``G * n * n * K``).
_DENSE_CHUNK_FLOATS = 1 << 24

_METHODS = ("auto", "sparse", "dense")


class RandomWalkPowers(NamedTuple):
    """Output of :func:`random_walk_powers`."""

    pair_index: Tensor
    """Kept pairs ``[2, S]``: row 0 is the walk's start ``i``, row 1 its end ``j``.
    Sorted by ``(i, j)``."""
    pair_val: Tensor
    """``pair_val[s, k] = (P^k)[i_s, j_s]`` ``[S, K]``."""
    node_val: Tensor
    """Diagonal ``node_val[i, k] = (P^k)[i, i]`` ``[N, K]`` (column 0 is all ones)."""


def _transition(
    edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int, dtype: torch.dtype
) -> tuple[Tensor, Tensor, Tensor]:
    """Coalesced transition entries ``(row, col, prob)``, sorted by (row, col), zeros dropped."""
    row, col = edge_index.long()
    weight = (
        torch.ones(row.numel(), dtype=dtype, device=row.device)
        if edge_weight is None
        else edge_weight.to(dtype)
    )
    keys, inverse = torch.unique(row * num_nodes + col, sorted=True, return_inverse=True)
    weight = torch.zeros(keys.numel(), dtype=dtype, device=row.device).index_add_(
        0, inverse, weight
    )
    row = torch.div(keys, max(num_nodes, 1), rounding_mode="floor")
    col = keys - row * num_nodes
    deg = torch.zeros(num_nodes, dtype=dtype, device=row.device).index_add_(0, row, weight)
    prob = weight / deg[row]
    keep = prob != 0  # zero-weight edges carry no probability (and 0/0 rows of zero weight)
    keep &= torch.isfinite(prob)
    return row[keep], col[keep], prob[keep]


def _csr_matrix(rowptr: Tensor, col: Tensor, val: Tensor, num_nodes: int) -> Tensor:
    with warnings.catch_warnings():
        # torch flags sparse CSR support as beta on every construction; the tensors built here
        # are valid by construction (sorted, in range), so the warning is noise for users.
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(rowptr, col, val, (num_nodes, num_nodes))


def _sparse_powers(
    row: Tensor, col: Tensor, prob: Tensor, nodes: Tensor, num_nodes: int, walk_length: int
) -> tuple[Tensor, Tensor]:
    """Sorted keys ``i * N + j`` ``[S]`` and values ``[S, K]`` for walks starting at ``nodes``."""
    device, dtype = prob.device, prob.dtype
    rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=device)
    torch.cumsum(torch.bincount(row, minlength=num_nodes), 0, out=rowptr[1:])
    trans = _csr_matrix(rowptr, col, prob, num_nodes)

    # Channel 0: the identity restricted to the start nodes.
    start_ptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=device)
    start_ptr[nodes + 1] = 1
    current = _csr_matrix(
        torch.cumsum(start_ptr, 0),
        nodes,
        torch.ones(nodes.numel(), dtype=dtype, device=device),
        num_nodes,
    )
    keys_per_k = [nodes * num_nodes + nodes]
    vals_per_k = [current.values()]
    for _ in range(1, walk_length):
        if row.numel() == 0:
            break
        # (P^k) = (P^{k-1}) P as a sparse-sparse product: the work follows the reachable
        # pairs, with no n x n matrix. Columns within a row come out unsorted; the union
        # below sorts once for all channels.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            current = torch.sparse.mm(current, trans)
        crow, ccol, cval = current.crow_indices(), current.col_indices(), current.values()
        crow_counts = crow[1:] - crow[:-1]
        crow_row = torch.repeat_interleave(
            torch.arange(num_nodes, device=device), crow_counts, output_size=ccol.numel()
        )
        keys_per_k.append(crow_row * num_nodes + ccol)
        vals_per_k.append(cval)

    channel = torch.cat(
        [
            torch.full((k.numel(),), i, dtype=torch.long, device=device)
            for i, k in enumerate(keys_per_k)
        ]
    )
    keys, inverse = torch.unique(torch.cat(keys_per_k), sorted=True, return_inverse=True)
    values = torch.zeros(keys.numel(), walk_length, dtype=dtype, device=device)
    values[inverse, channel] = torch.cat(vals_per_k)
    # Probabilities can underflow to 0 on long walks; such pairs are not kept (spec rule).
    nonzero = (values != 0).any(1)
    return keys[nonzero], values[nonzero]


def _dense_powers(
    row: Tensor,
    col: Tensor,
    prob: Tensor,
    graph_ptr: Tensor,
    graphs: Tensor,
    num_nodes: int,
    walk_length: int,
) -> tuple[Tensor, Tensor]:
    """Same output as :func:`_sparse_powers` for the given graphs, via padded batched products."""
    device, dtype = prob.device, prob.dtype
    sizes = graph_ptr[1:] - graph_ptr[:-1]
    node_graph = torch.repeat_interleave(torch.arange(sizes.numel(), device=device), sizes)
    keys_out, vals_out = [], []
    sizes_sel = sizes[graphs]
    n_max_all = int(sizes_sel.max()) if graphs.numel() else 0
    per_chunk = max(1, _DENSE_CHUNK_FLOATS // max(1, n_max_all * n_max_all * walk_length))
    in_graph_sel = torch.zeros(sizes.numel(), dtype=torch.bool, device=device)
    in_graph_sel[graphs] = True
    edge_sel = (
        in_graph_sel[node_graph[row]]
        if row.numel()
        else torch.zeros(0, dtype=torch.bool, device=device)
    )
    e_row, e_col, e_prob = row[edge_sel], col[edge_sel], prob[edge_sel]
    e_graph = node_graph[e_row]
    for start in range(0, graphs.numel(), per_chunk):
        chunk = graphs[start : start + per_chunk]
        g = chunk.numel()
        n = int(sizes[chunk].max())
        slot = torch.full((sizes.numel(),), -1, dtype=torch.long, device=device)
        slot[chunk] = torch.arange(g, device=device)
        e_slot = slot[e_graph]
        sel = e_slot >= 0
        base = graph_ptr[e_graph[sel]]
        trans = torch.zeros(g, n, n, dtype=dtype, device=device)
        trans[e_slot[sel], e_row[sel] - base, e_col[sel] - base] = e_prob[sel]
        powers = torch.empty(g, n, n, walk_length, dtype=dtype, device=device)
        eye = torch.eye(n, dtype=dtype, device=device).expand(g, n, n)
        # Padding rows/cols beyond a graph's size stay 0 in every channel except the identity,
        # which is cleared below by the validity mask.
        powers[..., 0] = eye
        current = eye
        for k in range(1, walk_length):
            current = torch.bmm(current, trans)
            powers[..., k] = current
        valid = torch.arange(n, device=device).view(1, n) < sizes[chunk].view(g, 1)  # [g, n]
        keep = valid.unsqueeze(2) & valid.unsqueeze(1) & (powers != 0).any(-1)  # [g, n, n]
        gi, ii, jj = keep.nonzero(as_tuple=True)
        offset = graph_ptr[chunk][gi]
        keys_out.append((offset + ii) * num_nodes + (offset + jj))
        vals_out.append(powers[gi, ii, jj])
    if not keys_out:
        return torch.empty(0, dtype=torch.long, device=device), torch.empty(
            0, walk_length, dtype=dtype, device=device
        )
    return torch.cat(keys_out), torch.cat(vals_out)


def random_walk_powers(
    edge_index: Tensor,
    walk_length: int,
    num_nodes: int | None = None,
    *,
    batch: Tensor | None = None,
    edge_weight: Tensor | None = None,
    method: str = "auto",
    dtype: torch.dtype | None = None,
) -> RandomWalkPowers:
    r"""The random-walk channels :math:`[I, P, P^2, \dots, P^{K-1}]` on reachable pairs.

    .. math::
        P = D^{-1} A, \qquad \mathrm{pair\_val}_{s,k} = (P^k)_{i_s j_s},
        \qquad \mathrm{node\_val}_{i,k} = (P^k)_{ii}

    Args:
        edge_index: Directed edges ``[2, E]`` (give both directions for an undirected graph);
            row 0 is the source ``i`` of the step ``i -> j``.
        walk_length: Number of channels ``K >= 1`` (the identity plus ``K - 1`` powers).
        num_nodes: ``N``; inferred from ``batch`` or ``edge_index`` when ``None``.
        batch: Graph of every node ``[N]``, sorted (PyG convention); ``None`` for one graph.
            Edges must stay inside their graph.
        edge_weight: Non-negative finite weights ``[E]``; ``None`` for an unweighted graph.
        method: ``'auto'``, ``'sparse'`` or ``'dense'`` (see the module docstring).
        dtype: Floating dtype of the values; default ``edge_weight``'s dtype or
            ``torch.get_default_dtype()``.

    Returns:
        :class:`RandomWalkPowers` ``(pair_index, pair_val, node_val)``.

    Shapes:
        - edge_index: ``[2, E]``
        - output: ``pair_index [2, S]``, ``pair_val [S, K]``, ``node_val [N, K]``

    Example:
        >>> out = random_walk_powers(torch.tensor([[0, 1], [1, 0]]), walk_length=3)
        >>> out.pair_val
        tensor([[1., 0., 1.],
                [0., 1., 0.],
                [0., 1., 0.],
                [1., 0., 1.]])
    """
    walk_length = check_int("walk_length", walk_length, minimum=1)
    method = check_choice("method", method, _METHODS)
    edge_index = check_tensor("edge_index", edge_index, dim=2, integer=True)
    if batch is not None:
        batch = check_index("batch", batch, length=num_nodes)
        if batch.numel() > 1 and bool((batch[1:] < batch[:-1]).any()):
            raise ValueError(
                "batch must be sorted (nodes of each graph contiguous, as PyG batches them)"
            )
        if num_nodes is None:
            num_nodes = batch.numel()
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() > 0 else 0
    num_nodes = check_int("num_nodes", num_nodes, minimum=0, maximum=3_037_000_499)
    edge_index = check_edge_index("edge_index", edge_index, num_nodes=num_nodes)
    if edge_weight is not None:
        edge_weight = check_tensor("edge_weight", edge_weight, dim=1, floating=True)
        if edge_weight.numel() != edge_index.size(1):
            raise ValueError(
                f"edge_weight must have one entry per edge ({edge_index.size(1)}); "
                f"got {edge_weight.numel()}"
            )
        check_finite("edge_weight", edge_weight)
        if edge_weight.numel() and float(edge_weight.min()) < 0:
            raise ValueError(f"edge_weight must be non-negative; found {float(edge_weight.min())}")
    if dtype is None:
        dtype = edge_weight.dtype if edge_weight is not None else torch.get_default_dtype()
    if not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating dtype; got {dtype}")

    device = edge_index.device
    if batch is None:
        batch = torch.zeros(num_nodes, dtype=torch.long, device=device)
    if edge_index.numel() and bool((batch[edge_index[0]] != batch[edge_index[1]]).any()):
        raise ValueError(
            "edge_index has edges between different graphs of batch; walks must stay in a graph"
        )
    num_graphs = int(batch[-1]) + 1 if num_nodes else 0
    sizes = torch.bincount(batch, minlength=num_graphs)
    graph_ptr = torch.zeros(num_graphs + 1, dtype=torch.long, device=device)
    torch.cumsum(sizes, 0, out=graph_ptr[1:])

    row, col, prob = _transition(edge_index, edge_weight, num_nodes, dtype)

    if method == "dense":
        dense_graph = torch.ones(num_graphs, dtype=torch.bool, device=device)
    elif method == "sparse":
        dense_graph = torch.zeros(num_graphs, dtype=torch.bool, device=device)
    else:
        stack_bytes = sizes * sizes * walk_length * (torch.finfo(dtype).bits // 8)
        dense_graph = (sizes <= RANDOM_WALK_DENSE_MAX_NODES) & (
            stack_bytes <= RANDOM_WALK_DENSE_MAX_BYTES
        )

    parts_keys, parts_vals = [], []
    if bool(dense_graph.any()):
        graphs = dense_graph.nonzero().view(-1)
        largest = int(sizes[graphs].max())
        need = largest * largest * walk_length * (torch.finfo(dtype).bits // 8)
        if need > RANDOM_WALK_DENSE_MAX_BYTES:
            raise ValueError(
                f"method='dense' needs a [{largest}, {largest}, {walk_length}] stack of "
                f"{need / 2**20:.0f} MiB for the largest graph, above the "
                f"{RANDOM_WALK_DENSE_MAX_BYTES / 2**20:.0f} MiB limit; "
                "use method='sparse' or 'auto'"
            )
        k, v = _dense_powers(row, col, prob, graph_ptr, graphs, num_nodes, walk_length)
        parts_keys.append(k)
        parts_vals.append(v)
    if not bool(dense_graph.all()):
        sparse_nodes = (~dense_graph[batch]).nonzero().view(-1)
        k, v = _sparse_powers(row, col, prob, sparse_nodes, num_nodes, walk_length)
        parts_keys.append(k)
        parts_vals.append(v)

    if not parts_keys:
        keys = torch.empty(0, dtype=torch.long, device=device)
        vals = torch.empty(0, walk_length, dtype=dtype, device=device)
    elif len(parts_keys) == 1:
        keys, vals = parts_keys[0], parts_vals[0]
    else:
        keys, order = torch.sort(torch.cat(parts_keys))
        vals = torch.cat(parts_vals)[order]

    src = torch.div(keys, max(num_nodes, 1), rounding_mode="floor")
    dst = keys - src * num_nodes
    node_val = torch.zeros(num_nodes, walk_length, dtype=dtype, device=device)
    diagonal = src == dst
    node_val[src[diagonal]] = vals[diagonal]
    return RandomWalkPowers(torch.stack([src, dst]), vals, node_val)
