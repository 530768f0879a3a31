"""Random test graphs with the awkward cases built in, and hypothesis strategies for them."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st
from torch import Tensor


def global_rng_states() -> tuple[Any, ...]:
    """Python, numpy and torch global RNG states (a seeded generator must leave them alone)."""
    numpy_state = np.random.get_state(legacy=False)  # noqa: NPY002 - the global state is the subject
    return (
        random.getstate(),
        numpy_state["state"]["key"].tolist(),
        numpy_state["state"]["pos"],
        torch.get_rng_state().tolist(),
    )


def random_edge_index(
    num_nodes: int,
    num_edges: int,
    seed: int,
    *,
    isolated: int = 2,
    duplicates: int = 3,
    self_loops: int = 2,
) -> Tensor:
    """Directed random edges among the first ``num_nodes - isolated`` nodes (so the last
    ``isolated`` nodes have no edges), plus repeated edges and self loops."""
    gen = torch.Generator().manual_seed(seed)
    active = max(1, num_nodes - isolated)
    edges = torch.randint(0, active, (2, num_edges), generator=gen)
    parts = [edges]
    if duplicates and num_edges:
        parts.append(edges[:, torch.randint(0, num_edges, (duplicates,), generator=gen)])
    if self_loops:
        loops = torch.randint(0, active, (self_loops,), generator=gen)
        parts.append(torch.stack([loops, loops]))
    return torch.cat(parts, dim=1)


def neighbor_sets(
    edge_index: Tensor, num_nodes: int, *, symmetric: bool, self_loops: bool
) -> list[set[int]]:
    """Plain Python neighbour sets: the naive reference for CSR-based ops."""
    sets: list[set[int]] = [set() for _ in range(num_nodes)]
    for u, v in edge_index.t().tolist():
        if u == v and not self_loops:
            continue
        sets[u].add(v)
        if symmetric:
            sets[v].add(u)
    return sets


@st.composite
def graphs(draw: st.DrawFn, max_nodes: int = 12, max_edges: int = 40) -> tuple[Tensor, int]:
    """A ``(edge_index, num_nodes)`` pair: any directed multigraph, self loops allowed."""
    num_nodes = draw(st.integers(1, max_nodes))
    num_edges = draw(st.integers(0, max_edges))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, num_nodes - 1), st.integers(0, num_nodes - 1)),
            min_size=num_edges,
            max_size=num_edges,
        )
    )
    edge_index = torch.tensor(pairs, dtype=torch.long).t().reshape(2, -1)
    return edge_index, num_nodes


@st.composite
def node_pairs(draw: st.DrawFn, num_nodes: int, max_pairs: int = 20) -> Tensor:
    """A ``[2, P]`` tensor of node pairs (repeats and ``(i, i)`` allowed)."""
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, num_nodes - 1), st.integers(0, num_nodes - 1)),
            max_size=max_pairs,
        )
    )
    return torch.tensor(pairs, dtype=torch.long).t().reshape(2, -1)
