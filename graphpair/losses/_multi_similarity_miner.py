"""Multi-Similarity mining (Wang et al., CVPR 2019): the pair-selection step of General Pair
Weighting."""

from __future__ import annotations

from functools import partial

import torch
from torch import Tensor

from graphpair.losses._common import (
    check_chunk_size,
    check_finite_number,
    plan_rows,
    run_blocks,
)
from graphpair.losses._problem import build_problem, pair_presence

__all__ = ["MultiSimilarityMiner", "multi_similarity_miner"]


def _block(
    rows: Tensor,
    anchors: Tensor,
    labels: Tensor,
    self_cols: Tensor | None,
    refs: Tensor,
    ref_labels: Tensor,
    *,
    epsilon: float,
) -> tuple[Tensor, ...]:
    sim = anchors @ refs.T  # [B, R]
    pos = labels.unsqueeze(1) == ref_labels.unsqueeze(0)  # [B, R]
    neg = ~pos
    if self_cols is not None:
        pos[torch.arange(pos.size(0), device=pos.device), self_cols] = False
    inf = torch.inf
    hardest_pos = torch.where(pos, sim, inf).amin(1, keepdim=True)  # [B, 1]
    hardest_neg = torch.where(neg, sim, -inf).amax(1, keepdim=True)  # [B, 1]
    # The comparisons are written as in the reference (s - eps < max, s + eps > min) so that
    # pairs at the boundary are decided by the same floating-point arithmetic.
    keep_pos = pos & (sim - epsilon < hardest_neg)
    keep_neg = neg & (sim + epsilon > hardest_pos)
    a1, p = keep_pos.nonzero(as_tuple=True)
    a2, n = keep_neg.nonzero(as_tuple=True)
    return rows[a1], p, rows[a2], n


def multi_similarity_miner(
    embeddings: Tensor,
    labels: Tensor,
    ref_emb: Tensor | None = None,
    ref_labels: Tensor | None = None,
    *,
    epsilon: float = 0.1,
    chunk_size: int | None = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    r"""Multi-Similarity mining: keep the informative pairs of each anchor (Wang et al. 2019).

    With cosine similarities :math:`s_{ij}` of the L2-normalised rows, anchor i keeps

    .. math::
        n \in N(i) \text{ iff } s_{in} + \epsilon > \min_{p \in P(i)} s_{ip}, \qquad
        p \in P(i) \text{ iff } s_{ip} - \epsilon < \max_{n \in N(i)} s_{in}.

    An anchor without positives keeps no negative and vice versa. Returns the pairs
    ``(a1, p, a2, n)`` that :func:`multi_similarity` (or any pair loss) takes as
    ``indices_tuple``: the same pair *sets* as pytorch-metric-learning's
    ``MultiSimilarityMiner`` (which orders each anchor's pairs by similarity; here they are
    ordered by anchor, then reference). A batch without any positive or any negative pair gives
    four empty tensors. Runs without gradients, in row blocks bounded like the losses; the
    output itself has one entry per kept pair.

    Args:
        embeddings: Anchor embeddings (normalised inside).
        labels: Class of each row.
        ref_emb: Reference embeddings (columns); the self pair is then not excluded.
        ref_labels: Class of each ``ref_emb`` row.
        epsilon: Margin :math:`\epsilon` (default ``0.1``).
        chunk_size: Anchor rows per block (``None``: automatic).

    Shapes:
        - embeddings: ``[N, D]``; labels: ``[N]``; ref_emb: ``[R, D]``; ref_labels: ``[R]``
        - output: four long tensors ``[P]``, ``[P]``, ``[Q]``, ``[Q]``

    Example:
        >>> z, y = torch.randn(8, 16), torch.arange(4).repeat(2)
        >>> a1, p, a2, n = multi_similarity_miner(z, y)
    """
    epsilon = check_finite_number("epsilon", epsilon)
    chunk_size = check_chunk_size(chunk_size)
    if labels is None:
        raise ValueError("multi_similarity_miner needs labels; got labels=None")
    with torch.no_grad():
        problem = build_problem(
            "multi_similarity_miner",
            embeddings,
            labels,
            ref_emb,
            ref_labels,
            normalized=True,
            distributed=False,
            local_anchors=False,
        )
        device = problem.anchors.device
        any_pos, any_neg = pair_presence(problem)
        if not (any_pos and any_neg):
            empty = torch.empty(0, dtype=torch.long, device=device)
            return empty, empty.clone(), empty.clone(), empty.clone()
        num = problem.anchors.size(0)
        rows = plan_rows(num, problem.refs.size(0), problem.anchors.element_size(), chunk_size)

        outputs = run_blocks(
            partial(_block, epsilon=epsilon),
            num,
            rows,
            (
                torch.arange(num, device=device),
                problem.anchors,
                problem.anchor_labels,
                problem.self_cols,
            ),
            (problem.refs, problem.ref_labels),
        )
        a1, p, a2, n = (torch.cat([out[k] for out in outputs]) for k in range(4))
    return a1, p, a2, n


class MultiSimilarityMiner(torch.nn.Module):
    r"""Module form of :func:`multi_similarity_miner` (pytorch-metric-learning's
    ``MultiSimilarityMiner``).

    Args:
        epsilon: Margin :math:`\epsilon` (default ``0.1``).
        chunk_size: Anchor rows per block (``None``: automatic).

    Shapes:
        - embeddings: ``[N, D]``; labels: ``[N]``; ref_emb: ``[R, D]``; ref_labels: ``[R]``
        - output: four long tensors ``[P]``, ``[P]``, ``[Q]``, ``[Q]``

    Example:
        >>> miner = MultiSimilarityMiner(epsilon=0.1)
        >>> a1, p, a2, n = miner(torch.randn(8, 16), torch.arange(4).repeat(2))
    """

    def __init__(self, epsilon: float = 0.1, *, chunk_size: int | None = None) -> None:
        super().__init__()
        self.epsilon = check_finite_number("epsilon", epsilon)
        self.chunk_size = check_chunk_size(chunk_size)

    def forward(
        self,
        embeddings: Tensor,
        labels: Tensor,
        ref_emb: Tensor | None = None,
        ref_labels: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """See :func:`multi_similarity_miner`."""
        return multi_similarity_miner(
            embeddings,
            labels,
            ref_emb,
            ref_labels,
            epsilon=self.epsilon,
            chunk_size=self.chunk_size,
        )

    def extra_repr(self) -> str:
        return f"epsilon={self.epsilon}, chunk_size={self.chunk_size}"
