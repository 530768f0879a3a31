from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from graphpair.data._heuristic_scores import HEART_SCORE_BITS, heuristic_scores
from tests.graphs import graphs

# ---------------------------------------------------------------- dense numpy reference


def dense_adjacency(edge_index: torch.Tensor, num_nodes: int) -> np.ndarray:
    adj = np.zeros((num_nodes, num_nodes))
    for u, v in edge_index.t().tolist():
        if u != v:
            adj[u, v] = adj[v, u] = 1.0
    return adj


def reference_scores(
    adj: np.ndarray,
    name: str,
    x: np.ndarray | None = None,
    alpha: float = 0.15,
    steps: int = 20,
) -> np.ndarray:
    """All-pairs scores ``[N, N]`` straight from the definitions."""
    deg = adj.sum(1)
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    if name == "cn":
        return adj @ adj
    if name == "ra":
        return adj @ np.diag(inv) @ adj
    if name == "ppr":
        walk = np.diag(inv) @ adj  # P = D^-1 A
        power = np.eye(len(adj))
        total = np.zeros_like(adj)
        for t in range(steps + 1):
            total += (1 - alpha) ** t * power
            power = power @ walk
        return alpha * total
    assert x is not None
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    unit = np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
    return np.clip(unit @ unit.T, 0.0, None)


def round_bits(values: np.ndarray, bits: int = HEART_SCORE_BITS) -> np.ndarray:
    mantissa, exponent = np.frexp(values)
    return np.ldexp(np.round(mantissa * 2.0**bits), exponent - bits)


# ---------------------------------------------------------------- heuristics


@pytest.mark.parametrize("name", ["cn", "ra", "ppr", "cosine"])
@given(graph=graphs(max_nodes=12, max_edges=40), data=st.data())
def test_heuristic_scores_match_dense_reference(
    name: str, graph: tuple[torch.Tensor, int], data: st.DataObject
) -> None:
    edge_index, num_nodes = graph
    nodes = torch.tensor(
        data.draw(st.lists(st.integers(0, num_nodes - 1), min_size=1, max_size=5)),
        dtype=torch.long,
    )
    steps = data.draw(st.integers(1, 12))
    x = torch.randn(num_nodes, 3, generator=torch.Generator().manual_seed(num_nodes))
    x[0] = 0.0  # a node without features
    got = heuristic_scores(edge_index, num_nodes, nodes, name, x=x, ppr_steps=steps)
    expected = reference_scores(
        dense_adjacency(edge_index, num_nodes), name, x.double().numpy(), steps=steps
    )[nodes.numpy()]
    assert got.dtype == torch.float64
    assert got.shape == (nodes.numel(), num_nodes)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-9, atol=1e-12)


def test_resource_allocation_by_hand() -> None:
    # Path 0-1-2 plus 0-2, and 2-3: RA(0, 3) = 1/deg(2) = 1/3, RA(1, 3) = 1/3, RA(0, 1) = 1/3.
    edge_index = torch.tensor([[0, 1, 0, 2], [1, 2, 2, 3]])
    got = heuristic_scores(edge_index, 4, torch.tensor([0, 1]), "ra")
    third = 1 / 3
    expected = torch.tensor([[0.5 + third, third, 0.5, third], [third, 0.5 + third, 0.5, third]])
    torch.testing.assert_close(got, expected.double())
