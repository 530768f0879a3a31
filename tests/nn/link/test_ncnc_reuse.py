"""NCNCPredictor.reuse_rows: an evaluation scored in chunks computes XLIN's h' once per row,
not once a chunk (the reference recursion reads it on all N rows in every call)."""

from __future__ import annotations

import contextlib

import pytest
import torch
from torch import Tensor

import graphpair.train._link_eval as link_eval
from graphpair.data import link_split, load_dataset
from graphpair.nn.link import NCNCPredictor
from graphpair.ops import CSR
from graphpair.train import build_encoder, build_predictor, link_config
from graphpair.train._link_eval import link_scores
from tests.nn.link.test_ncnc_scale import CALIBRATION, sparse_graph

NUM_NODES = 200


def graph() -> CSR:
    return CSR.from_edge_index(torch.tensor(sparse_graph(NUM_NODES, 1500, seed=3)).t(), NUM_NODES)


def counted(pred: NCNCPredictor) -> list[int]:
    """The row count of every XLIN call of ``pred``, appended as they happen."""
    rows: list[int] = []
    assert pred.xlin is not None
    pred.xlin.register_forward_hook(lambda _m, args, _out: rows.append(args[0].size(0)))
    return rows


def make(official: bool, depth: int = 1) -> NCNCPredictor:
    torch.manual_seed(0)
    return NCNCPredictor(
        4, 8, **CALIBRATION, depth=depth, use_xlin=True, ln=True, dropout=0.3,
        official_recursion=official,
    ).double()  # fmt: skip


def chunks(pred: NCNCPredictor, h: Tensor, adj: CSR, pairs: Tensor) -> Tensor:
    return torch.cat([pred(h, adj, part) for part in torch.split(pairs, 8, dim=1)])


@pytest.mark.parametrize(("official", "depth"), [(True, 1), (True, 2), (False, 1), (False, 2)])
def test_chunks_share_h_prime_inside_the_block(official: bool, depth: int) -> None:
    adj = graph()
    pairs = torch.randint(0, NUM_NODES, (2, 64), generator=torch.Generator().manual_seed(2))
    h = torch.randn(NUM_NODES, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    pred = make(official, depth).eval()
    rows = counted(pred)
    with torch.no_grad():
        separate = chunks(pred, h, adj, pairs)
        alone = sum(rows)
        rows.clear()
        with pred.reuse_rows():
            shared = chunks(pred, h, adj, pairs)
        assert pred._reuse is None  # released with the block
    torch.testing.assert_close(shared, separate, rtol=1e-12, atol=1e-12)
    # Each distinct embedding tensor (h, and h' for the reference's inner call): rows on
    # subsets until they add up to N, then all N rows once: at most 2N each.
    tensors = 2 if official else 1
    assert sum(rows) <= 2 * tensors * NUM_NODES, rows
    if official:  # 8 chunks, each reading h' (and the inner XLIN) on all N rows
        assert alone >= 8 * NUM_NODES, alone
        assert sum(rows) * 4 <= alone, (sum(rows), alone)


@pytest.mark.parametrize("official", [True, False])
def test_training_is_not_shared_and_changes_are_seen(official: bool) -> None:
    adj = graph()
    pairs = torch.randint(0, NUM_NODES, (2, 32), generator=torch.Generator().manual_seed(2))
    h = torch.randn(NUM_NODES, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    pred = make(official)
    rows = counted(pred)
    for grad in (False, True):  # training: nothing shared, the same draws
        pred.train()
        with torch.set_grad_enabled(grad):
            torch.manual_seed(5)
            want = chunks(pred, h, adj, pairs)
            alone = list(rows)
            rows.clear()
            with pred.reuse_rows():
                torch.manual_seed(5)
                got = chunks(pred, h, adj, pairs)
        assert torch.equal(got, want)  # the same calls, the same draws
        assert rows == alone
        rows.clear()
    pred.eval()  # with autograd: the same values and gradients
    leaf = h.clone().requires_grad_()
    want = chunks(pred, leaf, adj, pairs)
    with pred.reuse_rows():
        got = chunks(pred, leaf, adj, pairs)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    (got_grad,) = torch.autograd.grad(got.sum(), leaf)
    (want_grad,) = torch.autograd.grad(want.sum(), leaf)
    torch.testing.assert_close(got_grad, want_grad, rtol=1e-12, atol=1e-12)
    assert pred.xlin is not None
    weight = next(pred.xlin.parameters())
    with torch.no_grad(), pred.reuse_rows():
        chunks(pred, h, adj, pairs)
        h.mul_(2.0)  # changed in place: its rows are computed again
        got = chunks(pred, h, adj, pairs)
        weight.mul_(0.5)  # so is a parameter of XLIN
        got_after_step = chunks(pred, h, adj, pairs)
    with torch.no_grad():
        want_after_step = chunks(pred, h, adj, pairs)
        weight.mul_(2.0)
        want = chunks(pred, h, adj, pairs)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(got_after_step, want_after_step, rtol=1e-12, atol=1e-12)
    assert not torch.allclose(got, got_after_step)


def test_inference_tensors_are_shared_too() -> None:
    adj = graph()
    pairs = torch.randint(0, NUM_NODES, (2, 32), generator=torch.Generator().manual_seed(2))
    pred = make(True).eval()
    with torch.inference_mode():
        h = torch.randn(NUM_NODES, 4, dtype=torch.float64)
        want = chunks(pred, h, adj, pairs)
        with pred.reuse_rows():
            got = chunks(pred, h, adj, pairs)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_the_evaluation_scores_each_stage_inside_one_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = link_config(
        "karate", "ncnc", hidden_channels=8, use_xlin=True, official_recursion=True,
        test_batch_size=4,
    )  # fmt: skip
    split = link_split(load_dataset("karate"), seed=0)
    adj = CSR.from_edge_index(split.edge_index("train"), num_nodes=34)
    torch.manual_seed(0)
    encoder, predictor = build_encoder(config, None, 35), build_predictor(config)
    assert isinstance(predictor, NCNCPredictor)
    rows = counted(predictor)
    shared = link_scores(encoder, predictor, None, adj, adj, split, config.test_batch_size)
    used = sum(rows)
    rows.clear()
    monkeypatch.setattr(link_eval, "chunked_scoring", lambda _p: contextlib.nullcontext())
    alone = link_scores(encoder, predictor, None, adj, adj, split, config.test_batch_size)
    for stage in ("valid", "test"):
        for got, want in zip(shared[stage], alone[stage], strict=True):
            torch.testing.assert_close(got, want)
    assert used <= 2 * 2 * 2 * 34, used  # two stages, h and h', at most 2N rows each
    assert used * 2 <= sum(rows), (used, sum(rows))
