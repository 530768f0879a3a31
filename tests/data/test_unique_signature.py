"""UniqueSignature: label rule, reference streams, published positive rates, split."""

from __future__ import annotations

import math
import random
from typing import Any

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from graphpair.data._unique_signature import (
    PUBLISHED_POSITIVE_RATE,
    unique_signature_graphs,
    unique_signature_split,
)
from tests.graphs import global_rng_states


def _naive_labels(g: Data) -> list[int]:
    """The rule as stated: a neighbour whose value equals the neighbourhood sum."""
    neighbours: dict[int, list[int]] = {u: [] for u in range(g.num_nodes)}
    for u, v in g.edge_index.t().tolist():
        neighbours[u].append(v)
    x = [int(v) for v in g.x.flatten().tolist()]
    labels = []
    for u in range(g.num_nodes):
        total = sum(x[w] for w in neighbours[u])
        labels.append(int(any(x[v] == total for v in neighbours[u])))
    return labels


@pytest.mark.parametrize(("p", "num_features"), [(0.3, 3), (0.5, 5), (0.7, 7), (0.05, 2)])
def test_labels_match_a_plain_loop(p: float, num_features: int) -> None:
    for g in unique_signature_graphs(p, num_features, num_graphs=15):
        assert g.y.tolist() == _naive_labels(g)


def test_graph_format() -> None:
    for g in unique_signature_graphs(0.5, 5, num_graphs=20):
        n = g.num_nodes
        assert 30 <= n <= 70
        assert g.x.shape == (n, 1)
        assert g.x.dtype == torch.float32
        assert set(g.x.flatten().tolist()) <= {-2.0, -1.0, 0.0, 1.0, 2.0}
        assert g.y.dtype == torch.long
        assert set(g.y.tolist()) <= {0, 1}
        row, col = g.edge_index
        assert not bool((row == col).any())
        key = row * n + col
        assert bool((key[1:] > key[:-1]).all())
        assert torch.equal(torch.sort(col * n + row).values, key)
    # F = 4: values randint(0, 4) - 2, i.e. {-2, -1, 0, 1}.
    values = torch.cat([g.x for g in unique_signature_graphs(0.5, 4, num_graphs=10)])
    assert set(values.flatten().tolist()) == {-2.0, -1.0, 0.0, 1.0}


@pytest.mark.parametrize("p", [0.3, 0.7])
def test_streams_are_the_reference_procedure(p: float) -> None:
    """Graph i is what the reference draws after seeding Python, numpy and torch with i."""
    graphs = unique_signature_graphs(p, 5, num_graphs=8)
    for i, g in enumerate(graphs):
        n = int(np.random.RandomState(i).randint(30, 71))
        assert g.num_nodes == n
        reference = nx.gnp_random_graph(n, p, seed=random.Random(i))
        assert {(min(e), max(e)) for e in reference.edges} == {
            (u, v) for u, v in g.edge_index.t().tolist() if u < v
        }
        with torch.random.fork_rng():
            torch.manual_seed(i)
            x = torch.randint(low=0, high=5, size=(n, 1)).float() - 5 // 2
        assert torch.equal(g.x, x)


def test_reproduces_the_published_dataset_exactly() -> None:
    # All 5,000 graphs of the (p = 0.5, F = 5) cell: the reference README reports 0.2810.
    graphs = unique_signature_graphs(0.5, 5)
    positive = sum(int(g.y.sum()) for g in graphs) / sum(g.num_nodes for g in graphs)
    assert round(positive, 4) == PUBLISHED_POSITIVE_RATE[(0.5, 5)]


@pytest.mark.parametrize(("p", "num_features"), sorted(PUBLISHED_POSITIVE_RATE))
def test_positive_rate_matches_published(p: float, num_features: int) -> None:
    graphs = unique_signature_graphs(p, num_features, num_graphs=250)
    pos = np.array([int(g.y.sum()) for g in graphs], dtype=float)
    nodes = np.array([g.num_nodes for g in graphs], dtype=float)
    rate = pos.sum() / nodes.sum()
    # Ratio estimator over independent graphs (labels within a graph are correlated).
    se = math.sqrt(((pos - rate * nodes) ** 2).sum()) / nodes.sum()
    published = PUBLISHED_POSITIVE_RATE[(p, num_features)]
    assert abs(rate - published) <= 4 * se
    assert 0.2 <= rate <= 0.4  # the paper: 0.23-0.37 over the grid


def test_deterministic_seed_offset_and_global_rng_untouched() -> None:
    torch.manual_seed(2)
    state = global_rng_states()
    a = unique_signature_graphs(0.5, 3, num_graphs=6)
    b = unique_signature_graphs(0.5, 3, num_graphs=3, seed=3)
    after = global_rng_states()
    assert after == state
    for x, y in zip(a[3:], b, strict=True):
        for key in ("x", "edge_index", "y"):
            assert torch.equal(x[key], y[key])


def test_edge_probability_limits() -> None:
    for g in unique_signature_graphs(0.0, 5, num_graphs=3):
        assert g.edge_index.size(1) == 0
        assert int(g.y.sum()) == 0
    for g in unique_signature_graphs(1.0, 5, num_graphs=3):
        assert g.edge_index.size(1) == g.num_nodes * (g.num_nodes - 1)


def test_split() -> None:
    split = unique_signature_split(5000)
    assert torch.equal(split["train"], torch.arange(4000))
    assert torch.equal(split["test"], torch.arange(4000, 5000))
    small = unique_signature_split(7)
    assert small["train"].numel() == 5
    assert small["test"].tolist() == [5, 6]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((1.5, 5), {}, ValueError, r"p must be in \[0, 1\]; got 1.5"),
        (("a", 5), {}, TypeError, "p must be a float"),
        ((0.5, 0), {}, ValueError, "num_features must be >= 1; got 0"),
        ((0.5, 5), {"num_graphs": 0}, ValueError, "num_graphs must be >= 1; got 0"),
        ((0.5, 5), {"seed": -1}, ValueError, "seed must be >= 0; got -1"),
        ((0.5, 5), {"min_nodes": 0}, ValueError, "min_nodes must be >= 1; got 0"),
        ((0.5, 5), {"min_nodes": 9, "max_nodes": 8}, ValueError, "max_nodes must be >= 9; got 8"),
        ((0.5, 5), {"max_nodes": 10_001}, ValueError, "max_nodes must be <= 10000; got 10001"),
        ((0.5, 5), {"seed": 2**32}, ValueError, r"seed \+ num_graphs - 1 must be <= 4294967295"),
    ],
)
def test_bad_arguments(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        unique_signature_graphs(*args, **kwargs)


def test_bad_split_argument() -> None:
    with pytest.raises(ValueError, match="num_graphs must be >= 1; got 0"):
        unique_signature_split(0)
