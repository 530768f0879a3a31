"""GRIT pair head: link logits read off a GRIT encoder's pair states."""

from __future__ import annotations

import torch
from torch import Tensor

from graphpair._validation import check_edge_index, check_int, check_tensor, describe
from graphpair.nn._checks import check_probability
from graphpair.nn.link._common import Stack, head_steps, ij_steps
from graphpair.nn.models._grit import GRITPairs
from graphpair.transforms import locate_pairs

__all__ = ["GRITPairPredictor"]


class GRITPairPredictor(torch.nn.Module):
    r"""Link predictor on the pair states of a GRIT encoder (new in graphpair; GRIT itself is
    Ma et al., ICML 2023).

    GRIT keeps a state :math:`e_{(s, t)}` for every attended ordered pair, so a link
    :math:`(i, j)` can be scored from the state of that very pair instead of from its two
    endpoints alone:

    .. math::
        \tilde e_{(s, t)} &= \begin{cases} e_{(s, t)} & (s, t) \text{ attended} \\
            m & \text{otherwise} \end{cases} \\
        z_{ij} &= \tilde e_{(i, j)} + \tilde e_{(j, i)} \quad
            (\text{only } \tilde e_{(i, j)} \text{ with } \texttt{symmetric=False}) \\
        \mathrm{logit}_{ij} &= \mathrm{LIN}\big(\mathrm{IJMLP}([z_{ij} \,\Vert\,
            h_i \odot h_j])\big)

    where :math:`(s, t)` is read in ``pair_index``'s (source, target) orientation, the node
    term :math:`h_i \odot h_j` is present with ``use_nodes``, and IJMLP / LIN are the MLPs of
    the other predictors (:class:`GAEPredictor`). A pair outside the attended set (sparse
    RRWP pairs, i.e. no walk of at most :math:`K - 1` steps joins the nodes) has an all-zero
    RRWP, which the pair encoder maps to zero: :math:`m` starts at that zero and is learned.

    **How the encoder hands its pairs over.** The predictor keeps the common interface
    ``predictor(h, adj, pairs)``; for a graph transformer the attended pair set plays the role
    the adjacency plays for NCN, so ``adj`` is the :class:`~graphpair.nn.models.GRITPairs`
    that :meth:`GRIT.encode <graphpair.nn.models.GRIT.encode>` returns with the node states
    (build the encoder with ``pair_output=True`` so that the last block updates the pairs):

    .. code-block:: python

        h, state = grit.encode(x, edge_index, **GRIT.rrwp_inputs(data))
        logits = predictor(h, state, pairs)

    Nothing is stored between calls. Pairs are found by binary search in the target-major
    pair list (:func:`graphpair.transforms.locate_pairs`, :math:`O(P \log S)`). As with any
    encoder that sees the graph, a training link must not be in the graph the RRWP and the
    states were computed on (target link leakage): hold the training targets out of it.

    Args:
        in_channels: Width ``D`` of the pair (and node) states.
        hidden_channels: Width of the MLPs.
        dropout: Dropout inside the MLPs.
        ln: LayerNorm inside the MLPs.
        use_nodes: Concatenate :math:`h_i \odot h_j` to the pair term.
        symmetric: Sum both orientations (undirected links); otherwise read ``(i, j)`` only.

    Shapes:
        - h: ``[N, D]``; adj: :class:`GRITPairs` with ``S`` pairs of width ``D``;
          pairs: ``[2, P]``
        - output: logits ``[P]``; :meth:`pair_embedding`: ``[P, hidden_channels]``

    Example:
        >>> state = GRITPairs(torch.tensor([[0, 1, 0, 1], [0, 0, 1, 1]]), torch.randn(4, 8), 2)
        >>> predictor = GRITPairPredictor(8, 16)
        >>> predictor(torch.randn(2, 8), state, torch.tensor([[0], [1]])).shape
        torch.Size([1])
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        *,
        dropout: float = 0.0,
        ln: bool = False,
        use_nodes: bool = True,
        symmetric: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.hidden_channels = check_int("hidden_channels", hidden_channels, minimum=1)
        self.dropout = check_probability("dropout", dropout)
        self.ln = bool(ln)
        self.use_nodes = bool(use_nodes)
        self.symmetric = bool(symmetric)
        width = 2 * in_channels if self.use_nodes else in_channels
        self.missing = torch.nn.Parameter(torch.empty(in_channels))
        self.ij_mlp = Stack(
            width, ij_steps(hidden_channels, tailact=False), dropout=self.dropout, ln=self.ln
        )
        self.head = Stack(
            hidden_channels,
            head_steps(hidden_channels, 1, twolayerlin=False),
            dropout=self.dropout,
            ln=self.ln,
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the MLPs; the absent-pair state back to the encoded zero RRWP (0)."""
        torch.nn.init.zeros_(self.missing)
        self.ij_mlp.reset_parameters()
        self.head.reset_parameters()

    def _check(self, h: Tensor, adj: GRITPairs, pairs: Tensor) -> Tensor:
        check_tensor("h", h, dim=2, floating=True)
        if not isinstance(adj, GRITPairs):
            raise TypeError(
                "adj must be the GRITPairs that GRIT.encode returns (the attended pairs and "
                f"their states); got {describe(adj)}"
            )
        if adj.num_nodes != h.size(0):
            raise ValueError(
                f"adj describes {adj.num_nodes} nodes but h has {h.size(0)} rows; "
                "they must come from the same encoder call"
            )
        check_tensor("adj.pair_attr", adj.pair_attr, dim=2, floating=True)
        if adj.pair_attr.size(1) != self.in_channels or (
            self.use_nodes and h.size(1) != self.in_channels
        ):
            raise ValueError(
                f"the pair states have width {adj.pair_attr.size(1)} and h {h.size(1)}; the "
                f"predictor expects in_channels={self.in_channels}"
            )
        if adj.pair_index.dim() != 2 or adj.pair_index.size(-1) != adj.pair_attr.size(0):
            raise ValueError(
                f"adj.pair_index must have shape [2, {adj.pair_attr.size(0)}] (one column per "
                f"pair state); got {tuple(adj.pair_index.shape)}"
            )
        pairs = check_edge_index("pairs", pairs, num_nodes=h.size(0)).long()
        if pairs.device != h.device:
            raise ValueError(f"pairs is on {pairs.device} but h is on {h.device}")
        return pairs

    def _read(self, adj: GRITPairs, pairs: Tensor) -> Tensor:
        """States of the ``(source, target)`` pairs, ``m`` for absent ones ``[P, D]``."""
        slot = locate_pairs(adj.pair_index, pairs, adj.num_nodes)
        found = (slot >= 0).unsqueeze(-1)
        states = adj.pair_attr.index_select(0, slot.clamp(min=0))  # [P, D]
        return torch.where(found, states, self.missing.to(states.dtype))

    def pair_embedding(self, h: Tensor, adj: GRITPairs, pairs: Tensor) -> Tensor:
        """The pair representation fed to the output head ``[P, hidden_channels]``."""
        pairs = self._check(h, adj, pairs)
        z = self._read(adj, pairs)
        if self.symmetric:
            z = z + self._read(adj, pairs.flip(0))
        if self.use_nodes:
            z = torch.cat([z, h[pairs[0]] * h[pairs[1]]], dim=-1)  # [P, 2D]
        out: Tensor = self.ij_mlp(z, dropout_active=self.training)
        return out

    def forward(self, h: Tensor, adj: GRITPairs, pairs: Tensor) -> Tensor:
        """Logits of the pairs ``[P]``."""
        embedding = self.pair_embedding(h, adj, pairs)
        return self.head(embedding, dropout_active=self.training).view(-1)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, "
            f"dropout={self.dropout}, ln={self.ln}, use_nodes={self.use_nodes}, "
            f"symmetric={self.symmetric})"
        )
