"""capped_neighbor_overlap: the listed-then-capped sets, bit for bit, no hub row listed."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import graphpair.ops._capped_overlap as capped_module
from graphpair.ops import (
    CSR,
    PairNodeSet,
    cap_members,
    capped_neighbor_overlap,
    neighbor_overlap,
)
from tests.graphs import graphs, neighbor_sets, node_pairs


def listed_then_capped(
    adj: CSR, pairs: torch.Tensor, cap: int, method: str, chunk: int
) -> tuple[PairNodeSet, PairNodeSet, torch.Tensor, PairNodeSet, torch.Tensor]:
    """The oracle: every one-sided set listed, then :func:`cap_members` on each side."""
    common, i_all, j_all = neighbor_overlap(adj, pairs, method=method, chunk_size=chunk)
    i_only, i_weight = cap_members(i_all, pairs.size(1), cap)
    j_only, j_weight = cap_members(j_all, pairs.size(1), cap)
    return common, i_only, i_weight, j_only, j_weight


def assert_same(got: tuple[object, ...], want: tuple[object, ...]) -> None:
    for a, b in zip(got, want, strict=True):
        if isinstance(a, PairNodeSet):
            assert isinstance(b, PairNodeSet)
            assert torch.equal(a.pair_idx, b.pair_idx)
            assert torch.equal(a.node_idx, b.node_idx)
        else:
            assert isinstance(a, torch.Tensor)
            assert isinstance(b, torch.Tensor)
            assert a.dtype == b.dtype
            assert torch.equal(a, b)


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    graph=graphs(max_nodes=16, max_edges=80, min_nodes=0),
    symmetric=st.booleans(),
    self_loops=st.booleans(),
    masked=st.integers(0, 12),
    cap=st.integers(1, 6),
    method=st.sampled_from(["sparse", "dense", "auto"]),
    chunk=st.sampled_from([1, 5, 1 << 20]),
    seed=st.integers(0, 2**16),
)
def test_equals_listing_then_capping_bit_for_bit(
    data: st.DataObject,
    graph: tuple[torch.Tensor, int],
    symmetric: bool,
    self_loops: bool,
    masked: int,
    cap: int,
    method: str,
    chunk: int,
    seed: int,
) -> None:
    edge_index, num_nodes = graph
    adj = CSR.from_edge_index(edge_index, num_nodes, symmetric=symmetric, self_loops=self_loops)
    if masked and adj.num_edges:
        stored = adj.to_edge_index()
        adj.mask_edges(stored[:, data.draw(st.permutations(range(adj.num_edges)))[:masked]])
    pairs = data.draw(node_pairs(num_nodes, max_pairs=30))
    torch.manual_seed(seed)
    want = listed_then_capped(adj, pairs, cap, method, chunk)
    after_want = torch.rand(4)
    torch.manual_seed(seed)
    got = capped_neighbor_overlap(adj, pairs, cap, method=method, chunk_size=chunk)
    assert_same(tuple(got), want)
    assert torch.equal(torch.rand(4), after_want)  # the generator advanced alike


def test_python_set_oracle_with_a_cap_above_every_set() -> None:
    gen = torch.Generator().manual_seed(0)
    num_nodes = 25
    edge_index = torch.randint(0, num_nodes, (2, 120), generator=gen)
    adj = CSR.from_edge_index(edge_index, num_nodes)
    adj.mask_edges(adj.to_edge_index()[:, :7])
    sets = [set(adj.neighbors(v).tolist()) for v in range(num_nodes)]
    assert sets != neighbor_sets(edge_index, num_nodes, symmetric=True, self_loops=False)
    pairs = torch.randint(0, num_nodes, (2, 60), generator=gen)
    out = capped_neighbor_overlap(adj, pairs, cap=num_nodes, method="sparse")
    for name, pick in (
        ("common", lambda a, b: a & b),
        ("i_only", lambda a, b: a - b),
        ("j_only", lambda a, b: b - a),
    ):
        members: PairNodeSet = getattr(out, name)
        per_pair: list[list[int]] = [[] for _ in range(60)]
        for p, k in zip(members.pair_idx.tolist(), members.node_idx.tolist(), strict=True):
            per_pair[p].append(k)
        want = [sorted(pick(sets[i], sets[j])) for i, j in pairs.t().tolist()]
        assert per_pair == want, name
    assert torch.all(out.i_weight == 1)
    assert torch.all(out.j_weight == 1)


def test_a_hub_row_over_the_cap_is_never_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    # node 0 neighbours 1..2000; pairs (0, k) share nothing but the hub's one-sided set is
    # 1,999 long: only the leaves' rows (1 entry each) may be walked
    leaves = torch.arange(1, 2001)
    adj = CSR.from_edge_index(torch.stack([torch.zeros_like(leaves), leaves]), 2001)
    walked: list[int] = []
    real = capped_module._one_sided

    def spy(adj: CSR, walker: torch.Tensor, *args: object) -> object:
        walked.append(int(adj.row_lengths()[walker].sum()))
        return real(adj, walker, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(capped_module, "_one_sided", spy)
    pairs = torch.stack([torch.zeros(50, dtype=torch.long), leaves[:50]])
    adj.mask_edges(pairs[:, :5])  # a masked entry in the hub's row, as target link removal
    torch.manual_seed(0)
    out = capped_neighbor_overlap(adj, pairs, cap=8, method="sparse")
    assert sum(walked) <= pairs.size(1)  # the leaves' rows only, never the hub's 2,000
    counts = torch.bincount(out.i_only.pair_idx, minlength=50)
    assert bool((counts <= 8).all())
    assert bool((counts >= 1).all())
    totals = torch.zeros(50, dtype=out.i_weight.dtype).index_add_(
        0, out.i_only.pair_idx, out.i_weight
    )
    # the weights add up to the set's size: the hub's 2,000 neighbours less the 5 masked
    # (a leaf has no neighbour but the hub, so none is common)
    torch.testing.assert_close(totals, torch.full((50,), 1995.0, dtype=totals.dtype))
    assert not set(out.i_only.node_idx.tolist()) & set(range(1, 6))  # masked: never drawn


def test_errors_name_the_argument() -> None:
    adj = CSR.from_edge_index(torch.tensor([[0, 1], [1, 2]]), 3)
    pairs = torch.tensor([[0], [2]])
    with pytest.raises(ValueError, match="cap"):
        capped_neighbor_overlap(adj, pairs, 0)
    with pytest.raises(TypeError, match="adj must be a graphpair.ops.CSR"):
        capped_neighbor_overlap(torch.tensor([[0, 1], [1, 2]]), pairs, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method"):
        capped_neighbor_overlap(adj, pairs, 3, method="bitset")
