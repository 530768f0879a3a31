"""SINCConv takes PyG's adjacency forms (``edge_index``, ``adj_t`` as ``torch.sparse`` or a
``SparseTensor``) and ``size=``, and compiles without graph breaks."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import ToSparseTensor

from graphpair.nn import SINCConv, SIRConv
from tests.graphs import random_edge_index
from tests.nn.conv.test_sinc_conv import features, make, reference
from tests.sparse_forms import SPARSE_BETA, StandInSparseTensor

pytestmark = pytest.mark.filterwarnings(SPARSE_BETA)

CONFIGS = [("sum", "sum"), ("mean", "max"), ("max", "sym"), ("sym", None)]


def adj_t_forms(edge_index: Tensor, num_src: int, num_dst: int) -> dict[str, object]:
    """The transposed adjacency ``[N_dst, N_src]`` (row = target) of a duplicate-free graph."""
    values = torch.ones(edge_index.size(1))
    coo = torch.sparse_coo_tensor(
        edge_index.flip(0), values, (num_dst, num_src), check_invariants=True
    ).coalesce()
    return {
        "coo": coo,
        "csr": coo.to_sparse_csr(),
        "csc": coo.to_sparse_csc(),
        "sparse_tensor": StandInSparseTensor(edge_index[1], edge_index[0], (num_dst, num_src)),
    }


def graph(num_nodes: int, seed: int) -> Tensor:
    """Random directed edges with self loops and isolated nodes, no repeated edge."""
    edge_index = random_edge_index(num_nodes, 3 * num_nodes, seed, duplicates=0)
    return torch.unique(edge_index, dim=1)


@pytest.mark.parametrize(("aggr", "context"), CONFIGS)
@pytest.mark.parametrize("form", ["coo", "csr", "csc", "sparse_tensor"])
def test_adj_t_forms_match_edge_index_and_the_loop(
    aggr: str, context: str | None, form: str
) -> None:
    edge_index = graph(10, seed=1)
    x = features(10, 3, seed=0)
    conv = make(aggr, context, 3, 5, hidden_channels=4)
    expected = conv(x, edge_index)
    torch.testing.assert_close(expected, reference(conv, x, x, edge_index))
    out = conv(x, adj_t_forms(edge_index, 10, 10)[form])
    torch.testing.assert_close(out, expected)


def test_uncoalesced_duplicates_are_repeated_edges_as_in_edge_index() -> None:
    edge_index = torch.tensor([[0, 1, 1, 2, 1], [1, 0, 2, 1, 2]])  # 1 -> 2 twice
    adj_t = torch.sparse_coo_tensor(
        edge_index.flip(0), torch.ones(5), (3, 3), check_invariants=True
    )
    conv = make("sum", "mean", 2, 3)
    x = features(3, 2, seed=1)
    torch.testing.assert_close(conv(x, adj_t), conv(x, edge_index))
    torch.testing.assert_close(conv(x, adj_t), reference(conv, x, x, edge_index))


@pytest.mark.parametrize("layout", [torch.sparse_csr, torch.sparse_coo])
def test_pyg_to_sparse_tensor_output_with_edge_features(layout: torch.layout) -> None:
    edge_index = graph(8, seed=2)
    num_edges = edge_index.size(1)
    gen = torch.Generator().manual_seed(3)
    x = features(8, 3, seed=4)
    # 1-D edge weights (edge_dim=1) for CSR, [E, 2] features for COO (PyG's rule).
    edge_attr = (
        torch.rand(num_edges, generator=gen, dtype=torch.float64)
        if layout == torch.sparse_csr
        else torch.rand(num_edges, 2, generator=gen, dtype=torch.float64)
    )
    edge_dim = 1 if edge_attr.dim() == 1 else 2
    data = Data(x=x, edge_index=edge_index, edge_attr=edge_attr, num_nodes=8)
    sparse = ToSparseTensor(attr="edge_attr", layout=layout)(data.clone())
    assert "edge_index" not in sparse
    conv = make("sym", "sum", 3, 4, edge_dim=edge_dim)
    expected = conv(x, edge_index, edge_attr)
    torch.testing.assert_close(conv(sparse.x, sparse.adj_t), expected)
    plain = ToSparseTensor(layout=layout)(Data(x=x, edge_index=edge_index, num_nodes=8))
    without = make("mean", "max", 3, 4)  # no edge_dim: the values (ones) are not read
    torch.testing.assert_close(without(plain.x, plain.adj_t), without(x, edge_index))


def test_bipartite_adj_t_and_explicit_size() -> None:
    gen = torch.Generator().manual_seed(6)
    num_src, num_dst = 7, 4
    edge_index = torch.unique(
        torch.stack(
            [
                torch.randint(0, num_src, (16,), generator=gen),
                torch.randint(0, num_dst - 1, (16,), generator=gen),  # last target isolated
            ]
        ),
        dim=1,
    )
    x_src, x_dst = features(num_src, 3, seed=1), features(num_dst, 2, seed=2)
    conv = make("sum", "mean", (3, 2), 5)
    expected = reference(conv, x_src, x_dst, edge_index)
    torch.testing.assert_close(conv((x_src, x_dst), edge_index), expected)
    torch.testing.assert_close(conv((x_src, x_dst), edge_index, size=(num_src, num_dst)), expected)
    for name, adj_t in adj_t_forms(edge_index, num_src, num_dst).items():
        torch.testing.assert_close(conv((x_src, x_dst), adj_t), expected, msg=name)


def test_single_x_with_size_reads_the_first_rows_as_targets() -> None:
    # PyG's samplers put the N_dst target nodes first among the N_src sampled ones.
    gen = torch.Generator().manual_seed(7)
    num_src, num_dst = 9, 4
    edge_index = torch.stack(
        [
            torch.randint(0, num_src, (20,), generator=gen),
            torch.randint(0, num_dst, (20,), generator=gen),
        ]
    )
    x = features(num_src, 3, seed=3)
    conv = make("mean", "sym", 3, 4)
    out = conv(x, edge_index, size=(num_src, num_dst))
    assert out.shape == (num_dst, 4)
    torch.testing.assert_close(out, reference(conv, x, x[:num_dst], edge_index))
    square = torch.unique(edge_index, dim=1)
    adj_t = adj_t_forms(square, num_src, num_dst)["csr"]
    torch.testing.assert_close(conv(x, adj_t), reference(conv, x, x[:num_dst], square))


def test_size_and_adj_t_errors_name_the_argument() -> None:
    conv = make("sum", "sum", 3, 4)
    x = features(5, 3, seed=0)
    edge_index = torch.tensor([[0, 1], [1, 4]])
    with pytest.raises(ValueError, match="edge_index\\[1\\] entries must be < 3"):
        conv(x, edge_index, size=(5, 3))
    with pytest.raises(ValueError, match="size=\\(4, 2\\) but x has 5 rows"):
        conv(x, edge_index, size=(4, 2))
    with pytest.raises(ValueError, match="size=\\(5, 6\\) but x has 5 rows"):
        conv(x, edge_index, size=(5, 6))
    with pytest.raises(ValueError, match="size must be a pair"):
        conv(x, edge_index, size=(5,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="size=\\(5, 5\\) but x\\[0\\] has 5 rows and x\\[1\\] 2"):
        conv((x, x[:2]), edge_index, size=(5, 5))
    adj_t = adj_t_forms(edge_index, 5, 5)["csr"]
    with pytest.raises(ValueError, match="size=\\(5, 4\\) but adj_t has size \\(5, 5\\)"):
        conv(x, adj_t, size=(5, 4))
    with pytest.raises(ValueError, match="size=\\(5, 5\\) but x has 4 rows"):
        conv(x[:4], adj_t)
    with pytest.raises(ValueError, match="sparse adj_t must be a 2-D sparse matrix"):
        conv(x, torch.zeros(2, 5, 5).to_sparse())
    with_edges = make("sum", "sum", 3, 4, edge_dim=1)
    weighted = torch.sparse_coo_tensor(
        edge_index.flip(0), torch.ones(2, dtype=torch.float64), (5, 5), check_invariants=True
    )
    with pytest.raises(ValueError, match="edge features are its values; pass edge_attr=None"):
        with_edges(x, weighted, torch.ones(2, 1, dtype=torch.float64))


@pytest.mark.parametrize(
    ("conv", "kwargs"),
    [
        (lambda: SINCConv(8, 16, aggr="sym", context_aggr="mean"), {}),
        (lambda: SINCConv(8, 16, aggr="max", context_aggr="max", edge_dim=2), {"edge_dim": 2}),
        (lambda: SIRConv(8, 16, aggr="mean"), {"size": True}),
    ],
)
def test_compiles_without_graph_breaks(conv: object, kwargs: dict[str, object]) -> None:
    layer = conv().eval()  # type: ignore[operator]
    x = torch.randn(6, 8)
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 5], [1, 0, 2, 1, 4, 4]])
    args: list[object] = [x, edge_index]
    call: dict[str, object] = {}
    if "edge_dim" in kwargs:
        args.append(torch.randn(6, 2))
    if "size" in kwargs:
        call["size"] = (6, 5)
    torch._dynamo.reset()
    compiled = torch.compile(layer, fullgraph=True, backend="eager")  # a break raises
    torch.testing.assert_close(compiled(*args, **call), layer(*args, **call))
