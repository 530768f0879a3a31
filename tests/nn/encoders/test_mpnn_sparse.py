"""MPNNEncoder's learned convs as CSR products: PyG's GCNConv / SAGEConv values, no messages."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.nn import GCNConv, MessagePassing, SAGEConv

from graphpair.nn import MPNNEncoder
from graphpair.nn.encoders import gcn_conv, sage_conv
from graphpair.ops import CSR


def graph(num_nodes: int = 30, num_edges: int = 80, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, num_nodes - 3, (2, num_edges), generator=gen)  # 3 isolated
    return edge_index[:, edge_index[0] != edge_index[1]]


@pytest.mark.parametrize(("in_channels", "out_channels"), [(6, 4), (4, 6)])
def test_gcn_and_sage_match_pyg_values_and_gradients(in_channels: int, out_channels: int) -> None:
    torch.manual_seed(0)
    edge_index = graph()
    weight = torch.rand(edge_index.size(1), dtype=torch.float64) + 0.5
    x = torch.randn(30, in_channels, dtype=torch.float64, requires_grad=True)
    gcn = GCNConv(in_channels, out_channels).double()
    sage = SAGEConv(in_channels, out_channels).double()
    cases = [
        (lambda: gcn_conv(gcn, x, edge_index, weight, 30), lambda: gcn(x, edge_index, weight), gcn),
        (lambda: sage_conv(sage, x, edge_index, 30), lambda: sage(x, edge_index), sage),
    ]
    for ours, theirs, module in cases:
        got, want = ours(), theirs()
        torch.testing.assert_close(got, want)
        params = [x, *module.parameters()]
        grads = torch.autograd.grad(got.square().sum(), params)
        want_grads = torch.autograd.grad(want.square().sum(), params)
        for g, w in zip(grads, want_grads, strict=True):
            torch.testing.assert_close(g, w)


@pytest.mark.parametrize("conv", ["gcn", "sage"])
def test_encoder_builds_no_message_tensor_and_matches_the_pyg_path(
    conv: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.manual_seed(0)
    edge_index = graph()
    adj = CSR.from_edge_index(edge_index, 30)
    encoder = MPNNEncoder(6, 8, num_layers=2, conv=conv, ln=True).double().eval()
    x = torch.randn(30, 6, dtype=torch.float64)
    got = encoder(x, adj)
    # the oracle: the same layers through PyG's own propagate
    h = x
    norms = iter(encoder.norms)
    for layer, module in enumerate(encoder.convs):
        ei = adj.to_edge_index()
        y = module(h, ei, torch.ones(ei.size(1), dtype=h.dtype)) if conv == "gcn" else module(h, ei)
        if layer == 0:
            y = torch.relu(next(norms)(y))
        h = y
    torch.testing.assert_close(got, h)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("PyG's propagate (an [E, D] message tensor) was used")

    monkeypatch.setattr(MessagePassing, "propagate", refuse)
    torch.testing.assert_close(encoder(x, adj), got)


def test_gcn_with_self_loops_falls_back_to_pyg() -> None:
    """GCNConv keeps an existing self loop's weight; the encoder then uses PyG's own path."""
    torch.manual_seed(0)
    edge_index = torch.cat([graph(), torch.tensor([[2, 5], [2, 5]])], dim=1)
    encoder = MPNNEncoder(6, 8, num_layers=1, conv="gcn", ln=False).double().eval()
    x = torch.randn(30, 6, dtype=torch.float64)
    got = encoder(x, edge_index)
    want = torch.relu(
        encoder.convs[0](x, edge_index, torch.ones(edge_index.size(1), dtype=x.dtype))
    )
    torch.testing.assert_close(got, want)
