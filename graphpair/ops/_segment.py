"""Segment reductions: reduce consecutive runs of rows delimited by a CSR pointer."""

from __future__ import annotations

import torch
from torch import Tensor

from graphpair._validation import check_ptr, check_tensor, compiling
from graphpair.ops._backend import resolve_backend, torch_scatter
from graphpair.ops._scatter import _scatter_native, canonical_reduce, empty_value

__all__ = ["counts_to_ptr", "expand_rows", "ptr_to_index", "segment"]

_SEGMENT_REDUCE_NAME = {"sum": "sum", "mean": "mean", "max": "max", "min": "min", "mul": "prod"}


def counts_to_ptr(counts: Tensor) -> Tensor:
    """CSR pointer ``[S + 1]`` (``0, c_0, c_0 + c_1, ...``) of segment sizes ``[S]``."""
    ptr = torch.zeros(counts.numel() + 1, dtype=torch.long, device=counts.device)
    torch.cumsum(counts, 0, out=ptr[1:])
    return ptr


def ptr_to_index(ptr: Tensor, size: int | None = None) -> Tensor:
    """Expand a CSR pointer ``[S + 1]`` into the segment id of every row ``[ptr[-1]]``;
    ``size``, when given, is ``ptr[-1]`` (so the output shape is known without reading the
    pointer back: no host sync, no graph break under ``torch.compile``)."""
    counts = ptr[1:] - ptr[:-1]
    ids = torch.arange(counts.numel(), device=ptr.device)
    return torch.repeat_interleave(ids, counts, output_size=size)


def expand_rows(start: Tensor, counts: Tensor) -> tuple[Tensor, Tensor]:
    """Every position of rows that start at ``start`` and hold ``counts`` entries, row after
    row ``[T]``, and the index (into ``start``) of each position's row ``[T]``.

    Example:
        >>> expand_rows(torch.tensor([5, 0]), torch.tensor([2, 3]))
        (tensor([5, 6, 0, 1, 2]), tensor([0, 0, 1, 1, 1]))
    """
    ptr = counts_to_ptr(counts)
    size = int(ptr[-1])
    owner = ptr_to_index(ptr, size)
    return start[owner] + torch.arange(size, device=start.device) - ptr[owner], owner


def segment(src: Tensor, ptr: Tensor, reduce: str = "sum", *, backend: str | None = None) -> Tensor:
    r"""Reduce the rows of ``src`` in the segments ``[ptr[s], ptr[s + 1])``.

    .. math::
        \mathrm{out}_s = \bigoplus_{j = \mathrm{ptr}_s}^{\mathrm{ptr}_{s+1} - 1} \mathrm{src}_j

    The sorted counterpart of :func:`~graphpair.ops.scatter` (same reductions, same values,
    empty segments give 0, or 1 for ``'mul'``), without atomics, so it is deterministic.

    Args:
        src: Rows to reduce; segments run along dimension 0.
        ptr: Segment boundaries, non-decreasing, ``ptr[0] == 0`` and ``ptr[-1] == src.size(0)``.
        reduce: ``'sum'``, ``'mean'``, ``'max'``, ``'min'`` or ``'mul'``.
        backend: ``'auto'``, ``'native'`` or ``'torch_scatter'``; ``None`` uses the context default.

    Shapes:
        - src: ``[E, *]``
        - ptr: ``[S + 1]``
        - output: ``[S, *]``

    Example:
        >>> segment(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0, 2, 2, 3]))
        tensor([3., 0., 3.])
    """
    src = check_tensor("src", src)
    if src.dim() == 0:
        raise ValueError("src must have at least one dimension; got a 0-d tensor")
    ptr = check_ptr("ptr", ptr, total=src.size(0)).long()
    reduce = canonical_reduce(reduce)
    if ptr.device != src.device:
        raise ValueError(
            f"ptr is on {ptr.device} but src is on {src.device}; move them to one device"
        )
    num_segments = ptr.numel() - 1

    chosen = resolve_backend(f"segment_{reduce}", src.device, backend)
    # torch-scatter has no segment product; that one always runs natively.
    if chosen == "torch_scatter" and src.numel() > 0 and reduce != "mul":
        out: Tensor = torch_scatter().segment_csr(src, ptr, reduce=reduce)
        return out

    if not src.is_floating_point() or src.numel() == 0:
        # torch.segment_reduce only takes floating types; the scatter path covers the rest.
        return _scatter_native(src, ptr_to_index(ptr, src.size(0)), 0, num_segments, reduce)

    out = torch.segment_reduce(src, _SEGMENT_REDUCE_NAME[reduce], offsets=ptr, axis=0)
    lengths = ptr[1:] - ptr[:-1]
    # Under torch.compile the fix-up runs unconditionally (a no-op without empty segments)
    # rather than reading back whether one is empty, which would break the graph.
    if compiling() or bool((lengths == 0).any()):
        # segment_reduce gives -inf/inf/nan for empty max/min/mean segments; use torch-scatter's
        # convention instead. `where` routes no gradient into the discarded entries.
        empty = (lengths == 0).view([-1] + [1] * (src.dim() - 1))
        out = torch.where(empty, torch.full_like(out, empty_value(reduce)), out)
    return out
