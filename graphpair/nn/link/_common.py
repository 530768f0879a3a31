"""Building blocks shared by the link predictors (private).

The predictors of the NCN paper are built from four small MLPs whose exact layer order matters
(it fixes the parameter counts of spec §2.9). :class:`Stack` runs such a sequence of
``Linear`` / ``LayerNorm`` / dropout / ReLU steps and lets the caller switch dropout off per
call, which the NCNC completion needs (its inner scoring runs without dropout). The step
builders below write each MLP of spec §2.1 down once.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from graphpair._validation import (
    check_edge_index,
    check_finite,
    check_tensor,
    compiling,
    describe,
)
from graphpair.nn._dropout import dropout
from graphpair.ops import CSR, PairNodeSet, as_csr, is_sparse_tensor, segment
from graphpair.ops._backend import auto_rule
from graphpair.ops._segment import counts_to_ptr
from graphpair.ops._spmm import csr_matrix

__all__ = [
    "Stack",
    "check_adjacency_type",
    "check_embeddings_finite",
    "check_link_inputs",
    "cn_steps",
    "drop_edges",
    "endpoint_product",
    "head_steps",
    "ij_steps",
    "link_inputs",
    "pair_sum",
    "tensor_version",
    "to_csr",
    "xlin_steps",
]

Step = tuple[str, int]
"""``('lin', out_channels)``, ``('ln', 0)``, ``('do', 0)`` or ``('relu', 0)``."""


class Stack(torch.nn.Module):
    """A sequence of Linear / LayerNorm / Dropout / ReLU steps with per-call dropout.

    ``layout`` is the tuple of step kinds actually run (``'lin'``, ``'ln'``, ``'do'``,
    ``'relu'``); LayerNorm steps are left out when ``ln=False``. ``layers`` holds the modules of
    the ``'lin'`` and ``'ln'`` steps, in order.
    """

    def __init__(
        self, in_channels: int, steps: Sequence[Step], *, dropout: float, ln: bool
    ) -> None:
        super().__init__()
        self.dropout = dropout
        self.layers = torch.nn.ModuleList()
        kinds: list[str] = []
        dim = in_channels
        for kind, out in steps:
            if kind == "lin":
                self.layers.append(torch.nn.Linear(dim, out))
                dim = out
            elif kind == "ln":
                if not ln:
                    continue
                self.layers.append(torch.nn.LayerNorm(dim))
            kinds.append(kind)
        self.layout: tuple[str, ...] = tuple(kinds)
        self.out_channels = dim

    def reset_parameters(self) -> None:
        for layer in self.layers:
            layer.reset_parameters()  # type: ignore[operator]

    def __call__(self, x: Tensor, *, dropout_active: bool) -> Tensor:
        out: Tensor = super().__call__(x, dropout_active=dropout_active)
        return out

    def forward(self, x: Tensor, *, dropout_active: bool) -> Tensor:
        modules = iter(self.layers)
        for kind in self.layout:
            if kind == "do":
                x = dropout(x, self.dropout, training=dropout_active)
            elif kind == "relu":
                x = F.relu(x)
            else:
                x = next(modules)(x)
        return x

    def extra_repr(self) -> str:
        return f"layout={' > '.join(self.layout)}, dropout={self.dropout}"


def xlin_steps(channels: int) -> list[Step]:
    """XLIN: Lin(c, c) > DO > ReLU > Lin(c, c) > LN > DO > ReLU (used as a residual)."""
    return [
        ("lin", channels),
        ("do", 0),
        ("relu", 0),
        ("lin", channels),
        ("ln", 0),
        ("do", 0),
        ("relu", 0),
    ]


def cn_steps(hidden: int, *, tailact: bool) -> list[Step]:
    """CNMLP: Lin(in, h) > DO > ReLU > Lin(h, h) > LN > DO > ReLU [> Lin(h, h) unless tailact]."""
    steps: list[Step] = [
        ("lin", hidden),
        ("do", 0),
        ("relu", 0),
        ("lin", hidden),
        ("ln", 0),
        ("do", 0),
        ("relu", 0),
    ]
    return steps if tailact else [*steps, ("lin", hidden)]


def ij_steps(hidden: int, *, tailact: bool) -> list[Step]:
    """IJMLP: Lin(in, h) > LN > DO > ReLU [> Lin(h, h) unless tailact]."""
    steps: list[Step] = [("lin", hidden), ("ln", 0), ("do", 0), ("relu", 0)]
    return steps if tailact else [*steps, ("lin", hidden)]


def head_steps(hidden: int, out: int, *, twolayerlin: bool) -> list[Step]:
    """LIN: Lin(h, h) > LN > DO > ReLU [> Lin(h, h) > LN > DO > ReLU] > Lin(h, out)."""
    block: list[Step] = [("lin", hidden), ("ln", 0), ("do", 0), ("relu", 0)]
    return [*block, *(block if twolayerlin else []), ("lin", out)]


def to_csr(adj: Any, num_nodes: int | None) -> CSR:
    """``adj`` in any form :func:`~graphpair.ops.as_csr` accepts, as an undirected CSR (a
    :class:`~graphpair.ops.CSR` is kept as it is, mask and direction included).

    ``num_nodes`` bounds (and sizes) an ``edge_index``; a matrix, a CSR or a ``Data`` brings
    its own size, which the caller compares with its node count to say which side is off.
    """
    if isinstance(adj, CSR):
        return adj
    if isinstance(adj, Tensor) and adj.layout == torch.strided:
        return as_csr(adj, num_nodes)
    return as_csr(adj)


def check_adjacency_type(adj: Any) -> None:
    """Raise ``TypeError`` unless ``adj`` is ``None`` or of a type :func:`~graphpair.ops.as_csr`
    accepts (for a predictor that ignores ``adj`` and so does not convert it)."""
    if adj is None or isinstance(adj, (CSR, Tensor)) or is_sparse_tensor(adj):
        return
    if hasattr(adj, "edge_stores"):  # a PyG Data
        return
    raise TypeError(
        "adj must be a graphpair.ops.CSR, an edge_index [2, E], a torch.sparse adjacency, "
        f"a torch_sparse.SparseTensor, a torch_geometric Data or None; got {describe(adj)}"
    )


def tensor_version(t: Tensor) -> int:
    """``t``'s in-place version counter (inference tensors have none: -1)."""
    return -1 if t.is_inference() else t._version


#: The embedding tensor the last :func:`check_embeddings_finite` passed, and its version then.
_finite: tuple[weakref.ref[Tensor], int] | None = None


def check_embeddings_finite(h: Tensor) -> None:
    """``check_finite('h', h)``, skipped when ``h`` is the tensor the last check passed and is
    unchanged since.

    An evaluation scores many chunks of pairs on one ``[N, D]`` embedding; checking it in
    every call made that O(N·D) a chunk (OGB's citation2 protocol at full size: about 2,650
    chunks of a 2.9M-row ``h``). "Unchanged" is ``h``'s version counter, which every in-place
    operation on ``h`` or on a view of it bumps (writes through ``h.data`` or a NumPy view do
    not: they are not seen). Inference tensors have no version counter and are checked in
    every call. Only a weak reference is kept.
    """
    global _finite
    version = -1 if compiling() else tensor_version(h)  # nothing traced under compile
    if version < 0:
        check_finite("h", h)
        return
    last = _finite
    if last is not None and last[0]() is h and last[1] == version:
        return
    check_finite("h", h)
    _finite = (weakref.ref(h), version)


def link_inputs(h: Tensor, adj: Any, pairs: Tensor) -> tuple[CSR, Tensor]:
    """Check ``h [N, D]`` (floating and finite: a NaN or infinite embedding, e.g. from a
    diverged encoder, is an error rather than silently scored), the adjacency (required) and
    ``pairs [2, P]``; return the adjacency as a CSR (converted once, see :func:`to_csr`) and
    the pairs as long."""
    check_tensor("h", h, dim=2, floating=True)
    check_embeddings_finite(h)
    csr = to_csr(adj, h.size(0))
    pairs = _check_link_adj_and_pairs(h, csr, pairs)
    return csr, pairs


def check_link_inputs(h: Tensor, adj: CSR | None, pairs: Tensor) -> Tensor:
    """:func:`link_inputs` for a caller that holds a CSR already: ``adj`` must be a
    :class:`~graphpair.ops.CSR` (or ``None``); return the pairs as long."""
    check_tensor("h", h, dim=2, floating=True)
    check_embeddings_finite(h)
    if adj is not None and not isinstance(adj, CSR):
        raise TypeError(
            "adj must be a graphpair.ops.CSR (build one with graphpair.ops.as_csr); "
            f"got {describe(adj)}"
        )
    return _check_link_adj_and_pairs(h, adj, pairs)


def _check_link_adj_and_pairs(h: Tensor, adj: CSR | None, pairs: Tensor) -> Tensor:
    if adj is not None:
        if adj.num_nodes != h.size(0):
            raise ValueError(
                f"adj has num_nodes={adj.num_nodes} but h has {h.size(0)} rows; "
                "they must describe the same nodes"
            )
        if adj.device != h.device:
            raise ValueError(f"adj is on {adj.device} but h is on {h.device}")
    pairs = check_edge_index("pairs", pairs, num_nodes=h.size(0))
    if pairs.device != h.device:
        raise ValueError(f"pairs is on {pairs.device} but h is on {h.device}")
    return pairs.long()


def endpoint_product(h: Tensor, pairs: Tensor) -> Tensor:
    """:math:`h_i \\odot h_j` for every pair ``[P, D]``.

    ``index_select`` rather than ``h[pairs[0]]``: its backward is an ``index_add_``, which on
    CPU adds in a fixed order at any thread count and was measured 35 % faster than the
    accumulating ``index_put_`` behind advanced indexing (whose order varies with threads).
    """
    return torch.index_select(h, 0, pairs[0]) * torch.index_select(h, 0, pairs[1])


def drop_edges(adj: CSR, p: float) -> CSR:
    """A new CSR keeping each active entry of ``adj`` independently with probability ``1 - p``.

    Both directions of an edge are dropped independently, as the reference's DropAdj does (the
    result is generally asymmetric). ``adj`` itself (and its mask) is left untouched.
    """
    keep = adj.mask & (torch.rand(adj.num_edges, device=adj.device) >= p)
    rowptr = counts_to_ptr(torch.bincount(adj.row[keep], minlength=adj.num_nodes))
    return CSR(rowptr, adj.col[keep], adj.num_nodes)


#: Bytes of gathered ``[M, D]`` member rows :func:`pair_sum` holds at once on its gather path;
#: above it the pairs are summed in blocks.
PAIR_SUM_BLOCK_BYTES = 64 * 2**20

#: Mean members per pair from which :func:`pair_sum` multiplies a sparse CSR ``[P, N]`` matrix
#: with ``x`` on CPU instead of gathering member rows (``benchmarks/results/link_speed.md``:
#: from one member per pair on, the sparse product was faster forward and backward, 22x
#: forward on 65,536 ogbl-ddi pairs with 99 common neighbours each; below it the gather is).
PAIR_SUM_SPMM_MIN_MEMBERS_PER_PAIR = 1.0


def pair_sum(
    x: Tensor, members: PairNodeSet, num_pairs: int, weight: Tensor | None = None
) -> Tensor:
    r"""``out[p] = sum_{(p, k) in members} weight * x[k]`` for a set sorted by pair ``[P, D]``.

    Two paths with the same values, both deterministic:

    - **sparse product** (CPU, float32 or float64, at least
      :data:`PAIR_SUM_SPMM_MIN_MEMBERS_PER_PAIR` members per pair on average, ``weight``
      without gradient): the members as a CSR matrix
      ``[P, N]`` (row pointer from the pair counts, the member nodes as columns, ``weight``
      or ones as values) times ``x``, so member rows are read from ``x`` in place rather than
      copied: on ogbl-ddi's 99 common neighbours per pair, 22x faster than the gather;
    - **gather** otherwise: the member rows are gathered in blocks of at most
      :data:`PAIR_SUM_BLOCK_BYTES`, so memory does not grow with the number of members, and
      added into zeros with ``index_add_`` on CPU (a fixed order; only member rows are
      written) or summed over the pair pointer with a segment sum elsewhere (no atomics, so
      deterministic on every device).
    """
    pair_idx, node_idx = members
    if (
        auto_rule("pair_sum", x.device) == "spmm"  # measured per device (ops._backend)
        and x.dim() == 2
        and x.layout == torch.strided
        and x.dtype in (torch.float32, torch.float64)  # what sparse products support
        and node_idx.numel() > 0
        and node_idx.numel() >= PAIR_SUM_SPMM_MIN_MEMBERS_PER_PAIR * num_pairs
        and (weight is None or not weight.requires_grad)
    ):
        return _pair_spmm(x, node_idx, weight, _pair_ptr(pair_idx, num_pairs))
    row_bytes = max(1, x[0].numel() * x.element_size()) if x.size(0) else 1
    budget = max(1, PAIR_SUM_BLOCK_BYTES // row_bytes)  # members per block
    if x.device.type == "cpu":  # index_add_ needs no pair pointer
        return _pair_index_add(x, members, weight, num_pairs, budget)
    return _pair_segment_sum(x, node_idx, weight, _pair_ptr(pair_idx, num_pairs), budget)


def _pair_ptr(pair_idx: Tensor, num_pairs: int) -> Tensor:
    """Pointer ``[P + 1]`` of each pair's first member in a set sorted by pair."""
    return counts_to_ptr(torch.bincount(pair_idx, minlength=num_pairs))


def _pair_index_add(
    x: Tensor, members: PairNodeSet, weight: Tensor | None, num_pairs: int, budget: int
) -> Tensor:
    """Gather path on CPU: member rows added into zeros, ``budget`` members at a time.

    ``index_add_`` adds in a fixed order on CPU and writes only the member rows: for 65,536
    Cora pairs with 1,114 members it took about 18 ms against 27 ms for the segment sum, most
    of it the zero-filled ``[P, D]`` output itself.
    """
    pair_idx, node_idx = members
    out = x.new_zeros((num_pairs, *x.shape[1:]))
    for a in range(0, node_idx.numel(), budget):
        src = torch.index_select(x, 0, node_idx[a : a + budget])  # see endpoint_product
        if weight is not None:
            src = src * weight[a : a + budget].view(-1, *([1] * (x.dim() - 1)))
        out.index_add_(0, pair_idx[a : a + budget], src)
    return out


def _pair_segment_sum(
    x: Tensor, node_idx: Tensor, weight: Tensor | None, ptr: Tensor, budget: int
) -> Tensor:
    """Gather path elsewhere: segment sums over blocks of whole pairs of about ``budget``
    members (no atomics, so deterministic on CUDA too)."""
    num_pairs = ptr.numel() - 1
    if node_idx.numel() <= budget:
        return _pair_block_sum(x, node_idx, weight, ptr)
    # Block boundaries at pair starts, each block holding about `budget` members.
    cuts = torch.searchsorted(ptr, torch.arange(0, int(ptr[-1]), budget, device=x.device))
    starts = torch.unique(torch.cat([cuts.clamp(max=num_pairs), ptr.new_tensor([num_pairs])]))
    if int(starts[0]) != 0:
        starts = torch.cat([ptr.new_zeros(1), starts])
    blocks = []
    bounds = starts.tolist()
    for lo, hi in itertools.pairwise(bounds):
        a, b = int(ptr[lo]), int(ptr[hi])
        w = None if weight is None else weight[a:b]
        blocks.append(_pair_block_sum(x, node_idx[a:b], w, ptr[lo : hi + 1] - a))
    return torch.cat(blocks)


def _pair_spmm(x: Tensor, node_idx: Tensor, weight: Tensor | None, ptr: Tensor) -> Tensor:
    values = x.new_ones(node_idx.numel()) if weight is None else weight.to(x.dtype)
    matrix = csr_matrix(ptr, node_idx, values, (ptr.numel() - 1, x.size(0)))
    return matrix @ x  # [P, D]; its backward to x is matrix^T @ grad


def _pair_block_sum(x: Tensor, node_idx: Tensor, weight: Tensor | None, ptr: Tensor) -> Tensor:
    src = torch.index_select(x, 0, node_idx)  # [M, D]; see endpoint_product
    if weight is not None:
        src = src * weight.unsqueeze(-1)
    return segment(src, ptr, reduce="sum")
