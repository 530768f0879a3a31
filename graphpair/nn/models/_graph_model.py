"""Input encoders, a backbone and a readout, called on a PyG batch: the graph- and node-level
models of ``graphpair graph``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphpair.nn.encoders._feature import FeatureEncoder
from graphpair.nn.models._readout import MLPReadout
from graphpair.nn.models._sinc import SINC

__all__ = ["ConvBackbone", "GRITBackbone", "GraphInputs", "GraphModel"]


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
    columns = value.view(value.size(0), 1) if value.dim() == 1 else value  # [N, C]
    if columns.numel() and int(columns.min()) < 0:
        raise ValueError(
            f"{name} holds integer features, read as categories, which must be >= 0; found "
            f"{int(columns.min())}"
        )
    top = columns.max(dim=0).values if columns.size(0) else columns.new_zeros(columns.size(1))
    return tuple(int(v) + 1 for v in top), 0


class ConvBackbone(torch.nn.Module):
    """The backbone call of :class:`GraphModel` for a message-passing stack.

    Args:
        stack: Called as ``stack(x, edge_index, edge_attr, batch=batch)``: a
            :class:`~graphpair.nn.models.ConvStack`, or a :class:`~graphpair.nn.SINC` built
            without readout.

    Shapes:
        - x: ``[N, F]``; edge_index: ``[2, E]``; edge_attr: ``[E, D_e]`` or ``None``
        - output: ``[N, D]``

    Example:
        >>> from torch_geometric.nn import GCNConv
        >>> from graphpair.nn import ConvStack
        >>> backbone = ConvBackbone(ConvStack([GCNConv(2, 4)], [2, 4], norm="none"))
        >>> graph = Data(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]))
        >>> backbone(graph.x, graph.edge_index, None, graph).shape
        torch.Size([3, 4])
    """

    def __init__(self, stack: torch.nn.Module) -> None:
        super().__init__()
        self.stack = stack

    def reset_parameters(self) -> None:
        """Reset the stack."""
        self.stack.reset_parameters()  # type: ignore[operator]

    def forward(
        self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None, data: Data
    ) -> Tensor:
        """Node embeddings of the stack (``data`` gives ``batch`` where there is one)."""
        out: Tensor = self.stack(x, edge_index, edge_attr, batch=getattr(data, "batch", None))
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.stack!r})"


class GRITBackbone(torch.nn.Module):
    """The backbone call of :class:`GraphModel` for :class:`~graphpair.nn.GRIT`: reads the
    RRWP attributes that :class:`~graphpair.transforms.AddRRWP` put on the batch.

    Args:
        grit: A :class:`~graphpair.nn.GRIT` (with its own readout and head).

    Shapes:
        - data: a PyG ``Batch`` with ``rrwp``, ``rrwp_index``, ``rrwp_val``, ``log_deg``
        - output: ``[B, out]`` per graph (``[N, out]`` for a node-level GRIT)

    Example:
        >>> from torch_geometric.data import Batch
        >>> from graphpair.nn import GRIT
        >>> from graphpair.transforms import AddRRWP
        >>> backbone = GRITBackbone(GRIT(1, 8, 3, num_layers=1, heads=2, walk_length=3))
        >>> ring = Data(edge_index=torch.tensor([[0, 1, 2, 1, 2, 0], [1, 2, 0, 0, 1, 2]]),
        ...             num_nodes=3)
        >>> batch = Batch.from_data_list([AddRRWP(3)(ring)] * 2)
        >>> backbone(torch.ones(6, 1), batch.edge_index, None, batch).shape
        torch.Size([2, 3])
    """

    def __init__(self, grit: torch.nn.Module) -> None:
        super().__init__()
        self.grit = grit

    def reset_parameters(self) -> None:
        """Reset GRIT."""
        self.grit.reset_parameters()  # type: ignore[operator]

    def forward(
        self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None, data: Data
    ) -> Tensor:
        """GRIT's predictions for the batch."""
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

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.grit!r})"


class GraphModel(torch.nn.Module):
    r"""Input encoders, a backbone and a readout, called on a PyG batch.

    .. math::
        \hat y_G = \mathrm{readout}\Big(
            \mathrm{backbone}(\mathrm{enc}(x), A, \mathrm{enc}_E(e))\Big)

    Node inputs: through ``node_encoder`` when given; else float features as they are, ones
    ``[N, 1]`` for a graph without features, integer ids as they are (for a backbone that
    embeds them). Edge inputs: through ``edge_encoder`` when given, else none.

    ``graphpair graph`` builds one per run from its configuration
    (:func:`graphpair.train.build_graph_model`); built by hand, it trains in any PyG loop.

    Args:
        backbone: Called as ``backbone(x, edge_index, edge_attr, data)`` (``data`` is the
            batch, for backbones that read more of it, such as GRIT's RRWP):
            :class:`ConvBackbone` or :class:`GRITBackbone`. Returns node embeddings for
            ``readout``, or the predictions when ``readout`` is ``None``.
        node_encoder, edge_encoder: Input encoders (:class:`~graphpair.nn.FeatureEncoder`),
            or ``None``.
        readout: Pooling and head (:class:`~graphpair.nn.MLPReadout`), or ``None`` for a
            backbone with its own (GRIT).

    Shapes:
        - data: a PyG ``Batch`` with ``x`` (or none), ``edge_index``, ``edge_attr`` (or none),
          ``batch``
        - output: ``[B, out_channels]`` (graphs) or ``[N, out_channels]`` (nodes)

    Example:
        A GIN on three featureless graphs of two nodes:

        >>> from torch_geometric.data import Batch
        >>> from torch_geometric.nn import GINConv
        >>> from graphpair.nn import ConvStack, MLPReadout
        >>> mlp = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.ReLU())
        >>> stack = ConvStack([GINConv(mlp)], [1, 16], norm="batch", act="relu")
        >>> readout = MLPReadout(16, 10, pooling="sum", head_layers=1)
        >>> model = GraphModel(ConvBackbone(stack), node_encoder=None, edge_encoder=None,
        ...                    readout=readout)
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

    def reset_parameters(self) -> None:
        """Reset the encoders, the backbone and the readout."""
        for module in (self.node_encoder, self.edge_encoder, self.backbone, self.readout):
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()

    def forward(self, data: Data) -> Tensor:
        """Predictions ``[B, out]`` per graph, or ``[N, out]`` per node."""
        num_nodes = int(data.num_nodes)
        x = getattr(data, "x", None)
        if self.node_encoder is not None:
            x = self.node_encoder(x, num_nodes)
        elif x is None:
            x = torch.ones(num_nodes, 1, device=data.edge_index.device)
        elif x.is_floating_point() and x.dim() == 1:
            x = x.view(num_nodes, 1)
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

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        # Until graphpair.nn.SINC became the runner's SINC model, its backbone was the
        # SINCConv stack itself ("backbone.stack.convs..."); it is now SINC around that stack
        # ("backbone.stack.stack.convs..."). Checkpoints written before still load.
        legacy = prefix + "backbone.stack.convs."
        sinc = isinstance(self.backbone, ConvBackbone) and isinstance(self.backbone.stack, SINC)
        if sinc and any(key.startswith(legacy) for key in state_dict):
            old, new = prefix + "backbone.stack.", prefix + "backbone.stack.stack."
            for key in [k for k in state_dict if k.startswith(old)]:
                state_dict[new + key[len(old) :]] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args, **kwargs)
