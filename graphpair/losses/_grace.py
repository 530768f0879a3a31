"""GRACE's node-level contrastive objective over two views (Zhu et al. 2020)."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from graphpair.losses._common import check_chunk_size, check_positive, check_reduction
from graphpair.losses._info_nce import ntxent_on_problem
from graphpair.losses._module import BlockLossModule
from graphpair.losses._problem import build_two_view_problem, check_mode

__all__ = ["GRACELoss", "grace"]


def grace(
    z1: Tensor,
    z2: Tensor,
    *,
    temperature: float = 0.5,
    reduction: str = "mean",
    chunk_size: int | None = None,
    distributed: bool = False,
    local_anchors: bool = False,
) -> Tensor:
    r"""GRACE's symmetric two-view contrastive loss (Zhu et al. 2020; SimCLR's NT-Xent).

    With :math:`\theta(u, v)` the cosine similarity, :math:`u_i` = row i of ``z1`` and
    :math:`v_i` = row i of ``z2`` (already projected, e.g. by GRACE's two-layer head):

    .. math::
        \ell(u_i, v_i) = -\log \frac{e^{\theta(u_i, v_i)/\tau}}
            {e^{\theta(u_i, v_i)/\tau} + \sum_{k \ne i} e^{\theta(u_i, v_k)/\tau}
             + \sum_{k \ne i} e^{\theta(u_i, u_k)/\tau}},
        \qquad
        \mathcal{J} = \frac{1}{2N} \sum_{i=1}^{N} \big[\ell(u_i, v_i) + \ell(v_i, u_i)\big].

    Inter-view and intra-view negatives, no false-negative masking (duplicate rows are still
    negatives). This equals pytorch-metric-learning's
    ``SelfSupervisedLoss(NTXentLoss(tau))(z1, z2)`` and :func:`info_nce` on ``cat([z1, z2])``
    with labels ``arange(N)`` twice. The official code computes rows in blocks for memory; here
    the ``[2N, 2N]`` matrix is split into checkpointed row blocks automatically (see
    :func:`info_nce`). ``N = 1`` has no negative: a zero loss and a :class:`NoPairsWarning`.

    Args:
        z1: First view, ``[N, D]``.
        z2: Second view, ``[N, D]``, row i the same node as row i of ``z1``.
        temperature: :math:`\tau` (default ``0.5``, GRACE's model default; its Cora
            configuration uses ``0.4``).
        reduction: ``'mean'`` (:math:`\mathcal{J}`), ``'sum'`` (over all 2N terms, twice
            GRACE's ``mean=False``) or ``'none'`` (:math:`\ell(u_i, v_i)` for every i, then
            :math:`\ell(v_i, u_i)`).
        chunk_size: Anchor rows per block (``None``: automatic).
        distributed: All-gather both views across ranks with gradients (node i of every rank
            keeps its own pairing).
        local_anchors: With ``distributed``, anchors are this rank's rows of both views.

    Shapes:
        - z1, z2: ``[N, D]``
        - output: ``[]``, or ``[2N]`` with ``reduction='none'``

    Example:
        >>> import torch
        >>> z1, z2 = torch.randn(6, 16), torch.randn(6, 16)
        >>> grace(z1, z2, temperature=0.4).shape
        torch.Size([])
    """
    temperature = check_positive("temperature", temperature)
    reduction = check_reduction(reduction)
    chunk_size = check_chunk_size(chunk_size)
    check_mode("grace", reduction, distributed, False)
    problem = build_two_view_problem(
        "grace",
        z1,
        z2,
        normalized=True,
        distributed=distributed,
        local_anchors=local_anchors,
    )
    return ntxent_on_problem("grace", problem, temperature, reduction, chunk_size)


class GRACELoss(BlockLossModule):
    r"""Module form of :func:`grace`.

    Args:
        temperature: :math:`\tau` (default ``0.5``).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        chunk_size: Anchor rows per block (``None``: automatic).
        distributed: All-gather both views across ranks with gradients.
        local_anchors: With ``distributed``, anchors are this rank's rows only.

    Shapes:
        - z1, z2: ``[N, D]``
        - output: ``[]``, or ``[2N]`` with ``reduction='none'``

    Example:
        >>> import torch
        >>> loss_fn = GRACELoss(temperature=0.4)
        >>> loss_fn(torch.randn(6, 16), torch.randn(6, 16)).shape
        torch.Size([])
    """

    hyperparameters = ("temperature",)

    def __init__(
        self,
        temperature: float = 0.5,
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
        """:func:`grace`."""
        return grace(*args, **kwargs)

    def forward(self, z1: Tensor, z2: Tensor) -> Tensor:  # type: ignore[override]
        """The loss between two views ``z1``, ``z2`` ``[N, D]``; see :func:`grace`."""
        return self.loss(z1, z2, **self.options())
