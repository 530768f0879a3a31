from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch
from torch_geometric.nn import GCNConv

from graphpair.nn import (
    SINC,
    ConvBackbone,
    ConvStack,
    FeatureEncoder,
    GraphInputs,
    GraphModel,
    MLPReadout,
)
from tests.graphs import molecules, undirected_graph


def _inputs(batch: Batch, out: int = 1, node_level: bool = False) -> GraphInputs:
    return GraphInputs.from_data(batch, out, node_level)


def test_inputs_read_the_feature_layout() -> None:
    inputs = _inputs(molecules())
    assert inputs.node_vocab == (3, 3)
    assert inputs.edge_vocab == (4,)
    assert (inputs.node_features, inputs.edge_features) == (0, 0)
    bare = GraphInputs.from_data(undirected_graph(3, [(0, 1)]), 2, True)
    assert (bare.node_vocab, bare.node_features, bare.edge_features) == (None, 1, 0)
    floats = GraphInputs.from_data(
        undirected_graph(2, [(0, 1)], x=torch.randn(2, 5), edge_attr=torch.randn(2, 3)), 1, False
    )
    assert (floats.node_features, floats.edge_features, floats.edge_vocab) == (5, 3, None)


def _gcn_model(sinc: bool = False) -> GraphModel:
    if sinc:
        stack: torch.nn.Module = SINC(8, 8, None, 2, input_lin=False, norm="layer")
    else:
        stack = ConvStack([GCNConv(8, 8), GCNConv(8, 8)], [8, 8, 8], norm="layer")
    return GraphModel(
        ConvBackbone(stack),
        node_encoder=FeatureEncoder(8, vocab=(3, 3), in_channels=0),
        edge_encoder=None,
        readout=MLPReadout(8, 2, pooling="sum", head_layers=1),
    )


def test_model_is_encoder_backbone_readout_in_that_order() -> None:
    torch.manual_seed(0)
    model = _gcn_model().eval()
    batch = molecules()
    x = model.node_encoder(batch.x, 7)
    h = model.backbone.stack(x, batch.edge_index)
    expected = model.readout(h, batch.batch, 2)
    torch.testing.assert_close(model(batch), expected)
    out, z = model.forward_with_representation(batch)
    torch.testing.assert_close(out, expected)
    assert z.shape == (2, 8)


def test_reset_parameters_reaches_every_part() -> None:
    model = _gcn_model()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    model.reset_parameters()
    model.reset_parameters()
    # Every randomly initialised tensor is drawn again (GCN biases and LayerNorm start at
    # constants, so they are left out).
    random = [n for n in before if "norms" not in n and not n.endswith("convs.0.bias")]
    random = [n for n in random if not n.endswith("convs.1.bias")]
    assert len(random) == 12
    after = dict(model.named_parameters())
    assert all(not torch.equal(before[n], after[n]) for n in random)
    assert repr(model).startswith("GraphModel(")


def test_a_sinc_state_dict_of_the_earlier_layout_loads() -> None:
    # Until SINC became the runner's SINC model its stack sat directly under the backbone.
    torch.manual_seed(0)
    model = _gcn_model(sinc=True)
    state = model.state_dict()
    legacy = {k.replace("backbone.stack.stack.", "backbone.stack."): v for k, v in state.items()}
    assert any(k.startswith("backbone.stack.convs.") for k in legacy)
    fresh = _gcn_model(sinc=True)
    fresh.load_state_dict(legacy)
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, state[key]), key
    fresh.load_state_dict(state)  # and the current layout, of course


def test_a_model_without_readout_has_no_representation() -> None:
    model = GraphModel(
        ConvBackbone(ConvStack([GCNConv(1, 4)], [1, 4])),
        node_encoder=None,
        edge_encoder=None,
        readout=None,
    )
    graph = undirected_graph(3, [(0, 1)])
    assert model(graph).shape == (3, 4)
    with pytest.raises(ValueError, match="no readout"):
        model.forward_with_representation(graph)
