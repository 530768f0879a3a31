from __future__ import annotations

import pytest
import torch

from graphpair.losses._problem import (
    build_problem,
    build_two_view_problem,
    pair_presence,
    positive_pair_count,
)
from tests.losses.oracle import embeddings


def problem(labels: list[int], ref: list[int] | None = None):  # type: ignore[no-untyped-def]
    x = embeddings(len(labels), 3, 0)
    r = None if ref is None else embeddings(len(ref), 3, 1)
    return build_problem(
        "t",
        x,
        torch.tensor(labels),
        r,
        None if ref is None else torch.tensor(ref),
        normalized=True,
        distributed=False,
        local_anchors=False,
    )


def test_single_set_layout_normalises_and_excludes_self() -> None:
    p = problem([0, 0, 1])
    assert p.anchors is p.refs
    assert p.self_cols is not None
    assert p.self_cols.tolist() == [0, 1, 2]
    torch.testing.assert_close(p.anchors.norm(dim=1), torch.ones(3, dtype=torch.float64))
    assert pair_presence(p) == (True, True)
    assert positive_pair_count(p) == 2
    assert pair_presence(problem([0, 1, 2])) == (False, True)
    assert pair_presence(problem([4, 4])) == (True, False)


def test_reference_layout_keeps_self_pairs() -> None:
    p = problem([0, 1], ref=[1, 1, 2])
    assert p.self_cols is None
    assert p.refs.shape == (3, 3)
    assert pair_presence(p) == (True, True)
    assert positive_pair_count(p) == 2
    assert pair_presence(problem([0], ref=[1])) == (False, True)
    assert pair_presence(problem([1], ref=[1, 1])) == (True, False)


def test_two_views_stack_with_shared_labels() -> None:
    z1, z2 = embeddings(3, 2, 0), embeddings(3, 2, 1)
    p = build_two_view_problem(
        "t", z1, z2, normalized=False, distributed=False, local_anchors=False
    )
    torch.testing.assert_close(p.anchors, torch.cat([z1, z2]))
    assert p.anchor_labels.tolist() == [0, 1, 2, 0, 1, 2]
    assert positive_pair_count(p) == 6


def test_self_supervised_labels_and_errors() -> None:
    x, r = embeddings(3, 2, 0), embeddings(3, 2, 1)
    p = build_problem(
        "t", x, None, r, None, normalized=False, distributed=False, local_anchors=False
    )
    assert p.anchor_labels.tolist() == p.ref_labels.tolist() == [0, 1, 2]
    assert p.self_cols is None
    with pytest.raises(ValueError, match="t: without labels, ref_emb must have one row per"):
        build_problem(
            "t", x, None, r[:2], None, normalized=False, distributed=False, local_anchors=False
        )
    with pytest.raises(ValueError, match="t: ref_labels needs ref_emb"):
        build_problem(
            "t",
            x,
            torch.zeros(3, dtype=torch.long),
            None,
            torch.zeros(3, dtype=torch.long),
            normalized=False,
            distributed=False,
            local_anchors=False,
        )
