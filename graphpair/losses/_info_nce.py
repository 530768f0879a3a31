"""InfoNCE / NT-Xent over labelled embeddings, explicit pairs or two views."""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
from torch import Tensor

from graphpair.losses._blocks import Source, block_pairs, unsort
from graphpair.losses._common import (
    IndicesTuple,
    check_chunk_size,
    check_positive,
    check_reduction,
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
    label_source,
    pair_presence,
    pair_source,
    positive_pair_count,
    run_source,
)

__all__ = ["InfoNCELoss", "info_nce"]

# Largest |exponent| whose exponential is a normal number, with room to spare, per dtype.
_SAFE_EXPONENT = {torch.float32: 80.0, torch.float64: 700.0}


class _PairLosses(torch.autograd.Function):
    """NT-Xent losses of the listed positive pairs of one block, gradient written out.

    ``l_k = softplus(lse_N(i) - s_k)`` for positive pair k = (i, p), with ``lse_N(i)`` the
    log-sum-exp over the negatives of anchor i (each weighted by its multiplicity). Then
    ``dl_k/ds_ip = -sigmoid(lse_N(i) - s_ip)`` and ``dl_k/ds_in = sigmoid(...) w_in`` with
    ``w`` the softmax weights over the negatives: one exponential per entry, shared by the
    value and the gradient.
    """

    @staticmethod
    def forward(
        ctx: Any,
        anchors: Tensor,
        refs: Tensor,
        neg: Tensor,
        neg_count: Tensor | None,
        r: Tensor,
        c: Tensor,
        temperature: float,
    ) -> Tensor:
        sim = (anchors / temperature) @ refs.T  # [B, R]
        if 2.0 / temperature < _SAFE_EXPONENT.get(sim.dtype, 0.0):
            # cosines lie in [-1, 1]: shifting by 1/tau bounds every exponent in [-2/tau, 0],
            # which neither overflows nor underflows, and saves the row-maximum pass
            top = sim.new_full((sim.size(0), 1), 1.0 / temperature)
        else:
            top = torch.where(neg, sim, -torch.inf).amax(1, keepdim=True)  # [B, 1]
            top = torch.where(torch.isfinite(top), top, 0.0)
        weights = sim.sub(top).masked_fill_(~neg, -torch.inf).exp_()  # [B, R]
        if neg_count is not None:  # a negative listed k times enters the sum k times
            weights.mul_(neg_count)
        total = weights.sum(1)  # [B]
        neg_lse = total.log() + top.squeeze(1)  # -inf for an anchor without negatives
        # -log(e^s / (e^s + sum_neg e^t)) = softplus(lse_neg - s)
        margin = neg_lse[r] - sim[r, c]  # [P_block]
        ctx.temperature = temperature
        ctx.save_for_backward(anchors, refs, weights, total, r, c, torch.sigmoid(margin))
        return softplus(margin)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        anchors, refs, weights, total, r, c, sig = ctx.saved_tensors
        scale = grad * sig  # [P_block]
        per_anchor = scale.new_zeros(weights.size(0)).index_add_(0, r, scale)  # [B]
        coef = per_anchor / total.clamp_min(torch.finfo(total.dtype).tiny)
        g = weights * coef.unsqueeze(1)  # negatives: softmax weight times the pull
        g.index_put_((r, c), -scale, accumulate=True)  # positives
        g.div_(ctx.temperature)
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
    temperature: float,
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
    if bp.pos_at is not None:
        r, c = bp.pos_at  # every listed positive pair, duplicates included (sorted by anchor)
    else:
        r, c = bp.pos.nonzero(as_tuple=True)  # row-major: anchor, then reference
    losses: Tensor = _PairLosses.apply(  # type: ignore[no-untyped-call]
        anchors, refs, bp.neg, bp.neg_count, r, c, temperature
    )  # [P_block]
    if per_pair:
        return (losses,)
    return losses.sum(), torch.tensor(r.numel(), device=losses.device)


def _ntxent(
    source: Source,
    temperature: float,
    reduction: str,
    chunk_size: int | None,
    problem: Problem | None,
) -> Tensor:
    block = partial(_block, temperature=temperature, per_pair=reduction == "none")
    outputs = run_source(block, source, chunk_size)
    if reduction == "none":
        losses = torch.cat([out[0] for out in outputs])
        return losses if source.pairs is None else unsort(losses, source.pairs.pos_order)
    total = torch.stack([out[0] for out in outputs]).sum()
    count = torch.stack([out[1] for out in outputs]).sum()
    if problem is not None:
        return finish(problem, [(total, count)], reduction)
    return total / count.clamp_min(1) if reduction == "mean" else total


def ntxent_on_problem(
    name: str, problem: Problem, temperature: float, reduction: str, chunk_size: int | None
) -> Tensor:
    """NT-Xent of every positive pair of ``problem`` (shared by :func:`info_nce` and GRACE)."""
    any_pos, any_neg = pair_presence(problem)
    if not (any_pos and any_neg):
        missing = "positive" if not any_pos else "negative"
        warn_once(name, f"the batch has no {missing} pair; returning a zero loss")
        shape = (positive_pair_count(problem),) if reduction == "none" else ()
        return zero_loss(shape, problem.anchors, problem.refs)
    return _ntxent(label_source(problem), temperature, reduction, chunk_size, problem)


def _info_nce_pairs(
    embeddings: Tensor,
    labels: Tensor | None,
    indices_tuple: IndicesTuple,
    ref_emb: Tensor | None,
    ref_labels: Tensor | None,
    temperature: float,
    reduction: str,
    chunk_size: int | None,
) -> Tensor:
    inputs = index_inputs(embeddings, labels, indices_tuple, ref_emb, ref_labels, normalized=True)
    pairs = inputs.pairs
    if pairs.a1.numel() == 0 or pairs.a2.numel() == 0:
        missing = "positive" if pairs.a1.numel() == 0 else "negative"
        warn_once("info_nce", f"indices_tuple has no {missing} pair; returning a zero loss")
        shape = (pairs.a1.numel(),) if reduction == "none" else ()
        return zero_loss(shape, inputs.anchors, inputs.refs)
    # Pair-based, as in PML: every listed negative pair of an anchor enters the denominator of
    # each of its positive pairs, and duplicates count as often as they are listed.
    source = pair_source(inputs)
    return _ntxent(source, temperature, reduction, chunk_size, None)


def info_nce(
    embeddings: Tensor,
    labels: Tensor | None = None,
    indices_tuple: IndicesTuple | None = None,
    *,
    ref_emb: Tensor | None = None,
    ref_labels: Tensor | None = None,
    temperature: float = 0.07,
    reduction: str = "mean",
    chunk_size: int | None = None,
    distributed: bool = False,
    local_anchors: bool = False,
) -> Tensor:
    r"""InfoNCE / NT-Xent (Oord et al. 2018; Chen et al., SimCLR, 2020) over positive pairs.

    With cosine similarities :math:`s_{ij}` of the L2-normalised rows, every positive pair
    :math:`(i, p)` gets

    .. math::
        \ell_{ip} = -\log \frac{e^{s_{ip}/\tau}}
            {e^{s_{ip}/\tau} + \sum_{k \in \mathcal{N}(i)} e^{s_{ik}/\tau}},
        \qquad
        \mathcal{L} = \frac{1}{|\mathcal{P}|} \sum_{(i,p) \in \mathcal{P}} \ell_{ip},

    where :math:`\mathcal{N}(i)` are the negatives of anchor i. Other positives of the anchor
    are *not* in the denominator (that is :func:`sup_con`), and anchors with more positives
    weigh more. This is pytorch-metric-learning's ``NTXentLoss``. SimCLR's two-view loss is
    :func:`grace` (or this function on ``cat([z1, z2])`` with labels ``arange(N)`` twice).

    Pairs come from ``labels`` (equal labels are positive, the self pair excluded), from
    ``indices_tuple``, or, with ``labels=None`` and ``ref_emb``, from rows: row i of
    ``embeddings`` and row i of ``ref_emb`` (one-directional cross-view InfoNCE, ``=
    F.cross_entropy(cos(z1, z2) / tau, arange(N))``).

    Memory: the ``[N, R]`` similarity matrix is computed in one pass when it fits
    ``LOSS_BLOCK_BYTES`` (64 MiB), otherwise in checkpointed blocks of anchor rows, so memory
    stays O(block + N * D) in the forward and backward passes.

    Args:
        embeddings: Anchor embeddings (normalised inside).
        labels: Class of each row; ``None`` with ``indices_tuple`` or ``ref_emb``.
        indices_tuple: Explicit ``(a, p, n)`` triplets or ``(a1, p, a2, n)`` pairs.
        ref_emb: Reference embeddings (columns); the self pair is then not excluded.
        ref_labels: Class of each ``ref_emb`` row.
        temperature: :math:`\tau` (default ``0.07`` as in PML and MoCo).
        reduction: ``'mean'`` over positive pairs, ``'sum'``, or ``'none'`` (one loss per
            positive pair, ordered by anchor then reference).
        chunk_size: Anchor rows per block; ``None`` chooses (see Memory), a value of at least
            the number of anchors forces the single dense pass.
        distributed: All-gather embeddings and labels from every rank with gradients; the
            value equals the loss on the concatenated batch (see ``docs/losses.md``).
        local_anchors: With ``distributed``, anchors are only this rank's rows (references
            are all gathered rows): the work is split across ranks.

    Shapes:
        - embeddings: ``[N, D]``; labels: ``[N]``; ref_emb: ``[R, D]``; ref_labels: ``[R]``
        - output: ``[]``, or ``[P]`` with ``reduction='none'``

    Example:
        >>> z = torch.randn(8, 16)
        >>> info_nce(z, torch.tensor([0, 0, 1, 1, 2, 2, 3, 3]), temperature=0.1).shape
        torch.Size([])
    """
    temperature = check_positive("temperature", temperature)
    reduction = check_reduction(reduction)
    chunk_size = check_chunk_size(chunk_size)
    check_mode("info_nce", reduction, distributed, indices_tuple is not None)
    if indices_tuple is not None:
        return _info_nce_pairs(
            embeddings,
            labels,
            indices_tuple,
            ref_emb,
            ref_labels,
            temperature,
            reduction,
            chunk_size,
        )
    problem = build_problem(
        "info_nce",
        embeddings,
        labels,
        ref_emb,
        ref_labels,
        normalized=True,
        distributed=distributed,
        local_anchors=local_anchors,
    )
    return ntxent_on_problem("info_nce", problem, temperature, reduction, chunk_size)


class InfoNCELoss(BlockLossModule):
    r"""Module form of :func:`info_nce` (pytorch-metric-learning's ``NTXentLoss``).

    Args:
        temperature: :math:`\tau` (default ``0.07``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        chunk_size: Anchor rows per block (``None``: automatic).
        distributed: All-gather across ranks with gradients.
        local_anchors: With ``distributed``, anchors are this rank's rows only.

    Shapes:
        - embeddings: ``[N, D]``; labels: ``[N]``; ref_emb: ``[R, D]``; ref_labels: ``[R]``
        - output: ``[]``, or ``[P]`` with ``reduction='none'``

    Example:
        >>> loss_fn = InfoNCELoss(temperature=0.1)
        >>> loss = loss_fn(torch.randn(8, 16), torch.arange(4).repeat(2))
    """

    hyperparameters = ("temperature",)

    def __init__(
        self,
        temperature: float = 0.07,
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
        self.temperature = check_positive("temperature", temperature)

    def loss(self, *args: Any, **kwargs: Any) -> Tensor:
        """:func:`info_nce`."""
        return info_nce(*args, **kwargs)
