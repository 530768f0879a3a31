"""GRACE's encoder and projection head (Zhu et al. 2020, "Deep Graph Contrastive Representation
Learning")."""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import Tensor

from graphpair._validation import check_choice, check_int

__all__ = ["GRACEEncoder", "drop_feature"]

#: Activations of :class:`GRACEEncoder` (GRACE's ``config.yaml`` names).
GRACE_ACTIVATIONS = ("relu", "prelu")


class GRACEEncoder(torch.nn.Module):
    r"""GRACE's encoder: ``num_layers`` GCN layers with an activation after each, the hidden
    ones twice as wide as the output, and the two-layer projection head of the loss.

    .. math::
        h^{(l)} = \sigma\big(\hat A\, h^{(l-1)} W^{(l)}\big), \qquad
        g(z) = W_2\, \mathrm{ELU}(W_1 z + b_1) + b_2,

    with :math:`\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}` (PyG ``GCNConv``). Train it with
    :func:`graphpair.losses.grace` on ``project(encoder(view_1))`` and
    ``project(encoder(view_2))``; the frozen ``encoder(x, edge_index)`` is the representation.

    Args:
        in_channels: Input feature size ``F``.
        out_channels: Representation size ``D`` (``num_hidden``; hidden layers use ``2 D``).
        proj_channels: Hidden size of the projection head (``num_proj_hidden``).
        num_layers: GCN layers (``>= 1``; GRACE uses 2).
        activation: ``'relu'`` or ``'prelu'`` (one learnable slope per layer).

    Shapes:
        - x: ``[N, F]``; edge_index: ``[2, E]``; output: ``[N, D]``
        - project: ``[N, D]`` -> ``[N, D]``

    Example:
        >>> enc = GRACEEncoder(8, 4, 4)
        >>> enc(torch.randn(3, 8), torch.tensor([[0, 1], [1, 2]])).shape
        torch.Size([3, 4])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        proj_channels: int,
        *,
        num_layers: int = 2,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        from torch_geometric.nn import GCNConv

        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        self.proj_channels = check_int("proj_channels", proj_channels, minimum=1)
        self.num_layers = check_int("num_layers", num_layers, minimum=1)
        self.activation = check_choice("activation", activation, GRACE_ACTIVATIONS)
        widths = [in_channels] + [2 * out_channels] * (num_layers - 1) + [out_channels]
        self.convs = torch.nn.ModuleList(GCNConv(a, b) for a, b in itertools.pairwise(widths))
        self.acts = torch.nn.ModuleList(
            torch.nn.PReLU() if activation == "prelu" else torch.nn.ReLU()
            for _ in range(num_layers)
        )
        self.fc1 = torch.nn.Linear(out_channels, proj_channels)
        self.fc2 = torch.nn.Linear(proj_channels, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise every layer."""
        for conv in self.convs:
            conv.reset_parameters()  # type: ignore[operator]
        for act in self.acts:
            if isinstance(act, torch.nn.PReLU):
                act.reset_parameters()
        self.fc1.reset_parameters()
        self.fc2.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """The node representations ``[N, D]``."""
        for conv, act in zip(self.convs, self.acts, strict=True):
            x = act(conv(x, edge_index))  # [N, width]
        return x

    def project(self, z: Tensor) -> Tensor:
        """The projection head :math:`g` applied before the loss ``[N, D]``."""
        out: Tensor = self.fc2(F.elu(self.fc1(z)))
        return out

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
            f"{self.proj_channels}, num_layers={self.num_layers}, activation={self.activation!r})"
        )


def drop_feature(x: Tensor, p: float, *, generator: torch.Generator | None = None) -> Tensor:
    """GRACE's feature masking: zero whole feature columns, each with probability ``p``
    (no rescaling), the same columns for every node.

    Args:
        x: Node features.
        p: Probability of dropping each column, in ``[0, 1]``.
        generator: Source of the random draw (default: the global generator of the CPU).

    Shapes:
        - x: ``[N, F]``; output: ``[N, F]``

    Example:
        >>> generator = torch.Generator().manual_seed(0)
        >>> drop_feature(torch.ones(2, 6), 0.5, generator=generator)
        tensor([[0., 1., 0., 0., 0., 1.],
                [0., 1., 0., 0., 0., 1.]])
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1]; got {p!r}")
    keep = torch.rand(x.size(1), generator=generator) >= p  # [F]
    return x * keep.to(device=x.device, dtype=x.dtype)
