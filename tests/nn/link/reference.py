"""Naive references for the link predictors: Python neighbour sets and per-pair loops."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from graphpair.ops import CSR

# A hand-built 6-node graph: N(0) = {1, 2, 3}, N(1) = {0, 2, 3, 4}, N(2) = {0, 1, 4},
# N(3) = {0, 1, 5}, N(4) = {1, 2, 5}, N(5) = {3, 4}.
EDGES = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (1, 4), (2, 4), (3, 5), (4, 5)]
NUM_NODES = 6
# (0, 1) is an edge (so its neighbour differences hold the other endpoint, quirk Q12),
# (3, 3) is a self pair, the others are non-edges with 1-2 common neighbours.
PAIRS = torch.tensor([[0, 0, 2, 5, 5, 3, 5], [1, 4, 3, 0, 2, 3, 1]])


def edge_index() -> Tensor:
    return torch.tensor(EDGES).t()


def adjacency() -> CSR:
    return CSR.from_edge_index(edge_index(), NUM_NODES)


def neighbor_sets(edges: list[tuple[int, int]], num_nodes: int = NUM_NODES) -> list[set[int]]:
    sets: list[set[int]] = [set() for _ in range(num_nodes)]
    for u, v in edges:
        sets[u].add(v)
        sets[v].add(u)
    return sets


def run_layout(stack: torch.nn.Module, layout: list[str], x: Tensor) -> Tensor:
    """Apply ``layout`` (spec step names) with the stack's Linear/LayerNorm modules, no dropout."""
    modules = iter(stack.layers)  # type: ignore[arg-type]
    for kind in layout:
        if kind in ("lin", "ln"):
            module = next(modules)
            expected = torch.nn.Linear if kind == "lin" else torch.nn.LayerNorm
            assert isinstance(module, expected)
            x = module(x)
        elif kind == "relu":
            x = F.relu(x)
        else:
            assert kind == "do"
    assert next(modules, None) is None
    return x


def run(stack: torch.nn.Module, x: Tensor) -> Tensor:
    return run_layout(stack, list(stack.layout), x)  # type: ignore[arg-type]


def xprime(pred: torch.nn.Module, h: Tensor) -> Tensor:
    return h + run(pred.xlin, h) if pred.xlin is not None else h  # type: ignore[arg-type]


def ncn_logit(pred: torch.nn.Module, h: Tensor, sets: list[set[int]], i: int, j: int) -> Tensor:
    hx = xprime(pred, h)
    z = h.new_zeros(h.size(1))
    for k in sets[i] & sets[j]:
        z = z + hx[k]
    emb = pred.beta * run(pred.cn_mlp, z) + run(pred.ij_mlp, h[i] * h[j])  # type: ignore[arg-type]
    return run(pred.head, emb)[0]  # type: ignore[arg-type]


def completion_probability(pred: torch.nn.Module, s: Tensor, pt: Tensor | float) -> Tensor:
    """The spec's form: p0 = sigmoid(tau (s - mu)), p = alpha pi p0 / (pi p0 + 1 - p0)."""
    p0 = torch.sigmoid(pred.scale * (s - pred.offset))  # type: ignore[operator]
    return pred.alpha * pt * p0 / (pt * p0 + 1 - p0)  # type: ignore[no-any-return,operator]


def ncnc_logit(
    pred: torch.nn.Module,
    h: Tensor,
    sets: list[set[int]],
    i: int,
    j: int,
    depth: int,
    *,
    official: bool = False,
    detach_inner: bool = True,
) -> Tensor:
    """f_depth(i, j) by plain recursion: every completion pair scored where it occurs."""
    if depth == 0:
        return ncn_logit(pred, h, sets, i, j)
    hx = xprime(pred, h)
    inner_h = hx if official else h
    if detach_inner:
        inner_h = inner_h.detach()
    pt: Tensor | float = pred.pt  # type: ignore[assignment]
    if pred.pt_mlp is not None:
        pt = torch.sigmoid(run(pred.pt_mlp, h[i] * h[j])[0])  # type: ignore[arg-type]
    z = h.new_zeros(h.size(1))
    for k in sets[i] & sets[j]:
        z = z + hx[k]
    for anchor, own, other in ((j, i, j), (i, j, i)):
        for k in sorted(sets[own] - sets[other]):
            s = ncnc_logit(pred, inner_h, sets, anchor, k, depth - 1, official=official)
            z = z + completion_probability(pred, s, pt) * hx[k]
    emb = pred.beta * run(pred.cn_mlp, z) + run(pred.ij_mlp, h[i] * h[j])  # type: ignore[arg-type]
    return run(pred.head, emb)[0]  # type: ignore[arg-type]


def permutation_case(seed: int) -> tuple[Tensor, Tensor]:
    """A node permutation ``perm`` (new id of old node v is perm[v]) and its inverse."""
    perm = torch.randperm(NUM_NODES, generator=torch.Generator().manual_seed(seed))
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(NUM_NODES)
    return perm, inverse
