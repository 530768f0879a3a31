"""GRIT's pair kernels: the element-wise work of :class:`GRITConv` over the ``S`` pairs.

Pure functions of tensors for the forward and backward passes of the pair attention (the
gated signed square root and the logits, and the weighted messages). The layer's autograd
function runs them either as they are (eager PyTorch) or compiled into fused loops by
torch.compile (``fused=True``): the same code either way. The backward kernels recompute the
cheap intermediates (the gathered query + key, |u|, the biased gate) from the node tensors
instead of keeping them: free inside a fused loop, a few passes in eager mode, and fewer
``[S, D]`` tensors kept per layer in both.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import Tensor

__all__ = ["EAGER", "Kernels", "detached", "fused_kernels", "signed_sqrt_grad"]


def signed_sqrt_grad(grad: Tensor, root2: Tensor) -> Tensor:
    """``grad / (2 sqrt|u|)``, and 0 where ``u = 0``: the value the relu form
    ``sqrt(relu(u)) - sqrt(relu(-u))`` gets from relu's zero subgradient (where
    ``sign(u) * sqrt(|u|)`` through autograd gives NaN)."""
    out = grad / root2
    return out.masked_fill_(root2 == 0, 0.0)


def _score_forward(
    key: Tensor,
    query: Tensor,
    edge: Tensor,
    bias: Tensor,
    att: Tensor,
    src: Tensor,
    dst: Tensor,
) -> tuple[Tensor, Tensor]:
    """ê = relu(ρ((K[src] + Q[dst]) ⊙ E_w) + E_b) ``[S, D]`` and its per-head logits
    ``<ê_h, a_h>`` ``[S, H]``; ``edge`` is ``W_E e`` without its bias."""
    d = key.size(1)
    heads = att.size(0)
    u = key[src].add_(query[dst]).mul_(edge[:, :d] + bias[:d])  # [S, D]
    pair = u.abs().sqrt_().copysign_(u).add_(edge[:, d:]).add_(bias[d:]).relu_()
    logits = (pair.view(-1, heads, d // heads) * att).sum(-1)  # [S, H]
    return pair, logits


def _score_backward(
    grad_pair: Tensor | None,
    grad_message: Tensor | None,
    grad_logits: Tensor,
    key: Tensor,
    query: Tensor,
    edge: Tensor,
    bias: Tensor,
    att: Tensor,
    pair: Tensor,
    src: Tensor,
    dst: Tensor,
    src_rank: Tensor,
) -> tuple[Tensor, Tensor, Tensor]:
    """Gradients of ``W_E e`` ``[S, 2D]`` and of the pre-gate sum K[src] + Q[dst] ``[S, D]``,
    the latter also in source order (row ``src_rank[p]`` for pair p), from ê's three uses:
    the pair output (``grad_pair``), the aggregation (``grad_message``) and the logits."""
    d = key.size(1)
    grad = (grad_logits.unsqueeze(-1) * att).view(-1, d)  # through the logits
    if grad_message is not None:
        grad = grad + grad_message
    if grad_pair is not None:
        grad = grad + grad_pair
    gate = edge[:, :d] + bias[:d]
    score = key[src].add_(query[dst])  # [S, D]
    root2 = (score * gate).abs_().sqrt_().mul_(2.0)  # 2 sqrt|u|
    grad_shift = torch.where(pair > 0, grad, 0.0)  # through the ReLU
    grad_u = signed_sqrt_grad(grad_shift, root2)  # 0 at u = 0, as the relu form
    grad_edge = torch.cat([grad_u * score, grad_shift], dim=1)
    grad_score = grad_u.mul_(gate)
    by_source = torch.empty_like(grad_score)
    by_source[src_rank] = grad_score
    return grad_edge, grad_score, by_source


def _message_forward(alpha: Tensor, value: Tensor, pair: Tensor | None, src: Tensor) -> Tensor:
    """Messages ``α ⊙ [V[src] | ê]`` ``[S, 2D]`` (``[S, D]`` without ê), each head's weight
    broadcast over its channels."""
    num_pairs, heads = alpha.shape
    d = value.size(1)  # explicit sizes: with no pairs (S = 0) a -1 in view() is ambiguous
    weight = alpha.unsqueeze(-1)  # [S, H, 1]
    message = (value[src].view(num_pairs, heads, d // heads) * weight).view(num_pairs, d)
    if pair is None:
        return message
    weighted = (pair.view(num_pairs, heads, d // heads) * weight).view(num_pairs, d)
    return torch.cat([message, weighted], dim=1)


def _message_backward(
    grad_out: Tensor,
    alpha: Tensor,
    value: Tensor,
    pair: Tensor | None,
    src: Tensor,
    dst: Tensor,
    src_perm: Tensor,
    dst_by_src: Tensor,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Gradients of α ``[S, H]``, of the value rows in source order ``[S, D]`` (to be summed
    per source) and of ê ``[S, D]``, from the gradient of the per-target sums ``[N, 2D]``."""
    num_pairs, heads = alpha.shape
    d = value.size(1)
    grad_msg = grad_out[dst]  # [S, 2D] or [S, D]
    grad_weight = grad_msg[:, :d] * value[src]
    grad_pair = None
    if pair is not None:
        grad_weight = grad_weight + grad_msg[:, d:] * pair
        scaled = grad_msg[:, d:].reshape(num_pairs, heads, d // heads) * alpha.unsqueeze(-1)
        grad_pair = scaled.view(num_pairs, d)
    grad_alpha = grad_weight.view(num_pairs, heads, d // heads).sum(-1)
    by_source = grad_out[dst_by_src, :d].reshape(num_pairs, heads, d // heads)
    by_source = by_source * alpha[src_perm].unsqueeze(-1)
    return grad_alpha, by_source.view(num_pairs, d), grad_pair


class Kernels(NamedTuple):
    """The four kernels above, eager or compiled (same signatures and results)."""

    score_forward: Callable[..., Any]
    score_backward: Callable[..., Any]
    message_forward: Callable[..., Any]
    message_backward: Callable[..., Any]


EAGER = Kernels(_score_forward, _score_backward, _message_forward, _message_backward)


@functools.cache
def fused_kernels() -> Kernels:
    """The kernels compiled by torch.compile (inductor), once per process. With its automatic
    dynamic shapes the first call specialises on the sizes and the first call with other pair
    and node counts recompiles with those dynamic; the widths D and H stay constants, which
    keeps the loops vectorised (marking every size dynamic made them 3x slower)."""
    return Kernels(*(torch.compile(kernel) for kernel in EAGER))


def detached(*tensors: Tensor | None) -> tuple[Any, ...]:
    """The kernels' inputs as plain tensors (views without autograd history), so that a
    compiled kernel never inspects autograd state."""
    return tuple(t.detach() if t is not None else None for t in tensors)
