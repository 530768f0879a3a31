r"""Neighbour overlap with the one-sided sets capped per pair (NCN's ``--trndeg`` / ``--tstdeg``).

NCNC completes a pair's common neighbours with the one-sided neighbours
:math:`N(i) \setminus N(j)` and :math:`N(j) \setminus N(i)`. The reference's degree caps keep at
most ``cap`` of them per pair, drawn uniformly with replacement and reweighted
(:func:`cap_members`). Computed as "every one-sided set, then the draws", the cost and memory
are :math:`O(\sum_p d_{i_p} + d_{j_p})`, and on a power-law graph the batch's endpoints are
often hubs: on the ogbl-citation2 stand-in, listing the sets of one random 24,576-pair batch
and its negatives added 1.56 GiB where capping first adds 102 MiB
(``benchmarks/results/capped_overlap.md``).

:func:`capped_neighbor_overlap` returns the same sets and weights (bit for bit from the same
state of torch's global generator) without listing a one-sided set longer than the cap:

1. the common neighbours, walking the shorter row of each pair (as :func:`common_neighbors`);
2. per side, a pair whose one-sided count :math:`c = d^{\text{active}}_i - |CN|` is at most
   ``cap`` lists its set by walking the row (at most ``cap + |CN| +`` masked entries);
3. a pair over the cap draws ``cap`` ranks :math:`r` uniform in :math:`[0, c)`, exactly as
   :func:`cap_members` draws positions in the listed set, and finds the :math:`r`-th entry of
   its row that is neither common nor masked from the sorted excluded offsets
   :math:`e_0 < e_1 < \dots`: offset :math:`r + |\{t : e_t - t \le r\}|` (before the
   :math:`t`-th excluded entry lie :math:`e_t - t` kept ones).

Work and memory: :math:`O(\sum_p \min(d_i, d_j) + \text{cap} + |CN_p|)`, plus the masked
entries in the rows walked by pairs within the cap; not the degrees.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from graphpair._validation import check_int
from graphpair.ops._common_neighbors import (
    DEFAULT_CHUNK_SIZE,
    PairNodeSet,
    _common,
    _one_sided,
    _prepare,
    neighbor_overlap,
)
from graphpair.ops._csr import CSR
from graphpair.ops._segment import counts_to_ptr

__all__ = ["CappedOverlap", "cap_members", "capped_neighbor_overlap"]


class CappedOverlap(NamedTuple):
    """Common neighbours and both capped one-sided sets with their weights.

    Example:
        Node 0's one-sided set against node 1 is ``{2, 3, 5}``; a cap of 1 keeps one draw of
        it, weighted 3:

        >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 0, 0, 1], [2, 3, 4, 5, 4]]))
        >>> _ = torch.manual_seed(0)
        >>> out = capped_neighbor_overlap(adj, torch.tensor([[0], [1]]), cap=1)
        >>> out.common.node_idx.tolist(), out.i_weight.tolist(), out.j_only.node_idx.tolist()
        ([4], [3.0], [])
    """

    common: PairNodeSet
    r"""All of :math:`N(i) \cap N(j)`, sorted by pair, then node."""
    i_only: PairNodeSet
    r"""At most ``cap`` distinct members of :math:`N(i) \setminus N(j)` per pair."""
    i_weight: Tensor
    """Weight of each ``i_only`` member ``[M_i]`` (1, or draws x count / cap)."""
    j_only: PairNodeSet
    r"""The same for :math:`N(j) \setminus N(i)`."""
    j_weight: Tensor
    """Weight of each ``j_only`` member ``[M_j]``."""


def cap_members(members: PairNodeSet, num_pairs: int, cap: int) -> tuple[PairNodeSet, Tensor]:
    r"""At most ``cap`` members per pair, drawn uniformly with replacement and reweighted.

    NCN's ``sparsesample_reweight`` (``specs/ncn.md`` §1.4, ``--trndeg`` / ``--tstdeg``): a
    pair with :math:`c > \text{cap}` members gets ``cap`` uniform draws (with replacement) of
    its members, each of weight :math:`c / \text{cap}`, repeated draws merged by adding their
    weights, so :math:`\sum_k w_k x_k` is an unbiased estimate of the full sum; a pair with
    :math:`c \le \text{cap}` keeps its members at weight 1. Draws use torch's global
    generator.

    Args:
        members: A set sorted by pair (:class:`~graphpair.ops.PairNodeSet`).
        num_pairs: ``P``.
        cap: The most members a pair keeps (>= 1).

    Returns:
        The kept members (still sorted by pair) and their weights ``[M']``.

    Example:
        >>> members = PairNodeSet(torch.tensor([0, 0, 0, 1]), torch.tensor([4, 5, 6, 7]))
        >>> kept, weight = cap_members(members, 2, 1)
        >>> kept.pair_idx.tolist(), weight.tolist()
        ([0, 1], [3.0, 1.0])
    """
    check_int("cap", cap, minimum=1)
    pair_idx, node_idx = members
    counts = torch.bincount(pair_idx, minlength=num_pairs)
    over = counts > cap
    weight_dtype = torch.get_default_dtype()
    if not bool(over.any()):
        return members, torch.ones(node_idx.numel(), dtype=weight_dtype, device=node_idx.device)
    ptr = counts_to_ptr(counts)
    keep = (~over[pair_idx]).nonzero().view(-1)  # members of pairs within the cap
    heavy = over.nonzero().view(-1)
    drawn, times = _draw(heavy, counts, cap, ptr[heavy])
    position = torch.cat([keep, drawn])
    weight = torch.cat(
        [
            torch.ones(keep.numel(), dtype=weight_dtype, device=keep.device),
            (times * counts[pair_idx[drawn]]).to(weight_dtype) / cap,
        ]
    )
    order = torch.argsort(position)  # positions are distinct; their order is the pair order
    position, weight = position[order], weight[order]
    return PairNodeSet(pair_idx[position], node_idx[position]), weight


def _draw(heavy: Tensor, counts: Tensor, cap: int, start: Tensor) -> tuple[Tensor, Tensor]:
    """``cap`` uniform draws per heavy pair of a rank in ``[0, counts)``, offset by the pair's
    ``start`` and merged: ``(sorted distinct start + rank, times drawn)``. The one place the
    draws are made, so that both ways of capping consume the generator alike."""
    span = counts[heavy].repeat_interleave(cap)
    offset = (torch.rand(span.numel(), device=span.device) * span).long()
    rank = torch.minimum(offset, span - 1)
    drawn, times = torch.unique(start.repeat_interleave(cap) + rank, return_counts=True)
    return drawn, times


def _capped_side(
    adj: CSR,
    walker: Tensor,
    other: Tensor,
    common: PairNodeSet,
    cap: int,
    chunk_size: int,
) -> tuple[PairNodeSet, Tensor]:
    r""":math:`N(w) \setminus N(o)` per pair, capped as :func:`cap_members` caps it.

    Offsets are counted in *active ranks* (an entry's index among the active entries, in
    the row or in the whole CSR), so the masked entries (:meth:`CSR.masked_positions`), a
    property of the row, are skipped once per draw rather than listed per pair.
    """
    device, num, n = walker.device, walker.numel(), adj.num_nodes
    weight_dtype = torch.get_default_dtype()
    row_start, row_end = adj.rowptr[walker], adj.rowptr[walker + 1]
    first_active = adj._active_rank(row_start)  # active rank (in the CSR) of each row's start
    active = adj._active_rank(row_end) - first_active
    counts = active - torch.bincount(common.pair_idx, minlength=num)  # one-sided set sizes
    over = counts > cap
    light = (~over).nonzero().view(-1)
    listed = _one_sided(adj, walker[light], other[light], chunk_size)[1]
    listed = PairNodeSet(light[listed.pair_idx], listed.node_idx)
    ones = torch.ones(listed.node_idx.numel(), dtype=weight_dtype, device=device)
    if not bool(over.any()):
        return listed, ones
    heavy = over.nonzero().view(-1)
    slot = torch.full((num,), -1, dtype=torch.long, device=device)
    slot[heavy] = torch.arange(heavy.numel(), device=device)
    # The common neighbours of the heavy pairs, as active ranks in the walked row; sorted by
    # pair then node, hence by heavy pair then rank.
    in_heavy = slot[common.pair_idx] >= 0
    cn_pair, cn_node = common.pair_idx[in_heavy], common.node_idx[in_heavy]
    position = torch.searchsorted(adj.keys, walker[cn_pair] * n + cn_node)
    cn_rank = adj._active_rank(position) - first_active[cn_pair]
    owner = slot[cn_pair]
    width = int(active[heavy].max()) + 1
    first = counts_to_ptr(torch.bincount(owner, minlength=heavy.numel()))
    # owner * width + (e_t - t): the kept entries before each common one, non-decreasing.
    before = owner * width + cn_rank - (torch.arange(owner.numel(), device=device) - first[owner])
    start = counts_to_ptr(counts[heavy])[:-1]
    drawn, times = _draw(heavy, counts, cap, start)
    local = torch.searchsorted(start, drawn, right=True) - 1  # the heavy pair of each draw
    rank = drawn - start[local]
    rank += torch.searchsorted(before, local * width + rank, right=True) - first[local]
    pair = heavy[local]
    rank += first_active[pair]  # the drawn entry's active rank in the CSR
    rank = adj._active_position(rank)  # its position: past the masked entries before it
    node = adj.col[rank]
    weight = (times * counts[pair]).to(weight_dtype) / cap
    pair_idx = torch.cat([listed.pair_idx, pair])
    order = torch.argsort(pair_idx, stable=True)  # each pair's members stay in node order
    node_idx = torch.cat([listed.node_idx, node])[order]
    return PairNodeSet(pair_idx[order], node_idx), torch.cat([ones, weight])[order]


def capped_neighbor_overlap(
    adj: CSR,
    pairs: Tensor,
    cap: int,
    *,
    method: str = "auto",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> CappedOverlap:
    r"""Common neighbours, and at most ``cap`` reweighted members of each one-sided set.

    Equal, bit for bit from the same state of torch's global generator, to
    :func:`~graphpair.ops.neighbor_overlap` followed by :func:`cap_members` on
    :math:`N(i) \setminus N(j)`, then on :math:`N(j) \setminus N(i)`; but a one-sided set over
    the cap is never listed (see the module docstring), so the sparse path's cost and memory
    do not grow with the endpoints' degrees. The dense path lists the sets and caps them.

    Args:
        adj: Adjacency (:class:`~graphpair.ops.CSR`); masked entries are ignored.
        pairs: Node pairs ``[2, P]``.
        cap: The most one-sided members a pair keeps per side (>= 1).
        method: ``'auto'``, ``'sparse'`` or ``'dense'`` (as :func:`common_neighbors`).
        chunk_size: Bound on the candidates (sparse) or bitset bytes (dense) held at once.

    Returns:
        :class:`CappedOverlap` ``(common, i_only, i_weight, j_only, j_weight)``; each set sorted
        by pair, then node.

    Shapes:
        - pairs: ``[2, P]``

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 0, 1], [2, 3, 4, 4]]))
        >>> out = capped_neighbor_overlap(adj, torch.tensor([[0], [1]]), cap=5)
        >>> out.common.node_idx.tolist(), out.i_only.node_idx.tolist(), out.i_weight.tolist()
        ([4], [2, 3], [1.0, 1.0])
    """
    src, dst, chunk_size, dense = _prepare(adj, pairs, method, chunk_size)
    cap = check_int("cap", cap, minimum=1)
    num = src.numel()
    if dense:
        common, i_all, j_all = neighbor_overlap(adj, pairs, method="dense", chunk_size=chunk_size)
        i_only, i_weight = cap_members(i_all, num, cap)
        j_only, j_weight = cap_members(j_all, num, cap)
        return CappedOverlap(common, i_only, i_weight, j_only, j_weight)
    common = _common(adj, src, dst, chunk_size)
    i_only, i_weight = _capped_side(adj, src, dst, common, cap, chunk_size)
    j_only, j_weight = _capped_side(adj, dst, src, common, cap, chunk_size)
    return CappedOverlap(common, i_only, i_weight, j_only, j_weight)
