"""Graph readout (pooling) followed by an MLP head."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool

from graphpair._validation import check_choice, check_int
from graphpair.nn._layers import ACTIVATIONS, activation

__all__ = ["READOUT_POOLS", "MLPReadout"]

_POOLS: dict[str, Callable[..., Tensor]] = {
    "sum": global_add_pool,
    "mean": global_mean_pool,
    "max": global_max_pool,
}
#: Poolings of :class:`MLPReadout` (``None`` for node-level outputs).
READOUT_POOLS: tuple[str, ...] = tuple(_POOLS)


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
        act: Activation between the head's layers (``'relu'``, ``'leaky_relu'``, ``'gelu'``,
            ``'tanh'``).

    Shapes:
        - h: ``[N, in_channels]``; batch: ``[N]``
        - output: ``[B, out_channels]`` with ``pooling``, else ``[N, out_channels]``

    Example:
        >>> readout = MLPReadout(16, 3, pooling="mean", head_layers=1, head_bias=True,
        ...                      act="relu")
        >>> readout(torch.randn(5, 16), torch.tensor([0, 0, 1, 1, 1]), num_graphs=2).shape
        torch.Size([2, 3])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        pooling: str | None,
        head_layers: int,
        head_bias: bool = True,
        act: str = "relu",
    ) -> None:
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        self.pooling = None if pooling is None else check_choice("pooling", pooling, READOUT_POOLS)
        self.head_layers = check_int("head_layers", head_layers, minimum=0)
        self.head_bias = head_bias
        self.act = check_choice("act", act, ACTIVATIONS)
        layers: list[torch.nn.Module] = []
        width = in_channels
        for _ in range(head_layers):
            layers += [torch.nn.Linear(width, max(1, width // 2)), activation(self.act)]
            width = max(1, width // 2)
        layers.append(torch.nn.Linear(width, out_channels, bias=head_bias))
        self.head = torch.nn.Sequential(*layers)

    def reset_parameters(self) -> None:
        """Re-draw every linear map of the head."""
        for module in self.head:
            if isinstance(module, torch.nn.Linear):
                module.reset_parameters()

    def forward(self, h: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        """Outputs per graph (or per node without pooling)."""
        if self.pooling is not None:
            h = _POOLS[self.pooling](h, batch, size=num_graphs)  # [B, D]
        out: Tensor = self.head(h)
        return out

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
            f"pooling={self.pooling!r}, head_layers={self.head_layers}, "
            f"head_bias={self.head_bias}, act={self.act!r})"
        )
