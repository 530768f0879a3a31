from __future__ import annotations

import dataclasses

import pytest
import torch

from graphpair.data import LeakageError, audit_split, ncn_planetoid_split
from tests.graphs import random_edge_index


def _split():  # type: ignore[no-untyped-def]
    return ncn_planetoid_split(random_edge_index(40, 160, seed=5), 40, 0)


def test_clean_split_passes() -> None:
    report = audit_split(_split())
    assert report.ok
    assert set(report.counts.values()) == {0}


def test_leaked_test_edge_in_train_graph_is_caught_in_either_direction() -> None:
    split = _split()
    leaked = split.test_pos[:, :3].flip(0)  # reversed direction still leaks
    bad = dataclasses.replace(split, train_pos=torch.cat([split.train_pos, leaked], 1))
    with pytest.raises(LeakageError, match="test_pos_in_graph: 3"):
        audit_split(bad)
    report = audit_split(bad, strict=False)
    assert not report.ok
    assert report.counts["test_pos_in_graph"] == 3
    assert report.counts["train_test_overlap"] == 3


def test_negative_that_is_an_edge_or_loop_or_duplicate() -> None:
    split = _split()
    neg = split.test_neg.clone()
    neg[:, 0] = split.train_pos[:, 0]
    neg[:, 1] = torch.tensor([7, 7])
    neg[:, 2] = neg[:, 3]
    report = audit_split(dataclasses.replace(split, test_neg=neg), strict=False)
    assert report.counts["test_neg_is_edge"] >= 1
    assert report.counts["test_neg_self_loops"] == 1
    assert report.counts["test_neg_duplicates"] >= 1


def test_duplicated_positives_and_valid_in_test() -> None:
    split = _split()
    bad = dataclasses.replace(
        split,
        valid_pos=torch.cat([split.valid_pos, split.valid_pos[:, :1]], 1),
        test_pos=torch.cat([split.test_pos, split.valid_pos[:, 1:2]], 1),
        test_neg=torch.cat([split.test_neg, torch.tensor([[0], [39]])], 1),
    )
    report = audit_split(bad, strict=False)
    assert report.counts["valid_pos_duplicates"] == 1
    assert report.counts["valid_test_overlap"] == 1
    train_dup = dataclasses.replace(
        split, train_pos=torch.cat([split.train_pos, split.train_pos[:, :2]], 1)
    )
    assert audit_split(train_dup, strict=False).counts["train_pos_duplicates"] == 2
    assert audit_split(train_dup, allow_train_duplicates=True).ok


def test_per_positive_negatives() -> None:
    split = _split()
    p = split.test_pos.size(1)
    rows = torch.stack(
        [split.test_pos[0].repeat_interleave(2), torch.zeros(2 * p, dtype=torch.long)]
    )
    neg = rows.view(2, p, 2)
    report = audit_split(dataclasses.replace(split, test_neg=neg), strict=False)
    assert report.counts["test_neg_duplicates"] == p  # the two negatives of each row are equal
