"""Scatter reductions: group the entries of ``src`` by an index and reduce each group."""

from __future__ import annotations

import torch
from torch import Tensor

from graphpair._validation import (
    check_choice,
    check_index,
    check_int,
    check_tensor,
    compiling,
)
from graphpair.ops._backend import resolve_backend, torch_scatter

__all__ = ["REDUCTIONS", "scatter"]

#: Reductions understood by :func:`scatter` and :func:`~graphpair.ops.segment`.
REDUCTIONS: tuple[str, ...] = ("sum", "mean", "max", "min", "mul")
_REDUCE_ALIASES = {"add": "sum", "amax": "max", "amin": "min", "prod": "mul"}
_NATIVE_NAME = {"max": "amax", "min": "amin", "mul": "prod"}


def canonical_reduce(reduce: str) -> str:
    """Resolve a reduction name (``'add'`` -> ``'sum'``, ``'prod'`` -> ``'mul'``, ...)."""
    return check_choice("reduce", reduce, REDUCTIONS, aliases=_REDUCE_ALIASES)


def empty_value(reduce: str) -> float:
    """The value an empty group reduces to: 1 for ``'mul'`` (the empty product), else 0."""
    return 1.0 if reduce == "mul" else 0.0


def count_index(index: Tensor, size: int) -> Tensor:
    """How often each of ``0 .. size - 1`` occurs in ``index`` ``[size]`` (entries in range).

    ``torch.bincount`` in eager mode; under ``torch.compile`` a ``scatter_add_`` into zeros,
    whose output shape does not depend on the data (``bincount``'s does, which breaks the
    graph)."""
    if compiling():
        counts = torch.zeros(size, dtype=torch.long, device=index.device)
        return counts.scatter_add_(0, index.long(), torch.ones_like(index, dtype=torch.long))
    return torch.bincount(index, minlength=size)


def _broadcast(index: Tensor, src: Tensor, dim: int) -> Tensor:
    shape = [1] * src.dim()
    shape[dim] = -1
    return index.view(shape).expand_as(src)


def _scatter_native(src: Tensor, index: Tensor, dim: int, dim_size: int, reduce: str) -> Tensor:
    size = list(src.shape)
    size[dim] = dim_size
    full_index = _broadcast(index, src, dim)
    if reduce == "sum":
        return src.new_zeros(size).scatter_add_(dim, full_index, src)
    if reduce == "mean":
        total = src.new_zeros(size).scatter_add_(dim, full_index, src)
        count = count_index(index, dim_size).clamp_(min=1)
        shape = [1] * src.dim()
        shape[dim] = -1
        count = count.view(shape)
        if src.is_floating_point() or src.is_complex():
            return total / count.to(src.dtype)
        return torch.div(total, count, rounding_mode="floor")
    # include_self=False leaves empty groups at the initial value (0, or 1 for a product).
    out = src.new_full(size, empty_value(reduce))
    return out.scatter_reduce_(
        dim, full_index, src, reduce=_NATIVE_NAME[reduce], include_self=False
    )


def scatter(
    src: Tensor,
    index: Tensor,
    dim: int = 0,
    dim_size: int | None = None,
    reduce: str = "sum",
    *,
    backend: str | None = None,
) -> Tensor:
    r"""Reduce the slices of ``src`` along ``dim`` that share an ``index`` value.

    .. math::
        \mathrm{out}_i = \bigoplus_{j \,:\, \mathrm{index}_j = i} \mathrm{src}_j,
        \qquad \bigoplus \in \{\sum, \mathrm{mean}, \max, \min, \prod\}

    Empty groups give 0 (1 for ``'mul'``, the empty product), as in torch-scatter.
    Gradients: ``'max'``/``'min'`` split the gradient evenly between tied maxima on the
    native backend (torch-scatter gives it to one of them); they agree without ties.

    Args:
        src: Values to reduce, any shape.
        index: Group of each slice along ``dim``, 1-D integer tensor of length ``src.size(dim)``.
        dim: Dimension of ``src`` to reduce along.
        dim_size: Number of groups; ``index.max() + 1`` (0 for an empty index) when ``None``.
        reduce: ``'sum'`` (alias ``'add'``), ``'mean'``, ``'max'``, ``'min'`` or ``'mul'``.
        backend: ``'auto'``, ``'native'`` or ``'torch_scatter'``; ``None`` uses the context
            default (:func:`graphpair.ops.use_backend`).

    Shapes:
        - src: ``[..., E, ...]`` with ``E`` at position ``dim``
        - index: ``[E]``
        - output: ``[..., dim_size, ...]``

    Example:
        >>> scatter(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0, 1, 0]), reduce="max")
        tensor([3., 2.])
    """
    src = check_tensor("src", src)
    if src.dim() == 0:
        raise ValueError("src must have at least one dimension; got a 0-d tensor")
    dim = check_int("dim", dim, minimum=-src.dim(), maximum=src.dim() - 1) % src.dim()
    if dim_size is not None:
        dim_size = check_int("dim_size", dim_size, minimum=0)
    index = check_index("index", index, size=dim_size, length=src.size(dim)).long()
    reduce = canonical_reduce(reduce)
    if index.device != src.device:
        raise ValueError(
            f"index is on {index.device} but src is on {src.device}; move them to one device"
        )
    if dim_size is None:
        dim_size = int(index.max()) + 1 if index.numel() > 0 else 0

    if (
        resolve_backend(f"scatter_{reduce}", src.device, backend) == "torch_scatter"
        and src.numel() > 0
    ):
        out: Tensor = torch_scatter().scatter(src, index, dim, dim_size=dim_size, reduce=reduce)
        return out
    return _scatter_native(src, index, dim, dim_size, reduce)
