"""Machinery shared by the pair losses: argument checks, reductions, zero losses, warnings and
the row-block engine that keeps every ``N x N`` similarity matrix memory-bounded.

The row-block engine evaluates a loss over *anchors* (rows) against *references* (columns) one
block of anchor rows at a time. In the dense path the block is the whole matrix. In the chunked
path every block runs under :func:`torch.utils.checkpoint.checkpoint`, so the forward pass keeps
only each block's inputs (views of tensors that are alive anyway) and its small outputs, and the
backward pass recomputes one block at a time: peak memory is one block's activations in both
directions, whatever N is.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import TypeAlias

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from graphpair._validation import (
    check_choice,
    check_finite,
    check_index,
    check_int,
    check_tensor,
    describe,
)

__all__ = [
    "LOSS_BLOCK_BYTES",
    "REDUCTIONS",
    "IndicesTuple",
    "NoPairsWarning",
    "Pairs",
    "check_chunk_size",
    "check_disjoint",
    "check_embeddings",
    "check_indices_tuple",
    "check_labels",
    "check_positive",
    "check_reduction",
    "masked_logsumexp",
    "plan_rows",
    "run_blocks",
    "safe_sqrt",
    "softplus",
    "sort_keys",
    "warn_once",
    "zero_loss",
]

#: Byte budget of one block of the anchor x reference matrix. A loss computes in one dense pass
#: when the whole matrix ``M x R`` of its dtype fits in this budget (N = 4,096 in float32), and
#: otherwise in checkpointed blocks of ``LOSS_BLOCK_BYTES // (R * itemsize)`` anchor rows. A block
#: keeps a handful of such matrices alive at once (similarities, masks, a masked copy), so peak
#: extra memory is a few hundred MiB plus O(N * D) for the embeddings and their gradients.
LOSS_BLOCK_BYTES = 64 * 2**20

REDUCTIONS = ("mean", "sum", "none")

#: ``(anchor, positive, negative)`` triplets or ``(anchor, positive, anchor, negative)`` pairs.
IndicesTuple: TypeAlias = tuple[Tensor, Tensor, Tensor] | tuple[Tensor, Tensor, Tensor, Tensor]

_WARNED: set[str] = set()


class NoPairsWarning(UserWarning):
    """A pair loss found no positive or no negative pair (or no triplet) and returned a zero
    loss that is still attached to the graph. Raised once per process per loss."""


def warn_once(loss: str, message: str) -> None:
    """Warn ``message`` with :class:`NoPairsWarning`, at most once per process for ``loss``."""
    if loss in _WARNED:
        return
    _WARNED.add(loss)
    warnings.warn(f"{loss}: {message}", NoPairsWarning, stacklevel=4)


def zero_loss(shape: Sequence[int], *tensors: Tensor | None) -> Tensor:
    """Zeros of ``shape`` that depend on ``tensors``: backward works and gives zero gradients."""
    present = [t for t in tensors if t is not None and t.is_floating_point()]
    if not present:
        raise ValueError("zero_loss needs at least one floating tensor")
    anchor = present[0]
    tie = sum((t.sum() * 0 for t in present), start=anchor.new_zeros(()))
    return anchor.new_zeros(tuple(shape)) + tie


# ---------------------------------------------------------------------- argument checks


def check_reduction(reduction: object) -> str:
    """``'mean'``, ``'sum'`` or ``'none'``."""
    return check_choice("reduction", reduction, REDUCTIONS)


def check_chunk_size(chunk_size: object) -> int | None:
    """``None`` (automatic) or a positive number of anchor rows per block."""
    if chunk_size is None:
        return None
    return check_int("chunk_size", chunk_size, minimum=1)


def check_positive(name: str, value: object, *, allow_zero: bool = False) -> float:
    """A finite float > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number; got {describe(value)}")
    out = float(value)
    if not math.isfinite(out) or out < 0 or (out == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}; got {value!r}")
    return out


def check_finite_number(name: str, value: object) -> float:
    """Any finite float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number; got {describe(value)}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return out


def check_embeddings(name: str, value: object, *, dim_like: Tensor | None = None) -> Tensor:
    """A floating, finite ``[N, D]`` tensor (same D, dtype and device as ``dim_like`` when
    given). NaN or infinite entries are an error: normalised, they would be masked into a
    plausible loss instead of failing."""
    out = check_finite(name, check_tensor(name, value, dim=2, floating=True))
    if dim_like is not None:
        if out.size(1) != dim_like.size(1):
            raise ValueError(
                f"{name} must have {dim_like.size(1)} columns like the embeddings; "
                f"got shape {tuple(out.shape)}"
            )
        if out.dtype != dim_like.dtype or out.device != dim_like.device:
            raise ValueError(
                f"{name} must have the embeddings' dtype and device "
                f"({dim_like.dtype}, {dim_like.device}); got {describe(out)}"
            )
    return out


def check_labels(name: str, value: object, length: int) -> Tensor:
    """A 1-D integer tensor of ``length`` labels."""
    out = check_tensor(name, value, dim=1, integer=True)
    if out.numel() != length:
        raise ValueError(
            f"{name} must have one entry per embedding row ({length}); got {out.numel()}"
        )
    return out


class Pairs:
    """Validated explicit pairs: positives ``(a1, p)`` and negatives ``(a2, n)``."""

    def __init__(self, a1: Tensor, p: Tensor, a2: Tensor, n: Tensor) -> None:
        self.a1, self.p, self.a2, self.n = a1, p, a2, n


def sort_keys(keys: Tensor) -> tuple[Tensor, Tensor]:
    """``keys`` sorted (stably) and the permutation; one pass when already sorted (miners
    emit their pairs in order)."""
    if keys.numel() < 2 or bool((keys[1:] >= keys[:-1]).all()):
        return keys, torch.arange(keys.numel(), device=keys.device)
    order = torch.sort(keys, stable=True).indices
    return keys[order], order


def check_disjoint(pos_keys: Tensor, neg_keys: Tensor, num_refs: int) -> None:
    """Raise when a pair key is in both sorted key lists (O(P log Q), no [P, Q] matrix)."""
    if pos_keys.numel() == 0 or neg_keys.numel() == 0:
        return
    at = torch.searchsorted(neg_keys, pos_keys).clamp_max(neg_keys.numel() - 1)
    both = neg_keys[at] == pos_keys
    if bool(both.any()):
        key = int(pos_keys[both][0])
        raise ValueError(
            "indices_tuple: each pair must be either positive or negative, but the pair "
            f"(anchor {key // num_refs}, reference {key % num_refs}) is both"
        )


def check_indices_tuple(indices_tuple: object, num_anchors: int, num_refs: int) -> Pairs:
    """Validate ``(a, p, n)`` triplets or ``(a1, p, a2, n)`` pairs and return them as pairs.

    Triplets become the pairs ``(a, p)`` and ``(a, n)``. Checks types, lengths and index
    ranges; whether a pair is both positive and negative is checked by :func:`check_disjoint`
    once the pairs are sorted.
    """
    if not isinstance(indices_tuple, (tuple, list)) or len(indices_tuple) not in (3, 4):
        raise TypeError(
            "indices_tuple must be a tuple (anchor, positive, negative) of triplets or "
            f"(anchor1, positive, anchor2, negative) of pairs; got {describe(indices_tuple)}"
        )
    names = (
        ("anchor", "positive", "negative")
        if len(indices_tuple) == 3
        else ("anchor1", "positive", "anchor2", "negative")
    )
    parts = []
    for label, value in zip(names, indices_tuple, strict=True):
        size = num_anchors if label.startswith("anchor") else num_refs
        parts.append(check_index(f"indices_tuple {label}", value, size=size).long())
    if len(parts) == 3:
        a, p, n = parts
        if not (a.numel() == p.numel() == n.numel()):
            raise ValueError(
                "indices_tuple (anchor, positive, negative) must have equal lengths; got "
                f"{a.numel()}, {p.numel()}, {n.numel()}"
            )
        return Pairs(a, p, a, n)
    a1, p, a2, n = parts
    if a1.numel() != p.numel() or a2.numel() != n.numel():
        raise ValueError(
            "indices_tuple (anchor1, positive, anchor2, negative) needs len(anchor1) == "
            f"len(positive) and len(anchor2) == len(negative); got {a1.numel()}, "
            f"{p.numel()}, {a2.numel()}, {n.numel()}"
        )
    return Pairs(a1, p, a2, n)


# ---------------------------------------------------------------------- numerics


def masked_logsumexp(x: Tensor, mask: Tensor, dim: int = -1) -> Tensor:
    """``logsumexp`` over the entries where ``mask`` is true; a row with none gives the most
    negative finite number, so ``softplus`` of it is 0 and no gradient is NaN."""
    return torch.logsumexp(x.masked_fill(~mask, torch.finfo(x.dtype).min), dim=dim)


def softplus(x: Tensor) -> Tensor:
    """``log(1 + e^x)`` to full precision (``F.softplus`` returns ``x`` itself above 20, an
    error of ``e^-20`` that float64 oracles see)."""
    return torch.logaddexp(x, x.new_zeros(()))


def safe_sqrt(x: Tensor) -> Tensor:
    """``sqrt(max(x, 0))`` with a zero (not infinite) gradient at 0."""
    positive = x > 0
    return torch.where(positive, x.clamp_min(torch.finfo(x.dtype).tiny).sqrt(), 0.0)


DISTANCES = ("euclidean", "squared_euclidean", "cosine")


def pairwise_distance(a: Tensor, b: Tensor, distance: str) -> Tensor:
    """Distances ``[A, B]`` between the rows of ``a`` and ``b``; for ``'cosine'`` the negated
    cosine similarity of (already normalised) rows, so that smaller is always closer."""
    if distance == "cosine":
        return -(a @ b.T)
    sq = (a * a).sum(1, keepdim=True) + (b * b).sum(1) - 2.0 * (a @ b.T)  # [A, B]
    sq = sq.clamp_min(0.0)
    return sq if distance == "squared_euclidean" else safe_sqrt(sq)


def rowwise_distance(a: Tensor, b: Tensor, distance: str) -> Tensor:
    """Distances ``[P]`` between matching rows of ``a [P, D]`` and ``b [P, D]``."""
    if distance == "cosine":
        return -(a * b).sum(1)
    sq = ((a - b) ** 2).sum(1)
    return sq if distance == "squared_euclidean" else safe_sqrt(sq)


def normalize(x: Tensor) -> Tensor:
    """Rows scaled to unit L2 norm (eps ``1e-12``, as ``F.normalize`` and PML)."""
    return F.normalize(x, p=2.0, dim=1)


# ---------------------------------------------------------------------- row-block engine


def plan_rows(num_rows: int, cells_per_row: int, itemsize: int, chunk_size: int | None) -> int:
    """Rows per block: all rows when the ``num_rows x cells_per_row`` matrix fits
    :data:`LOSS_BLOCK_BYTES` (the dense path), else as many as fit, at least one.
    An explicit ``chunk_size`` wins."""
    if chunk_size is not None:
        return chunk_size
    row_bytes = max(1, cells_per_row) * itemsize
    if num_rows * row_bytes <= LOSS_BLOCK_BYTES:
        return max(1, num_rows)
    return max(1, LOSS_BLOCK_BYTES // row_bytes)


BlockFn: TypeAlias = Callable[..., tuple[Tensor, ...]]


def run_blocks(
    fn: BlockFn,
    num_rows: int,
    rows_per_block: int,
    row_args: Sequence[Tensor | None],
    shared_args: Sequence[Tensor | None],
) -> list[tuple[Tensor, ...]]:
    """Call ``fn(*row_slices, *shared_args)`` for consecutive blocks of rows.

    ``row_args`` are sliced along dim 0 per block (``None`` passes through). With one block
    ``fn`` runs directly (the dense path). With several, each block runs under a
    non-reentrant checkpoint when gradients are needed, so neither pass keeps more than one
    block's N-wide intermediates alive.
    """
    if rows_per_block >= num_rows:
        return [fn(*row_args, *shared_args)]
    tensors = [t for t in (*row_args, *shared_args) if t is not None]
    needs_grad = torch.is_grad_enabled() and any(t.requires_grad for t in tensors)
    outputs = []
    for start in range(0, num_rows, rows_per_block):
        stop = min(start + rows_per_block, num_rows)
        sliced = [None if t is None else t[start:stop] for t in row_args]
        if needs_grad:
            out = checkpoint(
                fn,
                *sliced,
                *shared_args,
                use_reentrant=False,
                preserve_rng_state=False,
                determinism_check="none",
            )
        else:
            out = fn(*sliced, *shared_args)
        outputs.append(out)
    return outputs


# ---------------------------------------------------------------------- link scores


def check_scores(pos: object, neg: object) -> tuple[Tensor, Tensor]:
    """Scores ``pos [P]`` and ``neg [P]`` or ``[P, K]``; returns ``neg`` as ``[P, K]``."""
    p = check_finite("pos", check_tensor("pos", pos, dim=1, floating=True))
    n = check_finite("neg", check_tensor("neg", neg, dim=(1, 2), floating=True))
    if n.size(0) != p.size(0):
        raise ValueError(
            f"neg must have one row per positive ({p.size(0)}), shape [P] or [P, K]; "
            f"got shape {tuple(n.shape)}"
        )
    if n.dim() == 2 and n.size(1) == 0:
        raise ValueError(f"neg must have at least one negative per positive; got {describe(n)}")
    if n.dtype != p.dtype or n.device != p.device:
        raise ValueError(
            f"pos and neg must share dtype and device; got {describe(p)} and {describe(n)}"
        )
    return p, (n.unsqueeze(1) if n.dim() == 1 else n)


def reduce_per_positive(name: str, losses: Tensor, reduction: str, *tie: Tensor) -> Tensor:
    """Reduce per-positive losses ``[P]``; no positive gives a zero loss and a warning."""
    if reduction == "none":
        return losses
    if losses.numel() == 0:
        warn_once(name, "no positive pair (P = 0); returning a zero loss")
        return zero_loss((), *tie)
    return losses.mean() if reduction == "mean" else losses.sum()
