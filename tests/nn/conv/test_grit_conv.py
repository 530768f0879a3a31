from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import torch
from torch import Tensor

from graphpair.nn import GRITConv
from graphpair.nn.conv import pair_layout, signed_sqrt
from graphpair.transforms import rrwp


@pytest.fixture(autouse=True)
def single_thread() -> Iterator[None]:
    """One intra-op thread: on these tiny tensors two OpenMP threads only wait for each other,
    and on a shared 2-core machine that wait made a step 50x slower. Results are unchanged."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# Spec grit.md §2: a plain, dense transcription used as the reference (float64).


def relu_signed_sqrt(u: Tensor) -> Tensor:
    """The reference's form, through autograd."""
    return torch.sqrt(torch.relu(u)) - torch.sqrt(torch.relu(-u))


def dense_conv(
    conv: GRITConv, x: Tensor, pair_index: Tensor, pair_attr: Tensor, log_deg: Tensor | None
) -> tuple[Tensor, Tensor]:
    """Spec §2.3-§2.6 on dense [target, source] tensors, a Python loop over the pairs."""
    n, d = x.shape
    h, dh = conv.heads, conv.channels // conv.heads
    query = x @ conv.lin_query.weight.T + conv.lin_query.bias
    key = x @ conv.lin_key.weight.T
    value = x @ conv.lin_value.weight.T
    edge = pair_attr @ conv.lin_edge.weight.T + conv.lin_edge.bias
    present = torch.zeros(n, n, dtype=torch.bool)
    pair_new = [x.new_zeros(d) for _ in range(pair_index.size(1))]
    dense = [[x.new_zeros(d) for _ in range(n)] for _ in range(n)]
    for p, (s, t) in enumerate(pair_index.t().tolist()):
        u = (key[s] + query[t]) * edge[p, :d]  # key and query ADDED, gated by E_w
        pair_new[p] = torch.relu(relu_signed_sqrt(u) + edge[p, d:])
        dense[t][s] = pair_new[p]
        present[t, s] = True
    e_hat = torch.stack([torch.stack(row) for row in dense])  # [N (target), N (source), D]
    logits = (e_hat.view(n, n, h, dh) * conv.att.view(1, 1, h, dh)).sum(-1)  # [N, N, H]
    if conv.clamp is not None:
        logits = logits.clamp(-conv.clamp, conv.clamp)
    logits = logits.masked_fill(~present.unsqueeze(-1), float("-inf"))
    alpha = torch.softmax(logits, dim=1).nan_to_num(0.0)  # over the sources of each target
    out = torch.einsum("tsh,shc->thc", alpha, value.view(n, h, dh))
    if conv.edge_value is not None:
        agg = torch.einsum("tsh,tshc->thc", alpha, e_hat.view(n, n, h, dh))
        out = out + torch.einsum("thd,hdc->thc", agg, conv.edge_value)
    out = out.reshape(n, d)
    if conv.deg_coef is not None:
        assert log_deg is not None
        out = conv.deg_coef[0] * out + conv.deg_coef[1] * (log_deg.unsqueeze(-1) * out)
    out = out @ conv.lin_out.weight.T + conv.lin_out.bias
    if conv.lin_pair_out is None:
        return out, pair_attr
    stacked = torch.stack(pair_new)
    return out, stacked @ conv.lin_pair_out.weight.T + conv.lin_pair_out.bias


def graph_pairs(num_nodes: int, seed: int, *, full: bool = True) -> tuple[Tensor, Tensor]:
    """A random undirected graph's RRWP pairs and log-degree."""
    gen = torch.Generator().manual_seed(seed)
    edges = torch.randint(0, num_nodes, (2, num_nodes + 1), generator=gen)
    edges = edges[:, edges[0] != edges[1]]
    edges = torch.cat([edges, edges.flip(0)], 1)
    enc = rrwp(edges, 4, num_nodes, full_pairs=full, dtype=torch.float64)
    return enc.pair_index, enc.log_deg


def make_conv(channels: int = 8, heads: int = 2, seed: int = 0, **kwargs: object) -> GRITConv:
    torch.manual_seed(seed)
    return GRITConv(channels, heads=heads, **kwargs).double()  # type: ignore[arg-type]


def random_inputs(num_nodes: int, num_pairs: int, channels: int, seed: int) -> tuple[Tensor, ...]:
    gen = torch.Generator().manual_seed(seed + 100)
    x = torch.randn(num_nodes, channels, generator=gen, dtype=torch.float64)
    e = torch.randn(num_pairs, channels, generator=gen, dtype=torch.float64)
    return x, e


@pytest.mark.parametrize("num_nodes", [3, 4, 5, 6])
@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_matches_dense_reference(num_nodes: int, full: bool, training: bool) -> None:
    pair_index, log_deg = graph_pairs(num_nodes, num_nodes, full=full)
    conv = make_conv(seed=num_nodes).train(training)
    x, e = random_inputs(num_nodes, pair_index.size(1), 8, num_nodes)
    out, pair_out = conv(x, pair_index, e, log_deg=log_deg)
    ref_out, ref_pair = dense_conv(conv, x, pair_index, e, log_deg)
    torch.testing.assert_close(out, ref_out, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(pair_out, ref_pair, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "options",
    [
        {"deg_scaler": False},
        {"edge_enhance": False},
        {"clamp": None},
        {"clamp": 0.1},
        {"update_pairs": False},
        {"heads": 1},
        {"heads": 8},
    ],
)
def test_options_match_dense_reference(options: dict[str, object]) -> None:
    pair_index, log_deg = graph_pairs(5, 1)
    conv = make_conv(**options)  # type: ignore[arg-type]
    x, e = random_inputs(5, pair_index.size(1), 8, 1)
    out, pair_out = conv(x, pair_index, e, log_deg=log_deg)
    ref_out, ref_pair = dense_conv(conv, x, pair_index, e, log_deg)
    torch.testing.assert_close(out, ref_out, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(pair_out, ref_pair, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "options", [{}, {"clamp": 0.3}, {"edge_enhance": False}, {"update_pairs": False}]
)
def test_gradients_match_dense_reference(options: dict[str, object]) -> None:
    # The hand-written backward pass against autograd through the dense reference, for the
    # inputs and every parameter (clamp=0.3 clamps most logits).
    pair_index, log_deg = graph_pairs(6, 3, full=False)
    conv = make_conv(seed=3, **options)  # type: ignore[arg-type]
    x, e = random_inputs(6, pair_index.size(1), 8, 3)
    x.requires_grad_()
    e.requires_grad_()
    weights = torch.randn(6, 8, dtype=torch.float64), torch.randn(e.shape, dtype=torch.float64)

    def grads(fn: object) -> list[Tensor]:
        conv.zero_grad()
        x.grad = e.grad = None
        out, pair_out = fn(conv, x, pair_index, e, log_deg)  # type: ignore[operator]
        ((out * weights[0]).sum() + (pair_out * weights[1]).sum()).backward()
        return [x.grad, e.grad, *(p.grad for p in conv.parameters())]  # type: ignore[list-item]

    ours = grads(lambda c, *a: c(*a[:3], log_deg=a[3]))
    reference = grads(dense_conv)
    for mine, theirs in zip(ours, reference, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-9, atol=1e-10)


def test_gradcheck_float64() -> None:
    pair_index, log_deg = graph_pairs(4, 7, full=False)
    conv = make_conv(channels=4, heads=2, seed=7)
    x, e = random_inputs(4, pair_index.size(1), 4, 7)
    x.requires_grad_()
    e.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda a, b: conv(a, pair_index, b, log_deg=log_deg),
        (x, e),
        eps=1e-6,
        atol=1e-5,
        fast_mode=True,
    )


def test_gradcheck_with_attention_dropout() -> None:
    # The same dropout mask on every evaluation (reseeded), so the function is deterministic.
    pair_index, log_deg = graph_pairs(4, 9)
    conv = make_conv(channels=4, heads=2, seed=9, attn_dropout=0.5, dropout=0.2)
    x, e = random_inputs(4, pair_index.size(1), 4, 9)
    x.requires_grad_()
    e.requires_grad_()

    def run(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
        torch.manual_seed(0)
        return conv(a, pair_index, b, log_deg=log_deg)  # type: ignore[no-any-return]

    assert torch.autograd.gradcheck(run, (x, e), eps=1e-6, atol=1e-5, fast_mode=True)


def test_unsorted_pairs_give_the_same_result_in_input_order() -> None:
    pair_index, log_deg = graph_pairs(6, 2)
    conv = make_conv(seed=2)
    x, e = random_inputs(6, pair_index.size(1), 8, 2)
    out, pair_out = conv(x, pair_index, e, log_deg=log_deg)
    perm = torch.randperm(pair_index.size(1), generator=torch.Generator().manual_seed(0))
    out_perm, pair_out_perm = conv(x, pair_index[:, perm], e[perm], log_deg=log_deg)
    torch.testing.assert_close(out_perm, out)
    torch.testing.assert_close(pair_out_perm, pair_out[perm])


def test_permutation_equivariance() -> None:
    n = 6
    pair_index, log_deg = graph_pairs(n, 4)
    conv = make_conv(seed=4)
    x, e = random_inputs(n, pair_index.size(1), 8, 4)
    out, pair_out = conv(x, pair_index, e, log_deg=log_deg)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(1))  # new -> old
    new_id = torch.empty_like(perm)
    new_id[perm] = torch.arange(n)
    relabelled = new_id[pair_index]
    out_p, pair_out_p = conv(x[perm], relabelled, e, log_deg=log_deg[perm])
    torch.testing.assert_close(out_p, out[perm])
    torch.testing.assert_close(pair_out_p, pair_out)


def test_shared_layout_gives_the_same_result() -> None:
    pair_index, log_deg = graph_pairs(5, 5)
    conv = make_conv(seed=5)
    x, e = random_inputs(5, pair_index.size(1), 8, 5)
    expected = conv(x, pair_index, e, log_deg=log_deg)
    got = conv(x, pair_index, e, log_deg=log_deg, layout=pair_layout(pair_index, 5))
    torch.testing.assert_close(got, expected)


def test_signed_sqrt_values_and_gradient() -> None:
    u = torch.tensor([-4.0, -1e-6, 0.0, 1e-6, 2.25], dtype=torch.float64, requires_grad=True)
    out = signed_sqrt(u)
    torch.testing.assert_close(out, relu_signed_sqrt(u.detach()))
    out.sum().backward()
    assert u.grad is not None
    expected = 0.5 / u.detach().abs().sqrt()
    expected[2] = 0.0
    torch.testing.assert_close(u.grad, expected)
    away = torch.tensor([-3.0, -0.5, 0.7, 2.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(signed_sqrt, (away,))


def test_gradient_at_exactly_zero_is_finite_and_matches_the_relu_form() -> None:
    u = torch.zeros(5, requires_grad=True)
    signed_sqrt(u).sum().backward()
    assert u.grad is not None
    assert torch.equal(u.grad, torch.zeros(5))
    # sign * sqrt through autograd is the NaN the relu form avoids.
    v = torch.zeros(5, requires_grad=True)
    (v.sign() * v.abs().sqrt()).sum().backward()
    assert v.grad is not None
    assert torch.isnan(v.grad).all()


def test_layer_gradient_is_nan_free_when_the_gate_is_zero() -> None:
    # E_w = 0 on every pair: u = 0 exactly everywhere, the signed sqrt's singular point.
    pair_index, log_deg = graph_pairs(4, 0)
    conv = make_conv(seed=0)
    with torch.no_grad():
        conv.lin_edge.weight[:8].zero_()
        conv.lin_edge.bias[:8].zero_()
    x, e = random_inputs(4, pair_index.size(1), 8, 0)
    x.requires_grad_()
    e.requires_grad_()
    out, pair_out = conv(x, pair_index, e, log_deg=log_deg)
    (out.sum() + pair_out.sum()).backward()
    for tensor in [x.grad, e.grad, *(p.grad for p in conv.parameters())]:
        assert tensor is not None
        assert torch.isfinite(tensor).all()
    reference = make_conv(seed=0)
    reference.load_state_dict(conv.state_dict())
    x2, e2 = x.detach().requires_grad_(), e.detach().requires_grad_()
    ref_out, ref_pair = dense_conv(reference, x2, pair_index, e2, log_deg)
    (ref_out.sum() + ref_pair.sum()).backward()
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(e.grad, e2.grad)


def test_attention_dropout_only_in_training() -> None:
    pair_index, log_deg = graph_pairs(5, 6)
    conv = make_conv(seed=6, attn_dropout=0.5, dropout=0.3)
    x, e = random_inputs(5, pair_index.size(1), 8, 6)
    conv.eval()
    ref = dense_conv(conv, x, pair_index, e, log_deg)
    torch.testing.assert_close(conv(x, pair_index, e, log_deg=log_deg), ref)
    conv.train()
    torch.manual_seed(0)
    first = conv(x, pair_index, e, log_deg=log_deg)
    assert not torch.allclose(first[0], ref[0])


def test_update_pairs_false_returns_the_input_pairs() -> None:
    pair_index, log_deg = graph_pairs(4, 1)
    conv = make_conv(update_pairs=False)
    assert conv.lin_pair_out is None
    x, e = random_inputs(4, pair_index.size(1), 8, 1)
    _, pair_out = conv(x, pair_index, e, log_deg=log_deg)
    assert pair_out is e


def test_parameter_count_and_init() -> None:
    conv = GRITConv(64, heads=8)
    # Q (with bias) 4,160 + K 4,096 + V 4,096 + E 8,320 + a 64 + W_Ev 512 + theta 128
    # + O_h 4,160 + O_e 4,160 (spec §2.2, without the block's norms and FFN).
    assert sum(p.numel() for p in conv.parameters()) == 29_696
    assert GRITConv(64, heads=8, update_pairs=False).lin_pair_out is None
    torch.manual_seed(0)
    stds = [GRITConv(64, heads=8).att.std().item() for _ in range(20)]
    assert abs(sum(stds) / len(stds) - 0.354) < 0.03  # Xavier-normal of the [8, 8, 1] tensor


def test_reset_parameters_twice_and_repr() -> None:
    conv = make_conv()
    conv.reset_parameters()
    conv.reset_parameters()
    assert torch.isfinite(conv.att).all()
    assert repr(conv) == (
        "GRITConv(8, heads=2, dropout=0.0, attn_dropout=0.0, clamp=5.0, deg_scaler=True, "
        "edge_enhance=True, update_pairs=True)"
    )


def test_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="heads must divide channels=8; got heads=3"):
        GRITConv(8, heads=3)
    with pytest.raises(ValueError, match="dropout"):
        GRITConv(8, heads=2, dropout=1.5)
    with pytest.raises(ValueError, match="clamp"):
        GRITConv(8, heads=2, clamp=-1.0)
    conv = make_conv()
    pair_index, log_deg = graph_pairs(4, 0)
    x, e = random_inputs(4, pair_index.size(1), 8, 0)
    with pytest.raises(ValueError, match="log_deg"):
        conv(x, pair_index, e)
    with pytest.raises(ValueError, match="pair_attr must have one row per pair"):
        conv(x, pair_index, e[1:], log_deg=log_deg)
    with pytest.raises(ValueError, match="x has 3 columns"):
        conv(x[:, :3], pair_index, e, log_deg=log_deg)
    with pytest.raises(ValueError, match="pair_index entries must be < 4"):
        conv(x, pair_index + 1, e, log_deg=log_deg)
    with pytest.raises(ValueError, match="layout describes"):
        conv(x, pair_index, e, log_deg=log_deg, layout=pair_layout(pair_index[:, :3], 4))
    with pytest.raises(ValueError, match="sorted by target"):
        pair_layout(pair_index.flip(1), 4)


@pytest.mark.skipif(
    os.environ.get("GRAPHPAIR_TEST_COMPILE") != "1",
    reason="compiles the fused kernels with torch.compile (up to a minute on 2 cores); "
    "set GRAPHPAIR_TEST_COMPILE=1 to run",
)
# torch's compiler stack imports modules that use deprecated torch.jit APIs.
@pytest.mark.filterwarnings("ignore::DeprecationWarning:torch.*")
def test_fused_kernels_match_eager() -> None:
    pair_index, log_deg = graph_pairs(6, 8, full=False)
    eager = make_conv(seed=8).float()
    fused = GRITConv(8, heads=2, fused=True)
    fused.load_state_dict(eager.state_dict())
    x, e = (t.float() for t in random_inputs(6, pair_index.size(1), 8, 8))
    results = []
    for conv in (eager, fused):
        conv.zero_grad()
        xr, er = x.clone().requires_grad_(), e.clone().requires_grad_()
        out, pair_out = conv(xr, pair_index, er, log_deg=log_deg.float())
        (out.square().sum() + pair_out.square().sum()).backward()
        results.append([out, pair_out, xr.grad, er.grad, *(p.grad for p in conv.parameters())])
    for mine, theirs in zip(results[1], results[0], strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-5)
