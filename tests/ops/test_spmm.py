from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor

from graphpair.ops import CSR
from graphpair.ops._spmm import (
    csr_matrix,
    entry_neighbor_sum,
    to_sparse_csr,
    weighted_neighbor_sum,
)
from tests.graphs import random_edge_index

pytestmark = pytest.mark.usefixtures("one_thread")


def loop_reference(x: Tensor, edge_index: Tensor, weight: Tensor, num_nodes: int) -> Tensor:
    """``out[dst] += w * x[src]``, one edge at a time."""
    out = torch.zeros(num_nodes, x.size(1), dtype=x.dtype)
    for (s, d), w in zip(edge_index.t().tolist(), weight.tolist(), strict=True):
        out[d] += w * x[s]
    return out


def random_edges(
    num_nodes: int, num_edges: int, seed: int, dtype: torch.dtype = torch.float64
) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, num_nodes, (2, num_edges), generator=g)  # unsorted, repeats
    return edge_index, torch.rand(num_edges, generator=g, dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_a_loop_on_an_unsorted_multigraph(dtype: torch.dtype) -> None:
    edge_index, weight = random_edges(7, 30, seed=0, dtype=dtype)
    x = torch.randn(7, 5, dtype=dtype, generator=torch.Generator().manual_seed(1))
    out = weighted_neighbor_sum(x, edge_index, weight, 9)  # two more targets than sources
    assert out is not None
    assert out.shape == (9, 5)
    torch.testing.assert_close(out, loop_reference(x, edge_index, weight, 9))


def test_sorted_edges_take_the_same_values() -> None:
    edge_index, weight = random_edges(6, 25, seed=2)
    order = torch.argsort(edge_index[0] * 6 + edge_index[1])
    x = torch.randn(6, 3, dtype=torch.float64)
    sorted_out = weighted_neighbor_sum(x, edge_index[:, order], weight[order], 6)
    assert sorted_out is not None
    torch.testing.assert_close(sorted_out, loop_reference(x, edge_index, weight, 6))


def test_gradcheck_float64() -> None:
    edge_index, weight = random_edges(6, 20, seed=3)
    x = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: weighted_neighbor_sum(a, edge_index, weight, 8), x)
    assert torch.autograd.gradgradcheck(
        lambda a: weighted_neighbor_sum(a, edge_index, weight, 8), x
    )


def test_gradient_equals_the_transposed_product() -> None:
    edge_index, weight = random_edges(5, 18, seed=4)
    dense = torch.zeros(5, 5, dtype=torch.float64)
    dense.index_put_((edge_index[1], edge_index[0]), weight, accumulate=True)  # [dst, src]
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    grad = torch.randn(5, 3, dtype=torch.float64)
    out = weighted_neighbor_sum(x, edge_index, weight, 5)
    assert out is not None
    out.backward(grad)
    assert x.grad is not None
    torch.testing.assert_close(x.grad, dense.t() @ grad)


def test_declines_what_it_does_not_cover() -> None:
    edge_index, weight = random_edges(4, 6, seed=5, dtype=torch.float32)
    x = torch.randn(4, 2)
    assert weighted_neighbor_sum(x, edge_index, weight.requires_grad_(), 4) is None
    assert weighted_neighbor_sum(x, edge_index[:, :0], weight[:0].detach(), 4) is None
    assert weighted_neighbor_sum(x.half(), edge_index, weight.detach(), 4) is None
    assert weighted_neighbor_sum(x.view(-1), edge_index, weight.detach(), 4) is None


def test_repeats_bit_for_bit_on_two_threads() -> None:
    edge_index, weight = random_edges(3000, 60_000, seed=6, dtype=torch.float32)
    x = torch.randn(3000, 64, requires_grad=True)
    grad = torch.randn(3000, 64)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        results = []
        for _ in range(3):
            x.grad = None
            out = weighted_neighbor_sum(x, edge_index, weight, 3000)
            assert out is not None
            out.backward(grad)
            assert x.grad is not None
            results.append((out.detach(), x.grad.clone()))
    finally:
        torch.set_num_threads(previous)
    for out, g in results[1:]:
        assert torch.equal(out, results[0][0])
        assert torch.equal(g, results[0][1])


def test_csr_helpers_build_without_warnings() -> None:
    # pytest turns warnings into errors: torch's beta warning must not escape.
    matrix = csr_matrix(torch.tensor([0, 1, 2]), torch.tensor([1, 0]), torch.ones(2), (2, 2))
    torch.testing.assert_close(matrix.to_dense(), torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
    dense = torch.tensor([[0.0, 2.0], [0.0, 0.0]])
    converted = to_sparse_csr(dense)
    assert converted.layout == torch.sparse_csr
    assert to_sparse_csr(converted) is converted
    torch.testing.assert_close(converted.to_dense(), dense)


@settings(max_examples=40, deadline=None)
@given(
    num_nodes=st.integers(1, 12),
    num_edges=st.integers(1, 40),
    dim=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_fuzz_values_and_gradients(num_nodes: int, num_edges: int, dim: int, seed: int) -> None:
    edge_index, weight = random_edges(num_nodes, num_edges, seed)
    x = torch.randn(
        num_nodes, dim, dtype=torch.float64, generator=torch.Generator().manual_seed(seed + 1)
    )
    ours_x = x.clone().requires_grad_()
    ref_x = x.clone().requires_grad_()
    out = weighted_neighbor_sum(ours_x, edge_index, weight, num_nodes)
    assert out is not None
    ref = loop_reference(ref_x, edge_index, weight, num_nodes)
    torch.testing.assert_close(out, ref)
    grad = torch.randn_like(ref)
    out.backward(grad)
    ref.backward(grad)
    assert ours_x.grad is not None
    assert ref_x.grad is not None
    torch.testing.assert_close(ours_x.grad, ref_x.grad)


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_entry_neighbor_sum_matches_a_loop_and_gradchecks(symmetric: bool, seed: int) -> None:
    edge_index = random_edge_index(25, 70, seed)
    adj = CSR.from_edge_index(edge_index, 25, symmetric=symmetric, self_loops=True)
    g = torch.Generator().manual_seed(seed)
    weight = torch.rand(adj.num_edges, generator=g, dtype=torch.float64)
    weight[torch.rand(adj.num_edges, generator=g) < 0.3] = 0.0  # inactive entries
    x = torch.randn(25, 4, generator=g, dtype=torch.float64, requires_grad=True)
    entries = torch.stack([adj.row, adj.col])
    want = loop_reference(x.detach(), entries, weight, 25)
    torch.testing.assert_close(entry_neighbor_sum(x, adj, weight), want)
    assert torch.autograd.gradcheck(lambda a: entry_neighbor_sum(a, adj, weight), x)
    # The gather-scatter path (taken where no CSR product applies) gives the same sums.
    scattered = entry_neighbor_sum(x, adj, weight.clone().requires_grad_())
    torch.testing.assert_close(scattered, want)


def test_entry_neighbor_sum_ignores_the_mask_after_the_forward() -> None:
    # Target link removal ends (the mask is restored) before the backward runs: the product
    # depends only on the weights given.
    adj = CSR.from_edge_index(random_edge_index(12, 30, 0), 12)
    x = torch.randn(12, 3, dtype=torch.float64, requires_grad=True)
    with adj.masked(adj.to_edge_index()[:, :4]):
        weight = adj.mask.double()
        out = entry_neighbor_sum(x, adj, weight)
    (grad,) = torch.autograd.grad(out.sum(), x)
    entries = torch.stack([adj.row, adj.col])
    x_ref = x.detach().requires_grad_()
    (want,) = torch.autograd.grad(loop_reference(x_ref, entries, weight, 12).sum(), x_ref)
    torch.testing.assert_close(grad, want)
