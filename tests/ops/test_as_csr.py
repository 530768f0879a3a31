from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data, HeteroData

from graphpair.ops import (
    CSR,
    as_csr,
    csr_from_data,
    csr_from_sparse,
    csr_from_sparse_tensor,
    is_sparse_tensor,
)
from tests.graphs import graphs, neighbor_sets, random_edge_index
from tests.sparse_forms import (
    FORM_NAMES,
    HAS_TORCH_SPARSE,
    SPARSE_BETA,
    StandInSparseTensor,
    adjacency_forms,
)

pytestmark = pytest.mark.filterwarnings(SPARSE_BETA)


def csr_sets(adj: CSR) -> list[set[int]]:
    return [set(adj.neighbors(i).tolist()) for i in range(adj.num_nodes)]


def check_valid(adj: CSR) -> None:
    """The structure is one the checking constructor accepts (sorted, unique, in range)."""
    CSR(adj.rowptr, adj.col, adj.num_nodes)
    assert adj.rowptr.dtype == torch.long
    assert adj.col.dtype == torch.long
    assert torch.equal(adj.keys, adj.row * adj.num_nodes + adj.col)


@pytest.mark.parametrize("form", FORM_NAMES)
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("self_loops", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_every_form_gives_the_neighbour_sets(
    form: str, symmetric: bool, self_loops: bool, seed: int
) -> None:
    edge_index = random_edge_index(20, 60, seed)  # duplicates, self loops, isolated nodes
    adj, transposed = adjacency_forms(edge_index, 20)[form]
    kwargs = {"symmetric": symmetric, "self_loops": self_loops}
    if isinstance(adj, Data):
        out = as_csr(adj, **kwargs)
    elif form.startswith("edge_index"):
        out = as_csr(adj, 20, **kwargs)
    else:
        out = as_csr(adj, transposed=transposed, **kwargs)
    assert out.num_nodes == 20
    assert csr_sets(out) == neighbor_sets(
        edge_index, 20, symmetric=symmetric, self_loops=self_loops
    )
    check_valid(out)


@settings(max_examples=30, deadline=None)
@given(graph=graphs(max_nodes=9, max_edges=30, min_nodes=0), symmetric=st.booleans())
def test_property_matrix_forms_equal_edge_index(
    graph: tuple[torch.Tensor, int], symmetric: bool
) -> None:
    edge_index, num_nodes = graph
    expected = CSR.from_edge_index(edge_index, num_nodes, symmetric=symmetric)
    for name, (adj, transposed) in adjacency_forms(edge_index, num_nodes).items():
        outs = []
        if isinstance(adj, Data):
            outs.append(csr_from_data(adj, symmetric=symmetric))
        elif name.startswith("edge_index"):
            outs.append(as_csr(adj, num_nodes, symmetric=symmetric))
        else:
            convert = csr_from_sparse if isinstance(adj, torch.Tensor) else csr_from_sparse_tensor
            outs.append(convert(adj, num_nodes, symmetric=symmetric, transposed=transposed))
        outs.append(
            as_csr(
                adj,
                None if isinstance(adj, Data) else num_nodes,
                symmetric=symmetric,
                transposed=transposed and not isinstance(adj, Data),
            )
        )
        for out in outs:
            assert torch.equal(out.rowptr, expected.rowptr), name
            assert torch.equal(out.col, expected.col), name


def _symmetric_csr_tensor(num_nodes: int, seed: int) -> torch.Tensor:
    sym = CSR.from_edge_index(random_edge_index(num_nodes, 3 * num_nodes, seed), num_nodes)
    return torch.sparse_csr_tensor(
        sym.rowptr,
        sym.col,
        torch.ones(sym.num_edges),
        (num_nodes, num_nodes),
        check_invariants=True,
    )


def test_a_symmetric_sorted_input_keeps_its_structure() -> None:
    matrix = _symmetric_csr_tensor(30, 0)
    out = as_csr(matrix)
    # No copy and no sort: the CSR holds the input's own index tensors.
    assert out.col.data_ptr() == matrix.col_indices().data_ptr()
    assert out.rowptr.data_ptr() == matrix.crow_indices().data_ptr()
    stand_in = StandInSparseTensor(out.row, out.col, (30, 30))
    assert as_csr(stand_in).col.data_ptr() == stand_in.csr()[1].data_ptr()
    # A coalesced, symmetric edge_index (PyG's to_undirected output) is not sorted again.
    edge_index = out.to_edge_index()
    assert as_csr(edge_index).col.data_ptr() == edge_index[1].data_ptr()


@pytest.mark.parametrize("num_nodes", [50, 40_000])  # column ids sorted as int16 / int32
def test_symmetry_check_with_wide_node_ids(num_nodes: int) -> None:
    far = num_nodes - 1
    sym = torch.tensor([[0, 1, far, far], [far, far, 0, 1]])
    kept = as_csr(sym, num_nodes)
    assert kept.col.data_ptr() == sym[1].data_ptr()
    swapped = torch.tensor([[0, 1, far, far], [far, 2, 0, 1]])  # same degrees, not symmetric
    out = as_csr(torch.unique(swapped, dim=1), num_nodes)
    expected = sorted({(0, far), (far, 0), (1, 2), (2, 1), (far, 1), (1, far)})
    assert [tuple(e) for e in out.to_edge_index().t().tolist()] == expected


def test_a_directed_cycle_is_not_taken_for_symmetric() -> None:
    # In- and out-degrees agree (the cheap check passes) but the graph is not symmetric.
    cycle = torch.tensor([[0, 1, 2], [1, 2, 0]])
    assert csr_sets(as_csr(cycle)) == [{1, 2}, {0, 2}, {0, 1}]
    forms = adjacency_forms(cycle, 3)
    assert csr_sets(as_csr(forms["csr"][0])) == [{1, 2}, {0, 2}, {0, 1}]


def test_asymmetric_or_unsorted_inputs_fall_back_to_a_sort() -> None:
    # An asymmetric CSR tensor (0 -> 1 only): symmetric=True must add 1 -> 0.
    one_way = torch.sparse_csr_tensor(
        torch.tensor([0, 1, 1]), torch.tensor([1]), torch.ones(1), (2, 2), check_invariants=True
    )
    assert as_csr(one_way).to_edge_index().tolist() == [[0, 1], [1, 0]]
    assert as_csr(one_way, symmetric=False).to_edge_index().tolist() == [[0], [1]]
    assert as_csr(one_way, symmetric=False, transposed=True).to_edge_index().tolist() == [[1], [0]]
    # Columns out of order and repeated inside a row (invariant checks off, as torch allows).
    messy = torch.sparse_csr_tensor(
        torch.tensor([0, 3, 3, 3]),
        torch.tensor([2, 1, 2]),
        torch.ones(3),
        (3, 3),
        check_invariants=False,
    )
    assert csr_sets(as_csr(messy, symmetric=False)) == [{1, 2}, set(), set()]
    assert csr_sets(as_csr(messy)) == [{1, 2}, {0}, {0}]


def test_values_are_ignored_and_stored_zeros_are_edges() -> None:
    index = torch.tensor([[0, 1], [1, 2]])
    weighted = torch.sparse_coo_tensor(
        index, torch.tensor([0.0, -3.5]), (3, 3), check_invariants=True
    )
    assert as_csr(weighted).to_edge_index().tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]


def test_self_loops_are_dropped_from_a_sorted_input_without_a_sort() -> None:
    loops = torch.sparse_csr_tensor(
        torch.tensor([0, 2, 4]),
        torch.tensor([0, 1, 0, 1]),
        torch.ones(4),
        (2, 2),
        check_invariants=True,
    )
    out = as_csr(loops)
    assert out.to_edge_index().tolist() == [[0, 1], [1, 0]]
    check_valid(out)
    assert as_csr(loops, self_loops=True).num_edges == 4


def test_a_csr_is_returned_as_it_is() -> None:
    adj = CSR.from_edge_index(torch.tensor([[0, 1], [1, 2]]), symmetric=False)
    adj.mask_edges(torch.tensor([[0], [1]]))
    assert as_csr(adj) is adj
    assert as_csr(adj, 3) is adj
    with pytest.raises(ValueError, match="num_nodes=4 but the CSR adj has 3 nodes"):
        as_csr(adj, 4)


def test_data_prefers_edge_index_and_reads_adj_t_transposed() -> None:
    edge_index = torch.tensor([[0, 0, 2], [1, 3, 1]])
    forms = adjacency_forms(edge_index, 5)
    data, _ = forms["data_adj_t"]
    assert csr_from_data(data, symmetric=False).to_edge_index().tolist() == [
        [0, 0, 2],
        [1, 3, 1],
    ]
    stand_in = Data(adj_t=forms["sparse_tensor_t"][0], num_nodes=5)
    assert csr_from_data(stand_in, symmetric=False).to_edge_index().tolist() == [
        [0, 0, 2],
        [1, 3, 1],
    ]
    assert csr_from_data(data).num_nodes == 5
    with pytest.raises(ValueError, match="num_nodes=4 but the Data adj has 5 nodes"):
        as_csr(data, 4)


def test_pyg_to_sparse_tensor_output_is_read() -> None:
    from torch_geometric.transforms import ToSparseTensor

    edge_index = torch.tensor([[0, 1, 3], [1, 2, 0]])
    for layout in (torch.sparse_csr, torch.sparse_coo):
        data = ToSparseTensor(layout=layout)(Data(edge_index=edge_index, num_nodes=4))
        assert "edge_index" not in data
        out = as_csr(data, symmetric=False)
        assert out.to_edge_index().tolist() == [[0, 1, 3], [1, 2, 0]]


@pytest.mark.parametrize(
    ("adj", "kwargs", "error", "message"),
    [
        (torch.zeros(3, 3), {}, ValueError, "must be an edge_index of shape \\[2, E\\]"),
        (torch.tensor([[0.0, 1.0], [1.0, 0.0]]), {}, ValueError, "integer dtype"),
        ([[0, 1], [1, 0]], {}, TypeError, "adj must be a graphpair.ops.CSR, an edge_index"),
        (torch.tensor([[0, 1], [1, 0]]), {"transposed": True}, ValueError, "transposed=True"),
        (torch.tensor([[0, 1], [1, 5]]), {"num_nodes": 3}, ValueError, "entries must be < 3"),
    ],
)
def test_as_csr_rejects_bad_input(
    adj: object, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        as_csr(adj, **kwargs)  # type: ignore[arg-type]


def test_matrix_inputs_are_checked() -> None:
    rect = torch.sparse_coo_tensor(
        torch.tensor([[0], [1]]), torch.ones(1), (2, 3), check_invariants=True
    )
    with pytest.raises(ValueError, match="square N x N adjacency; got size \\(2, 3\\)"):
        as_csr(rect)
    square = torch.sparse_coo_tensor(
        torch.tensor([[0], [1]]), torch.ones(1), (3, 3), check_invariants=True
    )
    with pytest.raises(ValueError, match="num_nodes=4 but adj has size \\(3, 3\\)"):
        as_csr(square, 4)
    hybrid = torch.sparse_coo_tensor(
        torch.tensor([[0], [1]]), torch.ones(1, 2), (3, 3, 2), check_invariants=True
    )
    with pytest.raises(ValueError, match="2-D sparse matrix without dense dimensions"):
        csr_from_sparse(hybrid)
    with pytest.raises(TypeError, match="adj must be a torch.sparse tensor"):
        csr_from_sparse(torch.tensor([[0], [1]]))  # a strided tensor
    bad = torch.sparse_coo_tensor(
        torch.tensor([[0], [7]]), torch.ones(1), (3, 3), check_invariants=False
    )
    with pytest.raises(ValueError, match="adj column indices entries must be < 3"):
        as_csr(bad)
    with pytest.raises(ValueError, match="adj column indices entries must be < 3"):
        csr_from_sparse_tensor(StandInSparseTensor(torch.tensor([0]), torch.tensor([7]), (3, 3)))
    with pytest.raises(TypeError, match="must be a torch_sparse.SparseTensor"):
        csr_from_sparse_tensor(torch.tensor([[0], [1]]))


def test_data_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="neither edge_index nor adj_t"):
        csr_from_data(Data(num_nodes=3))
    with pytest.raises(ValueError, match="set data.num_nodes"):
        csr_from_data(Data())
    hetero = HeteroData()
    hetero["a"].num_nodes = 2
    with pytest.raises(TypeError, match="homogeneous"):
        as_csr(hetero)


def test_is_sparse_tensor_is_duck_typed() -> None:
    assert is_sparse_tensor(StandInSparseTensor(torch.tensor([0]), torch.tensor([1]), (2, 2)))
    assert not is_sparse_tensor(torch.zeros(2, 2).to_sparse())
    assert not is_sparse_tensor(CSR.from_edge_index(torch.tensor([[0], [1]])))


@pytest.mark.skipif(not HAS_TORCH_SPARSE, reason="torch-sparse is not installed")
def test_real_torch_sparse_tensor() -> None:  # pragma: no cover - needs torch-sparse
    from torch_sparse import SparseTensor

    edge_index = random_edge_index(15, 40, 0)
    adj = SparseTensor(row=edge_index[0], col=edge_index[1], sparse_sizes=(15, 15))
    assert is_sparse_tensor(adj)
    for symmetric in (True, False):
        expected = CSR.from_edge_index(edge_index, 15, symmetric=symmetric)
        out = as_csr(adj, symmetric=symmetric)
        assert torch.equal(out.col, expected.col)
        assert torch.equal(out.rowptr, expected.rowptr)
        out_t = as_csr(adj.t(), symmetric=symmetric, transposed=True)
        assert torch.equal(out_t.col, expected.col)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_conversion_on_cuda_matches_cpu() -> None:
    edge_index = random_edge_index(25, 70, 1)
    for name, (adj, transposed) in adjacency_forms(edge_index, 25).items():
        if isinstance(adj, (Data, StandInSparseTensor)):
            continue
        cpu = as_csr(adj, 25 if name.startswith("edge") else None, transposed=transposed)
        gpu = as_csr(adj.cuda(), 25 if name.startswith("edge") else None, transposed=transposed)
        assert gpu.device.type == "cuda"
        assert torch.equal(gpu.col.cpu(), cpu.col), name
        assert torch.equal(gpu.rowptr.cpu(), cpu.rowptr), name
