"""CSL generator: the published layout, 4-regularity, isomorphism classes, the real files."""

from __future__ import annotations

import functools
from collections import defaultdict
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from graphpair.data._csl import CSL_SKIPS, csl_graph, csl_graphs
from tests.graphs import global_rng_states

N = 41


@pytest.fixture(scope="module")
def graphs() -> list[Data]:
    return csl_graphs()


def _nx(edge_index: torch.Tensor, num_nodes: int = N) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(num_nodes))
    g.add_edges_from(edge_index.t().tolist())
    return g


def _spectrum(g: nx.Graph) -> np.ndarray:
    return np.linalg.eigvalsh(nx.to_numpy_array(g, nodelist=range(N)))


def _skip_of(edges: list[tuple[int, int]], num_nodes: int = N) -> set[int]:
    """The distances ``min(|u - v|, n - |u - v|)`` on the cycle order: {1, R} for G(n, R)."""
    return {min((v - u) % num_nodes, (u - v) % num_nodes) for u, v in edges}


def test_published_layout(graphs: list[Data]) -> None:
    assert len(graphs) == 150
    labels = torch.cat([g.y for g in graphs])
    assert torch.equal(labels, torch.arange(10).repeat_interleave(15))
    for g in graphs:
        assert g.num_nodes == N
        assert g.edge_index.shape == (2, 164)  # 82 undirected edges, both directions
        row, col = g.edge_index
        assert not bool((row == col).any())
        key = row * N + col
        assert bool((key[1:] > key[:-1]).all())  # sorted, no repeats
        assert torch.equal(torch.sort(col * N + row).values, key)  # symmetric
        assert torch.equal(torch.bincount(row, minlength=N), torch.full((N,), 4))  # 4-regular


def test_first_graph_of_each_class_in_cycle_order(graphs: list[Data]) -> None:
    for label, skip in enumerate(CSL_SKIPS):
        edges = graphs[15 * label].edge_index.t().tolist()
        assert _skip_of(edges) == {1, skip}


def test_class_members_are_relabellings_of_each_other(graphs: list[Data]) -> None:
    for label in range(10):
        base = _nx(graphs[15 * label].edge_index)
        members = [graphs[15 * label + k].edge_index for k in range(1, 15)]
        assert all(nx.vf2pp_is_isomorphic(base, _nx(m)) for m in members)
        # Relabelled, not copied: the members differ as labelled graphs.
        assert len({tuple(m.flatten().tolist()) for m in members}) == 14


def test_classes_are_pairwise_non_isomorphic(graphs: list[Data]) -> None:
    # Different adjacency spectra prove non-isomorphism (all classes are 4-regular, so 1-WL
    # cannot tell them apart).
    spectra = [_spectrum(_nx(graphs[15 * label].edge_index)) for label in range(10)]
    for a in range(10):
        for b in range(a + 1, 10):
            assert np.abs(spectra[a] - spectra[b]).max() > 1e-6, (a, b)


def test_deterministic_by_seed_and_global_rng_untouched() -> None:
    torch.manual_seed(5)
    before = global_rng_states()
    a, b, c = csl_graphs(seed=3), csl_graphs(seed=3), csl_graphs(seed=4)
    after = global_rng_states()
    assert after == before
    assert all(torch.equal(x.edge_index, y.edge_index) for x, y in zip(a, b, strict=True))
    assert (
        sum(not torch.equal(x.edge_index, y.edge_index) for x, y in zip(a, c, strict=True)) == 140
    )


def test_other_sizes_and_skips() -> None:
    graphs = csl_graphs(num_nodes=11, skips=(2, 3), graphs_per_class=4)
    assert len(graphs) == 8
    assert [int(g.y) for g in graphs] == [0] * 4 + [1] * 4
    assert all(int(torch.bincount(g.edge_index[0]).max()) == 4 for g in graphs)


def test_csl_graph_relabelling() -> None:
    perm = torch.tensor([4, 0, 1, 2, 3])
    plain, moved = csl_graph(5, 2), csl_graph(5, 2, perm)
    assert {(int(perm[u]), int(perm[v])) for u, v in plain.t().tolist()} == {
        (u, v) for u, v in moved.t().tolist()
    }


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seed": -2}, "seed must be >= 0; got -2"),
        ({"num_nodes": 4}, "num_nodes must be >= 5; got 4"),
        ({"skips": (2, 1)}, r"skips\[1\] must be >= 2; got 1"),
        ({"skips": (2, 25)}, r"skips\[1\] must be below num_nodes / 2 = 20.5 .* got 25"),
        ({"num_nodes": 10, "skips": (5,)}, r"skips\[0\] must be below num_nodes / 2 = 5.0"),
        ({"skips": (3, 3)}, r"skips must be distinct; got \[3, 3\]"),
        ({"skips": ()}, r"skips must be a non-empty sequence of ints; got \(\)"),
        ({"graphs_per_class": 0}, "graphs_per_class must be >= 1; got 0"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        csl_graphs(**kwargs)


def test_bad_permutation() -> None:
    with pytest.raises(ValueError, match=r"perm must be a permutation of range\(5\)"):
        csl_graph(5, 2, torch.tensor([0, 0, 1, 2, 3]))


# ------------------------------------------------------------------------ the published files


@functools.lru_cache(maxsize=2)
def _read_real(folder: Path) -> tuple[dict[int, list[tuple[int, int]]], dict[int, int]]:
    edges: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for line in (folder / "CSL_Edges.txt").read_text().splitlines():
        if line.strip():
            g, u, v, _ = (int(t) for t in line.split())
            edges[g].append((u, v))
    labels = {}
    for line in (folder / "CSL_Labels.txt").read_text().splitlines():
        if line.strip():
            g, y = (int(t) for t in line.split())
            labels[g] = y
    return edges, labels


RealCSL = tuple[dict[int, list[tuple[int, int]]], dict[int, int]]


@pytest.fixture
def real_csl(shared_data: Path) -> RealCSL:
    folder = shared_data / "csl"
    if not (folder / "CSL_Edges.txt").is_file() or not (folder / "CSL_Labels.txt").is_file():
        pytest.skip(f"CSL text files not found in {folder}")
    return _read_real(folder)


@pytest.mark.data
def test_real_files_label_to_skip_mapping_matches(
    real_csl: RealCSL,
) -> None:
    edges, labels = real_csl
    assert sorted(labels) == list(range(150))
    assert [labels[g] for g in range(150)] == [g // 15 for g in range(150)]
    # In the files, the first graph of each class is in cycle order: its distances are {1, R}.
    for label, skip in enumerate(CSL_SKIPS):
        assert _skip_of(edges[15 * label]) == {1, skip}


@pytest.mark.data
def test_every_real_graph_is_isomorphic_to_its_generated_class(
    graphs: list[Data], real_csl: RealCSL
) -> None:
    edges, labels = real_csl
    generated = [_nx(graphs[15 * label].edge_index) for label in range(10)]
    spectra = [_spectrum(g) for g in generated]
    for g in range(150):
        real = nx.Graph()
        real.add_nodes_from(range(N))
        real.add_edges_from(edges[g])
        assert real.number_of_edges() == 82
        label = labels[g]
        assert nx.vf2pp_is_isomorphic(real, generated[label]), g
        # ... and to no other class (spectra differ from every other class).
        spectrum = _spectrum(real)
        close = [k for k in range(10) if np.abs(spectra[k] - spectrum).max() < 1e-6]
        assert close == [label], g
