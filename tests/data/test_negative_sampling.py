from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import graphpair.data._negative_sampling as ns
from graphpair.data._negative_sampling import negative_sampling, sampling_method
from tests.graphs import graphs, node_pairs, random_edge_index

METHODS = ["reject", "enumerate"]

Pair = tuple[int, int]


def non_edges(
    edge_index: torch.Tensor, num_nodes: int, *, directed: bool, exclude: torch.Tensor | None = None
) -> set[Pair]:
    """Naive reference: every pair that is neither an edge, an excluded pair nor a self loop."""
    forbidden: set[Pair] = set()
    for pairs in (edge_index, exclude):
        if pairs is None:
            continue
        for u, v in pairs.t().tolist():
            forbidden.add((u, v) if directed else (min(u, v), max(u, v)))
    return {
        (i, j)
        for i in range(num_nodes)
        for j in range(num_nodes)
        if i != j and (directed or i < j) and (i, j) not in forbidden
    }


def as_pairs(neg: torch.Tensor) -> list[Pair]:
    return [(u, v) for u, v in neg.t().tolist()]


@contextmanager
def forced(method: str) -> Iterator[None]:
    """Make negative_sampling take ``method`` whatever its rule says."""
    with mock.patch.object(ns, "sampling_method", return_value=method):
        yield


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("method", METHODS)
@given(
    graph=graphs(max_nodes=9, max_edges=40),
    directed=st.booleans(),
    replacement=st.booleans(),
    num_samples=st.integers(0, 40),
    seed=st.integers(0, 2**31),
    data=st.data(),
)
def test_matches_set_reference(
    method: str,
    graph: tuple[torch.Tensor, int],
    directed: bool,
    replacement: bool,
    num_samples: int,
    seed: int,
    data: st.DataObject,
) -> None:
    edge_index, num_nodes = graph
    exclude = data.draw(node_pairs(num_nodes, max_pairs=6))
    reference = non_edges(edge_index, num_nodes, directed=directed, exclude=exclude)
    kwargs = {"directed": directed, "replacement": replacement, "exclude": exclude}
    with forced(method):
        if num_samples > 0 and not reference:
            with pytest.raises(ValueError, match="complete"):
                negative_sampling(edge_index, num_nodes, num_samples, generator=gen(seed), **kwargs)
            return
        if not replacement and num_samples > len(reference):
            with pytest.raises(ValueError, match=f"num_samples={num_samples} exceeds the"):
                negative_sampling(edge_index, num_nodes, num_samples, generator=gen(seed), **kwargs)
            return
        neg = negative_sampling(edge_index, num_nodes, num_samples, generator=gen(seed), **kwargs)
    assert neg.dtype == torch.long
    assert neg.shape == (2, num_samples)
    pairs = as_pairs(neg)
    assert set(pairs) <= reference
    if not replacement:
        assert len(set(pairs)) == num_samples
    if not directed:
        assert all(u < v for u, v in pairs)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("directed", [False, True])
def test_asking_for_every_non_edge_returns_each_once(method: str, directed: bool) -> None:
    edge_index = random_edge_index(12, 40, seed=3)
    reference = non_edges(edge_index, 12, directed=directed)
    with forced(method):
        neg = negative_sampling(edge_index, 12, len(reference), directed=directed, generator=gen(0))
    pairs = as_pairs(neg)
    assert len(pairs) == len(reference)
    assert set(pairs) == reference


@pytest.mark.parametrize("method", METHODS)
def test_directed_pairs_are_excluded_only_as_given(method: str) -> None:
    # Every pair (i, j) with i < j is an edge: the directed non-edges are the reversed pairs,
    # and undirected there is nothing left.
    num_nodes = 6
    upper = torch.triu_indices(num_nodes, num_nodes, offset=1)
    with forced(method):
        neg = negative_sampling(upper, num_nodes, 15, directed=True, generator=gen(1))
        assert set(as_pairs(neg)) == {(j, i) for i, j in upper.t().tolist()}
        with pytest.raises(ValueError, match="complete"):
            negative_sampling(upper, num_nodes, 1, generator=gen(1))


@pytest.mark.parametrize("method", METHODS)
def test_either_direction_of_an_edge_or_exclusion_blocks_the_undirected_pair(method: str) -> None:
    edge_index = torch.tensor([[3], [1]])
    exclude = torch.tensor([[4], [0]])
    everything_und = non_edges(torch.empty(2, 0, dtype=torch.long), 5, directed=False)
    with forced(method):
        und = negative_sampling(edge_index, 5, 8, exclude=exclude, generator=gen(2))
        dire = negative_sampling(
            edge_index, 5, 18, directed=True, exclude=exclude, generator=gen(2)
        )
    assert set(as_pairs(und)) == everything_und - {(1, 3), (0, 4)}
    assert (1, 3) in as_pairs(dire)
    assert (3, 1) not in as_pairs(dire)
    assert (0, 4) in as_pairs(dire)
    assert (4, 0) not in as_pairs(dire)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("replacement", [False, True])
def test_same_generator_state_same_pairs_and_global_rng_untouched(
    method: str, replacement: bool
) -> None:
    edge_index = random_edge_index(50, 300, seed=0)
    state = torch.get_rng_state()
    with forced(method):
        a = negative_sampling(edge_index, 50, 200, replacement=replacement, generator=gen(7))
        b = negative_sampling(edge_index, 50, 200, replacement=replacement, generator=gen(7))
        c = negative_sampling(edge_index, 50, 200, replacement=replacement, generator=gen(8))
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_without_generator_uses_torch_default_generator() -> None:
    edge_index = random_edge_index(30, 100, seed=0)
    torch.manual_seed(123)
    a = negative_sampling(edge_index, 30, 50)
    torch.manual_seed(123)
    b = negative_sampling(edge_index, 30, 50)
    assert torch.equal(a, b)


@pytest.mark.parametrize("method", METHODS)
def test_many_small_rounds_still_give_distinct_non_edges(method: str) -> None:
    edge_index = random_edge_index(40, 400, seed=5)
    reference = non_edges(edge_index, 40, directed=False)
    with mock.patch.object(ns, "NEGATIVE_SAMPLING_ROUND_MAX", 7), forced(method):
        neg = negative_sampling(edge_index, 40, len(reference) - 3, generator=gen(0))
    pairs = as_pairs(neg)
    assert len(set(pairs)) == len(pairs) == len(reference) - 3
    assert set(pairs) <= reference


def test_sample_order_is_random_not_sorted() -> None:
    # The NCN split takes the first n_v negatives for validation: they must not be the
    # smallest keys.
    neg = negative_sampling(torch.empty(2, 0, dtype=torch.long), 100, 500, generator=gen(0))
    keys = neg[0] * 100 + neg[1]
    assert not bool((keys[1:] >= keys[:-1]).all())


@pytest.mark.parametrize("method", METHODS)
def test_draws_with_replacement_are_uniform_over_non_edges(method: str) -> None:
    edge_index = torch.tensor([[0, 1, 2, 2, 5], [1, 2, 0, 4, 6]])
    reference = non_edges(edge_index, 7, directed=False)  # 16 pairs
    draws = 32_000
    with forced(method):
        neg = negative_sampling(edge_index, 7, draws, replacement=True, generator=gen(11))
    counts = Counter(as_pairs(neg))
    expected = draws / len(reference)  # 2,000 each; binomial sd ~ 43
    assert set(counts) == reference
    assert all(abs(c - expected) < 0.12 * expected for c in counts.values()), counts


@pytest.mark.parametrize("method", METHODS)
def test_distinct_samples_are_uniform_subsets_in_random_order(method: str) -> None:
    edge_index = torch.tensor([[0, 1, 3], [1, 2, 4]])
    reference = sorted(non_edges(edge_index, 6, directed=True))  # 27 ordered pairs
    generator = gen(3)
    included: Counter[Pair] = Counter()
    first: Counter[Pair] = Counter()
    calls = 1_350
    with forced(method):
        for _ in range(calls):
            pairs = as_pairs(
                negative_sampling(edge_index, 6, 5, directed=True, generator=generator)
            )
            included.update(pairs)
            first[pairs[0]] += 1
    inclusion = calls * 5 / len(reference)  # 250 each; sd ~ 14
    position = calls / len(reference)  # 50 each; sd ~ 7
    assert set(included) == set(reference)
    assert all(abs(c - inclusion) < 0.25 * inclusion for c in included.values()), included
    assert all(abs(first[p] - position) < 0.6 * position for p in reference), first


def test_error_when_more_samples_than_non_edges() -> None:
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 3]])  # 4 nodes, 3 of the 6 pairs
    with pytest.raises(
        ValueError, match=r"num_samples=4 exceeds the 3 non-edges of a graph with num_nodes=4"
    ):
        negative_sampling(edge_index, 4, 4, generator=gen(0))
    # With replacement any count of a non-empty complement is fine.
    assert negative_sampling(edge_index, 4, 40, replacement=True, generator=gen(0)).shape == (2, 40)


@pytest.mark.parametrize("replacement", [False, True])
@pytest.mark.parametrize("directed", [False, True])
def test_error_on_complete_graph(replacement: bool, directed: bool) -> None:
    complete = torch.tensor([[i, j] for i in range(5) for j in range(5) if i != j]).t()
    with pytest.raises(ValueError, match=r"the graph is complete"):
        negative_sampling(
            complete, 5, 1, directed=directed, replacement=replacement, generator=gen(0)
        )
    with pytest.raises(ValueError, match=r"the graph is complete"):
        negative_sampling(torch.empty(2, 0, dtype=torch.long), 1, 1, replacement=replacement)
    empty = negative_sampling(complete, 5, 0, directed=directed, replacement=replacement)
    assert empty.shape == (2, 0)
    assert empty.dtype == torch.long


def test_invalid_arguments_name_the_argument() -> None:
    edge_index = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match=r"num_samples must be >= 0; got -1"):
        negative_sampling(edge_index, 3, -1)
    with pytest.raises(ValueError, match=r"edge_index entries must be < 2; found the entry 2"):
        negative_sampling(edge_index, 2, 1)
    with pytest.raises(ValueError, match=r"exclude must have shape \[2, E\]"):
        negative_sampling(edge_index, 3, 1, exclude=torch.zeros(3, 1, dtype=torch.long))
    with pytest.raises(ValueError, match=r"num_nodes must be >= 1; got 0"):
        negative_sampling(edge_index, 0, 1)
    with pytest.raises(TypeError, match=r"generator must be a torch.Generator or None"):
        negative_sampling(edge_index, 3, 1, generator=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"directed must be a bool"):
        negative_sampling(edge_index, 3, 1, directed=1)  # type: ignore[arg-type]


def test_accepts_int32_and_keeps_the_device() -> None:
    edge_index = torch.tensor([[0, 1], [1, 2]], dtype=torch.int32)
    neg = negative_sampling(edge_index, 4, 3, generator=gen(0))
    assert neg.dtype == torch.long
    assert neg.device == edge_index.device
    assert set(as_pairs(neg)) <= non_edges(edge_index.long(), 4, directed=False)


def test_method_rule() -> None:
    # Rejection needs about C ln(V / (V - S)) draws (S C / V with replacement); the complement
    # is enumerated (C candidates) when that exceeds C / 4.
    assert sampling_method(10**6, 9 * 10**5, 10**4, False) == "reject"
    assert sampling_method(10**6, 10**4, 10**3, False) == "reject"  # dense, small sample
    assert sampling_method(10**6, 10**4, 3 * 10**3, False) == "enumerate"
    assert sampling_method(10**6, 10**4, 2 * 10**3, True) == "reject"
    assert sampling_method(10**6, 10**4, 3 * 10**3, True) == "enumerate"
    assert sampling_method(10**6, 9 * 10**5, 8 * 10**5, False) == "enumerate"
    # More non-edges than the limit and than 4x the sample: rejection whatever it costs.
    big = ns.NEGATIVE_SAMPLING_ENUMERATE_MAX + 1
    assert sampling_method(2 * big, big, int(0.24 * big), False) == "reject"  # draws > C / 4
    assert sampling_method(10**6, 10**5, int(0.24 * 10**5), False) == "enumerate"
    assert sampling_method(2 * big, big, big // 4 + 1, False) == "enumerate"


@pytest.mark.parametrize("directed", [False, True])
def test_dense_graph_at_scale_has_no_edges_and_no_repeats(directed: bool) -> None:
    # 2,000 nodes and ~30 % of the pairs as edges: well beyond anything Python sets can check.
    num_nodes = 2_000
    edge_index = torch.randint(0, num_nodes, (2, 700_000), generator=gen(0))
    neg = negative_sampling(edge_index, num_nodes, 300_000, directed=directed, generator=gen(1))
    assert neg.shape == (2, 300_000)
    assert bool((neg[0] != neg[1]).all())
    row, col = neg if directed else (torch.minimum(*neg), torch.maximum(*neg))
    keys = row * num_nodes + col
    assert torch.unique(keys).numel() == keys.numel()
    if directed:
        edges = edge_index[0] * num_nodes + edge_index[1]
    else:
        edges = torch.minimum(*edge_index) * num_nodes + torch.maximum(*edge_index)
    assert not bool(torch.isin(keys, edges).any())
    if not directed:
        assert bool((neg[0] < neg[1]).all())


def test_enumeration_is_taken_for_a_nearly_complete_graph() -> None:
    # 3 non-edges among 4,950 pairs: rejection would need ~1,650 draws per sample.
    num_nodes = 100
    full = torch.triu_indices(num_nodes, num_nodes, offset=1)
    edge_index = full[:, 3:]
    with mock.patch.object(ns, "_reject", side_effect=AssertionError("rejection was used")):
        neg = negative_sampling(edge_index, num_nodes, 3, generator=gen(0))
    assert set(as_pairs(neg)) == {tuple(p) for p in full[:, :3].t().tolist()}
    expected = num_nodes * (num_nodes - 1) / 2 * math.log(3.5 / 0.5)
    assert expected > num_nodes * (num_nodes - 1) / 8  # the rule's reason
