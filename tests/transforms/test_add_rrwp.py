from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from graphpair.transforms import AddRRWP, locate_pairs, rrwp
from tests.graphs import random_edge_index

K = 5


def dense_powers(edge_index: Tensor, n: int, weight: Tensor | None = None) -> np.ndarray:
    """``[K, n, n]`` powers I, P, ..., P^(K-1) of P = D^-1 A from numpy (duplicates summed)."""
    adj = np.zeros((n, n))
    w = np.ones(edge_index.size(1)) if weight is None else weight.double().numpy()
    np.add.at(adj, (edge_index[0].numpy(), edge_index[1].numpy()), w)
    deg = adj.sum(1, keepdims=True)
    trans = np.divide(adj, deg, out=np.zeros_like(adj), where=deg > 0)
    powers = [np.eye(n)]
    for _ in range(1, K):
        powers.append(powers[-1] @ trans)
    return np.stack(powers)


def expected_pairs(
    edge_index: Tensor, n: int, walk_from: str, full: bool, weight: Tensor | None = None
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """(source, target) pairs sorted by (target, source), and their K-vectors."""
    powers = dense_powers(edge_index, n, weight)
    edges = {tuple(e) for e in edge_index.t().tolist()}
    pairs, values = [], []
    for t in range(n):
        for s in range(n):
            vec = powers[:, t, s] if walk_from == "target" else powers[:, s, t]
            if full or np.abs(vec).sum() > 0 or (s, t) in edges:
                pairs.append((s, t))
                values.append(vec)
    return pairs, np.array(values).reshape(-1, K)


@pytest.mark.parametrize("walk_from", ["target", "source"])
@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_matches_dense_matrix_powers(walk_from: str, full: bool, weighted: bool, seed: int) -> None:
    # Directed edges, duplicates, self loops, two isolated nodes, usually several components.
    n = 9
    edge_index = random_edge_index(n, 8, seed)
    weight = None
    if weighted:
        gen = torch.Generator().manual_seed(seed)
        weight = torch.rand(edge_index.size(1), generator=gen, dtype=torch.float64) + 0.1
    data = Data(edge_index=edge_index, num_nodes=n)
    if weight is not None:
        data.edge_weight = weight
    out = AddRRWP(K, full_pairs=full, walk_from=walk_from)(data)
    pairs, values = expected_pairs(edge_index, n, walk_from, full, weight)
    assert [tuple(p) for p in out.rrwp_index.t().tolist()] == pairs
    np.testing.assert_allclose(out.rrwp_val.double().numpy(), values, rtol=1e-6, atol=1e-7)
    powers = dense_powers(edge_index, n, weight)
    diagonal = np.stack([np.diag(p) for p in powers], -1)
    np.testing.assert_allclose(out.rrwp.double().numpy(), diagonal, rtol=1e-6, atol=1e-7)
    degree = np.bincount(edge_index[0].numpy(), minlength=n)
    np.testing.assert_allclose(out.log_deg.numpy(), np.log1p(degree), rtol=1e-6)
    assert out.rrwp[:, 0].eq(1).all()  # channel 0 is the identity


def test_orientation_on_a_path() -> None:
    # 0 - 1 - 2: P[0, 1] = 1 and P[1, 0] = 1/2. Pair (source 1, target 0) sees the walk from
    # its target 0 (walk_from='target') or from its source 1 (walk_from='source').
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    pairs = torch.tensor([[1], [0]])
    for walk_from, expected in (("target", 1.0), ("source", 0.5)):
        out = rrwp(edge_index, 3, walk_from=walk_from)
        slot = int(locate_pairs(out.pair_index, pairs, 3))
        assert out.pair_val[slot, 1].item() == pytest.approx(expected)


def test_full_pairs_cover_every_ordered_pair_with_zeros_where_unreachable() -> None:
    # Two components {0, 1} and {2, 3} in one graph, and K = 2 reaches only one hop.
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
    out = rrwp(edge_index, 2)
    assert out.pair_index.size(1) == 16
    cross = (out.pair_index < 2).sum(0) == 1
    assert out.pair_val[cross].eq(0).all()
    assert out.pair_val[~cross].abs().sum(1).gt(0).all()
    sparse = rrwp(edge_index, 2, full_pairs=False)
    assert sparse.pair_index.size(1) == 8


def test_sparse_pairs_keep_edges_that_no_walk_reaches() -> None:
    # 0 -> 1 only: walking from the target 1 never reaches 0, yet the edge needs its pair.
    edge_index = torch.tensor([[0], [1]])
    out = rrwp(edge_index, 3, full_pairs=False)
    slot = locate_pairs(out.pair_index, edge_index, 2)
    assert int(slot) >= 0
    assert out.pair_val[slot].eq(0).all()
    # The self pairs, the reached pair (source 1, target 0) and the edge (source 0, target 1).
    assert out.pair_index.tolist() == [[0, 1, 0, 1], [0, 0, 1, 1]]


def graph_list() -> list[Data]:
    graphs = []
    for seed, n in enumerate([4, 1, 7, 3, 5]):
        edge_index = random_edge_index(n, 2 * n, seed, isolated=1 if n > 3 else 0)
        graphs.append(Data(edge_index=edge_index, x=torch.randn(n, 2), num_nodes=n))
    return graphs


@pytest.mark.parametrize("full", [True, False])
def test_batch_equals_graphs_separately(full: bool) -> None:
    transform = AddRRWP(K, full_pairs=full)
    graphs = [transform(g) for g in graph_list()]
    batch = Batch.from_data_list(graphs)
    offset, parts_index, parts_val = 0, [], []
    for g in graphs:
        parts_index.append(g.rrwp_index + offset)
        parts_val.append(g.rrwp_val)
        offset += g.num_nodes
    assert torch.equal(batch.rrwp_index, torch.cat(parts_index, 1))
    assert torch.equal(batch.rrwp_val, torch.cat(parts_val))
    assert torch.equal(batch.rrwp, torch.cat([g.rrwp for g in graphs]))
    # Still sorted by (target, source) after batching ...
    keys = batch.rrwp_index[1] * batch.num_nodes + batch.rrwp_index[0]
    assert bool((keys[1:] > keys[:-1]).all())
    # ... equal to the functional form on the batch ...
    direct = rrwp(batch.edge_index, K, batch.num_nodes, batch=batch.batch, full_pairs=full)
    assert torch.equal(direct.pair_index, batch.rrwp_index)
    torch.testing.assert_close(direct.pair_val, batch.rrwp_val)
    torch.testing.assert_close(direct.log_deg, batch.log_deg)
    # ... and the batch splits back into the graphs.
    for original, back in zip(graphs, batch.to_data_list(), strict=True):
        assert torch.equal(original.rrwp_index, back.rrwp_index)


def test_transform_on_a_batch_keeps_pairs_inside_graphs() -> None:
    batch = Batch.from_data_list(graph_list())
    out = AddRRWP(K)(batch)
    graph_of = batch.batch[out.rrwp_index]
    assert torch.equal(graph_of[0], graph_of[1])
    sizes = torch.bincount(batch.batch)
    assert out.rrwp_index.size(1) == int((sizes**2).sum())


def test_transform_leaves_its_input_alone_and_names_are_configurable() -> None:
    data = graph_list()[0]
    keys = set(data.keys())
    out = AddRRWP(3, attr_name="walk", deg_attr="logd")(data)
    assert set(data.keys()) == keys
    assert {"walk", "walk_index", "walk_val", "logd"} <= set(out.keys())


def test_unweighted_when_weight_attr_is_none() -> None:
    data = graph_list()[2]
    data.edge_weight = torch.rand(data.edge_index.size(1)) + 0.5
    plain = AddRRWP(K, weight_attr=None)(data)
    expected = rrwp(data.edge_index, K, data.num_nodes)
    torch.testing.assert_close(plain.rrwp_val, expected.pair_val)
    weighted = AddRRWP(K)(data)
    assert not torch.allclose(weighted.rrwp_val, plain.rrwp_val)


def test_locate_pairs() -> None:
    pair_index = torch.tensor([[0, 2, 1, 0], [0, 0, 1, 2]])
    query = torch.tensor([[2, 1, 0, 1], [0, 1, 2, 2]])
    assert locate_pairs(pair_index, query, 3).tolist() == [1, 2, 3, -1]
    assert locate_pairs(pair_index[:, :0], query, 3).tolist() == [-1] * 4
    with pytest.raises(ValueError, match="sorted by \\(target, source\\)"):
        locate_pairs(pair_index.flip(1), query, 3)


def test_errors_and_repr() -> None:
    with pytest.raises(ValueError, match="attr_name must not contain 'index'"):
        AddRRWP(attr_name="my_index")
    with pytest.raises(ValueError, match="walk_from must be one of"):
        AddRRWP(walk_from="both")
    with pytest.raises(ValueError, match="walk_length must be >= 1"):
        AddRRWP(0)
    with pytest.raises(ValueError, match="deg_attr 'rrwp' collides"):
        AddRRWP(deg_attr="rrwp")
    with pytest.raises(ValueError, match="edge_index"):
        AddRRWP()(Data(x=torch.ones(2, 1)))
    assert repr(AddRRWP(7)) == (
        "AddRRWP(walk_length=7, full_pairs=True, walk_from='target', attr_name='rrwp')"
    )


def test_empty_and_edgeless_graphs() -> None:
    out = AddRRWP(3)(Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=3))
    assert out.rrwp_index.size(1) == 9
    assert out.rrwp_val[:, 0].sum() == 3  # only the self pairs have a walk (of length 0)
    sparse = AddRRWP(3, full_pairs=False)(
        Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=3)
    )
    assert sparse.rrwp_index.tolist() == [[0, 1, 2], [0, 1, 2]]
    none = AddRRWP(3)(Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=0))
    assert none.rrwp_index.shape == (2, 0)
    assert none.rrwp.shape == (0, 3)


@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize("chunk_size", [1, 2, 100])
def test_apply_all_equals_graph_by_graph(full: bool, chunk_size: int) -> None:
    transform = AddRRWP(K, full_pairs=full, walk_from="source")
    graphs = graph_list()
    for g in graphs:
        g.edge_weight = torch.rand(g.edge_index.size(1)) + 0.1
    expected = [transform(g) for g in graphs]
    got = transform.apply_all(graphs, chunk_size=chunk_size)
    for a, b in zip(expected, got, strict=True):
        for key in ("rrwp", "rrwp_index", "rrwp_val", "log_deg"):
            torch.testing.assert_close(b[key], a[key])
        assert "rrwp" not in graphs[0]  # inputs untouched
    graphs[1].edge_weight = None
    with pytest.raises(ValueError, match="mix weighted and unweighted"):
        transform.apply_all(graphs)


def test_full_pairs_beyond_the_available_memory_are_refused_before_allocating(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import graphpair._validation as validation
    import graphpair.transforms._add_rrwp as rrwp_module

    path = torch.stack([torch.arange(299), torch.arange(1, 300)])  # 300 nodes: 90,000 pairs
    monkeypatch.setattr(validation, "available_memory", lambda device: 2**20)

    def no_allocation(*args: object) -> Tensor:
        raise AssertionError("the full pair set was being built")

    monkeypatch.setattr(rrwp_module, "ptr_to_index", no_allocation)
    message = r"full_pairs for 90,000 ordered pairs needs about 3\.8 MiB, more than the 1\.0 MiB"
    with pytest.raises(ValueError, match=message):
        rrwp(path, 3, 300)
    with pytest.raises(ValueError, match="pass full_pairs=False"):
        AddRRWP(3)(Data(edge_index=path, num_nodes=300))
    assert rrwp(path, 3, 300, full_pairs=False).pair_index.size(1) < 90_000
