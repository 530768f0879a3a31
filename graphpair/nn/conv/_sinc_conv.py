"""SINC-GCN and SIR-GCN convolutions: messages that see the centre node and its neighbourhood."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import MessagePassing

from graphpair._validation import (
    check_choice,
    check_index,
    check_int,
    check_tensor,
    describe,
)
from graphpair.nn._checks import check_probability
from graphpair.ops import is_sparse_tensor, scatter
from graphpair.ops._segment import ptr_to_index

__all__ = [
    "ACTIVATIONS",
    "AGGREGATIONS",
    "SINCConv",
    "SIRConv",
    "check_aggregation",
    "make_activation",
    "sym_norm",
]

#: Neighbourhood aggregations of :class:`SINCConv` (``aggr`` and ``context_aggr``).
AGGREGATIONS: tuple[str, ...] = ("sum", "mean", "max", "sym")
_AGGR_ALIASES = {"add": "sum"}


def check_aggregation(name: str, value: object) -> str:
    """Resolve an aggregation name to one of :data:`AGGREGATIONS` (``'add'`` -> ``'sum'``)."""
    return check_choice(name, value, AGGREGATIONS, _AGGR_ALIASES)


#: Activations accepted by name (``'leaky_relu'`` has slope 0.2, as in the SINC-GCN models).
ACTIVATIONS: tuple[str, ...] = (
    "relu",
    "leaky_relu",
    "tanh",
    "sigmoid",
    "gelu",
    "elu",
    "silu",
    "identity",
)
_ACTIVATION_FACTORIES: dict[str, Callable[[], torch.nn.Module]] = {
    "relu": torch.nn.ReLU,
    "leaky_relu": lambda: torch.nn.LeakyReLU(0.2),
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "gelu": torch.nn.GELU,
    "elu": torch.nn.ELU,
    "silu": torch.nn.SiLU,
    "identity": torch.nn.Identity,
}


def make_activation(name: str, act: Any) -> torch.nn.Module:
    """A fresh activation module from a name in ``ACTIVATIONS``, or ``act`` itself if it is
    already a module (an MLP, a learnable activation)."""
    if isinstance(act, torch.nn.Module):
        return act
    if not isinstance(act, str):
        raise TypeError(
            f"{name} must be a torch.nn.Module or one of {list(ACTIVATIONS)}; got {describe(act)}"
        )
    return _ACTIVATION_FACTORIES[check_choice(name, act, ACTIVATIONS)]()


def sym_norm(src: Tensor, dst: Tensor, num_src: int, num_dst: int, dtype: torch.dtype) -> Tensor:
    r"""GCN-style edge weights :math:`\deg_{out}(v)^{-1/2} \deg_{in}(u)^{-1/2}` of the edges
    ``v = src -> u = dst``, degrees counted over the edges given and clamped to at least 1.

    Shapes:
        - src, dst: ``[E]``
        - output: ``[E]``
    """
    deg_out = torch.bincount(src, minlength=num_src).clamp_(min=1).to(dtype).rsqrt_()  # [N_src]
    deg_in = torch.bincount(dst, minlength=num_dst).clamp_(min=1).to(dtype).rsqrt_()  # [N_dst]
    return deg_out[src] * deg_in[dst]


class SINCConv(MessagePassing):  # type: ignore[misc]  # torch_geometric is untyped
    r"""Neighbourhood-contextualised convolution of SINC-GCN (Lim, 2025, "Enhancing Graph
    Representations with Neighborhood-Contextualized Message-Passing").

    Every message from a neighbour :math:`v` to a node :math:`u` sees :math:`u`, :math:`v` and a
    context :math:`c_u` summarising the whole neighbourhood :math:`\mathcal N(u)` (the
    in-neighbours of :math:`u`, ``edge_index[0]`` for the edges into ``edge_index[1]``):

    .. math::
        c_u &= W_N \cdot \mathrm{CTX}_{w \in \mathcal N(u)}\, x_w \\
        z_{uv} &= \sigma\big(W_Q x_u + b_Q + W_K x_v + W_E e_{uv} + c_u\big) \\
        h_u &= W_R \cdot \mathrm{AGG}_{v \in \mathcal N(u)}\, n_{uv} z_{uv} + b_R
            \qquad \mathrm{AGG} \in \{\text{sum}, \text{mean}, \text{sym}\} \\
        h_u &= \max_{v \in \mathcal N(u)} \big(W_R z_{uv} + b_R\big)
            \qquad \mathrm{AGG} = \text{max (elementwise)}

    with :math:`n_{uv} = 1` for sum, :math:`1/|\mathcal N(u)|` for mean and
    :math:`\deg_{out}(v)^{-1/2}\deg_{in}(u)^{-1/2}` for sym (GCN weights, degrees clamped to at
    least 1, then a sum); CTX uses the same four rules with its own choice. The :math:`W_E`
    term is present only with ``edge_dim``. With ``context_aggr=None`` there is no context and
    the layer is SIR-GCN (:class:`SIRConv`, "Contextualized Messages Boost Graph
    Representations", TMLR 2025).

    This follows the authors' code (``models/conv.py``), which differs from the formula in
    their README in three places:

    - the context aggregates the *raw* features and applies :math:`W_N` afterwards, so with
      ``context_aggr='max'`` it is :math:`W_N \max_w x_w`, not :math:`\max_w W_N x_w` (for
      sum/mean/sym both are equal);
    - :math:`W_R` sits outside the aggregation and :math:`b_R` is added once per node, not once
      per edge (for max it is applied per edge, before the max);
    - dropout acts on :math:`W_Q x_u + b_Q`, :math:`W_K x_v` and :math:`c_u`, not on the input
      (and not on the edge term).

    A node without in-neighbours gets :math:`h_u = b_R` (sum/mean/sym) or :math:`0` (max) and
    :math:`c_u = 0`. No self loop is added: self information enters only through :math:`W_Q
    x_u`, so add self loops or a residual in the model where wanted.

    Cost (the linearity trick): :math:`W_Q`, :math:`W_K` and :math:`W_N` are applied once per
    node; per edge there is only a gather, an add, :math:`\sigma` and the aggregation,
    :math:`O(E \cdot D_{hidden})`, and :math:`W_R` is applied once per node after a
    sum/mean/sym aggregation (per edge only under max, :math:`O(E \cdot D_{hidden} D_{out})`).
    The context of a sum/mean/sym aggregation is aggregated in the narrower of
    :math:`D_{in}` and :math:`D_{hidden}` (equal by linearity). The largest intermediates are
    ``[E, hidden_channels]``; no ``[E, in_channels, hidden_channels]`` tensor is formed.

    Args:
        in_channels: Input size, or ``(source, target)`` sizes for a bipartite graph (the key
            and context read source features, the query target features).
        out_channels: Output size :math:`D_{out}`.
        hidden_channels: Message size :math:`D_{hidden}`; ``None`` uses ``out_channels``.
        aggr: ``'sum'`` (default, alias ``'add'``), ``'mean'``, ``'max'`` or ``'sym'``.
        context_aggr: The same choices for the context, or ``None`` for no context (SIR-GCN).
        act: :math:`\sigma`: a name from ``ACTIVATIONS`` or a module (default ``'relu'``).
        dropout: Dropout on the query, key and context projections (the authors'
            ``feat_drop``).
        edge_dim: Size of ``edge_attr``; ``None`` for a layer without edge features.
        inner_bias: Learn :math:`b_Q` (the key and context maps have no bias).
        bias: Learn :math:`b_R`.

    **Inputs as PyG layers take them.** The graph is an ``edge_index`` ``[2, E]`` or PyG's
    transposed adjacency ``adj_t`` ``[N_dst, N_src]`` (row = target, what ``ToSparseTensor``
    writes): a ``torch.sparse`` COO / CSR / CSC tensor or a ``torch_sparse.SparseTensor``.
    Every stored entry of ``adj_t`` is an edge, read in storage order without a sort or a
    copy of the structure (an uncoalesced COO tensor's repeated entries are repeated edges,
    as in an ``edge_index``); its values are the edge features when the layer has
    ``edge_dim`` and are not read otherwise. ``size=(N_src, N_dst)`` gives explicit sizes as
    in PyG: with a single ``x`` of ``N_src`` rows, the first ``N_dst`` rows are the targets
    (the order of PyG's neighbour samplers).

    **Compilation.** ``torch.compile`` traces the layer with an ``edge_index`` as one graph
    (``fullgraph=True`` holds; the data-dependent checks are skipped while compiling, so check
    inputs in eager mode first). ``torch.jit.script`` is not supported: the layer dispatches
    on Python types (``x`` pair or tensor, ``edge_index`` or ``adj_t``), takes an activation
    module and calls graphpair's checks, which TorchScript cannot compile; use
    ``torch.compile`` instead (``docs/reliability.md``).

    Shapes:
        - x: ``[N, D_in]`` or a pair ``([N_src, D_src], [N_dst, D_dst])``
        - edge_index: ``[2, E]``, messages from ``edge_index[0]`` to ``edge_index[1]``, or
          ``adj_t`` ``[N_dst, N_src]``
        - edge_attr: ``[E, edge_dim]`` (``[E]`` allowed when ``edge_dim=1``)
        - output: ``[N, out_channels]`` (``[N_dst, out_channels]`` for a pair or a ``size``)

    Example:
        >>> conv = SINCConv(8, 16, aggr="sum", context_aggr="mean")
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> x = torch.randn(3, 8)
        >>> conv(x, edge_index).shape
        torch.Size([3, 16])
        >>> adj_t = torch.sparse_coo_tensor(
        ...     edge_index.flip(0), torch.ones(4), (3, 3), check_invariants=True
        ... )
        >>> torch.allclose(conv(x, adj_t), conv(x, edge_index))
        True
    """

    def __init__(
        self,
        in_channels: int | tuple[int, int],
        out_channels: int,
        *,
        hidden_channels: int | None = None,
        aggr: str = "sum",
        context_aggr: str | None = "sum",
        act: str | torch.nn.Module = "relu",
        dropout: float = 0.0,
        edge_dim: int | None = None,
        inner_bias: bool = True,
        bias: bool = True,
    ) -> None:
        # The aggregation is graphpair's scatter (see aggregate()), not a PyG module.
        super().__init__(aggr=None, node_dim=0)
        if isinstance(in_channels, tuple):
            if len(in_channels) != 2:
                raise ValueError(
                    f"in_channels must be an int or a (source, target) pair; got {in_channels}"
                )
            src_channels = check_int("in_channels[0]", in_channels[0], minimum=1)
            dst_channels = check_int("in_channels[1]", in_channels[1], minimum=1)
            self.in_channels: int | tuple[int, int] = (src_channels, dst_channels)
        else:
            src_channels = dst_channels = check_int("in_channels", in_channels, minimum=1)
            self.in_channels = src_channels
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        hidden = out_channels if hidden_channels is None else hidden_channels
        self.hidden_channels = check_int("hidden_channels", hidden, minimum=1)
        self.aggr: str = check_aggregation("aggr", aggr)
        self.context_aggr: str | None = (
            None if context_aggr is None else check_aggregation("context_aggr", context_aggr)
        )
        self.act = make_activation("act", act)
        self.dropout = check_probability("dropout", dropout)
        self.edge_dim = None if edge_dim is None else check_int("edge_dim", edge_dim, minimum=1)
        self.inner_bias = bool(inner_bias)
        self.bias = bool(bias)

        self.lin_query = torch.nn.Linear(dst_channels, self.hidden_channels, bias=self.inner_bias)
        # One inner bias suffices: a key or context bias would only add to b_Q.
        self.lin_key = torch.nn.Linear(src_channels, self.hidden_channels, bias=False)
        self.lin_context = (
            torch.nn.Linear(src_channels, self.hidden_channels, bias=False)
            if self.context_aggr is not None
            else None
        )
        self.lin_edge = (
            torch.nn.Linear(self.edge_dim, self.hidden_channels, bias=False)
            if self.edge_dim is not None
            else None
        )
        self.lin_relation = torch.nn.Linear(self.hidden_channels, self.out_channels, bias=self.bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise every linear map (PyTorch's default init) and a learnable ``act``."""
        for lin in (self.lin_query, self.lin_key, self.lin_context, self.lin_edge):
            if lin is not None:
                lin.reset_parameters()
        self.lin_relation.reset_parameters()
        reset = getattr(self.act, "reset_parameters", None)
        if callable(reset):
            reset()

    # ------------------------------------------------------------------ input checks

    def _split_x(self, x: Tensor | tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        if isinstance(x, (tuple, list)):
            if len(x) != 2:
                raise ValueError(f"x must be a tensor or a (source, target) pair; got {len(x)}")
            x_src = check_tensor("x[0]", x[0], dim=2, floating=True)
            x_dst = check_tensor("x[1]", x[1], dim=2, floating=True)
            names = ("x[0]", "x[1]")
        else:
            x_src = x_dst = check_tensor("x", x, dim=2, floating=True)
            names = ("x", "x")
        expected = self.lin_key.in_features, self.lin_query.in_features
        for name, value, want in zip(names, (x_src, x_dst), expected, strict=True):
            if value.size(1) != want:
                raise ValueError(
                    f"{name} has {value.size(1)} features but the layer expects {want} "
                    f"(in_channels={self.in_channels})"
                )
        return x_src, x_dst

    def _check_edges(self, edge_index: Tensor, num_src: int, num_dst: int) -> tuple[Tensor, Tensor]:
        edge_index = check_tensor("edge_index", edge_index, dim=2, integer=True)
        if edge_index.size(0) != 2:
            raise ValueError(
                f"edge_index must have shape [2, E]; got shape {tuple(edge_index.shape)}"
            )
        src = check_index("edge_index[0]", edge_index[0], size=num_src).long()
        dst = check_index("edge_index[1]", edge_index[1], size=num_dst).long()
        return src, dst

    def _sizes(
        self,
        x: Tensor | tuple[Tensor, Tensor],
        x_src: Tensor,
        x_dst: Tensor,
        size: tuple[int, int] | None,
    ) -> tuple[Tensor, int, int]:
        """``(x_dst, N_src, N_dst)`` under ``size``: a pair ``x`` must match it; a single ``x``
        has ``N_src`` rows and its first ``N_dst`` rows are the targets (PyG's samplers put
        the target nodes first)."""
        if size is None:
            return x_dst, x_src.size(0), x_dst.size(0)
        if not isinstance(size, (tuple, list)) or len(size) != 2:
            raise ValueError(f"size must be a pair (N_src, N_dst); got {describe(size)}")
        num_src = check_int("size[0]", size[0], minimum=0)
        num_dst = check_int("size[1]", size[1], minimum=0)
        if isinstance(x, (tuple, list)):
            if (num_src, num_dst) != (x_src.size(0), x_dst.size(0)):
                raise ValueError(
                    f"size={(num_src, num_dst)} but x[0] has {x_src.size(0)} rows and x[1] "
                    f"{x_dst.size(0)}; size must be (x[0].size(0), x[1].size(0))"
                )
            return x_dst, num_src, num_dst
        if x_src.size(0) != num_src or num_dst > num_src:
            raise ValueError(
                f"size={(num_src, num_dst)} but x has {x_src.size(0)} rows; a single x must "
                "have size[0] rows, its first size[1] rows being the targets"
            )
        return x_dst[:num_dst], num_src, num_dst

    def _sparse_edges(
        self, adj_t: Any, edge_attr: Tensor | None, size: tuple[int, int] | None
    ) -> tuple[Tensor, Tensor, Tensor | None, tuple[int, int]]:
        """``(src, dst, edge features, (N_src, N_dst))`` of a transposed sparse adjacency
        (row = target), every stored entry an edge in storage order (no sort; duplicates of
        an uncoalesced tensor are repeated edges, as in an ``edge_index``)."""
        if is_sparse_tensor(adj_t):
            dst, src, values = adj_t.coo()
            rows, cols = (int(s) for s in adj_t.sparse_sizes())
        else:
            if adj_t.sparse_dim() != 2:
                raise ValueError(
                    f"edge_index as a sparse adj_t must be a 2-D sparse matrix; got shape "
                    f"{tuple(adj_t.shape)}"
                )
            rows, cols = int(adj_t.size(0)), int(adj_t.size(1))
            if adj_t.layout == torch.sparse_coo:
                dst, src = adj_t._indices()
                values = adj_t._values()
            elif adj_t.layout == torch.sparse_csr:
                dst = ptr_to_index(adj_t.crow_indices())
                src, values = adj_t.col_indices(), adj_t.values()
            elif adj_t.layout == torch.sparse_csc:
                src = ptr_to_index(adj_t.ccol_indices())
                dst, values = adj_t.row_indices(), adj_t.values()
            else:
                raise ValueError(
                    "edge_index as a sparse adj_t must have layout sparse_coo, sparse_csr or "
                    f"sparse_csc; got {adj_t.layout}"
                )
        if size is not None and tuple(size) != (cols, rows):
            raise ValueError(
                f"size={tuple(size)} but adj_t has size ({rows}, {cols}) = (N_dst, N_src); "
                "size is (N_src, N_dst), or leave it out with a sparse adj_t"
            )
        if self.lin_edge is not None:
            if edge_attr is not None:
                raise ValueError(
                    "with a sparse adj_t the edge features are its values; pass edge_attr=None"
                )
            edge_attr = values
        return src.long(), dst.long(), edge_attr, (cols, rows)

    def _edge_term(self, edge_attr: Tensor | None, num_edges: int) -> Tensor | None:
        if self.lin_edge is None:
            if edge_attr is not None:
                raise ValueError(
                    "edge_attr was given but the layer has no edge features; "
                    "build it with edge_dim=edge_attr.size(-1)"
                )
            return None
        if edge_attr is None:
            raise ValueError(f"the layer was built with edge_dim={self.edge_dim}; pass edge_attr")
        edge_attr = check_tensor("edge_attr", edge_attr, dim=(1, 2), floating=True)
        if edge_attr.dim() == 1:
            if self.edge_dim != 1:
                raise ValueError(
                    f"edge_attr must have shape [E, {self.edge_dim}]; got a 1-D tensor "
                    "(1-D is accepted only with edge_dim=1)"
                )
            edge_attr = edge_attr.unsqueeze(-1)
        if edge_attr.shape != (num_edges, self.edge_dim):
            raise ValueError(
                f"edge_attr must have shape [E, edge_dim] = [{num_edges}, {self.edge_dim}]; "
                f"got {tuple(edge_attr.shape)}"
            )
        edge_term: Tensor = self.lin_edge(edge_attr)  # [E, D_hidden]
        return edge_term

    # ------------------------------------------------------------------ forward

    def forward(
        self,
        x: Tensor | tuple[Tensor, Tensor],
        edge_index: Tensor | Any,
        edge_attr: Tensor | None = None,
        size: tuple[int, int] | None = None,
    ) -> Tensor:
        """New node representations ``[N_dst, out_channels]`` (see the class docstring).

        Args:
            x: Node features ``[N, D_in]``, or a ``(source, target)`` pair.
            edge_index: Messages ``edge_index[0] -> edge_index[1]`` as ``[2, E]``, or PyG's
                transposed adjacency ``adj_t [N_dst, N_src]`` (row = target): a
                ``torch.sparse`` COO / CSR / CSC tensor or a ``torch_sparse.SparseTensor``.
            edge_attr: Edge features ``[E, edge_dim]`` with an ``edge_index``; with an
                ``adj_t`` they are its values and ``edge_attr`` must be ``None``.
            size: ``(N_src, N_dst)`` as in PyG; with a single ``x`` of ``N_src`` rows the
                first ``N_dst`` are the targets. Taken from ``adj_t`` when one is given.
        """
        x_src, x_dst = self._split_x(x)
        sparse = is_sparse_tensor(edge_index) or (
            isinstance(edge_index, Tensor) and edge_index.layout != torch.strided
        )
        if sparse:
            src, dst, edge_attr, size = self._sparse_edges(edge_index, edge_attr, size)
        x_dst, num_src, num_dst = self._sizes(x, x_src, x_dst, size)
        if sparse:
            check_index("adj_t columns (sources)", src, size=num_src)
            check_index("adj_t rows (targets)", dst, size=num_dst)
        else:
            src, dst = self._check_edges(edge_index, num_src, num_dst)
        edge_term = self._edge_term(edge_attr, src.numel())
        uses_sym = "sym" in (self.aggr, self.context_aggr)
        norm = sym_norm(src, dst, num_src, num_dst, x_src.dtype) if uses_sym else None

        query = F.dropout(self.lin_query(x_dst), self.dropout, self.training)  # [N_dst, D_h]
        key = F.dropout(self.lin_key(x_src), self.dropout, self.training)  # [N_src, D_h]
        if self.lin_context is not None:
            context = self._context(x_src, src, dst, num_dst, norm)  # [N_dst, D_h]
            # c_u and W_Q x_u + b_Q are both per target node: add them before the per-edge gather.
            query = query + F.dropout(context, self.dropout, self.training)
        out: Tensor = self.propagate(
            torch.stack([src, dst]),
            size=(num_src, num_dst),
            query=query,
            key=key,
            edge_term=edge_term,
            norm=norm if self.aggr == "sym" else None,
        )
        return out

    def _context(
        self, x_src: Tensor, src: Tensor, dst: Tensor, num_dst: int, norm: Tensor | None
    ) -> Tensor:
        """:math:`c_u = W_N \\cdot \\mathrm{CTX}_w x_w` for every target node ``[N_dst, D_h]``."""
        assert self.lin_context is not None
        assert self.context_aggr is not None
        if self.context_aggr == "max":
            # The authors' order: elementwise max of the raw features, then W_N.
            top = scatter(x_src.index_select(0, src), dst, dim_size=num_dst, reduce="max")
            out: Tensor = self.lin_context(top)
            return out
        # sum / mean / sym commute with W_N: aggregate in the narrower of D_in and D_hidden.
        project_first = self.lin_context.in_features > self.lin_context.out_features
        feats = self.lin_context(x_src) if project_first else x_src
        messages = feats.index_select(0, src)  # [E, min(D_in, D_hidden)]
        if self.context_aggr == "sym":
            assert norm is not None
            messages = messages * norm.unsqueeze(-1)
        reduce = "sum" if self.context_aggr == "sym" else self.context_aggr
        total = scatter(messages, dst, dim_size=num_dst, reduce=reduce)
        if project_first:
            return total
        out = self.lin_context(total)
        return out

    def message(
        self,
        query: Tensor,
        key: Tensor,
        edge_index_i: Tensor,
        edge_index_j: Tensor,
        edge_term: Tensor | None,
        norm: Tensor | None,
    ) -> Tensor:
        """Per-edge :math:`n_{uv} \\sigma(q_u + k_v [+ W_E e_{uv}])` ``[E, D_h]`` (or
        :math:`W_R z_{uv} + b_R` ``[E, D_out]`` under max)."""
        # Gather and add in place: index_select's backward needs neither its input nor its
        # output, so the gathered keys are freed at once and one [E, D_h] buffer stays.
        z = query.index_select(0, edge_index_i)  # [E, D_h]
        z.add_(key.index_select(0, edge_index_j))
        if edge_term is not None:
            z.add_(edge_term)
        # ReLU saves only its output, so in place is safe here and keeps one [E, D_h] less.
        z = torch.relu_(z) if isinstance(self.act, torch.nn.ReLU) else self.act(z)
        if self.aggr == "max":
            out: Tensor = self.lin_relation(z)  # [E, D_out]: W_R and b_R before the max
            return out
        if norm is not None:
            z = z * norm.unsqueeze(-1)
        return z

    def aggregate(self, inputs: Tensor, index: Tensor, dim_size: int | None = None) -> Tensor:
        """Sum / mean / max of the messages per target node (sym is a weighted sum)."""
        reduce = "sum" if self.aggr == "sym" else self.aggr
        return scatter(inputs, index, dim=0, dim_size=dim_size, reduce=reduce)

    def update(self, inputs: Tensor) -> Tensor:
        """:math:`W_R` once per node after a sum/mean/sym aggregation (under max it already ran
        per edge)."""
        if self.aggr == "max":
            return inputs
        out: Tensor = self.lin_relation(inputs)
        return out

    def __repr__(self) -> str:
        context = "" if type(self) is SIRConv else f", context_aggr={self.context_aggr!r}"
        edge = "" if self.edge_dim is None else f", edge_dim={self.edge_dim}"
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
            f"hidden_channels={self.hidden_channels}, aggr={self.aggr!r}{context}, "
            f"act={self.act!r}, dropout={self.dropout}{edge}, inner_bias={self.inner_bias}, "
            f"bias={self.bias})"
        )


class SIRConv(SINCConv):
    r"""Soft-isomorphic relational convolution of SIR-GCN ("Contextualized Messages Boost
    Graph Representations", Lim et al., TMLR 2025): :class:`SINCConv` without the context.

    .. math::
        h_u = W_R \cdot \mathrm{AGG}_{v \in \mathcal N(u)}\,
            n_{uv}\, \sigma\big(W_Q x_u + b_Q + W_K x_v + W_E e_{uv}\big) + b_R

    (under max: :math:`\max_v (W_R \sigma(\cdot) + b_R)`). As in the authors' code after their
    2025-07 fix, the key map has no bias. Arguments, shapes, cost and the treatment of nodes
    without in-neighbours are those of :class:`SINCConv`, and so are the accepted graph forms
    (``edge_index``, ``adj_t``, ``size=``). Not scriptable with ``torch.jit.script``; use
    ``torch.compile``, which traces it as one graph with an ``edge_index``.

    Args:
        in_channels: Input size, or ``(source, target)`` sizes.
        out_channels: Output size.
        hidden_channels: Message size; ``None`` uses ``out_channels``.
        aggr: ``'sum'`` (default), ``'mean'``, ``'max'`` or ``'sym'``.
        act: :math:`\sigma`, a name from ``ACTIVATIONS`` or a module (default ``'relu'``).
        dropout: Dropout on the query and key projections.
        edge_dim: Size of ``edge_attr``; ``None`` for no edge features.
        inner_bias: Learn :math:`b_Q`.
        bias: Learn :math:`b_R`.

    Shapes:
        - x: ``[N, D_in]`` or a pair ``([N_src, D_src], [N_dst, D_dst])``
        - edge_index: ``[2, E]``; edge_attr: ``[E, edge_dim]``
        - output: ``[N, out_channels]``

    Example:
        >>> conv = SIRConv(8, 16, aggr="mean")
        >>> conv(torch.randn(3, 8), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])).shape
        torch.Size([3, 16])
    """

    def __init__(
        self,
        in_channels: int | tuple[int, int],
        out_channels: int,
        *,
        hidden_channels: int | None = None,
        aggr: str = "sum",
        act: str | torch.nn.Module = "relu",
        dropout: float = 0.0,
        edge_dim: int | None = None,
        inner_bias: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            hidden_channels=hidden_channels,
            aggr=aggr,
            context_aggr=None,
            act=act,
            dropout=dropout,
            edge_dim=edge_dim,
            inner_bias=inner_bias,
            bias=bias,
        )
