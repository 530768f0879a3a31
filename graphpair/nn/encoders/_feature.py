"""Categorical, float or absent node and edge inputs to a fixed width."""

from __future__ import annotations

import torch
from torch import Tensor

from graphpair._validation import check_int

__all__ = ["FeatureEncoder"]


class FeatureEncoder(torch.nn.Module):
    r"""Node or edge inputs to ``out_channels``: categorical columns through a sum of
    embeddings (one table per column, as OGB's ``AtomEncoder``), float features through a
    linear map, and no features through one learned vector shared by every entry (GRIT's
    ``DummyEdge``).

    .. math::
        \mathrm{enc}(v) = \sum_c E_c[v_c] \quad\text{or}\quad W v + b
        \quad\text{or}\quad e

    Args:
        out_channels: Output width D.
        vocab: Sizes of the categorical columns, or ``None``.
        in_channels: Width of float features (0: no features).

    Shapes:
        - value: ``[M]`` / ``[M, C]`` long, ``[M, F]`` float, or ``None`` with ``count=M``
        - output: ``[M, D]``

    Example:
        >>> atoms = FeatureEncoder(8, vocab=(5, 3), in_channels=0)
        >>> atoms(torch.tensor([[0, 2], [4, 1]]), count=2).shape
        torch.Size([2, 8])
        >>> FeatureEncoder(8, vocab=None, in_channels=0)(None, count=3).shape  # no features
        torch.Size([3, 8])
    """

    def __init__(self, out_channels: int, *, vocab: tuple[int, ...] | None, in_channels: int):
        super().__init__()
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        self.vocab = vocab
        self.in_channels = check_int("in_channels", in_channels, minimum=0)
        self.tables = torch.nn.ModuleList(
            torch.nn.Embedding(size, out_channels) for size in (vocab or ())
        )
        self.lin = torch.nn.Linear(in_channels, out_channels) if in_channels else None
        self.constant = (
            torch.nn.Parameter(torch.empty(out_channels)) if not vocab and not in_channels else None
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Embeddings ~ N(0, 1) (torch's default), PyTorch's default linear init."""
        for table in self.tables:
            assert isinstance(table, torch.nn.Embedding)
            table.reset_parameters()
        if self.lin is not None:
            self.lin.reset_parameters()
        if self.constant is not None:
            torch.nn.init.normal_(self.constant)

    def forward(self, value: Tensor | None, count: int) -> Tensor:
        """Encode ``value`` (``count`` rows; ``value`` may be ``None`` without features)."""
        if self.constant is not None:
            return self.constant.expand(count, -1)
        if value is None:
            raise ValueError(
                "value is None, but this encoder was built for "
                + ("categorical" if self.vocab else "float")
                + " features"
            )
        if self.lin is not None:
            projected: Tensor = self.lin(value.float().view(count, self.in_channels))
            return projected
        columns = value.view(count, len(self.tables))  # [M, C]
        out: Tensor = self.tables[0](columns[:, 0])
        for i in range(1, columns.size(1)):
            out = out + self.tables[i](columns[:, i])
        return out

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.out_channels}, vocab={self.vocab}, "
            f"in_channels={self.in_channels})"
        )
