"""The NCN paper's message-passing encoder: parameter-free or PyG convolutions, res / JK."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GCNConv, SAGEConv

from graphpair._validation import check_choice, check_edge_index, check_int, check_tensor, describe
from graphpair.nn._checks import check_probability
from graphpair.nn._dropout import dropout
from graphpair.nn.conv._sinc_conv import SINCConv, SIRConv, check_aggregation
from graphpair.nn.encoders._inference import DEFAULT_CHUNK_SIZE, layerwise_inference
from graphpair.nn.encoders._propagate import (
    _Edges,
    _gcn,
    _propagate,
    _pyg_defaults,
    _sage,
    pure_propagate,
)
from graphpair.ops import CSR, scatter
from graphpair.ops._spmm import csr_matrix, to_sparse_csr

__all__ = ["CONVS", "MPNNEncoder"]

#: Convolutions understood by :class:`MPNNEncoder`.
CONVS: tuple[str, ...] = (
    "puregcn",
    "puresum",
    "puremean",
    "puremax",
    "gcn",
    "sage",
    "sinc",
    "sir",
    "none",
)
_LEARNED = ("gcn", "sage", "sinc", "sir")
_PURE = {"puregcn": "gcn", "puresum": "sum", "puremean": "mean", "puremax": "max"}


def _has_self_loop(adj: CSR) -> bool:
    """Whether an active entry of ``adj`` is a self loop (``GCNConv`` keeps its weight, where
    graphpair's GCN products add 1 to every node)."""
    return bool(((adj.row == adj.col) & adj.mask).any())


def _check_entry_weight(edge_weight: Tensor, adj: CSR) -> None:
    """A CSR's ``edge_weight``: one float per stored entry, or a ``ValueError`` naming it."""
    check_tensor("edge_weight", edge_weight, dim=1, floating=True)
    if edge_weight.numel() != adj.num_edges:
        raise ValueError(
            f"edge_weight with a CSR must have one entry per stored entry "
            f"({adj.num_edges}); got {edge_weight.numel()}"
        )


class MPNNEncoder(torch.nn.Module):
    r"""Message-passing node encoder of Neural Common Neighbour (Wang et al., ICLR 2024, spec §3.1).

    Input stage: with ``num_embeddings`` (featureless graphs, e.g. ogbl-ddi: ``x`` holds node
    ids, or is ``None`` for ``0..N-1``) an orthogonally initialised embedding table followed by
    dropout(``dropout``); otherwise dropout(``input_dropout``) on the features, then, for the
    parameter-free convolutions (or without layers), ``Lin(in, hidden)`` and dropout(``dropout``).
    Layer :math:`l = 1..L`:

    .. math::
        y_l = \mathrm{post}_l(\mathrm{conv}_l(x_{l-1}, A_l)), \qquad
        x_l = y_l + x_{l-1} \text{ if } \texttt{res} \text{ and the shapes match, else } y_l

    - ``'puregcn'``: :math:`\tilde D^{-1/2}(A + I)\tilde D^{-1/2} x`, ``'puresum'``: :math:`A x`,
      ``'puremean'`` / ``'puremax'``: neighbour mean / max; no parameters and no nonlinearity,
      :math:`\mathrm{post}_l` is the identity except dropout(``tail_dropout``) after the last.
    - ``'gcn'``: PyG ``GCNConv`` (self loops, symmetric normalisation, weighted by the edge
      dropout's :math:`1/(1-p)`), ``'sage'``: PyG ``SAGEConv`` (mean; dropped edges are removed,
      SAGE takes no edge weights). :math:`\mathrm{post}_l` = [LayerNorm if ``ln``] > dropout >
      ReLU on the first layer and every layer but the last (a 1-layer stack therefore ends with
      ReLU, quirk Q8); dropout(``tail_dropout``) after the last.
    - ``'sinc'``: :class:`~graphpair.nn.SINCConv` (SINC-GCN, ``specs/sinc.md``) with
      ``sinc_aggr`` / ``sinc_context_aggr`` (default mean / sym, the authors' ogbn-arxiv
      choice), ReLU messages, message width ``hidden_channels``; ``'sir'``:
      :class:`~graphpair.nn.SIRConv` (no context). Edge dropout removes the dropped edges (the
      convs take no edge weights); :math:`\mathrm{post}_l` as for ``'gcn'`` / ``'sage'``.
    - ``'none'``: no convolution, the output is the input stage.

    :math:`A_l` is the active adjacency; in training, ``edge_dropout`` keeps each entry with
    probability :math:`1-p` at weight :math:`1/(1-p)`, re-drawn for every layer. With ``jk`` the
    output is :math:`\sum_l w_l x_l` with raw learnable weights :math:`w \sim N(0, 1)` (no softmax,
    quirk Q9); otherwise :math:`x_L`.

    Args:
        in_channels: Input feature size, or ``None`` with ``num_embeddings``.
        hidden_channels: Width of every layer and of the output.
        num_layers: ``L`` (``--mplayers``); 0 returns the input stage.
        conv: One of :data:`CONVS` (``--model``).
        num_embeddings: Rows of the learnable node embedding (``max_x + 1``; ddi: ``N + 1``).
        dropout: Dropout inside the stack (``gnndp``).
        edge_dropout: Edge dropout per layer in training (``gnnedp``).
        input_dropout: Dropout on the input features (``xdp``).
        tail_dropout: Dropout after the last layer (``tdp``).
        ln: LayerNorm in ``'gcn'`` / ``'sage'`` stacks (``--ln``).
        res: Residual connections (``--res``).
        jk: Learnable weighted sum of the layer outputs (``--jk``).
        sinc_aggr: Aggregation of the ``'sinc'`` / ``'sir'`` convs (``'sum'``, ``'mean'``,
            ``'max'``, ``'sym'``).
        sinc_context_aggr: Context aggregation of the ``'sinc'`` convs (same choices).

    Shapes:
        - x: ``[N, F]`` float (dense or sparse), ``[N]`` long ids, or ``None`` (ids ``0..N-1``)
        - adj: :class:`~graphpair.ops.CSR` (its active entries) or ``edge_index`` ``[2, E]``
        - output: ``[N, hidden_channels]``

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 1, 2], [1, 2, 3]]))
        >>> MPNNEncoder(8, 16, conv="puregcn")(torch.randn(4, 8), adj).shape
        torch.Size([4, 16])
    """

    def __init__(
        self,
        in_channels: int | None,
        hidden_channels: int,
        num_layers: int = 1,
        *,
        conv: str = "puregcn",
        num_embeddings: int | None = None,
        dropout: float = 0.0,
        edge_dropout: float = 0.0,
        input_dropout: float = 0.0,
        tail_dropout: float = 0.0,
        ln: bool = False,
        res: bool = False,
        jk: bool = False,
        sinc_aggr: str = "mean",
        sinc_context_aggr: str = "sym",
    ) -> None:
        super().__init__()
        if (in_channels is None) == (num_embeddings is None):
            raise ValueError(
                "give exactly one of in_channels (node features) and num_embeddings (a learnable "
                f"embedding of node ids); got in_channels={in_channels!r}, "
                f"num_embeddings={num_embeddings!r}"
            )
        if in_channels is not None:
            check_int("in_channels", in_channels, minimum=1)
        if num_embeddings is not None:
            check_int("num_embeddings", num_embeddings, minimum=1)
        self.in_channels = in_channels
        self.hidden_channels = check_int("hidden_channels", hidden_channels, minimum=1)
        self.num_layers = check_int("num_layers", num_layers, minimum=0)
        self.conv = check_choice("conv", conv, CONVS)
        self.num_embeddings = num_embeddings
        self.dropout = check_probability("dropout", dropout)
        self.edge_dropout = check_probability("edge_dropout", edge_dropout)
        self.input_dropout = check_probability("input_dropout", input_dropout)
        self.tail_dropout = check_probability("tail_dropout", tail_dropout)
        self.ln = bool(ln)
        self.res = bool(res)
        self.jk = bool(jk)
        self.sinc_aggr = check_aggregation("sinc_aggr", sinc_aggr)
        self.sinc_context_aggr = check_aggregation("sinc_context_aggr", sinc_context_aggr)

        layers = 0 if self.conv == "none" else self.num_layers
        self._layers = layers
        learned_conv = self.conv in _LEARNED
        self.embedding = (
            torch.nn.Embedding(num_embeddings, hidden_channels)
            if num_embeddings is not None
            else None
        )
        self.lin = (
            torch.nn.Linear(in_channels, hidden_channels)
            if in_channels is not None and not (learned_conv and layers > 0)
            else None
        )
        self.convs = torch.nn.ModuleList()
        self.norms = torch.nn.ModuleList()
        if learned_conv:
            dim = hidden_channels if in_channels is None else in_channels
            for _ in range(layers):
                self.convs.append(self._make_conv(dim))
                dim = hidden_channels
            for layer in range(layers):
                if self.ln and self._has_post(layer):
                    self.norms.append(torch.nn.LayerNorm(hidden_channels))
        self.jk_weight = torch.nn.Parameter(torch.empty(layers)) if self.jk and layers else None
        self.reset_parameters()

    def _make_conv(self, dim: int) -> torch.nn.Module:
        hidden = self.hidden_channels
        conv: torch.nn.Module
        if self.conv == "gcn":
            conv = GCNConv(dim, hidden)
            return conv
        if self.conv == "sage":
            conv = SAGEConv(dim, hidden)
            return conv
        if self.conv == "sir":
            return SIRConv(dim, hidden, aggr=self.sinc_aggr)
        return SINCConv(dim, hidden, aggr=self.sinc_aggr, context_aggr=self.sinc_context_aggr)

    def _has_post(self, layer: int) -> bool:
        """Whether a learned-conv layer ends with [LN] > dropout > ReLU (Q8: the first always)."""
        return layer == 0 or layer < self._layers - 1

    def reset_parameters(self) -> None:
        """Re-initialise every layer (orthogonal embedding, N(0, 1) JK weights)."""
        if self.embedding is not None:
            torch.nn.init.orthogonal_(self.embedding.weight)
        if self.lin is not None:
            self.lin.reset_parameters()
        for module in [*self.convs, *self.norms]:
            module.reset_parameters()
        if self.jk_weight is not None:
            torch.nn.init.normal_(self.jk_weight)

    # ------------------------------------------------------------------ input stage

    def _input(self, x: Tensor | None, num_nodes: int, device: torch.device) -> Tensor:
        if self.embedding is not None:
            if x is None:
                x = torch.arange(num_nodes, device=device)
            ids = check_tensor("x", x, dim=1, integer=True)
            if ids.numel() != num_nodes:
                raise ValueError(
                    f"x must hold one node id per node ({num_nodes}); got {ids.numel()}"
                )
            if ids.numel() and (
                int(ids.min()) < 0 or int(ids.max()) >= self.embedding.num_embeddings
            ):
                raise ValueError(
                    f"x ids must be in [0, num_embeddings={self.embedding.num_embeddings}); "
                    f"got the range [{int(ids.min())}, {int(ids.max())}]"
                )
            return dropout(self.embedding(ids), self.dropout, training=self.training)
        if x is None:
            raise ValueError("x is None but the encoder has no num_embeddings; pass node features")
        check_tensor("x", x, dim=2, floating=True)
        if x.size(0) != num_nodes:
            raise ValueError(f"x has {x.size(0)} rows but the graph has {num_nodes} nodes")
        if x.size(1) != self.in_channels:
            raise ValueError(f"x has {x.size(1)} features but in_channels={self.in_channels}")
        if x.layout != torch.strided:
            return self._sparse_input(x)
        x = dropout(x, self.input_dropout, training=self.training)
        if self.lin is None:
            return x
        return dropout(self.lin(x), self.dropout, training=self.training)

    def _sparse_input(self, x: Tensor) -> Tensor:
        """Sparse features stay sparse through the first Linear (dropout acts on the values).

        The product runs in CSR layout: on CPU a CSR x dense product with its backward took
        5.4 ms for Cora's features (2,708 x 1,433, 1.3 % nonzero, width 256) against 25.5 ms
        in COO layout. Pass CSR features (``x.to_sparse_csr()``) to skip the conversion.
        """
        x = to_sparse_csr(x)
        values = dropout(x.values(), self.input_dropout, training=self.training)
        x = csr_matrix(x.crow_indices(), x.col_indices(), values, (x.size(0), x.size(1)))
        if self.lin is None:
            return x.to_dense()
        out = torch.addmm(self.lin.bias, x, self.lin.weight.t())  # [N, hidden]
        return dropout(out, self.dropout, training=self.training)

    # ------------------------------------------------------------------ forward

    def forward(
        self,
        x: Tensor | None,
        adj: CSR | Tensor,
        edge_weight: Tensor | None = None,
        *,
        num_sampled_nodes_per_hop: Sequence[int] | None = None,
        num_sampled_edges_per_hop: Sequence[int] | None = None,
    ) -> Tensor:
        r"""Node representations ``[N, hidden_channels]``, or with the per-hop counts of a
        sampled subgraph the seeds' ``[num_sampled_nodes_per_hop[0], hidden_channels]``.

        Args:
            x: Node features, node ids or ``None`` (see Shapes in the class docstring).
            adj: A :class:`~graphpair.ops.CSR` (masked entries are left out, so target link
                removal is ``adj.masked(pairs)``) or a PyG ``edge_index`` ``[2, E]`` (messages
                flow from ``edge_index[0]`` to ``edge_index[1]``; give both directions).
            edge_weight: Weights of the edges, multiplying their messages: ``[E]``, one per
                column of an ``edge_index``, or ``[nnz]``, one per stored entry of a CSR (in
                entry order; masked entries stay out whatever their weight). The sum, mean
                and GCN propagations use them; SAGE and the SINC convs take none.
            num_sampled_nodes_per_hop: With ``num_sampled_edges_per_hop``, the node and edge
                counts of each hop of a sampled computation subgraph whose ``edge_index`` is
                grouped by hop (:class:`~graphpair.ops.SampledSubgraph`'s ``num_sampled_nodes``
                and ``num_sampled_edges``, PyG's ``NeighborLoader`` layout), one edge hop per
                layer. Layer :math:`l` then runs only on the nodes and edges of the hops
                :math:`\le L - l` (PyG's ``trim_to_layer``): the rest cannot reach a seed in
                the layers left. Only the seeds' rows are returned; they equal the untrimmed
                ones (GCN normalises by the untrimmed degrees). The sum / mean / GCN / SAGE
                propagations trim; other convs run untrimmed.
        """
        entry_weight: Tensor | None = None  # a CSR's weights, one per stored entry
        if isinstance(adj, CSR):
            num_nodes = adj.num_nodes
            # GCNConv keeps an existing self loop's weight; gcn_conv adds 1 to every node.
            self_loop_free = self.conv != "gcn" or not _has_self_loop(adj)
            # Every stored entry, the inactive ones at weight 0: no edge list, no sort.
            entries = self_loop_free and self._runs_on_entries()
            edge_index = adj.row.new_empty(2, 0) if entries else adj.to_edge_index()
            device = adj.device
            if edge_weight is not None:
                _check_entry_weight(edge_weight, adj)
                if entries:
                    entry_weight, edge_weight = edge_weight, None
                elif adj.num_masked:
                    edge_weight = edge_weight[adj.mask]  # to_edge_index's active entries
        elif isinstance(adj, Tensor):
            if x is None:
                raise ValueError("x=None (node ids 0..N-1) needs a CSR to know N")
            num_nodes = x.size(0)
            edge_index = check_edge_index("adj", adj, num_nodes=num_nodes).long()
            self_loop_free = self.conv != "gcn" or not bool((edge_index[0] == edge_index[1]).any())
            entries = False
            device = adj.device
        else:
            raise TypeError(
                f"adj must be a graphpair.ops.CSR or an edge_index; got {describe(adj)}"
            )
        if edge_weight is None:
            edge_weight = torch.ones(edge_index.size(1), device=device)
        else:
            check_tensor("edge_weight", edge_weight, dim=1, floating=True)
            if edge_weight.numel() != edge_index.size(1):
                raise ValueError(
                    f"edge_weight must have one entry per edge ({edge_index.size(1)}); "
                    f"got {edge_weight.numel()}"
                )

        plan = self._trim_plan(
            adj, num_nodes, edge_index, num_sampled_nodes_per_hop, num_sampled_edges_per_hop
        )
        # the propagations that trim (puremax and PyG's convs off their defaults run whole)
        trimmed = plan is not None and self_loop_free and self._runs_on_entries()
        h = self._input(x, num_nodes, device)
        edge_weight = edge_weight.to(h.dtype)
        if entries:
            assert isinstance(adj, CSR)
            graph = _Edges(None, num_nodes, adj)
        else:
            graph = _Edges(edge_index, num_nodes)
        outputs = []
        norms = iter(self.norms)
        static: Tensor | None = None
        for layer in range(self._layers):
            conv = self.convs[layer] if self.convs else None
            if entries:
                assert graph.adj is not None
                if static is None:  # redrawn every layer under edge dropout, else made once
                    ew = self._entry_weights(graph.adj, h.dtype, scale=self.conv != "sage")
                    if entry_weight is not None and self.conv != "sage":
                        ew = ew * entry_weight.to(h.dtype)
                    static = ew if not self.training or self.edge_dropout == 0 else None
                else:
                    ew = static
                if self.conv in _PURE:
                    y = _propagate(h, graph, ew, _PURE[self.conv])
                elif self.conv == "gcn":
                    assert isinstance(conv, GCNConv)
                    y = _gcn(conv, h, graph, ew)
                else:
                    assert isinstance(conv, SAGEConv)
                    y = _sage(conv, h, graph, ew)
            elif trimmed:
                assert plan is not None
                y, h = self._trimmed_layer(conv, h, edge_index, edge_weight, plan[layer], num_nodes)
            else:
                ei, ew = self._drop_edges(edge_index, edge_weight)
                graph = _Edges(ei, num_nodes)
                if self.conv in _PURE:
                    y = pure_propagate(h, ei, ew, num_nodes, _PURE[self.conv])
                elif self.conv == "gcn" and self_loop_free and _pyg_defaults(conv):
                    assert isinstance(conv, GCNConv)
                    y = _gcn(conv, h, graph, ew)
                elif self.conv == "gcn":
                    y = self.convs[layer](h, ei, ew)
                elif self.conv == "sage" and _pyg_defaults(conv):
                    assert isinstance(conv, SAGEConv)
                    y = _sage(conv, h, graph, h.new_ones(ei.size(1)))
                else:
                    y = self.convs[layer](h, ei)
            if self.conv not in _PURE and self._has_post(layer):
                if self.ln:
                    y = next(norms)(y)
                y = dropout(y, self.dropout, training=self.training)
                y = F.relu(y) if torch.is_grad_enabled() else y.relu_()
            if layer == self._layers - 1:
                y = dropout(y, self.tail_dropout, training=self.training)
            h = y + h if self.res and y.shape == h.shape else y
            if self.jk_weight is not None:  # only the JK sum reads every layer's output
                outputs.append(h)
        if num_sampled_nodes_per_hop is not None:  # the seeds' rows (the plan checked it)
            seeds = int(num_sampled_nodes_per_hop[0])
            outputs = [output[:seeds] for output in outputs]
            h = h[:seeds]
        if self.jk_weight is not None:
            # sum_l w_l x_l term by term: no [L, N, D] stack (einsum's route was measured at
            # about 1.3 ms a step on Cora for L = 1, the products below at a fraction of it).
            out = outputs[0] * self.jk_weight[0]
            for weight, output in zip(self.jk_weight[1:], outputs[1:], strict=True):
                out = out + output * weight
            return out
        return h

    @torch.no_grad()
    def inference(
        self,
        x: Tensor | None,
        adj: CSR | Tensor,
        edge_weight: Tensor | None = None,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Tensor:
        r"""The eval-mode forward on the whole graph, layer by layer over chunks of
        ``chunk_size`` target nodes (PyG's layer-wise ``inference``), without autograd.

        Each layer's output is written chunk by chunk into one ``[N, hidden_channels]``
        tensor, a chunk gathering its incoming entries from the CSR's cached transpose: at
        most the layer's input, its projection and its output are alive (two ``[N, D]``
        tensors for ``'gcn'`` / ``'sage'`` without ``res`` or ``jk``; the forward without
        autograd keeps four). The sum / mean / GCN / SAGE propagations on a CSR run chunked;
        other convs and an ``edge_index`` run the forward under ``torch.no_grad()``. The
        values equal the eval-mode forward's up to float round-off.

        Args:
            x: Node features, node ids or ``None``, as for :meth:`forward`.
            adj: A :class:`~graphpair.ops.CSR` (masked entries left out) or an ``edge_index``.
            edge_weight: As for :meth:`forward`.
            chunk_size: Target nodes per chunk.

        Raises:
            RuntimeError: In training mode (call ``.eval()``: inference has no dropout).
        """
        check_int("chunk_size", chunk_size, minimum=1)
        if self.training:
            raise RuntimeError(
                "MPNNEncoder.inference runs the eval-mode encoder; call .eval() first"
            )
        # GCNConv keeps a self loop's weight: PyG's path, as the forward takes
        if (
            not isinstance(adj, CSR)
            or not self._runs_on_entries()
            or (self.conv == "gcn" and _has_self_loop(adj))
        ):
            out: Tensor = self(x, adj, edge_weight)
            return out
        if edge_weight is not None:
            _check_entry_weight(edge_weight, adj)
        return layerwise_inference(self, x, adj, edge_weight, chunk_size)

    def _trim_plan(
        self,
        adj: CSR | Tensor,
        num_nodes: int,
        edge_index: Tensor,
        nodes: Sequence[int] | None,
        edges: Sequence[int] | None,
    ) -> list[tuple[int, int]] | None:
        """Per layer ``(input rows, edges)`` of a trimmed sampled forward, or ``None``
        without hop counts; bad counts are named."""
        if nodes is None and edges is None:
            return None
        if nodes is None or edges is None:
            given = "num_sampled_nodes_per_hop" if edges is None else "num_sampled_edges_per_hop"
            raise ValueError(
                "num_sampled_nodes_per_hop and num_sampled_edges_per_hop go together; got "
                f"only {given}"
            )
        if isinstance(adj, CSR):
            raise ValueError(
                "num_sampled_nodes_per_hop needs the sampled edge_index grouped by hop "
                "(SampledSubgraph.edge_index), not a CSR"
            )
        nodes, edges = [int(n) for n in nodes], [int(m) for m in edges]
        if len(edges) != self._layers or len(nodes) != len(edges) + 1:
            raise ValueError(
                f"num_sampled_nodes_per_hop / num_sampled_edges_per_hop must have "
                f"{self._layers + 1} / {self._layers} entries (num_layers={self._layers}); "
                f"got {nodes} / {edges}"
            )
        if sum(nodes) != num_nodes or sum(edges) != edge_index.size(1) or min(nodes + edges) < 0:
            raise ValueError(
                f"num_sampled_nodes_per_hop {nodes} and num_sampled_edges_per_hop {edges} "
                f"must be counts summing to the {num_nodes} nodes and {edge_index.size(1)} "
                "edges"
            )
        node_ends = [sum(nodes[: j + 1]) for j in range(len(nodes))]
        edge_ends = [sum(edges[: j + 1]) for j in range(len(edges))]
        layers = self._layers
        return [(node_ends[layers - i], edge_ends[layers - i - 1]) for i in range(layers)]

    def _trimmed_layer(
        self,
        conv: torch.nn.Module | None,
        h: Tensor,
        edge_index: Tensor,
        edge_weight: Tensor,
        step: tuple[int, int],
        num_nodes: int,
    ) -> tuple[Tensor, Tensor]:
        """One layer on the rows and edges that still reach a seed: ``(y, h)`` with ``h``
        trimmed to the layer's input rows. The edge dropout draws for every edge, as the
        untrimmed layer does, and GCN normalises by the untrimmed weighted in-degrees."""
        rows, edges = step
        keep = None
        if self.training and self.edge_dropout > 0:
            keep = torch.rand(edge_weight.numel(), device=edge_weight.device) >= self.edge_dropout
        weight = edge_weight if keep is None else edge_weight * keep / (1.0 - self.edge_dropout)
        h = h[:rows]
        degree = None
        if self.conv in ("gcn", "puregcn"):
            degree = scatter(weight, edge_index[1], dim_size=num_nodes)[:rows]
        ei, ew = edge_index[:, :edges], weight[:edges]
        if keep is not None:
            kept = keep[:edges]
            ei, ew = ei[:, kept], ew[kept]
        graph = _Edges(ei, rows, degree=degree)
        if self.conv in _PURE:
            return _propagate(h, graph, ew, _PURE[self.conv]), h
        if self.conv == "gcn":
            assert isinstance(conv, GCNConv)
            return _gcn(conv, h, graph, ew), h
        assert isinstance(conv, SAGEConv)
        return _sage(conv, h, graph, h.new_ones(ei.size(1))), h

    @property
    def aggregates_by_sum(self) -> bool:
        """Whether the layers sum their neighbours unnormalised (``'puresum'``): the output's
        scale then grows with the number of neighbours, so a sampled step weights its edges
        by :meth:`graphpair.ops.SampledSubgraph.sum_scale` to keep it."""
        return self.conv == "puresum" and self._layers > 0

    def _runs_on_entries(self) -> bool:
        """Whether every layer runs on a CSR's stored entries (:class:`_Edges` with a CSR):
        the sum / mean / GCN propagations and PyG's GCN / SAGE at their defaults."""
        if self.conv in ("puregcn", "puresum", "puremean"):
            return True
        return self.conv in ("gcn", "sage") and all(_pyg_defaults(c) for c in self.convs)

    def _entry_weights(self, adj: CSR, dtype: torch.dtype, *, scale: bool) -> Tensor:
        """One layer's weight of every stored entry: 0 for a masked or dropped entry, else 1,
        or :math:`1/(1-p)` with ``scale``. The dropout draws one number per active entry in
        entry order, as :meth:`_drop_edges` does on ``adj.to_edge_index()``, so both paths
        drop the same edges."""
        if not self.training or self.edge_dropout == 0:
            return adj.mask.to(dtype)
        draw = torch.rand(adj.num_active_edges, device=adj.device) >= self.edge_dropout
        if adj.num_masked:
            keep = torch.zeros_like(adj.mask)
            keep[adj.mask] = draw
        else:
            keep = draw
        weight = keep.to(dtype)
        return weight / (1.0 - self.edge_dropout) if scale else weight

    def _drop_edges(self, edge_index: Tensor, edge_weight: Tensor) -> tuple[Tensor, Tensor]:
        if not self.training or self.edge_dropout == 0:
            return edge_index, edge_weight
        keep = torch.rand(edge_weight.numel(), device=edge_weight.device) >= self.edge_dropout
        return edge_index[:, keep], edge_weight[keep] / (1.0 - self.edge_dropout)

    def __repr__(self) -> str:
        source = (
            f"num_embeddings={self.num_embeddings}"
            if self.in_channels is None
            else str(self.in_channels)
        )
        sinc = ""
        if self.conv == "sinc":
            sinc = f", sinc_aggr='{self.sinc_aggr}', sinc_context_aggr='{self.sinc_context_aggr}'"
        elif self.conv == "sir":
            sinc = f", sinc_aggr='{self.sinc_aggr}'"
        return (
            f"{self.__class__.__name__}({source}, {self.hidden_channels}, "
            f"num_layers={self.num_layers}, conv='{self.conv}', dropout={self.dropout}, "
            f"edge_dropout={self.edge_dropout}, input_dropout={self.input_dropout}, "
            f"tail_dropout={self.tail_dropout}, ln={self.ln}, res={self.res}, jk={self.jk}{sinc})"
        )
