"""The models of graph runs: input encoders, a stack of layers, readout and an MLP head.

Every model is a :class:`GraphModel` called on a PyG batch; only its backbone changes with
``GraphConfig.model``:

- ``gin``, ``gine``, ``gcn``, ``sage``: :class:`ConvStack` over PyG's ``GINConv``,
  ``GINEConv`` (edge features), ``GCNConv`` and ``SAGEConv``;
- ``sinc``, ``sir``: :class:`ConvStack` over ``graphpair.nn.conv.SINCConv`` (SIR-GCN: no
  context), imported when asked for;
- ``grit``: ``graphpair.nn.models.GRIT`` with its own readout and head, on the RRWP encodings
  of ``graphpair.transforms.AddRRWP``, which the runner applies to the dataset first
  (:func:`model_transform`).

The other models end in :class:`MLPReadout` (pooling for graph-level tasks, then an MLP).

The wiring of each non-baseline model is one small function (``_sinc_backbone``,
``_grit_model``, ``_grit_transform``), so a change in those classes is a change there.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn import (
    GCNConv,
    GINConv,
    GINEConv,
    SAGEConv,
    global_add_pool,
    global_max_pool,
    global_mean_pool,
)

from graphpair.data import GraphSet
from graphpair.train._config import ConfigError
from graphpair.train._graph_config import GraphConfig

__all__ = [
    "BASELINE_CONVS",
    "ConvStack",
    "FeatureEncoder",
    "GraphInputs",
    "GraphModel",
    "MLPReadout",
    "build_graph_model",
    "model_transform",
    "transform_graphs",
]

#: The :data:`GRAPH_MODELS` built from PyG layers alone.
BASELINE_CONVS = ("gin", "gine", "gcn", "sage")

_POOLS: dict[str, Callable[..., Tensor]] = {
    "sum": global_add_pool,
    "mean": global_mean_pool,
    "max": global_max_pool,
}


@dataclass(frozen=True)
class GraphInputs:
    """What a model needs to know about a dataset's tensors.

    Attributes:
        node_vocab: sizes of the categorical node feature columns (``x`` long, ``[N]`` or
            ``[N, C]``: ZINC atom types, OGB atom features), else ``None``.
        node_features: width of float node features (``x`` float ``[N, F]``); 1 for graphs
            without features, which get ``x = 1`` per node.
        edge_vocab: sizes of the categorical edge feature columns (ZINC bond types, OGB bond
            features), else ``None``.
        edge_features: width of float edge features (``edge_attr`` float ``[E, F]``); 0 when
            there are none.
        out_channels: outputs per graph (or per node): targets, tasks, or classes.
        node_level: predictions per node (PATTERN, CLUSTER, UniqueSignature) instead of per
            graph.

    Example:
        >>> from torch_geometric.data import Batch
        >>> graph = Data(x=torch.tensor([[0, 1], [2, 1]]), edge_index=torch.tensor([[0], [1]]))
        >>> batch = Batch.from_data_list([graph])  # integer x: two categorical columns
        >>> GraphInputs.from_data(batch, out_channels=1, node_level=False)
        ... # doctest: +NORMALIZE_WHITESPACE
        GraphInputs(node_vocab=(3, 2), node_features=0, edge_vocab=None, edge_features=0,
                    out_channels=1, node_level=False)
    """

    node_vocab: tuple[int, ...] | None
    node_features: int
    edge_vocab: tuple[int, ...] | None
    edge_features: int
    out_channels: int
    node_level: bool

    @classmethod
    def from_data(cls, data: Data, out_channels: int, node_level: bool) -> GraphInputs:
        """Read the feature layout off a collated graph set (every graph at once, so the
        vocabularies cover the validation and test graphs too)."""
        node_vocab, node_features = _layout("x", getattr(data, "x", None))
        edge_vocab, edge_features = _layout("edge_attr", getattr(data, "edge_attr", None))
        if node_vocab is None and node_features == 0:
            node_features = 1  # featureless graphs: x = 1 per node
        return cls(node_vocab, node_features, edge_vocab, edge_features, out_channels, node_level)


def _layout(name: str, value: Tensor | None) -> tuple[tuple[int, ...] | None, int]:
    if value is None:
        return None, 0
    if value.is_floating_point():
        return None, 1 if value.dim() == 1 else int(value.size(1))
    columns = value.view(value.size(0), -1)  # [N, C]
    if columns.numel() and int(columns.min()) < 0:
        raise ValueError(
            f"{name} holds integer features, read as categories, which must be >= 0; found "
            f"{int(columns.min())}"
        )
    top = columns.max(dim=0).values if columns.size(0) else columns.new_zeros(columns.size(1))
    return tuple(int(v) + 1 for v in top), 0


class FeatureEncoder(torch.nn.Module):
    r"""Node or edge inputs to ``out_channels``: categorical columns through a sum of
    embeddings (one table per column, as OGB's ``AtomEncoder``), float features through a
    linear map, and no features through one learned vector shared by every entry (GRIT's
    ``DummyEdge``).

    Args:
        out_channels: Output width D.
        vocab: Sizes of the categorical columns, or ``None``.
        in_channels: Width of float features (0: no features).

    Shapes:
        - value: ``[M]`` / ``[M, C]`` long, ``[M, F]`` float, or ``None`` with ``count=M``
        - output: ``[M, D]``
    """

    def __init__(self, out_channels: int, *, vocab: tuple[int, ...] | None, in_channels: int):
        super().__init__()
        self.out_channels = out_channels
        self.vocab = vocab
        self.in_channels = in_channels
        self.tables = torch.nn.ModuleList(
            torch.nn.Embedding(size, out_channels) for size in (vocab or ())
        )
        self.lin = torch.nn.Linear(in_channels, out_channels) if in_channels else None
        self.constant = (
            torch.nn.Parameter(torch.empty(out_channels)) if not vocab and not in_channels else None
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Embeddings ~ N(0, 1) (torch's default), PyTorch's default linear init."""
        for table in self.tables:
            assert isinstance(table, torch.nn.Embedding)
            table.reset_parameters()
        if self.lin is not None:
            self.lin.reset_parameters()
        if self.constant is not None:
            torch.nn.init.normal_(self.constant)

    def forward(self, value: Tensor | None, count: int) -> Tensor:
        """Encode ``value`` (``count`` rows; ``value`` may be ``None`` without features)."""
        if self.constant is not None:
            return self.constant.expand(count, -1)
        assert value is not None
        if self.lin is not None:
            projected: Tensor = self.lin(value.float().view(count, -1))
            return projected
        columns = value.view(count, -1)  # [M, C]
        out: Tensor = self.tables[0](columns[:, 0])
        for i in range(1, columns.size(1)):
            out = out + self.tables[i](columns[:, i])
        return out

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.out_channels}, vocab={self.vocab}, "
            f"in_channels={self.in_channels})"
        )


def _activation(name: str) -> torch.nn.Module:
    if name == "leaky_relu":
        return torch.nn.LeakyReLU(0.2)
    kinds: dict[str, type[torch.nn.Module]] = {
        "relu": torch.nn.ReLU,
        "gelu": torch.nn.GELU,
        "tanh": torch.nn.Tanh,
    }
    return kinds[name]()


def _norm(name: str, channels: int) -> torch.nn.Module:
    if name == "batch":
        return torch.nn.BatchNorm1d(channels)
    if name == "layer":
        return torch.nn.LayerNorm(channels)
    return torch.nn.Identity()


class ConvStack(torch.nn.Module):
    r"""``num_layers`` convolutions, each in the block of the SINC-GCN authors
    (``specs/sinc.md`` §3):

    .. math::
        h \leftarrow \mathrm{dropout}\big(\mathrm{act}\big(\mathrm{norm}(
            \mathrm{conv}(h) + \mathrm{resid}(h))\big)\big),

    with ``resid`` absent (``'none'``), the identity (``'identity'``, only on layers that keep
    the width) or a learned linear map (``'linear'``, the authors' default).

    Args:
        convs: One convolution per layer, called as ``conv(h, edge_index)`` or, with
            ``edge_layers``, ``conv(h, edge_index, edge_attr)``.
        widths: Input width of every layer followed by the output width (``L + 1`` values).
        norm, act, dropout, residual: As in :class:`~graphpair.train.GraphConfig`.
        edge_layers: Whether the convolutions take ``edge_attr``.

    Shapes:
        - x: ``[N, widths[0]]``; edge_index: ``[2, E]``; edge_attr: ``[E, D_e]`` or ``None``
        - output: ``[N, widths[-1]]``
    """

    def __init__(
        self,
        convs: list[torch.nn.Module],
        widths: list[int],
        *,
        norm: str,
        act: str,
        dropout: float,
        residual: str,
        edge_layers: bool = False,
    ) -> None:
        super().__init__()
        if len(widths) != len(convs) + 1:
            raise ValueError(f"widths must have {len(convs) + 1} entries; got {widths}")
        self.convs = torch.nn.ModuleList(convs)
        self.norms = torch.nn.ModuleList(_norm(norm, w) for w in widths[1:])
        self.act = _activation(act)
        self.dropout = dropout
        self.residual = residual
        pairs = list(itertools.pairwise(widths))
        # Per layer: whether it has a residual, and its map (a Linear or the identity).
        self.has_resid = tuple(
            residual == "linear" or (residual == "identity" and a == b) for a, b in pairs
        )
        self.resids = torch.nn.ModuleList(
            torch.nn.Linear(a, b) if residual == "linear" else torch.nn.Identity() for a, b in pairs
        )
        self.edge_layers = edge_layers
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset every convolution and norm."""
        for module in (*self.convs, *self.norms, *self.resids):
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        """Node embeddings ``[N, widths[-1]]``."""
        h = x
        layers = zip(self.convs, self.norms, self.resids, self.has_resid, strict=True)
        for conv, norm, resid, has_resid in layers:
            out = conv(h, edge_index, edge_attr) if self.edge_layers else conv(h, edge_index)
            if has_resid:
                out = out + resid(h)
            h = F.dropout(self.act(norm(out)), p=self.dropout, training=self.training)
        return h


def _gin_mlp(in_channels: int, out_channels: int, act: str) -> torch.nn.Sequential:
    return torch.nn.Sequential(
        torch.nn.Linear(in_channels, out_channels),
        _activation(act),
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


class MLPReadout(torch.nn.Module):
    r"""Readout of a graph-level task (sum, mean or max over each graph's nodes) followed by an
    MLP head; without ``pooling`` the head applies to every node.

    The head has ``head_layers`` hidden layers (Linear + activation), each halving the width,
    then a linear map to ``out_channels`` (GRIT's ``san_graph`` head for ``head_layers=2``:
    64 -> 32 -> 16 -> 1).

    Args:
        in_channels: Width of the node embeddings.
        out_channels: Outputs per graph or node.
        pooling: ``'sum'``, ``'mean'``, ``'max'``, or ``None`` for node-level outputs.
        head_layers: Hidden layers of the head.
        head_bias: Bias in the head's last linear map.
        act: Activation between the head's layers (a name of :data:`GRAPH_ACTIVATIONS`).

    Shapes:
        - h: ``[N, in_channels]``; batch: ``[N]``
        - output: ``[B, out_channels]`` with ``pooling``, else ``[N, out_channels]``
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        pooling: str | None,
        head_layers: int,
        head_bias: bool,
        act: str,
    ) -> None:
        super().__init__()
        self.pooling = pooling
        layers: list[torch.nn.Module] = []
        width = in_channels
        for _ in range(head_layers):
            layers += [torch.nn.Linear(width, max(1, width // 2)), _activation(act)]
            width = max(1, width // 2)
        layers.append(torch.nn.Linear(width, out_channels, bias=head_bias))
        self.head = torch.nn.Sequential(*layers)

    def forward(self, h: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        """Outputs per graph (or per node without pooling)."""
        if self.pooling is not None:
            h = _POOLS[self.pooling](h, batch, size=num_graphs)  # [B, D]
        out: Tensor = self.head(h)
        return out


class GraphModel(torch.nn.Module):
    r"""Input encoders, a backbone and a readout, called on a PyG batch.

    .. math::
        \hat y_G = \mathrm{readout}\Big(
            \mathrm{backbone}(\mathrm{enc}(x), A, \mathrm{enc}_E(e))\Big)

    Node inputs: through ``node_encoder`` when given; else float features as they are, ones
    ``[N, 1]`` for a graph without features, integer ids as they are (for a backbone that
    embeds them). Edge inputs: through ``edge_encoder`` when given, else none.

    Args:
        backbone: Called as ``backbone(x, edge_index, edge_attr, data)`` (``data`` is the
            batch, for backbones that read more of it, such as GRIT's RRWP); returns node
            embeddings for ``readout``, or the predictions when ``readout`` is ``None``.
        node_encoder, edge_encoder: Input encoders, or ``None``.
        readout: Pooling and head (``MLPReadout``), or ``None`` for a backbone with its
            own (GRIT).

    Shapes:
        - data: a PyG ``Batch`` with ``x`` (or none), ``edge_index``, ``edge_attr`` (or none),
          ``batch``
        - output: ``[B, out_channels]`` (graphs) or ``[N, out_channels]`` (nodes)

    Example:
        Built by :func:`build_graph_model`; three featureless graphs of two nodes:

        >>> from torch_geometric.data import Batch
        >>> from graphpair.train import graph_config
        >>> inputs = GraphInputs(None, 1, None, 0, out_channels=10, node_level=False)
        >>> model = build_graph_model(graph_config("CSL", "gin", hidden_channels=16), inputs)
        >>> pair = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=2)
        >>> model(Batch.from_data_list([pair] * 3)).shape
        torch.Size([3, 10])
    """

    def __init__(
        self,
        backbone: torch.nn.Module,
        *,
        node_encoder: FeatureEncoder | None,
        edge_encoder: FeatureEncoder | None,
        readout: MLPReadout | None,
    ) -> None:
        super().__init__()
        self.node_encoder = node_encoder
        self.edge_encoder = edge_encoder
        self.backbone = backbone
        self.readout = readout

    def forward(self, data: Data) -> Tensor:
        """Predictions ``[B, out]`` per graph, or ``[N, out]`` per node."""
        num_nodes = int(data.num_nodes)
        x = getattr(data, "x", None)
        if self.node_encoder is not None:
            x = self.node_encoder(x, num_nodes)
        elif x is None:
            x = torch.ones(num_nodes, 1, device=data.edge_index.device)
        elif x.is_floating_point():
            x = x.view(num_nodes, -1)
        edge_attr = None
        if self.edge_encoder is not None:
            edge_attr = self.edge_encoder(
                getattr(data, "edge_attr", None), int(data.edge_index.size(1))
            )
        h: Tensor = self.backbone(x, data.edge_index, edge_attr, data)
        if self.readout is None:
            return h
        batch = getattr(data, "batch", None)
        if batch is None:
            batch = torch.zeros(num_nodes, dtype=torch.long, device=h.device)
        out: Tensor = self.readout(h, batch, int(getattr(data, "num_graphs", 1)))
        return out

    def forward_with_representation(self, data: Data) -> tuple[Tensor, Tensor]:
        """``(predictions, z)``: the predictions of :meth:`forward` and the pooled
        representation ``z`` ``[B, D]`` (per node ``[N, D]`` without pooling) the head reads,
        for pair objectives such as SupCon."""
        if self.readout is None:
            raise ValueError(
                "this model has no readout, so it has no pooled representation; use a model "
                "built with a readout (every model but 'grit')"
            )
        captured: list[Tensor] = []
        handle = self.readout.head.register_forward_pre_hook(
            lambda _module, args: captured.append(args[0])
        )
        try:
            out = self(data)
        finally:
            handle.remove()
        return out, captured[0]


class _StackBackbone(torch.nn.Module):
    """Adapts a :class:`ConvStack` to the backbone call of :class:`GraphModel`."""

    def __init__(self, stack: ConvStack) -> None:
        super().__init__()
        self.stack = stack

    def forward(
        self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None, data: Data
    ) -> Tensor:
        out: Tensor = self.stack(x, edge_index, edge_attr)
        return out


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


def _baseline_backbone(config: GraphConfig, inputs: GraphInputs) -> torch.nn.Module:
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
    return _StackBackbone(stack)


def _import(module: str, name: str, model: str) -> Any:
    """``module.name``, or a :class:`ConfigError` saying that this installation lacks it."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise ConfigError(
            "model", f"model {model!r} needs {module}.{name}, which is not available: {err}"
        ) from None


def build_graph_model(config: GraphConfig, inputs: GraphInputs) -> GraphModel:
    """The :class:`GraphModel` of ``config.model`` for data laid out as ``inputs``.

    Args:
        config: The run configuration (model, width, depth, norms, readout, ...).
        inputs: The dataset's feature layout and output size
            (:meth:`GraphInputs.from_data`).

    Raises:
        ConfigError: ``config.model`` needs a module this installation lacks (``field`` is
            ``'model'``).

    Example:
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


def model_transform(config: GraphConfig) -> Callable[[Data], Data] | None:
    """The per-graph transform ``config.model`` needs before batching (GRIT's RRWP), or
    ``None``. :func:`transform_graphs` applies it to a whole graph set."""
    if config.model == "grit":
        transform: Callable[[Data], Data] = _grit_transform(config)
        return transform
    return None


def transform_graphs(config: GraphConfig, graphs: GraphSet) -> GraphSet:
    """``graphs`` with :func:`model_transform` applied to every graph, in memory (``graphs``
    itself for a model without a transform). The result equals transforming graph by graph;
    GRIT's RRWP is computed on batches of graphs, which is several times faster."""
    if config.model == "grit":
        return _rrwp_graph_set(config, graphs)
    transform = model_transform(config)
    if transform is None:
        return graphs
    return GraphSet([transform(graphs[i]) for i in range(len(graphs))])


# --------------------------------------------------------------- SINC / SIR and GRIT wiring


def _sinc_backbone(config: GraphConfig, inputs: GraphInputs) -> torch.nn.Module:
    # graphpair.nn.conv.SINCConv in the authors' block (ConvStack), rather than the SINC
    # network, so the runner's encoders, readouts and head apply to every model alike and the
    # NCMP paper's UniqueSignature network is exact (1 layer, no input map, bias-free head:
    # 352 parameters for SINC, 336 for SIR). The message activation is ReLU as in
    # graphpair.nn.SINC; config.act is the block activation.
    conv_class = _import("graphpair.nn.conv", "SINCConv", config.model)
    widths = [_in_channels(config, inputs)] + [config.hidden_channels] * config.num_layers
    convs = [
        conv_class(
            widths[i],
            widths[i + 1],
            hidden_channels=config.hidden_channels,
            aggr=config.aggr,
            context_aggr=config.context_aggr if config.model == "sinc" else None,
            act="relu",
        )
        for i in range(config.num_layers)
    ]
    stack = ConvStack(
        convs,
        widths,
        norm=config.norm,
        act=config.act,
        dropout=config.dropout,
        residual=config.residual,
    )
    return _StackBackbone(stack)


class _GRITBackbone(torch.nn.Module):
    """Calls :class:`graphpair.nn.models.GRIT` on the batch's RRWP attributes."""

    def __init__(self, grit: torch.nn.Module) -> None:
        super().__init__()
        self.grit = grit

    def forward(
        self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None, data: Data
    ) -> Tensor:
        batch = getattr(data, "batch", None)
        out: Tensor = self.grit(
            x,
            edge_index,
            edge_attr,
            rrwp=data.rrwp,
            rrwp_index=data.rrwp_index,
            rrwp_val=data.rrwp_val,
            log_deg=data.log_deg,
            batch=batch,
            num_graphs=int(data.num_graphs) if batch is not None else None,
        )
        return out


def _grit_model(config: GraphConfig, inputs: GraphInputs) -> GraphModel:
    # graphpair.nn.models.GRIT with its own readout and head (the reference's ZINC model:
    # 469,185 parameters). The runner's encoders give GRIT node states of its width for
    # categorical atoms (one embedding per column: for ZINC's single column this is GRIT's
    # atom embedding) and edge states for every graph: embedded bond types, or one learned
    # vector (the reference's DummyEdge) where there are no edge features. Float node
    # features and featureless graphs (x = 1) go through GRIT's own input Linear.
    grit_class = _import("graphpair.nn.models", "GRIT", "grit")
    grit = grit_class(
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
        _GRITBackbone(grit),
        node_encoder=_node_encoder(config, inputs),
        edge_encoder=_edge_encoder(config, inputs),
        readout=None,
    )


# Graphs per batched AddRRWP call (AddRRWP.apply_all): large enough to amortise the per-call
# cost, small enough that a chunk's pair tensors stay a few hundred MB on ZINC-sized graphs.
_RRWP_CHUNK = 1024


def _rrwp_graph_set(config: GraphConfig, graphs: GraphSet) -> GraphSet:
    # AddRRWP.apply_all encodes a chunk of graphs in one batched call (several times faster
    # than graph by graph on ZINC) and returns the graphs one by one, equal to transforming
    # each; they are collated again into one in-memory set.
    transform = _grit_transform(config)
    encoded = transform.apply_all([graphs[i] for i in range(len(graphs))], _RRWP_CHUNK)
    return GraphSet(encoded)


def _grit_transform(config: GraphConfig) -> Any:
    # AddRRWP's defaults: pairs oriented as the attention reads them, walks from the target
    # (the reference at HEAD); full_pairs as the reference's full_attn.
    transform_class = _import("graphpair.transforms", "AddRRWP", "grit")
    return transform_class(walk_length=config.walk_length, full_pairs=config.full_pairs)
