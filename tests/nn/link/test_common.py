from __future__ import annotations

import pytest
import torch

import graphpair.nn.link._common as common
from graphpair.nn.link._common import pair_sum
from graphpair.ops import PairNodeSet


def _loop_sum(x: torch.Tensor, pair: torch.Tensor, node: torch.Tensor, w: torch.Tensor, p: int):
    out = torch.zeros(p, x.size(1), dtype=x.dtype)
    for a, b, c in zip(pair.tolist(), node.tolist(), w.tolist(), strict=True):
        out[a] += c * x[b]
    return out


@pytest.mark.parametrize("block_members", [1, 5, 13, 10_000])
def test_pair_sum_in_blocks_equals_a_loop_with_gradients(
    block_members: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(30, 6, dtype=torch.float64, generator=gen, requires_grad=True)
    num_pairs = 25  # some pairs, at both ends too, have no member
    pair = torch.sort(torch.randint(2, 22, (120,), generator=gen))[0]
    node = torch.randint(0, 30, (120,), generator=gen)
    weight = torch.rand(120, dtype=torch.float64, generator=gen)
    monkeypatch.setattr(common, "PAIR_SUM_BLOCK_BYTES", block_members * 6 * 8)
    out = pair_sum(x, PairNodeSet(pair, node), num_pairs, weight)
    expected = _loop_sum(x.detach(), pair, node, weight, num_pairs)
    assert torch.allclose(out, expected)
    (grad,) = torch.autograd.grad(out.pow(2).sum(), x)
    (expected_grad,) = torch.autograd.grad(
        _loop_sum(x, pair, node, weight, num_pairs).pow(2).sum(), x
    )
    assert torch.allclose(grad, expected_grad)


def test_pair_sum_of_no_members_is_zero() -> None:
    x = torch.randn(4, 3)
    empty = torch.zeros(0, dtype=torch.long)
    assert torch.equal(pair_sum(x, PairNodeSet(empty, empty), 5), torch.zeros(5, 3))
