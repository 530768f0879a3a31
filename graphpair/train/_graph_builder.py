"""Build the model of a graph run from its configuration: every class comes from
:mod:`graphpair.nn`, this module only wires them.

Every model is a :class:`~graphpair.nn.GraphModel` called on a PyG batch; only its backbone
changes with ``GraphConfig.model``:

- ``gin``, ``gine``, ``gcn``, ``sage``: a :class:`~graphpair.nn.ConvStack` over PyG's
  ``GINConv``, ``GINEConv`` (edge features), ``GCNConv`` and ``SAGEConv``;
- ``sinc``, ``sir``: :class:`~graphpair.nn.SINC` without its own input map and head (SIR-GCN:
  no context);
- ``grit``: :class:`~graphpair.nn.GRIT` with its own readout and head, on the RRWP encodings
  of :class:`~graphpair.transforms.AddRRWP`, which the runner applies to the dataset first
  (:func:`model_transform`).

The other models end in :class:`~graphpair.nn.MLPReadout` (pooling for graph-level tasks,
then an MLP).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch_geometric.data import Data
from torch_geometric.nn import GCNConv, GINConv, GINEConv, SAGEConv

from graphpair.data import GraphSet
from graphpair.nn import (
    GRIT,
    SINC,
    ConvBackbone,
    ConvStack,
    FeatureEncoder,
    GraphInputs,
    GraphModel,
    GRITBackbone,
    MLPReadout,
)
from graphpair.nn._layers import activation
from graphpair.train._graph_config import GraphConfig
from graphpair.transforms import AddRRWP

__all__ = ["BASELINE_CONVS", "build_graph_model", "model_transform", "transform_graphs"]

#: The :data:`GRAPH_MODELS` built from PyG layers alone.
BASELINE_CONVS = ("gin", "gine", "gcn", "sage")


def _gin_mlp(in_channels: int, out_channels: int, act: str) -> torch.nn.Sequential:
    return torch.nn.Sequential(
        torch.nn.Linear(in_channels, out_channels),
        activation(act),
        torch.nn.Linear(out_channels, out_channels),
    )


def _baseline_conv(
    config: GraphConfig, in_channels: int, out_channels: int, edge_channels: int
) -> torch.nn.Module:
    conv: torch.nn.Module
    if config.model == "gin":
        conv = GINConv(_gin_mlp(in_channels, out_channels, config.act), train_eps=True)
    elif config.model == "gine":
        # GINE adds the edge features to the neighbour's features: a linear map aligns the
        # widths only where they differ (the first layer on raw float features).
        edge_dim = edge_channels if edge_channels != in_channels else None
        mlp = _gin_mlp(in_channels, out_channels, config.act)
        conv = GINEConv(mlp, train_eps=True, edge_dim=edge_dim)
    elif config.model == "gcn":
        conv = GCNConv(in_channels, out_channels)
    else:
        conv = SAGEConv(in_channels, out_channels)
    return conv


def _node_encoder(config: GraphConfig, inputs: GraphInputs) -> FeatureEncoder | None:
    # Categorical atoms / labels are embedded; float features (and the constant 1 of
    # featureless graphs) feed the first layer as they are, as PyG's GIN on TU sets does.
    if inputs.node_vocab is None:
        return None
    return FeatureEncoder(config.hidden_channels, vocab=inputs.node_vocab, in_channels=0)


def _edge_encoder(config: GraphConfig, inputs: GraphInputs) -> FeatureEncoder:
    return FeatureEncoder(
        config.hidden_channels, vocab=inputs.edge_vocab, in_channels=inputs.edge_features
    )


def _in_channels(config: GraphConfig, inputs: GraphInputs) -> int:
    return config.hidden_channels if inputs.node_vocab is not None else inputs.node_features


def _baseline_backbone(config: GraphConfig, inputs: GraphInputs) -> ConvBackbone:
    widths = [_in_channels(config, inputs)] + [config.hidden_channels] * config.num_layers
    convs = [
        _baseline_conv(config, widths[i], widths[i + 1], config.hidden_channels)
        for i in range(config.num_layers)
    ]
    stack = ConvStack(
        convs,
        widths,
        norm=config.norm,
        act=config.act,
        dropout=config.dropout,
        residual=config.residual,
        edge_layers=config.model == "gine",
    )
    return ConvBackbone(stack)


def _sinc_backbone(config: GraphConfig, inputs: GraphInputs) -> ConvBackbone:
    # graphpair.nn.SINC without its input map and head, so the runner's encoders, readouts
    # and head apply to every model alike and the NCMP paper's UniqueSignature network is
    # exact (1 layer, no input map, bias-free head: 352 parameters for SINC, 336 for SIR).
    # The message activation is ReLU as in SINC's default; config.act is the block one.
    sinc = SINC(
        _in_channels(config, inputs),
        config.hidden_channels,
        None,
        config.num_layers,
        aggr=config.aggr,
        context_aggr=config.context_aggr if config.model == "sinc" else None,
        act="relu",
        dropout=config.dropout,
        norm=None if config.norm == "none" else config.norm,
        residual=None if config.residual == "none" else config.residual,
        block_act=config.act,
        input_lin=False,
    )
    return ConvBackbone(sinc)


def _grit_model(config: GraphConfig, inputs: GraphInputs) -> GraphModel:
    # graphpair.nn.GRIT with its own readout and head (the reference's ZINC model:
    # 469,185 parameters). The runner's encoders give GRIT node states of its width for
    # categorical atoms (one embedding per column: for ZINC's single column this is GRIT's
    # atom embedding) and edge states for every graph: embedded bond types, or one learned
    # vector (the reference's DummyEdge) where there are no edge features. Float node
    # features and featureless graphs (x = 1) go through GRIT's own input Linear.
    grit = GRIT(
        None if inputs.node_vocab is not None else inputs.node_features,
        config.hidden_channels,
        inputs.out_channels,
        config.num_layers,
        heads=config.heads,
        walk_length=config.walk_length,
        dropout=config.dropout,
        attn_dropout=config.attn_dropout,
        norm=None if config.norm == "none" else config.norm,
        act=config.act,
        pool=None if inputs.node_level else config.pooling,
        head_layers=config.head_layers,
        fused=config.fused,
    )
    return GraphModel(
        GRITBackbone(grit),
        node_encoder=_node_encoder(config, inputs),
        edge_encoder=_edge_encoder(config, inputs),
        readout=None,
    )


def build_graph_model(config: GraphConfig, inputs: GraphInputs) -> GraphModel:
    """The :class:`~graphpair.nn.GraphModel` of ``config.model`` for data laid out as
    ``inputs``.

    Args:
        config: The run configuration (model, width, depth, norms, readout, ...).
        inputs: The dataset's feature layout and output size
            (``GraphInputs.from_data``, :class:`~graphpair.nn.GraphInputs`).

    Example:
        >>> from graphpair.nn import GraphInputs
        >>> from graphpair.train import graph_config
        >>> config = graph_config("CSL", "gin", hidden_channels=16, num_layers=2)
        >>> inputs = GraphInputs(None, 1, None, 0, out_channels=10, node_level=False)
        >>> model = build_graph_model(config, inputs)
        >>> sum(p.numel() for p in model.parameters()) > 0
        True
    """
    if config.model == "grit":
        return _grit_model(config, inputs)
    if config.model in BASELINE_CONVS:
        backbone = _baseline_backbone(config, inputs)
    else:
        backbone = _sinc_backbone(config, inputs)
    readout = MLPReadout(
        config.hidden_channels,
        inputs.out_channels,
        pooling=None if inputs.node_level else config.pooling,
        head_layers=config.head_layers,
        head_bias=config.head_bias,
        act=config.act,
    )
    return GraphModel(
        backbone,
        node_encoder=_node_encoder(config, inputs),
        edge_encoder=_edge_encoder(config, inputs) if config.model == "gine" else None,
        readout=readout,
    )


def _grit_transform(config: GraphConfig) -> AddRRWP:
    # AddRRWP's defaults: pairs oriented as the attention reads them, walks from the target
    # (the reference at HEAD); full_pairs as the reference's full_attn.
    return AddRRWP(walk_length=config.walk_length, full_pairs=config.full_pairs)


def model_transform(config: GraphConfig) -> Callable[[Data], Data] | None:
    """The per-graph transform ``config.model`` needs before batching (GRIT's RRWP), or
    ``None``. :func:`transform_graphs` applies it to a whole graph set."""
    if config.model == "grit":
        transform: Callable[[Data], Data] = _grit_transform(config)
        return transform
    return None


# Graphs per batched AddRRWP call (AddRRWP.apply_all): large enough to amortise the per-call
# cost, small enough that a chunk's pair tensors stay a few hundred MB on ZINC-sized graphs.
_RRWP_CHUNK = 1024


def transform_graphs(config: GraphConfig, graphs: GraphSet) -> GraphSet:
    """``graphs`` with :func:`model_transform` applied to every graph, in memory (``graphs``
    itself for a model without a transform). The result equals transforming graph by graph;
    GRIT's RRWP is computed on batches of graphs (``AddRRWP.apply_all``), which is several
    times faster."""
    if config.model != "grit":
        return graphs
    encoded = _grit_transform(config).apply_all(
        [graphs[i] for i in range(len(graphs))], _RRWP_CHUNK
    )
    return GraphSet(encoded)
