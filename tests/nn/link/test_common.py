from __future__ import annotations

import pytest
import torch

import graphpair.nn.link._common as common
from graphpair.nn.link._common import pair_sum
from graphpair.ops import PairNodeSet


def _loop_sum(x: torch.Tensor, pair: torch.Tensor, node: torch.Tensor, w: torch.Tensor, p: int):
    out = torch.zeros(p, x.size(1), dtype=x.dtype)
    for a, b, c in zip(pair.tolist(), node.tolist(), w.tolist(), strict=True):
        out[a] += c * x[b]
    return out


def _segment_path(
    x: torch.Tensor, members: PairNodeSet, weight: torch.Tensor | None, num_pairs: int, budget: int
) -> torch.Tensor:
    """The non-CPU gather path, run on CPU (the CUDA machines are not always there)."""
    ptr = common._pair_ptr(members.pair_idx, num_pairs)
    return common._pair_segment_sum(x, members.node_idx, weight, ptr, budget)


@pytest.mark.parametrize("path", ["cpu", "segment"])
@pytest.mark.parametrize("block_members", [1, 5, 13, 10_000])
def test_pair_sum_in_blocks_equals_a_loop_with_gradients(
    path: str, block_members: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(30, 6, dtype=torch.float64, generator=gen, requires_grad=True)
    num_pairs = 25  # some pairs, at both ends too, have no member
    pair = torch.sort(torch.randint(2, 22, (120,), generator=gen))[0]
    node = torch.randint(0, 30, (120,), generator=gen)
    weight = torch.rand(120, dtype=torch.float64, generator=gen)
    monkeypatch.setattr(common, "PAIR_SUM_BLOCK_BYTES", block_members * 6 * 8)
    monkeypatch.setattr(common, "PAIR_SUM_SPMM_MIN_MEMBERS_PER_PAIR", float("inf"))  # gather
    if path == "cpu":
        out = pair_sum(x, PairNodeSet(pair, node), num_pairs, weight)
    else:
        out = _segment_path(x, PairNodeSet(pair, node), weight, num_pairs, block_members)
    expected = _loop_sum(x.detach(), pair, node, weight, num_pairs)
    assert torch.allclose(out, expected)
    (grad,) = torch.autograd.grad(out.pow(2).sum(), x)
    (expected_grad,) = torch.autograd.grad(
        _loop_sum(x, pair, node, weight, num_pairs).pow(2).sum(), x
    )
    assert torch.allclose(grad, expected_grad)


def _no_gather(*args: object) -> None:
    raise AssertionError("the gather path ran")


@pytest.mark.parametrize("weighted", [False, True])
def test_pair_sum_sparse_product_equals_a_loop_and_passes_gradcheck(
    weighted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(30, 6, dtype=torch.float64, generator=gen, requires_grad=True)
    num_pairs = 25  # 120 members: 4.8 per pair, the sparse product's side of the rule
    pair = torch.sort(torch.randint(2, 22, (120,), generator=gen))[0]
    node = torch.randint(0, 30, (120,), generator=gen)
    weight = torch.rand(120, dtype=torch.float64, generator=gen) if weighted else None
    members = PairNodeSet(pair, node)
    monkeypatch.setattr(common, "_pair_block_sum", _no_gather)
    monkeypatch.setattr(common, "_pair_index_add", _no_gather)
    out = pair_sum(x, members, num_pairs, weight)
    ones = torch.ones(120, dtype=torch.float64)
    expected = _loop_sum(x.detach(), pair, node, ones if weight is None else weight, num_pairs)
    assert torch.allclose(out, expected)
    assert torch.autograd.gradcheck(lambda t: pair_sum(t, members, num_pairs, weight), (x,))


def test_pair_sum_paths_agree_and_are_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(200, 16, generator=gen, requires_grad=True)
    pair = torch.sort(torch.randint(0, 50, (2_000,), generator=gen))[0]
    members = PairNodeSet(pair, torch.randint(0, 200, (2_000,), generator=gen))
    weight = torch.rand(2_000, generator=gen)
    upstream = torch.randn(50, 16, generator=gen)

    def run() -> tuple[torch.Tensor, torch.Tensor]:
        out = pair_sum(x, members, 50, weight)
        (grad,) = torch.autograd.grad(out, x, upstream)
        return out.detach(), grad

    sparse, again = run(), run()
    assert torch.equal(sparse[0], again[0])
    assert torch.equal(sparse[1], again[1])
    monkeypatch.setattr(common, "PAIR_SUM_SPMM_MIN_MEMBERS_PER_PAIR", float("inf"))
    gathered = run()
    assert torch.allclose(sparse[0], gathered[0], atol=1e-5)
    assert torch.allclose(sparse[1], gathered[1], atol=1e-5)
    # A weight that needs its own gradient (NCNC's learned pt) takes the gather path.
    monkeypatch.setattr(common, "PAIR_SUM_SPMM_MIN_MEMBERS_PER_PAIR", 1.0)
    learned = weight.clone().requires_grad_()
    out = pair_sum(x, members, 50, learned)
    (grad_w,) = torch.autograd.grad(out.sum(), learned)
    assert grad_w.shape == learned.shape


def test_pair_sum_of_no_members_is_zero() -> None:
    x = torch.randn(4, 3)
    empty = torch.zeros(0, dtype=torch.long)
    assert torch.equal(pair_sum(x, PairNodeSet(empty, empty), 5), torch.zeros(5, 3))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("kind", ["gae", "ncn", "ncnc", "ncn-diff"])
def test_predictors_refuse_non_finite_embeddings(kind: str, bad: float) -> None:
    from graphpair.nn import GAEPredictor, NCNCPredictor, NCNDiffPredictor, NCNPredictor
    from graphpair.ops import CSR

    predictor = {
        "gae": lambda: GAEPredictor(4, 8),
        "ncn": lambda: NCNPredictor(4, 8),
        "ncnc": lambda: NCNCPredictor(4, 8),
        "ncn-diff": lambda: NCNDiffPredictor(4, 8),
    }[kind]()
    adj = CSR.from_edge_index(torch.tensor([[0, 0, 1, 1, 2, 2], [1, 2, 0, 2, 0, 1]]), 3)
    h = torch.randn(3, 4)
    pairs = torch.tensor([[0], [1]])
    assert torch.isfinite(predictor(h, adj, pairs)).all()
    h[2, 1] = bad
    with pytest.raises(ValueError, match="h must be finite; found 1 NaN or infinite"):
        predictor(h, adj, pairs)


def test_embeddings_are_checked_once_per_tensor_and_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An evaluation's chunks score one embedding: it is checked in the first call only, again
    after an in-place change, and in every call for an inference tensor (no version)."""
    from graphpair.nn import NCNPredictor
    from graphpair.ops import CSR

    checked: list[torch.Tensor] = []
    real = common.check_finite

    def counting(name: str, value: torch.Tensor) -> torch.Tensor:
        checked.append(value)
        return real(name, value)

    monkeypatch.setattr(common, "check_finite", counting)
    predictor = NCNPredictor(4, 8).eval()
    adj = CSR.from_edge_index(torch.tensor([[0, 0, 1, 1, 2, 2], [1, 2, 0, 2, 0, 1]]), 3)
    h, pairs = torch.randn(3, 4), torch.tensor([[0, 1], [1, 2]])
    with torch.no_grad():
        first = predictor(h, adj, pairs)
        for _ in range(3):
            assert torch.equal(predictor(h, adj, pairs), first)
        assert len(checked) == 1
        assert checked[0] is h
        predictor(h.clone(), adj, pairs)  # another tensor: checked
        assert len(checked) == 2
        h[0, 0] = float("nan")  # the version counter moves: checked, refused
        with pytest.raises(ValueError, match="h must be finite"):
            predictor(h, adj, pairs)
        h[0, 0] = 0.0
        h[1, :2].mul_(2.0)  # through a view: the same counter
        predictor(h, adj, pairs)
        assert len(checked) == 4
        h[1, :2].fill_(float("inf"))
        with pytest.raises(ValueError, match="h must be finite"):
            predictor(h, adj, pairs)
    with torch.inference_mode():
        frozen = torch.randn(3, 4)
        for _ in range(2):
            predictor(frozen, adj, pairs)
    assert len(checked) == 7


def test_endpoint_product_matches_indexing_and_its_gradient_repeats_on_two_threads() -> None:
    from graphpair.nn.link._common import endpoint_product

    generator = torch.Generator().manual_seed(0)
    h = torch.randn(6, 3, dtype=torch.float64, generator=generator, requires_grad=True)
    pairs = torch.tensor([[0, 1, 1, 5, 0], [2, 2, 3, 4, 0]])
    torch.testing.assert_close(endpoint_product(h, pairs), h[pairs[0]] * h[pairs[1]])
    assert torch.autograd.gradcheck(lambda t: endpoint_product(t, pairs), (h,))
    # Many pairs on few nodes: the accumulating index_put_ behind h[idx] varied here.
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        big = torch.randn(500, 64, generator=generator, requires_grad=True)
        many = torch.randint(0, 500, (2, 60_000), generator=generator)
        weight = torch.randn(60_000, 64, generator=generator)
        grads = [
            torch.autograd.grad((endpoint_product(big, many) * weight).sum(), big)[0]
            for _ in range(4)
        ]
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(grads[0], g) for g in grads[1:])
