from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import graphpair.ops._csr as csr_module
from graphpair.ops import CSR
from tests.graphs import graphs, neighbor_sets, node_pairs, random_edge_index


def csr_sets(adj: CSR) -> list[set[int]]:
    return [set(adj.neighbors(i).tolist()) for i in range(adj.num_nodes)]


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("self_loops", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_from_edge_index_matches_sets(symmetric: bool, self_loops: bool, seed: int) -> None:
    edge_index = random_edge_index(30, 80, seed)
    adj = CSR.from_edge_index(edge_index, 30, symmetric=symmetric, self_loops=self_loops)
    expected = neighbor_sets(edge_index, 30, symmetric=symmetric, self_loops=self_loops)
    assert csr_sets(adj) == expected
    assert adj.num_edges == sum(len(s) for s in expected)
    assert adj.degree().tolist() == [len(s) for s in expected]
    keys = adj.keys
    assert bool((keys[1:] > keys[:-1]).all())  # sorted and deduplicated
    assert adj.degree()[-2:].tolist() == [0, 0]  # the isolated nodes


def test_num_nodes_is_inferred_and_empty_graphs_work() -> None:
    adj = CSR.from_edge_index(torch.tensor([[0, 1], [1, 4]]))
    assert adj.num_nodes == 5
    empty = CSR.from_edge_index(torch.empty(2, 0, dtype=torch.long), 3)
    assert empty.num_edges == 0
    assert empty.degree().tolist() == [0, 0, 0]
    assert empty.has_edge(torch.tensor([[0], [1]])).tolist() == [False]
    assert empty.mask_edges(torch.tensor([[0], [1]])).numel() == 0
    assert CSR.from_edge_index(torch.empty(2, 0, dtype=torch.long)).num_nodes == 0


def test_constructor_accepts_a_valid_structure_and_checks_it() -> None:
    adj = CSR(torch.tensor([0, 2, 3, 3]), torch.tensor([1, 2, 0]))
    assert adj.to_edge_index().tolist() == [[0, 0, 1], [1, 2, 0]]
    with pytest.raises(ValueError, match="col must be strictly increasing within each row"):
        CSR(torch.tensor([0, 2, 3, 3]), torch.tensor([2, 1, 0]))
    with pytest.raises(ValueError, match="col entries must be < 3; found the entry 7"):
        CSR(torch.tensor([0, 2, 3, 3]), torch.tensor([1, 7, 0]))
    with pytest.raises(ValueError, match="rowptr must end at the input size 3; got 4"):
        CSR(torch.tensor([0, 2, 4, 4]), torch.tensor([1, 2, 0]))
    with pytest.raises(ValueError, match="rowptr must have num_nodes \\+ 1 = 5 entries; got 4"):
        CSR(torch.tensor([0, 2, 3, 3]), torch.tensor([1, 2, 0]), num_nodes=4)


@pytest.mark.parametrize(
    ("edge_index", "num_nodes", "error", "message"),
    [
        (
            torch.tensor([[0.0, 1.0], [1.0, 2.0]]),
            None,
            ValueError,
            "edge_index must have an integer dtype",
        ),
        (torch.tensor([0, 1, 2]), None, ValueError, "edge_index must have 2 dimension"),
        (
            torch.tensor([[0, 1, 2]]),
            None,
            ValueError,
            r"edge_index must have shape \[2, E\]; got shape \(1, 3\)",
        ),
        (
            torch.tensor([[0, -1], [1, 2]]),
            None,
            ValueError,
            "edge_index must be non-negative; found the entry -1",
        ),
        (
            torch.tensor([[0, 1], [1, 9]]),
            5,
            ValueError,
            "edge_index entries must be < 5; found the entry 9",
        ),
        (torch.tensor([[0, 1], [1, 2]]), -2, ValueError, "num_nodes must be >= 0; got -2"),
        ([[0, 1], [1, 2]], None, TypeError, "edge_index must be a torch.Tensor"),
    ],
)
def test_from_edge_index_rejects_bad_input(
    edge_index: object, num_nodes: int | None, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        CSR.from_edge_index(edge_index, num_nodes)  # type: ignore[arg-type]


@given(data=st.data(), graph=graphs())
def test_has_edge_and_find_edges_match_sets(
    data: st.DataObject, graph: tuple[torch.Tensor, int]
) -> None:
    edge_index, num_nodes = graph
    adj = CSR.from_edge_index(edge_index, num_nodes, symmetric=False, self_loops=True)
    sets = neighbor_sets(edge_index, num_nodes, symmetric=False, self_loops=True)
    pairs = data.draw(node_pairs(num_nodes))
    expected = [v in sets[u] for u, v in pairs.t().tolist()]
    assert adj.has_edge(pairs).tolist() == expected
    pos = adj.find_edges(pairs)
    for (u, v), p in zip(pairs.t().tolist(), pos.tolist(), strict=True):
        if v in sets[u]:
            assert (adj.row[p].item(), adj.col[p].item()) == (u, v)
        else:
            assert p == -1


@given(data=st.data(), graph=graphs())
def test_mask_removes_both_directions_and_unmask_restores(
    data: st.DataObject, graph: tuple[torch.Tensor, int]
) -> None:
    edge_index, num_nodes = graph
    adj = CSR.from_edge_index(edge_index, num_nodes)
    adj.bitset()  # the cached bitset must follow the mask
    before = csr_sets(adj)
    targets = data.draw(node_pairs(num_nodes))
    positions = adj.mask_edges(targets)
    removed = {(u, v) for u, v in targets.t().tolist()} | {(v, u) for u, v in targets.t().tolist()}
    expected = [{v for v in before[u] if (u, v) not in removed} for u in range(num_nodes)]
    assert csr_sets(adj) == expected
    assert adj.num_masked == positions.numel() == sum(map(len, before)) - sum(map(len, expected))
    assert adj.degree().tolist() == [len(s) for s in expected]
    assert torch.equal(unpack(adj.bitset(), num_nodes), _bitmap(expected, num_nodes))
    assert adj.to_edge_index().size(1) == adj.num_active_edges
    # Masking the same targets again changes nothing.
    assert adj.mask_edges(targets).numel() == 0
    adj.unmask_edges(positions)
    assert csr_sets(adj) == before
    assert adj.num_masked == 0
    assert torch.equal(unpack(adj.bitset(), num_nodes), _bitmap(before, num_nodes))


def unpack(bits: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Naive decoding of the packed bitset: bit c % 8 of byte c // 8."""
    out = torch.zeros(num_nodes, num_nodes, dtype=torch.bool)
    for r in range(num_nodes):
        for c in range(num_nodes):
            out[r, c] = bool((int(bits[r, c // 8]) >> (c % 8)) & 1)
    return out


def test_bitset_layout_and_size() -> None:
    adj = CSR.from_edge_index(torch.tensor([[0, 0, 9], [1, 8, 8]]), 10)
    bits = adj.bitset()
    assert bits.shape == (10, 2)
    assert bits.dtype == torch.uint8
    assert bits[0].tolist() == [0b10, 0b1]  # node 0: neighbours 1 and 8
    assert bits[8].tolist() == [0b1, 0b10]  # node 8: neighbours 0 and 9
    assert adj.bitset() is bits  # cached


def test_bitset_built_in_slices_equals_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    edge_index = random_edge_index(40, 200, 4)
    whole = CSR.from_edge_index(edge_index, 40).bitset()
    monkeypatch.setattr(csr_module, "_BITSET_BUILD_CHUNK", 3)
    sliced = CSR.from_edge_index(edge_index, 40)
    sliced.mask_edges(edge_index[:, :5])
    sliced.clear_mask()
    assert torch.equal(sliced.bitset(), whole)


def _bitmap(sets: list[set[int]], num_nodes: int) -> torch.Tensor:
    out = torch.zeros(num_nodes, num_nodes, dtype=torch.bool)
    for u, vs in enumerate(sets):
        out[u, list(vs)] = True
    return out


def test_masked_context_restores_even_on_error() -> None:
    adj = CSR.from_edge_index(torch.tensor([[0, 1, 2], [1, 2, 3]]))
    targets = torch.tensor([[0, 2], [1, 3]])
    seen = []

    def step() -> None:
        with adj.masked(targets) as inner:
            seen.append(inner is adj)
            seen.append(inner.has_edge(torch.tensor([[0, 1, 3], [1, 0, 2]])).tolist())
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        step()
    assert seen == [True, [False, False, False]]
    assert adj.num_masked == 0
    assert adj.has_edge(torch.tensor([[0, 1, 3], [1, 0, 2]])).tolist() == [True, True, True]


def test_masked_rows_and_positions_follow_the_mask() -> None:
    """The rows holding a masked entry and the masked positions, against loops, recomputed
    after every change."""
    adj = CSR.from_edge_index(torch.tensor([[0, 0, 1, 2, 3], [1, 2, 2, 3, 4]]))
    assert adj.masked_rows().tolist() == adj.masked_positions().tolist() == []

    def rows() -> list[int]:
        return sorted({int(adj.row[e]) for e in range(adj.num_edges) if not adj.mask[e]})

    def positions() -> list[int]:
        return [e for e in range(adj.num_edges) if not adj.mask[e]]

    def check() -> None:
        assert adj.masked_rows().tolist() == rows()
        assert adj.masked_positions().tolist() == positions()

    first = adj.mask_edges(torch.tensor([[0], [2]]))
    check()
    assert adj.masked_rows().tolist() == [0, 2]
    second = adj.mask_edges(torch.tensor([[3], [4]]))
    check()
    assert adj.masked_rows().tolist() == [0, 2, 3, 4]
    adj.unmask_edges(first)
    check()
    assert adj.masked_rows().tolist() == [3, 4]
    adj.unmask_edges(second)
    assert adj.masked_rows().tolist() == adj.masked_positions().tolist() == []


def test_mask_ignores_absent_pairs_and_clear_mask() -> None:
    adj = CSR.from_edge_index(torch.tensor([[0, 1], [1, 2]]))
    assert adj.mask_edges(torch.tensor([[0, 0], [2, 0]])).numel() == 0
    adj.mask_edges(torch.tensor([[1], [0]]))
    assert adj.num_masked == 2
    adj.clear_mask()
    assert adj.num_masked == 0
    assert adj.num_active_edges == 4


def test_mask_validates_pairs_and_positions() -> None:
    adj = CSR.from_edge_index(torch.tensor([[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match="pairs entries must be < 3; found the entry 3"):
        adj.mask_edges(torch.tensor([[0], [3]]))
    with pytest.raises(ValueError, match="positions entries must be < 4; found the entry 4"):
        adj.unmask_edges(torch.tensor([4]))


def test_neighbors_and_degree_validate() -> None:
    adj = CSR.from_edge_index(torch.tensor([[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match="node must be <= 2; got 3"):
        adj.neighbors(3)
    with pytest.raises(ValueError, match="nodes must be non-negative"):
        adj.degree(torch.tensor([-1]))
    assert adj.degree(torch.tensor([1, 2])).tolist() == [2, 1]


def test_to_copies_state_and_repr() -> None:
    adj = CSR.from_edge_index(torch.tensor([[0, 1], [1, 2]]))
    adj.mask_edges(torch.tensor([[0], [1]]))
    copy = adj.to("cpu")
    assert copy.num_masked == 2
    assert torch.equal(copy.mask, adj.mask)
    assert repr(adj) == "CSR(num_nodes=3, num_edges=4, num_masked=2, device=cpu)"


def test_bitset_refuses_large_graphs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csr_module, "DENSE_BITSET_MAX_BYTES", 2)
    adj = CSR.from_edge_index(torch.tensor([[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match="adjacency bitset for num_nodes=3 needs"):
        adj.bitset()


@pytest.mark.cuda
def test_csr_on_cuda_matches_cpu() -> None:
    edge_index = random_edge_index(50, 200, 0)
    cpu = CSR.from_edge_index(edge_index)
    gpu = CSR.from_edge_index(edge_index.cuda())
    assert torch.equal(gpu.keys.cpu(), cpu.keys)
    pairs = random_edge_index(50, 40, 1, duplicates=0, self_loops=0)
    assert torch.equal(gpu.has_edge(pairs.cuda()).cpu(), cpu.has_edge(pairs))


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_transpose_lists_the_entries_into_each_node(symmetric: bool, seed: int) -> None:
    edge_index = random_edge_index(30, 80, seed)
    adj = CSR.from_edge_index(edge_index, 30, symmetric=symmetric, self_loops=True)
    order, rowptr_t, col_t = adj.transpose()
    assert torch.equal(col_t, adj.row[order])
    for node in range(30):
        into = col_t[rowptr_t[node] : rowptr_t[node + 1]].tolist()
        want = sorted(i for i in range(30) if adj.has_edge(torch.tensor([[i], [node]])).item())
        assert into == want
        assert bool((adj.col[order[rowptr_t[node] : rowptr_t[node + 1]]] == node).all())
    # A symmetric structure shares its arrays; the transpose is built once.
    assert (col_t is adj.col) == symmetric
    assert adj.transpose()[0] is order
    copy = adj.to("cpu")
    assert torch.equal(copy.transpose()[0], order)
    assert (copy.transpose()[2] is copy.col) == symmetric
