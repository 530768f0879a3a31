"""Supervised contrastive loss (SupCon, Khosla et al., NeurIPS 2020)."""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
from torch import Tensor

from graphpair.losses._blocks import Source, block_pairs
from graphpair.losses._common import (
    IndicesTuple,
    check_chunk_size,
    check_positive,
    check_reduction,
    masked_logsumexp,
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

__all__ = ["SupConLoss", "sup_con"]


def _block(
    rows: Tensor,
    anchors: Tensor,
    labels: Tensor | None,
    self_cols: Tensor | None,
    refs: Tensor,
    ref_labels: Tensor | None,
    *lists: Tensor | None,
    temperature: float,
    per_anchor: bool,
) -> tuple[Tensor, ...]:
    sim = anchors @ refs.T / temperature  # [B, R]
    bp = block_pairs(rows, labels, self_cols, ref_labels, lists, refs.size(0))
    # the denominator runs over every pair of the anchor: all other rows with labels
    lse = masked_logsumexp(sim, bp.pos | bp.neg)  # [B]
    num_pos = bp.pos.sum(1)  # [B]
    pos_mean = torch.where(bp.pos, sim, 0.0).sum(1) / num_pos.clamp_min(1)
    losses = torch.where(num_pos > 0, lse - pos_mean, 0.0)  # [B]
    if per_anchor:
        return (losses,)
    # PML's AvgNonZeroReducer: the mean runs over the anchors whose loss is > 0, which are
    # the anchors with at least one positive (and more than one pair in the denominator).
    nonzero = losses > 0
    return torch.where(nonzero, losses, 0.0).sum(), nonzero.sum()


def _sup_con_source(
    source: Source, temperature: float, reduction: str, chunk_size: int | None
) -> tuple[Tensor, Tensor] | Tensor:
    block = partial(_block, temperature=temperature, per_anchor=reduction == "none")
    outputs = run_source(block, source, chunk_size)
    if reduction == "none":
        return torch.cat([out[0] for out in outputs])
    total = torch.stack([out[0] for out in outputs]).sum()
    return total, torch.stack([out[1] for out in outputs]).sum()


def _sup_con_pairs(
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
    num = inputs.anchors.size(0)
    pairs = inputs.pairs
    if pairs.a1.numel() == 0 or pairs.a2.numel() == 0:
        missing = "positive" if pairs.a1.numel() == 0 else "negative"
        warn_once("sup_con", f"indices_tuple has no {missing} pair; returning a zero loss")
        return zero_loss((num,) if reduction == "none" else (), inputs.anchors, inputs.refs)
    # A pair set, as PML's masks hold it: a pair listed twice counts once.
    out = _sup_con_source(pair_source(inputs), temperature, reduction, chunk_size)
    if isinstance(out, Tensor):
        return out
    total, count = out
    return total / count.clamp_min(1) if reduction == "mean" else total


def sup_con(
    embeddings: Tensor,
    labels: Tensor | None = None,
    indices_tuple: IndicesTuple | None = None,
    *,
    ref_emb: Tensor | None = None,
    ref_labels: Tensor | None = None,
    temperature: float = 0.1,
    reduction: str = "mean",
    chunk_size: int | None = None,
    distributed: bool = False,
    local_anchors: bool = False,
) -> Tensor:
    r"""Supervised contrastive loss :math:`\mathcal{L}^{sup}_{out}` (Khosla et al. 2020).

    With cosine similarities :math:`s_{ij}` of the L2-normalised rows, positives
    :math:`P(i)` (same label, not i) and all other rows :math:`A(i)`:

    .. math::
        \ell_i = -\frac{1}{|P(i)|} \sum_{p \in P(i)}
            \log \frac{e^{s_{ip}/\tau}}{\sum_{a \in A(i)} e^{s_{ia}/\tau}},

    and the loss is the mean of :math:`\ell_i` over the anchors with a non-zero loss (those
    with at least one positive), as pytorch-metric-learning's ``SupConLoss`` with its
    ``AvgNonZeroReducer``. Anchors without positives give 0. There is no
    :math:`\tau / \tau_{base}` factor (the reference code's ``base_temperature``).

    A batch without any positive or any negative pair gives a zero loss (still attached to the
    graph) and a :class:`NoPairsWarning` once per process. Memory and the distributed options
    are as in :func:`info_nce`.

    Args:
        embeddings: Anchor embeddings (normalised inside).
        labels: Class of each row; ``None`` with ``indices_tuple`` or ``ref_emb``.
        indices_tuple: Explicit ``(a, p, n)`` triplets or ``(a1, p, a2, n)`` pairs; they
            form the positive and the denominator sets (duplicates count once).
        ref_emb: Reference embeddings (columns); the self pair is then not excluded.
        ref_labels: Class of each ``ref_emb`` row.
        temperature: :math:`\tau` (default ``0.1``, the paper's and PML's).
        reduction: ``'mean'`` (over anchors with a non-zero loss), ``'sum'`` or ``'none'``
            (one loss per anchor).
        chunk_size: Anchor rows per block (``None``: automatic).
        distributed: All-gather across ranks with gradients.
        local_anchors: With ``distributed``, anchors are this rank's rows only.

    Shapes:
        - embeddings: ``[N, D]``; labels: ``[N]``; ref_emb: ``[R, D]``; ref_labels: ``[R]``
        - output: ``[]``, or ``[N]`` with ``reduction='none'``

    Example:
        >>> z = torch.randn(8, 16)
        >>> sup_con(z, torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])).shape
        torch.Size([])
    """
    temperature = check_positive("temperature", temperature)
    reduction = check_reduction(reduction)
    chunk_size = check_chunk_size(chunk_size)
    check_mode("sup_con", reduction, distributed, indices_tuple is not None)
    if indices_tuple is not None:
        return _sup_con_pairs(
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
        "sup_con",
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
    if not (any_pos and any_neg):
        missing = "positive" if not any_pos else "negative"
        warn_once("sup_con", f"the batch has no {missing} pair; returning a zero loss")
        return zero_loss((num,) if reduction == "none" else (), problem.anchors, problem.refs)
    out = _sup_con_source(label_source(problem), temperature, reduction, chunk_size)
    if isinstance(out, Tensor):
        return out
    return finish(problem, [out], reduction)


class SupConLoss(BlockLossModule):
    r"""Module form of :func:`sup_con` (pytorch-metric-learning's ``SupConLoss``).

    Args:
        temperature: :math:`\tau` (default ``0.1``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        chunk_size: Anchor rows per block (``None``: automatic).
        distributed: All-gather across ranks with gradients.
        local_anchors: With ``distributed``, anchors are this rank's rows only.

    Shapes:
        - embeddings: ``[N, D]``; labels: ``[N]``; ref_emb: ``[R, D]``; ref_labels: ``[R]``
        - output: ``[]``, or ``[N]`` with ``reduction='none'``

    Example:
        >>> loss = SupConLoss()(torch.randn(8, 16), torch.arange(4).repeat(2))
    """

    hyperparameters = ("temperature",)

    def __init__(
        self,
        temperature: float = 0.1,
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
        """:func:`sup_con`."""
        return sup_con(*args, **kwargs)
