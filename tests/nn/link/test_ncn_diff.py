from __future__ import annotations

import pytest
import torch

from graphpair.nn.link import NCNDiffPredictor, NCNPredictor
from graphpair.ops import CSR
from tests.nn.link.reference import (
    EDGES,
    NUM_NODES,
    PAIRS,
    adjacency,
    neighbor_sets,
    permutation_case,
    run,
    xprime,
)


def make(**kwargs: object) -> NCNDiffPredictor:
    torch.manual_seed(0)
    return NCNDiffPredictor(4, 8, **kwargs).double().eval()  # type: ignore[arg-type]


def features(seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(NUM_NODES, 4, dtype=torch.float64, generator=gen)


def reference(
    pred: NCNDiffPredictor, h: torch.Tensor, edges: list[tuple[int, int]]
) -> torch.Tensor:
    sets = neighbor_sets(edges)
    hx = xprime(pred, h)
    out = []
    for i, j in PAIRS.t().tolist():
        z_cn = h.new_zeros(4)
        z_diff = h.new_zeros(4)
        for k in sets[i] & sets[j]:
            z_cn = z_cn + hx[k]
        for k in sets[i] ^ sets[j]:
            z_diff = z_diff + hx[k]
        emb = (
            pred.beta * run(pred.cn_mlp, z_cn)
            + run(pred.res_mlp, z_diff)
            + run(pred.ij_mlp, h[i] * h[j])
        )
        out.append(run(pred.head, emb)[0])
    return torch.stack(out)


@pytest.mark.parametrize("options", [{"ln": True}, {"use_xlin": True, "tailact": True}])
def test_matches_python_set_reference(options: dict[str, object]) -> None:
    pred = make(**options)
    assert pred.res_mlp.layout == pred.cn_mlp.layout
    h = features()
    torch.testing.assert_close(pred(h, adjacency(), PAIRS), reference(pred, h, EDGES))
    adj = adjacency()
    with adj.masked(PAIRS[:, :1]) as masked:
        after = pred(h, masked, PAIRS)
    torch.testing.assert_close(after, reference(pred, h, [e for e in EDGES if e != (0, 1)]))


def test_parameters_gradients_reset_repr_and_equivariance() -> None:
    pred = NCNDiffPredictor(4, 8, ln=True, dropout=0.1)
    extra = sum(p.numel() for p in pred.res_mlp.parameters())
    ncn = NCNPredictor(4, 8, ln=True)
    assert (
        sum(p.numel() for p in pred.parameters())
        == sum(p.numel() for p in ncn.parameters()) + extra
    )
    h = torch.randn(NUM_NODES, 4, requires_grad=True)
    pred(h, adjacency(), PAIRS).sum().backward()
    for name, param in pred.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name
    assert repr(pred).startswith("NCNDiffPredictor(4, 8, dropout=0.1")
    model = make(use_xlin=True)
    x = features(1)
    torch.manual_seed(2)
    model.reset_parameters()
    first = model(x, adjacency(), PAIRS)
    torch.manual_seed(2)
    model.reset_parameters()
    torch.testing.assert_close(model(x, adjacency(), PAIRS), first)
    perm, inverse = permutation_case(1)
    permuted = CSR.from_edge_index(perm[torch.tensor(EDGES).t()], NUM_NODES)
    torch.testing.assert_close(model(x[inverse], permuted, perm[PAIRS]), first)


def test_gradcheck() -> None:
    pred = make(ln=True, use_xlin=True)
    h = features().requires_grad_()
    adj = adjacency()
    assert torch.autograd.gradcheck(lambda x: pred(x, adj, PAIRS), (h,))
