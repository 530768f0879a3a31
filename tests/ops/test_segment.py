from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from graphpair.ops import REDUCTIONS, scatter, segment, torch_scatter_available
from graphpair.ops._segment import ptr_to_index


def _ptr(lengths: list[int]) -> torch.Tensor:
    return (
        torch.tensor([0, *torch.tensor(lengths).cumsum(0).tolist()])
        if lengths
        else torch.tensor([0])
    )


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_segment_matches_scatter(reduce: str) -> None:
    ptr = _ptr([3, 0, 1, 4, 0])
    src = torch.randn(8, 2, dtype=torch.float64)
    expected = scatter(src, ptr_to_index(ptr), 0, 5, reduce)
    torch.testing.assert_close(segment(src, ptr, reduce), expected)


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_segment_integer_input(reduce: str) -> None:
    ptr = _ptr([2, 0, 3])
    src = torch.tensor([3, 1, 4, 1, 5])
    torch.testing.assert_close(
        segment(src, ptr, reduce), scatter(src, ptr_to_index(ptr), 0, 3, reduce)
    )


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_segment_empty(reduce: str) -> None:
    assert segment(torch.empty(0, 3), torch.zeros(4, dtype=torch.long), reduce).shape == (3, 3)
    assert segment(torch.empty(0, 3), torch.zeros(1, dtype=torch.long), reduce).shape == (0, 3)


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_segment_gradcheck_with_empty_segments(reduce: str) -> None:
    src = (
        torch.rand(7, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) + 0.5
    ).requires_grad_()
    ptr = _ptr([2, 0, 4, 0, 1])
    assert torch.autograd.gradcheck(lambda s: segment(s, ptr, reduce), (src,))


@pytest.mark.skipif(not torch_scatter_available(), reason="torch-scatter not installed")
@pytest.mark.parametrize("reduce", REDUCTIONS)
@given(lengths=st.lists(st.integers(0, 5), max_size=12), seed=st.integers(0, 1000))
def test_backends_agree(reduce: str, lengths: list[int], seed: int) -> None:
    ptr = _ptr(lengths)
    src = torch.randn(
        int(ptr[-1]), 3, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)
    )
    torch.testing.assert_close(
        segment(src, ptr, reduce, backend="native"),
        segment(src, ptr, reduce, backend="torch_scatter"),
    )


@pytest.mark.parametrize(
    ("ptr", "message"),
    [
        (torch.tensor([1, 2, 4]), "ptr must start at 0; got 1"),
        (torch.tensor([0, 2, 3]), "ptr must end at the input size 4; got 3"),
        (torch.tensor([0, 3, 2, 4]), "ptr must be non-decreasing"),
        (torch.tensor([0.0, 4.0]), "ptr must have an integer dtype"),
        (torch.tensor([], dtype=torch.long), "ptr must have at least one entry"),
    ],
)
def test_segment_rejects_bad_ptr(ptr: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        segment(torch.ones(4), ptr)
