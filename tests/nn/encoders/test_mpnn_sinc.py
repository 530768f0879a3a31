"""``MPNNEncoder`` with the SINC-GCN / SIR-GCN convolutions (``conv='sinc'`` / ``'sir'``)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from graphpair.nn import CONVS, MPNNEncoder, SINCConv, SIRConv
from graphpair.ops import CSR
from graphpair.train import LinkConfig, build_encoder

EDGES = [(0, 1), (0, 2), (1, 2), (1, 3), (3, 4)]  # node 5 isolated
N = 6


def edge_index() -> Tensor:
    e = torch.tensor(EDGES).t()
    return torch.cat([e, e.flip(0)], dim=1)


def features(dim: int = 3) -> Tensor:
    return torch.randn(N, dim, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


def make(*args: object, **kwargs: object) -> MPNNEncoder:
    torch.manual_seed(0)
    return MPNNEncoder(*args, **kwargs).double().eval()  # type: ignore[arg-type]


def test_sinc_and_sir_are_encoder_convolutions() -> None:
    assert {"sinc", "sir"} <= set(CONVS)
    sinc = make(3, 4, 2, conv="SINC")
    sir = make(3, 4, 2, conv="sir", sinc_aggr="sym")
    assert all(isinstance(c, SINCConv) for c in sinc.convs)
    assert all(isinstance(c, SIRConv) for c in sir.convs)
    first = sinc.convs[0]
    assert (first.aggr, first.context_aggr) == ("mean", "sym")  # the defaults
    assert sir.convs[0].aggr == "sym"
    assert first.in_channels == 3  # the convs read the features directly, no input Linear
    assert sinc.lin is None


def test_sinc_stack_matches_a_manual_composition() -> None:
    enc = make(3, 4, 2, conv="sinc", ln=True, res=True, sinc_aggr="sum")
    x = features()
    ei = edge_index()
    conv1, conv2 = enc.convs
    (norm,) = enc.norms
    x1 = F.relu(norm(conv1(x, ei)))  # 3 -> 4: no residual
    x2 = conv2(x1, ei) + x1  # the last layer is linear, with the residual
    torch.testing.assert_close(enc(x, CSR.from_edge_index(ei, N)), x2)
    torch.testing.assert_close(enc(x, ei), x2)


def test_target_link_removal_and_featureless_input() -> None:
    enc = make(None, 4, 1, conv="sinc", num_embeddings=N + 1)
    adj = CSR.from_edge_index(edge_index(), N)
    full = enc(None, adj)
    with adj.masked(torch.tensor([[0], [1]])) as masked:
        out = enc(None, masked)
    rest = torch.tensor([e for e in EDGES if e != (0, 1)]).t()
    assert enc.embedding is not None
    expected = F.relu(enc.convs[0](enc.embedding.weight[:N], torch.cat([rest, rest.flip(0)], 1)))
    torch.testing.assert_close(out, expected)
    assert not torch.allclose(out, full)


def test_gradients_and_edge_dropout() -> None:
    enc = make(3, 4, 2, conv="sinc", edge_dropout=0.5, jk=True)
    enc.train()
    x = features().requires_grad_()
    adj = CSR.from_edge_index(edge_index(), N)
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        runs.append(enc(x, adj))
    torch.testing.assert_close(runs[0], runs[1], rtol=0, atol=0)
    runs[0].sum().backward()
    for name, param in enc.named_parameters():
        assert param.grad is not None, name


def test_repr_and_bad_aggregation() -> None:
    assert repr(MPNNEncoder(3, 8, conv="sinc")).endswith(
        "jk=False, sinc_aggr='mean', sinc_context_aggr='sym')"
    )
    assert repr(MPNNEncoder(3, 8, conv="sir", sinc_aggr="max")).endswith(
        "jk=False, sinc_aggr='max')"
    )
    with pytest.raises(ValueError, match="sinc_context_aggr must be one of"):
        MPNNEncoder(3, 8, conv="sinc", sinc_context_aggr="std")


def test_link_runner_config_accepts_sinc() -> None:
    config = LinkConfig(conv="SINC", hidden_channels=8, num_layers=2)
    assert config.conv == "sinc"
    encoder = build_encoder(config, 3, None)
    assert isinstance(encoder.convs[0], SINCConv)
    assert encoder(torch.randn(N, 3), edge_index()).shape == (N, 8)
