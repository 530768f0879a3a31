"""Compressed sparse row adjacency with an edge mask (target link removal without rebuilds)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor

from graphpair._validation import check_edge_index, check_index, check_int, check_ptr
from graphpair.ops._segment import counts_to_ptr, ptr_to_index

__all__ = ["CSR", "DENSE_BITSET_MAX_BYTES", "bitset_bytes", "split_keys"]


def split_keys(keys: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    """Decode pair keys ``row * num_nodes + col`` back into ``(row, col)``."""
    row = torch.div(keys, max(num_nodes, 1), rounding_mode="floor")
    return row, keys - row * num_nodes


def bitset_bytes(num_nodes: int) -> int:
    """Bytes of the packed ``[N, ceil(N / 8)]`` adjacency bitset of a graph with N nodes."""
    return num_nodes * ((num_nodes + 7) // 8)


#: Largest packed ``N x N`` adjacency bitset (one bit per entry) that :meth:`CSR.bitset` builds.
DENSE_BITSET_MAX_BYTES = 1 << 28  # 256 MiB: N up to about 46,000

# Entries processed at once while building the bitset (bounds its temporaries to ~10 MiB).
_BITSET_BUILD_CHUNK = 1 << 18

# Node ids are packed into int64 keys row * N + col, so N * N must fit in an int64.
_MAX_NODES = 3_037_000_499


class CSR:
    r"""Adjacency of a graph in compressed sparse row form, with an edge mask.

    Entries are sorted by ``(row, col)`` and unique. Each stored entry ``e`` is the directed
    edge ``row[e] -> col[e]``; row ``i`` lists the neighbours :math:`N(i)` in ``col[rowptr[i]:
    rowptr[i + 1]]``. A boolean ``mask`` switches entries off without touching the structure:
    :meth:`mask_edges` removes a batch of target edges (both directions) in
    :math:`O(B \log E)`, which is NCN's target link removal, and :meth:`unmask_edges` /
    :meth:`masked` restore them. Every query (degrees, neighbours, :meth:`has_edge`, and the
    common-neighbour ops) sees only active entries.

    Build one with :meth:`from_edge_index`; the constructor takes an existing CSR structure and
    checks it.

    Args:
        rowptr: Row pointer ``[N + 1]``.
        col: Column of each entry ``[E]``, strictly increasing within each row.
        num_nodes: ``N``; defaults to ``rowptr.numel() - 1``.

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 1, 1], [1, 2, 3]]))
        >>> adj.degree()
        tensor([1, 3, 1, 1])
        >>> with adj.masked(torch.tensor([[1], [2]])):
        ...     adj.has_edge(torch.tensor([[1, 2], [2, 1]]))
        tensor([False, False])
    """

    def __init__(self, rowptr: Tensor, col: Tensor, num_nodes: int | None = None) -> None:
        if num_nodes is None:
            num_nodes = int(rowptr.numel()) - 1
        num_nodes = check_int("num_nodes", num_nodes, minimum=0, maximum=_MAX_NODES)
        col = check_index("col", col, size=num_nodes)
        rowptr = check_ptr("rowptr", rowptr, total=col.numel())
        if rowptr.numel() != num_nodes + 1:
            raise ValueError(
                f"rowptr must have num_nodes + 1 = {num_nodes + 1} entries; got {rowptr.numel()}"
            )
        if rowptr.device != col.device:
            raise ValueError(f"rowptr is on {rowptr.device} but col is on {col.device}")
        self._init(rowptr.long(), col.long(), num_nodes)
        keys = self.keys
        if keys.numel() > 1 and bool((keys[1:] <= keys[:-1]).any()):
            raise ValueError(
                "col must be strictly increasing within each row (sorted, no duplicates)"
            )

    def _init(self, rowptr: Tensor, col: Tensor, num_nodes: int) -> None:
        self.rowptr = rowptr
        self.col = col
        self.num_nodes = num_nodes
        self.mask = torch.ones(col.numel(), dtype=torch.bool, device=col.device)
        self._num_masked = 0
        self._row: Tensor | None = None
        self._keys: Tensor | None = None
        self._bitset: Tensor | None = None
        self._transpose: tuple[Tensor, Tensor, Tensor] | None = None
        self._masked_rows: Tensor | None = None  # cached until the mask changes
        self._masked_positions: Tensor | None = None  # the same

    @classmethod
    def _from_sorted(cls, rowptr: Tensor, col: Tensor, num_nodes: int) -> CSR:
        """Trusted constructor for structures built by this module (skips the checks)."""
        adj = cls.__new__(cls)
        adj._init(rowptr, col, num_nodes)
        return adj

    @classmethod
    def from_edge_index(
        cls,
        edge_index: Tensor,
        num_nodes: int | None = None,
        *,
        symmetric: bool = True,
        self_loops: bool = False,
    ) -> CSR:
        r"""Build a CSR from a ``[2, E]`` edge list.

        Duplicate edges are merged. With ``symmetric=True`` (the default, since link tasks work
        on undirected graphs) every edge is stored in both directions; with ``False`` the input
        direction is kept (row = source ``edge_index[0]``). Self loops are dropped unless
        ``self_loops=True``, which keeps those present in the input (none are added).

        Args:
            edge_index: Edges ``[2, E]``, integer dtype.
            num_nodes: ``N``; ``edge_index.max() + 1`` (0 for no edges) when ``None``.
            symmetric: Store both directions of every edge.
            self_loops: Keep the input's self loops.

        Shapes:
            - edge_index: ``[2, E]``
        """
        if num_nodes is not None:
            num_nodes = check_int("num_nodes", num_nodes, minimum=0, maximum=_MAX_NODES)
        edge_index = check_edge_index("edge_index", edge_index, num_nodes=num_nodes)
        if num_nodes is None:
            num_nodes = int(edge_index.max()) + 1 if edge_index.numel() > 0 else 0
            check_int("num_nodes", num_nodes, maximum=_MAX_NODES)
        row, col = edge_index.long()
        if symmetric:
            row, col = torch.cat([row, col]), torch.cat([col, row])
        if not self_loops:
            keep = row != col
            row, col = row[keep], col[keep]
        keys = torch.unique(row * num_nodes + col, sorted=True)  # sorts and deduplicates
        row, col = split_keys(keys, num_nodes)
        rowptr = counts_to_ptr(torch.bincount(row, minlength=num_nodes))
        adj = cls._from_sorted(rowptr, col, num_nodes)
        adj._keys, adj._row = keys, row
        return adj

    # ------------------------------------------------------------------ structure

    @property
    def num_edges(self) -> int:
        """Number of stored entries ``E`` (masked ones included; see :attr:`num_active_edges`)."""
        return int(self.col.numel())

    @property
    def num_masked(self) -> int:
        """Number of stored entries currently switched off by the mask."""
        return self._num_masked

    @property
    def num_active_edges(self) -> int:
        """Number of stored entries not masked."""
        return self.num_edges - self._num_masked

    @property
    def device(self) -> torch.device:
        return self.col.device

    @property
    def row(self) -> Tensor:
        """Row (source node) of every stored entry ``[E]`` (computed once, then cached)."""
        if self._row is None:
            self._row = ptr_to_index(self.rowptr)
        return self._row

    @property
    def keys(self) -> Tensor:
        """Sorted search keys ``row * N + col`` of the stored entries ``[E]`` (cached)."""
        if self._keys is None:
            self._keys = self.row * self.num_nodes + self.col
        return self._keys

    def row_lengths(self) -> Tensor:
        """Number of stored entries per row ``[N]``, masked ones included."""
        return self.rowptr[1:] - self.rowptr[:-1]

    def degree(self, nodes: Tensor | None = None) -> Tensor:
        """Active (unmasked) out-degree of every node ``[N]``, or of ``nodes`` ``[B]``."""
        if self._num_masked == 0:
            deg = self.row_lengths()
        else:
            deg = torch.bincount(self.row[self.mask], minlength=self.num_nodes)
        if nodes is None:
            return deg
        nodes = check_index("nodes", nodes, size=self.num_nodes)
        return deg[nodes]

    def neighbors(self, node: int) -> Tensor:
        """Active neighbours of ``node``, sorted ``[d]``."""
        node = check_int("node", node, minimum=0, maximum=self.num_nodes - 1)
        start, end = int(self.rowptr[node]), int(self.rowptr[node + 1])
        return self.col[start:end][self.mask[start:end]]

    def transpose(self) -> tuple[Tensor, Tensor, Tensor]:
        """The transposed structure ``(order, rowptr_t, col_t)`` of the stored entries (mask
        ignored), computed once (one stable sort) and cached.

        Entry ``order[k]`` of this CSR is entry ``k`` of the transpose, whose row pointer is
        ``rowptr_t`` ``[N + 1]`` and columns ``col_t`` ``[E]``: ``col_t == row[order]``, so
        the transpose lists, for every node, the nodes with an entry *into* it, in increasing
        order. For a symmetric structure (every undirected graph built with the default
        ``symmetric=True``) ``rowptr_t`` and ``col_t`` are this CSR's ``rowptr`` and ``col``
        themselves, so the cache adds only ``order`` (8 bytes an entry). Message passing
        reuses it every layer and step instead of sorting its edge list by target each time.

        Example:
            >>> adj = CSR.from_edge_index(torch.tensor([[0, 0], [1, 2]]), symmetric=False)
            >>> order, rowptr_t, col_t = adj.transpose()
            >>> rowptr_t, col_t
            (tensor([0, 0, 1, 2]), tensor([0, 0]))
        """
        if self._transpose is None:
            order = torch.argsort(self.col, stable=True)
            col_t = self.row[order]
            rowptr_t = counts_to_ptr(torch.bincount(self.col, minlength=self.num_nodes))
            if torch.equal(rowptr_t, self.rowptr) and torch.equal(col_t, self.col):
                self._transpose = (order, self.rowptr, self.col)  # symmetric: share them
            else:
                self._transpose = (order, rowptr_t, col_t)
        return self._transpose

    def transposed(self) -> CSR:
        """The transposed graph as a CSR (row ``v`` lists the nodes with an entry into ``v``),
        sharing the arrays of :meth:`transpose` (the graph itself for a symmetric structure's
        arrays); its mask starts all on.

        Example:
            >>> adj = CSR.from_edge_index(torch.tensor([[0, 0], [1, 2]]), symmetric=False)
            >>> adj.transposed().to_edge_index()
            tensor([[1, 2],
                    [0, 0]])
        """
        _, rowptr_t, col_t = self.transpose()
        return CSR._from_sorted(rowptr_t, col_t, self.num_nodes)

    def to_edge_index(self) -> Tensor:
        """Active entries as a sorted ``[2, E_active]`` edge list."""
        if self._num_masked == 0:
            return torch.stack([self.row, self.col])
        return torch.stack([self.row[self.mask], self.col[self.mask]])

    def to(self, device: torch.device | str) -> CSR:
        """A copy on ``device`` (mask and cached arrays included)."""
        out = CSR._from_sorted(self.rowptr.to(device), self.col.to(device), self.num_nodes)
        out.mask = self.mask.to(device)
        out._num_masked = self._num_masked
        out._row = None if self._row is None else self._row.to(device)
        out._keys = None if self._keys is None else self._keys.to(device)
        out._bitset = None if self._bitset is None else self._bitset.to(device)
        if self._transpose is not None:
            order, rowptr_t, col_t = (t.to(device) for t in self._transpose)
            symmetric = self._transpose[2] is self.col
            out._transpose = (order, out.rowptr, out.col) if symmetric else (order, rowptr_t, col_t)
        return out

    def __repr__(self) -> str:
        return (
            f"CSR(num_nodes={self.num_nodes}, num_edges={self.num_edges}, "
            f"num_masked={self._num_masked}, device={self.device})"
        )

    # ------------------------------------------------------------------ lookups

    def _check_pairs(self, pairs: Tensor) -> Tensor:
        pairs = check_edge_index("pairs", pairs, num_nodes=self.num_nodes)
        if pairs.device != self.device:
            raise ValueError(f"pairs is on {pairs.device} but the adjacency is on {self.device}")
        return pairs.long()

    def find_edges(self, pairs: Tensor) -> Tensor:
        """Position of each pair's stored entry, or -1 when it is not stored (mask ignored).

        Binary search on the sorted keys: :math:`O(P \\log E)`.

        Shapes:
            - pairs: ``[2, P]``
            - output: ``[P]``
        """
        pairs = self._check_pairs(pairs)
        return self._find(pairs[0], pairs[1])

    def _find(self, src: Tensor, dst: Tensor) -> Tensor:
        if self.num_edges == 0:
            return torch.full_like(src, -1)
        query = src * self.num_nodes + dst
        pos = torch.searchsorted(self.keys, query).clamp_(max=self.num_edges - 1)
        return torch.where(self.keys[pos] == query, pos, torch.full_like(pos, -1))

    def has_edge(self, pairs: Tensor) -> Tensor:
        """Whether each pair ``(i, j)`` is an active entry ``i -> j``.

        Shapes:
            - pairs: ``[2, P]``
            - output: ``[P]`` bool
        """
        pos = self.find_edges(pairs)
        found = pos >= 0
        return found & self.mask[pos.clamp(min=0)] if self.num_edges > 0 else found

    # ------------------------------------------------------------------ mask

    def mask_edges(self, pairs: Tensor) -> Tensor:
        """Switch off the entries of ``pairs`` in both directions; O(B log E), no rebuild.

        Pairs that are not stored (e.g. negatives) or already masked are ignored.

        Args:
            pairs: Target edges ``[2, B]``.

        Returns:
            The positions switched off by this call ``[M]``, to pass to :meth:`unmask_edges`.
        """
        pairs = self._check_pairs(pairs)
        src, dst = pairs
        pos = self._find(torch.cat([src, dst]), torch.cat([dst, src]))
        pos = pos[pos >= 0]
        pos = torch.unique(pos[self.mask[pos]])
        assert isinstance(pos, Tensor)
        self.mask[pos] = False
        self._num_masked += int(pos.numel())
        self._masked_rows = self._masked_positions = None
        self._flip_bits(pos, set_bits=False)
        return pos

    def unmask_edges(self, positions: Tensor) -> None:
        """Switch the entries at ``positions`` (from :meth:`mask_edges`) back on."""
        positions = check_index("positions", positions, size=self.num_edges)
        positions = torch.unique(positions.long())
        positions = positions[~self.mask[positions]]
        self.mask[positions] = True
        self._num_masked -= int(positions.numel())
        self._masked_rows = self._masked_positions = None
        self._flip_bits(positions, set_bits=True)

    def masked_positions(self) -> Tensor:
        """Sorted positions in ``col`` of the masked entries ``[M]`` (one scan of the mask,
        cached until the mask changes; empty without masked entries)."""
        if self._masked_positions is None:
            if self._num_masked == 0:
                self._masked_positions = self.rowptr.new_empty(0)
            else:
                self._masked_positions = torch.nonzero(~self.mask).view(-1)
        return self._masked_positions

    def _active_rank(self, positions: Tensor) -> Tensor:
        """The active rank of each position in ``col`` (the active entries before it):
        ``position - (masked entries before it)``."""
        return positions - torch.searchsorted(self.masked_positions(), positions)

    def _active_position(self, ranks: Tensor) -> Tensor:
        """The position in ``col`` of the active entry of each active rank (the inverse of
        :meth:`_active_rank` on active entries): masked entry ``t`` has ``masked[t] - t``
        active entries before it, so it precedes the entry of rank ``r`` exactly when
        ``masked[t] - t <= r``."""
        masked = self.masked_positions()
        if not masked.numel():
            return ranks
        gaps = masked - torch.arange(masked.numel(), device=masked.device)
        return ranks + torch.searchsorted(gaps, ranks, right=True)

    def masked_rows(self) -> Tensor:
        """Sorted distinct rows holding a masked entry ``[R]`` (from
        :meth:`masked_positions`, cached until the mask changes; empty without masked
        entries)."""
        if self._masked_rows is None:
            if self._num_masked == 0:
                self._masked_rows = self.rowptr.new_empty(0)
            else:
                self._masked_rows = torch.unique(self.row[self.masked_positions()])
        return self._masked_rows

    def clear_mask(self) -> None:
        """Switch every entry back on."""
        if self._num_masked:
            self.unmask_edges(torch.nonzero(~self.mask).view(-1))

    @contextmanager
    def masked(self, pairs: Tensor) -> Iterator[CSR]:
        """Context manager: mask ``pairs`` (both directions) for the block, then restore.

        Args:
            pairs: Pairs ``[2, B]`` whose entries are switched off inside the block.

        Example:
            >>> adj = CSR.from_edge_index(torch.tensor([[0, 1, 1], [1, 2, 3]]))
            >>> with adj.masked(torch.tensor([[1], [2]])) as a:
            ...     a.to_edge_index()
            tensor([[0, 1, 1, 3],
                    [1, 0, 3, 1]])
            >>> adj.degree()  # restored on exit
            tensor([1, 3, 1, 1])
        """
        positions = self.mask_edges(pairs)
        try:
            yield self
        finally:
            self.unmask_edges(positions)

    # ------------------------------------------------------------------ dense view

    def bitset(self) -> Tensor:
        """Packed adjacency bitset of the active entries ``[N, ceil(N / 8)]`` uint8.

        Bit ``c % 8`` of byte ``c // 8`` in row ``r`` is set iff ``r -> c`` is active. Built
        once (``N * ceil(N / 8)`` bytes, an eighth of a bool matrix) and kept in sync with the
        mask. Refused above :data:`DENSE_BITSET_MAX_BYTES`.
        """
        if self._bitset is None:
            need = bitset_bytes(self.num_nodes)
            if need > DENSE_BITSET_MAX_BYTES:
                raise ValueError(
                    f"adjacency bitset for num_nodes={self.num_nodes} needs "
                    f"{need / 2**20:.1f} MiB, above the limit of "
                    f"{DENSE_BITSET_MAX_BYTES / 2**20:.0f} MiB; use the sparse path"
                )
            width = (self.num_nodes + 7) // 8
            self._bitset = torch.zeros(self.num_nodes, width, dtype=torch.uint8, device=self.device)
            active = self.mask.nonzero().view(-1) if self._num_masked else None
            self._flip_bits(active, set_bits=True)
        return self._bitset

    def _flip_bits(self, positions: Tensor | None, *, set_bits: bool) -> None:
        """Set (or clear) the bitset bits of the entries at ``positions`` (all when ``None``).

        The caller guarantees each bit is currently clear (or set), so adding (or subtracting,
        modulo 256) its value flips exactly that bit even when several share a byte.
        """
        if self._bitset is None:
            return
        if positions is None:  # every entry, in slices so the temporaries stay small
            step = _BITSET_BUILD_CHUNK
            for lo in range(0, self.num_edges, step):
                self._flip_slice(self.row[lo : lo + step], self.col[lo : lo + step], set_bits)
        else:
            self._flip_slice(self.row[positions], self.col[positions], set_bits)

    def _flip_slice(self, row: Tensor, col: Tensor, set_bits: bool) -> None:
        assert self._bitset is not None
        width = self._bitset.size(1)
        value = torch.bitwise_left_shift(torch.ones_like(col), col % 8)
        if not set_bits:
            value = 256 - value
        self._bitset.view(-1).index_add_(0, row * width + col // 8, value.to(torch.uint8))

    @property
    def has_bitset(self) -> bool:
        """Whether :meth:`bitset` is built (and so kept in sync with the mask)."""
        return self._bitset is not None

    def drop_bitset(self) -> None:
        """Free the cached bitset."""
        self._bitset = None
