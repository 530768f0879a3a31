"""Ranking metrics for link prediction, identical to ``ogb.linkproppred.Evaluator``.

Two input forms exist, as in OGB:

* **shared negatives** (ogbl-ddi, -collab, -ppa, Planetoid): every positive competes with the
  same pool of negatives ``neg [Q]``; :func:`hits_at_k` thresholds at the K-th largest negative.
* **per-positive negatives** (ogbl-citation2, HeaRT): positive ``i`` competes with its own row
  ``neg[i]`` of a ``[P, K]`` matrix; :func:`ranks` gives its tie-averaged rank, from which
  :func:`mrr` and :func:`ranked_hits_at_k` follow.

Scores are compared in float64 (exact for every float and for integers below 2**53).
"""

from __future__ import annotations

import torch
from torch import Tensor

from graphpair._validation import check_int, check_tensor, describe

__all__ = ["hits_at_k", "mrr", "ranked_hits_at_k", "ranks"]


def _scores(name: str, value: object, dim: int, hint: str = "") -> Tensor:
    """Validate a score tensor and return it detached, as float64."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {describe(value)}")
    if value.dim() != dim:
        raise ValueError(
            f"{name} must have {dim} dimension(s); got shape {tuple(value.shape)}{hint}"
        )
    check_tensor(name, value)
    if value.dtype == torch.bool or value.is_complex():
        raise ValueError(
            f"{name} must hold real scores (a float or integer dtype); got {value.dtype}"
        )
    out = value.detach().to(torch.float64)
    # OGB silently mis-ranks NaN scores (and its torch and numpy paths disagree on them), so a
    # NaN is refused here; +-inf is ordered and allowed.
    if out.numel() > 0 and bool(out.isnan().any()):
        bad = int(out.isnan().sum())
        raise ValueError(f"{name} must not contain NaN scores; found {bad}")
    return out


def _positives(pos: object) -> Tensor:
    out = _scores("pos", pos, 1)
    if out.numel() == 0:
        raise ValueError("pos must hold at least one positive score; got an empty tensor")
    return out


def hits_at_k(pos: Tensor, neg: Tensor, k: int) -> float:
    r"""Hits@K against a shared pool of negatives, as OGB's ``hits@K`` evaluator.

    A positive is a hit when its score is **strictly greater** than the K-th largest negative
    score :math:`t_K`:

    .. math::
        \mathrm{Hits@K} = \frac{1}{P} \sum_{i=1}^{P} [\, s^+_i > t_K \,],

    so a positive tied with :math:`t_K` is a miss. With fewer than K negatives every positive is
    a hit and the result is ``1.0`` (OGB's rule).

    Args:
        pos: scores of the positive pairs.
        neg: scores of the negative pairs, shared by every positive.
        k: the cut-off K, at least 1.

    Shapes:
        pos ``[P]`` (P >= 1), neg ``[Q]`` (Q >= 0, on any device; ``pos`` is moved to it).

    Example:
        >>> hits_at_k(torch.tensor([3.0, 2.0, 1.0]), torch.tensor([2.0, 0.0]), k=1)
        0.3333333333333333
    """
    k = check_int("k", k, minimum=1)
    neg_ = _scores(
        "neg",
        neg,
        1,
        "; for per-positive negatives [P, K] use ranked_hits_at_k (and squeeze a [Q, 1] tensor)",
    )
    pos_ = _positives(pos).to(neg_.device)
    if neg_.numel() < k:
        return 1.0
    threshold = torch.topk(neg_, k).values[-1]
    return int((pos_ > threshold).sum()) / pos_.numel()


def _ranked_inputs(pos: Tensor, neg: Tensor) -> tuple[Tensor, Tensor]:
    neg_ = _scores("neg", neg, 2, "; per-positive negatives are a [P, K] matrix")
    pos_ = _positives(pos).to(neg_.device)
    if neg_.size(0) != pos_.numel():
        raise ValueError(
            f"neg must have one row per positive: shape [{pos_.numel()}, K] for "
            f"{pos_.numel()} positives; got shape {tuple(neg_.shape)}"
        )
    return pos_, neg_


def ranks(pos: Tensor, neg: Tensor) -> Tensor:
    r"""Tie-averaged rank of each positive among its own negatives (OGB's MRR rank).

    .. math::
        r_i = 1 + \tfrac{1}{2}\Big(\#\{j : s^-_{ij} > s^+_i\}
              + \#\{j : s^-_{ij} \ge s^+_i\}\Big),

    the mean of the optimistic rank (the positive first among equal scores) and the
    pessimistic rank (the positive last among them). Ranks are multiples of 1/2.

    Args:
        pos: scores of the positive pairs.
        neg: ``neg[i]`` holds the scores of the negatives of positive ``i``.

    Shapes:
        pos ``[P]`` (P >= 1), neg ``[P, K]`` (K >= 0) -> ``[P]`` float64 on ``neg``'s device.

    Example:
        The first positive ties with two negatives, the second with two and loses to one:

        >>> ranks(torch.tensor([1.0, 2.0]), torch.tensor([[1.0, 1.0, 0.0], [3.0, 2.0, 2.0]]))
        tensor([2., 3.], dtype=torch.float64)
    """
    pos_, neg_ = _ranked_inputs(pos, neg)
    column = pos_.view(-1, 1)  # [P, 1]
    twice = (neg_ > column).sum(dim=1) + (neg_ >= column).sum(dim=1)  # [P]
    return 1.0 + 0.5 * twice.to(torch.float64)


def mrr(pos: Tensor, neg: Tensor) -> float:
    r"""Mean reciprocal rank, as OGB's ``mrr`` evaluator (ogbl-citation2).

    .. math::
        \mathrm{MRR} = \frac{1}{P} \sum_{i=1}^{P} \frac{1}{r_i}

    with :math:`r_i` the tie-averaged rank of :func:`ranks`. OGB returns the per-positive list
    ``mrr_list`` (float32); this returns its mean, computed in float64.

    Args:
        pos: scores of the positive pairs.
        neg: ``neg[i]`` holds the scores of the negatives of positive ``i``.

    Shapes:
        pos ``[P]`` (P >= 1), neg ``[P, K]`` (K >= 0).

    Example:
        >>> mrr(torch.tensor([1.0, 2.0]), torch.tensor([[1.0, 1.0, 0.0], [3.0, 2.0, 2.0]]))
        0.41666666666666663
    """
    return float(ranks(pos, neg).reciprocal().mean())


def ranked_hits_at_k(pos: Tensor, neg: Tensor, k: int) -> float:
    r"""Hits@K with per-positive negatives, as the ``hits@K_list`` of OGB's ``mrr`` evaluator.

    .. math::
        \mathrm{Hits@K} = \frac{1}{P} \sum_{i=1}^{P} [\, r_i \le K \,]

    with :math:`r_i` the tie-averaged rank of :func:`ranks`. OGB reports K = 1, 3 and 10; any
    K >= 1 is accepted. Note the tie rule differs from :func:`hits_at_k`: there a positive tied
    with the K-th negative is a miss, here a tie costs half a rank.

    Args:
        pos: scores of the positive pairs.
        neg: ``neg[i]`` holds the scores of the negatives of positive ``i``.
        k: the cut-off K, at least 1.

    Shapes:
        pos ``[P]`` (P >= 1), neg ``[P, K']`` (K' >= 0).

    Example:
        >>> pos, neg = torch.tensor([1.0, 2.0]), torch.tensor([[1.0, 1.0, 0.0], [3.0, 2.0, 2.0]])
        >>> ranked_hits_at_k(pos, neg, k=2)  # ranks 2 and 3
        0.5
    """
    k = check_int("k", k, minimum=1)
    return int((ranks(pos, neg) <= k).sum()) / pos.numel()
