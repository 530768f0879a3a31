"""The embedded default graph: structure, determinism, and the statistics it promises."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import homophily

from graphpair.data._default_graph import default_graph
from graphpair.data._negative_sampling import negative_sampling
from graphpair.ops import CSR, common_neighbors
from tests.graphs import global_rng_states

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def graphs() -> dict[int, Data]:
    return {seed: default_graph(seed) for seed in SEEDS}


def _degrees(data: Data) -> torch.Tensor:
    return torch.bincount(data.edge_index[0], minlength=data.num_nodes)


@pytest.mark.parametrize("seed", SEEDS)
def test_structure(graphs: dict[int, Data], seed: int) -> None:
    data = graphs[seed]
    n, e = 2708, 5278
    assert data.num_nodes == n
    assert data.x.shape == (n, 1433)
    assert data.x.dtype == torch.float32
    assert set(data.x.unique().tolist()) <= {0.0, 1.0}
    assert data.y.shape == (n,)
    assert data.y.dtype == torch.long
    assert sorted(data.y.unique().tolist()) == list(range(7))
    row, col = data.edge_index
    assert data.edge_index.shape == (2, 2 * e)
    assert not bool((row == col).any())  # no self loops
    key = row * n + col
    assert bool((key[1:] > key[:-1]).all())  # sorted by (row, col), no repeats
    reverse = torch.sort(col * n + row).values
    assert torch.equal(reverse, key)  # every edge in both directions
    assert int((_degrees(data) == 0).sum()) == 0  # no isolated nodes, like Cora


def test_same_seed_same_tensors_and_global_rng_untouched() -> None:
    torch.manual_seed(123)
    before = global_rng_states()
    a, b = default_graph(7), default_graph(7)
    assert global_rng_states() == before
    for key in ("x", "edge_index", "y"):
        assert torch.equal(a[key], b[key])
    c = default_graph(8)
    assert not torch.equal(a.edge_index, c.edge_index)


@pytest.mark.parametrize("seed", SEEDS)
def test_homophily_close_to_cora(graphs: dict[int, Data], seed: int) -> None:
    # Cora's edge homophily is 0.81; the generator aims at 0.80.
    h = homophily(graphs[seed].edge_index, graphs[seed].y, method="edge")
    assert 0.75 <= h <= 0.87


@pytest.mark.parametrize("seed", SEEDS)
def test_heavy_tailed_degrees(graphs: dict[int, Data], seed: int) -> None:
    deg = _degrees(graphs[seed]).double()
    mean = float(deg.mean())
    assert abs(mean - 2 * 5278 / 2708) < 1e-9
    # A Poisson (Erdos-Renyi) graph of this mean degree has a largest degree near 12 and a
    # coefficient of variation of 1 / sqrt(3.9) = 0.51; Cora's are 168 (43 x mean) and 1.3.
    assert float(deg.max()) >= 20 * mean
    assert float(deg.std()) / mean >= 0.9


def _cn_positive_share(adj: CSR, pairs: torch.Tensor) -> float:
    counts = torch.bincount(common_neighbors(adj, pairs).pair_idx, minlength=pairs.size(1))
    return float((counts > 0).double().mean())


@pytest.mark.parametrize("seed", SEEDS)
def test_common_neighbours_carry_link_signal(graphs: dict[int, Data], seed: int) -> None:
    data = graphs[seed]
    n = data.num_nodes
    row, col = data.edge_index
    pairs = data.edge_index[:, row < col]  # each undirected edge once: [2, E]
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(pairs.size(1), generator=gen)
    held = pairs[:, perm[: pairs.size(1) // 10]]
    train = pairs[:, perm[pairs.size(1) // 10 :]]
    adj = CSR.from_edge_index(train, n)
    negatives = negative_sampling(data.edge_index, n, held.size(1), generator=gen)
    pos, neg = _cn_positive_share(adj, held), _cn_positive_share(adj, negatives)
    # Measured: about 0.6 of held-out edges have a common neighbour, about 0.01 of non-edges.
    assert pos >= 0.45
    assert neg <= 0.05
    assert pos >= 10 * max(neg, 0.01)


@pytest.mark.parametrize("seed", SEEDS)
def test_features_sparse_and_community_correlated(graphs: dict[int, Data], seed: int) -> None:
    data = graphs[seed]
    density = float(data.x.mean())
    assert 0.008 <= density <= 0.016  # Cora: 1.27 %
    # Nearest centroid (cosine), centroids from even nodes, scored on odd nodes: far above the
    # majority-class rate, but not a perfect separation (Cora's features are not either).
    fit, held = torch.arange(0, data.num_nodes, 2), torch.arange(1, data.num_nodes, 2)
    centroids = torch.stack([data.x[fit][data.y[fit] == k].mean(0) for k in range(7)])
    centroids = centroids / centroids.norm(dim=1, keepdim=True)
    accuracy = float(
        (torch.argmax(data.x[held] @ centroids.t(), 1) == data.y[held]).double().mean()
    )
    majority = float(torch.bincount(data.y[held]).max()) / held.numel()
    assert accuracy >= majority + 0.3
    assert accuracy <= 0.97


def test_other_sizes() -> None:
    data = default_graph(3, num_nodes=60, num_edges=150, num_classes=3, num_features=40)
    assert data.num_nodes == 60
    assert data.x.shape == (60, 40)
    assert data.edge_index.size(1) == 300
    assert int((_degrees(data) == 0).sum()) == 0
    assert sorted(data.y.unique().tolist()) == [0, 1, 2]
    # The densest allowed graph (a quarter of all pairs), one node per community.
    dense = default_graph(0, num_nodes=10, num_edges=11, num_classes=10, num_features=20)
    assert dense.edge_index.size(1) == 22
    assert torch.equal(torch.sort(dense.y).values, torch.arange(10))
    one = default_graph(0, num_nodes=30, num_edges=40, num_classes=1, num_features=4)
    assert one.edge_index.size(1) == 80
    assert int(one.y.max()) == 0


def test_homophily_parameter_moves_homophily() -> None:
    low = default_graph(0, homophily=0.2)
    high = default_graph(0, homophily=1.0)
    assert homophily(low.edge_index, low.y, method="edge") < 0.4
    assert homophily(high.edge_index, high.y, method="edge") > 0.97


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"seed": -1}, ValueError, "seed must be >= 0; got -1"),
        ({"seed": 1.5}, TypeError, "seed must be an int"),
        ({"num_nodes": 5}, ValueError, "num_nodes must be >= 10; got 5"),
        ({"num_edges": 100}, ValueError, "num_edges must be >= 2708; got 100"),
        ({"num_nodes": 20, "num_edges": 100}, ValueError, "num_edges must be <= 47; got 100"),
        ({"num_classes": 0}, ValueError, "num_classes must be >= 1; got 0"),
        ({"num_features": 3}, ValueError, "num_features must be >= 14; got 3"),
        ({"homophily": 1.5}, ValueError, r"homophily must be in \[0.0, 1.0\]; got 1.5"),
        ({"homophily": "high"}, TypeError, "homophily must be a float"),
        ({"citation_share": -0.1}, ValueError, "citation_share must be in"),
        ({"words_per_node": 0.5}, ValueError, "words_per_node must be in"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        default_graph(**kwargs)
