from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import graphpair.ops._common_neighbors as cn_module
import graphpair.ops._csr as csr_module
from graphpair.ops import CSR, PairNodeSet, common_neighbors, neighbor_difference, neighbor_overlap
from graphpair.ops._csr import bitset_bytes
from tests.graphs import graphs, neighbor_sets, node_pairs, random_edge_index

METHODS = ["sparse", "dense", "auto"]


def as_sets(result: PairNodeSet, num_pairs: int) -> list[list[int]]:
    """Per-pair member lists, in output order (to check the sort order too)."""
    out: list[list[int]] = [[] for _ in range(num_pairs)]
    for p, n in zip(result.pair_idx.tolist(), result.node_idx.tolist(), strict=True):
        out[p].append(n)
    return out


def check_sorted(result: PairNodeSet, num_nodes: int) -> None:
    key = result.pair_idx * max(num_nodes, 1) + result.node_idx
    assert bool((key[1:] > key[:-1]).all())


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_common_neighbors_match_python_sets(method: str, symmetric: bool, seed: int) -> None:
    num_nodes = 40
    edge_index = random_edge_index(num_nodes, 150, seed)
    adj = CSR.from_edge_index(edge_index, num_nodes, symmetric=symmetric)
    sets = neighbor_sets(edge_index, num_nodes, symmetric=symmetric, self_loops=False)
    pairs = torch.randint(
        0, num_nodes, (2, 300), generator=torch.Generator().manual_seed(seed + 10)
    )
    result = common_neighbors(adj, pairs, method=method)
    expected = [sorted(sets[i] & sets[j]) for i, j in pairs.t().tolist()]
    assert as_sets(result, pairs.size(1)) == expected
    check_sorted(result, num_nodes)


@pytest.mark.parametrize("method", METHODS)
def test_neighbor_difference_and_overlap_match_python_sets(method: str) -> None:
    num_nodes = 30
    edge_index = random_edge_index(num_nodes, 90, 7)
    adj = CSR.from_edge_index(edge_index, num_nodes, self_loops=True)
    sets = neighbor_sets(edge_index, num_nodes, symmetric=True, self_loops=True)
    pairs = torch.randint(0, num_nodes, (2, 200), generator=torch.Generator().manual_seed(1))
    i_only, j_only = neighbor_difference(adj, pairs, method=method)
    assert as_sets(i_only, 200) == [sorted(sets[i] - sets[j]) for i, j in pairs.t().tolist()]
    assert as_sets(j_only, 200) == [sorted(sets[j] - sets[i]) for i, j in pairs.t().tolist()]
    overlap = neighbor_overlap(adj, pairs, method=method)
    assert as_sets(overlap.common, 200) == [
        sorted(sets[i] & sets[j]) for i, j in pairs.t().tolist()
    ]
    for got, want in ((overlap.i_only, i_only), (overlap.j_only, j_only)):
        assert torch.equal(got.pair_idx, want.pair_idx)
        assert torch.equal(got.node_idx, want.node_idx)


@given(data=st.data(), graph=graphs(), method=st.sampled_from(METHODS), chunk=st.integers(1, 50))
def test_properties_under_masks(
    data: st.DataObject, graph: tuple[torch.Tensor, int], method: str, chunk: int
) -> None:
    edge_index, num_nodes = graph
    adj = CSR.from_edge_index(edge_index, num_nodes)
    pairs = data.draw(node_pairs(num_nodes))
    targets = data.draw(node_pairs(num_nodes, max_pairs=6))
    num_pairs = pairs.size(1)
    with adj.masked(targets):
        sets = [set(adj.neighbors(i).tolist()) for i in range(num_nodes)]
        cn = as_sets(common_neighbors(adj, pairs, method=method, chunk_size=chunk), num_pairs)
        swapped = as_sets(
            common_neighbors(adj, pairs.flip(0), method=method, chunk_size=chunk), num_pairs
        )
        i_only, j_only = neighbor_difference(adj, pairs, method=method, chunk_size=chunk)
    masked = {(u, v) for u, v in targets.t().tolist()} | {(v, u) for u, v in targets.t().tolist()}
    for p, (i, j) in enumerate(pairs.t().tolist()):
        assert cn[p] == swapped[p]  # symmetric in (i, j)
        assert set(cn[p]) <= sets[i]
        assert set(cn[p]) <= sets[j]  # a subset of both neighbour sets
        assert set(cn[p]) == sets[i] & sets[j]
        # No member is reached through a masked edge.
        assert not any((i, k) in masked or (j, k) in masked for k in cn[p])
    assert as_sets(i_only, num_pairs) == [sorted(sets[i] - sets[j]) for i, j in pairs.t().tolist()]
    assert as_sets(j_only, num_pairs) == [sorted(sets[j] - sets[i]) for i, j in pairs.t().tolist()]


def _sparse_sets(adj: CSR, pairs: torch.Tensor, chunk: int) -> list[torch.Tensor]:
    cn = common_neighbors(adj, pairs, method="sparse", chunk_size=chunk)
    diff = neighbor_difference(adj, pairs, method="sparse", chunk_size=chunk)
    overlap = neighbor_overlap(adj, pairs, method="sparse", chunk_size=chunk)
    return [*cn, *diff[0], *diff[1], *overlap.common, *overlap.i_only, *overlap.j_only]


@given(data=st.data(), graph=graphs(), chunk=st.integers(1, 50))
def test_sparse_path_binary_search_equals_bitset_lookup(
    data: st.DataObject, graph: tuple[torch.Tensor, int], chunk: int
) -> None:
    # Small graphs take the bitset lookup; without a bitset (limit below every size) the
    # sparse path binary-searches. Both must give the same sets, masks included.
    edge_index, num_nodes = graph
    pairs = data.draw(node_pairs(num_nodes))
    targets = data.draw(node_pairs(num_nodes, max_pairs=6))
    searched = CSR.from_edge_index(edge_index, num_nodes)
    looked_up = CSR.from_edge_index(edge_index, num_nodes)
    with (
        mock.patch.object(cn_module, "CN_LOOKUP_BITSET_BYTES", -1),
        mock.patch.object(cn_module, "CN_LOOKUP_BYTES_PER_EDGE", -1),
        searched.masked(targets),
    ):
        by_search = _sparse_sets(searched, pairs, chunk)
    assert not searched.has_bitset
    with looked_up.masked(targets):
        by_lookup = _sparse_sets(looked_up, pairs, chunk)
    assert looked_up.has_bitset
    for a, b in zip(by_search, by_lookup, strict=True):
        assert torch.equal(a, b)


def test_binary_search_path_matches_python_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cn_module, "CN_LOOKUP_BITSET_BYTES", -1)
    monkeypatch.setattr(cn_module, "CN_LOOKUP_BYTES_PER_EDGE", -1)
    edge_index = random_edge_index(50, 200, 11)
    adj = CSR.from_edge_index(edge_index, 50)
    sets = neighbor_sets(edge_index, 50, symmetric=True, self_loops=False)
    pairs = torch.randint(0, 50, (2, 300), generator=torch.Generator().manual_seed(12))
    with adj.masked(pairs[:, :5]):
        masked_sets = [set(adj.neighbors(i).tolist()) for i in range(50)]
        result = common_neighbors(adj, pairs, method="sparse")
        i_only, j_only = neighbor_difference(adj, pairs, method="sparse")
    assert not adj.has_bitset
    pair_list = pairs.t().tolist()
    assert as_sets(result, 300) == [sorted(masked_sets[i] & masked_sets[j]) for i, j in pair_list]
    assert as_sets(i_only, 300) == [sorted(masked_sets[i] - masked_sets[j]) for i, j in pair_list]
    assert as_sets(j_only, 300) == [sorted(masked_sets[j] - masked_sets[i]) for i, j in pair_list]
    assert sets  # the unmasked graph has edges at all


def test_sparse_path_uses_a_built_bitset_above_the_lookup_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cn_module, "CN_LOOKUP_BITSET_BYTES", -1)
    monkeypatch.setattr(cn_module, "CN_LOOKUP_BYTES_PER_EDGE", -1)
    adj = CSR.from_edge_index(random_edge_index(30, 80, 4), 30)
    pairs = torch.randint(0, 30, (2, 50), generator=torch.Generator().manual_seed(5))
    searched = common_neighbors(adj, pairs, method="sparse")
    assert not adj.has_bitset
    adj.bitset()  # built (e.g. by the dense path): the sparse path now looks up
    calls = []
    real = cn_module._walk

    def spy(*args: object) -> object:
        calls.append(args[3] is not None)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(cn_module, "_walk", spy)
    looked_up = common_neighbors(adj, pairs, method="sparse")
    assert calls
    assert all(calls)
    assert torch.equal(searched.pair_idx, looked_up.pair_idx)
    assert torch.equal(searched.node_idx, looked_up.node_idx)


def test_the_sparse_path_builds_a_lookup_bitset_only_where_it_is_cheap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cn_module, "CN_LOOKUP_BITSET_BYTES", -1)  # judge by bytes per edge
    pairs = torch.tensor([[0, 1], [2, 3]])
    # 1,024 nodes: a 131,072-byte bitset; 16,228 stored entries is 8.1 bytes each.
    dense_enough = CSR.from_edge_index(random_edge_index(1_024, 8_192, 0), 1_024)
    common_neighbors(dense_enough, pairs, method="sparse")
    assert bitset_bytes(1_024) <= cn_module.CN_LOOKUP_BYTES_PER_EDGE * dense_enough.num_edges
    assert dense_enough.has_bitset
    # 2,048 stored entries is 64 bytes each: binary search, no bitset.
    too_sparse = CSR.from_edge_index(random_edge_index(1_024, 1_024, 0), 1_024)
    common_neighbors(too_sparse, pairs, method="sparse")
    assert bitset_bytes(1_024) > cn_module.CN_LOOKUP_BYTES_PER_EDGE * too_sparse.num_edges
    assert not too_sparse.has_bitset


def test_chunking_does_not_change_the_result() -> None:
    edge_index = random_edge_index(60, 400, 3)
    adj = CSR.from_edge_index(edge_index, 60)
    pairs = torch.randint(0, 60, (2, 500), generator=torch.Generator().manual_seed(0))
    whole = common_neighbors(adj, pairs, chunk_size=10**9)
    for chunk in (1, 7, 64):
        part = common_neighbors(adj, pairs, chunk_size=chunk)
        assert torch.equal(part.pair_idx, whole.pair_idx)
        assert torch.equal(part.node_idx, whole.node_idx)


def test_target_link_removal_example() -> None:
    # Square 0-1-2-3-0 with the diagonal 0-2: CN(0, 2) = {1, 3}; masking (0, 1) removes 1.
    adj = CSR.from_edge_index(torch.tensor([[0, 1, 2, 3, 0], [1, 2, 3, 0, 2]]))
    pair = torch.tensor([[0], [2]])
    assert common_neighbors(adj, pair).node_idx.tolist() == [1, 3]
    with adj.masked(torch.tensor([[1], [0]])):
        assert common_neighbors(adj, pair).node_idx.tolist() == [3]
        i_only, j_only = neighbor_difference(adj, pair)
        assert i_only.node_idx.tolist() == [2]  # the target edge itself is not masked here
        assert j_only.node_idx.tolist() == [0, 1]
    assert common_neighbors(adj, pair).node_idx.tolist() == [1, 3]


@pytest.mark.parametrize("method", METHODS)
def test_empty_inputs_give_empty_results(method: str) -> None:
    adj = CSR.from_edge_index(torch.tensor([[0], [1]]), 4)
    no_pairs = torch.empty(2, 0, dtype=torch.long)
    for result in (
        common_neighbors(adj, no_pairs, method=method),
        *neighbor_difference(adj, no_pairs, method=method),
    ):
        assert result.pair_idx.shape == (0,)
        assert result.node_idx.dtype == torch.long
    isolated = common_neighbors(adj, torch.tensor([[2, 3], [3, 3]]), method=method)
    assert isolated.pair_idx.numel() == 0
    single = CSR.from_edge_index(torch.empty(2, 0, dtype=torch.long), 1)
    assert common_neighbors(single, torch.tensor([[0], [0]]), method=method).pair_idx.numel() == 0


def test_common_neighbors_method_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    small = CSR.from_edge_index(torch.tensor([[0], [1]]), 178)  # 4,094 bytes <= 4 KiB
    assert cn_module.common_neighbors_method(small) == "dense"
    sparse_big = CSR.from_edge_index(torch.tensor([[0], [1]]), 2000)  # 500,000 B > 16 * 2 edges
    assert cn_module.common_neighbors_method(sparse_big) == "sparse"
    ring = torch.arange(2000)
    dense_big = CSR.from_edge_index(
        torch.stack(
            [
                ring.repeat(40),
                (ring.repeat(40) + torch.arange(1, 41).repeat_interleave(2000)) % 2000,
            ]
        )
    )
    assert dense_big.num_edges * cn_module.CN_DENSE_BYTES_PER_EDGE >= bitset_bytes(2000)
    assert cn_module.common_neighbors_method(dense_big) == "dense"
    monkeypatch.setattr(cn_module, "DENSE_BITSET_MAX_BYTES", 10)
    assert cn_module.common_neighbors_method(dense_big) == "sparse"
    with pytest.raises(
        ValueError, match="method='dense' needs an adjacency bitset of 0.5 MiB for num_nodes=2000"
    ):
        common_neighbors(dense_big, torch.tensor([[0], [1]]), method="dense")


def test_bad_arguments_are_named() -> None:
    adj = CSR.from_edge_index(torch.tensor([[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match="pairs entries must be < 3; found the entry 3"):
        common_neighbors(adj, torch.tensor([[0], [3]]))
    with pytest.raises(ValueError, match="pairs must have an integer dtype"):
        common_neighbors(adj, torch.tensor([[0.0], [1.0]]))
    with pytest.raises(ValueError, match=r"pairs must have shape \[2, E\]"):
        neighbor_difference(adj, torch.tensor([[0, 1, 2]]))
    with pytest.raises(
        ValueError, match="method must be one of \\['auto', 'sparse', 'dense'\\]; got 'bitset'"
    ):
        neighbor_overlap(adj, torch.tensor([[0], [1]]), method="bitset")
    with pytest.raises(ValueError, match="chunk_size must be >= 1; got 0"):
        common_neighbors(adj, torch.tensor([[0], [1]]), chunk_size=0)
    with pytest.raises(TypeError, match="adj must be a graphpair.ops.CSR"):
        common_neighbors(torch.tensor([[0, 1], [1, 2]]), torch.tensor([[0], [1]]))  # type: ignore[arg-type]


def test_dense_path_never_builds_a_bitset_above_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csr_module, "DENSE_BITSET_MAX_BYTES", 100)
    monkeypatch.setattr(cn_module, "DENSE_BITSET_MAX_BYTES", 100)
    adj = CSR.from_edge_index(random_edge_index(30, 300, 0), 30)
    common_neighbors(adj, torch.tensor([[0], [1]]))  # auto falls back to sparse
    assert adj._bitset is None


@pytest.mark.cuda
@pytest.mark.parametrize("method", ["sparse", "dense"])
def test_cuda_matches_cpu(method: str) -> None:
    edge_index = random_edge_index(200, 2000, 0)
    pairs = torch.randint(0, 200, (2, 1000), generator=torch.Generator().manual_seed(0))
    # num_nodes given: the random edges need not touch node 199, the pairs may.
    cpu = common_neighbors(CSR.from_edge_index(edge_index, 200), pairs, method=method)
    gpu = common_neighbors(CSR.from_edge_index(edge_index.cuda(), 200), pairs.cuda(), method=method)
    assert torch.equal(gpu.pair_idx.cpu(), cpu.pair_idx)
    assert torch.equal(gpu.node_idx.cpu(), cpu.node_idx)


@pytest.mark.data
@pytest.mark.parametrize("method", ["sparse", "dense"])
def test_cora_matches_python_sets(shared_data: Path, method: str) -> None:
    from torch_geometric.io import read_planetoid_data

    raw = shared_data / "planetoid" / "Cora" / "raw"
    if not (raw / "ind.cora.graph").is_file():
        pytest.skip(f"Cora raw files not found under {raw}")
    data = read_planetoid_data(str(raw), "cora")  # reads only; nothing is written next to it
    num_nodes = int(data.num_nodes)
    adj = CSR.from_edge_index(data.edge_index, num_nodes)
    sets = neighbor_sets(data.edge_index, num_nodes, symmetric=True, self_loops=False)
    # Pairs of a node and a neighbour of a neighbour: mostly non-empty CN sets.
    gen = torch.Generator().manual_seed(0)
    src = torch.randint(0, num_nodes, (500,), generator=gen)
    dst = torch.tensor(
        [sorted(sets[sorted(sets[s])[0]])[-1] if sets[s] else s for s in src.tolist()]
    )
    pairs = torch.stack([src, dst])
    with adj.masked(data.edge_index[:, :50]):
        masked_sets = [set(adj.neighbors(i).tolist()) for i in range(num_nodes)]
        result = common_neighbors(adj, pairs, method=method)
    expected = [sorted(masked_sets[i] & masked_sets[j]) for i, j in pairs.t().tolist()]
    assert as_sets(result, 500) == expected
    assert sum(map(len, expected)) > 100  # the check is not vacuous
