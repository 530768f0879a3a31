from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from graphpair.ops import softmax, torch_scatter_available


def loop_softmax(src: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(src)
    for g in index.unique().tolist():
        members = (index == g).nonzero().view(-1)
        for c in range(src.size(1)):
            values = [src[m, c].item() for m in members]
            top = max(values)
            exps = [math.exp(v - top) for v in values]
            for m, e in zip(members.tolist(), exps, strict=True):
                out[m, c] = e / sum(exps)
    return out


@pytest.mark.parametrize("seed", range(3))
def test_softmax_matches_loop(seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    src = torch.randn(20, 4, generator=gen, dtype=torch.float64) * 10
    index = torch.randint(0, 5, (20,), generator=gen)
    torch.testing.assert_close(softmax(src, index), loop_softmax(src, index))


def test_softmax_ptr_equals_index() -> None:
    index = torch.tensor([0, 0, 0, 2, 2, 3])
    ptr = torch.tensor([0, 3, 3, 5, 6])
    src = torch.randn(6, 8, dtype=torch.float64)
    torch.testing.assert_close(softmax(src, ptr=ptr), softmax(src, index, num_nodes=4))


def test_softmax_along_dim1() -> None:
    src = torch.randn(3, 6, dtype=torch.float64)
    index = torch.tensor([0, 1, 0, 1, 1, 2])
    out = softmax(src, index, dim=1)
    torch.testing.assert_close(out, softmax(src.t(), index).t())
    torch.testing.assert_close(
        softmax(src, ptr=torch.tensor([0, 2, 6]), dim=1),
        softmax(src, torch.tensor([0, 0, 1, 1, 1, 1]), dim=1),
    )


def test_softmax_handles_neg_inf() -> None:
    src = torch.tensor([0.0, float("-inf"), float("-inf"), float("-inf")])
    out = softmax(src, torch.tensor([0, 0, 1, 1]))
    assert out.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_softmax_large_values_are_stable() -> None:
    out = softmax(torch.tensor([1000.0, 1000.0, -1000.0]), torch.tensor([0, 0, 0]))
    torch.testing.assert_close(out, torch.tensor([0.5, 0.5, 0.0]))


def test_softmax_empty() -> None:
    assert softmax(torch.empty(0, 2), torch.empty(0, dtype=torch.long)).shape == (0, 2)
    assert softmax(torch.empty(0, 2), ptr=torch.zeros(3, dtype=torch.long)).shape == (0, 2)


@pytest.mark.parametrize("use_ptr", [False, True])
def test_softmax_gradcheck(use_ptr: bool) -> None:
    src = torch.randn(
        9, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    ).requires_grad_()
    index = torch.tensor([0, 0, 1, 1, 1, 3, 3, 3, 3])
    ptr = torch.tensor([0, 2, 5, 5, 9])
    if use_ptr:
        assert torch.autograd.gradcheck(lambda s: softmax(s, ptr=ptr), (src,))
    else:
        assert torch.autograd.gradcheck(lambda s: softmax(s, index, num_nodes=4), (src,))


@pytest.mark.skipif(not torch_scatter_available(), reason="torch-scatter not installed")
@given(seed=st.integers(0, 2**16), num=st.integers(0, 30))
def test_backends_agree(seed: int, num: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    src = torch.randn(num, 3, generator=gen, dtype=torch.float64)
    index = torch.randint(0, 6, (num,), generator=gen)
    torch.testing.assert_close(
        softmax(src, index, num_nodes=6, backend="native"),
        softmax(src, index, num_nodes=6, backend="torch_scatter"),
    )


def test_softmax_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="give exactly one of index and ptr"):
        softmax(torch.ones(3))
    with pytest.raises(ValueError, match="give exactly one of index and ptr"):
        softmax(torch.ones(3), torch.tensor([0, 0, 0]), ptr=torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="src must have a floating-point dtype"):
        softmax(torch.ones(3, dtype=torch.long), torch.tensor([0, 0, 0]))
    with pytest.raises(ValueError, match="index entries must be < 2; found the entry 2"):
        softmax(torch.ones(3), torch.tensor([0, 1, 2]), num_nodes=2)
