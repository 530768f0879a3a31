from __future__ import annotations

import pytest
import torch

from graphpair.nn.link import GAEPredictor
from tests.nn.link.reference import NUM_NODES, PAIRS, adjacency, permutation_case, run_layout

IJ = ["lin", "ln", "do", "relu", "lin"]
HEAD = ["lin", "ln", "do", "relu", "lin"]


def make(**kwargs: object) -> GAEPredictor:
    torch.manual_seed(0)
    return GAEPredictor(4, 8, **kwargs).double().eval()  # type: ignore[arg-type]


def test_mlp_matches_per_pair_reference() -> None:
    pred = make(ln=True)
    assert pred.ij_mlp is not None
    assert pred.head is not None
    assert list(pred.ij_mlp.layout) == IJ
    assert list(pred.head.layout) == HEAD
    h = torch.randn(NUM_NODES, 4, dtype=torch.float64)
    out = pred(h, adjacency(), PAIRS)
    for p, (i, j) in enumerate(PAIRS.t().tolist()):
        emb = run_layout(pred.ij_mlp, IJ, h[i] * h[j])
        torch.testing.assert_close(pred.pair_embedding(h, None, PAIRS)[p], emb)
        torch.testing.assert_close(out[p], run_layout(pred.head, HEAD, emb)[0])


@pytest.mark.parametrize(
    ("options", "ij", "head"),
    [
        ({"tailact": True}, ["lin", "do", "relu"], ["lin", "do", "relu", "lin"]),
        ({"twolayerlin": True, "ln": True}, IJ, HEAD[:4] + HEAD),
    ],
)
def test_layout_options(options: dict[str, bool], ij: list[str], head: list[str]) -> None:
    pred = make(**options)
    assert pred.ij_mlp is not None
    assert pred.head is not None
    assert list(pred.ij_mlp.layout) == ij
    assert list(pred.head.layout) == head


def test_dot_mode_is_the_inner_product() -> None:
    pred = GAEPredictor(4, 8, mode="Dot")
    assert sum(p.numel() for p in pred.parameters()) == 0
    h = torch.randn(NUM_NODES, 4)
    expected = (h[PAIRS[0]] * h[PAIRS[1]]).sum(-1)
    torch.testing.assert_close(pred(h, None, PAIRS), expected)
    assert pred.pair_embedding(h, None, PAIRS).shape == (PAIRS.size(1), 4)
    assert repr(pred) == "GAEPredictor(4, mode='dot')"


def test_shapes_repr_and_empty_pairs() -> None:
    pred = GAEPredictor(4, 8, dropout=0.1)
    h = torch.randn(NUM_NODES, 4)
    assert pred(h, adjacency(), PAIRS).shape == (PAIRS.size(1),)
    assert pred.pair_embedding(h, None, PAIRS).shape == (PAIRS.size(1), 8)
    assert pred(h, None, torch.empty(2, 0, dtype=torch.long)).shape == (0,)
    assert repr(pred) == (
        "GAEPredictor(4, 8, mode='mlp', dropout=0.1, ln=False, tailact=False, twolayerlin=False)"
    )


def test_reset_parameters_twice() -> None:
    pred = make()
    h = torch.randn(NUM_NODES, 4, dtype=torch.float64)
    torch.manual_seed(1)
    pred.reset_parameters()
    first = pred(h, None, PAIRS)
    torch.manual_seed(1)
    pred.reset_parameters()
    torch.testing.assert_close(pred(h, None, PAIRS), first)


def test_gradient_reaches_every_parameter_and_h() -> None:
    pred = GAEPredictor(4, 8, ln=True, dropout=0.2, twolayerlin=True)
    h = torch.randn(NUM_NODES, 4, requires_grad=True)
    pred(h, None, PAIRS).sum().backward()
    assert h.grad is not None
    assert h.grad.abs().sum() > 0
    for name, param in pred.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


def test_permutation_equivariance() -> None:
    pred = make(ln=True)
    h = torch.randn(NUM_NODES, 4, dtype=torch.float64)
    perm, inverse = permutation_case(3)
    out = pred(h, None, PAIRS)
    torch.testing.assert_close(pred(h[inverse], None, perm[PAIRS]), out)
    order = torch.randperm(PAIRS.size(1), generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(pred(h, None, PAIRS[:, order]), out[order])


def test_gradcheck() -> None:
    pred = make(ln=True)
    h = torch.randn(NUM_NODES, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: pred(x, None, PAIRS), (h,))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        GAEPredictor(4, 8, mode="cosine")
    with pytest.raises(ValueError, match="dropout must be in"):
        GAEPredictor(4, 8, dropout=1.0)
    pred = GAEPredictor(4, 8)
    with pytest.raises(ValueError, match="pairs entries must be < 6"):
        pred(torch.randn(NUM_NODES, 4), None, torch.tensor([[0], [6]]))
    with pytest.raises(ValueError, match="adj has num_nodes=6 but h has 5 rows"):
        pred(torch.randn(5, 4), adjacency(), torch.tensor([[0], [1]]))
