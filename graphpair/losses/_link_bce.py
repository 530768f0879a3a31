"""Binary cross-entropy over the scores of positive and negative links."""

from __future__ import annotations

import torch
from torch import Tensor

from graphpair.losses._common import check_reduction, check_scores, reduce_per_positive, softplus

__all__ = ["LinkBCELoss", "link_bce"]


def link_bce(pos: Tensor, neg: Tensor, *, reduction: str = "mean") -> Tensor:
    r"""Binary cross-entropy of link logits: positives towards 1, negatives towards 0.

    For positive scores :math:`s^+_b` and each positive's negatives :math:`s^-_{bk}`,
    :math:`k = 1..K`:

    .. math::
        \ell_b = -\log \sigma(s^+_b) - \frac{1}{K} \sum_{k=1}^{K} \log\big(1 - \sigma(s^-_{bk})
        \big), \qquad \mathcal{L} = \frac{1}{P} \sum_{b=1}^{P} \ell_b,

    i.e. the mean over positives plus the mean over negatives, NCN's and PLNLP's training loss
    (``-logsigmoid(pos).mean() - logsigmoid(-neg).mean()``), computed stably from logits.

    Args:
        pos: Logits of the positive pairs.
        neg: Logits of the negative pairs: one per positive, or K per positive.
        reduction: ``'mean'``, ``'sum'`` or ``'none'`` (:math:`\ell_b` per positive).

    Shapes:
        - pos: ``[P]``; neg: ``[P]`` or ``[P, K]``
        - output: ``[]``, or ``[P]`` with ``reduction='none'``

    Example:
        >>> link_bce(torch.tensor([2.0, 1.0]), torch.tensor([-1.0, 0.5]))
        tensor(0.8638)
    """
    reduction = check_reduction(reduction)
    p, n = check_scores(pos, neg)
    # -log sigma(x) = softplus(-x); -log(1 - sigma(x)) = softplus(x)
    losses = softplus(-p) + softplus(n).mean(1)  # [P]
    return reduce_per_positive("link_bce", losses, reduction, p, n)


class LinkBCELoss(torch.nn.Module):
    r"""Module form of :func:`link_bce`.

    Args:
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shapes:
        - pos: ``[P]``; neg: ``[P]`` or ``[P, K]``
        - output: ``[]``, or ``[P]`` with ``reduction='none'``

    Example:
        >>> loss = LinkBCELoss()(torch.randn(4), torch.randn(4, 3))
    """

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_reduction(reduction)

    def forward(self, pos: Tensor, neg: Tensor) -> Tensor:
        """See :func:`link_bce`."""
        return link_bce(pos, neg, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
