"""GRIT pair head: link logits read off a GRIT encoder's pair states."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from graphpair._validation import check_edge_index, check_int, check_tensor, describe
from graphpair.nn._checks import check_probability
from graphpair.nn._dropout import dropout
from graphpair.nn.link._common import Stack, endpoint_product, head_steps, ij_steps, to_csr
from graphpair.nn.models._grit import GRIT, GRITPairs
from graphpair.ops import CSR
from graphpair.transforms import locate_pairs, rrwp

__all__ = ["GRITLinkEncoder", "GRITPairPredictor", "rrwp_pair_bound"]


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

    **TorchScript.** Not scriptable: ``torch.jit.script`` cannot compile the predictor (its
    ``adj`` is a NamedTuple of tensors, the checks run in Python, the sub-layers take keyword-only
    options). ``torch.compile`` runs it, with graph breaks where the pair lookup's
    sizes depend on the data (``docs/reliability.md``).

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
            z = torch.cat([z, endpoint_product(h, pairs)], dim=-1)  # [P, 2D]
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


def rrwp_pair_bound(adj: CSR | Tensor | Any, walk_length: int) -> int:
    r"""An upper bound on the sparse RRWP pair count of ``adj``, in :math:`O(E K)`.

    The pairs that :func:`~graphpair.transforms.rrwp` keeps without ``full_pairs`` are those
    joined by a walk of at most :math:`K - 1` steps from the target, plus the edges no such
    walk covers, so node :math:`i` attends to at most

    .. math::
        \min\Big(N,\ \sum_{t=0}^{K-1} (A^t \mathbf 1)_i + m_i\Big)

    sources: the number of walks of each length from :math:`i`, plus :math:`m_i`, the edges
    into :math:`i` whose reverse is not a walk of at most :math:`K - 1` steps (those without a
    reverse edge; every edge when :math:`K = 1`); the bound is the sum over the nodes, exact
    for :math:`K \le 2` on a graph without repeated edges. It is what :class:`GRITLinkEncoder`
    checks before any pair is built. Masked entries of ``adj`` are left out, as in the
    encoder.

    Args:
        adj: The graph (active entries only): a :class:`~graphpair.ops.CSR`, or any form
            :func:`~graphpair.ops.as_csr` takes (read as undirected).
        walk_length: ``K >= 1``.

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), 3)
        >>> rrwp_pair_bound(adj, 2), rrwp_pair_bound(adj, 3)  # exact: 7 and 9
        (7, 9)
    """
    adj = to_csr(adj, None)
    walk_length = check_int("walk_length", walk_length, minimum=1)
    n = adj.num_nodes
    row, col = adj.to_edge_index()
    walks = torch.ones(n, dtype=torch.float64, device=adj.device)  # walks of length t from i
    reach = walks.clone()
    extra = row != col
    if walk_length > 1:  # an edge whose reverse is an edge is reached in one step
        keys = row * n + col
        extra &= ~torch.isin(col * n + row, keys)
    targets = col[extra]
    reach.index_add_(0, targets, torch.ones_like(targets, dtype=reach.dtype))
    for _ in range(walk_length - 1):
        walks = torch.zeros_like(walks).index_add_(0, row, walks[col]).clamp_(max=n)
        reach += walks
    return int(reach.clamp(max=n).sum())


class GRITLinkEncoder(torch.nn.Module):
    r"""GRIT as a link encoder: the RRWP of the graph it is given, then :meth:`GRIT.encode`.

    The counterpart of :class:`~graphpair.nn.MPNNEncoder` for :class:`GRITPairPredictor`: it
    takes the same ``(x, adj)`` with ``adj`` a :class:`~graphpair.ops.CSR` (or any form
    :func:`~graphpair.ops.as_csr` takes, read as undirected) and returns the node
    states together with the pair states, ``(h [N, D], GRITPairs)``, which is what the pair
    head reads. Per call:

    .. math::
        (\mathrm{rrwp}, \mathrm{rrwp\_index}, \mathrm{rrwp\_val}, \log(1 + d))
            &= \mathrm{RRWP}_K(\text{active entries of } adj) \\
        (h, e) &= \mathrm{GRIT}\big(\mathrm{drop}(x), \ldots\big)

    with the sparse pair set (pairs joined by a walk of at most :math:`K - 1` steps) rather
    than every ordered pair, so the cost follows the :math:`(K - 1)`-hop neighbourhoods and
    not :math:`N^2`. Because the encodings are recomputed from ``adj`` on every call, target
    link removal works as for the message-passing encoders: inside ``adj.masked(pairs)`` the
    masked links are absent from the walks, the attended pairs and the degrees.

    Before building any pair the encoder bounds the pair count (:func:`rrwp_pair_bound`) and
    refuses a graph over ``max_pairs`` with the estimate, since a dense-ish graph or a long
    walk makes the pair set approach :math:`N^2` (each layer keeps several ``[S, D]``
    activations for the backward pass).

    **TorchScript.** Not scriptable: ``torch.jit.script`` cannot compile the encoder (a CSR
    argument, RRWP built per call in Python, keyword-only options). ``torch.compile`` runs it,
    with graph breaks where the pair set's size depends on the data (``docs/reliability.md``).

    Args:
        in_channels: Width of float node features; ``None`` for a learned embedding per node
            id (then ``num_embeddings`` is required and ``x`` may be ``None``).
        hidden_channels: Width ``D`` of node and pair states.
        num_layers: GRIT blocks (the last one updates the pairs, for the head).
        heads: Attention heads (must divide ``hidden_channels``).
        walk_length: RRWP channels ``K`` (the pair set is the ``K - 1``-hop reach).
        num_embeddings: Number of node ids (``in_channels=None``).
        dropout, attn_dropout, norm: As in :class:`~graphpair.nn.models.GRIT`.
        input_dropout: Dropout on the node features before the input map.
        max_pairs: Largest allowed pair bound.

    Shapes:
        - x: ``[N, F]`` float, or ``None`` / ``[N]`` node ids with ``num_embeddings``
        - output: ``h [N, D]`` and :class:`GRITPairs` with ``S`` pairs of width ``D``

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), 3)
        >>> encoder = GRITLinkEncoder(None, 8, 1, heads=2, walk_length=3, num_embeddings=3)
        >>> h, state = encoder(None, adj)
        >>> h.shape, state.pair_attr.shape
        (torch.Size([3, 8]), torch.Size([9, 8]))
    """

    def __init__(
        self,
        in_channels: int | None,
        hidden_channels: int,
        num_layers: int = 2,
        *,
        heads: int = 4,
        walk_length: int = 3,
        num_embeddings: int | None = None,
        dropout: float = 0.0,
        attn_dropout: float = 0.0,
        input_dropout: float = 0.0,
        norm: str | None = "batch",
        max_pairs: int = 2_000_000,
    ) -> None:
        super().__init__()
        if in_channels is None and num_embeddings is None:
            raise ValueError("give in_channels (float features) or num_embeddings (node ids)")
        self.input_dropout = check_probability("input_dropout", input_dropout)
        self.max_pairs = check_int("max_pairs", max_pairs, minimum=1)
        self.walk_length = check_int("walk_length", walk_length, minimum=1)
        self.grit = GRIT(
            in_channels,
            hidden_channels,
            None,
            num_layers,
            heads=heads,
            walk_length=walk_length,
            num_embeddings=num_embeddings,
            dropout=dropout,
            attn_dropout=attn_dropout,
            norm=norm,
            pool=None,
            pair_output=True,
        )
        self.hidden_channels = self.grit.hidden_channels

    def reset_parameters(self) -> None:
        """Re-initialise the GRIT model."""
        self.grit.reset_parameters()

    def check_size(self, adj: CSR) -> int:
        """The pair bound of ``adj`` (:func:`rrwp_pair_bound`); raises ``ValueError`` with the
        estimate when it exceeds ``max_pairs``."""
        bound = rrwp_pair_bound(adj, self.walk_length)
        if bound > self.max_pairs:
            mib = bound * self.hidden_channels * 4 / 2**20
            raise ValueError(
                f"walk_length={self.walk_length} on this graph ({adj.num_nodes} nodes, "
                f"{adj.num_active_edges} entries) gives up to {bound:,} attended pairs, over "
                f"max_pairs={self.max_pairs:,} (about {mib:,.0f} "
                "MiB per pair tensor); lower walk_length or raise max_pairs"
            )
        return bound

    def forward(self, x: Tensor | None, adj: CSR | Tensor | Any) -> tuple[Tensor, GRITPairs]:
        """Node states ``[N, D]`` and the pair states of the graph ``adj`` (active entries)."""
        adj = to_csr(adj, None if x is None else x.size(0))
        self.check_size(adj)
        n = adj.num_nodes
        if x is None:
            if self.grit.num_embeddings is None:
                raise ValueError("x=None (node ids) needs an encoder built with num_embeddings")
            x = torch.arange(n, device=adj.device)
        elif x.size(0) != n:
            raise ValueError(f"x has {x.size(0)} rows but adj has {n} nodes")
        if x.is_floating_point():
            x = x.to_dense() if x.is_sparse else x
            x = dropout(x, self.input_dropout, training=self.training)
        edge_index = adj.to_edge_index()
        enc = rrwp(edge_index, self.walk_length, n, full_pairs=False)
        h, state = self.grit.encode(
            x,
            edge_index,
            rrwp=enc.node,
            rrwp_index=enc.pair_index,
            rrwp_val=enc.pair_val,
            log_deg=enc.log_deg,
        )
        return h, state

    def __repr__(self) -> str:
        grit = self.grit
        return (
            f"{self.__class__.__name__}({grit.in_channels}, {grit.hidden_channels}, "
            f"num_layers={grit.num_layers}, heads={grit.heads}, walk_length={self.walk_length}, "
            f"max_pairs={self.max_pairs})"
        )
