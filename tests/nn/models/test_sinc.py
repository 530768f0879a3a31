from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from graphpair.nn import SINC, SINCConv

# Two graphs: a triangle (0, 1, 2) and a path 3 - 4 - 5, node 6 isolated in the second graph.
EDGES = [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5)]
BATCH = torch.tensor([0, 0, 0, 1, 1, 1, 1])
N = 7


def edge_index() -> Tensor:
    e = torch.tensor(EDGES).t()
    return torch.cat([e, e.flip(0)], dim=1)


def features(dim: int = 3, seed: int = 0, num_nodes: int = N) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(num_nodes, dim, dtype=torch.float64, generator=gen)


def make(*args: object, **kwargs: object) -> SINC:
    torch.manual_seed(0)
    return SINC(*args, **kwargs).double().eval()  # type: ignore[arg-type]


def test_published_zinc_parameter_count() -> None:
    """The authors' ZINC model (h70, 4 layers, sym/mean, BN, Linear residual, 2-layer sum
    readout, atom embedding) has 106,401 parameters (spec §3)."""
    model = SINC(
        None,
        70,
        1,
        4,
        num_embeddings=28,
        aggr="sym",
        context_aggr="mean",
        pool="sum",
        readout_layers=2,
    )
    assert sum(p.numel() for p in model.parameters()) == 106_401


def test_blocks_match_a_manual_composition() -> None:
    model = make(3, 8, 2, 2, aggr="mean", context_aggr="sym", dropout=0.3, pool="mean")
    x = features()
    ei = edge_index()
    h = model.lin_in(x)  # type: ignore[misc]
    for conv, resid, norm in zip(model.convs, model.stack.resids, model.stack.norms, strict=True):
        h = F.leaky_relu(norm(conv(h, ei) + resid(h)), 0.2)
    pooled = torch.stack([h[BATCH.eq(g)].mean(0) for g in range(2)])
    first, second = model.readout
    expected = second(F.leaky_relu(first(pooled), 0.2))
    torch.testing.assert_close(model(x, ei, batch=BATCH), expected)
    torch.testing.assert_close(model.embed(x, ei, batch=BATCH), pooled)


@pytest.mark.parametrize("residual", ["identity", None])
@pytest.mark.parametrize("norm", ["layer", "graph", None])
def test_residual_and_norm_options(residual: str | None, norm: str | None) -> None:
    model = make(3, 8, 2, 1, residual=residual, norm=norm, readout_layers=1)
    x = features()
    ei = edge_index()
    h = model.lin_in(x)  # type: ignore[misc]
    out = model.convs[0](h, ei)
    if residual == "identity":
        out = out + h
    if norm == "graph":
        out = model.stack.norms[0](out, None)
    elif norm == "layer":
        out = model.stack.norms[0](out)
    expected = model.readout[0](F.leaky_relu(out, 0.2))
    torch.testing.assert_close(model(x, ei), expected)
    assert model.stack.has_resid == ((True,) if residual == "identity" else (False,))
    parameters = sum(p.numel() for p in model.stack.parameters())
    assert (
        parameters
        == sum(p.numel() for p in model.convs.parameters())
        + ({"layer": 16, "graph": 24, None: 0}[norm])
    )


def test_graph_level_output_is_per_graph() -> None:
    """In eval mode (BatchNorm with running statistics) a batch gives each graph's own output."""
    model = make(3, 8, 2, 3, pool="sum")
    x = features()
    ei = edge_index()
    together = model(x, ei, batch=BATCH)
    assert together.shape == (2, 2)
    first = model(x[:3], ei[:, ei.max(0).values < 3])
    second_edges = ei[:, ei.min(0).values >= 3] - 3
    second = model(x[3:], second_edges)
    torch.testing.assert_close(together, torch.cat([first, second]))


def test_num_graphs_keeps_trailing_empty_graphs() -> None:
    model = make(3, 8, 2, 1, pool="sum")
    out = model(features(), edge_index(), batch=BATCH, num_graphs=4)
    assert out.shape == (4, 2)
    empty = model.readout[1](F.leaky_relu(model.readout[0](torch.zeros(8).double()), 0.2))
    torch.testing.assert_close(out[2], empty)
    torch.testing.assert_close(out[3], empty)


def test_node_level_equivariance_and_graph_level_invariance() -> None:
    x = features()
    ei = edge_index()
    perm = torch.randperm(N, generator=torch.Generator().manual_seed(1))
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(N)
    node_model = make(3, 8, 2, 2, aggr="max", context_aggr="max")
    torch.testing.assert_close(node_model(x[inverse], perm[ei]), node_model(x, ei)[inverse])
    graph_model = make(3, 8, 2, 2, pool="mean")
    torch.testing.assert_close(
        graph_model(x[inverse], perm[ei], batch=BATCH[inverse]),
        graph_model(x, ei, batch=BATCH),
    )


def test_type_ids_and_sir_variant() -> None:
    model = make(None, 8, 1, 2, num_embeddings=5, context_aggr=None, pool="sum")
    assert all(conv.lin_context is None for conv in model.convs)
    ids = torch.tensor([0, 1, 2, 3, 4, 0, 1])
    out = model(ids, edge_index(), batch=BATCH)
    torch.testing.assert_close(model(ids.view(-1, 1), edge_index(), batch=BATCH), out)
    assert out.shape == (2, 1)


def test_edge_features_reach_every_conv() -> None:
    model = make(3, 8, 2, 2, edge_dim=4)
    ei = edge_index()
    attr = features(4, seed=1, num_nodes=ei.size(1))
    assert all(conv.edge_dim == 4 for conv in model.convs)
    a = model(features(), ei, attr)
    b = model(features(), ei, attr + 1.0)
    assert not torch.allclose(a, b)


def test_training_gradients_reach_every_parameter() -> None:
    model = make(3, 8, 2, 2, dropout=0.1, conv_dropout=0.1, input_dropout=0.1, pool="sum")
    model.train()
    model(features(), edge_index(), batch=BATCH).square().sum().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


def test_activation_module_is_copied_per_layer() -> None:
    model = SINC(3, 8, 2, 2, act=torch.nn.PReLU())
    first, second = (conv.act for conv in model.convs)
    assert first is not second
    assert isinstance(model.convs[0], SINCConv)


def test_reset_parameters_and_repr() -> None:
    model = make(3, 8, 2, 2)
    x, ei = features(), edge_index()
    torch.manual_seed(5)
    model.reset_parameters()
    first = model(x, ei)
    torch.manual_seed(5)
    model.reset_parameters()
    torch.testing.assert_close(model(x, ei), first)
    assert repr(SINC(3, 8, 2, 1, aggr="mean", pool="mean")) == (
        "SINC(3, 8, 2, num_layers=1, conv=SINCConv(8, 8, hidden_channels=8, aggr='mean', "
        "context_aggr='sum', act=ReLU(), dropout=0.0, inner_bias=True, bias=True), "
        "dropout=0.0, input_dropout=0.0, norm='batch', residual='linear', pool='mean', "
        "readout_layers=2, block_act='leaky_relu', input_lin=True)"
    )


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="exactly one of in_channels"):
        SINC(3, 8, 2, num_embeddings=4)
    with pytest.raises(ValueError, match="norm must be one of"):
        SINC(3, 8, 2, norm="instance")
    with pytest.raises(ValueError, match="pool must be one of"):
        SINC(3, 8, 2, pool="max")
    with pytest.raises(ValueError, match="residual must be one of"):
        SINC(3, 8, 2, residual="gated")
    with pytest.raises(ValueError, match="readout_layers must be >= 1"):
        SINC(3, 8, 2, readout_layers=0)
    with pytest.raises(ValueError, match="aggr must be one of"):
        SINC(3, 8, 2, aggr="median")
    model = SINC(3, 8, 2, pool="sum")
    with pytest.raises(ValueError, match="x has 2 features but in_channels=3"):
        model(torch.randn(N, 2), edge_index())
    with pytest.raises(ValueError, match=r"batch must have one entry per node \(7\); got 3"):
        model(torch.randn(N, 3), edge_index(), batch=torch.zeros(3, dtype=torch.long))
    ids = SINC(None, 8, 2, num_embeddings=3)
    with pytest.raises(ValueError, match=r"x type ids must be in \[0, num_embeddings=3\)"):
        ids(torch.arange(N), edge_index())


def test_without_head_or_input_map_it_is_the_runners_backbone() -> None:
    """``out_channels=None`` returns the blocks' output; ``input_lin=False`` feeds float
    features to the first block at their own width (the runner's SINC backbone)."""
    torch.manual_seed(0)
    model = SINC(3, 8, None, 2, input_lin=False, block_act="relu", norm=None).double()
    assert model.lin_in is None
    assert model.readout is None
    assert model.stack.widths == [3, 8, 8]
    x = features()
    ei = edge_index()
    h = x
    for conv, resid in zip(model.convs, model.stack.resids, strict=True):
        h = torch.relu(conv(h, ei) + resid(h))
    torch.testing.assert_close(model(x, ei), h)
    assert "input_lin=False" in repr(model)
    with pytest.raises(ValueError, match="block_act must be one of"):
        SINC(3, 8, None, block_act="swish")
