r"""Neighbour sampling on a :class:`~graphpair.ops.CSR`: the computation subgraph of seed nodes.

Follows PyG's ``NeighborLoader`` (``torch_geometric.sampler.NeighborSampler``, homogeneous,
``replace=False``, ``disjoint=False``): hop :math:`l` samples, for every node first reached at
hop :math:`l - 1` (the seeds at hop 0), up to ``fanout[l]`` of its neighbours uniformly without
replacement, and the nodes not seen before form the next frontier. The result holds only the
*sampled* edges (as PyG's loader returns them), not the subgraph they induce.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor

from graphpair._validation import check_index, describe
from graphpair.ops._csr import CSR
from graphpair.ops._segment import counts_to_ptr, expand_rows

__all__ = ["FLOYD_MAX_FANOUT", "SampledSubgraph", "check_fanout", "neighbor_sample"]


@dataclass(frozen=True)
class SampledSubgraph:
    """The sampled computation subgraph of a batch of seed nodes (:func:`neighbor_sample`).

    Attributes:
        node: Global id of every sampled node ``[n]``: the seeds first, in their order, then the
            nodes new at hop 1, hop 2, ... (each hop in order of first appearance). Local id
            ``i`` is ``node[i]``.
        edge_index: The sampled edges in local ids ``[2, m]``, PyG's direction: messages flow
            from ``edge_index[0]``, the sampled neighbour, to ``edge_index[1]``, the node that
            sampled it. Grouped by hop, then by sampling node, then in the CSR's order.
        edge: Position of each sampled edge's entry in the input CSR (``adj.col[edge]`` is
            ``node[edge_index[0]]``) ``[m]``, PyG's ``e_id``.
        num_sampled_nodes: Nodes added at each hop, seeds first (``L + 1`` entries).
        num_sampled_edges: Edges sampled at each hop (``L`` entries).

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 1], [1, 2, 3]]))
        >>> sub = neighbor_sample(adj, torch.tensor([0]), [-1, -1])
        >>> sub.node, sub.num_sampled_nodes
        (tensor([0, 1, 2, 3]), (1, 2, 1))
        >>> sub.edge_index
        tensor([[1, 2, 0, 3, 0],
                [0, 0, 1, 1, 2]])
    """

    node: Tensor
    edge_index: Tensor
    edge: Tensor
    num_sampled_nodes: tuple[int, ...]
    num_sampled_edges: tuple[int, ...]

    @property
    def num_nodes(self) -> int:
        """Number of sampled nodes ``n``."""
        return int(self.node.numel())

    def sum_scale(self, adj: CSR) -> Tensor:
        r"""The factor that makes a sum over a node's sampled neighbours an unbiased estimate of
        the sum over all of them: :math:`|N(v)| / k_v` for a node :math:`v` that sampled
        :math:`k_v \ge 1` of its :math:`|N(v)|` neighbours in ``adj`` (the graph it was sampled
        from), 1 for a node that sampled none ``[n]``.

        Each neighbour is in a uniform :math:`k_v`-subset with probability
        :math:`k_v / |N(v)|`, so :math:`\mathbb{E}\big[\tfrac{|N(v)|}{k_v}
        \sum_{u \in S_v} x_u\big] = \sum_{u \in N(v)} x_u`. Weighting every sampled edge
        ``u -> v`` by ``scale[v]`` keeps a sum aggregation (``'puresum'``) at the scale it has
        on the whole graph; a fanout of ``-1`` gives all ones. Mean-type aggregations need
        no scale.

        Example:
            >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 0, 0], [1, 2, 3, 4]]))
            >>> sub = neighbor_sample(adj, torch.tensor([0]), [2])
            >>> sub.sum_scale(adj)
            tensor([2., 1., 1.])
        """
        sampled = torch.bincount(self.edge_index[1], minlength=self.num_nodes)
        degree = adj.degree(self.node)
        return torch.where(sampled > 0, degree / sampled.clamp(min=1), 1.0)

    def to_csr(self) -> CSR:
        """The sampled edges as a directed :class:`CSR` in local ids, row = the sampled
        neighbour (the message source, as :class:`~graphpair.nn.MPNNEncoder` reads a CSR)."""
        return CSR.from_edge_index(
            self.edge_index, self.num_nodes, symmetric=False, self_loops=True
        )


def check_fanout(fanout: Sequence[int], num_layers: int | None = None) -> tuple[int, ...]:
    """Validate ``fanout`` (ints >= -1, one per hop; -1 = every neighbour, an empty sequence =
    no hop) and, with ``num_layers``, expand it to one value per layer: a shorter non-empty
    sequence repeats its last value; a longer one, or an empty one for ``num_layers > 0``, is
    refused.

    Args:
        fanout: Neighbours per node for each hop or layer, first hop first.
        num_layers: The encoder's layers, or ``None`` to only validate.

    Returns:
        The fanout as a tuple, with ``num_layers`` values when that is given.

    Raises:
        ValueError: A value is not an int >= -1, or the length does not fit ``num_layers``
            (the message names both).

    Example:
        >>> check_fanout((15, 10), 3)
        (15, 10, 10)
    """
    if isinstance(fanout, (str, bytes)) or not isinstance(fanout, Sequence):
        raise ValueError(f"fanout must be a sequence of ints; got {describe(fanout)}")
    values = tuple(fanout)
    if any(isinstance(v, bool) or not isinstance(v, int) or v < -1 for v in values):
        raise ValueError(
            f"fanout must be a sequence of ints >= -1 (-1 = all neighbours); got {values!r}"
        )
    if num_layers is None:
        return values
    if len(values) > num_layers or (num_layers and not values):
        raise ValueError(
            f"fanout has {len(values)} values {values!r} but the encoder has "
            f"num_layers={num_layers}; give one value per layer, or fewer (the last repeats)"
        )
    return values + values[-1:] * (num_layers - len(values))


def neighbor_sample(
    adj: CSR,
    seeds: Tensor,
    fanout: Sequence[int],
    *,
    generator: torch.Generator | None = None,
) -> SampledSubgraph:
    r"""Sample the computation subgraph of ``seeds``: ``fanout[l]`` neighbours per node at hop
    ``l``, uniformly without replacement, as PyG's ``NeighborLoader``.

    Node ``v`` samples from its row of ``adj``, :math:`N(v)` = the active entries
    ``adj.col[adj.rowptr[v]:adj.rowptr[v + 1]]``, and each sampled :math:`u \in N(v)` gives the
    edge ``u -> v`` (so for a directed graph pass the CSR whose rows list the *in*-neighbours,
    ``CSR.from_edge_index(edge_index.flip(0), symmetric=False)``). A node with
    :math:`|N(v)| \le` ``fanout[l]``, or ``fanout[l] == -1``, takes all its neighbours; otherwise
    a uniformly random ``fanout[l]``-subset. Only nodes first reached at hop :math:`l - 1` are
    expanded at hop :math:`l`, so with every fanout ``-1`` the result is the ``L``-hop
    computation graph: every node within ``L - 1`` hops of a seed has all its in-edges, which is
    what an ``L``-layer mean/sum aggregation of the seeds reads. Only the sampled edges are
    returned (PyG's loader does the same), not the subgraph induced by the sampled nodes.

    Vectorised per hop (no Python loop over nodes). Rows within the fanout take every active
    entry. The rows over it draw ``fanout`` distinct offsets by Floyd's algorithm, vectorised
    over the rows (a loop of ``fanout`` steps): :math:`O(F k^2)` work and :math:`O(F k)` memory
    for a frontier of :math:`F` nodes, whatever their degrees. On a masked ``adj`` (target link
    removal masks a few entries per step) the offsets are drawn among each row's active
    entries and moved past the masked ones before them (a binary search in the sorted masked
    positions, :meth:`~graphpair.ops.CSR.masked_positions`). Above a fanout of
    :data:`FLOYD_MAX_FANOUT` the rows' entries are expanded instead, each active entry of an
    over-full row gets a distinct random key (a random permutation), one sort by
    ``(row, key)`` ranks them and the first ``fanout`` of each row are kept:
    :math:`O(\sum_{v} |N(v)|)` over those rows. Relabelling looks the sampled neighbours up
    in an ``[N]`` table of local ids when the sample can reach at least 1/32 of the nodes
    (:math:`B (1 + f_1 + f_1 f_2 + \dots) \ge N / 32` for :math:`B` seeds, or a fanout of
    -1), and otherwise by ``searchsorted`` in the sorted nodes seen so far, so a few seeds on
    a large graph cost nothing :math:`O(N)` but the one scan of a changed mask that finds its
    positions (cached). Both give the same subgraph; from 1,024 seeds the table took
    0.52-0.66x the time of the search on the ppa and citation2 stand-ins, Cora and
    ogbl-ddi (``benchmarks/results/relabel.md``).

    Args:
        adj: The graph; masked entries are never sampled.
        seeds: Distinct seed nodes ``[B]``.
        fanout: Neighbours per node for each hop (``L`` values, ``-1`` = all, ``0`` = none;
            an empty sequence returns the seeds alone).
        generator: Random source of the keys (a CPU generator, or one on ``adj``'s device);
            the same generator state gives the same subgraph.

    Shapes:
        - seeds: ``[B]``
        - output: see :class:`SampledSubgraph`

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 0, 0], [1, 2, 3, 4]]))
        >>> g = torch.Generator().manual_seed(0)
        >>> sub = neighbor_sample(adj, torch.tensor([0]), [2], generator=g)
        >>> sub.num_sampled_nodes, sub.num_sampled_edges
        ((1, 2), (2,))
        >>> bool((sub.edge_index[1] == 0).all())
        True
    """
    if not isinstance(adj, CSR):
        raise TypeError(f"adj must be a graphpair.ops.CSR; got {describe(adj)}")
    fanouts = check_fanout(fanout)
    seeds = check_index("seeds", seeds, size=adj.num_nodes).long().view(-1)
    if seeds.device != adj.device:
        raise ValueError(f"seeds is on {seeds.device} but adj is on {adj.device}")
    known, order = torch.sort(seeds)
    if known.numel() > 1 and bool((known[1:] == known[:-1]).any()):
        repeated = known[1:][known[1:] == known[:-1]][:5].tolist()
        raise ValueError(f"seeds must be distinct; got repeated seeds {repeated}")
    labels: _Labels = (
        _TableLabels(seeds, adj.num_nodes)
        if _reaches(int(seeds.numel()), fanouts, adj.num_nodes)
        else _SearchLabels(known, order)
    )
    nodes = [seeds]
    frontier, offset = seeds, 0  # frontier's local ids are offset .. offset + len - 1
    total = int(seeds.numel())
    rows, cols, positions = [], [], []
    num_nodes, num_edges = [total], []
    for k in fanouts:
        pos, seg = _sample_hop(adj, frontier, k, generator)
        # neighbours already known keep their local id; new ones are numbered from `total`
        # in order of first appearance (PyG's order)
        local, new = labels.relabel(adj.col[pos], total)
        rows.append(local)
        cols.append(offset + seg)
        positions.append(pos)
        nodes.append(new)
        num_nodes.append(int(new.numel()))
        num_edges.append(int(pos.numel()))
        frontier, offset = new, total
        total += int(new.numel())
    device = adj.device
    empty = torch.zeros(0, dtype=torch.long, device=device)
    return SampledSubgraph(
        node=torch.cat(nodes),
        edge_index=torch.stack([torch.cat([empty, *rows]), torch.cat([empty, *cols])]),
        edge=torch.cat([empty, *positions]),
        num_sampled_nodes=tuple(num_nodes),
        num_sampled_edges=tuple(num_edges),
    )


#: Share of the graph's nodes that a sample must be able to reach for :func:`neighbor_sample`
#: to relabel through an ``[N]`` table (:class:`_TableLabels`) instead of binary searches
#: in the sorted nodes seen so far (:class:`_SearchLabels`); see :func:`_reaches`.
TABLE_LABELS_MIN_SHARE = 1 / 32


def _reach(num_seeds: int, fanouts: Sequence[int]) -> float:
    """The most nodes ``num_seeds`` seeds with ``fanouts`` can sample: every fanout taken in
    full and no node seen twice, ``B (1 + f_1 + f_1 f_2 + ...)`` (infinite with a fanout of
    -1)."""
    bound, width = num_seeds, num_seeds
    for k in fanouts:
        if k == -1:
            return math.inf
        width *= k
        bound += width
    return bound


def _reaches(num_seeds: int, fanouts: Sequence[int], num_nodes: int) -> bool:
    """Whether ``num_seeds`` seeds with ``fanouts`` can sample at least
    :data:`TABLE_LABELS_MIN_SHARE` of ``num_nodes`` nodes (:func:`_reach`)."""
    return _reach(num_seeds, fanouts) >= TABLE_LABELS_MIN_SHARE * num_nodes


class _Labels(Protocol):
    """Local ids of the nodes a sample has seen: :meth:`relabel` gives each sampled
    neighbour's, numbering the new ones in order of first appearance."""

    def relabel(self, source: Tensor, total: int) -> tuple[Tensor, Tensor]:
        """Local ids of the global ids ``source`` ``[m]`` and the new nodes ``[u]`` (global
        ids, in order of first appearance, numbered ``total ..``); they are known after."""
        ...


class _SearchLabels:
    """Binary searches in the sorted global ids seen so far: memory and time grow with the
    sample, not with the graph (a few seeds on a large graph)."""

    def __init__(self, known: Tensor, local: Tensor) -> None:
        self.known = known  # sorted global ids of every node sampled so far
        self.local = local  # local id of each entry of `known`

    def relabel(self, source: Tensor, total: int) -> tuple[Tensor, Tensor]:
        known = self.known
        where = torch.searchsorted(known, source).clamp_(max=max(known.numel() - 1, 0))
        seen = known[where] == source  # (no seeds: nothing known and nothing sampled)
        local = torch.empty_like(source)
        local[seen] = self.local[where[seen]]
        fresh = source[~seen]
        uniq, inverse = torch.unique(fresh, return_inverse=True)
        order = torch.arange(fresh.numel(), device=fresh.device)
        first = torch.full_like(uniq, fresh.numel()).scatter_reduce_(
            0, inverse, order, reduce="amin"
        )
        rank = torch.empty_like(uniq)
        rank[torch.argsort(first)] = torch.arange(uniq.numel(), device=uniq.device)
        local[~seen] = total + rank[inverse]
        new = torch.empty_like(uniq)
        new[rank] = uniq  # new nodes in order of first appearance
        # merge the new nodes into the sorted lookup (both halves are sorted)
        merged = torch.cat([known, uniq])
        merged_local = torch.cat([self.local, total + rank])
        order_all = torch.argsort(merged)
        self.known, self.local = merged[order_all], merged_local[order_all]
        return local, new


class _TableLabels:
    """An ``[N]`` table of local ids (-1: not seen): gathers and scatters over the sampled
    entries, no sort. Its ``O(N)`` fill pays off once the sample can reach a sizable share of
    the graph (:func:`_reaches`): three hops of fanout 10 from a training batch reach 99 % of
    the ogbl-ppa stand-in's nodes (``benchmarks/results/sampled_coverage.md``)."""

    def __init__(self, seeds: Tensor, num_nodes: int) -> None:
        self.local = torch.full((num_nodes,), -1, dtype=torch.long, device=seeds.device)
        self.local[seeds] = torch.arange(seeds.numel(), device=seeds.device)
        # the first position of each fresh node in a hop's `source` (`unset`: none yet; a
        # hop's sampled entries can outnumber the nodes)
        self.unset = torch.iinfo(torch.long).max
        self.first = torch.full_like(self.local, self.unset)

    def relabel(self, source: Tensor, total: int) -> tuple[Tensor, Tensor]:
        local = self.local[source]
        fresh_at = local < 0
        fresh = source[fresh_at]
        order = torch.arange(fresh.numel(), device=source.device)
        self.first.scatter_reduce_(0, fresh, order, reduce="amin")
        new = fresh[self.first[fresh] == order]  # first appearances, in order
        self.first[new] = self.unset  # every fresh node is one of them
        self.local[new] = torch.arange(total, total + new.numel(), device=source.device)
        local[fresh_at] = self.local[fresh]
        return local, new


#: Largest fanout sampled by Floyd's algorithm (``O(k^2)`` work per node over ``k`` steps);
#: larger fanouts, and the rows holding masked entries, rank random keys over every entry.
FLOYD_MAX_FANOUT = 64


def _uniform(
    shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device
) -> Tensor:
    gen_device = generator.device if generator is not None else torch.device("cpu")
    out = torch.rand(shape, generator=generator, dtype=torch.float64, device=gen_device)
    return out.to(device)


def _floyd(n: Tensor, k: int, generator: torch.Generator | None) -> Tensor:
    """A uniformly random ``k``-subset of ``{0, .., n_r - 1}`` for every row ``r`` (all
    ``n_r > k``), sorted ``[R, k]``: Floyd's algorithm, vectorised over the rows. Step ``i``
    draws ``t`` uniform in ``[0, j]`` with ``j = n_r - k + i`` and takes ``t``, or ``j`` when
    ``t`` is already taken; by induction every ``(i + 1)``-subset of ``[0, j]`` is equally
    likely after step ``i``."""
    rows = n.numel()
    u = _uniform((rows, k), generator, n.device)  # float64: the rounding bias is ~n / 2^53
    chosen = torch.empty(rows, k, dtype=torch.long, device=n.device)
    for i in range(k):  # a loop over the fanout, not over nodes
        j = n - k + i  # [R]
        t = torch.minimum((u[:, i] * (j + 1)).long(), j)
        taken = (chosen[:, :i] == t.unsqueeze(1)).any(1)
        chosen[:, i] = torch.where(taken, j, t)
    return chosen.sort(dim=1).values


def _sample_hop(
    adj: CSR, frontier: Tensor, fanout: int, generator: torch.Generator | None
) -> tuple[Tensor, Tensor]:
    """Sample one hop: CSR positions of the kept entries ``[m]`` and the index of the frontier
    node that sampled each ``[m]``, grouped by frontier node, in CSR order within a node."""
    start = adj.rowptr[frontier]
    counts = adj.rowptr[frontier + 1] - start  # [F] stored entries, masked ones included
    if not 0 <= fanout <= FLOYD_MAX_FANOUT:
        return _ranked_hop(adj, start, counts, fanout, generator)
    if adj.num_masked == 0:
        return _floyd_hop(start, counts, fanout, generator)
    # Target link removal masks a few entries per step. Draw among the *active ranks* (an
    # entry's index among the active entries of the CSR), which are contiguous per row, then
    # map each drawn rank to its position: past the masked entries before it.
    first = adj._active_rank(start)
    active = adj._active_rank(start + counts) - first
    rank, seg = _floyd_hop(first, active, fanout, generator)
    rank = adj._active_position(rank)
    return rank, seg


def _floyd_hop(
    start: Tensor, counts: Tensor, fanout: int, generator: torch.Generator | None
) -> tuple[Tensor, Tensor]:
    """:func:`_sample_hop` for rows without masked entries: rows within the fanout take every
    entry, the others draw offsets by Floyd's algorithm (``O(F * fanout^2)`` work, not
    ``O(sum of degrees)``)."""
    over = counts > fanout
    if not bool(over.any()):
        return expand_rows(start, counts)
    whole = (~over).nonzero().view(-1)
    pos_all, seg_all = expand_rows(start[whole], counts[whole])
    rows = over.nonzero().view(-1)
    offsets = _floyd(counts[rows], fanout, generator)  # [R, fanout]
    pos = torch.cat([pos_all, (start[rows].unsqueeze(1) + offsets).view(-1)])
    seg = torch.cat([whole[seg_all], rows.repeat_interleave(fanout)])
    order = torch.sort(seg, stable=True).indices  # group by row; CSR order within
    return pos[order], seg[order]


def _ranked_hop(
    adj: CSR, start: Tensor, counts: Tensor, fanout: int, generator: torch.Generator | None
) -> tuple[Tensor, Tensor]:
    """:func:`_sample_hop` over every entry of the rows (``O(sum of degrees)``): masked
    entries dropped, then each over-full row's first ``fanout`` entries by random keys."""
    pos, seg = expand_rows(start, counts)
    if adj.num_masked:
        keep = adj.mask[pos]
        pos, seg = pos[keep], seg[keep]
        counts = torch.bincount(seg, minlength=start.numel())
    if fanout == -1 or pos.numel() == 0:
        return pos, seg
    over = counts > fanout  # [F] rows that must be subsampled
    if not bool(over.any()):
        return pos, seg
    # Rows over the fanout: a random permutation gives every entry a distinct key, so the
    # order within each row is a uniformly random permutation and its first `fanout` entries
    # a uniformly random subset (no ties, hence no bias).
    pick = over[seg]  # [T] entries of oversized rows
    cand = pick.nonzero().view(-1)
    n = int(cand.numel())
    gen_device = generator.device if generator is not None else torch.device("cpu")
    key = torch.randperm(n, generator=generator, device=gen_device).to(pos.device)
    order = torch.argsort(seg[cand] * n + key)  # by (row, key); keys distinct
    ranked = cand[order]  # [n] candidates, each row's in random order
    row_of = seg[ranked]
    row_ptr = counts_to_ptr(torch.bincount(row_of, minlength=start.numel()))
    rank = torch.arange(n, device=pos.device) - row_ptr[row_of]
    keep = ~pick
    keep[ranked[rank < fanout]] = True
    return pos[keep], seg[keep]
