"""GRIT: the transformer block and the network of the reference's benchmarks (spec §2.7, §3)."""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from graphpair._validation import (
    check_choice,
    check_edge_index,
    check_int,
    check_tensor,
    index_range,
)
from graphpair.nn._checks import check_probability
from graphpair.nn._dropout import dropout
from graphpair.nn.conv._grit_conv import GRITConv, PairLayout, pair_layout
from graphpair.nn.conv._sinc_conv import make_activation
from graphpair.nn.encoders._rrwp import RRWPNodeEncoder, RRWPPairEncoder
from graphpair.ops import scatter

__all__ = ["GRIT", "GRIT_NORMS", "GRIT_POOLS", "GRITBlock", "GRITPairs"]

#: Norms of the GRIT block (``None`` for none): ``BatchNorm1d`` (the reference) or ``LayerNorm``.
GRIT_NORMS: tuple[str, ...] = ("batch", "layer")
#: Graph readouts of :class:`GRIT` (``None`` for a node-level model).
GRIT_POOLS: tuple[str, ...] = ("sum", "mean")


class GRITPairs(NamedTuple):
    """The pair states of a GRIT encoder, handed to a pair head (:meth:`GRIT.encode`).

    Example:
        >>> from torch_geometric.data import Data
        >>> from graphpair.transforms import AddRRWP
        >>> data = AddRRWP(walk_length=4)(
        ...     Data(x=torch.randn(3, 5), edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])))
        >>> model = GRIT(5, 16, 1, num_layers=2, heads=4, walk_length=4).eval()
        >>> h, pairs = model.encode(data.x, data.edge_index, **GRIT.rrwp_inputs(data))
        >>> pairs.pair_index.shape, pairs.pair_attr.shape, pairs.num_nodes
        (torch.Size([2, 9]), torch.Size([9, 16]), 3)
    """

    pair_index: Tensor
    """Pairs ``[2, S]``: row 0 the source, row 1 the target; sorted by ``(target, source)``."""
    pair_attr: Tensor
    """Pair states ``[S, D]``, aligned with ``index``."""
    num_nodes: int
    """``N``: the nodes ``index`` refers to."""


def _make_norm(norm: str | None, channels: int) -> torch.nn.Module:
    if norm == "batch":
        return torch.nn.BatchNorm1d(channels)
    if norm == "layer":
        return torch.nn.LayerNorm(channels)
    return torch.nn.Identity()


class GRITBlock(torch.nn.Module):
    r"""One GRIT transformer block: :class:`~graphpair.nn.conv.GRITConv`, post-norm residuals
    and a node feed-forward network (Ma et al., ICML 2023; spec ``grit.md`` §2.7).

    .. math::
        (\tilde x, \tilde e) &= \mathrm{GRITConv}(x, e) \\
        x_1 &= \mathrm{Norm}_1(x + \tilde x), \qquad
        e' = \mathrm{Norm}_e(e + \tilde e) \\
        x' &= \mathrm{Norm}_2\big(x_1 + W_2\, \mathrm{dropout}(\sigma(W_1 x_1 + b_1)) + b_2\big)

    There is no FFN on the pairs. With ``update_pairs=False`` the conv has no pair output and
    :math:`e' = e` (no :math:`\mathrm{Norm}_e` either): the cheaper last layer of a model whose
    pairs nobody reads. Dropout sits where the reference has it: on the attention weights
    (``attn_dropout``), on the conv's node and pair outputs and after the FFN's activation
    (``dropout``); none after :math:`W_2`.

    Args:
        channels: Width ``D`` of node and pair states.
        heads: Attention heads (must divide ``D``).
        dropout: Dropout rate of the block (see above).
        attn_dropout: Dropout on the attention weights.
        norm: ``'batch'`` (``BatchNorm1d`` over nodes and over all pairs; the reference),
            ``'layer'`` or ``None``.
        act: FFN activation, a name (``'relu'``, ``'gelu'``, ...) or a module.
        ffn_channels: FFN hidden width (default ``2 * D``).
        clamp, deg_scaler, edge_enhance, update_pairs, fused: As in :class:`GRITConv`.

    Shapes:
        - x: ``[N, D]``; pair_index: ``[2, S]``; pair_attr: ``[S, D]``; log_deg: ``[N]``
        - output: ``(x' [N, D], e' [S, D])``

    Example:
        >>> block = GRITBlock(16, heads=4)
        >>> pair_index = torch.tensor([[0, 1, 0, 1], [0, 0, 1, 1]])
        >>> x, e = block(torch.randn(2, 16), pair_index, torch.randn(4, 16),
        ...              log_deg=torch.zeros(2))
        >>> x.shape, e.shape
        (torch.Size([2, 16]), torch.Size([4, 16]))
    """

    def __init__(
        self,
        channels: int,
        *,
        heads: int = 8,
        dropout: float = 0.0,
        attn_dropout: float = 0.0,
        norm: str | None = "batch",
        act: str | torch.nn.Module = "relu",
        ffn_channels: int | None = None,
        clamp: float | None = 5.0,
        deg_scaler: bool = True,
        edge_enhance: bool = True,
        update_pairs: bool = True,
        fused: bool = False,
    ) -> None:
        super().__init__()
        self.channels = check_int("channels", channels, minimum=1)
        self.dropout = check_probability("dropout", dropout)
        self.norm = None if norm is None else check_choice("norm", norm, GRIT_NORMS)
        self.ffn_channels = check_int(
            "ffn_channels", 2 * channels if ffn_channels is None else ffn_channels, minimum=1
        )
        self.update_pairs = bool(update_pairs)
        self.conv = GRITConv(
            channels,
            heads=heads,
            dropout=dropout,
            attn_dropout=attn_dropout,
            clamp=clamp,
            deg_scaler=deg_scaler,
            edge_enhance=edge_enhance,
            update_pairs=update_pairs,
            fused=fused,
        )
        self.norm_node = _make_norm(self.norm, channels)
        self.norm_pair = _make_norm(self.norm, channels) if self.update_pairs else None
        self.norm_ffn = _make_norm(self.norm, channels)
        self.ffn_in = torch.nn.Linear(channels, self.ffn_channels)
        self.ffn_out = torch.nn.Linear(self.ffn_channels, channels)
        self.act = make_activation("act", act)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the conv, the norms and the FFN."""
        self.conv.reset_parameters()
        for module in (self.norm_node, self.norm_pair, self.norm_ffn, self.ffn_in, self.ffn_out):
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()
        reset_act = getattr(self.act, "reset_parameters", None)
        if callable(reset_act):
            reset_act()

    def forward(
        self,
        x: Tensor,
        pair_index: Tensor,
        pair_attr: Tensor,
        *,
        log_deg: Tensor | None = None,
        layout: PairLayout | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Updated ``(x' [N, D], e' [S, D])``; arguments as :meth:`GRITConv.forward`."""
        node_update, pair_update = self.conv(
            x, pair_index, pair_attr, log_deg=log_deg, layout=layout
        )
        h = self.norm_node(x + node_update)
        if self.norm_pair is not None:
            pair_attr = self.norm_pair(pair_attr + pair_update)
        hidden = dropout(self.act(self.ffn_in(h)), self.dropout, training=self.training)
        h = self.norm_ffn(h + self.ffn_out(hidden))
        return h, pair_attr

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.channels}, heads={self.conv.heads}, "
            f"dropout={self.dropout}, attn_dropout={self.conv.attn_dropout}, "
            f"norm={self.norm!r}, update_pairs={self.update_pairs})"
        )


class GRIT(torch.nn.Module):
    r"""The GRIT graph transformer (Ma et al., ICML 2023, "Graph Inductive Biases in
    Transformers without Message Passing"), for graph- and node-level tasks.

    On a graph carrying :class:`~graphpair.transforms.AddRRWP`'s attributes:

    .. math::
        x^{(0)}_i &= \mathrm{enc}(x_i) + W_{abs}\, \mathrm{rrwp}_i, \qquad
        e^{(0)}_p = W_{rel}\, \mathrm{rrwp\_val}_p + \mathrm{enc}_E(\mathrm{edge\_attr})_p \\
        (x^{(l)}, e^{(l)}) &= \mathrm{GRITBlock}_l(x^{(l-1)}, e^{(l-1)}),
            \qquad l = 1, \dots, L \\
        \hat y &= \mathrm{MLP}\Big(\mathrm{pool}_{i \in G}\, x^{(L)}_i\Big)
            \quad \text{(or per node without pooling)}

    with the encoders of :class:`~graphpair.nn.encoders.RRWPNodeEncoder` and
    :class:`~graphpair.nn.encoders.RRWPPairEncoder` (edge features added on their pairs). The
    head has ``head_layers`` hidden Linear + activation layers, each halving the width, then a
    Linear to ``out_channels`` (the reference's ZINC head ``san_graph``: 64 -> 32 -> 16 -> 1).

    The pairs are ``rrwp_index`` (sorted by target, as ``AddRRWP`` writes them, batched or
    not); one CSR pointer is built per forward pass and shared by all layers, and the edges'
    positions among the pairs are found by binary search: nothing is re-sorted per pass.

    The last block skips its pair update (``update_pairs=False``) unless ``pair_output`` is
    set, since only a pair head reads the last pair states: the reference computes that update
    and discards it. :meth:`GRIT.zinc` builds the reference's ZINC model: with
    ``pair_output=True`` it has the reference's 473,473 parameters; by default 469,185, the
    difference being the last layer's unused :math:`O_e` (4,160) and pair BatchNorm (128).

    Args:
        in_channels: Width of float node features (a Linear maps them to the hidden width);
            ``None`` with ``num_embeddings`` for integer node types, or ``None`` for both to
            use ``x`` as given (``[N, hidden_channels]``, already encoded).
        hidden_channels: Width ``D`` of node and pair states.
        out_channels: Outputs per graph (or per node without ``pool``); ``None`` for no head
            (the output is then the pooled or per-node embedding, as :meth:`embed`).
        num_layers: GRIT blocks ``L``.
        heads: Attention heads (must divide ``D``).
        walk_length: ``K``, the RRWP channels of the input.
        num_embeddings: Integer node types (``x`` holds ids, ``[N]`` or ``[N, 1]``).
        edge_dim: Width of float edge features (a Linear maps them to ``D``).
        num_edge_embeddings: Integer edge types (``edge_attr`` holds ids). With neither,
            ``edge_attr`` is used as given (``[E, D]``) or not at all.
        dropout, attn_dropout, norm, act, clamp, deg_scaler, edge_enhance: As in
            :class:`GRITBlock`.
        pool: ``'sum'`` (the reference on ZINC), ``'mean'``, or ``None`` for node outputs.
        head_layers: Hidden layers of the output MLP.
        pair_output: The last block updates the pairs too (for a pair head).
        fused: Compile the layers' pair kernels with :func:`torch.compile`
            (:class:`~graphpair.nn.conv.GRITConv`): several times faster after a one-time
            compilation.

    Shapes:
        - x: ``[N, F]`` float, ``[N]`` / ``[N, 1]`` long ids, or ``[N, D]``
        - edge_index: ``[2, E]``; edge_attr: ``[E, edge_dim]``, ``[E]`` ids, or ``[E, D]``
        - rrwp: ``[N, K]``; rrwp_index: ``[2, S]``; rrwp_val: ``[S, K]``; log_deg: ``[N]``;
          batch: ``[N]``
        - output: ``[B, out_channels]`` with ``pool``, else ``[N, out_channels]`` (``D``
          instead of ``out_channels`` without a head)

    Example:
        >>> from torch_geometric.data import Data
        >>> from graphpair.transforms import AddRRWP
        >>> data = AddRRWP(walk_length=4)(
        ...     Data(x=torch.randn(3, 5), edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])))
        >>> model = GRIT(5, 16, 1, num_layers=2, heads=4, walk_length=4).eval()
        >>> model(data.x, data.edge_index, **GRIT.rrwp_inputs(data)).shape
        torch.Size([1, 1])
    """

    def __init__(
        self,
        in_channels: int | None,
        hidden_channels: int,
        out_channels: int | None,
        num_layers: int = 10,
        *,
        heads: int = 8,
        walk_length: int = 21,
        num_embeddings: int | None = None,
        edge_dim: int | None = None,
        num_edge_embeddings: int | None = None,
        dropout: float = 0.0,
        attn_dropout: float = 0.0,
        norm: str | None = "batch",
        act: str = "relu",
        clamp: float | None = 5.0,
        deg_scaler: bool = True,
        edge_enhance: bool = True,
        pool: str | None = "sum",
        head_layers: int = 2,
        pair_output: bool = False,
        fused: bool = False,
    ) -> None:
        super().__init__()
        if in_channels is not None and num_embeddings is not None:
            raise ValueError(
                "give at most one of in_channels (float features) and num_embeddings (integer "
                f"node types); got in_channels={in_channels!r}, num_embeddings={num_embeddings!r}"
            )
        if edge_dim is not None and num_edge_embeddings is not None:
            raise ValueError(
                "give at most one of edge_dim and num_edge_embeddings; got "
                f"edge_dim={edge_dim!r}, num_edge_embeddings={num_edge_embeddings!r}"
            )
        opt = _optional_int
        self.in_channels = opt("in_channels", in_channels)
        self.num_embeddings = opt("num_embeddings", num_embeddings)
        self.edge_dim = opt("edge_dim", edge_dim)
        self.num_edge_embeddings = opt("num_edge_embeddings", num_edge_embeddings)
        self.hidden_channels = check_int("hidden_channels", hidden_channels, minimum=1)
        self.out_channels = opt("out_channels", out_channels)
        self.num_layers = check_int("num_layers", num_layers, minimum=1)
        self.heads = check_int("heads", heads, minimum=1)
        self.walk_length = check_int("walk_length", walk_length, minimum=1)
        self.pool = None if pool is None else check_choice("pool", pool, GRIT_POOLS)
        self.head_layers = check_int("head_layers", head_layers, minimum=0)
        self.pair_output = bool(pair_output)
        self.dropout = check_probability("dropout", dropout)
        self.attn_dropout = check_probability("attn_dropout", attn_dropout)
        self.norm = None if norm is None else check_choice("norm", norm, GRIT_NORMS)
        self.act = act

        d = self.hidden_channels
        self.node_embedding = (
            torch.nn.Embedding(self.num_embeddings, d) if self.num_embeddings else None
        )
        self.node_lin = torch.nn.Linear(self.in_channels, d) if self.in_channels else None
        self.edge_embedding = (
            torch.nn.Embedding(self.num_edge_embeddings, d) if self.num_edge_embeddings else None
        )
        self.edge_lin = torch.nn.Linear(self.edge_dim, d) if self.edge_dim else None
        self.node_rrwp = RRWPNodeEncoder(self.walk_length, d)
        self.pair_rrwp = RRWPPairEncoder(self.walk_length, d)
        self.blocks = torch.nn.ModuleList(
            GRITBlock(
                d,
                heads=heads,
                dropout=dropout,
                attn_dropout=attn_dropout,
                norm=norm,
                act=act,
                clamp=clamp,
                deg_scaler=deg_scaler,
                edge_enhance=edge_enhance,
                update_pairs=self.pair_output or layer < self.num_layers - 1,
                fused=fused,
            )
            for layer in range(self.num_layers)
        )
        head: list[torch.nn.Module] = []
        if self.out_channels is not None:
            width = d
            for _ in range(self.head_layers):
                head += [torch.nn.Linear(width, max(1, width // 2)), make_activation("act", act)]
                width = max(1, width // 2)
            head.append(torch.nn.Linear(width, self.out_channels))
        self.head = torch.nn.Sequential(*head)  # empty (the identity) without out_channels
        self.reset_parameters()

    @classmethod
    def zinc(cls, *, pair_output: bool = False, fused: bool = False) -> GRIT:
        """The reference's ZINC model (``configs/GRIT/zinc-GRIT-RRWP.yaml``, spec §3): 21 atom
        and 4 bond types, K = 21, 10 layers of width 64 with 8 heads, attention dropout 0.2,
        BatchNorm, sum pooling and the 64 -> 32 -> 16 -> 1 head."""
        return cls(
            None,
            64,
            1,
            10,
            heads=8,
            walk_length=21,
            num_embeddings=21,
            num_edge_embeddings=4,
            attn_dropout=0.2,
            norm="batch",
            pool="sum",
            head_layers=2,
            pair_output=pair_output,
            fused=fused,
        )

    @staticmethod
    def rrwp_inputs(
        data: Any, attr_name: str = "rrwp", deg_attr: str = "log_deg"
    ) -> dict[str, Any]:
        """The keyword arguments of :meth:`forward` that :class:`~graphpair.transforms.AddRRWP`
        wrote on ``data`` (plus ``edge_attr``, ``batch`` and ``num_graphs`` when present)."""
        out: dict[str, Any] = {
            "rrwp": data[attr_name],
            "rrwp_index": data[f"{attr_name}_index"],
            "rrwp_val": data[f"{attr_name}_val"],
            "log_deg": data[deg_attr],
        }
        for key in ("edge_attr", "batch"):
            value = getattr(data, key, None)
            if value is not None:
                out[key] = value
        if getattr(data, "batch", None) is not None and hasattr(data, "num_graphs"):
            out["num_graphs"] = int(data.num_graphs)
        return out

    def reset_parameters(self) -> None:
        """Re-initialise every layer (embeddings ~ N(0, 1) as in the reference)."""
        for module in (self.node_embedding, self.node_lin, self.edge_embedding, self.edge_lin):
            if module is not None:
                module.reset_parameters()
        self.node_rrwp.reset_parameters()
        self.pair_rrwp.reset_parameters()
        for block in self.blocks:
            assert isinstance(block, GRITBlock)
            block.reset_parameters()
        for layer in self.head:
            if isinstance(layer, torch.nn.Linear):
                layer.reset_parameters()

    # ------------------------------------------------------------------ inputs

    def _ids(self, name: str, value: Tensor, size: int) -> Tensor:
        ids = check_tensor(name, value, dim=(1, 2), integer=True)
        if ids.dim() == 2:
            if ids.size(1) != 1:
                raise ValueError(
                    f"{name} must hold one type id per row ([M] or [M, 1]); got shape "
                    f"{tuple(ids.shape)}"
                )
            ids = ids.view(-1)
        bounds = index_range(ids)  # None under torch.compile (a data-dependent check)
        if bounds is not None and (bounds[0] < 0 or bounds[1] >= size):
            raise ValueError(
                f"{name} type ids must be in [0, {size}); got the range [{bounds[0]}, {bounds[1]}]"
            )
        return ids

    def _node_input(self, x: Tensor) -> Tensor:
        if self.node_embedding is not None:
            out: Tensor = self.node_embedding(self._ids("x", x, self.node_embedding.num_embeddings))
            return out
        check_tensor("x", x, dim=2, floating=True)
        if self.node_lin is not None:
            if x.size(1) != self.in_channels:
                raise ValueError(f"x has {x.size(1)} features but in_channels={self.in_channels}")
            out = self.node_lin(x)
            return out
        if x.size(1) != self.hidden_channels:
            raise ValueError(
                f"x has {x.size(1)} features; without in_channels or num_embeddings it must "
                f"already have hidden_channels={self.hidden_channels}"
            )
        return x

    def _edge_input(self, edge_attr: Tensor | None, num_edges: int) -> Tensor | None:
        if edge_attr is None:
            if self.edge_embedding is not None or self.edge_lin is not None:
                raise ValueError("the model has an edge encoder, so edge_attr is required")
            return None
        if self.edge_embedding is not None:
            ids = self._ids("edge_attr", edge_attr, self.edge_embedding.num_embeddings)
            out: Tensor = self.edge_embedding(ids)
        else:
            check_tensor("edge_attr", edge_attr, dim=(1, 2), floating=True)
            attr = edge_attr.view(edge_attr.size(0), -1)
            out = self.edge_lin(attr) if self.edge_lin is not None else attr
        if out.size(0) != num_edges:
            raise ValueError(
                f"edge_attr must have one row per edge ({num_edges}); got {out.size(0)}"
            )
        return out

    # ------------------------------------------------------------------ forward

    def encode(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        *,
        rrwp: Tensor,
        rrwp_index: Tensor,
        rrwp_val: Tensor,
        log_deg: Tensor,
    ) -> tuple[Tensor, GRITPairs]:
        """Node states ``[N, D]`` after the last block and the pair states
        (:class:`GRITPairs`): the last block's with ``pair_output``, else the states the last
        block read."""
        h = self._node_input(x)
        num_nodes = h.size(0)
        edge_index = check_edge_index("edge_index", edge_index, num_nodes=num_nodes).long()
        rrwp_index = check_edge_index("rrwp_index", rrwp_index, num_nodes=num_nodes).long()
        h = self.node_rrwp(h, rrwp)
        edges = self._edge_input(edge_attr, edge_index.size(1))
        pair_attr = self.pair_rrwp(rrwp_val.to(h.dtype), rrwp_index, edge_index, edges, num_nodes)
        layout = pair_layout(rrwp_index, num_nodes)
        log_deg = check_tensor("log_deg", log_deg, dim=1, floating=True).to(h.dtype)
        for block in self.blocks:
            h, pair_attr = block(h, rrwp_index, pair_attr, log_deg=log_deg, layout=layout)
        return h, GRITPairs(rrwp_index, pair_attr, num_nodes)

    def embed(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        *,
        rrwp: Tensor,
        rrwp_index: Tensor,
        rrwp_val: Tensor,
        log_deg: Tensor,
        batch: Tensor | None = None,
        num_graphs: int | None = None,
    ) -> Tensor:
        """The representation before the head: ``[B, D]`` with ``pool``, else ``[N, D]``."""
        h, _ = self.encode(
            x,
            edge_index,
            edge_attr,
            rrwp=rrwp,
            rrwp_index=rrwp_index,
            rrwp_val=rrwp_val,
            log_deg=log_deg,
        )
        if self.pool is None:
            return h
        num_nodes = h.size(0)
        batch_given = batch is not None
        if batch is None:
            batch = torch.zeros(num_nodes, dtype=torch.long, device=h.device)
        else:
            batch = check_tensor("batch", batch, dim=1, integer=True).long()
            if batch.numel() != num_nodes:
                raise ValueError(
                    f"batch must have one entry per node ({num_nodes}); got {batch.numel()}"
                )
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
        rrwp: Tensor,
        rrwp_index: Tensor,
        rrwp_val: Tensor,
        log_deg: Tensor,
        batch: Tensor | None = None,
        num_graphs: int | None = None,
    ) -> Tensor:
        """Graph outputs ``[B, out_channels]`` (or node outputs ``[N, out_channels]``).

        Args:
            x: Node features or type ids (see the class docstring).
            edge_index: The graph's edges ``[2, E]`` (the ones the RRWP was computed on).
            edge_attr: Edge features or type ids; ``None`` without an edge encoder.
            rrwp, rrwp_index, rrwp_val, log_deg: :class:`~graphpair.transforms.AddRRWP`'s
                attributes (:meth:`rrwp_inputs` collects them).
            batch: Graph of every node ``[N]``; ``None`` = one graph.
            num_graphs: ``B``; ``batch.max() + 1`` when ``None`` (a read-back: pass it to keep
                a compiled model in one graph and a CUDA step free of host syncs).
        """
        h = self.embed(
            x,
            edge_index,
            edge_attr,
            rrwp=rrwp,
            rrwp_index=rrwp_index,
            rrwp_val=rrwp_val,
            log_deg=log_deg,
            batch=batch,
            num_graphs=num_graphs,
        )
        out: Tensor = self.head(h)
        return out

    def __repr__(self) -> str:
        if self.num_embeddings is not None:
            source = f"num_embeddings={self.num_embeddings}"
        else:
            source = str(self.in_channels)
        return (
            f"{self.__class__.__name__}({source}, {self.hidden_channels}, {self.out_channels}, "
            f"num_layers={self.num_layers}, heads={self.heads}, walk_length={self.walk_length}, "
            f"dropout={self.dropout}, attn_dropout={self.attn_dropout}, norm={self.norm!r}, "
            f"pool={self.pool!r}, head_layers={self.head_layers}, "
            f"pair_output={self.pair_output})"
        )


def _optional_int(name: str, value: int | None) -> int | None:
    return None if value is None else check_int(name, value, minimum=1)
