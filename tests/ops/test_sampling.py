from __future__ import annotations

import math
from unittest import mock

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphpair.ops import CSR, SampledSubgraph, _sampling, check_fanout, neighbor_sample
from tests.graphs import graphs, random_edge_index


def bfs_oracle(
    adj: CSR, seeds: list[int], hops: int
) -> tuple[list[int], list[tuple[int, int]], list[int], list[int]]:
    """The L-hop computation graph by a plain loop, in PyG's order: nodes (seeds, then new
    nodes by first appearance), edges (local source, local target), per-hop counts."""
    local = {v: i for i, v in enumerate(seeds)}
    nodes = list(seeds)
    frontier = list(seeds)
    edges: list[tuple[int, int]] = []
    node_counts, edge_counts = [len(seeds)], []
    for _ in range(hops):
        new: list[int] = []
        before = len(edges)
        for v in frontier:
            for u in adj.neighbors(v).tolist():
                if u not in local:
                    local[u] = len(nodes)
                    nodes.append(u)
                    new.append(u)
                edges.append((local[u], local[v]))
        node_counts.append(len(new))
        edge_counts.append(len(edges) - before)
        frontier = new
    return nodes, edges, node_counts, edge_counts


def edges_of(sub: SampledSubgraph) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in sub.edge_index.t().tolist()]


def check_sample(adj: CSR, seeds: list[int], fanout: list[int], sub: SampledSubgraph) -> None:
    """Every property of a sample, against a replay by a plain loop: each frontier node's
    sampled neighbours are distinct active neighbours, min(fanout, degree) of them, and the
    node order and per-hop counts are those of the loop given those choices."""
    node = sub.node.tolist()
    assert node[: len(seeds)] == seeds
    assert len(set(node)) == len(node)
    src, dst = sub.edge_index.tolist()
    assert len(src) == len(dst) == sub.edge.numel() == sum(sub.num_sampled_edges)
    assert sum(sub.num_sampled_nodes) == len(node)
    assert bool(adj.mask[sub.edge].all())  # never a masked entry
    assert adj.col[sub.edge].tolist() == [node[s] for s in src]
    assert adj.row[sub.edge].tolist() == [node[d] for d in dst]
    local = {v: i for i, v in enumerate(seeds)}
    frontier, offset, edge_at = list(seeds), 0, 0
    for hop, k in enumerate(fanout):
        count = sub.num_sampled_edges[hop]
        hop_src, hop_dst = src[edge_at : edge_at + count], dst[edge_at : edge_at + count]
        edge_at += count
        new: list[int] = []
        for i, v in enumerate(frontier):
            picked = [node[s] for s, d in zip(hop_src, hop_dst, strict=True) if d == offset + i]
            true = adj.neighbors(v).tolist()
            assert len(set(picked)) == len(picked)
            assert set(picked) <= set(true)
            assert len(picked) == (len(true) if k == -1 else min(k, len(true)))
            for u in picked:
                if u not in local:
                    local[u] = len(local)
                    new.append(u)
        assert sorted(hop_dst) == hop_dst  # grouped by sampling node
        assert node[len(local) - len(new) : len(local)] == new
        assert sub.num_sampled_nodes[hop + 1] == len(new)
        frontier, offset = new, len(local) - len(new)
    assert len(local) == len(node)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("hops", [1, 2, 3])
def test_all_neighbours_is_the_bfs_computation_graph(seed: int, hops: int) -> None:
    adj = CSR.from_edge_index(random_edge_index(40, 70, seed), 40)
    seeds = torch.randperm(40, generator=torch.Generator().manual_seed(seed))[:5].tolist()
    sub = neighbor_sample(adj, torch.tensor(seeds), [-1] * hops)
    nodes, edges, node_counts, edge_counts = bfs_oracle(adj, seeds, hops)
    assert sub.node.tolist() == nodes
    assert edges_of(sub) == edges
    assert list(sub.num_sampled_nodes) == node_counts
    assert list(sub.num_sampled_edges) == edge_counts


def test_a_fanout_at_least_the_degree_takes_everything() -> None:
    adj = CSR.from_edge_index(random_edge_index(30, 60, 1), 30)
    big = int(adj.degree().max())
    seeds = torch.tensor([0, 3, 7])
    full = neighbor_sample(adj, seeds, [-1, -1])
    same = neighbor_sample(adj, seeds, [big, big + 5], generator=torch.Generator())
    assert torch.equal(full.node, same.node)
    assert torch.equal(full.edge_index, same.edge_index)


@pytest.mark.parametrize("fanout", [[1], [2, 1], [3, 3, 2], [0, 4], [5, -1]])
@pytest.mark.parametrize("seed", range(3))
def test_sampled_neighbours_are_distinct_true_neighbours(fanout: list[int], seed: int) -> None:
    adj = CSR.from_edge_index(random_edge_index(50, 150, seed), 50)
    seeds = [4, 1, 30, 2]
    generator = torch.Generator().manual_seed(seed)
    sub = neighbor_sample(adj, torch.tensor(seeds), fanout, generator=generator)
    check_sample(adj, seeds, fanout, sub)


def test_masked_entries_are_never_sampled() -> None:
    adj = CSR.from_edge_index(random_edge_index(30, 90, 2), 30)
    targets = adj.to_edge_index()[:, ::3]
    with adj.masked(targets):
        for fanout in ([-1, -1], [2, 2]):
            sub = neighbor_sample(adj, torch.tensor([0, 5]), fanout)
            check_sample(adj, [0, 5], fanout, sub)
        full = neighbor_sample(adj, torch.tensor([0, 5]), [-1, -1])
        nodes, edges, _, _ = bfs_oracle(adj, [0, 5], 2)
        assert full.node.tolist() == nodes
        assert edges_of(full) == edges


@settings(max_examples=60, deadline=None)
@given(graphs(max_nodes=15, max_edges=50), st.data())
def test_random_graphs(graph: tuple[torch.Tensor, int], data: st.DataObject) -> None:
    edge_index, num_nodes = graph
    adj = CSR.from_edge_index(edge_index, num_nodes, self_loops=data.draw(st.booleans()))
    check_drawn_sample(adj, num_nodes, data, smallest_fanout=-1)


def check_drawn_sample(
    adj: CSR, num_nodes: int, data: st.DataObject, *, smallest_fanout: int
) -> None:
    """Seeds, fanouts and a generator drawn by hypothesis: the sample is valid, and with every
    fanout -1 it is the BFS of the active graph."""
    seeds = data.draw(
        st.lists(st.integers(0, num_nodes - 1), min_size=1, max_size=num_nodes, unique=True)
    )
    fanout = data.draw(st.lists(st.integers(smallest_fanout, 4), min_size=1, max_size=3))
    generator = torch.Generator().manual_seed(data.draw(st.integers(0, 2**31)))
    sub = neighbor_sample(adj, torch.tensor(seeds), fanout, generator=generator)
    check_sample(adj, seeds, fanout, sub)
    full = neighbor_sample(adj, torch.tensor(seeds), [-1] * len(fanout))
    nodes, edges, _, _ = bfs_oracle(adj, seeds, len(fanout))
    assert full.node.tolist() == nodes
    assert edges_of(full) == edges


@settings(max_examples=60, deadline=None)
@given(graphs(max_nodes=15, max_edges=50), st.data())
def test_random_graphs_with_masked_entries(
    graph: tuple[torch.Tensor, int], data: st.DataObject
) -> None:
    """Target link removal: a hop mixes rows holding a masked entry (Floyd's algorithm over
    their active entries, moved past the masked ones) with rows without one; the sample is
    valid, never takes a masked entry, and with every fanout -1 is the BFS of the active
    graph."""
    edge_index, num_nodes = graph
    adj = CSR.from_edge_index(edge_index, num_nodes)
    stored = adj.to_edge_index()
    if stored.size(1):
        picks = data.draw(st.lists(st.integers(0, stored.size(1) - 1), max_size=4))
        adj.mask_edges(stored[:, picks])
    check_drawn_sample(adj, num_nodes, data, smallest_fanout=0)  # 0..4: Floyd's range


@pytest.mark.parametrize(
    ("leaves", "fanout", "masked"),
    [
        (20, 5, False),  # Floyd's algorithm
        (7, 6, False),  # Floyd's algorithm, one more neighbour than the fanout
        (20, 5, True),  # Floyd's algorithm over active ranks (the hub holds a masked entry)
        (20, 5, "elsewhere"),  # Floyd's algorithm in a graph with a masked entry elsewhere
        (80, 70, False),  # random keys (fanout above FLOYD_MAX_FANOUT)
    ],
)
def test_uniform_on_a_star(leaves: int, fanout: int, masked: bool | str) -> None:
    """Each leaf of a star is sampled with probability p = fanout / leaves per draw: the
    chi-square statistic of the counts (mean leaves * (1 - p) for a uniform sampler without
    replacement) stays within 8 of its standard deviations, and every pair of leaves comes
    together as often as a uniform subset implies (within 5 binomial deviations)."""
    draws = 3000
    hub = torch.zeros(leaves + 1, dtype=torch.long)
    adj = CSR.from_edge_index(torch.stack([hub, torch.arange(1, leaves + 2)]))
    adj.mask_edges(torch.tensor([[0], [leaves + 1]]))  # one extra leaf, masked ...
    if not masked:  # ... or not there at all
        adj = CSR.from_edge_index(torch.stack([hub[:-1], torch.arange(1, leaves + 1)]))
    if masked == "elsewhere":  # the star alone, and a masked edge between two other nodes
        star = torch.stack([hub[:-1], torch.arange(1, leaves + 1)])
        adj = CSR.from_edge_index(torch.cat([star, torch.tensor([[leaves + 1], [leaves + 2]])], 1))
        adj.mask_edges(torch.tensor([[leaves + 1], [leaves + 2]]))
        assert adj.masked_rows().tolist() == [leaves + 1, leaves + 2]
    generator = torch.Generator().manual_seed(0)
    counts = torch.zeros(leaves + 1)
    together = torch.zeros(leaves + 1, leaves + 1)
    for _ in range(draws):
        sub = neighbor_sample(adj, torch.tensor([0]), [fanout], generator=generator)
        picked = sub.node[1:]
        assert picked.numel() == fanout
        counts[picked] += 1
        together[picked.unsqueeze(1), picked.unsqueeze(0)] += 1
    p = fanout / leaves
    expected = draws * p
    chi2 = float(((counts[1:] - expected) ** 2 / expected).sum())
    mean = leaves * (1 - p)
    assert abs(chi2 - mean) < 8 * (2 * mean) ** 0.5, (chi2, mean)
    # P(two given leaves both picked) = fanout (fanout - 1) / (leaves (leaves - 1))
    q = fanout * (fanout - 1) / (leaves * (leaves - 1))
    off = together[1:, 1:][~torch.eye(leaves, dtype=torch.bool)]
    assert float((off - draws * q).abs().max()) < 5 * (draws * q * (1 - q)) ** 0.5 + 1


@settings(max_examples=60, deadline=None)
@given(graphs(max_nodes=15, max_edges=50), st.data())
def test_sum_scale_is_degree_over_sampled(
    graph: tuple[torch.Tensor, int], data: st.DataObject
) -> None:
    edge_index, num_nodes = graph
    adj = CSR.from_edge_index(edge_index, num_nodes)
    if adj.num_edges and data.draw(st.booleans()):
        adj.mask_edges(adj.to_edge_index()[:, ::2])
    seeds = data.draw(st.lists(st.integers(0, num_nodes - 1), min_size=1, unique=True))
    fanout = data.draw(st.lists(st.integers(-1, 3), min_size=1, max_size=3))
    generator = torch.Generator().manual_seed(data.draw(st.integers(0, 2**31)))
    sub = neighbor_sample(adj, torch.tensor(seeds), fanout, generator=generator)
    scale = sub.sum_scale(adj)
    for local, node in enumerate(sub.node.tolist()):
        k = int((sub.edge_index[1] == local).sum())
        degree = int(adj.degree(torch.tensor([node])))
        assert float(scale[local]) == (degree / k if k else 1.0)
    every = neighbor_sample(adj, torch.tensor(seeds), [-1] * len(fanout))
    assert bool((every.sum_scale(adj) == 1).all())


def test_weighted_sampled_sums_are_unbiased() -> None:
    """The sampled sum weighted by sum_scale averages to the full neighbour sum: on a star of
    30 leaves (2 masked) with fanout 4, the mean over 4,000 draws is within 5 standard errors
    of the exact sum, while the unweighted sampled sum is 7x too small."""
    hub = torch.zeros(30, dtype=torch.long)
    adj = CSR.from_edge_index(torch.stack([hub, torch.arange(1, 31)]))
    adj.mask_edges(torch.tensor([[0, 0], [29, 30]]))
    x = torch.randn(31, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    exact = float(x[1:29].sum())
    generator = torch.Generator().manual_seed(1)
    weighted, raw = [], []
    for _ in range(4000):
        sub = neighbor_sample(adj, torch.tensor([0]), [4], generator=generator)
        source = sub.node[sub.edge_index[0]]
        weight = sub.sum_scale(adj)[sub.edge_index[1]].double()
        weighted.append(float((weight * x[source]).sum()))
        raw.append(float(x[source].sum()))
    values = torch.tensor(weighted, dtype=torch.float64)
    assert abs(float(values.mean()) - exact) < 5 * float(values.std()) / 4000**0.5
    assert float(values.std()) > 0  # a sample, not the whole neighbourhood
    assert abs(float(torch.tensor(raw).mean()) * 7 - exact) < 1.0


def test_the_generator_makes_it_reproducible() -> None:
    adj = CSR.from_edge_index(random_edge_index(200, 2000, 3), 200)
    seeds = torch.arange(0, 200, 7)

    def draw(seed: int) -> SampledSubgraph:
        return neighbor_sample(adj, seeds, [3, 2], generator=torch.Generator().manual_seed(seed))

    first, again, other = draw(5), draw(5), draw(6)
    assert torch.equal(first.node, again.node)
    assert torch.equal(first.edge_index, again.edge_index)
    assert not torch.equal(first.edge, other.edge)


def test_to_csr_carries_messages_from_the_sampled_neighbour() -> None:
    adj = CSR.from_edge_index(random_edge_index(20, 40, 0), 20)
    sub = neighbor_sample(adj, torch.tensor([1, 2]), [2, 2], generator=torch.Generator())
    local = sub.to_csr()
    assert local.num_nodes == sub.num_nodes
    expected = sorted(edges_of(sub))
    assert [tuple(e) for e in local.to_edge_index().t().tolist()] == expected


def test_no_seeds_and_no_neighbours() -> None:
    adj = CSR.from_edge_index(torch.tensor([[0], [1]]), 4)
    alone = neighbor_sample(adj, torch.tensor([0, 2]), [])
    assert alone.node.tolist() == [0, 2]
    assert alone.edge_index.shape == (2, 0)
    empty = neighbor_sample(adj, torch.zeros(0, dtype=torch.long), [2, 2])
    assert empty.node.numel() == 0
    assert empty.edge_index.shape == (2, 0)
    assert empty.num_sampled_nodes == (0, 0, 0)
    lonely = neighbor_sample(adj, torch.tensor([3, 0]), [-1])
    assert lonely.node.tolist() == [3, 0, 1]
    assert edges_of(lonely) == [(2, 1)]


def test_check_fanout() -> None:
    assert check_fanout([15, 10, 5]) == (15, 10, 5)
    assert check_fanout((5,), 3) == (5, 5, 5)
    assert check_fanout((4, -1), 2) == (4, -1)
    with pytest.raises(ValueError, match=r"fanout has 3 values .* num_layers=2"):
        check_fanout((15, 10, 5), 2)
    assert check_fanout((), 0) == ()
    with pytest.raises(ValueError, match=r"fanout has 0 values .* num_layers=1"):
        check_fanout((), 1)
    for bad in ([3, -2], [1.5], "15", [True], 3):
        with pytest.raises(ValueError, match="fanout"):
            check_fanout(bad)  # type: ignore[arg-type]


def test_bad_input_is_named() -> None:
    adj = CSR.from_edge_index(torch.tensor([[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match="seeds must be distinct.*1"):
        neighbor_sample(adj, torch.tensor([1, 0, 1]), [2])
    with pytest.raises(ValueError, match="seeds"):
        neighbor_sample(adj, torch.tensor([5]), [2])
    with pytest.raises(ValueError, match="fanout"):
        neighbor_sample(adj, torch.tensor([0]), [-3])
    with pytest.raises(TypeError, match="adj must be a graphpair.ops.CSR"):
        neighbor_sample(torch.tensor([[0], [1]]), torch.tensor([0]), [1])  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(graphs(max_nodes=15, max_edges=50), st.data())
def test_table_and_search_relabelling_agree(
    graph: tuple[torch.Tensor, int], data: st.DataObject
) -> None:
    """The two relabellings (an [N] table when the sample can reach a sizable share of the
    nodes, binary searches otherwise) give the same subgraph, with or without masked
    entries."""
    edge_index, num_nodes = graph
    adj = CSR.from_edge_index(edge_index, num_nodes)
    seeds = data.draw(
        st.lists(st.integers(0, num_nodes - 1), min_size=1, max_size=num_nodes, unique=True)
    )
    fanout = data.draw(st.lists(st.integers(0, 4), min_size=1, max_size=3))
    seed = data.draw(st.integers(0, 2**31))
    targets = adj.to_edge_index()[:, :: data.draw(st.integers(1, 4))]
    subs = []
    with adj.masked(targets if data.draw(st.booleans()) else targets[:, :0]):
        for share in (0.0, math.inf):  # always the table, never the table
            with mock.patch.object(_sampling, "TABLE_LABELS_MIN_SHARE", share):
                assert _sampling._reaches(len(seeds), fanout, num_nodes) is (share == 0.0)
                generator = torch.Generator().manual_seed(seed)
                subs.append(neighbor_sample(adj, torch.tensor(seeds), fanout, generator=generator))
        check_sample(adj, seeds, fanout, subs[0])
    table, search = subs
    assert torch.equal(table.node, search.node)
    assert torch.equal(table.edge_index, search.edge_index)
    assert torch.equal(table.edge, search.edge)
    assert table.num_sampled_nodes == search.num_sampled_nodes
    assert table.num_sampled_edges == search.num_sampled_edges


def test_table_relabelling_past_the_node_count() -> None:
    """A node first sampled at a position of its hop beyond the number of nodes is still
    numbered (the table's 'not seen' mark is larger than any position)."""
    hubs, shared = list(range(1, 21)), list(range(21, 41))
    edges = [(0, h) for h in hubs] + [(h, s) for h in hubs for s in shared] + [(20, 41)]
    edge_index = torch.tensor(edges).t()
    adj = CSR.from_edge_index(torch.cat([edge_index, edge_index.flip(0)], 1), 42)
    sub = neighbor_sample(adj, torch.tensor([0]), [-1, -1])
    # node 41 is the last entry of hop 2's 420 entries: position 419 > 42 nodes
    assert sub.num_sampled_edges[1] > 400
    nodes, edges_, _, _ = bfs_oracle(adj, [0], 2)
    assert sub.node.tolist() == nodes
    assert edges_of(sub) == edges_
