from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from graphpair.losses import LinkInfoNCELoss, NoPairsWarning, link_info_nce
from tests.losses.test_link_bce import scores


@settings(max_examples=30)
@given(st.integers(1, 20), st.integers(1, 5), st.integers(0, 2**16), st.sampled_from([1.0, 0.3]))
def test_equals_cross_entropy(num: int, k: int, seed: int, tau: float) -> None:
    pos, neg = scores(num, k, seed)
    logits = torch.cat([pos.unsqueeze(1), neg], dim=1) / tau
    target = torch.zeros(num, dtype=torch.long)
    torch.testing.assert_close(
        link_info_nce(pos, neg, temperature=tau), F.cross_entropy(logits, target)
    )
    torch.testing.assert_close(
        link_info_nce(pos, neg, temperature=tau, reduction="none"),
        F.cross_entropy(logits, target, reduction="none"),
    )


def test_one_negative_is_bce_on_the_difference() -> None:
    pos, neg = scores(6, 1, 3)
    torch.testing.assert_close(
        link_info_nce(pos, neg.squeeze(1)), -F.logsigmoid(pos - neg.squeeze(1)).mean()
    )


def test_gradcheck_and_module_and_errors() -> None:
    pos, neg = scores(4, 3, 0)
    assert torch.autograd.gradcheck(lambda p, n: link_info_nce(p, n, temperature=0.5), (pos, neg))
    module = LinkInfoNCELoss(temperature=0.5)
    torch.testing.assert_close(module(pos, neg), link_info_nce(pos, neg, temperature=0.5))
    assert "temperature=0.5" in repr(module)
    with pytest.raises(ValueError, match="temperature must be finite and > 0"):
        link_info_nce(pos, neg, temperature=0.0)
    with pytest.warns(NoPairsWarning, match="link_info_nce"):
        assert link_info_nce(torch.empty(0), torch.empty(0, 2)).item() == 0.0
