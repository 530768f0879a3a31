"""Where the positive and negative pairs of a block of anchors come from.

Every embedding loss runs the same block loop (:func:`graphpair.losses._common.run_blocks`) over
a :class:`Source`: anchors against references, with the pairs given either by labels (equal
labels are positive, the self pair excluded) or by explicit pair lists. Explicit pairs are
sorted by anchor once, so a block finds its own pairs with two binary searches and scatters them
into ``[B, R]`` masks (or multiplicity counts, for the pair-based losses in which a listed
duplicate counts twice). Both sources therefore share one block computation, one memory rule and
one chunked path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from graphpair.losses._common import Pairs, check_disjoint, sort_keys

__all__ = ["BlockPairs", "SortedPairs", "Source", "block_pairs", "sort_pairs", "unsort"]


@dataclass
class SortedPairs:
    """Explicit pairs sorted by (anchor, reference), with the permutation back to input order."""

    pos_a: Tensor
    pos_b: Tensor
    neg_a: Tensor
    neg_b: Tensor
    pos_order: Tensor
    """``pos_order[k]`` = input position of the k-th sorted positive pair."""
    neg_order: Tensor


def sort_pairs(pairs: Pairs, num_refs: int) -> SortedPairs:
    """Sort both pair lists by ``(anchor, reference)`` and reject a pair that is both positive
    and negative (before any loss computation)."""
    pos_keys, pos_order = sort_keys(pairs.a1 * num_refs + pairs.p)
    neg_keys, neg_order = sort_keys(pairs.a2 * num_refs + pairs.n)
    check_disjoint(pos_keys, neg_keys, num_refs)
    return SortedPairs(
        pos_keys // num_refs,
        pos_keys % num_refs,
        neg_keys // num_refs,
        neg_keys % num_refs,
        pos_order,
        neg_order,
    )


def unsort(values: Tensor, order: Tensor) -> Tensor:
    """Values in sorted order -> input order (differentiable)."""
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(order.numel(), device=order.device)
    return values[inverse]


@dataclass
class Source:
    """Anchors against references and where their pairs come from (labels or lists)."""

    anchors: Tensor
    """``[M, D]``."""
    refs: Tensor
    """``[R, D]``."""
    labels: Tensor | None = None
    """``[M]`` anchor labels (label mode)."""
    ref_labels: Tensor | None = None
    """``[R]`` reference labels (label mode)."""
    self_cols: Tensor | None = None
    """``[M]`` column of each anchor among the references, excluded (label mode)."""
    pairs: SortedPairs | None = None
    """Explicit pairs (pair mode)."""

    def row_args(self) -> tuple[Tensor | None, ...]:
        """Per-row arguments of a block function: row ids, anchors, labels, self columns."""
        rows = torch.arange(self.anchors.size(0), device=self.anchors.device)
        return rows, self.anchors, self.labels, self.self_cols

    def shared_args(self) -> tuple[Tensor | None, ...]:
        """Arguments every block sees whole: references, their labels, the sorted pairs."""
        p = self.pairs
        lists = (None,) * 4 if p is None else (p.pos_a, p.pos_b, p.neg_a, p.neg_b)
        return (self.refs, self.ref_labels, *lists)


@dataclass
class BlockPairs:
    """The pairs of one block of anchors, as ``[B, R]`` masks."""

    pos: Tensor
    """Positive pairs (bool)."""
    neg: Tensor
    """Negative pairs (bool)."""
    pos_count: Tensor | None = None
    """How often each positive pair is listed (pair mode with counts), else ``None``."""
    neg_count: Tensor | None = None
    pos_at: tuple[Tensor, Tensor] | None = None
    """``(local row, column)`` of each listed positive pair of the block, in sorted order."""
    neg_at: tuple[Tensor, Tensor] | None = None


def _scatter(
    rows: Tensor, a: Tensor, b: Tensor, num_refs: int, counts: bool, dtype: torch.dtype
) -> tuple[Tensor, Tensor | None, tuple[Tensor, Tensor]]:
    start = int(rows[0]) if rows.numel() else 0
    stop = int(rows[-1]) + 1 if rows.numel() else 0
    lo = int(torch.searchsorted(a, start))
    hi = int(torch.searchsorted(a, stop))
    local, cols = a[lo:hi] - start, b[lo:hi]
    mask = torch.zeros(rows.numel(), num_refs, dtype=torch.bool, device=rows.device)
    mask[local, cols] = True
    count = None
    if counts:
        count = torch.zeros(rows.numel(), num_refs, dtype=dtype, device=rows.device)
        count.index_put_((local, cols), torch.ones_like(cols, dtype=dtype), accumulate=True)
    return mask, count, (local, cols)


def block_pairs(
    rows: Tensor,
    labels: Tensor | None,
    self_cols: Tensor | None,
    ref_labels: Tensor | None,
    lists: Sequence[Tensor | None],
    num_refs: int,
    *,
    counts: bool = False,
    dtype: torch.dtype = torch.float32,
) -> BlockPairs:
    """The masks of the block of anchors ``rows`` (consecutive ids).

    Label mode: equal labels are positive except the self pair, different labels negative.
    Pair mode: the listed pairs; with ``counts`` also their multiplicities.
    """
    pa, pb, na, nb = lists
    if pa is None or pb is None or na is None or nb is None:
        assert labels is not None
        assert ref_labels is not None
        pos = labels.unsqueeze(1) == ref_labels.unsqueeze(0)  # [B, R]
        neg = ~pos  # the self pair is neither positive nor negative
        if self_cols is not None:
            pos[torch.arange(pos.size(0), device=pos.device), self_cols] = False
        return BlockPairs(pos, neg)
    pos, pos_count, pos_at = _scatter(rows, pa, pb, num_refs, counts, dtype)
    neg, neg_count, neg_at = _scatter(rows, na, nb, num_refs, counts, dtype)
    return BlockPairs(pos, neg, pos_count, neg_count, pos_at, neg_at)
