from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from graphpair.losses import LinkBCELoss, NoPairsWarning, link_bce


def scores(num: int, k: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    pos = (torch.randn(num, generator=gen, dtype=torch.float64) * 5).requires_grad_()
    neg = (torch.randn(num, k, generator=gen, dtype=torch.float64) * 5).requires_grad_()
    return pos, neg


@settings(max_examples=30)
@given(st.integers(1, 20), st.integers(1, 5), st.integers(0, 2**16))
def test_equals_two_bce_means(num: int, k: int, seed: int) -> None:
    pos, neg = scores(num, k, seed)
    expected = F.binary_cross_entropy_with_logits(
        pos, torch.ones_like(pos)
    ) + F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg))
    torch.testing.assert_close(link_bce(pos, neg), expected)
    # NCN's form: -logsigmoid(pos).mean() - logsigmoid(-neg).mean()
    ncn = -F.logsigmoid(pos).mean() - F.logsigmoid(-neg).mean()
    torch.testing.assert_close(link_bce(pos, neg), ncn)
    per = link_bce(pos, neg, reduction="none")
    assert per.shape == (num,)
    torch.testing.assert_close(link_bce(pos, neg, reduction="sum"), per.sum())


def test_one_negative_per_positive_and_extreme_logits() -> None:
    pos = torch.tensor([800.0, -800.0], dtype=torch.float64, requires_grad=True)
    neg = torch.tensor([-800.0, 800.0], dtype=torch.float64)
    loss = link_bce(pos, neg)
    torch.testing.assert_close(loss, torch.tensor(800.0, dtype=torch.float64))
    loss.backward()
    assert pos.grad is not None
    assert torch.isfinite(pos.grad).all()


def test_gradcheck() -> None:
    pos, neg = scores(4, 3, 0)
    assert torch.autograd.gradcheck(lambda p, n: link_bce(p, n), (pos, neg))


def test_empty_and_errors_and_module() -> None:
    empty = torch.empty(0, requires_grad=True)
    with pytest.warns(NoPairsWarning, match="link_bce: no positive pair"):
        loss = link_bce(empty, torch.empty(0, 3))
    loss.backward()
    assert loss.item() == 0.0
    with pytest.raises(ValueError, match=r"neg must have one row per positive \(2\)"):
        link_bce(torch.zeros(2), torch.zeros(3))
    with pytest.raises(ValueError, match="pos must have 1 dimension"):
        link_bce(torch.zeros(2, 1), torch.zeros(2))
    with pytest.raises(ValueError, match="at least one negative"):
        link_bce(torch.zeros(2), torch.zeros(2, 0))
    pos, neg = scores(5, 2, 1)
    torch.testing.assert_close(
        LinkBCELoss(reduction="sum")(pos, neg), link_bce(pos, neg, reduction="sum")
    )
    assert "reduction='sum'" in repr(LinkBCELoss(reduction="sum"))
