from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import graphpair.ops._random_walk as rw_module
from graphpair.ops import random_walk_powers
from tests.graphs import graphs, random_edge_index

METHODS = ["sparse", "dense", "auto"]


def dense_reference(
    edge_index: torch.Tensor, num_nodes: int, walk_length: int, weight: torch.Tensor | None = None
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Row-major kept pairs and their K-vectors from dense numpy matrix powers."""
    adj = np.zeros((num_nodes, num_nodes))
    w = np.ones(edge_index.size(1)) if weight is None else weight.double().numpy()
    for (u, v), x in zip(edge_index.t().tolist(), w, strict=True):
        adj[u, v] += x  # duplicates sum
    deg = adj.sum(1, keepdims=True)
    trans = np.divide(adj, deg, out=np.zeros_like(adj), where=deg > 0)
    powers = [np.eye(num_nodes)]
    for _ in range(1, walk_length):
        powers.append(powers[-1] @ trans)
    stack = np.stack(powers, -1)  # [N, N, K]
    keep = np.abs(stack).sum(-1) > 0
    pairs = [(int(i), int(j)) for i, j in zip(*np.nonzero(keep), strict=True)]
    return pairs, stack[keep]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("walk_length", [1, 2, 5])
@pytest.mark.parametrize("seed", range(3))
def test_matches_dense_reference(method: str, walk_length: int, seed: int) -> None:
    num_nodes = 25
    edge_index = random_edge_index(
        num_nodes, 40, seed
    )  # directed, duplicates, self loops, isolated
    out = random_walk_powers(edge_index, walk_length, num_nodes, method=method, dtype=torch.float64)
    pairs, values = dense_reference(edge_index, num_nodes, walk_length)
    assert [tuple(p) for p in out.pair_index.t().tolist()] == pairs
    np.testing.assert_allclose(out.pair_val.numpy(), values, rtol=1e-12, atol=1e-15)
    diagonal = np.stack(
        [
            np.diag(np.linalg.matrix_power(_trans(edge_index, num_nodes), k))
            for k in range(walk_length)
        ],
        -1,
    )
    np.testing.assert_allclose(out.node_val.numpy(), diagonal, rtol=1e-12, atol=1e-15)


def _trans(edge_index: torch.Tensor, num_nodes: int) -> np.ndarray:
    adj = np.zeros((num_nodes, num_nodes))
    np.add.at(adj, (edge_index[0].numpy(), edge_index[1].numpy()), 1.0)
    deg = adj.sum(1, keepdims=True)
    return np.divide(adj, deg, out=np.zeros_like(adj), where=deg > 0)


@pytest.mark.parametrize("method", METHODS)
def test_weighted_edges(method: str) -> None:
    edge_index = random_edge_index(15, 40, 5, self_loops=0)
    weight = torch.rand(
        edge_index.size(1), dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    weight[::7] = 0.0  # zero-weight edges carry no probability
    out = random_walk_powers(edge_index, 4, 15, edge_weight=weight, method=method)
    pairs, values = dense_reference(edge_index, 15, 4, weight)
    assert [tuple(p) for p in out.pair_index.t().tolist()] == pairs
    np.testing.assert_allclose(out.pair_val.numpy(), values, rtol=1e-12)
    assert out.pair_val.dtype == torch.float64


@pytest.mark.parametrize("method", METHODS)
def test_batch_equals_graphs_separately(method: str) -> None:
    parts = [random_edge_index(n, 2 * n, seed) for seed, n in enumerate([6, 1, 9, 4])]
    sizes = [6, 1, 9, 4]
    offsets = np.cumsum([0, *sizes[:-1]]).tolist()
    edge_index = torch.cat([e + o for e, o in zip(parts, offsets, strict=True)], dim=1)
    batch = torch.repeat_interleave(torch.arange(4), torch.tensor(sizes))
    together = random_walk_powers(edge_index, 4, batch=batch, method=method, dtype=torch.float64)
    pair_index, pair_val, node_val = [], [], []
    for e, n, o in zip(parts, sizes, offsets, strict=True):
        alone = random_walk_powers(e, 4, n, method=method, dtype=torch.float64)
        pair_index.append(alone.pair_index + o)
        pair_val.append(alone.pair_val)
        node_val.append(alone.node_val)
    assert torch.equal(together.pair_index, torch.cat(pair_index, 1))
    torch.testing.assert_close(together.pair_val, torch.cat(pair_val))
    torch.testing.assert_close(together.node_val, torch.cat(node_val))


def test_auto_mixes_dense_and_sparse_graphs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rw_module, "RANDOM_WALK_DENSE_MAX_NODES", 5)
    sizes = [4, 8, 3, 7]
    parts = [random_edge_index(n, 3 * n, seed + 20) for seed, n in enumerate(sizes)]
    offsets = np.cumsum([0, *sizes[:-1]]).tolist()
    edge_index = torch.cat([e + o for e, o in zip(parts, offsets, strict=True)], dim=1)
    batch = torch.repeat_interleave(torch.arange(4), torch.tensor(sizes))
    auto = random_walk_powers(edge_index, 5, batch=batch, dtype=torch.float64)
    sparse = random_walk_powers(edge_index, 5, batch=batch, method="sparse", dtype=torch.float64)
    assert torch.equal(auto.pair_index, sparse.pair_index)
    torch.testing.assert_close(auto.pair_val, sparse.pair_val)


def test_auto_switches_to_dense_when_the_reach_fills_the_component(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rw_module, "RANDOM_WALK_DENSE_MAX_NODES", 5)
    calls: list[int] = []
    dense = rw_module._dense_powers

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return dense(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rw_module, "_dense_powers", spy)
    ring = torch.arange(13)
    cycle = torch.stack([torch.cat([ring, (ring + 1) % 13]), torch.cat([(ring + 1) % 13, ring])])
    # K = 10 on an odd 13-cycle: P^9 alone is non-zero on more than half of the 169 pairs, so
    # the sparse attempt stops and dense products take over.
    auto = random_walk_powers(cycle, 10, 13, dtype=torch.float64)
    assert calls == [1]
    sparse = random_walk_powers(cycle, 10, 13, method="sparse", dtype=torch.float64)
    assert torch.equal(auto.pair_index, sparse.pair_index)
    torch.testing.assert_close(auto.pair_val, sparse.pair_val)
    # K = 3 reaches 5 of 13 nodes per row: the sparse path finishes on its own.
    calls.clear()
    short = random_walk_powers(cycle, 3, 13, dtype=torch.float64)
    assert calls == []
    pairs, _ = dense_reference(cycle, 13, 3)
    assert [tuple(p) for p in short.pair_index.t().tolist()] == pairs


@given(
    graph=graphs(max_nodes=10, max_edges=30),
    walk_length=st.integers(1, 6),
    method=st.sampled_from(METHODS),
)
def test_rows_sum_to_one_on_nodes_with_out_edges(
    graph: tuple[torch.Tensor, int], walk_length: int, method: str
) -> None:
    edge_index, num_nodes = graph
    out = random_walk_powers(edge_index, walk_length, num_nodes, method=method, dtype=torch.float64)
    rows = torch.zeros(num_nodes, walk_length, dtype=torch.float64).index_add_(
        0, out.pair_index[0], out.pair_val
    )
    has_out = torch.bincount(edge_index[0], minlength=num_nodes) > 0
    # Channel 0 is the identity; channel 1 sums to 1 exactly where a node has out-edges.
    assert torch.allclose(rows[:, 0], torch.ones(num_nodes, dtype=torch.float64))
    if walk_length > 1:
        assert torch.allclose(rows[has_out, 1], torch.ones_like(rows[has_out, 1]))
        assert torch.all(rows[~has_out, 1] == 0)
    if bool(has_out.all()):  # closed under walking: every channel is stochastic
        assert torch.allclose(rows, torch.ones_like(rows))
    assert torch.all(out.pair_val >= 0)
    assert bool((out.pair_val != 0).any(1).all())  # only reachable pairs are kept
    assert torch.equal(out.node_val[:, 0], torch.ones(num_nodes, dtype=torch.float64))


def test_node_part_matches_pyg_random_walk_pe() -> None:
    from torch_geometric.data import Data
    from torch_geometric.transforms import AddRandomWalkPE

    edge_index = random_edge_index(20, 30, 3, duplicates=0, self_loops=0)
    edge_index = torch.unique(torch.cat([edge_index, edge_index.flip(0)], 1), dim=1)
    data = AddRandomWalkPE(walk_length=6, attr_name="pe")(Data(edge_index=edge_index, num_nodes=20))
    out = random_walk_powers(edge_index, 7, 20)
    torch.testing.assert_close(out.node_val[:, 1:], data.pe)


def test_dense_path_refuses_oversized_graphs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rw_module, "RANDOM_WALK_DENSE_MAX_BYTES", 1000)
    ring = torch.arange(20)
    edge_index = torch.stack([ring, (ring + 1) % 20])  # one component of 20 nodes
    with pytest.raises(ValueError, match=r"method='dense' needs a \[20, 20, 3\] stack of 0 MiB"):
        random_walk_powers(edge_index, 3, 20, method="dense")
    # 'auto' never raises: a graph over the byte limit goes to the sparse path.
    auto = random_walk_powers(edge_index, 3, 20, dtype=torch.float64)
    sparse = random_walk_powers(edge_index, 3, 20, method="sparse", dtype=torch.float64)
    assert torch.equal(auto.pair_index, sparse.pair_index)


@pytest.mark.parametrize("method", METHODS)
def test_interleaved_components(method: str) -> None:
    # Two components whose nodes alternate (evens, odds) plus isolated node 9: the op
    # renumbers components into contiguous ranges internally and must undo it exactly.
    evens = torch.tensor([[0, 2, 4, 6, 8, 2], [2, 4, 6, 8, 0, 6]])
    odds = torch.tensor([[1, 3, 5, 7], [3, 5, 7, 1]])
    edge_index = torch.cat([evens, odds], 1)
    out = random_walk_powers(edge_index, 5, 11, method=method, dtype=torch.float64)
    pairs, values = dense_reference(edge_index, 11, 5)
    assert [tuple(p) for p in out.pair_index.t().tolist()] == pairs
    np.testing.assert_allclose(out.pair_val.numpy(), values, rtol=1e-12)


@given(graph=graphs(max_nodes=30, max_edges=25))
def test_components_match_networkx(graph: tuple[torch.Tensor, int]) -> None:
    import networkx as nx

    edge_index, num_nodes = graph
    label = rw_module._components(edge_index[0], edge_index[1], num_nodes)
    g = nx.Graph()
    g.add_nodes_from(range(num_nodes))
    g.add_edges_from(edge_index.t().tolist())
    for component in nx.connected_components(g):
        members = torch.tensor(sorted(component))
        assert label[members].unique().numel() == 1  # one label per component ...
        assert int(label[members[0]]) in component  # ... naming one of its nodes
    assert label.unique().numel() == nx.number_connected_components(g)  # distinct across


def test_components_of_a_long_chain() -> None:
    chain = torch.arange(9999)
    label = rw_module._components(chain, chain + 1, 10_000)
    assert torch.all(label == label[0])


def test_empty_and_single_node_graphs() -> None:
    none = random_walk_powers(torch.empty(2, 0, dtype=torch.long), 3, 0)
    assert none.pair_index.shape == (2, 0)
    assert none.pair_val.shape == (0, 3)
    assert none.node_val.shape == (0, 3)
    single = random_walk_powers(torch.empty(2, 0, dtype=torch.long), 3, 1)
    assert single.pair_index.tolist() == [[0], [0]]
    assert single.pair_val.tolist() == [[1.0, 0.0, 0.0]]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"walk_length": 0}, ValueError, "walk_length must be >= 1; got 0"),
        ({"walk_length": 2.5}, TypeError, "walk_length must be an int"),
        ({"method": "exact"}, ValueError, "method must be one of"),
        (
            {"edge_index": torch.tensor([[0.0], [1.0]])},
            ValueError,
            "edge_index must have an integer dtype",
        ),
        (
            {"edge_index": torch.tensor([[0], [5]]), "num_nodes": 3},
            ValueError,
            "edge_index entries must be < 3",
        ),
        (
            {"edge_weight": torch.tensor([1.0, 2.0])},
            ValueError,
            "edge_weight must have one entry per edge \\(3\\); got 2",
        ),
        (
            {"edge_weight": torch.tensor([1.0, -2.0, 1.0])},
            ValueError,
            "edge_weight must be non-negative; found -2.0",
        ),
        (
            {"edge_weight": torch.tensor([1.0, float("nan"), 1.0])},
            ValueError,
            "edge_weight must be finite",
        ),
        ({"batch": torch.tensor([0, 1, 1, 1])}, ValueError, "edges between different graphs"),
        ({"batch": torch.tensor([1, 0, 0, 0])}, ValueError, "batch must be sorted"),
        (
            {"batch": torch.tensor([0, 0, 0]), "num_nodes": 4},
            ValueError,
            "batch must have 4 entries; got 3",
        ),
        ({"dtype": torch.long}, ValueError, "dtype must be a floating dtype"),
    ],
)
def test_rejects_bad_input(kwargs: dict[str, object], error: type, message: str) -> None:
    args: dict[str, object] = {"edge_index": torch.tensor([[0, 1, 2], [1, 2, 3]]), "walk_length": 3}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        random_walk_powers(**args)  # type: ignore[arg-type]


@pytest.mark.cuda
@pytest.mark.parametrize("method", ["sparse", "dense"])
def test_cuda_matches_cpu(method: str) -> None:
    edge_index = random_edge_index(40, 100, 0)
    cpu = random_walk_powers(edge_index, 5, 40, method=method, dtype=torch.float64)
    gpu = random_walk_powers(edge_index.cuda(), 5, 40, method=method, dtype=torch.float64)
    assert torch.equal(gpu.pair_index.cpu(), cpu.pair_index)
    torch.testing.assert_close(gpu.pair_val.cpu(), cpu.pair_val)
