from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from graphpair.losses import NoPairsWarning, PairwiseRankingLoss, pairwise_ranking
from tests.losses.test_link_bce import scores


def loop(pos: torch.Tensor, neg: torch.Tensor, margin: float, kind: str) -> torch.Tensor:
    per_positive = []
    for b in range(len(pos)):
        terms = []
        for k in range(neg.size(1)):
            d = pos[b] - neg[b, k]
            if kind == "hinge":
                terms.append(torch.clamp(margin - d, min=0))
            elif kind == "auc":
                terms.append((margin - d) ** 2)
            else:
                terms.append(torch.log1p(torch.exp(-d)))
        per_positive.append(torch.stack(terms).mean())
    return torch.stack(per_positive).mean()


@settings(max_examples=30)
@given(
    st.integers(1, 12),
    st.integers(1, 4),
    st.integers(0, 2**16),
    st.sampled_from(["hinge", "auc", "bpr"]),
    st.sampled_from([0.0, 1.0, 2.5]),
)
def test_equals_plain_loop(num: int, k: int, seed: int, kind: str, margin: float) -> None:
    pos, neg = scores(num, k, seed)
    pos, neg = pos / 5, neg / 5  # keep bpr's exp in range for the naive loop
    torch.testing.assert_close(
        pairwise_ranking(pos, neg, margin=margin, kind=kind), loop(pos, neg, margin, kind)
    )


def test_hinge_equals_margin_ranking_loss() -> None:
    pos, neg = scores(9, 1, 2)
    expected = F.margin_ranking_loss(
        pos, neg.squeeze(1), torch.ones(9, dtype=pos.dtype), margin=0.7
    )
    torch.testing.assert_close(pairwise_ranking(pos, neg.squeeze(1), margin=0.7), expected)


def test_gradcheck_module_errors() -> None:
    pos, neg = scores(4, 3, 0)
    for kind in ("auc", "bpr"):
        assert torch.autograd.gradcheck(
            lambda p, n, k=kind: pairwise_ranking(p, n, kind=k), (pos, neg)
        )
    module = PairwiseRankingLoss(0.5, kind="BPR", reduction="none")
    assert module.kind == "bpr"
    torch.testing.assert_close(
        module(pos, neg), pairwise_ranking(pos, neg, kind="bpr", reduction="none")
    )
    assert "kind='bpr'" in repr(module)
    with pytest.raises(
        ValueError, match=r"kind must be one of \['hinge', 'auc', 'bpr'\]; got 'log'"
    ):
        pairwise_ranking(pos, neg, kind="log")
    with pytest.warns(NoPairsWarning, match="pairwise_ranking"):
        assert pairwise_ranking(torch.empty(0), torch.empty(0)).item() == 0.0
