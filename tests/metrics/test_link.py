from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from graphpair.metrics import hits_at_k, mrr, ranked_hits_at_k, ranks
from tests.metrics.oracle import LinkEvaluator, close, score_lists

# OGB's hits evaluators read K from the dataset; NCN (and this test) overwrite K on the object.
HITS = LinkEvaluator("ogbl-ppa")
MRR = LinkEvaluator("ogbl-citation2")


def ogb_hits(pos: list[float], neg: list[float], k: int, *, numpy: bool) -> float:
    HITS.K = k
    inputs: dict[str, Any]
    if numpy:
        inputs = {"y_pred_pos": np.array(pos), "y_pred_neg": np.array(neg)}
    else:
        # float64 like the numpy path, the loop and hits_at_k below: a float32 copy can tie
        # scores that differ in float64 (1.0000000000009095 against 1.0).
        inputs = {
            "y_pred_pos": torch.tensor(pos, dtype=torch.float64),
            "y_pred_neg": torch.tensor(neg, dtype=torch.float64),
        }
    return float(HITS.eval(inputs)[f"hits@{k}"])


def loop_hits(pos: list[float], neg: list[float], k: int) -> float:
    # A positive is a hit when fewer than k negatives score at least as high as it does.
    return sum(sum(n >= p for n in neg) < k for p in pos) / len(pos)


@given(pos=score_lists(1, 30, infinite=True), neg=score_lists(0, 40, infinite=True))
@example(pos=[1.0000000000009095], neg=[1.0] * 10)  # above 1.0 in float64 only
@example(pos=[1.0000000000009095], neg=[1.0000000000009095] * 10)  # a float64 tie
@pytest.mark.parametrize("k", [1, 3, 10, 25])
def test_hits_at_k_equals_ogb_torch_and_numpy(pos: list[float], neg: list[float], k: int) -> None:
    ours = hits_at_k(
        torch.tensor(pos, dtype=torch.float64), torch.tensor(neg, dtype=torch.float64), k
    )
    assert ours == ogb_hits(pos, neg, k, numpy=False)
    assert ours == ogb_hits(pos, neg, k, numpy=True)
    assert ours == loop_hits(pos, neg, k)


@given(pos=score_lists(1, 20), neg=score_lists(0, 20), k=st.integers(1, 25))
def test_hits_at_k_float32_and_integer_inputs(pos: list[float], neg: list[float], k: int) -> None:
    pos32, neg32 = torch.tensor(pos, dtype=torch.float32), torch.tensor(neg, dtype=torch.float32)
    assert hits_at_k(pos32, neg32, k) == ogb_hits(pos32.tolist(), neg32.tolist(), k, numpy=False)
    pos_int, neg_int = pos32.round().long(), neg32.round().long()
    expected = loop_hits(pos_int.tolist(), neg_int.tolist(), k)
    assert hits_at_k(pos_int, neg_int, k) == expected


@pytest.mark.parametrize("name", ["ogbl-ddi", "ogbl-collab", "ogbl-ppa"])
@pytest.mark.parametrize("num_neg", [0, 19, 20, 99, 100, 3000])
def test_hits_at_k_equals_ogb_datasets_unmodified(name: str, num_neg: int) -> None:
    evaluator = LinkEvaluator(name)
    gen = torch.Generator().manual_seed(num_neg)
    # Rounded scores: continuous enough to spread, coarse enough to tie often.
    pos = (torch.randn(500, generator=gen) * 4).round() / 4 + 0.5
    neg = (torch.randn(num_neg, generator=gen) * 4).round() / 4
    expected = evaluator.eval({"y_pred_pos": pos, "y_pred_neg": neg})[f"hits@{evaluator.K}"]
    assert hits_at_k(pos, neg, evaluator.K) == expected


def test_hits_at_k_tie_with_kth_negative_is_a_miss() -> None:
    neg = torch.tensor([5.0, 4.0, 3.0, 1.0])
    # The 2nd largest negative is 4: 4.5 beats it, 4.0 ties it (miss), 3.0 loses.
    assert hits_at_k(torch.tensor([4.5, 4.0, 3.0]), neg, k=2) == pytest.approx(1 / 3)
    assert hits_at_k(torch.tensor([4.0]), neg, k=3) == 1.0
    assert hits_at_k(torch.tensor([-0.0]), torch.tensor([0.0]), k=1) == 0.0


def test_hits_at_k_fewer_negatives_than_k_is_one() -> None:
    pos = torch.tensor([-100.0, 0.0])
    assert hits_at_k(pos, torch.tensor([1.0, 2.0]), k=3) == 1.0
    assert hits_at_k(pos, torch.tensor([]), k=1) == 1.0
    assert hits_at_k(pos, torch.tensor([1.0, 2.0]), k=2) == 0.0
    assert ogb_hits([-100.0, 0.0], [1.0, 2.0], 3, numpy=False) == 1.0


def test_hits_at_k_accepts_grad_tensors_and_returns_float() -> None:
    pos = torch.tensor([2.0, 0.0], requires_grad=True)
    out = hits_at_k(pos, torch.tensor([1.0]), k=1)
    assert type(out) is float
    assert out == 0.5


def test_hits_at_k_errors_name_the_argument() -> None:
    pos, neg = torch.tensor([1.0]), torch.tensor([0.0, 2.0])
    with pytest.raises(ValueError, match="pos must hold at least one"):
        hits_at_k(torch.tensor([]), neg, k=1)
    with pytest.raises(ValueError, match=r"neg must have 1 dimension.*ranked_hits_at_k"):
        hits_at_k(pos, neg.view(2, 1), k=1)
    with pytest.raises(ValueError, match=r"pos must have 1 dimension"):
        hits_at_k(pos.view(1, 1), neg, k=1)
    with pytest.raises(ValueError, match="k must be >= 1; got 0"):
        hits_at_k(pos, neg, k=0)
    with pytest.raises(TypeError, match="k must be an int"):
        hits_at_k(pos, neg, k=2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="neg must be a torch.Tensor"):
        hits_at_k(pos, [0.0, 2.0], k=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="neg must not contain NaN scores; found 1"):
        hits_at_k(pos, torch.tensor([0.0, math.nan]), k=1)
    with pytest.raises(ValueError, match="pos must hold real scores"):
        hits_at_k(torch.tensor([True]), neg, k=1)


def ogb_ranked(pos: torch.Tensor, neg: torch.Tensor) -> dict[str, torch.Tensor]:
    # ogb 1.3.6's numpy MRR path calls .sum(dim=1) on an ndarray and fails, so only torch is used.
    out: dict[str, torch.Tensor] = MRR.eval({"y_pred_pos": pos, "y_pred_neg": neg})
    return out


@st.composite
def ranked_inputs(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor]:
    p, k = draw(st.integers(1, 12)), draw(st.integers(0, 15))
    pos = draw(score_lists(p, p, infinite=True))
    neg = draw(score_lists(p * k, p * k, infinite=True))
    return torch.tensor(pos, dtype=torch.float64), torch.tensor(neg).view(p, k)


@given(inputs=ranked_inputs())
def test_ranks_and_mrr_equal_ogb(inputs: tuple[torch.Tensor, torch.Tensor]) -> None:
    pos, neg = inputs
    reference = ogb_ranked(pos, neg)
    rank = ranks(pos, neg)
    assert rank.dtype == torch.float64
    # OGB's lists are float32 reciprocals of exact half-integer ranks: ours rounds to them.
    assert torch.equal(rank.reciprocal().float(), reference["mrr_list"])
    ogb_rank = [round(2 / value) / 2 for value in reference["mrr_list"].tolist()]
    assert rank.tolist() == ogb_rank
    assert close(mrr(pos, neg), math.fsum(1 / r for r in ogb_rank) / len(ogb_rank))
    for k in (1, 3, 10):
        expected = int(reference[f"hits@{k}_list"].sum()) / pos.numel()
        assert ranked_hits_at_k(pos, neg, k) == expected


@given(inputs=ranked_inputs(), k=st.integers(1, 20))
def test_ranks_match_a_plain_loop(inputs: tuple[torch.Tensor, torch.Tensor], k: int) -> None:
    pos, neg = inputs
    expected = []
    for p, row in zip(pos.tolist(), neg.tolist(), strict=True):
        above = sum(n > p for n in row)
        tied = sum(n == p for n in row)
        expected.append(1 + above + tied / 2)
    assert ranks(pos, neg).tolist() == expected
    assert ranked_hits_at_k(pos, neg, k) == sum(r <= k for r in expected) / len(expected)


def test_mrr_hand_example_with_ties() -> None:
    pos = torch.tensor([1.0, 2.0, 5.0])
    neg = torch.tensor([[1.0, 1.0, 0.0], [3.0, 2.0, 2.0], [0.0, 0.0, 0.0]])
    # ranks: 1 + (0 + 2)/2 = 2; 1 + (1 + 3)/2 = 3; 1.
    assert ranks(pos, neg).tolist() == [2.0, 3.0, 1.0]
    assert mrr(pos, neg) == pytest.approx((1 / 2 + 1 / 3 + 1) / 3, abs=1e-15)
    assert ranked_hits_at_k(pos, neg, 1) == pytest.approx(1 / 3)
    assert ranked_hits_at_k(pos, neg, 3) == 1.0
    # No negatives: every positive ranks first.
    assert mrr(pos, torch.empty(3, 0)) == 1.0


def test_mrr_errors_name_the_argument() -> None:
    pos = torch.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"neg must have one row per positive.*\[2, K\]"):
        mrr(pos, torch.zeros(3, 4))
    with pytest.raises(ValueError, match="neg must have 2 dimension"):
        mrr(pos, torch.zeros(4))
    with pytest.raises(ValueError, match="pos must hold at least one"):
        mrr(torch.tensor([]), torch.zeros(0, 4))
    with pytest.raises(ValueError, match="pos must not contain NaN"):
        ranks(torch.tensor([math.nan, 1.0]), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="k must be >= 1"):
        ranked_hits_at_k(pos, torch.zeros(2, 4), 0)
