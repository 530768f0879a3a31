"""Layer-wise full-graph inference of :class:`~graphpair.nn.MPNNEncoder` over node chunks.

The eval-mode forward, one layer at a time over the whole graph, each layer's output rows
written chunk by chunk into one preallocated ``[N, D]`` tensor: a chunk of target nodes gathers
its incoming entries from the CSR's cached transpose and multiplies them with the layer's
(projected) input. At most the layer's input, its projection and its output are alive at once
(two ``[N, D]`` tensors for a GCN / SAGE stack without ``res`` or ``jk``), and no ``[E]``
tensor beyond the entries' weights and their normalised values (one float an entry each) is
made. The full forward without autograd keeps four (input, projection, product and self-loop
term: 10 GB at ogbn-products' size and width 256).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GCNConv, SAGEConv

from graphpair.ops import CSR
from graphpair.ops._spmm import csr_matrix

__all__ = ["DEFAULT_CHUNK_SIZE", "layerwise_inference"]

#: Target nodes per chunk of :meth:`~graphpair.nn.encoders.MPNNEncoder.inference` (a chunk's
#: output is ``chunk_size x hidden_channels`` floats: 64 MiB at width 256).
DEFAULT_CHUNK_SIZE = 65_536


class _InEntries:
    """The incoming entries of every node (the CSR's cached transpose) with their weights
    ``w`` (given in the CSR's entry order), sliced by chunks of target nodes."""

    def __init__(self, adj: CSR, weight: Tensor, chunk_size: int) -> None:
        self.order, self.rowptr, self.src = adj.transpose()
        self.weight, self.num_nodes, self.chunk_size = weight, adj.num_nodes, chunk_size
        self._adj = adj
        self._inv_sqrt: Tensor | None = None
        self._values: tuple[str, Tensor] | None = None

    def inv_sqrt(self) -> Tensor:
        """GCN's :math:`(1 + \\sum_j w_{ji})^{-1/2}` of every node ``[N]``."""
        if self._inv_sqrt is None:
            degree = torch.zeros(self.num_nodes, dtype=self.weight.dtype, device=self.weight.device)
            degree.index_add_(0, self._adj.col, self.weight)  # weighted in-degree
            self._inv_sqrt = degree.add_(1.0).rsqrt_()
        return self._inv_sqrt

    def chunks(self) -> range:
        return range(0, self.num_nodes, self.chunk_size)

    def _span(self, start: int) -> tuple[int, int, int, int]:
        """Targets ``start:end`` of a chunk and their entries ``first:last``."""
        end = min(start + self.chunk_size, self.num_nodes)
        return start, end, int(self.rowptr[start]), int(self.rowptr[end])

    def values(self, aggr: str) -> Tensor:
        """The product's value of every incoming entry ``[E]`` in transposed order: ``w``
        (``'sum'``), ``w / count(target)`` (``'mean'``), or GCN's
        :math:`w / \\sqrt{\\tilde d_s \\tilde d_t}` (``'gcn'``); made chunk by chunk (no
        ``[E]`` temporary) and kept for the next layers, as the forward keeps its
        normalised weights."""
        if self._values is not None and self._values[0] == aggr:
            return self._values[1]
        values = torch.empty_like(self.weight)
        for chunk in self.chunks():
            start, end, first, last = self._span(chunk)
            w = self.weight[self.order[first:last]]
            if aggr != "sum":
                lengths = self.rowptr[start + 1 : end + 1] - self.rowptr[start:end]
                local = torch.repeat_interleave(torch.arange(end - start, device=w.device), lengths)
                if aggr == "gcn":  # as _Edges.gcn_norm multiplies them
                    scale = self.inv_sqrt()
                    w = scale[self.src[first:last]] * scale[local + start] * w
                else:  # the chunk's in-counts of nonzero weight, at least 1 (exact in floats)
                    count = w.new_zeros(end - start).index_add_(0, local, (w != 0).to(w.dtype))
                    w = w / count.clamp_(min=1)[local]
            values[first:last] = w
        self._values = (aggr, values)
        return values

    def product(self, x: Tensor, start: int, aggr: str) -> Tensor:
        """:func:`~graphpair.nn.encoders._propagate._propagate` ``'gcn'`` / ``'sum'`` /
        ``'mean'`` of ``x`` for the chunk of targets from ``start`` ``[chunk, D]``."""
        values = self.values(aggr)
        start, end, first, last = self._span(start)
        rowptr = self.rowptr[start : end + 1] - first
        src, value = self.src[first:last], values[first:last].to(x.dtype)
        if x.dtype in (torch.float32, torch.float64):  # what CSR products support
            out = csr_matrix(rowptr, src, value, (end - start, x.size(0))) @ x
        else:  # half precision: the chunk's messages, [chunk entries, D]
            targets = torch.repeat_interleave(
                torch.arange(end - start, device=x.device), rowptr.diff()
            )
            messages = torch.index_select(x, 0, src) * value.unsqueeze(-1)
            out = x.new_zeros(end - start, x.size(1)).index_add_(0, targets, messages)
        if aggr == "gcn":  # the self loop
            return out.add_(x[start:end] * self.inv_sqrt()[start:end].pow(2).unsqueeze(-1))
        return out


def layerwise_inference(
    encoder: Any,  # an MPNNEncoder (not imported: _mpnn imports this module)
    x: Tensor | None,
    adj: CSR,
    edge_weight: Tensor | None,
    chunk_size: int,
) -> Tensor:
    """The body of :meth:`MPNNEncoder.inference` for the encoders that run on a CSR's
    stored entries (the caller checked it, and that a GCN's graph has no self loop)."""
    n = adj.num_nodes
    h: Tensor = encoder._input(x, n, adj.device)
    weight = adj.mask.to(h.dtype)  # masked entries carry weight 0
    if edge_weight is not None and encoder.conv != "sage":  # SAGE takes no edge weights
        weight = weight * edge_weight.to(h.dtype)
    edges = _InEntries(adj, weight, chunk_size)
    norms = iter(encoder.norms)
    jk = None if encoder.jk_weight is None else h.new_empty(n, encoder.hidden_channels)
    pure = {"puregcn": "gcn", "puresum": "sum", "puremean": "mean"}
    for layer in range(encoder._layers):
        conv = encoder.convs[layer] if encoder.convs else None
        norm = next(norms) if encoder.ln and encoder._has_post(layer) and conv is not None else None
        post = conv is not None and encoder._has_post(layer)
        residual = encoder.res and h.size(-1) == encoder.hidden_channels
        z = h  # what the neighbours send
        if isinstance(conv, GCNConv):
            z = conv.lin(h)
        elif isinstance(conv, SAGEConv) and conv.lin_l.out_channels < h.size(-1):
            z = F.linear(h, conv.lin_l.weight)  # narrowing: the mean on the narrower width
        # the rows read again (SAGE's root term, the residual), else the layer's input is
        # released before its output exists (two [N, D] tensors alive, not three)
        root = h if residual or isinstance(conv, SAGEConv) else None
        del h
        out = z.new_empty(n, encoder.hidden_channels)
        for start in edges.chunks():
            end = min(start + chunk_size, n)
            if isinstance(conv, SAGEConv):
                agg = edges.product(z, start, "mean")
                assert root is not None
                if z is root:
                    agg = conv.lin_l(agg)
                elif conv.lin_l.bias is not None:
                    agg = agg + conv.lin_l.bias
                y = agg + conv.lin_r(root[start:end])
            else:
                aggr = "gcn" if conv is not None else pure[encoder.conv]
                y = edges.product(z, start, aggr)
                if isinstance(conv, GCNConv) and conv.bias is not None:
                    y.add_(conv.bias)
            if post:
                if norm is not None:
                    y = norm(y)
                y.relu_()
            if residual:
                assert root is not None
                y.add_(root[start:end])
            out[start:end] = y
            if jk is not None:  # sum_l w_l x_l, term by term as the forward adds it
                w = encoder.jk_weight[layer]
                if layer == 0:
                    jk[start:end] = y * w
                else:
                    jk[start:end].add_(y * w)
        h = out
        del z, root, out  # h is the layer's only reference: released in the next layer
    return h if jk is None else jk
