from __future__ import annotations

import pytest
import torch
from torch import Tensor

import graphpair.nn.link._ncnc as ncn_module
from graphpair.nn.link import NCNCPredictor, NCNPredictor
from graphpair.ops import CSR, PairNodeSet
from tests.nn.link.reference import (
    EDGES,
    NUM_NODES,
    PAIRS,
    adjacency,
    ncnc_logit,
    neighbor_sets,
    permutation_case,
)

CALIBRATION = {"scale": 2.5, "offset": 0.3, "pt": 0.4, "alpha": 0.8}


def make(**kwargs: object) -> NCNCPredictor:
    torch.manual_seed(0)
    options = {**CALIBRATION, **kwargs}
    return NCNCPredictor(4, 8, **options).double().eval()  # type: ignore[arg-type]


def features(seed: int = 0) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(NUM_NODES, 4, dtype=torch.float64, generator=gen)


def reference(
    pred: NCNCPredictor, h: Tensor, edges: list[tuple[int, int]], *, official: bool = False
) -> Tensor:
    sets = neighbor_sets(edges)
    return torch.stack(
        [
            ncnc_logit(pred, h, sets, i, j, pred.depth, official=official)
            for i, j in PAIRS.t().tolist()
        ]
    )


@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("official", [False, True])
@pytest.mark.parametrize(
    "options",
    [{"ln": True}, {"use_xlin": True, "tailact": True, "learn_pt": True, "beta": 0.7}],
)
def test_matches_hand_loop_reference(
    depth: int, official: bool, options: dict[str, object]
) -> None:
    pred = make(depth=depth, official_recursion=official, **options)
    h = features()
    torch.testing.assert_close(
        pred(h, adjacency(), PAIRS), reference(pred, h, EDGES, official=official)
    )


def test_depth_zero_is_ncn_with_the_same_parameters() -> None:
    ncnc = make(depth=0, use_xlin=True, ln=True)
    ncn = NCNPredictor(4, 8, use_xlin=True, ln=True).double().eval()
    ncn.load_state_dict(ncnc.state_dict())  # strict: same parameters
    h = features()
    torch.testing.assert_close(ncnc(h, adjacency(), PAIRS), ncn(h, adjacency(), PAIRS))


def test_each_distinct_completion_pair_is_scored_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Tensor] = []
    original = ncn_module.common_neighbors

    def spy(adj: CSR, pairs: Tensor, **kwargs: str) -> PairNodeSet:
        calls.append(pairs.clone())
        return original(adj, pairs, **kwargs)

    monkeypatch.setattr(ncn_module, "common_neighbors", spy)
    pred = make(depth=1)
    pairs = torch.tensor([[0, 0, 2, 5], [4, 5, 3, 2]])
    pred(features(), adjacency(), pairs)
    sets = neighbor_sets(EDGES)
    occurrences = [
        (anchor, k)
        for i, j in pairs.t().tolist()
        for anchor, own, other in ((j, i, j), (i, j, i))
        for k in sets[own] - sets[other]
    ]
    assert len(calls) == 1
    scored = [tuple(p) for p in calls[0].t().tolist()]
    assert sorted(scored) == sorted(set(occurrences))
    assert len(scored) < len(occurrences)  # the batch does share completion pairs


def test_chunking_does_not_change_the_result() -> None:
    h = features()
    whole = make(depth=2)(h, adjacency(), PAIRS)
    torch.testing.assert_close(make(depth=2, chunk_size=3)(h, adjacency(), PAIRS), whole)


def test_target_link_removal_changes_completion() -> None:
    pred = make(depth=1, ln=True)
    h = features()
    adj = adjacency()
    before = pred(h, adj, PAIRS)
    with adj.masked(PAIRS[:, :1]) as masked:  # the edge (0, 1)
        after = pred(h, masked, PAIRS)
    remaining = [e for e in EDGES if e != (0, 1)]
    torch.testing.assert_close(after, reference(pred, h, remaining))
    assert not torch.allclose(after, before)


def test_completion_gradients_are_stopped_except_through_pt() -> None:
    """Completion scores carry no gradient; the reference detaches the inner inputs."""
    pred = make(depth=2, use_xlin=True)
    h = features().requires_grad_()
    pred(h, adjacency(), PAIRS).sum().backward()
    assert h.grad is not None
    h_ref = h.detach().clone().requires_grad_()
    reference(pred, h_ref, EDGES).sum().backward()
    torch.testing.assert_close(h.grad, h_ref.grad)


def test_gradcheck_with_constant_completion_weights() -> None:
    # scale = 0 makes every completion weight alpha * pt / (pt + 1) whatever the inner score,
    # so the stop-gradient is exact and gradcheck sees the completed sums.
    pred = make(depth=1, scale=0.0, use_xlin=True, ln=True)
    h = features().requires_grad_()
    adj = adjacency()
    assert torch.autograd.gradcheck(lambda x: pred(x, adj, PAIRS), (h,))


def test_gradient_reaches_every_parameter_including_pt_mlp() -> None:
    pred = NCNCPredictor(4, 8, learn_pt=True, use_xlin=True, ln=True, dropout=0.1, **CALIBRATION)
    h = torch.randn(NUM_NODES, 4, requires_grad=True)
    pred(h, adjacency(), PAIRS).sum().backward()
    assert h.grad is not None
    assert h.grad.abs().sum() > 0
    for name, param in pred.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


@pytest.mark.parametrize("official", [False, True])
def test_permutation_equivariance(official: bool) -> None:
    pred = make(depth=2, use_xlin=True, official_recursion=official)
    h = features(1)
    perm, inverse = permutation_case(2)
    out = pred(h, adjacency(), PAIRS)
    permuted_adj = CSR.from_edge_index(perm[torch.tensor(EDGES).t()], NUM_NODES)
    torch.testing.assert_close(pred(h[inverse], permuted_adj, perm[PAIRS]), out)
    order = torch.randperm(PAIRS.size(1), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(pred(h, adjacency(), PAIRS[:, order]), out[order])


@pytest.mark.parametrize("official", [False, True])
def test_training_is_deterministic_under_a_seed(official: bool) -> None:
    pred = NCNCPredictor(
        4, 8, depth=2, dropout=0.3, edge_dropout=0.3, use_xlin=True, official_recursion=official
    )
    h = torch.randn(NUM_NODES, 4)
    outs = []
    for _ in range(2):
        torch.manual_seed(9)
        outs.append(pred(h, adjacency(), PAIRS))
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=0)


def test_shapes_repr_reset_and_parameters() -> None:
    pred = NCNCPredictor(4, 8, depth=2, learn_pt=True, scale=4.3, offset=2.8, pt=0.75)
    h = torch.randn(NUM_NODES, 4)
    assert pred(h, adjacency(), PAIRS).shape == (PAIRS.size(1),)
    assert pred.pair_embedding(h, adjacency(), PAIRS).shape == (PAIRS.size(1), 8)
    assert pred(h, adjacency(), torch.empty(2, 0, dtype=torch.long)).shape == (0,)
    assert repr(pred).endswith(
        "depth=2, scale=4.3, offset=2.8, pt=0.75, alpha=1.0, learn_pt=True, "
        "official_recursion=False, train_degree_cap=None, test_degree_cap=None)"
    )
    plain = NCNCPredictor(4, 8)
    ncn = NCNPredictor(4, 8)
    assert sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in ncn.parameters())
    assert pred.pt_mlp is not None
    pred.eval()
    torch.manual_seed(3)
    pred.reset_parameters()
    first = pred(h, adjacency(), PAIRS)
    torch.manual_seed(3)
    pred.reset_parameters()
    torch.testing.assert_close(pred(h, adjacency(), PAIRS), first)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="depth must be >= 0"):
        NCNCPredictor(4, 8, depth=-1)
    with pytest.raises(ValueError, match="pt must be > 0"):
        NCNCPredictor(4, 8, pt=0.0)
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        NCNCPredictor(4, 8, chunk_size=0)
    with pytest.raises(TypeError, match="alpha must be a float"):
        NCNCPredictor(4, 8, alpha=None)  # type: ignore[arg-type]
