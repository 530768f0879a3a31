"""Shared pieces of the loss tests: random inputs, and value-plus-gradient comparisons."""

from __future__ import annotations

from collections.abc import Callable

import torch
from hypothesis import strategies as st
from torch import Tensor

__all__ = [
    "assert_same_loss",
    "batches",
    "embeddings",
    "labels_with_pairs",
    "random_triplets",
    "value_and_grads",
]

#: Float64 agreement required with the oracle (issue 7): values and gradients.
TOL = {"rtol": 1e-8, "atol": 1e-10}


def embeddings(num: int, dim: int, seed: int, dtype: torch.dtype = torch.float64) -> Tensor:
    """Leaf embeddings ``[num, dim]`` drawn from a seeded generator."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(num, dim, generator=gen, dtype=dtype).requires_grad_()


def labels_with_pairs(num: int, classes: int, seed: int) -> Tensor:
    """Labels ``[num]`` in ``[0, classes)`` with at least one positive and one negative pair
    (``num >= 3``, ``classes >= 2``)."""
    gen = torch.Generator().manual_seed(seed + 1)
    labels = torch.randint(0, classes, (num,), generator=gen)
    labels[0], labels[1], labels[2] = 0, 0, 1
    return labels


@st.composite
def batches(
    draw: st.DrawFn, min_num: int = 3, max_num: int = 40, max_classes: int = 8
) -> tuple[Tensor, Tensor]:
    """A float64 embedding batch with labels holding both a positive and a negative pair."""
    num = draw(st.integers(min_num, max_num))
    dim = draw(st.integers(1, 6))
    classes = draw(st.integers(2, max_classes))
    seed = draw(st.integers(0, 2**16))
    return embeddings(num, dim, seed), labels_with_pairs(num, classes, seed)


def random_triplets(labels: Tensor, count: int, seed: int) -> tuple[Tensor, Tensor, Tensor]:
    """Up to ``count`` distinct valid ``(a, p, n)`` triplets of ``labels``, drawn at random; by
    construction no pair is both positive and negative."""
    same = labels.unsqueeze(1) == labels.unsqueeze(0)
    valid = same.unsqueeze(2) & ~same.unsqueeze(1)  # [a, p, n]
    valid &= ~torch.eye(len(labels), dtype=torch.bool).unsqueeze(2)
    a, p, n = valid.nonzero(as_tuple=True)
    gen = torch.Generator().manual_seed(seed)
    keep = torch.randperm(a.numel(), generator=gen)[:count].sort().values
    return a[keep], p[keep], n[keep]


def value_and_grads(fn: Callable[[], Tensor], inputs: list[Tensor]) -> list[Tensor]:
    """``[value, *gradients of value w.r.t. inputs]`` (zeros where an input is unused)."""
    value = fn()
    grads = torch.autograd.grad(value.sum(), inputs, allow_unused=True)
    return [value.detach()] + [
        torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads, strict=True)
    ]


def assert_same_loss(
    ours: Callable[[], Tensor],
    oracle: Callable[[], Tensor],
    inputs: list[Tensor],
    **tolerance: float,
) -> None:
    """Equal values and gradients (float64, 1e-8 relative unless told otherwise)."""
    tol = {**TOL, **tolerance}
    for a, b in zip(value_and_grads(ours, inputs), value_and_grads(oracle, inputs), strict=True):
        torch.testing.assert_close(a, b, **tol)
