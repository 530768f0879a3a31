"""SBM PATTERN and CLUSTER generators against the published statistics and their parameters.

Published values (PyG ``GNNBenchmarkDataset`` table, Dwivedi et al.): PATTERN 118.9 nodes per
graph and a positive share of 0.1765 on its train split; CLUSTER 117.2 nodes and 4,303.9
directed edges per graph. Tolerances are four standard errors of the difference between our
sample mean and the published one, from the generating distribution (community sizes uniform on
5..34: standard deviation sqrt((30**2 - 1) / 12) = 8.655 per community or pattern).
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from graphpair.data._dataset import GraphSet
from graphpair.data._sbm import cluster_graphs, pattern_graphs
from tests.graphs import global_rng_states

NUM_GRAPHS = 300
SIZE_SD = math.sqrt((30**2 - 1) / 12)  # sd of a size uniform on 5..34


@pytest.fixture(scope="module")
def pattern() -> list[Data]:
    return pattern_graphs(NUM_GRAPHS, seed=0)


@pytest.fixture(scope="module")
def cluster() -> list[Data]:
    return cluster_graphs(NUM_GRAPHS, seed=0)


def _check_graph(g: Data, num_values: int) -> None:
    n = g.num_nodes
    assert g.x.shape == (n, num_values)
    assert g.x.dtype == torch.float32
    assert torch.equal(g.x.sum(1), torch.ones(n))  # one-hot
    assert g.y.shape == (n,)
    assert g.y.dtype == torch.long
    row, col = g.edge_index
    assert not bool((row == col).any())
    key = row * n + col
    assert bool((key[1:] > key[:-1]).all())  # sorted, no repeats
    assert torch.equal(torch.sort(col * n + row).values, key)  # symmetric


def _within(value: float, target: float, se: float, name: str) -> None:
    assert abs(value - target) <= 4 * se, (
        f"{name}: {value:.4f} vs {target:.4f} (4 se = {4 * se:.4f})"
    )


# ------------------------------------------------------------------------------------ PATTERN


def test_pattern_structure(pattern: list[Data]) -> None:
    assert len(pattern) == NUM_GRAPHS
    for g in pattern:
        _check_graph(g, 3)
        assert set(g.y.tolist()) == {0, 1}
        m = int(g.y.sum())
        assert 5 <= m <= 34
        assert 25 <= g.num_nodes - m <= 170


def test_pattern_mean_nodes_matches_published(pattern: list[Data]) -> None:
    nodes = np.array([g.num_nodes for g in pattern], dtype=float)
    # Ours: 5 community sizes per graph (300 graphs) plus the mean of 100 pattern sizes. The
    # published mean also carries its own draw of 100 pattern sizes (and 14,000 graphs).
    pattern_mean_sd = SIZE_SD / math.sqrt(100)
    ours_sd = math.hypot(SIZE_SD * math.sqrt(5 / NUM_GRAPHS), pattern_mean_sd)
    published_sd = math.hypot(SIZE_SD * math.sqrt(5 / 14_000), pattern_mean_sd)
    _within(float(nodes.mean()), 118.9, math.hypot(ours_sd, published_sd), "PATTERN nodes")
    # Against the expectation given our own pattern draw, only the community part is random.
    patterns = [int(pattern[k].y.sum()) for k in range(100)]
    expected = 5 * 19.5 + float(np.mean(patterns))
    _within(float(nodes.mean()), expected, SIZE_SD * math.sqrt(5 / NUM_GRAPHS), "given draw")


def test_pattern_class_balance_matches_published(pattern: list[Data]) -> None:
    positive = sum(int(g.y.sum()) for g in pattern) / sum(g.num_nodes for g in pattern)
    # share = M / (C + M) with C ~ 97.5 community nodes and M ~ 19.5 pattern nodes; its
    # sensitivity to the mean pattern size is C / (C + M)**2, to the community mean M / (C + M)**2.
    dm, dc = 97.5 / 117.0**2, 19.5 / 117.0**2
    pattern_part = dm * SIZE_SD / math.sqrt(100)
    ours = math.hypot(pattern_part, dc * SIZE_SD * math.sqrt(5 / NUM_GRAPHS))
    published = math.hypot(pattern_part, dc * SIZE_SD * math.sqrt(5 / 10_000))
    _within(positive, 0.1765, math.hypot(ours, published), "PATTERN positive share")


def test_pattern_parameters(pattern: list[Data]) -> None:
    first = pattern[:100]  # one graph per pattern instance
    # Pattern-to-community links: fresh Bernoulli(q_pattern = 0.5) pairs in every graph.
    links = pairs = 0
    inner = inner_pairs = 0
    for g in first:  # numpy: many tiny torch ops are slow on small CPUs
        pos = g.y.numpy().astype(bool)
        row, col = g.edge_index.numpy()
        m = int(pos.sum())
        links += int((pos[row] & ~pos[col]).sum())
        pairs += m * (g.num_nodes - m)
        inner += int((pos[row] & pos[col]).sum()) // 2
        inner_pairs += m * (m - 1) // 2
    # Pattern edges: one G(m, 0.5) per instance (100 instances).
    _within(inner / inner_pairs, 0.5, math.sqrt(0.25 / inner_pairs), "p_pattern")
    # Community-node features: independent, uniform on {0, 1, 2}.
    counts = torch.cat([g.x[g.y == 0] for g in pattern]).sum(0)
    total = float(counts.sum())
    for c in counts.tolist():
        _within(c / total, 1 / 3, math.sqrt(2 / 9 / total), "feature share")


def _pattern_subgraph(g: Data) -> nx.Graph:
    nodes = torch.nonzero(g.y).flatten()
    index = {int(v): i for i, v in enumerate(nodes)}
    sub = nx.Graph()
    for v in nodes.tolist():
        sub.add_node(index[v], f=int(g.x[v].argmax()))
    for u, v in g.edge_index.t().tolist():
        if u in index and v in index:
            sub.add_edge(index[u], index[v])
    return sub


def test_graphs_sharing_an_instance_share_the_pattern(pattern: list[Data]) -> None:
    same = nx.algorithms.isomorphism.categorical_node_match("f", None)
    for k in (0, 1, 2, 57):
        a, b, c = (_pattern_subgraph(pattern[k + j]) for j in (0, 100, 200))
        assert nx.is_isomorphic(a, b, node_match=same)
        assert nx.is_isomorphic(a, c, node_match=same)
    sizes = [int(g.y.sum()) for g in pattern[:100]]
    assert len(set(sizes)) > 10  # instances differ in size (uniform on 5..34)


# ------------------------------------------------------------------------------------ CLUSTER


def test_cluster_structure(cluster: list[Data]) -> None:
    assert len(cluster) == NUM_GRAPHS
    for g in cluster:
        _check_graph(g, 7)
        sizes = torch.bincount(g.y, minlength=6)
        assert sizes.numel() == 6
        assert int(sizes.min()) >= 5
        assert int(sizes.max()) <= 34
        feature = g.x.argmax(1)
        # Exactly one seed node per community, carrying its community + 1.
        seeds = torch.nonzero(feature).flatten()
        assert sorted((feature[seeds] - 1).tolist()) == list(range(6))
        assert torch.equal(feature[seeds] - 1, g.y[seeds])


def test_cluster_mean_nodes_and_edges_match_published(cluster: list[Data]) -> None:
    nodes = np.array([g.num_nodes for g in cluster], dtype=float)
    per_graph = SIZE_SD * math.sqrt(6)
    se = per_graph * math.sqrt(1 / NUM_GRAPHS + 1 / 12_000)
    _within(float(nodes.mean()), 117.2, se, "CLUSTER nodes")
    edges = np.array([g.edge_index.size(1) for g in cluster], dtype=float)
    se = float(edges.std(ddof=1)) * math.sqrt(1 / NUM_GRAPHS + 1 / 12_000)
    _within(float(edges.mean()), 4303.9, se, "CLUSTER directed edges")


def test_cluster_parameters_and_balance(cluster: list[Data]) -> None:
    intra = intra_pairs = inter = inter_pairs = 0
    for g in cluster:
        y = g.y.numpy()
        row, col = g.edge_index.numpy()
        same = y[row] == y[col]
        intra += int(same.sum()) // 2
        inter += int((~same).sum()) // 2
        within = sum(s * (s - 1) // 2 for s in np.bincount(y).tolist())
        intra_pairs += within
        inter_pairs += g.num_nodes * (g.num_nodes - 1) // 2 - within
    # Pairs are independent Bernoulli draws given the sizes: binomial standard errors.
    _within(intra / intra_pairs, 0.55, math.sqrt(0.55 * 0.45 / intra_pairs), "p")
    _within(inter / inter_pairs, 0.25, math.sqrt(0.25 * 0.75 / inter_pairs), "q")
    # Classes balanced in expectation: each community's share of the nodes is about 1/6.
    shares = np.stack([np.bincount(g.y.numpy(), minlength=6) / g.num_nodes for g in cluster])
    for share, sd in zip(shares.mean(0), shares.std(0, ddof=1), strict=True):
        _within(float(share), 1 / 6, float(sd) / math.sqrt(NUM_GRAPHS), "class share")


# ------------------------------------------------------------------------------------- shared


@pytest.mark.parametrize("generate", [pattern_graphs, cluster_graphs])
def test_deterministic_prefix_and_global_rng_untouched(generate: Any) -> None:
    torch.manual_seed(11)
    before = global_rng_states()
    a, b = generate(20, seed=4), generate(5, seed=4)
    assert global_rng_states() == before
    for x, y in zip(a[:5], b, strict=True):
        for key in ("x", "edge_index", "y"):
            assert torch.equal(x[key], y[key])
    c = generate(5, seed=5)
    assert not any(torch.equal(x.edge_index, y.edge_index) for x, y in zip(b, c, strict=True))


@pytest.mark.parametrize("generate", [pattern_graphs, cluster_graphs])
def test_graph_set_can_collate_and_cache(generate: Any) -> None:
    graphs = generate(4, seed=0)
    storage = GraphSet(graphs).to_storage()  # the registry's processed-data cache
    rebuilt = GraphSet.from_storage(storage)
    assert torch.equal(rebuilt[3].edge_index, graphs[3].edge_index)


def test_other_parameters() -> None:
    graphs = cluster_graphs(3, seed=1, num_communities=2, community_size=(3, 3), p=1.0, q=0.0)
    for g in graphs:
        assert g.num_nodes == 6
        assert g.x.size(1) == 3
        assert g.edge_index.size(1) == 2 * 2 * 3  # two triangles
    graphs = pattern_graphs(2, seed=1, num_patterns=1, pattern_size=(4, 4), vocab_size=5)
    assert all(int(g.y.sum()) == 4 and g.x.size(1) == 5 for g in graphs)


@pytest.mark.parametrize(
    ("generate", "kwargs", "error", "match"),
    [
        (pattern_graphs, {"num_graphs": 0}, ValueError, "num_graphs must be >= 1; got 0"),
        (pattern_graphs, {"seed": -1}, ValueError, "seed must be >= 0; got -1"),
        (pattern_graphs, {"p": 1.2}, ValueError, r"p must be in \[0, 1\]; got 1.2"),
        (pattern_graphs, {"q_pattern": "x"}, TypeError, "q_pattern must be a float"),
        (pattern_graphs, {"num_patterns": 0}, ValueError, "num_patterns must be >= 1; got 0"),
        (pattern_graphs, {"pattern_size": (9, 3)}, ValueError, r"pattern_size must be .* \(9, 3\)"),
        (pattern_graphs, {"vocab_size": 0}, ValueError, "vocab_size must be >= 1; got 0"),
        (cluster_graphs, {"community_size": (0, 3)}, ValueError, "community_size must be a pair"),
        (cluster_graphs, {"q": -0.5}, ValueError, r"q must be in \[0, 1\]; got -0.5"),
        (cluster_graphs, {"num_communities": 0}, ValueError, "num_communities must be >= 1"),
        (
            cluster_graphs,
            {"num_communities": 400},
            ValueError,
            r"num_communities=400 and community_size=\(5, 34\) allow graphs of 13600 nodes",
        ),
        (
            pattern_graphs,
            {"pattern_size": (5, 9999)},
            ValueError,
            "allow graphs of 10169 nodes, above SBM_MAX_NODES = 10000",
        ),
    ],
)
def test_bad_arguments(
    generate: Any, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    kwargs = {"num_graphs": 2, **kwargs}
    with pytest.raises(error, match=match):
        generate(**kwargs)
