"""GRIT's RRWP encoders: linear maps of the node and pair random-walk channels (spec §1.7)."""

from __future__ import annotations

import torch
from torch import Tensor

from graphpair._validation import check_int, check_tensor, compiling
from graphpair.transforms import locate_pairs

__all__ = ["RRWPNodeEncoder", "RRWPPairEncoder"]


def _check_width(name: str, value: Tensor, rows: int | None, width: int, owner: str) -> None:
    check_tensor(name, value, dim=2, floating=True)
    if value.size(1) != width:
        raise ValueError(f"{name} has {value.size(1)} columns but {owner} expects {width}")
    if rows is not None and value.size(0) != rows:
        raise ValueError(f"{name} must have {rows} rows; got {value.size(0)}")


class RRWPNodeEncoder(torch.nn.Module):
    r"""Adds a linear map of the node RRWP to the node features (GRIT, Ma et al., ICML 2023).

    .. math::
        x_i \leftarrow x_i + W_{abs}\, \mathrm{rrwp}_i

    :math:`W_{abs} \in \mathbb{R}^{D \times K}` has no bias by default (channel 0 of the node
    RRWP is constant 1, so its first column already acts as one) and a Xavier-uniform init, as
    in the reference.

    Args:
        walk_length: ``K``, the RRWP channels.
        channels: ``D``, the width of ``x``.
        bias: Learn a bias as well.

    Shapes:
        - x: ``[N, D]``; rrwp: ``[N, K]``
        - output: ``[N, D]``

    Example:
        >>> encoder = RRWPNodeEncoder(4, 8)
        >>> encoder(torch.zeros(3, 8), torch.rand(3, 4)).shape
        torch.Size([3, 8])
    """

    def __init__(self, walk_length: int, channels: int, *, bias: bool = False) -> None:
        super().__init__()
        self.walk_length = check_int("walk_length", walk_length, minimum=1)
        self.channels = check_int("channels", channels, minimum=1)
        self.bias = bool(bias)
        self.lin = torch.nn.Linear(self.walk_length, self.channels, bias=self.bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform weight, zero bias."""
        torch.nn.init.xavier_uniform_(self.lin.weight)
        if self.lin.bias is not None:
            torch.nn.init.zeros_(self.lin.bias)

    def forward(self, x: Tensor, rrwp: Tensor) -> Tensor:
        """``x + W_abs rrwp`` ``[N, D]``."""
        _check_width("x", x, None, self.channels, "the encoder")
        _check_width("rrwp", rrwp, x.size(0), self.walk_length, "the encoder (walk_length)")
        out: Tensor = x + self.lin(rrwp.to(x.dtype))
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.walk_length}, {self.channels}, bias={self.bias})"


class RRWPPairEncoder(torch.nn.Module):
    r"""Pair features of GRIT's attention: a linear map of the pair RRWP, plus the features
    of the graph's edges on their pairs (GRIT, Ma et al., ICML 2023, spec §1.7).

    .. math::
        e_p = W_{rel}\, \mathrm{rrwp\_val}_p
            + \sum_{(s, t) \in E,\ (s, t) = p} \mathrm{edge\_attr}_{st}

    That is the reference's union of [edges + zero-feature self loops] with the RRWP pairs,
    coalesced by summation, then padded to all pairs with zeros: an edge's pair gets its edge
    feature plus its encoded RRWP, a self pair its encoded RRWP, any other pair its encoded RRWP
    (zero where no walk joins the two nodes). Repeated edges add up, as in the coalesce.

    Instead of concatenating and sorting per forward pass, each edge is found in the sorted
    pair list by binary search (:func:`graphpair.transforms.locate_pairs`, :math:`O(E \log S)`)
    and its feature added there; the pair list is the one :class:`~graphpair.transforms.AddRRWP`
    wrote (``rrwp_index``, sorted by ``(target, source)``), which must contain every edge
    ``(edge_index[0], edge_index[1])``; both of its modes do.

    :math:`W_{rel}` has no bias by default and a Xavier-uniform init; no norm on the pair
    features (the reference warns it would harm their distance-like information).

    Args:
        walk_length: ``K``, the RRWP channels.
        channels: ``D``, the width of the pair features (and of ``edge_attr``).
        bias: Learn a bias as well.

    Shapes:
        - rrwp_val: ``[S, K]``; rrwp_index: ``[2, S]``; edge_index: ``[2, E]``;
          edge_attr: ``[E, D]``
        - output: ``[S, D]``, aligned with ``rrwp_index``

    Example:
        >>> encoder = RRWPPairEncoder(3, 8)
        >>> pair_index = torch.tensor([[0, 1, 0, 1], [0, 0, 1, 1]])
        >>> edge_index = torch.tensor([[0, 1], [1, 0]])
        >>> encoder(torch.rand(4, 3), pair_index, edge_index, torch.ones(2, 8), 2).shape
        torch.Size([4, 8])
    """

    def __init__(self, walk_length: int, channels: int, *, bias: bool = False) -> None:
        super().__init__()
        self.walk_length = check_int("walk_length", walk_length, minimum=1)
        self.channels = check_int("channels", channels, minimum=1)
        self.bias = bool(bias)
        self.lin = torch.nn.Linear(self.walk_length, self.channels, bias=self.bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform weight, zero bias."""
        torch.nn.init.xavier_uniform_(self.lin.weight)
        if self.lin.bias is not None:
            torch.nn.init.zeros_(self.lin.bias)

    def forward(
        self,
        rrwp_val: Tensor,
        rrwp_index: Tensor | None = None,
        edge_index: Tensor | None = None,
        edge_attr: Tensor | None = None,
        num_nodes: int | None = None,
    ) -> Tensor:
        """Pair features ``[S, D]``.

        Args:
            rrwp_val: Pair RRWP ``[S, K]``.
            rrwp_index: The pairs ``[2, S]`` (only needed with ``edge_attr``).
            edge_index: The graph's edges ``[2, E]`` (only with ``edge_attr``).
            edge_attr: Edge features ``[E, D]`` added on their pairs; ``None`` for none.
            num_nodes: ``N`` (only with ``edge_attr``).
        """
        check_tensor("rrwp_val", rrwp_val, dim=2, floating=True)
        if rrwp_val.size(1) != self.walk_length:
            raise ValueError(
                f"rrwp_val has {rrwp_val.size(1)} columns but walk_length={self.walk_length}"
            )
        out: Tensor = self.lin(rrwp_val)
        if edge_attr is None:
            return out
        if rrwp_index is None or edge_index is None or num_nodes is None:
            raise ValueError(
                "edge_attr needs rrwp_index, edge_index and num_nodes to find the edges' pairs"
            )
        _check_width("edge_attr", edge_attr, None, self.channels, "the encoder (channels)")
        if rrwp_index.dim() != 2 or rrwp_index.size(1) != rrwp_val.size(0):
            raise ValueError(
                f"rrwp_index must have shape [2, {rrwp_val.size(0)}] (one column per row of "
                f"rrwp_val); got {tuple(rrwp_index.shape)}"
            )
        if edge_index.dim() != 2 or edge_attr.size(0) != edge_index.size(-1):
            raise ValueError(
                f"edge_attr must have one row per edge ({edge_index.size(-1)}); "
                f"got {edge_attr.size(0)}"
            )
        slot = locate_pairs(rrwp_index, edge_index, num_nodes)
        # A data-dependent check, skipped under torch.compile (see graphpair._validation): a
        # compiled model's inputs are those it was checked on in eager mode.
        if not compiling() and bool((slot < 0).any()):
            missing = edge_index[:, slot < 0][:, 0].tolist()
            raise ValueError(
                f"edge (source {missing[0]}, target {missing[1]}) of edge_index is not in "
                "rrwp_index; compute the RRWP on the same graph (AddRRWP keeps every edge)"
            )
        return out.index_add(0, slot, edge_attr.to(out.dtype))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.walk_length}, {self.channels}, bias={self.bias})"
