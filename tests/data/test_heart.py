from __future__ import annotations

import logging
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.stats import rankdata

import graphpair.data._heart as heart_module
from graphpair.data._heart import heart_negatives, heart_ranks
from graphpair.data._io import load_cache
from tests.data.test_heuristic_scores import dense_adjacency, reference_scores, round_bits
from tests.graphs import graphs, node_pairs, random_edge_index

Pair = tuple[int, int]


# ---------------------------------------------------------------- dense numpy reference


def heart_rank_row(scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """HeaRT's rank_score_matrix: scipy 'min' ranks of the positive scores, reversed; zeros get
    the largest rank + 1; filtered candidates get inf here (HeaRT: largest + 2, never chosen)."""
    row = np.where(valid, scores, -1.0)
    out = np.full(len(row), np.inf)
    positive = row > 0
    top = 0.0
    if positive.any():
        ranks = rankdata(row[positive], method="min")
        ranks = ranks.max() - ranks + 1
        out[positive] = ranks
        top = ranks.max()
    out[valid & (row == 0)] = top + 1
    return out


def filtered_pairs(*pair_sets: torch.Tensor | None) -> set[Pair]:
    out: set[Pair] = set()
    for pairs in pair_sets:
        if pairs is None:
            continue
        for u, v in pairs.t().tolist():
            out.add((min(u, v), max(u, v)))
    return out


def check_against_reference(
    neg: torch.Tensor,
    edge_index: torch.Tensor,
    pos: torch.Tensor,
    num_nodes: int,
    num_negatives: int,
    *,
    known: torch.Tensor | None = None,
    x: torch.Tensor | None = None,
    heuristics: tuple[str, ...] = ("ra", "ppr"),
    aggregate: str = "mean",
    rank_power: float = 1.0,
    ppr_steps: int = 20,
) -> None:
    """Every side's picks are valid, distinct, and a top set of (all-zero, combined rank)."""
    assert neg.shape == (2, pos.size(1), num_negatives)
    adj = dense_adjacency(edge_index, num_nodes)
    features = None if x is None else x.double().numpy()
    scores = [round_bits(reference_scores(adj, h, features, steps=ppr_steps)) for h in heuristics]
    blocked = filtered_pairs(edge_index, pos, known)
    agg = np.mean if aggregate == "mean" else np.min
    for p, (i, j) in enumerate(pos.t().tolist()):
        take_src = num_negatives - num_negatives // 2
        sides = []
        for u in (i, j):
            valid = np.array(
                [k != u and (min(u, k), max(u, k)) not in blocked for k in range(num_nodes)]
            )
            ranks = [heart_rank_row(s[u], valid) ** rank_power for s in scores]
            combined = agg(np.stack(ranks), axis=0)
            all_zero = np.all(np.stack([s[u] == 0 for s in scores]), axis=0)
            sides.append((valid, combined, all_zero))
        have_src, have_tgt = int(sides[0][0].sum()), int(sides[1][0].sum())
        take_src = min(take_src, have_src)
        take_src = num_negatives - min(num_negatives - take_src, have_tgt)
        row = neg[:, p, :].t().tolist()
        assert all(a == i for a, _ in row[:take_src]), (p, row)
        assert all(b == j for _, b in row[take_src:]), (p, row)
        picks = [[b for _, b in row[:take_src]], [a for a, _ in row[take_src:]]]
        for (valid, combined, all_zero), chosen in zip(sides, picks, strict=True):
            assert len(set(chosen)) == len(chosen)
            assert all(valid[k] for k in chosen)
            keys = [(bool(all_zero[k]), float(combined[k])) for k in chosen]
            assert keys == sorted(keys), keys  # hardest first
            rest = [
                (bool(all_zero[k]), float(combined[k]))
                for k in range(num_nodes)
                if valid[k] and k not in chosen
            ]
            if keys and rest:
                assert max(keys) <= min(rest), (keys, rest)
        # All K negatives of a positive are distinct, also as unordered pairs.
        assert len({(min(a, b), max(a, b)) for a, b in row}) == num_negatives


@given(data=st.data())
def test_heart_ranks_equal_reversed_scipy_min_ranks(data: st.DataObject) -> None:
    rows = data.draw(st.integers(1, 4))
    num = data.draw(st.integers(1, 12))
    values = data.draw(
        st.lists(
            st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]), min_size=rows * num, max_size=rows * num
        )
    )
    mask = data.draw(st.lists(st.booleans(), min_size=rows * num, max_size=rows * num))
    scores = torch.tensor(values, dtype=torch.float64).view(rows, num)
    valid = torch.tensor(mask).view(rows, num)
    got = heart_ranks(scores, valid).numpy()
    for r in range(rows):
        np.testing.assert_array_equal(got[r], heart_rank_row(scores[r].numpy(), valid[r].numpy()))


def _ranked(
    scores: list[list[float]], k: int, aggregate: str, power: float, seed: int = 0
) -> list[int]:
    """heart_negatives' selection for one row node 0 (candidate 0 itself filtered)."""
    rows = [torch.tensor([s], dtype=torch.float64) for s in scores]
    valid = torch.ones(1, len(scores[0]), dtype=torch.bool)
    valid[0, 0] = False
    picks = heart_module._select(rows, valid, torch.tensor([0]), k, seed, aggregate, power)
    return picks[0].tolist()


def test_rank_power_changes_the_combination() -> None:
    # Ranks by hand: h1 orders 1, 3, 4, 5, 2, 6, 7, 8, 9; h2 orders 3, 4, 5, 6, 2, 7, 8, 9, 1.
    # Candidate 1 has ranks (1, 9), candidate 2 (5, 5), candidate 6 (6, 4).
    h1 = [0, 10, 6, 9, 8, 7, 5, 4, 3, 2]
    h2 = [0, 1, 6, 10, 9, 8, 7, 5, 4, 3]
    # p = 2: means of squares 2.5, 6.5, 12.5, then 25 (2) < 26 (6) < 41 (1).
    assert _ranked([h1, h2], 6, "mean", 2.0) == [3, 4, 5, 2, 6, 1]
    # p = 0.5: 1 (2.0) < 6 (2.22) < 2 (2.24).
    assert _ranked([h1, h2], 6, "mean", 0.5) == [3, 4, 5, 1, 6, 2]
    # p = 1: 1, 2 and 6 tie at 5 and the seeded order decides; the first three never change.
    orders = {tuple(_ranked([h1, h2], 6, "mean", 1.0, seed)) for seed in range(8)}
    assert all(order[:3] == (3, 4, 5) and set(order[3:]) == {1, 2, 6} for order in orders)
    assert len(orders) > 1
    # min: every candidate's best rank; 1 and 3 have a first place.
    assert set(_ranked([h1, h2], 2, "min", 1.0)) == {1, 3}


@pytest.mark.parametrize("seed", range(5))
def test_candidates_scoring_zero_everywhere_come_last(seed: int) -> None:
    # h1 ranks 1..5 and gives 0 the rank 6; h2 ranks 6 first and gives 0 the rank 2. With
    # 'min', candidates 2..5 and the all-zero 7, 8, 9 all combine to 2: HeaRT takes the
    # non-zero ones first.
    h1 = [0, 9, 8, 7, 6, 5, 0, 0, 0, 0]
    h2 = [0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    picks = _ranked([h1, h2], 9, "min", 1.0, seed)
    assert set(picks[:2]) == {1, 6}
    assert set(picks[2:6]) == {2, 3, 4, 5}
    assert set(picks[6:]) == {7, 8, 9}


# ---------------------------------------------------------------- heart_negatives


@given(
    graph=graphs(max_nodes=11, max_edges=30),
    data=st.data(),
    heuristics=st.sampled_from([("ra", "ppr"), ("cn",), ("ppr", "cosine", "cn"), ("ra",)]),
    aggregate=st.sampled_from(["mean", "min"]),
    rank_power=st.sampled_from([1.0, 2.0, 0.5]),
)
def test_heart_negatives_match_dense_reference(
    graph: tuple[torch.Tensor, int],
    data: st.DataObject,
    heuristics: tuple[str, ...],
    aggregate: str,
    rank_power: float,
) -> None:
    edge_index, num_nodes = graph
    assume(num_nodes >= 3)
    # (i, i + d mod N) with 0 < d < N: never a self pair.
    pair = st.tuples(st.integers(0, num_nodes - 1), st.integers(1, num_nodes - 1))
    pairs = data.draw(
        st.lists(pair.map(lambda t: (t[0], (t[0] + t[1]) % num_nodes)), min_size=1, max_size=4)
    )
    pos = torch.tensor(pairs).t()
    known = data.draw(node_pairs(num_nodes, max_pairs=6))
    num_negatives = data.draw(st.integers(1, num_nodes))
    x = torch.randn(num_nodes, 4, generator=torch.Generator().manual_seed(1))
    kwargs = {
        "known": known,
        "heuristics": heuristics,
        "aggregate": aggregate,
        "rank_power": rank_power,
        "ppr_steps": 6,
    }
    blocked = filtered_pairs(edge_index, pos, known)

    def available(u: int) -> int:
        return sum(1 for k in range(num_nodes) if k != u and (min(u, k), max(u, k)) not in blocked)

    short = [
        p
        for p, (i, j) in enumerate(pos.t().tolist())
        if available(i) + available(j) < num_negatives
    ]
    if short:
        with pytest.raises(
            ValueError, match=rf"num_negatives={num_negatives} .* positive {short[0]} "
        ):
            heart_negatives(edge_index, pos, num_nodes, num_negatives, x=x, **kwargs)
        return
    neg = heart_negatives(edge_index, pos, num_nodes, num_negatives, x=x, **kwargs)
    check_against_reference(neg, edge_index, pos, num_nodes, num_negatives, x=x, **kwargs)


def test_hard_candidates_come_first_on_a_small_graph() -> None:
    # Two triangles joined by the edge 2-3; positive (0, 1) with K = 2: the source side's
    # hardest candidate for 0 is 3 (via 2), the target side's for 1 is also 3.
    edge_index = torch.tensor([[0, 1, 0, 3, 4, 3, 2], [1, 2, 2, 4, 5, 5, 3]])
    neg = heart_negatives(edge_index, torch.tensor([[0], [1]]), 7, 2)
    assert neg[:, 0, :].t().tolist() == [[0, 3], [3, 1]]
    check_against_reference(neg, edge_index, torch.tensor([[0], [1]]), 7, 2)


def test_known_positives_are_filtered_in_both_directions() -> None:
    num_nodes = 30
    edge_index = random_edge_index(num_nodes, 60, seed=1)
    pos = torch.tensor([[0, 5, 7], [1, 9, 3]])
    # Known positives given in the "wrong" direction relative to how negatives are written.
    known = torch.tensor([[2, 4, 8, 11, 12, 1, 9], [0, 0, 5, 5, 3, 13, 14]])
    neg = heart_negatives(edge_index, pos, num_nodes, 20, known=known)
    blocked = filtered_pairs(edge_index, pos, known)
    pairs = neg.reshape(2, -1).t().tolist()
    assert all(a != b for a, b in pairs)
    assert not {(min(a, b), max(a, b)) for a, b in pairs} & blocked
    check_against_reference(neg, edge_index, pos, num_nodes, 20, known=known)


def test_deterministic_for_seed_and_caller_rng_untouched() -> None:
    # Without edges every candidate scores 0, so only the seeded tie-break decides.
    edge_index = torch.empty(2, 0, dtype=torch.long)
    pos = torch.tensor([[0, 4], [1, 6]])
    state = torch.get_rng_state()
    a = heart_negatives(edge_index, pos, 50, 10, seed=3)
    b = heart_negatives(edge_index, pos, 50, 10, seed=3)
    c = heart_negatives(edge_index, pos, 50, 10, seed=4)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    check_against_reference(a, edge_index, pos, 50, 10)


def test_block_size_does_not_change_the_result() -> None:
    num_nodes = 40
    edge_index = random_edge_index(num_nodes, 120, seed=2)
    pos = torch.tensor([[0, 3, 5, 8, 13, 21], [1, 2, 6, 9, 14, 30]])
    kwargs = {"heuristics": ("cn", "ra", "ppr")}
    whole = heart_negatives(edge_index, pos, num_nodes, 12, **kwargs)
    with mock.patch.object(heart_module, "HEART_BLOCK_ENTRIES", 2 * num_nodes):
        blocks = heart_negatives(edge_index, pos, num_nodes, 12, **kwargs)
    assert torch.equal(whole, blocks)
    check_against_reference(whole, edge_index, pos, num_nodes, 12, heuristics=("cn", "ra", "ppr"))


def test_short_side_is_filled_from_the_other_side() -> None:
    # Node 0 is linked to all but node 9: corrupting the target of (0, 1) leaves one candidate.
    num_nodes = 10
    edge_index = torch.tensor([[0] * 8, list(range(1, 9))])
    pos = torch.tensor([[0], [1]])
    neg = heart_negatives(edge_index, pos, num_nodes, 6)
    row = neg[:, 0, :].t().tolist()
    assert row[0] == [0, 9]
    assert all(b == 1 for _, b in row[1:])
    check_against_reference(neg, edge_index, pos, num_nodes, 6)


def test_too_few_candidates_names_num_negatives_and_the_positive() -> None:
    # Path 0-1-2-3 and two isolated nodes; positives (0, 4) and (1, 3) are filtered too.
    # Positive 0 keeps 3 pairs (0, k) and 4 pairs (k, 4); positive 1 only 2 + 3.
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 3]])
    pos = torch.tensor([[0, 1], [4, 3]])
    assert heart_negatives(edge_index, pos[:, :1], 6, 6).shape == (2, 1, 6)
    with pytest.raises(
        ValueError,
        match=r"num_negatives=6 is more than the 5 valid candidates of positive 1 \(1, 3\) "
        r"\(2 of the form \(1, k\), 3 of the form \(k, 3\)\).*1 of 2 positives",
    ):
        heart_negatives(edge_index, pos, 6, 6)


def test_invalid_arguments() -> None:
    edge_index = torch.tensor([[0, 1], [1, 2]])
    pos = torch.tensor([[0], [2]])
    with pytest.raises(
        ValueError, match=r"pos must not contain self pairs; positive 1 is \(3, 3\)"
    ):
        heart_negatives(edge_index, torch.tensor([[0, 3], [2, 3]]), 5, 1)
    with pytest.raises(
        ValueError, match=r"heuristics must be one of \['cn', 'ra', 'ppr', 'cosine'\]"
    ):
        heart_negatives(edge_index, pos, 5, 1, heuristics=("ra", "katz"))
    with pytest.raises(ValueError, match=r"must not repeat"):
        heart_negatives(edge_index, pos, 5, 1, heuristics=("ra", "resource_allocation"))
    with pytest.raises(ValueError, match=r"needs node features: pass x"):
        heart_negatives(edge_index, pos, 5, 1, heuristics=("cosine",))
    with pytest.raises(ValueError, match=r"x must have num_nodes=5 rows"):
        heart_negatives(edge_index, pos, 5, 1, heuristics=("cosine",), x=torch.ones(4, 2))
    with pytest.raises(ValueError, match=r"ppr_alpha must be in \(0, 1.0\]; got 0.0"):
        heart_negatives(edge_index, pos, 5, 1, ppr_alpha=0.0)
    with pytest.raises(ValueError, match=r"aggregate must be one of \['mean', 'min'\]"):
        heart_negatives(edge_index, pos, 5, 1, aggregate="max")
    with pytest.raises(ValueError, match=r"num_negatives must be >= 1; got 0"):
        heart_negatives(edge_index, pos, 5, 0)
    with pytest.raises(ValueError, match=r"known entries must be < 5"):
        heart_negatives(edge_index, pos, 5, 1, known=torch.tensor([[0], [5]]))
    empty = heart_negatives(edge_index, torch.empty(2, 0, dtype=torch.long), 5, 3)
    assert empty.shape == (2, 0, 3)


# ---------------------------------------------------------------- cache


def _inputs() -> tuple[torch.Tensor, torch.Tensor, int]:
    # Sparse enough that most candidates score 0, so the seed decides part of the result.
    return random_edge_index(25, 15, seed=4), torch.tensor([[0, 2, 4], [1, 3, 5]]), 25


def test_cache_round_trip(tmp_path: Path) -> None:
    edge_index, pos, num_nodes = _inputs()
    path = tmp_path / "heart.pt"
    first = heart_negatives(edge_index, pos, num_nodes, 8, cache=path)
    assert path.is_file()
    with mock.patch.object(heart_module, "_build", side_effect=AssertionError("recomputed")):
        again = heart_negatives(edge_index, pos, num_nodes, 8, cache=path)
    assert torch.equal(first, again)
    assert torch.equal(first, heart_negatives(edge_index, pos, num_nodes, 8))


def test_cache_of_other_parameters_is_replaced(tmp_path: Path) -> None:
    edge_index, pos, num_nodes = _inputs()
    path = tmp_path / "heart.pt"
    first = heart_negatives(edge_index, pos, num_nodes, 8, cache=path, seed=0)
    other = heart_negatives(edge_index, pos, num_nodes, 8, cache=path, seed=1)
    assert not torch.equal(first, other)
    assert torch.equal(other, heart_negatives(edge_index, pos, num_nodes, 8, seed=1))
    assert torch.equal(load_cache(path)["neg"], other)


def test_corrupted_cache_is_rebuilt_not_trusted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    edge_index, pos, num_nodes = _inputs()
    path = tmp_path / "heart.pt"
    expected = heart_negatives(edge_index, pos, num_nodes, 8, cache=path)
    raw = bytearray(path.read_bytes())
    raw[-20] ^= 0xFF  # flip bits inside the payload: the checksum no longer matches
    path.write_bytes(bytes(raw))
    with caplog.at_level(logging.WARNING):
        rebuilt = heart_negatives(edge_index, pos, num_nodes, 8, cache=path)
    assert torch.equal(rebuilt, expected)
    assert "rebuilding cache" in caplog.text
    assert torch.equal(load_cache(path)["neg"], expected)  # rewritten, valid again
    path.write_bytes(b"not a cache at all")
    assert torch.equal(heart_negatives(edge_index, pos, num_nodes, 8, cache=path), expected)


def test_cache_with_wrong_content_under_the_right_key_is_rebuilt(tmp_path: Path) -> None:
    edge_index, pos, num_nodes = _inputs()
    path = tmp_path / "heart.pt"
    expected = heart_negatives(edge_index, pos, num_nodes, 8, cache=path)
    with mock.patch.object(heart_module, "_build", return_value={"neg": torch.full((2, 3, 8), 99)}):
        path.unlink()
        heart_negatives(edge_index, pos, num_nodes, 8, cache=path)  # writes the bad tensor
    assert torch.equal(heart_negatives(edge_index, pos, num_nodes, 8, cache=path), expected)


def test_cache_folder_gets_a_file_named_after_the_key(tmp_path: Path) -> None:
    edge_index, pos, num_nodes = _inputs()
    heart_negatives(edge_index, pos, num_nodes, 8, cache=tmp_path)
    heart_negatives(edge_index, pos, num_nodes, 9, cache=tmp_path)
    assert len(list(tmp_path.glob("heart-negatives-*.pt"))) == 2


# ---------------------------------------------------------------- real data


@pytest.mark.data
def test_cora_hard_negatives(shared_data: Path) -> None:
    from graphpair.data._planetoid import read_planetoid

    folder = shared_data / "planetoid" / "Cora" / "raw"
    if not folder.is_dir():
        pytest.skip(f"Cora raw files not found in {folder}")
    data = read_planetoid(folder, "Cora")
    num_nodes = int(data.num_nodes)
    edge_index = data.edge_index
    pos = edge_index[:, ::500][:, :10]

    def undirected(pairs: torch.Tensor) -> torch.Tensor:
        return torch.minimum(*pairs) * num_nodes + torch.maximum(*pairs)

    train = edge_index[:, ~torch.isin(undirected(edge_index), undirected(pos))]
    neg = heart_negatives(
        train, pos, num_nodes, 100, known=edge_index, x=data.x, heuristics=("ra", "ppr", "cosine")
    )
    assert neg.shape == (2, 10, 100)
    blocked = filtered_pairs(edge_index)
    pairs = neg.reshape(2, -1).t().tolist()
    assert not {(min(a, b), max(a, b)) for a, b in pairs} & blocked
    assert all(a != b for a, b in pairs)
