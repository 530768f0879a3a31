"""NCNC at scale: bounded completion chunks, XLIN only on the rows read, degree caps."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
import torch
from hypothesis import given, settings
from torch import Tensor

import graphpair.nn.link._ncnc as ncnc_module
from graphpair.nn.link import NCNC_CHUNK, NCNCPredictor, cap_members
from graphpair.ops import CSR, PairNodeSet
from tests.nn.link.reference import ncnc_logit, neighbor_sets

CALIBRATION = {"scale": 2.5, "offset": 0.3, "pt": 0.4, "alpha": 0.8}


def sparse_graph(
    num_nodes: int = 120, num_edges: int = 150, seed: int = 0
) -> list[tuple[int, int]]:
    gen = torch.Generator().manual_seed(seed)
    edges = torch.randint(0, num_nodes, (num_edges, 2), generator=gen)
    return sorted({(min(u, v), max(u, v)) for u, v in edges.tolist() if u != v})


def spy_completion_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pair counts of every common-neighbour call of NCNC's depth-0 level (its chunks
    of completion pairs), appended as they happen."""
    sizes: list[int] = []
    original = ncnc_module.common_neighbors

    def spy(adj: CSR, pairs: Tensor, **kwargs: str) -> PairNodeSet:
        sizes.append(pairs.size(1))
        return original(adj, pairs, **kwargs)

    monkeypatch.setattr(ncnc_module, "common_neighbors", spy)
    return sizes


def predictor(**kwargs: object) -> NCNCPredictor:
    torch.manual_seed(0)
    return NCNCPredictor(4, 8, **{**CALIBRATION, **kwargs}).double().eval()  # type: ignore[arg-type]


@pytest.mark.parametrize("official", [False, True])
def test_xlin_runs_only_on_the_rows_read_on_a_sparse_graph(official: bool) -> None:
    """h' = h + XLIN(h) is read at common and one-sided neighbours only: on a sparse graph it
    is computed on far fewer than N rows, with the hand-loop reference's values."""
    num_nodes = 120
    edges = sparse_graph(num_nodes)
    adj = CSR.from_edge_index(torch.tensor(edges).t(), num_nodes)
    pairs = torch.tensor([[0, 3, 7, 11], [5, 9, 2, 40]])
    for depth in (1, 2):
        pred = predictor(depth=depth, use_xlin=True, ln=True, official_recursion=official)
        rows_seen: list[int] = []
        assert pred.xlin is not None

        def hook(
            _m: torch.nn.Module, args: tuple[Tensor, ...], _out: Tensor, seen=rows_seen
        ) -> None:
            seen.append(args[0].size(0))

        pred.xlin.register_forward_hook(hook)
        h = torch.randn(
            num_nodes, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
        ).requires_grad_()
        out = pred(h, adj, pairs)
        if not official:  # the reference recursion reads h' of every completion pair's ends
            assert sum(rows_seen) < num_nodes, rows_seen
        sets = neighbor_sets(edges, num_nodes)
        want = torch.stack(
            [
                ncnc_logit(pred, h, sets, i, j, depth, official=official)
                for i, j in pairs.t().tolist()
            ]
        )
        torch.testing.assert_close(out, want)
        # gradients too: h' keeps its gradient however it was computed
        (grad,) = torch.autograd.grad(out.sum(), h)
        (want_grad,) = torch.autograd.grad(want.sum(), h)
        torch.testing.assert_close(grad, want_grad)


def test_the_default_chunk_bounds_the_completion_pairs_scored_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert NCNC_CHUNK == 65536
    edges = sparse_graph(60, 200)
    adj = CSR.from_edge_index(torch.tensor(edges).t(), 60)
    pairs = torch.tensor([[0, 1, 2, 3, 4], [10, 11, 12, 13, 14]])
    h = torch.randn(60, 4, dtype=torch.float64)
    whole = predictor(depth=1)(h, adj, pairs)
    sizes = spy_completion_sizes(monkeypatch)
    monkeypatch.setattr(ncnc_module, "NCNC_CHUNK", 3)
    torch.testing.assert_close(predictor(depth=1)(h, adj, pairs), whole)
    assert len(sizes) > 1
    assert max(sizes) <= 3


def _loop_members(members: PairNodeSet, num_pairs: int) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in range(num_pairs)]
    for p, k in zip(members.pair_idx.tolist(), members.node_idx.tolist(), strict=True):
        out[p].append(k)
    return out


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(0, 12), min_size=1, max_size=8),
    cap=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_cap_members_keeps_at_most_cap_and_the_weights_sum_to_the_count(
    counts: list[int], cap: int, seed: int
) -> None:
    pair_idx = torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts))
    node_idx = torch.cat([torch.arange(c) * 3 + p for p, c in enumerate(counts)]).long()
    members = PairNodeSet(pair_idx, node_idx)
    torch.manual_seed(seed)
    kept, weight = cap_members(members, len(counts), cap)
    assert torch.equal(kept.pair_idx, torch.sort(kept.pair_idx).values)
    before = _loop_members(members, len(counts))
    after = _loop_members(kept, len(counts))
    for p, c in enumerate(counts):
        assert set(after[p]) <= set(before[p])
        assert len(set(after[p])) == len(after[p])  # repeated draws merged
        mask = kept.pair_idx == p
        if c <= cap:
            assert after[p] == before[p]
            assert torch.all(weight[mask] == 1)
        else:
            assert len(after[p]) <= cap
            # cap draws of weight c / cap each: the weights sum to c exactly
            assert float(weight[mask].sum()) == pytest.approx(c)


def test_cap_members_is_an_unbiased_sum() -> None:
    counts = [9, 2, 30]
    pair_idx = torch.repeat_interleave(torch.arange(3), torch.tensor(counts))
    node_idx = torch.arange(int(sum(counts)))
    x = torch.randn(
        int(sum(counts)), 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    full = torch.zeros(3, 2, dtype=torch.float64).index_add_(0, pair_idx, x[node_idx])
    torch.manual_seed(0)
    total = torch.zeros(3, 2, dtype=torch.float64)
    draws = 4000
    for _ in range(draws):
        kept, weight = cap_members(PairNodeSet(pair_idx, node_idx), 3, 4)
        total.index_add_(0, kept.pair_idx, x[kept.node_idx] * weight.double().unsqueeze(-1))
    torch.testing.assert_close(total / draws, full, atol=0.25, rtol=0.05)


def test_degree_caps_limit_the_completion_pairs_and_apply_per_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a star-heavy graph: nodes 0 and 1 have 40 one-sided neighbours each
    edges = [(0, k) for k in range(2, 42)] + [(1, k) for k in range(42, 82)]
    adj = CSR.from_edge_index(torch.tensor(edges).t(), 82)
    pairs = torch.tensor([[0], [1]])
    h = torch.randn(82, 4, dtype=torch.float64)
    sizes = spy_completion_sizes(monkeypatch)
    uncapped = predictor(depth=1)(h, adj, pairs)
    assert sizes == [80]
    sizes.clear()
    # a cap at or above the degree changes nothing
    torch.testing.assert_close(predictor(depth=1, test_degree_cap=40)(h, adj, pairs), uncapped)
    sizes.clear()
    predictor(depth=1, test_degree_cap=5)(h, adj, pairs)
    assert sizes
    assert sizes[0] <= 10
    sizes.clear()
    predictor(depth=1, train_degree_cap=5)(h, adj, pairs)  # eval: the train cap is off
    assert sizes == [80]
    sizes.clear()
    predictor(depth=1, train_degree_cap=5).train()(h, adj, pairs)
    assert sizes
    assert sizes[0] <= 10
    with pytest.raises(ValueError, match="train_degree_cap must be >= 1"):
        NCNCPredictor(4, 8, train_degree_cap=0)


def test_h_prime_on_every_row_keeps_only_itself_for_the_backward(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reference recursion in training computes h' = h + XLIN(h) on all N rows; above
    NCNC_CHECKPOINT_BYTES it is checkpointed, so fewer [N, D] tensors are saved for the
    backward, with the same logits, gradients and generator state (the recomputation redraws
    the same dropout). Below it nothing is recomputed: the same tensors as without."""
    num_nodes = 200
    edges = sparse_graph(num_nodes, 1500, seed=3)
    adj = CSR.from_edge_index(torch.tensor(edges).t(), num_nodes)
    pairs = torch.randint(0, num_nodes, (2, 64), generator=torch.Generator().manual_seed(2))
    h = torch.randn(
        num_nodes, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    ).requires_grad_()

    def run() -> tuple[Tensor, list[Tensor], int, Tensor]:
        torch.manual_seed(0)
        pred = NCNCPredictor(
            4, 8, **CALIBRATION, use_xlin=True, ln=True, dropout=0.3, official_recursion=True
        ).double()
        saved: list[int] = []

        def pack(t: Tensor) -> Tensor:
            if t.dim() == 2 and t.size(0) == num_nodes:
                saved.append(t.numel())
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = pred(h, adj, pairs)
        grads = torch.autograd.grad(out.sum(), [h, *pred.parameters()], allow_unused=True)
        kept = [g if g is not None else torch.zeros(0) for g in grads]
        return out, kept, len(saved), torch.rand(4)

    small = run()  # 200 x 4 float64 rows: below the default threshold
    monkeypatch.setattr(ncnc_module, "NCNC_CHECKPOINT_BYTES", num_nodes * 4 * 8 - 1)
    checkpointed = run()
    monkeypatch.setattr(ncnc_module, "checkpoint", lambda fn, *args, **kwargs: fn(*args))
    kept = run()
    assert small[2] == kept[2]
    assert torch.equal(small[0], kept[0])
    assert torch.equal(checkpointed[0], kept[0])
    for got, want in zip(checkpointed[1], kept[1], strict=True):
        assert torch.equal(got, want)
    assert torch.equal(checkpointed[3], kept[3])
    assert checkpointed[2] < kept[2], (checkpointed[2], kept[2])
