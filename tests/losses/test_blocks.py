from __future__ import annotations

import pytest
import torch

from graphpair.losses._blocks import block_pairs, sort_pairs, unsort
from graphpair.losses._common import Pairs


def t(*values: int) -> torch.Tensor:
    return torch.tensor(values)


def test_sort_pairs_orders_by_anchor_then_reference_and_unsorts() -> None:
    pairs = Pairs(t(2, 0, 2, 0), t(1, 3, 0, 1), t(1, 1), t(0, 2))
    sp = sort_pairs(pairs, 4)
    assert sp.pos_a.tolist() == [0, 0, 2, 2]
    assert sp.pos_b.tolist() == [1, 3, 0, 1]
    values = torch.tensor([10.0, 11.0, 12.0, 13.0])  # in sorted order
    # back in input order: input k sits at sorted position inverse[k]
    assert unsort(values, sp.pos_order).tolist() == [13.0, 11.0, 12.0, 10.0]


def test_sort_pairs_rejects_a_pair_in_both_lists() -> None:
    with pytest.raises(ValueError, match=r"\(anchor 1, reference 2\) is both"):
        sort_pairs(Pairs(t(1), t(2), t(0, 1), t(3, 2)), 4)


def test_label_masks_exclude_only_the_self_pair() -> None:
    labels = t(0, 0, 1)
    bp = block_pairs(t(1, 2), labels[1:], t(1, 2), labels, (None,) * 4, 3)
    assert bp.pos.tolist() == [[True, False, False], [False, False, False]]
    assert bp.neg.tolist() == [[False, False, True], [True, True, False]]
    assert bp.pos_count is None
    assert bp.pos_at is None


def test_pair_masks_of_a_block_with_multiplicities() -> None:
    sp = sort_pairs(Pairs(t(0, 1, 1, 2), t(1, 2, 2, 0), t(1, 2), t(0, 1)), 3)
    lists = (sp.pos_a, sp.pos_b, sp.neg_a, sp.neg_b)
    bp = block_pairs(t(1, 2), None, None, None, lists, 3, counts=True, dtype=torch.float64)
    assert bp.pos.tolist() == [[False, False, True], [True, False, False]]
    assert bp.pos_count is not None
    assert bp.pos_count.tolist() == [[0, 0, 2], [1, 0, 0]]
    assert bp.neg.tolist() == [[True, False, False], [False, True, False]]
    assert bp.pos_at is not None
    assert bp.pos_at[0].tolist() == [0, 0, 1]
    assert bp.pos_at[1].tolist() == [2, 2, 0]
