from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from graphpair.ops import REDUCTIONS, scatter, torch_scatter_available

_LOOP = {
    "sum": lambda xs: sum(xs),
    "mean": lambda xs: sum(xs) / len(xs),
    "max": max,
    "min": min,
    "mul": math.prod,
}


def loop_scatter(
    src: torch.Tensor, index: torch.Tensor, dim_size: int, reduce: str
) -> torch.Tensor:
    """Naive reference along dim 0: one Python reduction per group and column."""
    out = torch.full((dim_size, *src.shape[1:]), 1.0 if reduce == "mul" else 0.0, dtype=src.dtype)
    flat = src.reshape(src.size(0), -1)
    out_flat = out.view(dim_size, -1)
    for g in range(dim_size):
        members = (index == g).nonzero().view(-1).tolist()
        if not members:
            continue
        for c in range(flat.size(1)):
            out_flat[g, c] = _LOOP[reduce]([flat[m, c].item() for m in members])
    return out


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("seed", range(3))
def test_scatter_matches_loop(reduce: str, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    src = torch.randn(17, 3, generator=gen, dtype=torch.float64)
    index = torch.randint(0, 6, (17,), generator=gen)
    out = scatter(src, index, 0, dim_size=8, reduce=reduce)  # groups 6, 7 (and maybe others) empty
    torch.testing.assert_close(out, loop_scatter(src, index, 8, reduce))


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_along_inner_dim(reduce: str) -> None:
    src = torch.randn(4, 9, 2, dtype=torch.float64)
    index = torch.tensor([0, 2, 2, 1, 0, 0, 3, 2, 1])
    out = scatter(src, index, dim=1, reduce=reduce)
    expected = scatter(src.transpose(0, 1), index, 0, reduce=reduce).transpose(0, 1)
    assert out.shape == (4, 4, 2)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(scatter(src, index, dim=-2, reduce=reduce), out)


def test_scatter_aliases_and_names() -> None:
    src, index = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([0, 0, 1])
    torch.testing.assert_close(scatter(src, index, reduce="add"), torch.tensor([3.0, 4.0]))
    torch.testing.assert_close(scatter(src, index, reduce="PROD"), torch.tensor([2.0, 4.0]))
    torch.testing.assert_close(scatter(src, index, reduce="amax"), torch.tensor([2.0, 4.0]))


def test_scatter_integer_mean_floors() -> None:
    out = scatter(torch.tensor([1, 2, 5]), torch.tensor([0, 0, 1]), reduce="mean")
    assert out.tolist() == [1, 5]


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_empty_input(reduce: str) -> None:
    out = scatter(torch.empty(0, 4), torch.empty(0, dtype=torch.long), dim_size=3, reduce=reduce)
    assert out.shape == (3, 4)
    assert torch.all(out == (1.0 if reduce == "mul" else 0.0))
    assert scatter(torch.empty(0, 4), torch.empty(0, dtype=torch.long), reduce=reduce).shape == (
        0,
        4,
    )


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_gradcheck(reduce: str) -> None:
    gen = torch.Generator().manual_seed(0)
    # Distinct values, away from zero: max/min have no ties and the product no zero factor.
    src = (torch.rand(12, 3, generator=gen, dtype=torch.float64) + 0.5).requires_grad_()
    index = torch.tensor([0, 0, 1, 3, 3, 3, 0, 1, 4, 4, 3, 0])  # group 2 empty
    assert torch.autograd.gradcheck(lambda s: scatter(s, index, 0, 6, reduce), (src,))


@pytest.mark.skipif(not torch_scatter_available(), reason="torch-scatter not installed")
@pytest.mark.parametrize("reduce", REDUCTIONS)
@given(seed=st.integers(0, 2**16), num=st.integers(0, 40), groups=st.integers(1, 9))
def test_backends_agree(reduce: str, seed: int, num: int, groups: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    src = torch.randn(num, 5, generator=gen, dtype=torch.float64)
    index = torch.randint(0, groups, (num,), generator=gen)
    native = scatter(src, index, 0, groups, reduce, backend="native")
    other = scatter(src, index, 0, groups, reduce, backend="torch_scatter")
    torch.testing.assert_close(native, other)


@pytest.mark.skipif(not torch_scatter_available(), reason="torch-scatter not installed")
@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min"])
def test_backends_agree_on_gradients(reduce: str) -> None:
    src = torch.rand(30, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    index = torch.randint(0, 7, (30,), generator=torch.Generator().manual_seed(2))
    grads = []
    for backend in ("native", "torch_scatter"):
        leaf = src.clone().requires_grad_()
        (
            scatter(leaf, index, 0, 7, reduce, backend=backend) * torch.arange(28.0).view(7, 4)
        ).sum().backward()
        grads.append(leaf.grad)
    torch.testing.assert_close(grads[0], grads[1])


@pytest.mark.parametrize("backend", ["native", "torch_scatter"])
def test_int32_index_matches_int64(backend: str) -> None:
    if backend == "torch_scatter" and not torch_scatter_available():
        pytest.skip("torch-scatter not installed")
    src = torch.randn(10, 3)
    index = torch.tensor([0, 3, 3, 1, 0, 2, 2, 2, 1, 0])
    for reduce in REDUCTIONS:
        torch.testing.assert_close(
            scatter(src, index.int(), reduce=reduce, backend=backend),
            scatter(src, index, reduce=reduce, backend=backend),
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"index": torch.tensor([0.0, 1.0, 1.0])}, "index must have an integer dtype"),
        ({"index": torch.tensor([[0, 1, 1]])}, "index must have 1 dimension"),
        ({"index": torch.tensor([0, 1])}, "index must have 3 entries"),
        ({"index": torch.tensor([0, -1, 1])}, "index must be non-negative; found the entry -1"),
        (
            {"index": torch.tensor([0, 1, 5]), "dim_size": 3},
            "index entries must be < 3; found the entry 5",
        ),
        ({"reduce": "median"}, "reduce must be one of"),
        ({"dim": 2}, "dim must be <= 1; got 2"),
        ({"dim_size": -1}, "dim_size must be >= 0; got -1"),
    ],
)
def test_scatter_rejects_bad_input(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"src": torch.ones(3, 2), "index": torch.tensor([0, 1, 1])}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        scatter(**args)  # type: ignore[arg-type]


def test_scatter_rejects_non_tensor() -> None:
    with pytest.raises(TypeError, match="src must be a torch.Tensor"):
        scatter([1.0, 2.0], torch.tensor([0, 1]))  # type: ignore[arg-type]
