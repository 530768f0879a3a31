from __future__ import annotations

import dataclasses

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphpair.data import LeakageError, LinkSplit, audit_split, ncn_planetoid_split
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


def _oracle(split, allow_train_duplicates: bool) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Every count of ``audit_split`` by its definition, on Python sets and lists."""

    def pairs(t: torch.Tensor) -> list[tuple[int, int]]:
        return [(int(a), int(b)) for a, b in t.reshape(2, -1).t().tolist()]

    def und(p: tuple[int, int]) -> tuple[int, int]:
        return (min(p), max(p))

    def key(p: tuple[int, int]) -> tuple[int, int]:
        return p if split.directed else und(p)

    pos = {s: pairs(split.pos(s)) for s in ("train", "valid", "test")}
    every = {und(p) for s in pos for p in pos[s]}
    counts = {}
    for name in ("valid", "test"):
        edges = pos["train"] + (pos["valid"] if name == "test" and split.valid_as_input else [])
        graph = {und(e) for e in edges if e[0] != e[1]}
        counts[f"{name}_pos_in_graph"] = sum(und(p) in graph for p in pos[name])
    keys = {s: [key(p) for p in pos[s]] for s in pos}
    counts["train_valid_overlap"] = len(set(keys["valid"]) & set(keys["train"]))
    counts["train_test_overlap"] = len(set(keys["test"]) & set(keys["train"]))
    counts["valid_test_overlap"] = len(set(keys["test"]) & set(keys["valid"]))
    for name in ("train", "valid", "test"):
        if not (name == "train" and allow_train_duplicates):
            counts[f"{name}_pos_duplicates"] = len(keys[name]) - len(set(keys[name]))
    for name in ("valid", "test"):
        neg = split.neg(name)
        flat = pairs(neg)
        counts[f"{name}_neg_is_edge"] = sum(und(q) in every for q in flat)
        counts[f"{name}_neg_self_loops"] = sum(q[0] == q[1] for q in flat)
        if neg.dim() == 3:
            rows = [pairs(neg[:, i]) for i in range(neg.size(1))]
            counts[f"{name}_neg_duplicates"] = sum(len(r) - len({key(q) for q in r}) for r in rows)
        else:
            counts[f"{name}_neg_duplicates"] = len(flat) - len({key(q) for q in flat})
    return counts


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_count_matches_a_set_based_oracle(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 9), label="num_nodes")

    def edges(low: int, size: int | None = None) -> torch.Tensor:
        count = size if size is not None else data.draw(st.integers(low, 12))
        ids = data.draw(st.lists(st.integers(0, n - 1), min_size=2 * count, max_size=2 * count))
        return torch.tensor(ids, dtype=torch.long).view(2, count)

    valid_pos, test_pos = edges(1), edges(1)
    per_positive = data.draw(st.booleans(), label="[2, P, K] negatives")
    if per_positive:
        k = data.draw(st.integers(1, 3), label="K")
        valid_neg = edges(0, valid_pos.size(1) * k).view(2, -1, k)
        test_neg = edges(0, test_pos.size(1) * k).view(2, -1, k)
    else:
        valid_neg, test_neg = edges(1), edges(1)
    split = LinkSplit(
        num_nodes=n,
        train_pos=edges(1),
        valid_pos=valid_pos,
        valid_neg=valid_neg,
        test_pos=test_pos,
        test_neg=test_neg,
        protocol="random",
        directed=data.draw(st.booleans(), label="directed"),
        valid_as_input=data.draw(st.booleans(), label="valid_as_input"),
    )
    allow = data.draw(st.booleans(), label="allow_train_duplicates")
    report = audit_split(split, strict=False, allow_train_duplicates=allow)
    assert report.counts == _oracle(split, allow)
    assert report.problems == tuple(f"{c}: {v}" for c, v in report.counts.items() if v)
