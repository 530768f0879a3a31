from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import pytest
import torch
from torch import Tensor

from graphpair.losses import (
    LOSS_BLOCK_BYTES,
    NoPairsWarning,
    contrastive_margin,
    grace,
    info_nce,
    multi_similarity,
    sup_con,
    triplet_margin,
)
from graphpair.losses._common import (
    check_disjoint,
    check_indices_tuple,
    masked_logsumexp,
    plan_rows,
    run_blocks,
    safe_sqrt,
    softplus,
    sort_keys,
    warn_once,
    zero_loss,
)
from tests.losses.oracle import embeddings, labels_with_pairs


def test_plan_rows_documented_rule() -> None:
    assert LOSS_BLOCK_BYTES == 64 * 2**20
    assert plan_rows(4096, 4096, 4, None) == 4096  # N = 4,096 float32: one dense pass
    assert plan_rows(4097, 4097, 4, None) < 4097
    assert plan_rows(65_536, 65_536, 4, None) == 256  # 64 MiB blocks of 256 rows
    assert plan_rows(10, 2**40, 8, None) == 1  # never fewer than one row
    assert plan_rows(10, 10, 4, 3) == 3  # an explicit chunk size wins


def saved_bytes(fn: Callable[[], Tensor]) -> int:
    """Bytes of the distinct storages autograd keeps for the backward pass of ``fn()`` (every
    block saves a reference to the same reference rows; that is no extra memory)."""
    storages: dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(storages.values())


@pytest.mark.parametrize(
    "loss",
    [
        lambda x, y, c: info_nce(x, y, chunk_size=c),
        lambda x, y, c: sup_con(x, y, chunk_size=c),
        lambda x, y, c: multi_similarity(x, y, chunk_size=c),
        lambda x, y, c: contrastive_margin(x, y, chunk_size=c),
        lambda x, y, c: triplet_margin(x, y, chunk_size=c),
        lambda x, y, c: grace(x, x.flip(0), chunk_size=c),
    ],
)
def test_chunked_path_keeps_no_n_wide_activations_for_backward(
    loss: Callable[[Tensor, Tensor, int | None], Tensor],
) -> None:
    num, dim = 768, 8
    x, y = embeddings(num, dim, 0), labels_with_pairs(num, 20, 0)
    dense = saved_bytes(lambda: loss(x, y, 10**9))  # a block of every row: the dense path
    chunked = saved_bytes(lambda: loss(x, y, 64))
    assert dense >= num * num  # the dense path keeps [N, N] masks and matrices
    # the chunked path keeps the inputs and O(N) results, nothing quadratic
    assert chunked <= 16 * num * dim * x.element_size()
    assert chunked * 20 < dense


def test_run_blocks_dense_and_checkpointed_agree() -> None:
    x = embeddings(10, 3, 1)

    def block(rows: Tensor, full: Tensor) -> tuple[Tensor, ...]:
        return ((rows @ full.T).exp().sum(1),)

    dense = run_blocks(block, 10, 10, (x,), (x,))
    parts = run_blocks(block, 10, 3, (x,), (x,))
    assert len(dense) == 1
    assert len(parts) == 4
    torch.testing.assert_close(torch.cat([p[0] for p in parts]), dense[0][0])
    g1 = torch.autograd.grad(torch.cat([p[0] for p in parts]).sum(), x)[0]
    g2 = torch.autograd.grad(dense[0][0].sum(), x)[0]
    torch.testing.assert_close(g1, g2)
    with torch.no_grad():
        assert not run_blocks(block, 10, 3, (x,), (x,))[0][0].requires_grad


def test_masked_logsumexp_handles_empty_rows_without_nan() -> None:
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[True, False, True], [False, False, False]])
    out = masked_logsumexp(x, mask)
    torch.testing.assert_close(out[0], torch.logsumexp(x[0, [0, 2]], 0))
    assert softplus(out[1]).item() == 0.0
    softplus(out).sum().backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all()
    assert not x.grad[1].any()


def test_softplus_is_exact_where_torch_thresholds() -> None:
    x = torch.tensor([25.0, -800.0, 800.0, 0.0], dtype=torch.float64)
    expected = torch.tensor(
        [25.0 + math.log1p(math.exp(-25.0)), 0.0, 800.0, math.log(2.0)], dtype=torch.float64
    )
    torch.testing.assert_close(softplus(x), expected, rtol=1e-15, atol=0.0)


def test_safe_sqrt_gradient_at_zero() -> None:
    x = torch.tensor([0.0, -1e-18, 4.0], dtype=torch.float64, requires_grad=True)
    out = safe_sqrt(x)
    out.sum().backward()
    assert out.tolist() == [0.0, 0.0, 2.0]
    assert x.grad is not None
    assert x.grad.tolist() == [0.0, 0.0, 0.25]


def test_zero_loss_is_attached() -> None:
    a = torch.ones(3, requires_grad=True)
    z = zero_loss((2,), a, None)
    assert z.shape == (2,)
    assert z.requires_grad
    assert not z.any()
    z.sum().backward()
    assert a.grad is not None
    assert not a.grad.any()
    with pytest.raises(ValueError, match="at least one floating tensor"):
        zero_loss((), None)


def test_warn_once_per_loss() -> None:
    with pytest.warns(NoPairsWarning, match="lossA: first"):
        warn_once("lossA", "first")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_once("lossA", "second")  # silent: already warned in this process
    with pytest.warns(NoPairsWarning, match="lossB"):
        warn_once("lossB", "other loss")


def test_check_indices_tuple() -> None:
    t = torch.tensor
    pairs = check_indices_tuple((t([0]), t([1]), t([2])), 3, 3)
    assert pairs.a1.tolist() == pairs.a2.tolist() == [0]
    with pytest.raises(TypeError, match="indices_tuple must be a tuple"):
        check_indices_tuple(t([0, 1]), 3, 3)
    with pytest.raises(ValueError, match="len\\(anchor1\\) == len\\(positive\\)"):
        check_indices_tuple((t([0]), t([1, 2]), t([0]), t([2])), 3, 3)
    with pytest.raises(
        ValueError, match="indices_tuple anchor entries must be < 3; found the entry 5"
    ):
        check_indices_tuple((t([5]), t([1]), t([2])), 3, 3)
    with pytest.raises(ValueError, match="integer dtype"):
        check_indices_tuple((t([0.0]), t([1]), t([2])), 3, 3)
    keys, order = sort_keys(t([5, 1, 3, 1]))
    assert keys.tolist() == [1, 1, 3, 5]
    assert order.tolist() == [1, 3, 2, 0]
    check_disjoint(t([1, 4]), t([2, 3]), 3)
    with pytest.raises(ValueError, match=r"\(anchor 1, reference 1\) is both"):
        check_disjoint(t([1, 4]), t([2, 4]), 3)


_EMBEDDING_LOSSES = [
    "info_nce",
    "sup_con",
    "multi_similarity",
    "contrastive_margin",
    "triplet_margin",
]
_SCORE_LOSSES = ["link_bce", "link_info_nce", "pairwise_ranking"]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
@pytest.mark.parametrize("name", [*_EMBEDDING_LOSSES, "grace", *_SCORE_LOSSES])
def test_losses_refuse_non_finite_inputs(name: str, bad: float) -> None:
    # Normalised and masked, a NaN row used to come out as a plausible loss (SupCon gave 0).
    import graphpair.losses as losses

    fn = getattr(losses, name)
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(6, 4, generator=gen)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    scores = torch.randn(6, generator=gen)

    def call(z: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if name in _EMBEDDING_LOSSES:
            return fn(z, labels)
        if name == "grace":
            return fn(z, z.flip(0))
        return fn(scores, scores.flip(0))

    assert torch.isfinite(call(z, scores))
    z[1, 2] = bad
    scores[3] = bad
    with pytest.raises(ValueError, match="must be finite; found 1 NaN or infinite"):
        call(z, scores)
