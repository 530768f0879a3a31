"""Contrastive (margin) loss over positive and negative pairs (Hadsell, Chopra, LeCun 2006)."""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from graphpair._validation import check_choice
from graphpair.losses._blocks import Source, block_pairs, unsort
from graphpair.losses._common import (
    DISTANCES,
    IndicesTuple,
    check_chunk_size,
    check_finite_number,
    check_reduction,
    pairwise_distance,
    warn_once,
    zero_loss,
)
from graphpair.losses._module import BlockLossModule
from graphpair.losses._problem import (
    build_problem,
    check_mode,
    finish,
    index_inputs,
    label_source,
    pair_presence,
    pair_source,
    run_source,
)

__all__ = ["ContrastiveLoss", "contrastive_margin"]


def _pair_losses(
    dist: Tensor, distance: str, pos_margin: float, neg_margin: float, positive: bool
) -> Tensor:
    if distance == "cosine":
        sim = -dist  # larger is closer: pull positives above pos_margin, negatives below
        return F.relu(pos_margin - sim) if positive else F.relu(sim - neg_margin)
    return F.relu(dist - pos_margin) if positive else F.relu(neg_margin - dist)


def _block_values(anchors: Tensor, refs: Tensor, distance: str) -> Tensor:
    """:func:`pairwise_distance` without autograd, in few in-place passes."""
    if distance == "cosine":
        return torch.mm(anchors, refs.T).neg_()
    sq = torch.addmm((refs * refs).sum(1), anchors, refs.T, alpha=-2.0)  # [B, R]
    sq.add_((anchors * anchors).sum(1, keepdim=True)).clamp_min_(0.0)
    return sq if distance == "squared_euclidean" else sq.sqrt_()


class _HingeSums(torch.autograd.Function):
    """Sums and non-zero counts of the positive and negative hinge terms of one block, with
    the gradient written out: the forward keeps no autograd graph, the backward is a few mask
    passes and two matrix products (a third of the passes autograd needs here)."""

    @staticmethod
    def forward(
        ctx: Any,
        anchors: Tensor,
        refs: Tensor,
        pos: Tensor,
        neg: Tensor,
        pos_count: Tensor | None,
        neg_count: Tensor | None,
        distance: str,
        pos_margin: float,
        neg_margin: float,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        value = _block_values(anchors, refs, distance)  # [B, R], -similarity for cosine
        # hinge arguments: d - m+ and m- - d; for cosine (value = -s) m+ - s and s - m-
        sign = -1.0 if distance == "cosine" else 1.0
        pos_on = (value > sign * pos_margin) & pos
        neg_on = (value < sign * neg_margin) & neg
        if pos_count is None or neg_count is None:
            pos_n, neg_n = pos_on.sum(), neg_on.sum()  # exact integer counts
            pos_value = torch.where(pos_on, value, 0.0).sum()
            neg_value = torch.where(neg_on, value, 0.0).sum()
        else:  # weighted by multiplicity
            pos_on = torch.where(pos_on, pos_count, 0.0)
            neg_on = torch.where(neg_on, neg_count, 0.0)
            pos_n, neg_n = pos_on.sum(), neg_on.sum()
            pos_value, neg_value = (pos_on * value).sum(), (neg_on * value).sum()
        # sum of (value - s m+) over the active positive terms, of (s m- - value) over negatives
        pos_sum = pos_value - sign * pos_margin * pos_n.to(value.dtype)
        neg_sum = sign * neg_margin * neg_n.to(value.dtype) - neg_value
        ctx.distance = distance
        ctx.save_for_backward(anchors, refs, value, pos_on, neg_on)
        ctx.mark_non_differentiable(pos_n, neg_n)
        return pos_sum, pos_n, neg_sum, neg_n

    @staticmethod
    def backward(
        ctx: Any, g_pos: Tensor, _pos_count: Tensor, g_neg: Tensor, _neg_count: Tensor
    ) -> tuple[Tensor | None, ...]:
        anchors, refs, value, pos_on, neg_on = ctx.saved_tensors
        # d(sum)/d(value): +1 on active positive terms, -1 on active negative terms
        if pos_on.dtype == torch.bool:
            grad = torch.where(pos_on, g_pos, torch.where(neg_on, -g_neg, 0.0))  # [B, R]
        else:
            grad = pos_on * g_pos - neg_on * g_neg
        if ctx.distance == "cosine":  # value = -a.r
            grad_a, grad_r = -(grad @ refs), -(grad.T @ anchors)
        else:
            if ctx.distance == "euclidean":  # value = sqrt(sq), zero gradient at 0
                grad = grad.div_(value).mul_(0.5).masked_fill_(value == 0, 0.0)
            # sq = |a|^2 + |r|^2 - 2 a.r
            grad_a = 2 * (grad.sum(1, keepdim=True) * anchors - grad @ refs)
            grad_r = 2 * (grad.sum(0).unsqueeze(1) * refs - grad.T @ anchors)
        needs = ctx.needs_input_grad
        return (
            grad_a if needs[0] else None,
            grad_r if needs[1] else None,
            *([None] * 7),
        )


def _block(
    rows: Tensor,
    anchors: Tensor,
    labels: Tensor | None,
    self_cols: Tensor | None,
    refs: Tensor,
    ref_labels: Tensor | None,
    *lists: Tensor | None,
    distance: str,
    pos_margin: float,
    neg_margin: float,
    per_pair: bool,
) -> tuple[Tensor, ...]:
    explicit = lists[0] is not None
    bp = block_pairs(
        rows,
        labels,
        self_cols,
        ref_labels,
        lists,
        refs.size(0),
        counts=explicit,
        dtype=anchors.dtype,
    )
    if not per_pair:
        sums: tuple[Tensor, ...] = _HingeSums.apply(  # type: ignore[no-untyped-call]
            anchors,
            refs,
            bp.pos,
            bp.neg,
            bp.pos_count,
            bp.neg_count,
            distance,
            pos_margin,
            neg_margin,
        )
        return sums
    dist = pairwise_distance(anchors, refs, distance)  # [B, R]
    pos_losses = _pair_losses(dist, distance, pos_margin, neg_margin, True)  # [B, R]
    neg_losses = _pair_losses(dist, distance, pos_margin, neg_margin, False)  # [B, R]
    if bp.pos_at is not None and bp.neg_at is not None:  # listed order, sorted by anchor
        return pos_losses[bp.pos_at], neg_losses[bp.neg_at]
    return pos_losses[bp.pos], neg_losses[bp.neg]  # row-major


def _run(
    source: Source,
    distance: str,
    pos_margin: float,
    neg_margin: float,
    reduction: str,
    chunk_size: int | None,
) -> list[tuple[Tensor, Tensor]] | Tensor:
    block = partial(
        _block,
        distance=distance,
        pos_margin=pos_margin,
        neg_margin=neg_margin,
        per_pair=reduction == "none",
    )
    outputs = run_source(block, source, chunk_size)
    if reduction == "none":
        pos = torch.cat([out[0] for out in outputs])
        neg = torch.cat([out[1] for out in outputs])
        if source.pairs is not None:
            pos = unsort(pos, source.pairs.pos_order)
            neg = unsort(neg, source.pairs.neg_order)
        return torch.cat([pos, neg])
    return [
        (
            torch.stack([out[k] for out in outputs]).sum(),
            torch.stack([out[k + 1] for out in outputs]).sum(),
        )
        for k in (0, 2)
    ]


def contrastive_margin(
    embeddings: Tensor,
    labels: Tensor | None = None,
    indices_tuple: IndicesTuple | None = None,
    *,
    ref_emb: Tensor | None = None,
    ref_labels: Tensor | None = None,
    pos_margin: float = 0.0,
    neg_margin: float = 1.0,
    distance: str = "euclidean",
    normalize_embeddings: bool = True,
    reduction: str = "mean",
    chunk_size: int | None = None,
    distributed: bool = False,
    local_anchors: bool = False,
) -> Tensor:
    r"""Contrastive loss with margins (Hadsell et al. 2006), pytorch-metric-learning's form.

    With distances :math:`d_{ij}` (Euclidean between L2-normalised rows by default), every
    ordered positive pair and every ordered negative pair is penalised:

    .. math::
        \ell^+_{ij} = [d_{ij} - m_+]_+, \qquad \ell^-_{ik} = [m_- - d_{ik}]_+, \qquad
        \mathcal{L} = \operatorname{mean}_{>0}(\ell^+) + \operatorname{mean}_{>0}(\ell^-),

    where :math:`\operatorname{mean}_{>0}` averages the non-zero entries (0 when there are
    none), as PML's ``ContrastiveLoss`` with its ``AvgNonZeroReducer``. With
    ``distance='cosine'`` similarities replace distances: :math:`[m_+ - s_{ij}]_+` and
    :math:`[s_{ik} - m_-]_+` (choose e.g. ``pos_margin=1, neg_margin=0``). Hadsell's squared
    form is ``distance='squared_euclidean'`` with squared margins (without the 1/2).
    A batch with only positive (or only negative) pairs trains on that term alone; one with no
    pair gives a zero loss and a :class:`NoPairsWarning` once per process.

    Args:
        embeddings: Anchor embeddings.
        labels: Class of each row; ``None`` with ``indices_tuple`` or ``ref_emb``.
        indices_tuple: Explicit ``(a, p, n)`` triplets or ``(a1, p, a2, n)`` pairs.
        ref_emb: Reference embeddings (columns); the self pair is then not excluded.
        ref_labels: Class of each ``ref_emb`` row.
        pos_margin: :math:`m_+` (default 0).
        neg_margin: :math:`m_-` (default 1).
        distance: ``'euclidean'`` (default), ``'squared_euclidean'`` or ``'cosine'``.
        normalize_embeddings: L2-normalise rows first (default ``True``, as PML; always on
            for ``'cosine'``).
        reduction: ``'mean'`` (as above), ``'sum'`` (of both terms) or ``'none'`` (the losses
            of the positive pairs, then of the negative pairs, each by anchor then reference).
        chunk_size: Anchor rows per block (``None``: automatic).
        distributed: All-gather across ranks with gradients.
        local_anchors: With ``distributed``, anchors are this rank's rows only.

    Shapes:
        - embeddings: ``[N, D]``; labels: ``[N]``; ref_emb: ``[R, D]``; ref_labels: ``[R]``
        - output: ``[]``, or ``[P + Q]`` with ``reduction='none'``

    Example:
        >>> z = torch.randn(8, 16)
        >>> contrastive_margin(z, torch.arange(4).repeat(2), neg_margin=0.8).shape
        torch.Size([])
    """
    pos_margin = check_finite_number("pos_margin", pos_margin)
    neg_margin = check_finite_number("neg_margin", neg_margin)
    distance = check_choice("distance", distance, DISTANCES)
    if distance == "cosine" and not normalize_embeddings:
        raise ValueError(
            "normalize_embeddings=False cannot be combined with distance='cosine' (a cosine "
            "similarity always normalises); use a Euclidean distance"
        )
    reduction = check_reduction(reduction)
    chunk_size = check_chunk_size(chunk_size)
    check_mode("contrastive_margin", reduction, distributed, indices_tuple is not None)
    normalized = normalize_embeddings or distance == "cosine"
    if indices_tuple is not None:
        inputs = index_inputs(
            embeddings, labels, indices_tuple, ref_emb, ref_labels, normalized=normalized
        )
        if inputs.pairs.a1.numel() == 0 and inputs.pairs.a2.numel() == 0:
            warn_once("contrastive_margin", "indices_tuple has no pair; returning a zero loss")
            return zero_loss((0,) if reduction == "none" else (), inputs.anchors, inputs.refs)
        # pair-based, as in PML: a listed duplicate counts as often as it is listed
        out = _run(
            pair_source(inputs),
            distance,
            pos_margin,
            neg_margin,
            reduction,
            chunk_size,
        )
        if isinstance(out, Tensor):
            return out
        value = inputs.anchors.new_zeros(())
        for total, count in out:
            value = value + (total / count.clamp_min(1) if reduction == "mean" else total)
        return value
    problem = build_problem(
        "contrastive_margin",
        embeddings,
        labels,
        ref_emb,
        ref_labels,
        normalized=normalized,
        distributed=distributed,
        local_anchors=local_anchors,
    )
    any_pos, any_neg = pair_presence(problem)
    if not (any_pos or any_neg):
        warn_once("contrastive_margin", "the batch has no pair; returning a zero loss")
        return zero_loss((0,) if reduction == "none" else (), problem.anchors, problem.refs)
    out = _run(label_source(problem), distance, pos_margin, neg_margin, reduction, chunk_size)
    if isinstance(out, Tensor):
        return out
    return finish(problem, out, reduction)


class ContrastiveLoss(BlockLossModule):
    r"""Module form of :func:`contrastive_margin` (pytorch-metric-learning's
    ``ContrastiveLoss``).

    Args:
        pos_margin: :math:`m_+` (default 0).
        neg_margin: :math:`m_-` (default 1).
        distance: ``'euclidean'``, ``'squared_euclidean'`` or ``'cosine'``.
        normalize_embeddings: L2-normalise rows first (default ``True``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        chunk_size: Anchor rows per block (``None``: automatic).
        distributed: All-gather across ranks with gradients.
        local_anchors: With ``distributed``, anchors are this rank's rows only.

    Shapes:
        - embeddings: ``[N, D]``; labels: ``[N]``; ref_emb: ``[R, D]``; ref_labels: ``[R]``
        - output: ``[]``, or ``[P + Q]`` with ``reduction='none'``

    Example:
        >>> loss = ContrastiveLoss()(torch.randn(8, 16), torch.arange(4).repeat(2))
    """

    hyperparameters = ("pos_margin", "neg_margin", "distance", "normalize_embeddings")

    def __init__(
        self,
        pos_margin: float = 0.0,
        neg_margin: float = 1.0,
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
        self.pos_margin = check_finite_number("pos_margin", pos_margin)
        self.neg_margin = check_finite_number("neg_margin", neg_margin)
        self.distance = check_choice("distance", distance, DISTANCES)
        self.normalize_embeddings = normalize_embeddings

    def loss(self, *args: Any, **kwargs: Any) -> Tensor:
        """:func:`contrastive_margin`."""
        return contrastive_margin(*args, **kwargs)
