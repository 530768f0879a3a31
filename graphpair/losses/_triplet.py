"""Triplet margin loss over all (anchor, positive, negative) triplets or explicit ones."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from graphpair._validation import check_choice
from graphpair.losses._common import (
    DISTANCES,
    LOSS_BLOCK_BYTES,
    IndicesTuple,
    check_chunk_size,
    check_finite_number,
    check_reduction,
    pairwise_distance,
    plan_rows,
    run_blocks,
    softplus,
    warn_once,
    zero_loss,
)
from graphpair.losses._module import BlockLossModule
from graphpair.losses._problem import (
    Problem,
    build_problem,
    check_mode,
    finish,
    index_inputs,
    pair_values,
)

__all__ = ["TripletMarginLoss", "triplet_margin"]

# The sorted path keeps about a dozen [B, R] matrices, several of them 8 bytes a cell: plan its
# blocks as if a cell cost this many bytes (blocks of 64 rows at N = 65,536).
_SORTED_CELL_BYTES = 16
# The enumerating path keeps about four [B, C, R] tensors per work item.
_CUBIC_TENSORS = 4


def _masks(
    labels: Tensor, self_cols: Tensor | None, ref_labels: Tensor, col_start: int = 0
) -> tuple[Tensor, Tensor]:
    """Positive mask against ``ref_labels`` (a column range starting at ``col_start``)."""
    pos = labels.unsqueeze(1) == ref_labels.unsqueeze(0)
    neg = ~pos  # the self pair is neither positive nor negative
    if self_cols is not None:
        local = self_cols - col_start
        inside = (local >= 0) & (local < pos.size(1))
        rows = torch.arange(pos.size(0), device=pos.device)[inside]
        pos[rows, local[inside]] = False
    return pos, neg


def _sorted_block(
    anchors: Tensor,
    labels: Tensor,
    self_cols: Tensor | None,
    refs: Tensor,
    ref_labels: Tensor,
    *,
    distance: str,
    margin: float,
) -> tuple[Tensor, ...]:
    """Sum and count of the positive hinge terms over every triplet of the block's anchors
    without listing the triplets: O(B R log K) for K positives per anchor, not O(B R K).

    Per anchor, sort the thresholds t_p = d_ap + m of its K positives. A negative at distance
    d violates exactly the positives with t_p > d, a suffix of that order starting at
    ``searchsorted(t, d, right=True)``. Binning the negatives by that index and taking
    cumulative sums gives, for every positive, the number c_p and distance sum S_p of the
    negatives it is violated by; the hinge terms add up to ``sum_p c_p t_p - S_p``. The sums run
    in float64 so the subtraction loses nothing that matters in float32.
    """
    pos, neg = _masks(labels, self_cols, ref_labels)
    dist = pairwise_distance(anchors, refs, distance)  # [B, R]
    num_rows = pos.size(0)
    r, c = pos.nonzero(as_tuple=True)  # [P] positives of the block, row-major
    num_pos = pos.sum(1)
    width = int(num_pos.max()) if r.numel() else 0
    slot = torch.arange(r.numel(), device=r.device) - (torch.cumsum(num_pos, 0) - num_pos)[r]
    # thresholds [B, K], padded with -inf (sorted first; no negative lands before them)
    thresholds = dist.new_full((num_rows, width), -torch.inf)
    thresholds = thresholds.index_put((r, slot), dist[r, c] + margin)
    thresholds = thresholds.sort(dim=1).values
    # bin of each negative: how many thresholds are <= its distance; others go to bin K + 1
    bins = torch.searchsorted(thresholds.detach(), dist.detach(), right=True)  # [B, R]
    bins = torch.where(neg, bins, width + 1)
    counts = torch.zeros(num_rows, width + 2, dtype=torch.long, device=dist.device)
    counts.scatter_add_(1, bins, torch.ones_like(bins))
    sums = dist.new_zeros(num_rows, width + 2, dtype=torch.float64)
    sums = sums.scatter_add(1, bins, dist.double())
    # positive q (sorted) is violated by the negatives in bins 0..q
    violated = torch.cumsum(counts, 1)[:, :width]  # [B, K]
    dist_sum = torch.cumsum(sums, 1)[:, :width]  # [B, K]
    valid = torch.isfinite(thresholds)
    terms = torch.where(valid, violated * thresholds.double() - dist_sum, 0.0)
    return terms.sum().to(dist.dtype), torch.where(valid, violated, 0).sum()


def _cubic_item(
    anchors: Tensor,
    labels: Tensor,
    self_cols: Tensor | None,
    refs: Tensor,
    ref_labels: Tensor,
    *,
    col_start: int,
    col_stop: int,
    distance: str,
    margin: float,
    swap: bool,
    smooth_loss: bool,
    per_triplet: bool,
) -> tuple[Tensor, ...]:
    """Every triplet of the anchors with positives among the columns [col_start, col_stop)."""
    cols = refs[col_start:col_stop]
    pos, _ = _masks(labels, self_cols, ref_labels[col_start:col_stop], col_start)  # [B, C]
    neg = labels.unsqueeze(1) != ref_labels.unsqueeze(0)  # [B, R]
    d_ap = pairwise_distance(anchors, cols, distance)  # [B, C]
    d_an = pairwise_distance(anchors, refs, distance).unsqueeze(1)  # [B, 1, R]
    if swap:
        d_pn = pairwise_distance(cols, refs, distance)  # [C, R]
        d_an = torch.minimum(d_an, d_pn.unsqueeze(0))  # [B, C, R]
    violation = d_ap.unsqueeze(2) - d_an + margin  # [B, C, R]
    losses = softplus(violation) if smooth_loss else F.relu(violation)
    mask = pos.unsqueeze(2) & neg.unsqueeze(1)  # [B, C, R]
    if per_triplet:
        return (losses[mask],)  # ordered by anchor, positive, negative
    return torch.where(mask, losses, 0.0).sum(), (mask & (losses > 0)).sum()


def _triplet_presence(problem: Problem) -> bool:
    """Whether some anchor of the global batch has a positive and a negative reference."""
    values, counts = torch.unique(problem.ref_labels, return_counts=True)
    labels = problem.all_anchor_labels
    if values.numel() == 0 or labels.numel() == 0:
        return False
    at = torch.searchsorted(values, labels).clamp_max(values.numel() - 1)
    same = torch.where(values[at] == labels, counts[at], 0)
    num_pos = same - 1 if problem.self_cols is not None else same
    num_neg = problem.ref_labels.numel() - same
    return bool(((num_pos > 0) & (num_neg > 0)).any())


def _run_cubic(
    problem: Problem,
    chunk_size: int | None,
    item: Callable[..., tuple[Tensor, ...]],
) -> list[tuple[Tensor, ...]]:
    num, refs = problem.anchors.size(0), problem.refs.size(0)
    budget = LOSS_BLOCK_BYTES // (_CUBIC_TENSORS * problem.anchors.element_size())
    if chunk_size is not None:
        rows, cols = chunk_size, refs
    elif num * refs * refs <= budget:
        rows, cols = num, refs
    elif refs * refs <= budget:
        rows, cols = budget // (refs * refs), refs
    else:
        rows, cols = 1, max(1, budget // refs)
    shared = (problem.refs, problem.ref_labels)
    if rows >= num and cols >= refs:
        return [
            item(
                problem.anchors,
                problem.anchor_labels,
                problem.self_cols,
                *shared,
                col_start=0,
                col_stop=refs,
            )
        ]
    needs_grad = torch.is_grad_enabled() and (
        problem.anchors.requires_grad or problem.refs.requires_grad
    )
    outputs = []
    for start in range(0, num, rows):
        stop = min(start + rows, num)
        sc = None if problem.self_cols is None else problem.self_cols[start:stop]
        args = (problem.anchors[start:stop], problem.anchor_labels[start:stop], sc, *shared)
        for col_start in range(0, refs, cols):
            bounded = partial(item, col_start=col_start, col_stop=min(col_start + cols, refs))
            if needs_grad:
                out = checkpoint(
                    bounded,
                    *args,
                    use_reentrant=False,
                    preserve_rng_state=False,
                    determinism_check="none",
                )
            else:
                out = bounded(*args)
            outputs.append(out)
    return outputs


def _pairs_to_triplets(
    a1: Tensor, p: Tensor, a2: Tensor, n: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """Every (positive pair, negative pair) with the same anchor, in PML's order (positive pair
    index, then negative pair index), in O(output) memory."""
    order = torch.sort(a2, stable=True).indices
    a2_sorted = a2[order]
    start = torch.searchsorted(a2_sorted, a1)
    count = torch.searchsorted(a2_sorted, a1, right=True) - start  # [P]
    which = torch.repeat_interleave(torch.arange(a1.numel(), device=a1.device), count)
    first = torch.repeat_interleave(torch.cumsum(count, 0) - count, count)
    offset = torch.arange(which.numel(), device=a1.device) - first
    neg = order[start[which] + offset]
    return a1[which], p[which], n[neg]


def _triplet_explicit(
    embeddings: Tensor,
    labels: Tensor | None,
    indices_tuple: IndicesTuple,
    ref_emb: Tensor | None,
    ref_labels: Tensor | None,
    *,
    distance: str,
    normalized: bool,
    margin: float,
    swap: bool,
    smooth_loss: bool,
    reduction: str,
) -> Tensor:
    inputs = index_inputs(
        embeddings, labels, indices_tuple, ref_emb, ref_labels, normalized=normalized
    )
    pairs = inputs.pairs
    if len(indices_tuple) == 3:  # kept as pairs (a, p) and (a, n) with a shared anchor list
        a, p, n = pairs.a1, pairs.p, pairs.n
    else:
        a, p, n = _pairs_to_triplets(pairs.a1, pairs.p, pairs.a2, pairs.n)
    if a.numel() == 0:
        warn_once("triplet_margin", "indices_tuple has no triplet; returning a zero loss")
        return zero_loss((0,) if reduction == "none" else (), inputs.anchors, inputs.refs)
    d_ap = pair_values(inputs.anchors, inputs.refs, a, p, distance)
    d_an = pair_values(inputs.anchors, inputs.refs, a, n, distance)
    if swap:
        d_an = torch.minimum(d_an, pair_values(inputs.refs, inputs.refs, p, n, distance))
    violation = d_ap - d_an + margin
    losses = softplus(violation) if smooth_loss else F.relu(violation)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / (losses > 0).sum().clamp_min(1)


def triplet_margin(
    embeddings: Tensor,
    labels: Tensor | None = None,
    indices_tuple: IndicesTuple | None = None,
    *,
    ref_emb: Tensor | None = None,
    ref_labels: Tensor | None = None,
    margin: float = 0.05,
    swap: bool = False,
    smooth_loss: bool = False,
    distance: str = "euclidean",
    normalize_embeddings: bool = True,
    reduction: str = "mean",
    chunk_size: int | None = None,
    distributed: bool = False,
    local_anchors: bool = False,
) -> Tensor:
    r"""Triplet margin loss (Schroff et al., FaceNet, 2015) over all or explicit triplets.

    With distances :math:`d` (Euclidean between L2-normalised rows by default), every triplet
    of an anchor a, a positive p (same label, not a) and a negative n (other label) gives

    .. math::
        \ell_{apn} = [d_{ap} - d_{an} + m]_+ , \qquad
        \mathcal{L} = \operatorname{mean}_{>0}(\ell),

    the mean over the triplets with a non-zero loss, as pytorch-metric-learning's
    ``TripletMarginLoss`` with its ``AvgNonZeroReducer`` and ``triplets_per_anchor='all'``.
    ``swap`` replaces :math:`d_{an}` by :math:`\min(d_{an}, d_{pn})`; ``smooth_loss`` uses
    :math:`\log(1 + e^{x})` instead of the hinge. With ``distance='cosine'`` the similarities
    enter as :math:`[s_{an} - s_{ap} + m]_+`.

    Cost: with labels there are O(N^3) triplets. The default hinge is computed without listing
    them, from each anchor's sorted negative distances (O(N^2 log N) time, memory in row
    blocks). ``swap``, ``smooth_loss`` and ``reduction='none'`` visit every triplet
    (O(N^3) time, memory bounded in blocks). No triplet gives a zero loss and a
    :class:`NoPairsWarning` once per process.

    Args:
        embeddings: Anchor embeddings.
        labels: Class of each row; ``None`` with ``indices_tuple`` or ``ref_emb``.
        indices_tuple: Explicit ``(a, p, n)`` triplets, or ``(a1, p, a2, n)`` pairs joined on
            their anchor.
        ref_emb: Reference embeddings (positives and negatives); the self pair is then not
            excluded.
        ref_labels: Class of each ``ref_emb`` row.
        margin: :math:`m` (default ``0.05``, PML's).
        swap: Use the smaller of the anchor-negative and positive-negative distances.
        smooth_loss: Softplus instead of the hinge.
        distance: ``'euclidean'`` (default), ``'squared_euclidean'`` or ``'cosine'``.
        normalize_embeddings: L2-normalise rows first (default ``True``; always for cosine).
        reduction: ``'mean'`` (over non-zero triplets), ``'sum'`` or ``'none'`` (one loss per
            triplet, ordered by anchor, positive, negative).
        chunk_size: Anchor rows per block (``None``: automatic).
        distributed: All-gather across ranks with gradients.
        local_anchors: With ``distributed``, anchors are this rank's rows only.

    Shapes:
        - embeddings: ``[N, D]``; labels: ``[N]``; ref_emb: ``[R, D]``; ref_labels: ``[R]``
        - output: ``[]``, or ``[T]`` with ``reduction='none'``

    Example:
        >>> z = torch.randn(8, 16)
        >>> triplet_margin(z, torch.arange(4).repeat(2), margin=0.2).shape
        torch.Size([])
    """
    margin = check_finite_number("margin", margin)
    distance = check_choice("distance", distance, DISTANCES)
    if distance == "cosine" and not normalize_embeddings:
        raise ValueError(
            "normalize_embeddings=False cannot be combined with distance='cosine' (a cosine "
            "similarity always normalises); use a Euclidean distance"
        )
    reduction = check_reduction(reduction)
    chunk_size = check_chunk_size(chunk_size)
    check_mode("triplet_margin", reduction, distributed, indices_tuple is not None)
    normalized = normalize_embeddings or distance == "cosine"
    if indices_tuple is not None:
        return _triplet_explicit(
            embeddings,
            labels,
            indices_tuple,
            ref_emb,
            ref_labels,
            distance=distance,
            normalized=normalized,
            margin=margin,
            swap=swap,
            smooth_loss=smooth_loss,
            reduction=reduction,
        )
    problem = build_problem(
        "triplet_margin",
        embeddings,
        labels,
        ref_emb,
        ref_labels,
        normalized=normalized,
        distributed=distributed,
        local_anchors=local_anchors,
    )
    if not _triplet_presence(problem):
        warn_once("triplet_margin", "the batch has no triplet; returning a zero loss")
        return zero_loss((0,) if reduction == "none" else (), problem.anchors, problem.refs)
    num = problem.anchors.size(0)
    if swap or smooth_loss or reduction == "none":
        item = partial(
            _cubic_item,
            distance=distance,
            margin=margin,
            swap=swap,
            smooth_loss=smooth_loss,
            per_triplet=reduction == "none",
        )
        outputs = _run_cubic(problem, chunk_size, item)
    else:
        rows = plan_rows(num, problem.refs.size(0), _SORTED_CELL_BYTES, chunk_size)

        outputs = run_blocks(
            partial(_sorted_block, distance=distance, margin=margin),
            num,
            rows,
            (problem.anchors, problem.anchor_labels, problem.self_cols),
            (problem.refs, problem.ref_labels),
        )
    if reduction == "none":
        return torch.cat([out[0] for out in outputs])
    total = torch.stack([out[0] for out in outputs]).sum()
    count = torch.stack([out[1] for out in outputs]).sum()
    return finish(problem, [(total, count)], reduction)


class TripletMarginLoss(BlockLossModule):
    r"""Module form of :func:`triplet_margin` (pytorch-metric-learning's
    ``TripletMarginLoss`` with ``triplets_per_anchor='all'``).

    Args:
        margin: :math:`m` (default ``0.05``).
        swap: Use the smaller of the anchor-negative and positive-negative distances.
        smooth_loss: Softplus instead of the hinge.
        distance: ``'euclidean'``, ``'squared_euclidean'`` or ``'cosine'``.
        normalize_embeddings: L2-normalise rows first (default ``True``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        chunk_size: Anchor rows per block (``None``: automatic).
        distributed: All-gather across ranks with gradients.
        local_anchors: With ``distributed``, anchors are this rank's rows only.

    Shapes:
        - embeddings: ``[N, D]``; labels: ``[N]``; ref_emb: ``[R, D]``; ref_labels: ``[R]``
        - output: ``[]``, or ``[T]`` with ``reduction='none'``

    Example:
        >>> loss = TripletMarginLoss(margin=0.2)(torch.randn(8, 16), torch.arange(4).repeat(2))
    """

    hyperparameters = ("margin", "swap", "smooth_loss", "distance", "normalize_embeddings")

    def __init__(
        self,
        margin: float = 0.05,
        swap: bool = False,
        smooth_loss: bool = False,
        *,
        distance: str = "euclidean",
        normalize_embeddings: bool = True,
        reduction: str = "mean",
        chunk_size: int | None = None,
        distributed: bool = False,
        local_anchors: bool = False,
    ) -> None:
        super().__init__(
            reduction=reduction,
            chunk_size=chunk_size,
            distributed=distributed,
            local_anchors=local_anchors,
        )
        self.margin = check_finite_number("margin", margin)
        self.swap = swap
        self.smooth_loss = smooth_loss
        self.distance = check_choice("distance", distance, DISTANCES)
        self.normalize_embeddings = normalize_embeddings

    def loss(self, *args: Any, **kwargs: Any) -> Tensor:
        """:func:`triplet_margin`."""
        return triplet_margin(*args, **kwargs)
