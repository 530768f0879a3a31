"""neighborhood and induced_subgraph against naive set oracles (masked entries included)."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
import torch
from hypothesis import given, settings

from graphpair.ops import CSR, induced_subgraph, neighborhood


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]], list[tuple[int, int]]]:
    n = draw(st.integers(1, 14))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40))
    masked = draw(st.lists(st.sampled_from(edges), max_size=4)) if edges else []
    return n, edges, masked


def build(n: int, edges: list[tuple[int, int]]) -> CSR:
    edge_index = torch.tensor(edges, dtype=torch.long).view(-1, 2).t()
    return CSR.from_edge_index(edge_index, n)


def adjacency_sets(
    n: int, edges: list[tuple[int, int]], masked: list[tuple[int, int]]
) -> list[set[int]]:
    sets: list[set[int]] = [set() for _ in range(n)]
    for u, v in edges:
        if u != v:
            sets[u].add(v)
            sets[v].add(u)
    for u, v in masked:  # masking (u, v) removes both directions
        sets[u].discard(v)
        sets[v].discard(u)
    return sets


@settings(max_examples=80, deadline=None)
@given(graphs(), st.data())
def test_against_set_oracles(graph: tuple, data: st.DataObject) -> None:
    n, edges, masked = graph
    adj = build(n, edges)
    sets = adjacency_sets(n, edges, masked)
    nodes = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=6))
    hops = data.draw(st.integers(0, 3))
    pairs = torch.tensor(masked, dtype=torch.long).view(-1, 2).t()
    with adj.masked(pairs) as graph_masked:
        want: set[int] = set(nodes)
        frontier = set(nodes)
        for _ in range(hops):
            frontier = {k for v in frontier for k in sets[v]} - want
            want |= frontier
        got = neighborhood(graph_masked, torch.tensor(nodes), hops)
        assert got.tolist() == sorted(want)
        keep = sorted(want)
        sub = induced_subgraph(graph_masked, torch.tensor(keep))
        assert sub.num_nodes == len(keep)
        local_edges = {
            (a, b) for a, u in enumerate(keep) for b, v in enumerate(keep) if v in sets[u]
        }
        assert set(map(tuple, sub.to_edge_index().t().tolist())) == local_edges
        assert sub.num_edges == len(local_edges)


def test_bad_input() -> None:
    adj = build(4, [(0, 1), (1, 2)])
    with pytest.raises(ValueError, match="sorted and distinct"):
        induced_subgraph(adj, torch.tensor([2, 1]))
    with pytest.raises(ValueError, match="hops must be >= 0"):
        neighborhood(adj, torch.tensor([0]), -1)
