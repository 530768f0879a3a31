r"""Relative random-walk probabilities: the powers :math:`I, P, \dots, P^{K-1}` on reachable pairs.

:math:`P = D^{-1} A` is the row-normalised (out-degree) transition matrix of each graph, with
rows of nodes without out-edges left at zero and no self loops added (GRIT's RRWP, spec
``grit.md`` §1). Weighted edges use :math:`A_{ij} = w_{ij}`; duplicate edges are summed, so
every row of a node with out-edges sums to 1 (the reference writes duplicates into its dense
copy without summing but counts them in the degree; graphpair sums both).

A pair ``(i, j)`` is kept when some channel is non-zero, i.e. ``j`` is reachable from ``i`` by a
walk of at most ``K - 1`` steps (every node keeps ``(i, i)`` through the identity channel).
Walks never leave a connected component, so the work is split by component (found by
label propagation): a batch of graphs is one block-diagonal matrix, pairs never cross graphs,
and isolated nodes or small fragments of a large graph cost next to nothing.

Two paths give the same pairs and values:

``'sparse'``
    Propagates :math:`P^{k} = P^{k-1} P` as sparse-sparse products (``torch.sparse.mm`` on
    CSR tensors, on CPU and CUDA), so the cost follows the number of reachable pairs and no
    :math:`n \times n` matrix is formed; one sort at the end aligns the K channels.
``'dense'``
    Pads components to the largest one in a chunk and runs batched dense products
    (:math:`O(K n^3)` per component of n nodes); fast for molecule-sized graphs.

``'auto'`` uses the dense path for components with at most ``RANDOM_WALK_DENSE_MAX_NODES``
(= 512) nodes and the sparse path for larger ones. At GRIT's walk lengths (K = 17-32) the reach
within a component of a few hundred nodes usually covers most pairs, and then the dense products
win (measured in ``benchmarks/results/random_walk.md``); in larger sparse components the reach
is a fraction of the n^2 pairs and the sparse path wins, until the reach fills most pairs:
``'auto'`` therefore abandons the sparse products for dense ones as soon as one channel has
non-zeros on half of the large components' n^2 pairs (when their stacks fit the byte limit).
Long chains of a few hundred nodes (peptide backbones) are the case the size rule gets wrong
(100 paths of 300 nodes, K = 21: sparse 0.82 s, dense 1.57 s): pass ``method='sparse'``
there. The dense path refuses a component whose ``[n, n, K]`` stack would exceed
``RANDOM_WALK_DENSE_MAX_BYTES`` (1 GiB).
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
from graphpair.ops._csr import split_keys
from graphpair.ops._segment import counts_to_ptr, ptr_to_index
from graphpair.ops._spmm import csr_matrix

__all__ = [
    "RANDOM_WALK_DENSE_MAX_BYTES",
    "RANDOM_WALK_DENSE_MAX_NODES",
    "RandomWalkPowers",
    "random_walk_powers",
]

#: ``'auto'`` computes graphs with at most this many nodes with dense products.
RANDOM_WALK_DENSE_MAX_NODES = 512
#: The dense path refuses a component whose ``[n, n, K]`` stack of powers exceeds this many bytes.
RANDOM_WALK_DENSE_MAX_BYTES = 1 << 30
#: Bound on the floats of one chunk of dense powers (``K * G * n * n`` for G components of n nodes).
_DENSE_CHUNK_FLOATS = 1 << 24

_METHODS = ("auto", "sparse", "dense")


class RandomWalkPowers(NamedTuple):
    """Output of :func:`random_walk_powers`.

    Example:
        On the path ``0-1-2`` a walk from node 0 is at node 1 after one step and back at 0
        or at 2 after two:

        >>> out = random_walk_powers(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), walk_length=3)
        >>> out.pair_index[:, :3]  # the pairs starting at node 0
        tensor([[0, 0, 0],
                [0, 1, 2]])
        >>> out.pair_val[:3]  # their probabilities after 0, 1 and 2 steps
        tensor([[1.0000, 0.0000, 0.5000],
                [0.0000, 1.0000, 0.0000],
                [0.0000, 0.0000, 0.5000]])
        >>> out.node_val[:, 2]  # return probabilities after two steps
        tensor([0.5000, 1.0000, 0.5000])
    """

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
    row, col = split_keys(keys, num_nodes)
    deg = torch.zeros(num_nodes, dtype=dtype, device=row.device).index_add_(0, row, weight)
    prob = weight / deg[row]
    keep = prob != 0  # zero-weight edges carry no probability (and 0/0 rows of zero weight)
    keep &= torch.isfinite(prob)
    return row[keep], col[keep], prob[keep]


def _components(row: Tensor, col: Tensor, num_nodes: int) -> Tensor:
    """Connected component of every node (weakly, i.e. ignoring direction) ``[N]``.

    Each component is labelled by one of its node ids. Min-label hooking over the edges, with
    roots hooked too and pointer jumping, so chains converge in about log(length) rounds.
    """
    label = torch.arange(num_nodes, device=row.device)
    if row.numel() == 0:
        return label
    src, dst = torch.cat([row, col]), torch.cat([col, row])
    while True:
        # Every node takes the smallest label among itself and its neighbours ...
        new = label.scatter_reduce(0, dst, label[src], reduce="amin", include_self=True)
        # ... and so does the root its old label pointed at, merging whole trees at once.
        new = new.scatter_reduce(0, label, new, reduce="amin", include_self=True)
        while True:  # pointer jumping: follow labels to their roots
            jumped = new[new]
            if torch.equal(jumped, new):
                break
            new = jumped
        if torch.equal(new, label):
            return label
        label = new


def _sparse_powers(
    row: Tensor,
    col: Tensor,
    prob: Tensor,
    nodes: Tensor,
    num_nodes: int,
    walk_length: int,
    max_nnz: int | None = None,
) -> tuple[Tensor, Tensor] | None:
    """Sorted keys ``i * N + j`` ``[S]`` and values ``[S, K]`` for walks starting at ``nodes``.

    Returns ``None`` as soon as one channel has more than ``max_nnz`` non-zeros (the caller
    then switches to dense products, which win once the reach fills most pairs).
    """
    device, dtype = prob.device, prob.dtype
    size = (num_nodes, num_nodes)
    trans = csr_matrix(counts_to_ptr(torch.bincount(row, minlength=num_nodes)), col, prob, size)

    # Channel 0: the identity restricted to the start nodes.
    current = csr_matrix(
        counts_to_ptr(torch.bincount(nodes, minlength=num_nodes)),
        nodes,
        torch.ones(nodes.numel(), dtype=dtype, device=device),
        size,
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
        if max_nnz is not None and current._nnz() > max_nnz:
            return None
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
    unit_ptr: Tensor,
    units: Tensor,
    num_nodes: int,
    walk_length: int,
) -> tuple[Tensor, Tensor]:
    """Same output as :func:`_sparse_powers` for the nodes of ``units`` (contiguous node
    ranges ``unit_ptr``), via batched dense products.

    Units are grouped by exact size, so no product carries padding; the results are put back
    in node order with one pass (each unit's entries are contiguous), without a sort.
    """
    device, dtype = prob.device, prob.dtype
    sizes = unit_ptr[1:] - unit_ptr[:-1]
    num_units = sizes.numel()
    node_unit = ptr_to_index(unit_ptr)

    # Processing order: by size, ties by unit id; edges sorted the same way (stable, so they
    # stay row-major inside a unit) and sliced per chunk.
    order = units[torch.argsort(sizes[units], stable=True)]
    rank = torch.full((num_units,), -1, dtype=torch.long, device=device)
    rank[order] = torch.arange(order.numel(), device=device)
    e_rank = rank[node_unit[row]]
    keep = e_rank >= 0
    e_rank, e_row, e_col, e_prob = e_rank[keep], row[keep], col[keep], prob[keep]
    e_order = torch.argsort(e_rank, stable=True)
    e_rank, e_row, e_col, e_prob = e_rank[e_order], e_row[e_order], e_col[e_order], e_prob[e_order]
    e_ptr_list = counts_to_ptr(torch.bincount(e_rank, minlength=order.numel())).tolist()

    group_sizes, group_counts = torch.unique_consecutive(sizes[order], return_counts=True)
    units_out, keys_out, vals_out = [], [], []
    start = 0
    for n, count in zip(group_sizes.tolist(), group_counts.tolist(), strict=True):
        per_chunk = max(1, _DENSE_CHUNK_FLOATS // (n * n * walk_length))
        for lo in range(start, start + count, per_chunk):
            hi = min(lo + per_chunk, start + count)
            chunk = order[lo:hi]
            g = hi - lo
            e_lo, e_hi = e_ptr_list[lo], e_ptr_list[hi]
            base = unit_ptr[order[e_rank[e_lo:e_hi]]]  # first node of each edge's unit
            trans = torch.zeros(g, n, n, dtype=dtype, device=device)
            trans[e_rank[e_lo:e_hi] - lo, e_row[e_lo:e_hi] - base, e_col[e_lo:e_hi] - base] = (
                e_prob[e_lo:e_hi]
            )
            # Channel-major [K, g, n, n]: each product is written contiguously.
            powers = torch.empty(walk_length, g, n, n, dtype=dtype, device=device)
            powers[0] = torch.eye(n, dtype=dtype, device=device)
            for k in range(1, walk_length):
                torch.bmm(powers[k - 1], trans, out=powers[k])
            pair_major = powers.permute(1, 2, 3, 0).contiguous()  # [g, n, n, K]: one copy
            del powers
            gi, ii, jj = (pair_major != 0).any(-1).nonzero(as_tuple=True)  # row-major per unit
            offset = unit_ptr[chunk][gi]
            units_out.append(chunk[gi])
            keys_out.append((offset + ii) * num_nodes + (offset + jj))
            vals_out.append(pair_major[gi, ii, jj])
        start += count
    if not keys_out:
        empty = torch.empty(0, dtype=torch.long, device=device)
        return empty, torch.empty(0, walk_length, dtype=dtype, device=device)

    # Back to node order: unit u's entries go to [offset_u, offset_u + count_u), keeping their
    # relative (row-major) order.
    unit_of, keys, vals = torch.cat(units_out), torch.cat(keys_out), torch.cat(vals_out)
    total = keys.numel()
    counts = torch.bincount(unit_of, minlength=num_units)
    offsets = torch.cumsum(counts, 0) - counts
    position = torch.arange(total, device=device)
    first = torch.full((num_units,), total, dtype=torch.long, device=device)
    first = first.scatter_reduce(0, unit_of, position, reduce="amin")
    target = offsets[unit_of] + position - first[unit_of]
    out_keys = torch.empty_like(keys)
    out_keys[target] = keys
    out_vals = torch.empty_like(vals)
    out_vals[target] = vals
    return out_keys, out_vals


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
    if (
        batch is not None
        and edge_index.numel()
        and bool((batch[edge_index[0]] != batch[edge_index[1]]).any())
    ):
        raise ValueError(
            "edge_index has edges between different graphs of batch; walks must stay in a graph"
        )

    row, col, prob = _transition(edge_index, edge_weight, num_nodes, dtype)

    # Walks never leave a connected component, so components are the units of work: small
    # ones go through padded dense products, large ones through sparse products. Nodes are
    # renumbered so that every component is a contiguous range (a no-op for PyG batches of
    # connected graphs).
    unit = _components(row, col, num_nodes)
    perm: Tensor | None = None
    if num_nodes > 1 and bool((unit[1:] < unit[:-1]).any()):
        perm = torch.argsort(unit, stable=True)  # new id -> old id
        new_id = torch.empty_like(perm)
        new_id[perm] = torch.arange(num_nodes, device=device)
        row, col, unit = new_id[row], new_id[col], unit[perm]
        order = torch.argsort(row * num_nodes + col)  # keep the entries row-major
        row, col, prob = row[order], col[order], prob[order]
    _, sizes = torch.unique_consecutive(unit, return_counts=True)
    unit_ptr = counts_to_ptr(sizes)
    node_unit = ptr_to_index(unit_ptr)

    itemsize = torch.finfo(dtype).bits // 8
    stack_bytes = sizes * sizes * walk_length * itemsize
    if method == "dense":
        dense_unit = torch.ones(sizes.numel(), dtype=torch.bool, device=device)
    elif method == "sparse":
        dense_unit = torch.zeros(sizes.numel(), dtype=torch.bool, device=device)
    else:
        dense_unit = (sizes <= RANDOM_WALK_DENSE_MAX_NODES) & (
            stack_bytes <= RANDOM_WALK_DENSE_MAX_BYTES
        )

    parts_keys, parts_vals = [], []
    if bool(dense_unit.any()):
        units = dense_unit.nonzero().view(-1)
        largest = int(sizes[units].max())
        need = largest * largest * walk_length * itemsize
        if need > RANDOM_WALK_DENSE_MAX_BYTES:
            raise ValueError(
                f"method='dense' needs a [{largest}, {largest}, {walk_length}] stack of "
                f"{need / 2**20:.0f} MiB for the largest connected component, above the "
                f"{RANDOM_WALK_DENSE_MAX_BYTES / 2**20:.0f} MiB limit; "
                "use method='sparse' or 'auto'"
            )
        k, v = _dense_powers(row, col, prob, unit_ptr, units, num_nodes, walk_length)
        parts_keys.append(k)
        parts_vals.append(v)
    if not bool(dense_unit.all()):
        sparse_nodes = (~dense_unit[node_unit]).nonzero().view(-1)
        max_nnz = None
        if method == "auto" and bool(
            (stack_bytes[~dense_unit] <= RANDOM_WALK_DENSE_MAX_BYTES).all()
        ):
            # Once one channel fills half of the components' n^2 pairs, dense products are
            # cheaper than continuing with sparse ones (measured: random_walk.md).
            max_nnz = int((sizes[~dense_unit] ** 2).sum()) // 2
        sparse = _sparse_powers(row, col, prob, sparse_nodes, num_nodes, walk_length, max_nnz)
        if sparse is None:
            units = (~dense_unit).nonzero().view(-1)
            sparse = _dense_powers(row, col, prob, unit_ptr, units, num_nodes, walk_length)
        parts_keys.append(sparse[0])
        parts_vals.append(sparse[1])

    if perm is not None:
        # Back to the caller's node ids; the final sort restores row-major order.
        parts_keys = [
            perm[row_k] * num_nodes + perm[col_k]
            for row_k, col_k in (split_keys(k, num_nodes) for k in parts_keys)
        ]
    if not parts_keys:
        keys = torch.empty(0, dtype=torch.long, device=device)
        vals = torch.empty(0, walk_length, dtype=dtype, device=device)
    elif len(parts_keys) == 1 and perm is None:
        keys, vals = parts_keys[0], parts_vals[0]
    else:
        keys, order = torch.sort(torch.cat(parts_keys))
        vals = torch.cat(parts_vals)[order]

    src, dst = split_keys(keys, num_nodes)
    node_val = torch.zeros(num_nodes, walk_length, dtype=dtype, device=device)
    diagonal = src == dst
    node_val[src[diagonal]] = vals[diagonal]
    return RandomWalkPowers(torch.stack([src, dst]), vals, node_val)
