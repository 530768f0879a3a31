"""NCNC link predictor: NCN whose common neighbours are completed with its own probabilities."""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from graphpair._validation import check_int, describe
from graphpair.nn.link._common import (
    Stack,
    endpoint_product,
    link_inputs,
    pair_sum,
    tensor_version,
)
from graphpair.nn.link._ncn import NCNPredictor
from graphpair.ops import (
    CSR,
    PairNodeSet,
    cap_members,
    capped_neighbor_overlap,
    common_neighbors,
    neighbor_overlap,
)

__all__ = ["NCNC_CHECKPOINT_BYTES", "NCNC_CHUNK", "NCNCPredictor", "cap_members"]

#: Completion pairs scored at once when ``chunk_size`` is ``None``: the peak memory of a
#: completion level is that of one chunk (its common-neighbour entries and ``[chunk, hidden]``
#: activations), not of every completion pair of the batch. On a ppa-sized stand-in, scoring
#: every completion pair of an 8,192-pair batch at once took 19.5 GiB.
NCNC_CHUNK = 65536
#: In training, :math:`h' = h + \mathrm{XLIN}(h)` on all ``N`` rows is checkpointed when it takes
#: more than this many bytes (64 MiB: above about 65,000 rows of width 256 in float32). Below
#: it XLIN's activations are kept for the backward, a few ``[N, D]`` tensors that are small
#: there, and the recomputation would cost time for nothing: on Cora (2,708 rows) a training
#: epoch without it took 0.90x the time (``benchmarks/results/ncnc_checkpoint.md``).
NCNC_CHECKPOINT_BYTES = 1 << 26


class _Rows:
    """:math:`h' = f(h)` (XLIN's residual, row-wise) read only where the sums need it.

    Sums over pair member sets read :math:`h'` at the member rows. While the distinct rows
    computed so far are fewer than the ``N`` rows, :math:`h'` is computed on the distinct
    member rows of each request; from then on on all ``N`` rows, once. Without ``fn`` it is
    ``h`` itself.
    (Row-wise, with dropout independent per entry: the same values, or the same distribution
    in training, as computing every row.)
    """

    def __init__(self, h: Tensor, fn: Callable[[Tensor], Tensor] | None) -> None:
        self.h = h
        self.fn = fn
        self.full: Tensor | None = h if fn is None else None
        self.spent = 0

    def materialize(self) -> Tensor:
        """:math:`h'` on all ``N`` rows ``[N, D]``.

        Under autograd, when :math:`h'` is larger than :data:`NCNC_CHECKPOINT_BYTES`, it is
        checkpointed (:func:`torch.utils.checkpoint.checkpoint`, the generator state kept):
        only :math:`h'` stays alive for the backward, which recomputes XLIN's inner
        activations with the same dropout draws, instead of keeping them for every row (four
        more ``[N, D]`` tensors; about 3 GB a call at ogbl-citation2's 2.9M rows and width
        64). The values and gradients are the same either way.
        """
        if self.full is None:
            assert self.fn is not None
            large = self.h.numel() * self.h.element_size() > NCNC_CHECKPOINT_BYTES
            if large and torch.is_grad_enabled() and not torch.compiler.is_compiling():
                full = checkpoint(self.fn, self.h, use_reentrant=False)
                assert isinstance(full, Tensor)
                self.full = full
            else:
                self.full = self.fn(self.h)
        return self.full

    def sums(self, sets: list[tuple[PairNodeSet, Tensor | None]], num_pairs: int) -> list[Tensor]:
        """``pair_sum(h', members, num_pairs, weight)`` for each ``(members, weight)``."""
        if self.full is None:
            nodes, local = torch.unique(
                torch.cat([members.node_idx for members, _ in sets]), return_inverse=True
            )
            self.spent += nodes.numel()
            if self.spent >= self.h.size(0):
                self.materialize()
        if self.full is not None:
            return [pair_sum(self.full, members, num_pairs, w) for members, w in sets]
        assert self.fn is not None
        if nodes.numel() == 0:
            return [self.h.new_zeros(num_pairs, self.h.size(1)) for _ in sets]
        rows = self.fn(self.h[nodes])
        out = []
        start = 0
        for members, weight in sets:
            end = start + members.node_idx.numel()
            out.append(
                pair_sum(rows, PairNodeSet(members.pair_idx, local[start:end]), num_pairs, weight)
            )
            start = end
        return out


def _check_float(name: str, value: float, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float; got {describe(value)}")
    if not math.isfinite(value) or (positive and value <= 0):
        raise ValueError(f"{name} must be {'> 0 and ' if positive else ''}finite; got {value}")
    return float(value)


class NCNCPredictor(NCNPredictor):
    r"""Neural Common Neighbour with Completion (Wang, Yang, Zhang, ICLR 2024; ``incn1cn1``).

    A node that neighbours only one endpoint counts as a *soft* common neighbour, weighted by
    the model's own calibrated probability that it is linked to the other endpoint. With
    :math:`f_D` the logit at depth :math:`D` and :math:`f_0` the NCN logit (same parameters):

    .. math::
        p_{uk} &= \alpha \, \sigma\big(\tau (s_{uk} - \mu) + \ln \pi\big), \qquad
                  s_{uk} = f_{D-1}(u, k) \text{ (no gradient)} \\
        z_{ij} &= \sum_{k \in N(i) \cap N(j)} h'_k
                + \sum_{k \in N(i) \setminus N(j)} p_{jk}\, h'_k
                + \sum_{k \in N(j) \setminus N(i)} p_{ik}\, h'_k \\
        f_D(i, j) &= \mathrm{LIN}\big(\beta \cdot \mathrm{CNMLP}(z_{ij})
                     + \mathrm{IJMLP}(h_i \odot h_j)\big)

    :math:`p` equals the spec's :math:`\alpha \pi p_0 / (\pi p_0 + 1 - p_0)` with
    :math:`p_0 = \sigma(\tau (s - \mu))`: :math:`\pi` multiplies the odds, so with a constant
    :math:`\pi` it is redundant with :math:`\mu` (quirk Q14). With ``learn_pt`` it is predicted
    per target pair, :math:`\pi_{ij} = \sigma(\mathrm{PTMLP}(h_i \odot h_j))`, the only path by
    which gradients reach the completion weights.

    Each level collects the completion pairs :math:`(u, k)` of the whole batch and scores every
    distinct one once (unique keys :math:`uN + k`), in chunks of ``chunk_size`` pairs.

    **Recursion (quirk Q1).** By default (``official_recursion=False``) the completion scores
    are the model's plain prediction :math:`f_{D-1}(u, k)` on the same ``h`` and adjacency as the
    outer call, with dropout off. With ``official_recursion=True`` the reference behaviour is
    reproduced: the inner call receives :math:`h'` as its node embeddings (so XLIN is applied
    again and the pair product is :math:`h'_u \odot h'_k`), applies the predictor's edge dropout
    again to the already dropped adjacency, and runs with dropout active in training.

    **TorchScript.** Not scriptable: ``torch.jit.script`` cannot compile the predictor (its
    adjacency is a Python object, the checks run in Python, the sub-layers take keyword-only
    options). ``torch.compile`` runs it, with graph breaks where the pair sets' sizes depend
    on the data (``docs/reliability.md``).

    Args:
        in_channels: Size ``D`` of the node embeddings.
        hidden_channels: Width of every MLP.
        depth: Completion depth ``D`` (1 = NCNC, 2 = NCNC2, 0 = plain NCN).
        scale: :math:`\tau` (``probscale``).
        offset: :math:`\mu` (``proboffset``).
        pt: :math:`\pi` (``pt``), a prior odds factor > 0; 1 leaves the odds alone.
        alpha: :math:`\alpha` (``alpha``), an overall factor on the completion weights.
        learn_pt: Predict :math:`\pi` per target pair with PTMLP: Lin > ReLU > Lin(hidden, 1).
        chunk_size: Completion pairs scored at once (memory only; ``None``:
            :data:`NCNC_CHUNK`).
        train_degree_cap: In training, each target pair's one-sided neighbour sets
            (completion candidates) are subsampled to at most this many members with
            :func:`cap_members` (``--trndeg``); ``None``: all.
        test_degree_cap: The same in evaluation (``--tstdeg``).
        official_recursion: Reproduce the reference recursion (see above).
        dropout, edge_dropout, ln, use_xlin, tailact, twolayerlin, beta, cn_method: As in
            :class:`NCNPredictor`.

    Shapes:
        - h: ``[N, D]``; adj: :class:`~graphpair.ops.CSR` with ``N`` nodes, or any form
          :func:`~graphpair.ops.as_csr` takes (read as undirected); pairs: ``[2, P]``
        - output: logits ``[P]``; :meth:`pair_embedding`: ``[P, hidden_channels]``

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 1, 1], [2, 3, 2, 4]]))
        >>> predictor = NCNCPredictor(8, 16, depth=1).eval()
        >>> predictor(torch.randn(5, 8), adj, torch.tensor([[0], [1]])).shape
        torch.Size([1])
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        *,
        depth: int = 1,
        scale: float = 1.0,
        offset: float = 0.0,
        pt: float = 1.0,
        alpha: float = 1.0,
        learn_pt: bool = False,
        chunk_size: int | None = None,
        official_recursion: bool = False,
        train_degree_cap: int | None = None,
        test_degree_cap: int | None = None,
        dropout: float = 0.0,
        edge_dropout: float = 0.0,
        ln: bool = False,
        use_xlin: bool = False,
        tailact: bool = False,
        twolayerlin: bool = False,
        beta: float = 1.0,
        cn_method: str = "auto",
    ) -> None:
        self.depth = check_int("depth", depth, minimum=0)
        self.scale = _check_float("scale", scale)
        self.offset = _check_float("offset", offset)
        self.pt = _check_float("pt", pt, positive=True)
        self.alpha = _check_float("alpha", alpha)
        self.learn_pt = bool(learn_pt)
        self.chunk_size = (
            None if chunk_size is None else check_int("chunk_size", chunk_size, minimum=1)
        )
        self.official_recursion = bool(official_recursion)
        self.train_degree_cap = (
            None
            if train_degree_cap is None
            else check_int("train_degree_cap", train_degree_cap, minimum=1)
        )
        self.test_degree_cap = (
            None
            if test_degree_cap is None
            else check_int("test_degree_cap", test_degree_cap, minimum=1)
        )
        # Set before Module.__init__ runs reset_parameters (plain attributes are allowed then).
        self.pt_mlp: Stack | None = None
        # reuse_rows' shared rows: id(h) -> (h, versions of h and XLIN's parameters, its
        # _Rows); None outside a block.
        self._reuse: dict[int, tuple[Tensor, tuple[int, ...], _Rows]] | None = None
        super().__init__(
            in_channels,
            hidden_channels,
            dropout=dropout,
            edge_dropout=edge_dropout,
            ln=ln,
            use_xlin=use_xlin,
            tailact=tailact,
            twolayerlin=twolayerlin,
            beta=beta,
            cn_method=cn_method,
        )
        if self.learn_pt:
            self.pt_mlp = Stack(
                in_channels,
                [("lin", hidden_channels), ("relu", 0), ("lin", 1)],
                dropout=0.0,
                ln=False,
            )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise every layer (PTMLP included) and set :math:`\\beta` back to ``beta``."""
        super().reset_parameters()
        if self.pt_mlp is not None:
            self.pt_mlp.reset_parameters()

    # ------------------------------------------------------------------ completion

    def _log_pt(self, h: Tensor, pairs: Tensor, entry_pair: Tensor) -> Tensor | float:
        """:math:`\\ln \\pi` per completion entry (learned) or as a constant."""
        if self.pt_mlp is None:
            return math.log(self.pt)
        logit = self.pt_mlp(endpoint_product(h, pairs), dropout_active=False).view(-1)  # [P]
        return F.logsigmoid(logit)[entry_pair]

    def _rows(self, h: Tensor, dropout_active: bool) -> _Rows:
        """:math:`h' = h + \\mathrm{XLIN}(h)` (or ``h``), computed where it is read; inside
        :meth:`reuse_rows`, shared by the calls on the same ``h`` (evaluation mode, no
        dropout, no autograd)."""
        if self.xlin is None:
            return _Rows(h, None)
        fn = functools.partial(self._xlin, dropout_active=dropout_active)
        cache = self._reuse
        if cache is None or self.training or dropout_active or torch.is_grad_enabled():
            return _Rows(h, fn)
        # h and XLIN's parameters as they are now (a change in place is a new version); the
        # entry holds h, so no other tensor takes its id while it is there
        version = (tensor_version(h), *(tensor_version(p) for p in self.xlin.parameters()))
        hit = cache.get(id(h))
        if hit is not None and hit[1] == version:
            return hit[2]
        rows = _Rows(h, fn)
        cache[id(h)] = (h, version, rows)
        return rows

    @contextlib.contextmanager
    def reuse_rows(self) -> Iterator[None]:
        r"""Share :math:`h' = h + \mathrm{XLIN}(h)` between the calls inside the block.

        The reference recursion (``official_recursion``) computes :math:`h'` on all ``N``
        rows in every call (its inner call reads it as node embeddings), and XLIN once more on
        the rows the inner call sums. An evaluation scored in chunks of pairs repeats that per
        chunk: :math:`O(N)` work a chunk, so :math:`O(N \cdot E)` for an evaluation whose
        pairs grow with the graph. Inside the block, calls in evaluation mode without autograd
        compute each row of those at most once per node-embedding tensor ``h`` and keep them
        until the block ends (up to two ``[N, D]`` tensors); rows are computed again when
        ``h`` or XLIN's parameters change in place. Calls in training mode are unaffected;
        with autograd on, only the rows read without it (those of the completion scores) are
        shared. Values equal those of separate calls up to float round-off (a row may come
        from a product over all rows rather than over a subset).
        :func:`~graphpair.train.evaluate_link` and saved link models score inside it.

        Example:
            >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 1, 1], [2, 3, 2, 4]]))
            >>> predictor = NCNCPredictor(8, 16, use_xlin=True, official_recursion=True).eval()
            >>> h, pairs = torch.randn(5, 8), torch.tensor([[0, 2], [1, 3]])
            >>> with torch.no_grad(), predictor.reuse_rows():
            ...     chunks = [predictor(h, adj, pairs[:, [p]]) for p in range(2)]
            >>> torch.cat(chunks).shape
            torch.Size([2])
        """
        previous = self._reuse
        self._reuse = {}
        try:
            yield
        finally:
            self._reuse = previous

    def _completion_scores(
        self,
        h: Tensor,
        rows: _Rows,
        adj: CSR,
        pairs: Tensor,
        depth: int,
        dropout_active: bool,
    ) -> Tensor:
        """Logits :math:`f_{depth}` of the (distinct) completion pairs ``[U]``, no gradient,
        ``chunk_size`` (default :data:`NCNC_CHUNK`) pairs at a time."""
        if self.official_recursion:
            # Reference: the inner call gets h' as its embeddings and re-drops the edges.
            inner_h = rows.materialize()
            inner_rows, inner_active = self._rows(inner_h, dropout_active), dropout_active
            inner_adj = self._adjacency(adj, dropout_active)
        else:
            inner_h, inner_active, inner_adj = h, False, adj
            # Its own rows: the outer ones keep their gradient (these are made under no_grad).
            inner_rows = self._rows(h, False)
        size = NCNC_CHUNK if self.chunk_size is None else self.chunk_size
        scores = [
            self._logits(
                self._embedding(inner_h, inner_rows, inner_adj, chunk, depth, inner_active),
                inner_active,
            )
            for chunk in torch.split(pairs, max(size, 1), dim=1)
        ]
        return torch.cat(scores) if scores else h.new_empty(0)

    def _embedding(
        self, h: Tensor, rows: _Rows, adj: CSR, pairs: Tensor, depth: int, dropout_active: bool
    ) -> Tensor:
        """Pair embedding at completion depth ``depth`` ``[P, hidden]``."""
        num_pairs = pairs.size(1)
        if depth == 0:
            members = common_neighbors(adj, pairs, method=self.cn_method)
            (z,) = rows.sums([(members, None)], num_pairs)
            return self._combine(h, z, pairs, dropout_active)
        cap = self.train_degree_cap if self.training else self.test_degree_cap
        i_weight: Tensor | None = None
        j_weight: Tensor | None = None
        if cap is None:
            common, i_only, j_only = neighbor_overlap(adj, pairs, method=self.cn_method)
        else:  # never lists a one-sided set past the cap (a hub's row)
            common, i_only, i_weight, j_only, j_weight = capped_neighbor_overlap(
                adj, pairs, cap, method=self.cn_method
            )
        # k in N(i) - N(j) misses the link (j, k); k in N(j) - N(i) misses (i, k).
        anchor = torch.cat([pairs[1][i_only.pair_idx], pairs[0][j_only.pair_idx]])  # [R]
        candidate = torch.cat([i_only.node_idx, j_only.node_idx])  # [R]
        keys = anchor * adj.num_nodes + candidate
        unique_keys, inverse = torch.unique(keys, return_inverse=True)  # score each pair once
        unique_pairs = torch.stack(
            [unique_keys // max(adj.num_nodes, 1), unique_keys % max(adj.num_nodes, 1)]
        )  # [2, U]
        if self.official_recursion:
            # The inner call reads h' on every row; made here, outside no_grad, so that the
            # sums below keep its gradient.
            rows.materialize()
        with torch.no_grad():
            scores = self._completion_scores(h, rows, adj, unique_pairs, depth - 1, dropout_active)
        entry_pair = torch.cat([i_only.pair_idx, j_only.pair_idx])  # [R]
        log_pt = self._log_pt(h, pairs, entry_pair)
        prob = self.alpha * torch.sigmoid(self.scale * (scores[inverse] - self.offset) + log_pt)
        split = i_only.pair_idx.numel()
        i_prob, j_prob = prob[:split], prob[split:]
        if i_weight is not None and j_weight is not None:
            i_prob = i_prob * i_weight.to(prob.dtype)
            j_prob = j_prob * j_weight.to(prob.dtype)
        z_common, z_i, z_j = rows.sums(
            [(common, None), (i_only, i_prob), (j_only, j_prob)], num_pairs
        )
        z = z_common + z_i + z_j  # [P, D]
        return self._combine(h, z, pairs, dropout_active)

    # ------------------------------------------------------------------ public

    def pair_embedding(self, h: Tensor, adj: CSR | Tensor | Any, pairs: Tensor) -> Tensor:
        """The pair representation fed to the output head LIN ``[P, hidden_channels]``."""
        csr, pairs = link_inputs(h, adj, pairs)  # any form of as_csr, converted once
        active = self.training
        csr = self._adjacency(csr, active)
        return self._embedding(h, self._rows(h, active), csr, pairs, self.depth, active)

    def _repr_args(self) -> str:
        return (
            f"{super()._repr_args()}, depth={self.depth}, scale={self.scale}, "
            f"offset={self.offset}, pt={self.pt}, alpha={self.alpha}, "
            f"learn_pt={self.learn_pt}, official_recursion={self.official_recursion}, "
            f"train_degree_cap={self.train_degree_cap}, test_degree_cap={self.test_degree_cap}"
        )
