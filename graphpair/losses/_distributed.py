"""Collectives for the pair losses: an all-gather that carries gradients across ranks.

Losses over all pairs of a batch need every rank's embeddings. :func:`all_gather_with_grad`
concatenates the rows of every rank in rank order (0, 1, ..., W - 1, so every rank sees the
same global batch) and its backward pass *sums* the gradient of the gathered tensor over ranks
before returning this rank's slice: each rank's rows receive the gradient of every rank's loss.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = ["all_gather_with_grad", "is_distributed"]


def is_distributed() -> bool:
    """``True`` when ``torch.distributed`` is available and the default group is initialised."""
    return dist.is_available() and dist.is_initialized()


def require_distributed(name: str) -> tuple[int, int]:
    """World size and rank of the default group; a clear error when there is none."""
    if not is_distributed():
        raise RuntimeError(
            f"{name}: distributed=True needs an initialised default process group; call "
            "torch.distributed.init_process_group(...) first (or pass distributed=False)"
        )
    return dist.get_world_size(), dist.get_rank()


def gather_sizes(num_rows: int, device: torch.device) -> list[int]:
    """Number of rows on every rank, in rank order."""
    world = dist.get_world_size()
    mine = torch.tensor([num_rows], dtype=torch.long, device=device)
    sizes = [torch.zeros_like(mine) for _ in range(world)]
    dist.all_gather(sizes, mine)
    return [int(s) for s in sizes]


def _gather_padded(x: Tensor, sizes: list[int]) -> Tensor:
    """All-gather rows of uneven counts: pad to the largest count, gather, unpad, concatenate."""
    largest = max(sizes)
    padded = x
    if x.size(0) < largest:
        padded = torch.cat([x, x.new_zeros((largest - x.size(0), *x.shape[1:]))])
    pieces = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(pieces, padded.contiguous())
    return torch.cat([piece[:size] for piece, size in zip(pieces, sizes, strict=True)])


class _AllGatherRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, sizes: list[int], rank: int) -> Tensor:
        ctx.start = sum(sizes[:rank])
        ctx.stop = ctx.start + sizes[rank]
        return _gather_padded(x.detach(), sizes)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        total = grad.contiguous().clone()  # all_reduce works in place
        dist.all_reduce(total)
        return total[ctx.start : ctx.stop], None, None


def gather_rows(x: Tensor, sizes: list[int]) -> Tensor:
    """Rows of every rank in rank order; differentiable (see the module docstring) when ``x``
    is floating, a plain gather otherwise (labels)."""
    if not x.is_floating_point():
        return _gather_padded(x, sizes)
    out: Tensor = _AllGatherRows.apply(x, sizes, dist.get_rank())  # type: ignore[no-untyped-call]
    return out


def all_reduce_sum(x: Tensor) -> Tensor:
    """Sum of a detached tensor over ranks (a copy; ``x`` is left as it is)."""
    total = x.detach().clone()
    dist.all_reduce(total)
    return total


def all_gather_with_grad(x: Tensor) -> Tensor:
    """Concatenate the rows of ``x`` from every rank in rank order, keeping gradients.

    Ranks may hold different numbers of rows. The backward pass sums the incoming gradient over
    ranks and returns this rank's rows: when every rank computes a loss on the gathered tensor,
    each rank's rows get the gradient of the sum of all ranks' losses. Without an initialised
    process group (or with one rank) ``x`` is returned as it is.

    Args:
        x: This rank's rows (any trailing shape, the same on every rank).

    Shapes:
        - x: ``[N_r, ...]`` on rank r
        - output: ``[N_0 + ... + N_{W-1}, ...]``

    Example:
        >>> z = all_gather_with_grad(encoder(x))  # doctest: +SKIP
    """
    if not is_distributed() or dist.get_world_size() == 1:
        return x
    return gather_rows(x, gather_sizes(x.size(0), x.device))
