"""The SINC-GCN model of the authors' benchmarks: input map, conv blocks, readout."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor

from graphpair._validation import check_choice, check_int, check_tensor, index_range
from graphpair.nn._checks import check_probability
from graphpair.nn._layers import ACTIVATIONS
from graphpair.nn.conv._sinc_conv import SINCConv, check_aggregation
from graphpair.nn.models._conv_stack import ConvStack
from graphpair.ops import scatter

__all__ = ["NORMS", "POOLS", "RESIDUALS", "SINC"]

#: Normalisations after each block's residual sum (``None`` for none).
NORMS: tuple[str, ...] = ("batch", "layer", "graph")
#: Residual maps of a block (``None`` for none).
RESIDUALS: tuple[str, ...] = ("linear", "identity")
#: Graph readouts (``None`` for a node-level model).
POOLS: tuple[str, ...] = ("sum", "mean")

# The authors' block activation.
_NEGATIVE_SLOPE = 0.2


class SINC(torch.nn.Module):
    r"""SINC-GCN / SIR-GCN network as the authors build it for their benchmarks (Lim, 2025,
    ``specs/sinc.md`` §3), for node-level and graph-level tasks.

    Input: :math:`h^{(0)} = \mathrm{Lin}(\mathrm{dropout}(x))`, or an embedding of integer
    node types with ``num_embeddings`` (ZINC's atoms), or ``x`` itself with
    ``input_lin=False``. Each of the ``num_layers`` blocks (a
    :class:`~graphpair.nn.models.ConvStack` of :class:`~graphpair.nn.SINCConv`) is

    .. math::
        h^{(l)} = \mathrm{dropout}\Big(\mathrm{LeakyReLU}_{0.2}\big(\mathrm{norm}\big(
            \mathrm{SINCConv}(h^{(l-1)}) + \mathrm{resid}(h^{(l-1)})\big)\big)\Big)

    with ``resid`` a ``Linear`` (default), the identity (on blocks that keep the width), or
    absent, and ``block_act`` in place of LeakyReLU when given. Readout: a node-level model
    (``pool=None``) applies the head MLP to every node; a graph-level one first sums or
    averages the nodes of each graph. The head has ``readout_layers`` linear maps, the hidden
    ones of width ``hidden_channels`` with LeakyReLU(0.2) between them (the authors' ZINC model
    with ``num_embeddings=28``, ``hidden_channels=70``, four layers, ``aggr='sym'``,
    ``context_aggr='mean'``, ``pool='sum'`` and two readout layers has their published
    106,401 parameters). With ``context_aggr=None`` every block is a
    :class:`~graphpair.nn.SIRConv`, i.e. the SIR-GCN model.

    Args:
        in_channels: Size of float node features; ``None`` with ``num_embeddings``.
        hidden_channels: Width of every block (and of each conv's messages).
        out_channels: Size of the output (classes, targets); ``None`` for no head: the model
            returns the representation of :meth:`embed` (the runner's SINC backbone, with
            graphpair's own readout after it).
        num_layers: Number of conv blocks.
        num_embeddings: Number of integer node types (``x`` holds type ids).
        aggr: The convs' aggregation: ``'sum'``, ``'mean'``, ``'max'`` or ``'sym'``.
        context_aggr: The convs' context aggregation, or ``None`` (SIR-GCN).
        act: The convs' message activation :math:`\sigma` (name or module; default ReLU).
        conv_dropout: Dropout inside each conv (on its query, key and context).
        dropout: Dropout at the end of each block.
        input_dropout: Dropout on the input features.
        norm: ``'batch'`` (default, ``BatchNorm1d`` over nodes), ``'layer'``, ``'graph'``
            (PyG ``GraphNorm``) or ``None``.
        residual: ``'linear'`` (default), ``'identity'`` or ``None``.
        pool: ``None`` (node-level), ``'sum'`` or ``'mean'`` (graph-level).
        readout_layers: Linear maps in the head (at least 1).
        edge_dim: Size of ``edge_attr`` fed to every conv; ``None`` for none (the authors' runs
            used no edge features).
        block_act: Activation at the end of every block (``'leaky_relu'``, slope 0.2, is the
            authors'; ``'relu'``, ``'gelu'``, ``'tanh'``).
        input_lin: With float features, map them to ``hidden_channels`` first (the authors'
            model); ``False`` feeds them to the first block at their own width.

    Shapes:
        - x: ``[N, in_channels]`` float, or ``[N]`` / ``[N, 1]`` long type ids
        - edge_index: ``[2, E]``; edge_attr: ``[E, edge_dim]``; batch: ``[N]``
        - output: ``[N, out_channels]``, or ``[B, out_channels]`` with ``pool``
          (``hidden_channels`` in place of ``out_channels`` without a head)

    Example:
        >>> model = SINC(3, 32, 2, num_layers=2, pool="mean")
        >>> edge_index = torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]])
        >>> model(torch.randn(5, 3), edge_index, batch=torch.tensor([0, 0, 0, 1, 1])).shape
        torch.Size([2, 2])
    """

    def __init__(
        self,
        in_channels: int | None,
        hidden_channels: int,
        out_channels: int | None,
        num_layers: int = 4,
        *,
        num_embeddings: int | None = None,
        aggr: str = "sum",
        context_aggr: str | None = "sum",
        act: str | torch.nn.Module = "relu",
        conv_dropout: float = 0.0,
        dropout: float = 0.0,
        input_dropout: float = 0.0,
        norm: str | None = "batch",
        residual: str | None = "linear",
        pool: str | None = None,
        readout_layers: int = 2,
        edge_dim: int | None = None,
        block_act: str = "leaky_relu",
        input_lin: bool = True,
    ) -> None:
        super().__init__()
        if (in_channels is None) == (num_embeddings is None):
            raise ValueError(
                "give exactly one of in_channels (float features) and num_embeddings (integer "
                f"node types); got in_channels={in_channels!r}, num_embeddings={num_embeddings!r}"
            )
        self.in_channels = (
            None if in_channels is None else check_int("in_channels", in_channels, minimum=1)
        )
        self.num_embeddings = (
            None
            if num_embeddings is None
            else check_int("num_embeddings", num_embeddings, minimum=1)
        )
        self.hidden_channels = check_int("hidden_channels", hidden_channels, minimum=1)
        self.out_channels = (
            None if out_channels is None else check_int("out_channels", out_channels, minimum=1)
        )
        self.num_layers = check_int("num_layers", num_layers, minimum=0)
        self.conv_dropout = check_probability("conv_dropout", conv_dropout)
        self.dropout = check_probability("dropout", dropout)
        self.input_dropout = check_probability("input_dropout", input_dropout)
        self.norm = None if norm is None else check_choice("norm", norm, NORMS)
        self.residual = None if residual is None else check_choice("residual", residual, RESIDUALS)
        self.pool = None if pool is None else check_choice("pool", pool, POOLS)
        self.readout_layers = check_int("readout_layers", readout_layers, minimum=1)
        self.aggr = check_aggregation("aggr", aggr)
        self.context_aggr = (
            None if context_aggr is None else check_aggregation("context_aggr", context_aggr)
        )
        self.edge_dim = None if edge_dim is None else check_int("edge_dim", edge_dim, minimum=1)
        self.block_act = check_choice("block_act", block_act, ACTIVATIONS)
        self.input_lin = bool(input_lin)

        # Every part initialises itself on construction (the stack resets its convolutions
        # and residual maps once more, as the runner's models always have), so no reset
        # follows: a seeded build of the runner's SINC backbone draws what it drew before.
        self.embedding: torch.nn.Embedding | None = None
        self.lin_in: torch.nn.Linear | None = None
        first = hidden_channels
        if self.num_embeddings is not None:
            self.embedding = torch.nn.Embedding(self.num_embeddings, hidden_channels)
        elif self.input_lin:
            assert self.in_channels is not None
            self.lin_in = torch.nn.Linear(self.in_channels, hidden_channels)
        else:
            assert self.in_channels is not None
            first = self.in_channels
        widths = [first] + [hidden_channels] * self.num_layers
        convs: list[torch.nn.Module] = [
            SINCConv(
                widths[i],
                widths[i + 1],
                hidden_channels=hidden_channels,
                aggr=self.aggr,
                context_aggr=self.context_aggr,
                act=act if isinstance(act, str) else copy.deepcopy(act),
                dropout=self.conv_dropout,
                edge_dim=self.edge_dim,
            )
            for i in range(self.num_layers)
        ]
        self.stack = ConvStack(
            convs,
            widths,
            norm=self.norm,
            act=self.block_act,
            dropout=self.dropout,
            residual=self.residual,
            edge_layers=self.edge_dim is not None,
        )
        self.readout = (
            None
            if self.out_channels is None
            else torch.nn.ModuleList(
                torch.nn.Linear(
                    hidden_channels,
                    self.out_channels if i == self.readout_layers - 1 else hidden_channels,
                )
                for i in range(self.readout_layers)
            )
        )

    def reset_parameters(self) -> None:
        """Re-initialise every layer."""
        if self.embedding is not None:
            self.embedding.reset_parameters()
        if self.lin_in is not None:
            self.lin_in.reset_parameters()
        self.stack.reset_parameters()
        for lin in self.readout or ():
            assert isinstance(lin, torch.nn.Linear)
            lin.reset_parameters()

    @property
    def convs(self) -> torch.nn.ModuleList:
        """The blocks' convolutions (``stack.convs``)."""
        return self.stack.convs

    # ------------------------------------------------------------------ forward

    def _input(self, x: Tensor) -> Tensor:
        if self.embedding is not None:
            ids = check_tensor("x", x, dim=(1, 2), integer=True)
            if ids.dim() == 2:
                if ids.size(1) != 1:
                    raise ValueError(
                        f"x must hold one type id per node ([N] or [N, 1]); got shape "
                        f"{tuple(ids.shape)}"
                    )
                ids = ids.view(-1)
            size = self.embedding.num_embeddings
            bounds = index_range(ids)  # None under torch.compile (a data-dependent check)
            if bounds is not None and (bounds[0] < 0 or bounds[1] >= size):
                raise ValueError(
                    f"x type ids must be in [0, num_embeddings={size}); "
                    f"got the range [{bounds[0]}, {bounds[1]}]"
                )
            out: Tensor = self.embedding(ids)
            return out
        check_tensor("x", x, dim=2, floating=True)
        if x.size(1) != self.in_channels:
            raise ValueError(f"x has {x.size(1)} features but in_channels={self.in_channels}")
        out = F.dropout(x, self.input_dropout, self.training)
        if self.lin_in is not None:
            out = self.lin_in(out)
        return out

    def embed(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        *,
        batch: Tensor | None = None,
        num_graphs: int | None = None,
    ) -> Tensor:
        """The representation before the head: ``[N, hidden_channels]`` per node, or
        ``[B, hidden_channels]`` per graph with ``pool`` (arguments as :meth:`forward`)."""
        h = self._input(x)
        num_nodes = h.size(0)
        if batch is not None:
            batch = check_tensor("batch", batch, dim=1, integer=True).long()
            if batch.numel() != num_nodes:
                raise ValueError(
                    f"batch must have one entry per node ({num_nodes}); got {batch.numel()}"
                )
        h = self.stack(h, edge_index, edge_attr, batch=batch)  # [N, hidden_channels]
        assert isinstance(h, Tensor)
        if self.pool is None:
            return h
        batch_given = batch is not None
        if batch is None:
            batch = torch.zeros(num_nodes, dtype=torch.long, device=h.device)
        if num_graphs is None and batch_given:
            # Reads the batch back (a host sync; a graph break under torch.compile): pass
            # num_graphs to avoid it.
            num_graphs = int(batch.max()) + 1 if batch.numel() else 0
        elif num_graphs is None:
            num_graphs = 1 if num_nodes else 0  # one graph
        else:
            num_graphs = check_int("num_graphs", num_graphs, minimum=0)
        return scatter(h, batch, dim=0, dim_size=num_graphs, reduce=self.pool)

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        *,
        batch: Tensor | None = None,
        num_graphs: int | None = None,
    ) -> Tensor:
        """Node outputs ``[N, out_channels]``, or graph outputs ``[B, out_channels]`` with
        ``pool``.

        Args:
            x: Node features ``[N, in_channels]`` (or type ids with ``num_embeddings``).
            edge_index: Edges ``[2, E]`` (give both directions of an undirected graph).
            edge_attr: Edge features ``[E, edge_dim]`` (only with ``edge_dim``).
            batch: Graph of every node ``[N]``; ``None`` = one graph.
            num_graphs: ``B``; ``batch.max() + 1`` when ``None`` (a read-back: pass it to keep
                a compiled model in one graph and a CUDA step free of host syncs).
        """
        h = self.embed(x, edge_index, edge_attr, batch=batch, num_graphs=num_graphs)
        for i, lin in enumerate(self.readout or ()):
            if i > 0:
                h = F.leaky_relu(h, _NEGATIVE_SLOPE)
            h = lin(h)
        return h

    def __repr__(self) -> str:
        source = (
            f"num_embeddings={self.num_embeddings}"
            if self.in_channels is None
            else str(self.in_channels)
        )
        conv = repr(self.convs[0]) if len(self.convs) else "none"
        return (
            f"{self.__class__.__name__}({source}, {self.hidden_channels}, {self.out_channels}, "
            f"num_layers={self.num_layers}, conv={conv}, dropout={self.dropout}, "
            f"input_dropout={self.input_dropout}, norm={self.norm!r}, "
            f"residual={self.residual!r}, pool={self.pool!r}, "
            f"readout_layers={self.readout_layers}, block_act={self.block_act!r}, "
            f"input_lin={self.input_lin})"
        )
