"""Multi-Similarity loss (Wang et al., CVPR 2019)."""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
from torch import Tensor

from graphpair.losses._blocks import Source, block_pairs
from graphpair.losses._common import (
    IndicesTuple,
    check_chunk_size,
    check_finite_number,
    check_positive,
    check_reduction,
    softplus,
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

__all__ = ["MultiSimilarityLoss", "multi_similarity"]


class _AnchorLosses(torch.autograd.Function):
    """Per-anchor Multi-Similarity losses of one block with the gradient written out.

    ``l_i = softplus(lse_P(-a(s - b))) / a + softplus(lse_N(c(s - b))) / c`` (a = alpha,
    c = beta, b = base), so ``dl_i/ds_ij = -sigmoid(lse_P) w_ij`` on positives and
    ``+sigmoid(lse_N) w_ij`` on negatives, with ``w`` the softmax weights within each set: the
    General Pair Weighting weights of the paper. One exponential per entry, shared by the value
    and the gradient, instead of autograd's four.
    """

    @staticmethod
    def forward(
        ctx: Any,
        anchors: Tensor,
        refs: Tensor,
        pos: Tensor,
        neg: Tensor,
        alpha: float,
        beta: float,
        base: float,
    ) -> Tensor:
        shifted = (anchors @ refs.T).sub_(base)  # [B, R]
        expo = torch.where(pos, shifted * -alpha, shifted.mul_(beta))
        expo.masked_fill_(~(pos | neg), -torch.inf)
        # log-sum-exp within each set, shifted by the set's row maximum (0 for an empty set)
        pos_max = torch.where(pos, expo, -torch.inf).amax(1, keepdim=True)  # [B, 1]
        neg_max = torch.where(neg, expo, -torch.inf).amax(1, keepdim=True)
        pos_max = torch.where(torch.isfinite(pos_max), pos_max, 0.0)
        neg_max = torch.where(torch.isfinite(neg_max), neg_max, 0.0)
        weights = expo.sub_(torch.where(pos, pos_max, neg_max)).exp_()  # [B, R]
        pos_sum = torch.where(pos, weights, 0.0).sum(1)  # [B]
        neg_sum = torch.where(neg, weights, 0.0).sum(1)
        pos_lse = pos_sum.log() + pos_max.squeeze(1)  # -inf for an empty set
        neg_lse = neg_sum.log() + neg_max.squeeze(1)
        ctx.save_for_backward(anchors, refs, pos, weights, pos_lse, neg_lse, pos_sum, neg_sum)
        # (1/a) log(1 + sum e^x) = (1/a) softplus(logsumexp x); an empty set gives 0.
        return softplus(pos_lse) / alpha + softplus(neg_lse) / beta

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        anchors, refs, pos, weights, pos_lse, neg_lse, pos_sum, neg_sum = ctx.saved_tensors
        tiny = torch.finfo(weights.dtype).tiny
        # softmax weight = weights / set sum; d loss / d lse = sigmoid(lse) / scale
        pos_scale = -grad * torch.sigmoid(pos_lse) / pos_sum.clamp_min(tiny)  # [B]
        neg_scale = grad * torch.sigmoid(neg_lse) / neg_sum.clamp_min(tiny)
        g = weights * torch.where(pos, pos_scale.unsqueeze(1), neg_scale.unsqueeze(1))
        needs = ctx.needs_input_grad
        return (
            g @ refs if needs[0] else None,
            g.T @ anchors if needs[1] else None,
            *([None] * 5),
        )


def _block(
    rows: Tensor,
    anchors: Tensor,
    labels: Tensor | None,
    self_cols: Tensor | None,
    refs: Tensor,
    ref_labels: Tensor | None,
    *lists: Tensor | None,
    alpha: float,
    beta: float,
    base: float,
    per_anchor: bool,
) -> tuple[Tensor, ...]:
    bp = block_pairs(rows, labels, self_cols, ref_labels, lists, refs.size(0))
    losses: Tensor = _AnchorLosses.apply(  # type: ignore[no-untyped-call]
        anchors, refs, bp.pos, bp.neg, alpha, beta, base
    )  # [B]
    if per_anchor:
        return (losses,)
    return losses.sum(), torch.tensor(losses.numel(), device=losses.device)


def _run(
    source: Source,
    alpha: float,
    beta: float,
    base: float,
    reduction: str,
    chunk_size: int | None,
) -> tuple[Tensor, Tensor] | Tensor:
    block = partial(_block, alpha=alpha, beta=beta, base=base, per_anchor=reduction == "none")
    outputs = run_source(block, source, chunk_size)
    if reduction == "none":
        return torch.cat([out[0] for out in outputs])
    total = torch.stack([out[0] for out in outputs]).sum()
    return total, torch.stack([out[1] for out in outputs]).sum()


def multi_similarity(
    embeddings: Tensor,
    labels: Tensor | None = None,
    indices_tuple: IndicesTuple | None = None,
    *,
    ref_emb: Tensor | None = None,
    ref_labels: Tensor | None = None,
    alpha: float = 2.0,
    beta: float = 50.0,
    base: float = 0.5,
    reduction: str = "mean",
    chunk_size: int | None = None,
    distributed: bool = False,
    local_anchors: bool = False,
) -> Tensor:
    r"""Multi-Similarity loss (Wang et al., CVPR 2019), the weighting step of General Pair
    Weighting.

    With cosine similarities :math:`s_{ij}` of the L2-normalised rows, positive and negative
    sets :math:`P(i)`, :math:`N(i)` of anchor i:

    .. math::
        \ell_i = \frac{1}{\alpha} \log\Big(1 + \sum_{p \in P(i)} e^{-\alpha (s_{ip} - \lambda)}
            \Big) + \frac{1}{\beta} \log\Big(1 + \sum_{n \in N(i)} e^{\beta (s_{in} - \lambda)}
            \Big),
        \qquad \mathcal{L} = \frac{1}{N} \sum_{i=1}^{N} \ell_i,

    with :math:`\lambda` = ``base``. Anchors with empty sets contribute 0 and still count in
    N (pytorch-metric-learning's ``MultiSimilarityLoss`` with its ``MeanReducer``). Without
    ``indices_tuple`` every pair is weighted (no mining); the paper's loss mines first: pass
    the output of :func:`multi_similarity_miner` as ``indices_tuple``. A batch (or tuple) with
    no pair at all gives a zero loss and a :class:`NoPairsWarning` once per process; with only
    positives or only negatives the other term still trains.

    Args:
        embeddings: Anchor embeddings (normalised inside).
        labels: Class of each row; ``None`` with ``indices_tuple`` or ``ref_emb``.
        indices_tuple: Explicit ``(a, p, n)`` triplets or ``(a1, p, a2, n)`` pairs (the
            miner's output); duplicates count once.
        ref_emb: Reference embeddings (columns); the self pair is then not excluded.
        ref_labels: Class of each ``ref_emb`` row.
        alpha: Positive scale :math:`\alpha` (default 2).
        beta: Negative scale :math:`\beta` (default 50).
        base: Similarity offset :math:`\lambda` (default 0.5).
        reduction: ``'mean'`` over all anchors, ``'sum'`` or ``'none'`` (one per anchor).
        chunk_size: Anchor rows per block (``None``: automatic).
        distributed: All-gather across ranks with gradients.
        local_anchors: With ``distributed``, anchors are this rank's rows only.

    Shapes:
        - embeddings: ``[N, D]``; labels: ``[N]``; ref_emb: ``[R, D]``; ref_labels: ``[R]``
        - output: ``[]``, or ``[N]`` with ``reduction='none'``

    Example:
        >>> from graphpair.losses import multi_similarity_miner
        >>> _ = torch.manual_seed(0)
        >>> z, y = torch.randn(8, 16), torch.arange(4).repeat(2)
        >>> multi_similarity(z, y, multi_similarity_miner(z, y)).shape
        torch.Size([])
    """
    alpha = check_positive("alpha", alpha)
    beta = check_positive("beta", beta)
    base = check_finite_number("base", base)
    reduction = check_reduction(reduction)
    chunk_size = check_chunk_size(chunk_size)
    check_mode("multi_similarity", reduction, distributed, indices_tuple is not None)
    if indices_tuple is not None:
        inputs = index_inputs(
            embeddings, labels, indices_tuple, ref_emb, ref_labels, normalized=True
        )
        num = inputs.anchors.size(0)
        if inputs.pairs.a1.numel() == 0 and inputs.pairs.a2.numel() == 0:
            warn_once("multi_similarity", "indices_tuple has no pair; returning a zero loss")
            return zero_loss((num,) if reduction == "none" else (), inputs.anchors, inputs.refs)
        # masks hold each pair once: a listed duplicate counts once, as in PML
        out = _run(pair_source(inputs), alpha, beta, base, reduction, chunk_size)
        if isinstance(out, Tensor):
            return out
        total, count = out
        return total / count if reduction == "mean" else total
    problem = build_problem(
        "multi_similarity",
        embeddings,
        labels,
        ref_emb,
        ref_labels,
        normalized=True,
        distributed=distributed,
        local_anchors=local_anchors,
    )
    num = problem.anchors.size(0)
    any_pos, any_neg = pair_presence(problem)
    if not (any_pos or any_neg):
        warn_once("multi_similarity", "the batch has no pair; returning a zero loss")
        return zero_loss((num,) if reduction == "none" else (), problem.anchors, problem.refs)
    out = _run(label_source(problem), alpha, beta, base, reduction, chunk_size)
    if isinstance(out, Tensor):
        return out
    return finish(problem, [out], reduction)


class MultiSimilarityLoss(BlockLossModule):
    r"""Module form of :func:`multi_similarity` (pytorch-metric-learning's
    ``MultiSimilarityLoss``); pair it with :class:`MultiSimilarityMiner` for the paper's loss.

    Args:
        alpha: Positive scale (default 2).
        beta: Negative scale (default 50).
        base: Similarity offset :math:`\lambda` (default 0.5).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        chunk_size: Anchor rows per block (``None``: automatic).
        distributed: All-gather across ranks with gradients.
        local_anchors: With ``distributed``, anchors are this rank's rows only.

    Shapes:
        - embeddings: ``[N, D]``; labels: ``[N]``; ref_emb: ``[R, D]``; ref_labels: ``[R]``
        - output: ``[]``, or ``[N]`` with ``reduction='none'``

    Example:
        >>> from graphpair.losses import MultiSimilarityMiner
        >>> _ = torch.manual_seed(0)
        >>> miner, loss_fn = MultiSimilarityMiner(), MultiSimilarityLoss()
        >>> z, y = torch.randn(8, 16), torch.arange(4).repeat(2)
        >>> loss_fn(z, y, miner(z, y)).shape
        torch.Size([])
    """

    hyperparameters = ("alpha", "beta", "base")

    def __init__(
        self,
        alpha: float = 2.0,
        beta: float = 50.0,
        base: float = 0.5,
        *,
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
        self.alpha = check_positive("alpha", alpha)
        self.beta = check_positive("beta", beta)
        self.base = check_finite_number("base", base)

    def loss(self, *args: Any, **kwargs: Any) -> Tensor:
        """:func:`multi_similarity`."""
        return multi_similarity(*args, **kwargs)
