from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch_geometric.nn import GCNConv, GraphNorm

from graphpair.nn import ConvStack

EDGE_INDEX = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4], [1, 0, 2, 1, 3, 2, 4, 3]])


def _dense_reference(stack: ConvStack, x: torch.Tensor, batch: torch.Tensor | None) -> torch.Tensor:
    """The block written out layer by layer with a dense GCN propagation."""
    n = x.size(0)
    adj = torch.zeros(n, n, dtype=x.dtype)
    adj[EDGE_INDEX[1], EDGE_INDEX[0]] = 1.0
    adj += torch.eye(n, dtype=x.dtype)
    deg = adj.sum(1)
    norm_adj = adj / torch.sqrt(deg[:, None] * deg[None, :])
    h = x
    for conv, norm, resid, has in zip(
        stack.convs, stack.norms, stack.resids, stack.has_resid, strict=True
    ):
        out = norm_adj @ (h @ conv.lin.weight.t()) + conv.bias
        if has:
            out = out + resid(h)
        out = norm(out, batch) if isinstance(norm, GraphNorm) else norm(out)
        h = F.leaky_relu(out, 0.2)
    return h


@pytest.mark.parametrize("norm", ["batch", "layer", "graph", "none"])
@pytest.mark.parametrize("residual", ["linear", "identity", "none"])
def test_stack_equals_the_dense_block(norm: str, residual: str) -> None:
    torch.manual_seed(0)
    convs: list[torch.nn.Module] = [GCNConv(3, 6), GCNConv(6, 6)]
    stack = ConvStack(convs, [3, 6, 6], norm=norm, act="leaky_relu", residual=residual).double()
    x = torch.randn(5, 3, dtype=torch.float64)
    batch = torch.tensor([0, 0, 0, 1, 1])
    got = stack(x, EDGE_INDEX, batch=batch)
    torch.testing.assert_close(got, _dense_reference(stack, x, batch))
    assert got.shape == (5, 6)
    got.sum().backward()
    assert all(p.grad is not None for p in stack.convs.parameters())


def test_residual_choices_and_reset() -> None:
    widths = [3, 8, 8]

    def stack(residual: str) -> ConvStack:
        convs: list[torch.nn.Module] = [torch.nn.Identity(), torch.nn.Identity()]
        return ConvStack(convs, widths, norm="none", act="relu", dropout=0.0, residual=residual)

    assert stack("identity").has_resid == (False, True)
    assert stack("none").has_resid == (False, False)
    linear = stack("linear")
    assert linear.has_resid == (True, True)
    assert sum(p.numel() for p in linear.parameters()) == (3 * 8 + 8) + (8 * 8 + 8)
    before = linear.resids[0].weight.detach().clone()
    linear.reset_parameters()
    linear.reset_parameters()
    assert not torch.equal(before, linear.resids[0].weight)
    assert "residual='linear'" in repr(linear)
    assert "widths=[3, 8, 8]" in repr(linear)


def test_bad_arguments_are_named() -> None:
    two: list[torch.nn.Module] = [torch.nn.Identity(), torch.nn.Identity()]
    with pytest.raises(ValueError, match="widths must have 3 entries"):
        ConvStack(two, [3, 8], norm="none", residual="none")
    with pytest.raises(ValueError, match="norm must be one of"):
        ConvStack(two, [3, 8, 8], norm="instance")
    with pytest.raises(ValueError, match="act must be one of"):
        ConvStack(two, [3, 8, 8], act="swish")
    with pytest.raises(ValueError, match="dropout must be in"):
        ConvStack(two, [3, 8, 8], dropout=1.5)


def test_permutation_equivariance() -> None:
    torch.manual_seed(1)
    stack = ConvStack([GCNConv(3, 4)], [3, 4], norm="layer", residual="linear").eval()
    x = torch.randn(5, 3)
    perm = torch.tensor([3, 0, 4, 1, 2])  # new node i is old node perm[i]
    inverse = torch.argsort(perm)
    torch.testing.assert_close(stack(x[perm], inverse[EDGE_INDEX]), stack(x, EDGE_INDEX)[perm])
