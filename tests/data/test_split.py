from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphpair.data import (
    LinkSplit,
    _split,
    audit_split,
    canonical_pairs,
    link_split,
    load_dataset,
    ncn_planetoid_split,
    random_link_split,
    symmetrize,
)
from tests.graphs import random_edge_index


def _keys(pairs: torch.Tensor, n: int) -> set[int]:
    lo = torch.minimum(pairs[0], pairs[1])
    hi = torch.maximum(pairs[0], pairs[1])
    return set((lo * n + hi).tolist())


@given(seed=st.integers(0, 10_000), n=st.integers(12, 60))
def test_ncn_split_sizes_disjointness_and_reproducibility(seed: int, n: int) -> None:
    edge_index = random_edge_index(n, 4 * n, seed=seed)
    pairs = canonical_pairs(edge_index, n)
    u = pairs.size(1)
    if int(0.2 * u) < 2:
        return
    state = torch.get_rng_state()
    split = ncn_planetoid_split(edge_index, n, seed)
    assert torch.equal(torch.get_rng_state(), state)  # global RNG untouched
    n_v = int(0.2 * u)
    sizes = split.sizes()
    assert sizes["valid_pos"] == int(n_v * 0.5)
    assert sizes["test_pos"] == n_v == sizes["test_neg"] == sizes["valid_neg"]
    assert sizes["train_pos"] + sizes["valid_pos"] + sizes["test_pos"] == u
    parts = [_keys(split.pos(s), n) for s in ("train", "valid", "test")]
    assert parts[0] | parts[1] | parts[2] == _keys(pairs, n)
    assert audit_split(split).ok
    again = ncn_planetoid_split(edge_index, n, seed)
    for name in ("train_pos", "valid_pos", "valid_neg", "test_pos", "test_neg"):
        assert torch.equal(getattr(split, name), getattr(again, name))


def test_different_seeds_give_different_splits() -> None:
    edge_index = random_edge_index(50, 300, seed=0)
    a, b = ncn_planetoid_split(edge_index, 50, 0), ncn_planetoid_split(edge_index, 50, 1)
    assert not torch.equal(a.test_pos, b.test_pos)


@pytest.mark.data
def test_cora_sizes_match_the_paper_protocol(shared_data: Path) -> None:
    ds = load_dataset("cora", root=shared_data, download=False)
    split = link_split(ds, seed=3)
    assert split.sizes() == {
        "train_pos": 3696,
        "valid_pos": 527,
        "valid_neg": 1055,
        "test_pos": 1055,
        "test_neg": 1055,
    }
    mp = split.edge_index("train")
    assert mp.size(1) == 2 * 3696


def _reference_split(edge_index: torch.Tensor, n: int, seed: int) -> dict[str, torch.Tensor]:
    """The NCN reference's split, made as specs/ncn.md §4.1 says: PyG's
    ``train_test_split_edges`` after ``torch.manual_seed(seed)``, then half the validation
    positives back to training; every set as sorted pairs (u < v)."""
    from torch_geometric.data import Data
    from torch_geometric.utils import train_test_split_edges

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "'train_test_split_edges' is deprecated")
            data = train_test_split_edges(Data(edge_index=edge_index, num_nodes=n), 0.2, 0.2)
        valid = data.val_pos_edge_index
        valid = valid[:, torch.randperm(valid.size(1))]
        n_keep = int(valid.size(1) * 0.5)
    return {
        "train_pos": canonical_pairs(
            torch.cat([data.train_pos_edge_index, valid[:, : valid.size(1) - n_keep]], 1), n
        ),
        "valid_pos": canonical_pairs(valid[:, valid.size(1) - n_keep :], n),
        "valid_neg": canonical_pairs(data.val_neg_edge_index, n),
        "test_pos": canonical_pairs(data.test_pos_edge_index, n),
        "test_neg": canonical_pairs(data.test_neg_edge_index, n),
    }


def _assert_reference_split(split: LinkSplit, expected: dict[str, torch.Tensor]) -> None:
    n = split.num_nodes
    for name, pairs in expected.items():
        mine = getattr(split, name)
        canonical = canonical_pairs(mine, n)
        assert torch.equal(canonical, pairs), name
        assert canonical.size(1) == mine.size(1), name  # no repeats


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(12, 80), density=st.integers(2, 8))
def test_ncn_split_is_the_references_split(seed: int, n: int, density: int) -> None:
    edge_index = symmetrize(random_edge_index(n, density * n, seed=seed), n)
    if int(0.2 * edge_index.size(1) / 2) < 2:
        return
    _assert_reference_split(
        ncn_planetoid_split(edge_index, n, seed), _reference_split(edge_index, n, seed)
    )


@pytest.mark.data
@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_planetoid_splits_are_the_references_splits(shared_data: Path, name: str) -> None:
    ds = load_dataset(name, root=shared_data, download=False)
    edge_index, n = ds.data.edge_index, int(ds.data.num_nodes)
    for seed in (0, 7):
        split = link_split(ds, seed=seed)
        _assert_reference_split(split, _reference_split(edge_index, n, seed))


@given(seed=st.integers(0, 10_000), n=st.integers(2, 30), count=st.integers(1, 40))
def test_ranked_non_edges_against_the_dense_enumeration(seed: int, n: int, count: int) -> None:
    pairs = canonical_pairs(random_edge_index(n, 2 * n, seed=seed, isolated=0), n)
    dense = torch.ones(n, n, dtype=torch.bool).triu(1)
    dense[pairs[0], pairs[1]] = False
    candidates = dense.nonzero().t()  # [2, C], row-major
    count = min(count, candidates.size(1))
    if count == 0:
        return
    expected = candidates[:, torch.randperm(candidates.size(1), generator=_gen(seed))[:count]]
    got = _split._ranked_non_edges(pairs, n, count, _gen(seed))
    assert torch.equal(got, expected)


def test_above_the_exact_size_the_split_samples_its_negatives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    edge_index = random_edge_index(60, 300, seed=4)
    exact = ncn_planetoid_split(edge_index, 60, 4)
    monkeypatch.setattr(_split, "_MAX_EXACT_CANDIDATES", 100)
    sampled = ncn_planetoid_split(edge_index, 60, 4)
    # The positives come from the first permutation and are the same; the negatives are
    # another draw from the same candidates, still a valid split.
    assert torch.equal(exact.test_pos, sampled.test_pos)
    assert not torch.equal(exact.test_neg, sampled.test_neg)
    assert audit_split(sampled).ok


def test_a_graph_too_dense_for_the_negatives_is_refused() -> None:
    edge_index = torch.combinations(torch.arange(12)).t()[:, :60]  # 6 non-edges left
    with pytest.raises(ValueError, match=r"leaves 6 non-edges .* draws 24 distinct negatives"):
        ncn_planetoid_split(edge_index, 12, 0)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_random_split_and_its_errors() -> None:
    edge_index = random_edge_index(40, 200, seed=1)
    split = random_link_split(
        edge_index, 40, 0, valid_fraction=0.1, test_fraction=0.1, num_neg_per_pos=2
    )
    assert split.sizes()["valid_neg"] == 2 * split.sizes()["valid_pos"]
    assert audit_split(split).ok
    with pytest.raises(ValueError, match="valid_fraction must be in"):
        random_link_split(edge_index, 40, 0, valid_fraction=1.5)
    with pytest.raises(ValueError, match=r"valid_fraction \+ test_fraction"):
        random_link_split(edge_index, 40, 0, valid_fraction=0.6, test_fraction=0.5)
    with pytest.raises(ValueError, match="at least 10"):
        ncn_planetoid_split(torch.tensor([[0, 1], [1, 2]]), 3, 0)


def test_valid_as_input_only_at_test_time() -> None:
    split = LinkSplit(
        num_nodes=5,
        train_pos=torch.tensor([[0], [1]]),
        valid_pos=torch.tensor([[1], [2]]),
        valid_neg=torch.tensor([[0], [4]]),
        test_pos=torch.tensor([[3], [4]]),
        test_neg=torch.tensor([[0], [3]]),
        protocol="ogb",
        valid_as_input=True,
    )
    assert split.edge_index("train").size(1) == 2
    assert split.edge_index("valid").size(1) == 2
    assert split.edge_index("test").size(1) == 4
    with pytest.raises(ValueError, match="split must be one of"):
        split.edge_index("validation")
    with pytest.raises(ValueError, match="no fixed negatives"):
        split.neg("train")


def test_link_split_dispatch_and_errors() -> None:
    ds = load_dataset("karate")
    split = link_split(ds, seed=0)
    assert split.protocol == "ncn-planetoid"
    with pytest.raises(ValueError, match="protocol must be one of"):
        link_split(ds, protocol="hearts")
    with pytest.raises(ValueError, match="official split"):
        link_split(ds, protocol="ogb")
    with pytest.raises(ValueError, match="seed must be >= 0"):
        link_split(ds, seed=-1)
    assert link_split(ds.data, seed=2, protocol="random").protocol == "random"
