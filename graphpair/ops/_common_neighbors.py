r"""Common-neighbour and neighbour-difference sets for batches of node pairs.

For pairs :math:`(i_p, j_p)` these ops return sparse sets in COO form ``(pair_idx, node_idx)``
sorted by pair, then node:

- :func:`common_neighbors`: :math:`N(i) \cap N(j)` (NCN),
- :func:`neighbor_difference`: :math:`N(i) \setminus N(j)` and :math:`N(j) \setminus N(i)`,
- :func:`neighbor_overlap`: all three from one pass (NCNC's completion needs them together).

Neighbourhoods are the *active* entries of a :class:`~graphpair.ops.CSR` (masked target edges
are invisible). Two paths compute the same sets:

``'sparse'``
    Walk the shorter of the two rows and binary-search each candidate in the sorted keys of the
    other: :math:`O(\sum_p \min(d_{i_p}, d_{j_p}) \log E)` time, no :math:`N \times N` memory.
    Where the adjacency bitset is already built, or is cheap (at most ``CN_LOOKUP_BITSET_BYTES``
    = 4 MiB, N up to 5,792, or at most ``CN_LOOKUP_BYTES_PER_EDGE`` = 32 bytes per stored edge;
    built once and cached), a candidate is looked up in it instead of searched: :math:`O(1)`
    each, which took Cora's 65,536 random pairs from 8.3 ms to 3.3 ms.
``'dense'``
    Intersect the two rows of the cached packed adjacency bitset (:meth:`CSR.bitset`, one bit
    per node pair, :math:`N \lceil N/8 \rceil` bytes built once per adjacency) a byte at a
    time and decode the set bits: :math:`O(P \cdot N / 8 + M)` time for :math:`M` members.

``'auto'`` (the default) takes the dense path when the bitset has at most
``CN_DENSE_BYTES_PER_EDGE`` = 8 bytes per stored edge, or is tiny (at most
``CN_DENSE_SMALL_BYTES`` = 4 KiB, N up to 178), and never above
:data:`~graphpair.ops.DENSE_BITSET_MAX_BYTES`. Per pair the dense path reads :math:`N/8` bytes
while the sparse path examines about the mean degree :math:`E/N` candidates at a higher cost
each, so the rule compares :math:`N^2/8` with :math:`E` times that cost ratio. The ratio was
measured on this project's CPU machines (``benchmarks/results/cn_method_rule.md``: 65,536
random pairs on random graphs of N = 64 ... 30,000 and mean degree 2 ... 256). On ogbl-ddi
(N = 4,267, mean degree 500, 1.1 bytes per edge) it selects the bitset; on Cora (N = 2,708,
mean degree 3.9, 85 bytes per edge) the sparse walk, with bitset lookups.

Work is done in chunks of at most ``chunk_size`` candidates (sparse) or bitset bytes (dense),
so the temporary memory is bounded whatever the batch size.
"""

from __future__ import annotations

from itertools import pairwise
from typing import NamedTuple

import torch
from torch import Tensor

from graphpair._validation import check_choice, check_int
from graphpair.ops._csr import CSR, DENSE_BITSET_MAX_BYTES, bitset_bytes

__all__ = [
    "CN_DENSE_BYTES_PER_EDGE",
    "CN_DENSE_SMALL_BYTES",
    "CN_LOOKUP_BITSET_BYTES",
    "CN_LOOKUP_BYTES_PER_EDGE",
    "NeighborOverlap",
    "PairNodeSet",
    "common_neighbors",
    "common_neighbors_method",
    "neighbor_difference",
    "neighbor_overlap",
]

#: A bitset up to this size (``N * ceil(N / 8)`` bytes) is always cheap enough for ``'auto'``.
CN_DENSE_SMALL_BYTES = 1 << 12
#: ``'auto'`` also takes the dense path while the bitset has at most this many bytes per edge.
CN_DENSE_BYTES_PER_EDGE = 8
#: The sparse path looks candidates up in the adjacency bitset rather than binary-searching
#: them when the bitset is built already or is at most this size (4 MiB: N up to 5,792).
CN_LOOKUP_BITSET_BYTES = 1 << 22
#: ... or when it has at most this many bytes per stored edge (about what the CSR itself
#: takes per entry: row, column, key and mask).
CN_LOOKUP_BYTES_PER_EDGE = 32
#: Default bound on the candidates (sparse path, about 40 bytes of temporaries each) or bitset
#: bytes (dense path, about 3 bytes each) processed at once.
DEFAULT_CHUNK_SIZE = 1 << 20
# Pairs processed at once on the sparse path, bounding the per-pair temporaries too.
_PAIR_BLOCK = 1 << 14

_METHODS = ("auto", "sparse", "dense")


class PairNodeSet(NamedTuple):
    """A set of nodes per pair in COO form, sorted by ``pair_idx`` then ``node_idx``.

    Example:
        Pair 0 is ``(0, 1)``, pair 1 is ``(2, 3)``; member ``m`` is node ``node_idx[m]`` of the
        set of pair ``pair_idx[m]``:

        >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 1, 1, 2], [2, 3, 2, 3, 4]]))
        >>> common_neighbors(adj, torch.tensor([[0, 2], [1, 3]]))
        PairNodeSet(pair_idx=tensor([0, 0, 1, 1]), node_idx=tensor([2, 3, 0, 1]))
    """

    pair_idx: Tensor
    """Index of the pair (column of ``pairs``) of each member ``[M]``."""
    node_idx: Tensor
    """The member node ``[M]``."""


class NeighborOverlap(NamedTuple):
    """Common neighbours and the two one-sided neighbour differences of a batch of pairs.

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 1, 1], [2, 3, 3, 4]]))
        >>> overlap = neighbor_overlap(adj, torch.tensor([[0], [1]]))
        >>> overlap.common.node_idx, overlap.i_only.node_idx, overlap.j_only.node_idx
        (tensor([3]), tensor([2]), tensor([4]))
    """

    common: PairNodeSet
    """:math:`N(i) \\cap N(j)`."""
    i_only: PairNodeSet
    """:math:`N(i) \\setminus N(j)`."""
    j_only: PairNodeSet
    """:math:`N(j) \\setminus N(i)`."""


def common_neighbors_method(adj: CSR, method: str = "auto") -> str:
    """The concrete path (``'sparse'`` or ``'dense'``) used for ``adj`` (rule in module docs).

    Args:
        adj: The adjacency the op will run on.
        method: ``'auto'``, ``'sparse'`` or ``'dense'``; only ``'auto'`` is a choice.

    Raises:
        ValueError: An unknown ``method``, or ``'dense'`` for a graph whose bitset would
            exceed :data:`~graphpair.ops.DENSE_BITSET_MAX_BYTES`.

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 1, 1], [2, 3, 3, 4]]))
        >>> common_neighbors_method(adj)  # a tiny bitset is always cheap
        'dense'
        >>> common_neighbors_method(adj, "sparse")
        'sparse'
    """
    method = check_choice("method", method, _METHODS)
    need = bitset_bytes(adj.num_nodes)
    if method == "dense":
        if need > DENSE_BITSET_MAX_BYTES:
            raise ValueError(
                f"method='dense' needs an adjacency bitset of {need / 2**20:.1f} MiB for "
                f"num_nodes={adj.num_nodes}, above the "
                f"{DENSE_BITSET_MAX_BYTES / 2**20:.0f} MiB limit; "
                "use method='sparse' or 'auto'"
            )
        return "dense"
    if method == "sparse":
        return "sparse"
    if need <= DENSE_BITSET_MAX_BYTES and (
        need <= CN_DENSE_SMALL_BYTES or need <= CN_DENSE_BYTES_PER_EDGE * adj.num_edges
    ):
        return "dense"
    return "sparse"


def _prepare(
    adj: CSR, pairs: Tensor, method: str, chunk_size: int
) -> tuple[Tensor, Tensor, int, bool]:
    """Checks shared by the pair-set ops: ``(src, dst, chunk_size, use the dense path)``."""
    if not isinstance(adj, CSR):
        raise TypeError(
            f"adj must be a graphpair.ops.CSR (build one with CSR.from_edge_index); got {type(adj)}"
        )
    pairs = adj._check_pairs(pairs)
    chunk_size = check_int("chunk_size", chunk_size, minimum=1)
    return pairs[0], pairs[1], chunk_size, common_neighbors_method(adj, method) == "dense"


def _chunks(lengths: Tensor, chunk_size: int) -> list[tuple[int, int]]:
    """Split pairs into consecutive ranges whose walk lengths sum to about ``chunk_size``,
    with at most ``_PAIR_BLOCK`` pairs each."""
    num = lengths.numel()
    if num == 0:
        return []
    ends = torch.cumsum(lengths, 0)
    total = int(ends[-1])
    cuts = {0, num, *range(_PAIR_BLOCK, num, _PAIR_BLOCK)}
    if total > chunk_size:
        bounds = torch.arange(chunk_size, total, chunk_size, device=lengths.device)
        cuts.update(c for c in torch.searchsorted(ends, bounds, right=True).tolist() if 0 < c < num)
    return list(pairwise(sorted(cuts)))


def _lookup_bits(adj: CSR) -> Tensor | None:
    """The bitset the sparse path looks candidates up in, or ``None`` to binary-search."""
    if adj.has_bitset:
        return adj.bitset()
    need = bitset_bytes(adj.num_nodes)
    cheap = need <= CN_LOOKUP_BITSET_BYTES or need <= CN_LOOKUP_BYTES_PER_EDGE * adj.num_edges
    return adj.bitset() if cheap and need <= DENSE_BITSET_MAX_BYTES else None


def _walk(
    adj: CSR, walker: Tensor, other: Tensor, bits: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Sparse path: walk the rows of ``walker``, find each neighbour in ``other``'s row.

    Returns ``(pair_idx, node_idx, found)`` over the active entries of the walked rows, where
    ``found`` says whether the node is also an active neighbour of ``other``: a lookup in
    ``bits`` (the adjacency bitset, which honours the mask) when given, else a binary search
    in the sorted keys. Temporaries are released as soon as possible: about five int64 arrays
    of the walk's length are alive at the peak.
    """
    device = adj.device
    start = adj.rowptr[walker]
    lengths = adj.rowptr[walker + 1] - start
    total = int(lengths.sum())
    pair_idx = torch.repeat_interleave(
        torch.arange(walker.numel(), device=device), lengths, output_size=total
    )
    # Position of each candidate in `col`: row start + rank inside the row.
    shift = start - (torch.cumsum(lengths, 0) - lengths)
    del start, lengths
    pos = torch.arange(total, device=device)
    pos += shift[pair_idx]
    node = adj.col[pos]
    active = adj.mask[pos] if adj.num_masked else None
    del pos
    if bits is not None:
        width = bits.size(1)
        byte = (other * width)[pair_idx]
        byte += node >> 3
        found = (bits.view(-1)[byte] >> (node & 7).to(torch.uint8)) & 1
        del byte
        found = found.bool()
        if active is not None:
            return pair_idx[active], node[active], found[active]
        return pair_idx, node, found
    query = (other * adj.num_nodes)[pair_idx]
    query += node
    hit = torch.searchsorted(adj.keys, query)
    hit.clamp_(max=max(adj.num_edges - 1, 0))
    found = adj.keys[hit] == query
    del query
    if active is not None:
        found &= adj.mask[hit]
        return pair_idx[active], node[active], found[active]
    return pair_idx, node, found


_BIT_TABLES: dict[torch.device, Tensor] = {}


def _bit_table(device: torch.device) -> Tensor:
    """``[256, 8]`` bool: bit ``b`` of byte value ``v`` (little-endian within the byte)."""
    table = _BIT_TABLES.get(device)
    if table is None:
        values = torch.arange(256, device=device).view(-1, 1)
        table = torch.bitwise_and(
            torch.bitwise_right_shift(values, torch.arange(8, device=device)), 1
        )
        table = _BIT_TABLES.setdefault(device, table.bool())
    return table


# Set operations of the dense path on two packed rows a = N(i), b = N(j).
_BIT_OPS = {
    "common": lambda a, b: torch.bitwise_and(a, b),
    "i_only": lambda a, b: torch.bitwise_and(a, torch.bitwise_not(b)),
    "j_only": lambda a, b: torch.bitwise_and(b, torch.bitwise_not(a)),
}


def _bitset_sets(
    adj: CSR, src: Tensor, dst: Tensor, ops: tuple[str, ...], chunk_size: int
) -> list[PairNodeSet]:
    """Dense path: combine packed rows byte-wise, then decode the set bits into nodes."""
    bits = adj.bitset()
    table = _bit_table(adj.device)
    per_chunk = max(1, chunk_size // max(bits.size(1), 1))
    parts: list[list[tuple[Tensor, Tensor]]] = [[] for _ in ops]
    for lo in range(0, src.numel(), per_chunk):
        rows_i = bits[src[lo : lo + per_chunk]]  # [B, ceil(N / 8)]
        rows_j = bits[dst[lo : lo + per_chunk]]
        for out, op in zip(parts, ops, strict=True):
            combined = _BIT_OPS[op](rows_i, rows_j)
            pair_idx, byte = combined.nonzero(as_tuple=True)  # row-major: sorted by pair, byte
            member, bit = table[combined[pair_idx, byte].long()].nonzero(as_tuple=True)
            out.append((pair_idx[member] + lo, byte[member] * 8 + bit))
    return [_cat(p, adj.device) for p in parts]


def _empty_set(device: torch.device) -> PairNodeSet:
    empty = torch.empty(0, dtype=torch.long, device=device)
    return PairNodeSet(empty, empty.clone())


def _cat(parts: list[tuple[Tensor, Tensor]], device: torch.device) -> PairNodeSet:
    if not parts:
        return _empty_set(device)
    if len(parts) == 1:
        return PairNodeSet(*parts[0])
    return PairNodeSet(torch.cat([p for p, _ in parts]), torch.cat([n for _, n in parts]))


def common_neighbors(
    adj: CSR,
    pairs: Tensor,
    *,
    method: str = "auto",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> PairNodeSet:
    r"""Common neighbours :math:`N(i_p) \cap N(j_p)` of every pair, honouring the edge mask.

    Args:
        adj: Adjacency (:class:`~graphpair.ops.CSR`); masked entries are ignored.
        pairs: Node pairs ``[2, P]``.
        method: ``'auto'``, ``'sparse'`` or ``'dense'`` (see the module docstring).
        chunk_size: Bound on the candidates (sparse) or bitset bytes (dense) held at once.

    Returns:
        :class:`PairNodeSet` ``(pair_idx, node_idx)`` sorted by pair, then node.
        ``torch.bincount(pair_idx, minlength=P)`` gives the CN counts.

    Shapes:
        - pairs: ``[2, P]``
        - output: two ``[M]`` long tensors, ``M`` the total number of common neighbours

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 1, 1], [2, 3, 2, 3]]))
        >>> common_neighbors(adj, torch.tensor([[0], [1]]))
        PairNodeSet(pair_idx=tensor([0, 0]), node_idx=tensor([2, 3]))
    """
    src, dst, chunk_size, dense = _prepare(adj, pairs, method, chunk_size)
    if dense:
        return _bitset_sets(adj, src, dst, ("common",), chunk_size)[0]
    return _common(adj, src, dst, chunk_size)


def _common(adj: CSR, src: Tensor, dst: Tensor, chunk_size: int) -> PairNodeSet:
    """Sparse path of :func:`common_neighbors`: walk whichever endpoint has the shorter
    stored row, look its neighbours up in the other's."""
    bits = _lookup_bits(adj)
    deg = adj.row_lengths()
    len_src, len_dst = deg[src], deg[dst]
    swap = len_dst < len_src
    lengths = torch.minimum(len_src, len_dst)
    del len_src, len_dst
    parts = []
    for lo, hi in _chunks(lengths, chunk_size):
        s, d, flip = src[lo:hi], dst[lo:hi], swap[lo:hi]
        walker, other = torch.where(flip, d, s), torch.where(flip, s, d)
        pair_idx, node, found = _walk(adj, walker, other, bits)
        parts.append((pair_idx[found] + lo, node[found]))
    return _cat(parts, adj.device)


def _one_sided(
    adj: CSR, walker: Tensor, other: Tensor, chunk_size: int
) -> tuple[PairNodeSet, PairNodeSet]:
    """Sparse path over every neighbour of ``walker``: (shared with ``other``, not shared)."""
    lengths = adj.row_lengths()[walker]
    bits = _lookup_bits(adj)
    common, only = [], []
    for lo, hi in _chunks(lengths, chunk_size):
        pair_idx, node, found = _walk(adj, walker[lo:hi], other[lo:hi], bits)
        common.append((pair_idx[found] + lo, node[found]))
        only.append((pair_idx[~found] + lo, node[~found]))
    return _cat(common, adj.device), _cat(only, adj.device)


def neighbor_difference(
    adj: CSR,
    pairs: Tensor,
    *,
    method: str = "auto",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> tuple[PairNodeSet, PairNodeSet]:
    r"""One-sided neighbourhoods :math:`N(i) \setminus N(j)`, :math:`N(j) \setminus N(i)` per pair.

    Every neighbour of both endpoints is examined once, so the cost is
    :math:`O(\sum_p (d_{i_p} + d_{j_p}) \log E)` on the sparse path. If the target edge itself
    is present (not masked), ``j`` is in :math:`N(i) \setminus N(j)` and ``i`` in the other set.

    Args:
        adj: Adjacency (:class:`~graphpair.ops.CSR`); masked entries are ignored.
        pairs: Node pairs ``[2, P]``.
        method: ``'auto'``, ``'sparse'`` or ``'dense'``.
        chunk_size: Bound on the candidates (sparse) or bitset bytes (dense) held at once.

    Returns:
        ``(i_only, j_only)``, each a :class:`PairNodeSet` sorted by pair, then node.

    Shapes:
        - pairs: ``[2, P]``

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 1, 1], [2, 3, 3, 4]]))
        >>> i_only, j_only = neighbor_difference(adj, torch.tensor([[0], [1]]))
        >>> i_only.node_idx, j_only.node_idx
        (tensor([2]), tensor([4]))
    """
    src, dst, chunk_size, dense = _prepare(adj, pairs, method, chunk_size)
    if dense:
        i_only, j_only = _bitset_sets(adj, src, dst, ("i_only", "j_only"), chunk_size)
        return i_only, j_only
    return _one_sided(adj, src, dst, chunk_size)[1], _one_sided(adj, dst, src, chunk_size)[1]


def neighbor_overlap(
    adj: CSR,
    pairs: Tensor,
    *,
    method: str = "auto",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> NeighborOverlap:
    r"""Common neighbours and both neighbour differences from one pass over each row.

    Equal to ``(common_neighbors(...), *neighbor_difference(...))`` but reads each row once:
    the row of ``i`` yields :math:`N(i) \cap N(j)` and :math:`N(i) \setminus N(j)`, the row of
    ``j`` yields :math:`N(j) \setminus N(i)` (the dense path gathers both rows once).

    Args:
        adj: Adjacency (:class:`~graphpair.ops.CSR`); masked entries are ignored.
        pairs: Node pairs ``[2, P]``.
        method: ``'auto'``, ``'sparse'`` or ``'dense'``.
        chunk_size: Bound on the candidates (sparse) or bitset bytes (dense) held at once.

    Returns:
        :class:`NeighborOverlap` ``(common, i_only, j_only)``.

    Shapes:
        - pairs: ``[2, P]``

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 1, 1], [2, 3, 3, 4]]))
        >>> neighbor_overlap(adj, torch.tensor([[0], [1]])).common
        PairNodeSet(pair_idx=tensor([0]), node_idx=tensor([3]))
    """
    src, dst, chunk_size, dense = _prepare(adj, pairs, method, chunk_size)
    if dense:
        common, i_only, j_only = _bitset_sets(
            adj, src, dst, ("common", "i_only", "j_only"), chunk_size
        )
        return NeighborOverlap(common, i_only, j_only)
    common, i_only = _one_sided(adj, src, dst, chunk_size)
    return NeighborOverlap(common, i_only, _one_sided(adj, dst, src, chunk_size)[1])
