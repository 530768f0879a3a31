"""Propagation on an edge list or a CSR's stored entries: the functional forms of the
parameter-free convolutions and of PyG's ``GCNConv`` / ``SAGEConv`` at their defaults, as CSR
products (no ``[E, D]`` message tensor where a product applies), used by
:class:`~graphpair.nn.MPNNEncoder`."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GCNConv, SAGEConv

from graphpair.ops import CSR, scatter
from graphpair.ops._spmm import (
    entry_neighbor_sum,
    weighted_neighbor_sum,
)

__all__ = ["gcn_conv", "pure_propagate", "sage_conv"]


class _Edges:
    """The edges one propagation runs on: a ``[2, E]`` edge list, or every stored entry of a
    :class:`~graphpair.ops.CSR` (inactive entries then carry weight 0), whose products reuse
    the CSR's cached transpose instead of sorting an edge list by target every layer."""

    def __init__(
        self,
        edge_index: Tensor | None,
        num_nodes: int,
        adj: CSR | None = None,
        degree: Tensor | None = None,
    ) -> None:
        self.edge_index = edge_index
        self.degree = degree  # GCN's weighted in-degree when edges beyond these count too
        if adj is not None:
            self.src, self.dst = adj.row, adj.col
        else:
            assert edge_index is not None
            self.src, self.dst = edge_index[0], edge_index[1]
        self.num_nodes, self.adj = num_nodes, adj
        self._gcn: tuple[Tensor, Tensor, Tensor] | None = None

    def sum(self, x: Tensor, weight: Tensor) -> Tensor:
        """``out_i = sum_(j -> i) w_ji x_j`` (no ``[E, D]`` messages where a CSR product runs)."""
        if self.adj is not None:
            return entry_neighbor_sum(x, self.adj, weight)
        assert self.edge_index is not None
        out = weighted_neighbor_sum(x, self.edge_index, weight, self.num_nodes)
        if out is not None:
            return out
        # index_select, not x[src]: a fixed-order backward (graphpair.nn.link endpoint_product)
        messages = torch.index_select(x, 0, self.src) * weight.unsqueeze(-1)  # [E, D]
        return scatter(messages, self.dst, dim_size=self.num_nodes)

    def gcn_norm(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        """:math:`\\tilde D^{-1/2}` ``[N]`` and every edge's normalised weight ``[E]``; kept
        for the next layer, which reuses them when it gets the same ``weight`` tensor."""
        if self._gcn is not None and self._gcn[0] is weight:
            return self._gcn[1], self._gcn[2]
        degree = self.degree
        if degree is None:
            degree = scatter(weight, self.dst, dim_size=self.num_nodes)
        inv_sqrt = (1.0 + degree).rsqrt()  # [N]
        norm = inv_sqrt[self.src] * inv_sqrt[self.dst] * weight
        self._gcn = (weight, inv_sqrt, norm)
        return inv_sqrt, norm

    def in_count(self, weight: Tensor) -> Tensor:
        """Number of incoming edges of every node with a nonzero weight ``[N]``."""
        dst = self.dst if self.adj is None else self.dst[weight != 0]
        return torch.bincount(dst, minlength=self.num_nodes)


def pure_propagate(
    x: Tensor, edge_index: Tensor, edge_weight: Tensor, num_nodes: int, aggr: str
) -> Tensor:
    r"""One parameter-free propagation, messages from ``edge_index[0]`` to ``edge_index[1]``.

    - ``'gcn'``: :math:`\tilde D^{-1/2} (A + I) \tilde D^{-1/2} x` with
      :math:`\tilde D = \mathrm{diag}(1 + \sum_j A_{ij})` (weighted degree, so edge-dropout
      rescaling enters it);
    - ``'sum'``: :math:`A x`; ``'mean'`` / ``'max'``: mean / max over the weighted messages
      :math:`A_{ij} x_j` of each node (0 for a node without neighbours).

    Args:
        x: Node states.
        edge_index: Edges, messages flowing from row 0 to row 1.
        edge_weight: Weight :math:`A_{ij}` of every edge (ones for an unweighted graph).
        num_nodes: ``N``.
        aggr: ``'gcn'``, ``'sum'``, ``'mean'`` or ``'max'``.

    Shapes:
        - x: ``[N, D]``; edge_index: ``[2, E]``; edge_weight: ``[E]``
        - output: ``[N, D]``

    Example:
        >>> x = torch.tensor([[1.0], [2.0], [4.0]])
        >>> edge_index = torch.tensor([[0, 1, 2], [1, 2, 1]])
        >>> pure_propagate(x, edge_index, torch.ones(3), 3, "sum").view(-1)
        tensor([0., 5., 2.])
        >>> pure_propagate(x, edge_index, torch.ones(3), 3, "mean").view(-1)
        tensor([0.0000, 2.5000, 2.0000])
    """
    if aggr == "max":
        message = torch.index_select(x, 0, edge_index[0]) * edge_weight.unsqueeze(-1)  # [E, D]
        return scatter(message, edge_index[1], dim_size=num_nodes, reduce=aggr)
    return _propagate(x, _Edges(edge_index, num_nodes), edge_weight, aggr)


def _propagate(x: Tensor, edges: _Edges, weight: Tensor, aggr: str) -> Tensor:
    """:func:`pure_propagate` ``'gcn'`` / ``'sum'`` / ``'mean'`` on :class:`_Edges`."""
    if aggr == "gcn":
        inv_sqrt, norm = edges.gcn_norm(weight)
        out, loop = edges.sum(x, norm), x * inv_sqrt.pow(2).unsqueeze(-1)
        # in place, the same sum: one [N, D] tensor fewer (inference at ogbn-products' size,
        # 2.5 GB a layer; in training a fresh block a layer, faulted in page by page). Legal
        # under autograd: the products' backward saves the weights, not their output.
        return out.add_(loop)
    if aggr == "sum":
        return edges.sum(x, weight)
    count = edges.in_count(weight).clamp_(min=1).to(weight.dtype)
    return edges.sum(x, weight / count[edges.dst])


def gcn_conv(
    conv: GCNConv, x: Tensor, edge_index: Tensor, edge_weight: Tensor, num_nodes: int
) -> Tensor:
    r"""PyG's ``GCNConv`` (its defaults: self loops of weight 1, symmetric normalisation, bias)
    as ``Lin`` then :func:`pure_propagate` ``'gcn'``: on CPU a CSR product, so no ``[E, D]``
    message tensor is made (PyG's edge-list path makes one per layer: 9.2 GiB at ogbl-ppa's
    size and width 64). The graph must have no self loops (``GCNConv`` keeps an existing
    self loop's weight instead of adding 1); :class:`MPNNEncoder` falls back to ``conv`` then.

    Args:
        conv: The layer whose parameters (``lin``, ``bias``) are used.
        x: Node states.
        edge_index: Edges without self loops, both directions for an undirected graph.
        edge_weight: Weight of every edge.
        num_nodes: ``N``.

    Shapes:
        - x: ``[N, F]``; edge_index: ``[2, E]`` (messages from row 0 to row 1); edge_weight:
          ``[E]``
        - output: ``[N, conv.out_channels]``

    Example:
        >>> conv = GCNConv(4, 8)
        >>> x, edge_index = torch.randn(3, 4), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> out = gcn_conv(conv, x, edge_index, torch.ones(4), 3)
        >>> torch.allclose(out, conv(x, edge_index), atol=1e-6)
        True
    """
    return _gcn(conv, x, _Edges(edge_index, num_nodes), edge_weight)


def _gcn(conv: GCNConv, x: Tensor, edges: _Edges, weight: Tensor) -> Tensor:
    out = _propagate(conv.lin(x), edges, weight, "gcn")
    if conv.bias is None:
        return out
    return out.add_(conv.bias)  # in place, as the self-loop term: out is _propagate's own


def sage_conv(conv: SAGEConv, x: Tensor, edge_index: Tensor, num_nodes: int) -> Tensor:
    r"""PyG's ``SAGEConv`` with its defaults (mean aggregation, root weight, no projection or
    normalisation): :math:`W_l \operatorname{mean}_{j \to i} x_j + b + W_r x_i`, the mean a CSR
    product on CPU (no ``[E, D]`` messages). When the layer narrows (``out < in``) the mean is
    taken after :math:`W_l` (linear maps commute with the mean), on the narrower width.

    Args:
        conv: The layer whose parameters (``lin_l``, ``lin_r``) are used.
        x: Node states.
        edge_index: Edges, both directions for an undirected graph.
        num_nodes: ``N``.

    Shapes:
        - x: ``[N, F]``; edge_index: ``[2, E]`` (messages from row 0 to row 1)
        - output: ``[N, conv.out_channels]``

    Example:
        >>> conv = SAGEConv(4, 8)
        >>> x, edge_index = torch.randn(3, 4), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> torch.allclose(sage_conv(conv, x, edge_index, 3), conv(x, edge_index), atol=1e-6)
        True
    """
    return _sage(conv, x, _Edges(edge_index, num_nodes), x.new_ones(edge_index.size(1)))


def _sage(conv: SAGEConv, x: Tensor, edges: _Edges, kept: Tensor) -> Tensor:
    """:func:`sage_conv` on the edges whose ``kept`` weight is 1 (the others 0)."""
    lin_l = conv.lin_l
    if lin_l.out_channels < x.size(-1):
        agg = _propagate(F.linear(x, lin_l.weight), edges, kept, "mean")
        agg = agg if lin_l.bias is None else agg + lin_l.bias
    else:
        agg = lin_l(_propagate(x, edges, kept, "mean"))
    out: Tensor = agg + conv.lin_r(x)
    return out


def _pyg_defaults(conv: torch.nn.Module | None) -> bool:
    """Whether a PyG conv has the options :func:`gcn_conv` / :func:`sage_conv` reproduce."""
    if isinstance(conv, GCNConv):
        return bool(
            conv.normalize and conv.add_self_loops and not conv.improved and not conv.cached
        )
    if isinstance(conv, SAGEConv):
        return bool(
            conv.root_weight
            and not conv.normalize
            and not conv.project
            and str(conv.aggr) in ("mean", "MeanAggregation()")
        )
    return False
