"""A stack of graph convolutions in the block of the SINC-GCN authors."""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.norm import GraphNorm

from graphpair._validation import check_choice, check_int
from graphpair.nn._checks import check_probability
from graphpair.nn._layers import ACTIVATIONS, NORMS, activation, normalization

__all__ = ["RESIDUALS", "ConvStack"]

#: Residual maps of a block: a learned ``Linear``, the identity (only on layers that keep the
#: width), or none.
RESIDUALS: tuple[str, ...] = ("linear", "identity", "none")


class ConvStack(torch.nn.Module):
    r"""``L`` graph convolutions, each in the block of the SINC-GCN authors
    (``specs/sinc.md`` §3):

    .. math::
        h \leftarrow \mathrm{dropout}\big(\mathrm{act}\big(\mathrm{norm}(
            \mathrm{conv}(h) + \mathrm{resid}(h))\big)\big),

    with ``resid`` absent (``'none'``), the identity (``'identity'``, only on layers that keep
    the width) or a learned linear map (``'linear'``). It is the backbone of the graph and
    node models the runners train (over PyG's ``GINConv``, ``GINEConv``, ``GCNConv``,
    ``SAGEConv``) and the body of :class:`~graphpair.nn.SINC`.

    Args:
        convs: One convolution per layer, called as ``conv(h, edge_index)`` or, with
            ``edge_layers``, ``conv(h, edge_index, edge_attr)``.
        widths: Input width of every layer followed by the output width (``L + 1`` values).
        norm: One of ``'batch'`` (``BatchNorm1d`` over nodes), ``'layer'``, ``'graph'``
            (PyG's ``GraphNorm``, per graph of ``batch``), ``'none'`` (or ``None``).
        act: Block activation: ``'relu'``, ``'leaky_relu'`` (slope 0.2), ``'gelu'``,
            ``'tanh'``.
        dropout: Dropout at the end of every block.
        residual: ``'linear'``, ``'identity'`` or ``'none'`` (or ``None``).
        edge_layers: Whether the convolutions take ``edge_attr``.

    Shapes:
        - x: ``[N, widths[0]]``; edge_index: ``[2, E]``; edge_attr: ``[E, D_e]`` or ``None``;
          batch: ``[N]`` or ``None``
        - output: ``[N, widths[-1]]``

    Example:
        >>> from torch_geometric.nn import GCNConv
        >>> stack = ConvStack([GCNConv(3, 8), GCNConv(8, 8)], [3, 8, 8], norm="batch",
        ...                   act="relu", dropout=0.0, residual="linear")
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> stack(torch.randn(3, 3), edge_index).shape
        torch.Size([3, 8])
    """

    def __init__(
        self,
        convs: list[torch.nn.Module],
        widths: list[int],
        *,
        norm: str | None = "batch",
        act: str = "relu",
        dropout: float = 0.0,
        residual: str | None = "linear",
        edge_layers: bool = False,
    ) -> None:
        super().__init__()
        if len(widths) != len(convs) + 1:
            raise ValueError(f"widths must have {len(convs) + 1} entries; got {widths}")
        self.widths = [check_int(f"widths[{i}]", w, minimum=1) for i, w in enumerate(widths)]
        self.convs = torch.nn.ModuleList(convs)
        self.norm = "none" if norm is None else check_choice("norm", norm, NORMS)
        self.norms = torch.nn.ModuleList(normalization(self.norm, w) for w in widths[1:])
        self.act_name = check_choice("act", act, ACTIVATIONS)
        self.act = activation(self.act_name)
        self.dropout = check_probability("dropout", dropout)
        self.residual = (
            "none" if residual is None else check_choice("residual", residual, RESIDUALS)
        )
        pairs = list(itertools.pairwise(widths))
        # Per layer: whether it has a residual, and its map (a Linear or the identity).
        self.has_resid = tuple(
            self.residual == "linear" or (self.residual == "identity" and a == b) for a, b in pairs
        )
        self.resids = torch.nn.ModuleList(
            torch.nn.Linear(a, b) if self.residual == "linear" else torch.nn.Identity()
            for a, b in pairs
        )
        self.edge_layers = edge_layers
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset every convolution, norm and residual map."""
        for module in (*self.convs, *self.norms, *self.resids):
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        *,
        batch: Tensor | None = None,
    ) -> Tensor:
        """Node embeddings ``[N, widths[-1]]`` (``batch`` is read by ``'graph'`` norms;
        ``None`` = one graph)."""
        h = x
        layers = zip(self.convs, self.norms, self.resids, self.has_resid, strict=True)
        for conv, norm, resid, has_resid in layers:
            out = conv(h, edge_index, edge_attr) if self.edge_layers else conv(h, edge_index)
            if has_resid:
                out = out + resid(h)
            out = norm(out, batch) if isinstance(norm, GraphNorm) else norm(out)
            h = F.dropout(self.act(out), p=self.dropout, training=self.training)
        return h

    def __repr__(self) -> str:
        conv = repr(self.convs[0]) if len(self.convs) else "none"
        return (
            f"{type(self).__name__}(num_layers={len(self.convs)}, conv={conv}, "
            f"widths={self.widths}, norm={self.norm!r}, act={self.act_name!r}, "
            f"dropout={self.dropout}, residual={self.residual!r})"
        )
