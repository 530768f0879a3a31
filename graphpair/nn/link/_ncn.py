"""NCN link predictor: learned embeddings of the common neighbours plus the endpoint product."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from graphpair._validation import check_choice, check_int, describe
from graphpair.nn._checks import check_probability
from graphpair.nn.link._common import (
    Stack,
    cn_steps,
    drop_edges,
    endpoint_product,
    head_steps,
    ij_steps,
    link_inputs,
    pair_sum,
    xlin_steps,
)
from graphpair.ops import CSR, PairNodeSet, common_neighbors

__all__ = ["NCNPredictor"]

_CN_METHODS = ("auto", "sparse", "dense")


class NCNPredictor(torch.nn.Module):
    r"""Neural Common Neighbour link predictor (Wang, Yang, Zhang, ICLR 2024; ``cn1``).

    .. math::
        h'_k &= h_k + \mathrm{XLIN}(h_k) \quad (h'_k = h_k \text{ without } \texttt{use\_xlin}) \\
        e_{ij} &= \beta \cdot \mathrm{CNMLP}\Big(\sum_{k \in N(i) \cap N(j)} h'_k\Big)
                 + \mathrm{IJMLP}(h_i \odot h_j) \\
        \mathrm{logit}_{ij} &= \mathrm{LIN}(e_{ij})

    with the MLPs of spec §2.1 (LN = LayerNorm if ``ln``, DO = dropout):

    - XLIN: Lin > DO > ReLU > Lin > LN > DO > ReLU (only with ``use_xlin``);
    - CNMLP: Lin > DO > ReLU > Lin > LN > DO > ReLU [> Lin unless ``tailact``];
    - IJMLP: Lin > LN > DO > ReLU [> Lin unless ``tailact``];
    - LIN: Lin > LN > DO > ReLU [> Lin > LN > DO > ReLU if ``twolayerlin``] > Lin(hidden, 1);
    - :math:`\beta`: a learnable scalar initialised to ``beta``.

    The two branches are *added* (the paper writes a concatenation; the reference code sums
    two separately parameterised branches). Common neighbours are the active entries of ``adj``
    (:func:`graphpair.ops.common_neighbors`), so target link removal is ``adj.masked(pairs)``.
    In training, ``edge_dropout`` first drops each active entry of the adjacency independently
    (a fresh copy; ``adj`` is not modified).

    **TorchScript.** Not scriptable: ``torch.jit.script`` cannot compile the predictor (its
    adjacency is a Python object, the checks run in Python, the sub-layers take keyword-only
    options). ``torch.compile`` runs it, with graph breaks where the pair sets' sizes depend
    on the data (``docs/reliability.md``).

    Args:
        in_channels: Size ``D`` of the node embeddings ``h``.
        hidden_channels: Width of every MLP.
        dropout: Dropout rate inside the MLPs (``predp``).
        edge_dropout: Rate of the predictor's edge dropout in training (``preedp``).
        ln: LayerNorm inside the MLPs (``--lnnn``).
        use_xlin: Add the residual XLIN to the embeddings summed over common neighbours.
        tailact: The two branch MLPs end with their ReLU instead of a final Linear.
        twolayerlin: Two hidden layers in the output head.
        beta: Initial value of the learnable weight of the CN branch.
        cn_method: Path of the common-neighbour op: ``'auto'``, ``'sparse'`` or ``'dense'``.

    Shapes:
        - h: ``[N, D]``; adj: :class:`~graphpair.ops.CSR` with ``N`` nodes, or any form
          :func:`~graphpair.ops.as_csr` takes (read as undirected); pairs: ``[2, P]``
        - output: logits ``[P]``; :meth:`pair_embedding`: ``[P, hidden_channels]``

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 1, 1], [2, 3, 2, 3]]))
        >>> predictor = NCNPredictor(8, 16)
        >>> predictor(torch.randn(4, 8), adj, torch.tensor([[0], [1]])).shape
        torch.Size([1])
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        *,
        dropout: float = 0.0,
        edge_dropout: float = 0.0,
        ln: bool = False,
        use_xlin: bool = False,
        tailact: bool = False,
        twolayerlin: bool = False,
        beta: float = 1.0,
        cn_method: str = "auto",
    ) -> None:
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.hidden_channels = check_int("hidden_channels", hidden_channels, minimum=1)
        self.dropout = check_probability("dropout", dropout)
        self.edge_dropout = check_probability("edge_dropout", edge_dropout)
        self.ln = bool(ln)
        self.use_xlin = bool(use_xlin)
        self.tailact = bool(tailact)
        self.twolayerlin = bool(twolayerlin)
        if isinstance(beta, bool) or not isinstance(beta, (int, float)):
            raise TypeError(f"beta must be a float; got {describe(beta)}")
        self.beta_init = float(beta)
        self.cn_method = check_choice("cn_method", cn_method, _CN_METHODS)

        def stack(channels: int, steps: list[tuple[str, int]]) -> Stack:
            return Stack(channels, steps, dropout=self.dropout, ln=self.ln)

        self.xlin = stack(in_channels, xlin_steps(in_channels)) if self.use_xlin else None
        self.cn_mlp = stack(in_channels, cn_steps(hidden_channels, tailact=self.tailact))
        self.ij_mlp = stack(in_channels, ij_steps(hidden_channels, tailact=self.tailact))
        self.head = stack(
            hidden_channels, head_steps(hidden_channels, 1, twolayerlin=self.twolayerlin)
        )
        self.beta = torch.nn.Parameter(torch.empty(()))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise every layer and set :math:`\\beta` back to ``beta``."""
        if self.xlin is not None:
            self.xlin.reset_parameters()
        self.cn_mlp.reset_parameters()
        self.ij_mlp.reset_parameters()
        self.head.reset_parameters()
        with torch.no_grad():
            self.beta.fill_(self.beta_init)

    # ------------------------------------------------------------------ pieces

    def _adjacency(self, adj: CSR, dropout_active: bool) -> CSR:
        if dropout_active and self.edge_dropout > 0:
            return drop_edges(adj, self.edge_dropout)
        return adj

    def _xlin(self, h: Tensor, dropout_active: bool) -> Tensor:
        """:math:`h' = h + \\mathrm{XLIN}(h)` (or ``h``)."""
        if self.xlin is None:
            return h
        return h + self.xlin(h, dropout_active=dropout_active)

    def _combine(self, h: Tensor, z: Tensor, pairs: Tensor, dropout_active: bool) -> Tensor:
        """``beta * CNMLP(z) + IJMLP(h_i * h_j)`` ``[P, hidden]``."""
        cn = self.cn_mlp(z, dropout_active=dropout_active)
        ij = self.ij_mlp(endpoint_product(h, pairs), dropout_active=dropout_active)
        return self.beta * cn + ij

    def _ncn_embedding(
        self, h: Tensor, hx: Tensor, adj: CSR, pairs: Tensor, dropout_active: bool
    ) -> Tensor:
        """The NCN pair embedding from given ``h``, ``h'`` and (already dropped) adjacency."""
        members = common_neighbors(adj, pairs, method=self.cn_method)
        z = pair_sum(hx, members, pairs.size(1))  # [P, D]
        return self._combine(h, z, pairs, dropout_active)

    def _logits(self, embedding: Tensor, dropout_active: bool) -> Tensor:
        return self.head(embedding, dropout_active=dropout_active).view(-1)

    # ------------------------------------------------------------------ public

    def pair_embedding(self, h: Tensor, adj: CSR | Tensor | Any, pairs: Tensor) -> Tensor:
        """The pair representation fed to the output head LIN ``[P, hidden_channels]``."""
        csr, pairs = link_inputs(h, adj, pairs)  # any form of as_csr, converted once
        active = self.training
        csr = self._adjacency(csr, active)
        members = common_neighbors(csr, pairs, method=self.cn_method)
        if self.xlin is None or members.node_idx.numel() >= h.size(0):
            # No XLIN, or more common-neighbour entries than nodes (dense graphs such as
            # ogbl-ddi): h' on all N rows costs less than finding the distinct ones.
            z = pair_sum(self._xlin(h, active), members, pairs.size(1))
            return self._combine(h, z, pairs, active)
        # h' = h + XLIN(h) is only ever read at common neighbours, so on sparse graphs it is
        # computed on those rows alone, once per distinct node (XLIN is row-wise and its
        # dropout independent per entry: the same values, or the same distribution in
        # training, at a fraction of the N rows' cost).
        nodes, local = torch.unique(members.node_idx, return_inverse=True)
        z = pair_sum(
            self._xlin(h[nodes], active), PairNodeSet(members.pair_idx, local), pairs.size(1)
        )
        return self._combine(h, z, pairs, active)

    def forward(self, h: Tensor, adj: CSR | Tensor | Any, pairs: Tensor) -> Tensor:
        """Logits of the pairs ``[P]``."""
        return self._logits(self.pair_embedding(h, adj, pairs), self.training)

    def _repr_args(self) -> str:
        return (
            f"{self.in_channels}, {self.hidden_channels}, dropout={self.dropout}, "
            f"edge_dropout={self.edge_dropout}, ln={self.ln}, use_xlin={self.use_xlin}, "
            f"tailact={self.tailact}, twolayerlin={self.twolayerlin}, beta={self.beta_init}"
        )

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self._repr_args()})"
