"""Every link predictor, the link model and the GRIT link encoder take PyG's adjacency forms.

Each form of the 6-node reference graph (``edge_index`` with one direction per edge, both
directions, ``torch.sparse`` COO / CSR / CSC, PyG's ``adj_t``, a ``SparseTensor`` stand-in,
a ``Data``) must give exactly the outputs and gradients of the graphpair CSR of that graph.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch_geometric.data import Data

from graphpair.nn import (
    GAEPredictor,
    GRITLinkEncoder,
    LinkModel,
    MPNNEncoder,
    NCNCPredictor,
    NCNDiffPredictor,
    NCNPredictor,
    rrwp_pair_bound,
)
from graphpair.ops import CSR
from tests.nn.link.reference import NUM_NODES, PAIRS, adjacency, edge_index
from tests.sparse_forms import FORM_NAMES, SPARSE_BETA, adjacency_forms

pytestmark = pytest.mark.filterwarnings(SPARSE_BETA)

PREDICTORS: dict[str, Callable[[], torch.nn.Module]] = {
    "gae_mlp": lambda: GAEPredictor(4, 8),
    "gae_dot": lambda: GAEPredictor(4, 8, mode="dot"),
    "ncn": lambda: NCNPredictor(4, 8, use_xlin=True, ln=True),
    "ncnc": lambda: NCNCPredictor(4, 8, depth=1, use_xlin=True),
    "ncnc2": lambda: NCNCPredictor(4, 8, depth=2, learn_pt=True),
    "ncn_diff": lambda: NCNDiffPredictor(4, 8, ln=True),
}


def forms() -> dict[str, object]:
    """Every form of the reference graph; ``both_directions`` is PyG's undirected edge_index."""
    out = {name: adj for name, (adj, _) in adjacency_forms(edge_index(), NUM_NODES).items()}
    out["both_directions"] = adjacency().to_edge_index()
    return out


ALL_FORMS = (*FORM_NAMES, "both_directions")


def features() -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    return torch.randn(NUM_NODES, 4, dtype=torch.float64, generator=gen)


@pytest.mark.parametrize("form", ALL_FORMS)
@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_predictors_give_the_csr_outputs_and_gradients_for_every_form(name: str, form: str) -> None:
    torch.manual_seed(0)
    predictor = PREDICTORS[name]().double().eval()
    h_csr = features().requires_grad_()
    expected = predictor(h_csr, adjacency(), PAIRS)
    expected.sum().backward()
    h = features().requires_grad_()
    out = predictor(h, forms()[form], PAIRS)
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    out.sum().backward()
    torch.testing.assert_close(h.grad, h_csr.grad, rtol=0, atol=0)
    embedding = predictor.pair_embedding(features(), forms()[form], PAIRS)
    torch.testing.assert_close(embedding, predictor.pair_embedding(features(), adjacency(), PAIRS))


@pytest.mark.parametrize("name", ["ncn", "ncnc", "ncn_diff"])
def test_predictors_refuse_bad_adjacencies_by_name(name: str) -> None:
    predictor = PREDICTORS[name]().double()
    h = features()
    with pytest.raises(TypeError, match="adj must be a graphpair.ops.CSR, an edge_index"):
        predictor(h, [[0, 1], [1, 0]], PAIRS)
    with pytest.raises(TypeError, match="adj must be a graphpair.ops.CSR, an edge_index"):
        predictor(h, None, PAIRS)
    with pytest.raises(ValueError, match="adj entries must be < 6; found the entry 9"):
        predictor(h, torch.tensor([[0, 9], [1, 0]]), PAIRS)
    with pytest.raises(ValueError, match="adj must have an integer dtype"):
        predictor(h, torch.tensor([[0.0, 1.0], [1.0, 0.0]]), PAIRS)
    bigger = torch.sparse_coo_tensor(
        torch.tensor([[0], [1]]), torch.ones(1), (7, 7), check_invariants=True
    )
    with pytest.raises(ValueError, match="adj has num_nodes=7 but h has 6 rows"):
        predictor(h, bigger, PAIRS)


def test_gae_ignores_adj_in_any_form_without_converting_it() -> None:
    predictor = GAEPredictor(4, 8).double().eval()
    expected = predictor(features(), None, PAIRS)
    for form in forms().values():
        torch.testing.assert_close(predictor(features(), form, PAIRS), expected)
    with pytest.raises(TypeError, match="adj must be a graphpair.ops.CSR, an edge_index"):
        predictor(features(), "graph", PAIRS)


def test_edge_index_uses_h_rows_as_the_node_count() -> None:
    # Node 6 has no edge: an edge_index alone would say N = 6, h says N = 7.
    predictor = NCNPredictor(4, 8).double().eval()
    h = torch.randn(7, 4, dtype=torch.float64)
    pairs = torch.tensor([[0, 6], [1, 0]])
    expected = predictor(h, CSR.from_edge_index(edge_index(), 7), pairs)
    torch.testing.assert_close(predictor(h, edge_index(), pairs), expected)


@pytest.mark.parametrize("form", ["edge_index", "adj_t_csr", "sparse_tensor_t", "data_adj_t"])
def test_link_model_converts_once_for_encoder_and_both_scores(
    form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import graphpair.nn.link._common as common

    torch.manual_seed(0)
    model = LinkModel(MPNNEncoder(3, 8, conv="gcn"), NCNPredictor(8, 8)).eval()
    x = torch.randn(NUM_NODES, 3)
    pos, neg = torch.tensor([[0, 1], [2, 3]]), torch.tensor([[0, 4], [5, 1]])
    expected = model(x, adjacency(), pos, neg)
    calls = []
    real = common.as_csr

    def counting(*args: object, **kwargs: object) -> CSR:
        calls.append(args[0])
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(common, "as_csr", counting)
    out = model(x, forms()[form], pos, neg)
    assert len(calls) == 1  # one conversion, shared by the encoder and both scoring calls
    for got, want in zip(out, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)


@pytest.mark.parametrize("form", ["edge_index", "csr", "sparse_tensor", "data_edge_index"])
def test_grit_link_encoder_and_pair_bound_take_every_form(form: str) -> None:
    torch.manual_seed(0)
    encoder = GRITLinkEncoder(4, 8, 1, heads=2, walk_length=3).eval()
    x = torch.randn(NUM_NODES, 4)
    h_csr, state_csr = encoder(x, adjacency())
    h, state = encoder(x, forms()[form])
    torch.testing.assert_close(h, h_csr, rtol=0, atol=0)
    torch.testing.assert_close(state.pair_attr, state_csr.pair_attr, rtol=0, atol=0)
    assert rrwp_pair_bound(forms()[form], 3) == rrwp_pair_bound(adjacency(), 3)


def test_data_form_is_the_data_graph() -> None:
    data = Data(edge_index=edge_index(), num_nodes=NUM_NODES)
    predictor = NCNPredictor(4, 8).double().eval()
    torch.testing.assert_close(
        predictor(features(), data, PAIRS), predictor(features(), adjacency(), PAIRS)
    )
