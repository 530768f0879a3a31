from __future__ import annotations

import pytest
import torch
from torch import Tensor

from graphpair.nn.conv import PairLayout, pair_layout
from graphpair.nn.conv._grit_kernels import EAGER, detached, signed_sqrt_grad
from tests.nn.conv.test_grit_conv import (  # noqa: F401 - single_thread is an autouse fixture
    graph_pairs,
    relu_signed_sqrt,
    single_thread,
)

# The hand-written backward kernels against autograd through a plain transcription of the
# forward ones (the kernels themselves work in place, which autograd cannot go through).


def _layout(num_nodes: int, seed: int) -> PairLayout:
    pair_index, _ = graph_pairs(num_nodes, seed, full=False)  # sorted by target
    return pair_layout(pair_index, num_nodes)


def _randn(gen: torch.Generator, *shape: int) -> Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


@pytest.mark.parametrize("heads", [1, 2])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_score_kernels_match_autograd(heads: int, seed: int) -> None:
    num_nodes, d = 5, 4
    layout = _layout(num_nodes, seed)
    src, dst, s = layout.src, layout.dst, layout.src.numel()
    gen = torch.Generator().manual_seed(seed)
    key, query = _randn(gen, num_nodes, d), _randn(gen, num_nodes, d)
    edge, bias = _randn(gen, s, 2 * d).requires_grad_(), _randn(gen, 2 * d)
    att = _randn(gen, heads, d // heads)
    grad_pair, grad_message, grad_logits = (
        _randn(gen, s, d),
        _randn(gen, s, d),
        _randn(gen, s, heads),
    )

    score = (key[src] + query[dst]).requires_grad_()  # [S, D]
    gated = relu_signed_sqrt(score * (edge[:, :d] + bias[:d]))
    expected_pair = torch.relu(gated + edge[:, d:] + bias[d:])
    expected_logits = (expected_pair.view(s, heads, d // heads) * att).sum(-1)  # [S, H]
    pair, logits = EAGER.score_forward(key, query, edge.detach(), bias, att, src, dst)
    torch.testing.assert_close(pair, expected_pair.detach())
    torch.testing.assert_close(logits, expected_logits.detach())

    # ê feeds the pair output and the messages, the logits feed the softmax.
    loss = ((grad_pair + grad_message) * expected_pair).sum() + (
        grad_logits * expected_logits
    ).sum()
    expected_edge, expected_score = torch.autograd.grad(loss, [edge, score])
    grad_edge, grad_score, by_source = EAGER.score_backward(
        grad_pair,
        grad_message,
        grad_logits,
        key,
        query,
        edge.detach(),
        bias,
        att,
        pair,
        src,
        dst,
        layout.src_rank,
    )
    torch.testing.assert_close(grad_edge, expected_edge)
    torch.testing.assert_close(grad_score, expected_score)
    torch.testing.assert_close(by_source, expected_score[layout.src_perm])  # source order


@pytest.mark.parametrize("edge_enhance", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_message_kernels_match_autograd(edge_enhance: bool, seed: int) -> None:
    num_nodes, d, heads = 5, 4, 2
    layout = _layout(num_nodes, seed)
    src, dst, s = layout.src, layout.dst, layout.src.numel()
    gen = torch.Generator().manual_seed(seed)
    alpha = torch.rand(s, heads, generator=gen, dtype=torch.float64).requires_grad_()
    value = _randn(gen, num_nodes, d).requires_grad_()
    pair = _randn(gen, s, d).requires_grad_() if edge_enhance else None
    width = 2 * d if edge_enhance else d
    grad_out = _randn(gen, num_nodes, width)

    weight = alpha.repeat_interleave(d // heads, dim=1)  # [S, D]: each head over its channels
    parts = [value[src] * weight] + ([pair * weight] if pair is not None else [])
    expected = torch.cat(parts, dim=1)  # [S, 2D] or [S, D]
    message = EAGER.message_forward(alpha.detach(), value.detach(), detached(pair)[0], src)
    torch.testing.assert_close(message, expected.detach())

    sums = torch.zeros(num_nodes, width, dtype=torch.float64).index_add(0, dst, expected)
    inputs = [alpha, value] + ([pair] if pair is not None else [])
    grads = torch.autograd.grad((grad_out * sums).sum(), inputs)
    grad_alpha, by_source, grad_pair = EAGER.message_backward(
        grad_out,
        alpha.detach(),
        value.detach(),
        detached(pair)[0],
        src,
        dst,
        layout.src_perm,
        layout.dst_by_src,
    )
    torch.testing.assert_close(grad_alpha, grads[0])
    per_source = torch.zeros(num_nodes, d, dtype=torch.float64)
    per_source.index_add_(0, src[layout.src_perm], by_source)  # rows come in source order
    torch.testing.assert_close(per_source, grads[1])
    if pair is None:
        assert grad_pair is None
    else:
        torch.testing.assert_close(grad_pair, grads[2])


def test_signed_sqrt_grad_is_zero_at_zero_and_detached_keeps_none() -> None:
    u = torch.tensor([-4.0, 0.0, 9.0])
    root2 = 2 * u.abs().sqrt()
    grad = signed_sqrt_grad(torch.ones(3), root2)
    torch.testing.assert_close(grad, torch.tensor([0.25, 0.0, 1 / 6]))
    x = torch.ones(2, requires_grad=True)
    plain, missing = detached(x * 2, None)
    assert not plain.requires_grad
    assert missing is None
