"""Pairwise ranking losses on the score difference of a positive and its negatives."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from graphpair._validation import check_choice
from graphpair.losses._common import (
    check_finite_number,
    check_reduction,
    check_scores,
    reduce_per_positive,
    softplus,
)

__all__ = ["RANKING_KINDS", "PairwiseRankingLoss", "pairwise_ranking"]

#: Forms of :func:`pairwise_ranking`.
RANKING_KINDS = ("hinge", "auc", "bpr")


def pairwise_ranking(
    pos: Tensor,
    neg: Tensor,
    *,
    margin: float = 1.0,
    kind: str = "hinge",
    reduction: str = "mean",
) -> Tensor:
    r"""Pairwise ranking loss: each positive's score should exceed each of its negatives'.

    With :math:`\Delta_{bk} = s^+_b - s^-_{bk}` and margin :math:`m`:

    .. math::
        \ell_b = \frac{1}{K} \sum_{k=1}^{K} \phi(\Delta_{bk}), \qquad
        \phi(\Delta) = \begin{cases}
            [m - \Delta]_+ & \texttt{hinge} \\
            (m - \Delta)^2 & \texttt{auc} \text{ (PLNLP's square AUC surrogate)} \\
            \log(1 + e^{-\Delta}) & \texttt{bpr} \text{ (Bayesian personalised ranking)}
        \end{cases}

    and :math:`\mathcal{L}` is the mean of :math:`\ell_b` over positives. ``'hinge'`` equals
    ``F.margin_ranking_loss(pos, neg, ones, margin)`` for K = 1.

    Args:
        pos: Scores of the positive pairs.
        neg: Scores of each positive's negatives: ``[P]`` or ``[P, K]``.
        margin: :math:`m` of ``'hinge'`` and ``'auc'`` (default ``1.0``; ``'bpr'`` has none).
        kind: ``'hinge'`` (default), ``'auc'`` or ``'bpr'``.
        reduction: ``'mean'``, ``'sum'`` or ``'none'`` (:math:`\ell_b` per positive).

    Shapes:
        - pos: ``[P]``; neg: ``[P]`` or ``[P, K]``
        - output: ``[]``, or ``[P]`` with ``reduction='none'``

    Example:
        >>> pairwise_ranking(torch.tensor([2.0, 0.0]), torch.tensor([1.5, 0.5]))
        tensor(1.)
    """
    margin = check_finite_number("margin", margin)
    kind = check_choice("kind", kind, RANKING_KINDS)
    reduction = check_reduction(reduction)
    p, n = check_scores(pos, neg)
    diff = p.unsqueeze(1) - n  # [P, K]
    if kind == "hinge":
        terms = F.relu(margin - diff)
    elif kind == "auc":
        terms = (margin - diff) ** 2
    else:
        terms = softplus(-diff)
    return reduce_per_positive("pairwise_ranking", terms.mean(1), reduction, p, n)


class PairwiseRankingLoss(torch.nn.Module):
    r"""Module form of :func:`pairwise_ranking`.

    Args:
        margin: :math:`m` (default ``1.0``).
        kind: ``'hinge'``, ``'auc'`` or ``'bpr'``.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shapes:
        - pos: ``[P]``; neg: ``[P]`` or ``[P, K]``
        - output: ``[]``, or ``[P]`` with ``reduction='none'``

    Example:
        >>> loss = PairwiseRankingLoss(kind="bpr")(torch.randn(4), torch.randn(4, 3))
    """

    def __init__(
        self, margin: float = 1.0, *, kind: str = "hinge", reduction: str = "mean"
    ) -> None:
        super().__init__()
        self.margin = check_finite_number("margin", margin)
        self.kind = check_choice("kind", kind, RANKING_KINDS)
        self.reduction = check_reduction(reduction)

    def forward(self, pos: Tensor, neg: Tensor) -> Tensor:
        """See :func:`pairwise_ranking`."""
        return pairwise_ranking(
            pos, neg, margin=self.margin, kind=self.kind, reduction=self.reduction
        )

    def extra_repr(self) -> str:
        return f"margin={self.margin}, kind={self.kind!r}, reduction={self.reduction!r}"
