"""InfoNCE over each positive link and its negatives (softmax cross-entropy on scores)."""

from __future__ import annotations

import torch
from torch import Tensor

from graphpair.losses._common import (
    check_positive,
    check_reduction,
    check_scores,
    reduce_per_positive,
    softplus,
)

__all__ = ["LinkInfoNCELoss", "link_info_nce"]


def link_info_nce(
    pos: Tensor, neg: Tensor, *, temperature: float = 1.0, reduction: str = "mean"
) -> Tensor:
    r"""InfoNCE of link scores: each positive against its own K negatives.

    .. math::
        \ell_b = -\log \frac{e^{s^+_b/\tau}}{e^{s^+_b/\tau} + \sum_{k=1}^{K} e^{s^-_{bk}/\tau}},
        \qquad \mathcal{L} = \frac{1}{P} \sum_{b=1}^{P} \ell_b,

    the softmax cross-entropy with the positive as the target class (PLNLP's and the OGB link
    literature's "InfoNCE"/"CE" objective). Equals
    ``F.cross_entropy(cat([pos[:, None], neg], 1) / tau, zeros(P))``.

    Args:
        pos: Scores (logits) of the positive pairs.
        neg: Scores of each positive's negatives: ``[P]`` (K = 1) or ``[P, K]``.
        temperature: :math:`\tau` dividing every score (default ``1.0``: scores are logits).
        reduction: ``'mean'``, ``'sum'`` or ``'none'`` (:math:`\ell_b` per positive).

    Shapes:
        - pos: ``[P]``; neg: ``[P]`` or ``[P, K]``
        - output: ``[]``, or ``[P]`` with ``reduction='none'``

    Example:
        >>> link_info_nce(torch.tensor([2.0]), torch.tensor([[0.0, 0.0]]))
        tensor(0.2395)
    """
    temperature = check_positive("temperature", temperature)
    reduction = check_reduction(reduction)
    p, n = check_scores(pos, neg)
    # -log(e^s / (e^s + sum e^t)) = softplus(logsumexp(t) - s)
    losses = softplus(torch.logsumexp(n / temperature, dim=1) - p / temperature)  # [P]
    return reduce_per_positive("link_info_nce", losses, reduction, p, n)


class LinkInfoNCELoss(torch.nn.Module):
    r"""Module form of :func:`link_info_nce`.

    Args:
        temperature: :math:`\tau` (default ``1.0``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shapes:
        - pos: ``[P]``; neg: ``[P]`` or ``[P, K]``
        - output: ``[]``, or ``[P]`` with ``reduction='none'``

    Example:
        >>> loss = LinkInfoNCELoss()(torch.randn(4), torch.randn(4, 3))
    """

    def __init__(self, temperature: float = 1.0, *, reduction: str = "mean") -> None:
        super().__init__()
        self.temperature = check_positive("temperature", temperature)
        self.reduction = check_reduction(reduction)

    def forward(self, pos: Tensor, neg: Tensor) -> Tensor:
        """See :func:`link_info_nce`."""
        return link_info_nce(pos, neg, temperature=self.temperature, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, reduction={self.reduction!r}"
