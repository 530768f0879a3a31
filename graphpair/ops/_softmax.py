"""Softmax over groups of entries (attention over the pairs that share a target)."""

from __future__ import annotations

import torch
from torch import Tensor

from graphpair._validation import check_index, check_int, check_ptr, check_tensor
from graphpair.ops._backend import resolve_backend
from graphpair.ops._scatter import scatter
from graphpair.ops._segment import ptr_to_index, segment

__all__ = ["softmax"]

# Added to every group's denominator, as in PyG, so a group whose entries are all -inf gives
# zeros instead of NaN.
_EPS = 1e-16


def softmax(
    src: Tensor,
    index: Tensor | None = None,
    ptr: Tensor | None = None,
    num_nodes: int | None = None,
    dim: int = 0,
    *,
    backend: str | None = None,
) -> Tensor:
    r"""Softmax of ``src`` within each group of entries sharing an ``index`` (or a segment).

    .. math::
        \mathrm{out}_j = \frac{\exp(\mathrm{src}_j - m_{g(j)})}
        {\sum_{k : g(k) = g(j)} \exp(\mathrm{src}_k - m_{g(j)}) + 10^{-16}},
        \qquad m_g = \max_{k : g(k) = g} \mathrm{src}_k

    The group maximum is detached (it cancels mathematically), which keeps the backward pass
    free of a max-gradient. Entries equal to ``-inf`` get weight 0; a group that is entirely
    ``-inf`` gives zeros.

    Args:
        src: Scores, grouped along ``dim``.
        index: Group of each entry, ``[E]`` (give this or ``ptr``).
        ptr: Group boundaries ``[G + 1]`` when entries are sorted by group (faster, deterministic).
        num_nodes: Number of groups for ``index``; ``index.max() + 1`` when ``None``.
        dim: Dimension of ``src`` the groups run along.
        backend: ``'auto'``, ``'native'`` or ``'torch_scatter'``; ``None`` uses the context default.

    Shapes:
        - src: ``[..., E, ...]`` (e.g. ``[E, H]`` for H attention heads)
        - output: same as ``src``

    Example:
        >>> softmax(torch.tensor([0.0, 0.0, 5.0]), torch.tensor([0, 0, 1]))
        tensor([0.5000, 0.5000, 1.0000])
    """
    src = check_tensor("src", src, floating=True)
    if src.dim() == 0:
        raise ValueError("src must have at least one dimension; got a 0-d tensor")
    dim = check_int("dim", dim, minimum=-src.dim(), maximum=src.dim() - 1) % src.dim()
    if (index is None) == (ptr is None):
        raise ValueError("give exactly one of index and ptr to softmax")

    # One backend for the whole composition, chosen for 'softmax' rather than per sub-op.
    chosen = resolve_backend("softmax", src.device, backend)
    if ptr is not None:
        ptr = check_ptr("ptr", ptr, total=src.size(dim))
        if dim != 0:
            # Segments run along dim 0; move the group dimension there and back.
            return softmax(src.movedim(dim, 0), ptr=ptr, backend=chosen).movedim(0, dim)
        index = ptr_to_index(ptr, src.size(0))
        num_groups = ptr.numel() - 1
        group_max = segment(src.detach(), ptr, "max", backend=chosen)
    else:
        assert index is not None
        if num_nodes is not None:
            num_nodes = check_int("num_nodes", num_nodes, minimum=0)
        index = check_index("index", index, size=num_nodes, length=src.size(dim))
        if num_nodes is None:
            num_nodes = int(index.max()) + 1 if index.numel() > 0 else 0
        num_groups = num_nodes
        group_max = scatter(src.detach(), index, dim, num_groups, "max", backend=chosen)

    # A group whose maximum is -inf (all entries -inf) would give inf - inf = nan.
    group_max = torch.where(torch.isfinite(group_max), group_max, torch.zeros_like(group_max))
    shifted = src - group_max.index_select(dim, index)
    exp = shifted.exp()
    if ptr is not None:
        denom = segment(exp, ptr, "sum", backend=chosen)
    else:
        denom = scatter(exp, index, dim, num_groups, "sum", backend=chosen)
    return exp / (denom.index_select(dim, index) + _EPS)
