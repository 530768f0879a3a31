from __future__ import annotations

import pytest
import torch

from graphpair.nn.encoders import MPNNEncoder
from graphpair.nn.link import NCNPredictor
from graphpair.nn.link._common import drop_edges
from graphpair.ops import CSR
from tests.nn.link.reference import (
    EDGES,
    NUM_NODES,
    PAIRS,
    adjacency,
    ncn_logit,
    neighbor_sets,
    permutation_case,
)

CONFIGS = [
    {},
    {"ln": True, "use_xlin": True, "beta": 0.5},
    {"ln": True, "tailact": True, "twolayerlin": True},
    {"use_xlin": True, "tailact": True, "cn_method": "sparse"},
]


def make(**kwargs: object) -> NCNPredictor:
    torch.manual_seed(0)
    return NCNPredictor(4, 8, **kwargs).double().eval()  # type: ignore[arg-type]


def features(seed: int = 0) -> torch.Tensor:
    return torch.randn(
        NUM_NODES, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)
    )


@pytest.mark.parametrize("options", CONFIGS)
def test_matches_python_set_reference(options: dict[str, object]) -> None:
    pred = make(**options)
    h = features()
    out = pred(h, adjacency(), PAIRS)
    sets = neighbor_sets(EDGES)
    expected = torch.stack([ncn_logit(pred, h, sets, i, j) for i, j in PAIRS.t().tolist()])
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize(
    ("options", "layouts"),
    [
        (
            {"ln": True, "use_xlin": True},
            {
                "xlin": "lin do relu lin ln do relu",
                "cn_mlp": "lin do relu lin ln do relu lin",
                "ij_mlp": "lin ln do relu lin",
                "head": "lin ln do relu lin",
            },
        ),
        (
            {"tailact": True, "twolayerlin": True},
            {
                "cn_mlp": "lin do relu lin do relu",
                "ij_mlp": "lin do relu",
                "head": "lin do relu lin do relu lin",
            },
        ),
    ],
)
def test_layouts_follow_spec(options: dict[str, object], layouts: dict[str, str]) -> None:
    pred = make(**options)
    assert (pred.xlin is None) == ("xlin" not in layouts)
    for name, layout in layouts.items():
        assert " ".join(getattr(pred, name).layout) == layout, name


def test_parameter_counts_of_the_ogb_leaderboard() -> None:
    """Spec §2.9: 33,538 parameters on ogbl-ppa and 1,412,098 on ogbl-ddi (encoder included)."""
    ppa = MPNNEncoder(None, 64, 3, conv="gcn", num_embeddings=58, ln=True, res=True)
    ppa_pred = NCNPredictor(64, 64, ln=True, tailact=True)
    assert sum(p.numel() for p in ppa_pred.parameters()) == 17_090
    assert sum(p.numel() for m in (ppa, ppa_pred) for p in m.parameters()) == 33_538
    ddi = MPNNEncoder(None, 224, 1, conv="puresum", num_embeddings=4_268, res=True)
    ddi_pred = NCNPredictor(224, 224, ln=True, use_xlin=True, twolayerlin=True)
    assert sum(p.numel() for m in (ddi, ddi_pred) for p in m.parameters()) == 1_412_098


def test_target_link_removal_changes_the_common_neighbours() -> None:
    pred = make(ln=True)
    h = features()
    adj = adjacency()
    target = torch.tensor([[1], [0]])  # the edge (0, 1), given in the other direction
    before = pred(h, adj, PAIRS)
    with adj.masked(target) as masked:
        after = pred(h, masked, PAIRS)
    sets = neighbor_sets([e for e in EDGES if e != (0, 1)])
    assert sets[0] & sets[4] == {2}  # was {1, 2}
    expected = torch.stack([ncn_logit(pred, h, sets, i, j) for i, j in PAIRS.t().tolist()])
    torch.testing.assert_close(after, expected)
    assert not torch.allclose(after[1], before[1])  # pair (0, 4) lost node 1
    torch.testing.assert_close(after[2], before[2])  # pair (2, 3) keeps {0, 1}
    assert adj.num_masked == 0
    torch.testing.assert_close(pred(h, adj, PAIRS), before)


def test_shapes_repr_and_empty_inputs() -> None:
    pred = NCNPredictor(4, 8, dropout=0.1, edge_dropout=0.2, ln=True)
    h = torch.randn(NUM_NODES, 4)
    assert pred(h, adjacency(), PAIRS).shape == (PAIRS.size(1),)
    assert pred.pair_embedding(h, adjacency(), PAIRS).shape == (PAIRS.size(1), 8)
    assert pred(h, adjacency(), torch.empty(2, 0, dtype=torch.long)).shape == (0,)
    empty_graph = CSR.from_edge_index(torch.empty(2, 0, dtype=torch.long), NUM_NODES)
    assert pred(h, empty_graph, PAIRS).shape == (PAIRS.size(1),)
    assert repr(pred) == (
        "NCNPredictor(4, 8, dropout=0.1, edge_dropout=0.2, ln=True, use_xlin=False, "
        "tailact=False, twolayerlin=False, beta=1.0)"
    )


def test_reset_parameters_twice_restores_beta() -> None:
    pred = make(use_xlin=True, beta=0.25)
    h = features()
    with torch.no_grad():
        pred.beta.fill_(3.0)
    torch.manual_seed(1)
    pred.reset_parameters()
    first = pred(h, adjacency(), PAIRS)
    torch.manual_seed(1)
    pred.reset_parameters()
    assert pred.beta.item() == 0.25
    torch.testing.assert_close(pred(h, adjacency(), PAIRS), first)


def test_gradient_reaches_every_parameter_and_h() -> None:
    pred = NCNPredictor(4, 8, ln=True, use_xlin=True, twolayerlin=True, dropout=0.1)
    h = torch.randn(NUM_NODES, 4, requires_grad=True)
    pred(h, adjacency(), PAIRS).sum().backward()
    assert h.grad is not None
    assert h.grad.abs().sum() > 0
    for name, param in pred.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


@pytest.mark.parametrize("seed", [0, 1])
def test_permutation_equivariance(seed: int) -> None:
    pred = make(ln=True, use_xlin=True)
    h = features(seed)
    perm, inverse = permutation_case(seed)
    out = pred(h, adjacency(), PAIRS)
    permuted_adj = CSR.from_edge_index(perm[torch.tensor(EDGES).t()], NUM_NODES)
    torch.testing.assert_close(pred(h[inverse], permuted_adj, perm[PAIRS]), out)
    order = torch.randperm(PAIRS.size(1), generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(pred(h, adjacency(), PAIRS[:, order]), out[order])


def test_gradcheck() -> None:
    pred = make(ln=True, use_xlin=True)
    h = features().requires_grad_()
    adj = adjacency()
    assert torch.autograd.gradcheck(lambda x: pred(x, adj, PAIRS), (h,))


def test_training_is_deterministic_under_a_seed() -> None:
    pred = NCNPredictor(4, 8, dropout=0.3, edge_dropout=0.4, use_xlin=True)
    h = torch.randn(NUM_NODES, 4)
    adj = adjacency()
    outs = []
    for _ in range(2):
        torch.manual_seed(5)
        outs.append(pred(h, adj, PAIRS))
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=0)


def test_edge_dropout_only_in_training_and_leaves_adj_alone() -> None:
    pred = make(edge_dropout=0.5)
    h = features()
    adj = adjacency()
    sets = neighbor_sets(EDGES)
    expected = torch.stack([ncn_logit(pred, h, sets, i, j) for i, j in PAIRS.t().tolist()])
    torch.testing.assert_close(pred(h, adj, PAIRS), expected)  # eval: no dropping
    pred.train()
    outs = {tuple(pred(h, adj, PAIRS).tolist()) for _ in range(10)}
    assert len(outs) > 1
    assert adj.num_masked == 0
    assert adj.num_edges == 2 * len(EDGES)


def test_drop_edges_keeps_a_subset_of_the_active_entries() -> None:
    adj = adjacency()
    adj.mask_edges(torch.tensor([[0], [1]]))
    torch.manual_seed(0)
    dropped = drop_edges(adj, 0.5)
    active = {tuple(e) for e in adj.to_edge_index().t().tolist()}
    kept = {tuple(e) for e in dropped.to_edge_index().t().tolist()}
    assert kept < active
    assert (0, 1) not in kept
    assert len(kept) > 0
    assert dropped.num_masked == 0
    assert drop_edges(adj, 0.0).to_edge_index().tolist() == adj.to_edge_index().tolist()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="edge_dropout must be in"):
        NCNPredictor(4, 8, edge_dropout=-0.1)
    with pytest.raises(ValueError, match="cn_method must be one of"):
        NCNPredictor(4, 8, cn_method="bitset")
    with pytest.raises(TypeError, match="beta must be a float"):
        NCNPredictor(4, 8, beta="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="adj must be a graphpair.ops.CSR, an edge_index"):
        NCNPredictor(4, 8)(torch.randn(NUM_NODES, 4), EDGES, PAIRS)
