from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch, Data

from graphpair.data import GraphSet
from graphpair.data._csl import csl_graphs
from graphpair.nn import GraphInputs, GraphModel
from graphpair.train import GraphConfig, build_graph_model, graph_config
from graphpair.train._graph_builder import model_transform, transform_graphs
from tests.graphs import molecules, undirected_graph

BASELINES = ["gin", "gine", "gcn", "sage"]
MESSAGE_PASSING = [*BASELINES, "sinc", "sir"]
ALL = [*MESSAGE_PASSING, "grit"]


def _inputs(batch: Batch, out: int = 1, node_level: bool = False) -> GraphInputs:
    return GraphInputs.from_data(batch, out, node_level)


def _prepared(model: str, graphs: list[Data], cfg: GraphConfig) -> Batch:
    """A batch of ``graphs`` with the model's per-graph transform applied (GRIT's RRWP)."""
    transform = model_transform(cfg)
    if transform is not None:
        graphs = [transform(g) for g in graphs]
    return Batch.from_data_list(graphs)


@pytest.mark.parametrize("model", ALL)
def test_graph_and_node_outputs_have_the_right_shape(model: str) -> None:
    torch.manual_seed(0)
    cfg = GraphConfig(model=model, hidden_channels=8, num_layers=2, heads=2, walk_length=3)
    batch = _prepared(model, molecules().to_data_list(), cfg)
    out = build_graph_model(cfg, _inputs(batch, 3))(batch)
    assert out.shape == (2, 3)
    node = build_graph_model(cfg, _inputs(batch, 2, node_level=True))(batch)
    assert node.shape == (7, 2)
    assert bool(torch.isfinite(node).all())


@pytest.mark.parametrize("model", ALL)
def test_graph_outputs_ignore_the_node_order(model: str) -> None:
    torch.manual_seed(0)
    graph = molecules()[0]
    cfg = GraphConfig(
        model=model, hidden_channels=8, num_layers=2, pooling="sum", heads=2, walk_length=3
    )
    net = build_graph_model(cfg, _inputs(molecules())).eval()
    perm = torch.tensor([2, 0, 3, 1])  # new node i is old node perm[i]
    inverse = torch.argsort(perm)
    permuted = Data(
        x=graph.x[perm],
        edge_index=inverse[graph.edge_index],
        edge_attr=graph.edge_attr,
        num_nodes=4,
    )
    with torch.no_grad():
        first = net(_prepared(model, [graph], cfg))
        second = net(_prepared(model, [permuted], cfg))
    torch.testing.assert_close(first, second, rtol=1e-5, atol=1e-5)


def test_gine_reads_edge_features_and_gin_does_not() -> None:
    batch = molecules()
    changed = batch.clone()
    changed.edge_attr = torch.flip(batch.edge_attr, dims=[0])
    for model, sensitive in (("gine", True), ("gin", False)):
        torch.manual_seed(0)
        cfg = GraphConfig(model=model, hidden_channels=8, num_layers=2)
        net = build_graph_model(cfg, _inputs(batch)).eval()
        with torch.no_grad():
            same = torch.equal(net(batch), net(changed))
        assert same is not sensitive, model


def test_head_halves_the_width_and_can_drop_the_bias() -> None:
    cfg = GraphConfig(model="gin", hidden_channels=64, head_layers=2, head_bias=False)
    net = build_graph_model(cfg, _inputs(molecules()))
    assert net.readout is not None
    linears = [m for m in net.readout.head if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 32), (32, 16), (16, 1)]
    assert linears[-1].bias is None
    assert linears[0].bias is not None


@pytest.mark.parametrize(("model", "expected"), [("sinc", 352), ("sir", 336)])
def test_unique_signature_networks_have_the_papers_parameter_counts(
    model: str, expected: int
) -> None:
    # specs/sinc.md §4: SINC-GCN 352 parameters, SIR-GCN 336, on the scalar feature.
    cfg = graph_config("UniqueSignature", model)
    inputs = GraphInputs(None, 1, None, 0, 1, True)
    net = build_graph_model(cfg, inputs)
    assert sum(p.numel() for p in net.parameters()) == expected


def test_a_graph_model_is_a_module_with_one_output_perundirected_graph() -> None:
    cfg = GraphConfig(model="gcn", hidden_channels=4, num_layers=1)
    net = build_graph_model(cfg, GraphInputs(None, 1, None, 0, 1, False))
    assert isinstance(net, GraphModel)
    # A single graph without batch vector and without features.
    out = net(undirected_graph(3, [(0, 1), (1, 2)]))
    assert out.shape == (1, 1)


def test_negative_categories_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="edge_attr holds integer features.*found -1"):
        GraphInputs.from_data(
            undirected_graph(2, [(0, 1)], edge_attr=torch.tensor([0, -1])), 1, False
        )


def test_grit_on_zinc_is_the_reference_model() -> None:
    # The runner's atom and bond embeddings stand in for GRIT's own, parameter for parameter.
    from graphpair.nn.models._grit import GRIT

    cfg = graph_config("ZINC", "grit")
    net = build_graph_model(cfg, GraphInputs((21,), 0, (4,), 0, 1, False))
    expected = sum(p.numel() for p in GRIT.zinc().parameters())
    assert sum(p.numel() for p in net.parameters()) == expected == 469_185
    transform = model_transform(cfg)
    assert transform is not None
    assert "walk_length=21" in repr(transform)
    assert "full_pairs=True" in repr(transform)
    convs = [m for m in net.modules() if hasattr(m, "fused")]
    assert len(convs) == 10
    assert not any(m.fused for m in convs)
    fused = build_graph_model(cfg.replace(fused=True), GraphInputs((21,), 0, (4,), 0, 1, False))
    assert all(m.fused for m in fused.modules() if hasattr(m, "fused"))


def test_grit_reads_edge_features_and_needs_the_rrwp() -> None:
    torch.manual_seed(0)
    cfg = GraphConfig(model="grit", hidden_channels=8, num_layers=1, heads=2, walk_length=3)
    batch = _prepared("grit", molecules().to_data_list(), cfg)
    net = build_graph_model(cfg, _inputs(batch)).eval()
    changed = batch.clone()
    changed.edge_attr = torch.flip(batch.edge_attr, dims=[0])
    with torch.no_grad():
        assert not torch.equal(net(batch), net(changed))
    with pytest.raises(AttributeError, match="rrwp"):
        net(molecules())


def test_models_without_a_transform() -> None:
    for model in MESSAGE_PASSING:
        assert model_transform(GraphConfig(model=model)) is None


@pytest.mark.parametrize("full_pairs", [True, False])
def test_the_batched_rrwp_equals_the_per_graph_transform(
    monkeypatch: pytest.MonkeyPatch, full_pairs: bool
) -> None:
    import graphpair.train._graph_builder as models_module

    monkeypatch.setattr(models_module, "_RRWP_CHUNK", 3)  # several chunks, a partial last one
    # Molecules with features, and featureless CSL graphs of 7 nodes (sizes from num_nodes).
    sets = [molecules().to_data_list() * 2, csl_graphs(num_nodes=7, skips=(2, 3))[:5]]
    cfg = GraphConfig(model="grit", walk_length=4, full_pairs=full_pairs, heads=2)
    transform = model_transform(cfg)
    assert transform is not None
    for graphs in sets:
        batched = transform_graphs(cfg, GraphSet(graphs))
        assert len(batched) == len(graphs)
        for i, graph in enumerate(graphs):
            expected = transform(graph)
            got = batched[i]
            for key in ("rrwp", "rrwp_index", "rrwp_val", "log_deg", "edge_index", "y"):
                assert torch.equal(got[key], expected[key]), (i, key)
            assert got.num_nodes == graph.num_nodes
    plain = GraphConfig(model="gin")
    same = GraphSet(graphs)
    assert transform_graphs(plain, same) is same
