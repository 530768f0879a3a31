from __future__ import annotations

import math
from collections import Counter

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor

from graphpair.nn import SINCConv, SIRConv
from graphpair.nn.conv._sinc_conv import sym_norm
from tests.graphs import graphs, random_edge_index

AGGRS = ["sum", "mean", "max", "sym"]
PAIRS = [(a, c) for a in AGGRS for c in [*AGGRS, None]]  # None: no context (SIR)

# Undirected path 0 - 1 - 2, both directions.
PATH = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
PATH_X = torch.tensor([[1.0], [-2.0], [3.0]], dtype=torch.float64)


def make(aggr: str, context: str | None, *args: object, **kwargs: object) -> SINCConv:
    torch.manual_seed(0)
    conv = SINCConv(*args, aggr=aggr, context_aggr=context, **kwargs)  # type: ignore[arg-type]
    return conv.double().eval()


def fill(conv: SINCConv, weight: float = 1.0, bias: float = 0.0) -> SINCConv:
    with torch.no_grad():
        for name, param in conv.named_parameters():
            param.fill_(bias if name.endswith("bias") else weight)
    return conv


def reference(
    conv: SINCConv,
    x_src: Tensor,
    x_dst: Tensor,
    edge_index: Tensor,
    edge_attr: Tensor | None = None,
) -> Tensor:
    """A plain loop over target nodes and their edges, with W_R applied to every message
    (no linearity trick) and the context aggregated edge by edge."""
    src, dst = edge_index.tolist()
    deg_out, deg_in = Counter(src), Counter(dst)
    hidden, out_dim = conv.hidden_channels, conv.out_channels
    w_q, w_k, w_r = conv.lin_query.weight, conv.lin_key.weight, conv.lin_relation.weight
    zero_h = x_dst.new_zeros(hidden)
    b_q = conv.lin_query.bias if conv.lin_query.bias is not None else zero_h
    b_r = conv.lin_relation.bias if conv.lin_relation.bias is not None else x_dst.new_zeros(out_dim)

    def weight(kind: str, u: int, v: int, count: int) -> float:
        if kind == "mean":
            return 1.0 / count
        if kind == "sym":
            return 1.0 / math.sqrt(max(deg_out[v], 1) * max(deg_in[u], 1))
        return 1.0

    rows = []
    for u in range(x_dst.size(0)):
        edges = [e for e in range(len(dst)) if dst[e] == u]
        if not edges:
            rows.append(x_dst.new_zeros(out_dim) if conv.aggr == "max" else b_r)
            continue
        context = zero_h
        if conv.context_aggr == "max":
            assert conv.lin_context is not None
            top = torch.stack([x_src[src[e]] for e in edges]).amax(0)
            context = conv.lin_context.weight @ top
        elif conv.context_aggr is not None:
            assert conv.lin_context is not None
            total = sum(
                weight(conv.context_aggr, u, src[e], len(edges)) * x_src[src[e]] for e in edges
            )
            context = conv.lin_context.weight @ total
        messages = []
        for e in edges:
            pre = w_q @ x_dst[u] + b_q + w_k @ x_src[src[e]] + context
            if edge_attr is not None:
                assert conv.lin_edge is not None
                pre = pre + conv.lin_edge.weight @ edge_attr[e]
            message = w_r @ conv.act(pre)
            if conv.aggr == "max":
                messages.append(message + b_r)
            else:
                messages.append(weight(conv.aggr, u, src[e], len(edges)) * message)
        stacked = torch.stack(messages)
        rows.append(stacked.amax(0) if conv.aggr == "max" else stacked.sum(0) + b_r)
    return torch.stack(rows)


def features(num_nodes: int, dim: int, seed: int) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(num_nodes, dim, dtype=torch.float64, generator=gen)


# ---------------------------------------------------------------------- the spec's exact example


@pytest.mark.parametrize(
    ("aggr", "context", "expected"),
    [
        ("sum", "sum", [0.0, 8.0, 0.0]),
        ("mean", "mean", [0.0, 2.0, 0.0]),
        ("sym", "sym", [0.0, 4.0, 0.0]),
        ("max", "sum", [0.0, 5.0, 0.0]),
        ("sum", None, [0.0, 1.0, 1.0]),
    ],
)
def test_path_graph_by_hand(aggr: str, context: str | None, expected: list[float]) -> None:
    conv = fill(make(aggr, context, 1, 1))
    out = conv(PATH_X, PATH)
    torch.testing.assert_close(out.view(-1), torch.tensor(expected, dtype=torch.float64))


def test_path_graph_contexts_by_hand() -> None:
    """c = [-2, 4, -2] (sum), [-2, 2, -2] (mean), [-√2, 2√2, -√2] (sym), [-2, 3, -2] (max)."""
    src, dst = PATH
    expected = {
        "sum": [-2.0, 4.0, -2.0],
        "mean": [-2.0, 2.0, -2.0],
        "sym": [-math.sqrt(2), 2 * math.sqrt(2), -math.sqrt(2)],
        "max": [-2.0, 3.0, -2.0],
    }
    for context, values in expected.items():
        conv = fill(make("sum", context, 1, 1))
        norm = sym_norm(src, dst, 3, 3, torch.float64)
        got = conv._context(PATH_X, src, dst, 3, norm)
        torch.testing.assert_close(got.view(-1), torch.tensor(values, dtype=torch.float64))


def test_sir_class_is_sinc_without_context() -> None:
    sir = fill(SIRConv(1, 1).double())
    torch.testing.assert_close(sir(PATH_X, PATH).view(-1), PATH_X.new_tensor([0.0, 1.0, 1.0]))
    assert sir.lin_context is None
    assert sir.context_aggr is None
    assert isinstance(sir, SINCConv)


# ---------------------------------------------------------------------- against the plain loop


@pytest.mark.parametrize(("aggr", "context"), PAIRS)
@pytest.mark.parametrize(("in_dim", "hidden"), [(5, 3), (2, 4)])
def test_matches_per_edge_loop_on_random_graphs(
    aggr: str, context: str | None, in_dim: int, hidden: int
) -> None:
    """(5, 3) aggregates the context after W_N, (2, 4) before it: both must agree."""
    num_nodes = 9
    edge_index = random_edge_index(num_nodes, 24, seed=3)  # 2 isolated, duplicates, self loops
    x = features(num_nodes, in_dim, seed=1)
    conv = make(aggr, context, in_dim, 6, hidden_channels=hidden)
    with torch.no_grad():
        conv.lin_relation.bias.normal_()  # so that a wrong bias placement shows
    torch.testing.assert_close(conv(x, edge_index), reference(conv, x, x, edge_index))


@pytest.mark.parametrize(("aggr", "context"), [("sum", "max"), ("max", "sym"), ("sym", None)])
def test_edge_features_and_bipartite_input_match_the_loop(aggr: str, context: str | None) -> None:
    gen = torch.Generator().manual_seed(5)
    num_src, num_dst, num_edges = 7, 5, 20
    edge_index = torch.stack(
        [
            torch.randint(0, num_src, (num_edges,), generator=gen),
            torch.randint(0, num_dst - 1, (num_edges,), generator=gen),  # last target isolated
        ]
    )
    x_src, x_dst = features(num_src, 3, seed=2), features(num_dst, 4, seed=3)
    edge_attr = features(num_edges, 2, seed=4)
    conv = make(aggr, context, (3, 4), 5, hidden_channels=6, edge_dim=2)
    out = conv((x_src, x_dst), edge_index, edge_attr)
    assert out.shape == (num_dst, 5)
    torch.testing.assert_close(out, reference(conv, x_src, x_dst, edge_index, edge_attr))


@pytest.mark.parametrize(("aggr", "context"), [("sum", "sym"), ("max", "mean"), ("mean", None)])
def test_gradients_match_the_loop(aggr: str, context: str | None) -> None:
    """The in-place gather/add/ReLU path gives the same gradients as out-of-place autograd."""
    edge_index = random_edge_index(8, 20, seed=7)
    x = features(8, 3, seed=8).requires_grad_()
    conv = make(aggr, context, 3, 4, hidden_channels=5)
    weights = torch.randn(8, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    params = list(conv.parameters())
    got = torch.autograd.grad((conv(x, edge_index) * weights).sum(), [x, *params])
    want = torch.autograd.grad((reference(conv, x, x, edge_index) * weights).sum(), [x, *params])
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w)


@given(graph=graphs(max_nodes=8, max_edges=20), pair=st.sampled_from(PAIRS))
@settings(max_examples=40)
def test_any_multigraph_matches_the_loop(
    graph: tuple[Tensor, int], pair: tuple[str, str | None]
) -> None:
    edge_index, num_nodes = graph
    conv = make(pair[0], pair[1], 2, 3, hidden_channels=4)
    x = features(num_nodes, 2, seed=num_nodes)
    torch.testing.assert_close(conv(x, edge_index), reference(conv, x, x, edge_index))


# ---------------------------------------------------------------------- properties


@pytest.mark.parametrize("aggr", AGGRS)
def test_isolated_nodes_get_the_bias_or_zero(aggr: str) -> None:
    conv = make(aggr, "sum", 3, 4)
    x = features(5, 3, seed=0)
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 0]])  # nodes 3 and 4 have no in-neighbours
    out = conv(x, edge_index)
    isolated = out[3:]
    if aggr == "max":
        torch.testing.assert_close(isolated, torch.zeros_like(isolated))
    else:
        torch.testing.assert_close(isolated, conv.lin_relation.bias.expand(2, -1))
    empty = conv(x, torch.empty(2, 0, dtype=torch.long))
    assert empty.shape == (5, 4)


@pytest.mark.parametrize(("aggr", "context"), [("sum", "sum"), ("max", "max"), ("sym", "mean")])
def test_permutation_equivariance(aggr: str, context: str) -> None:
    num_nodes = 10
    edge_index = random_edge_index(num_nodes, 30, seed=11)
    x = features(num_nodes, 3, seed=12)
    conv = make(aggr, context, 3, 4)
    out = conv(x, edge_index)
    gen = torch.Generator().manual_seed(13)
    perm = torch.randperm(num_nodes, generator=gen)  # new id of old node i is perm[i]
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(num_nodes)
    order = torch.randperm(edge_index.size(1), generator=gen)  # edge order must not matter
    permuted = conv(x[inverse], perm[edge_index][:, order])
    torch.testing.assert_close(permuted, out[inverse])


def test_zero_context_map_gives_sir() -> None:
    sinc = make("mean", "max", 3, 4)
    sir = SIRConv(3, 4, aggr="mean").double()
    sir.load_state_dict({k: v for k, v in sinc.state_dict().items() if "lin_context" not in k})
    with torch.no_grad():
        assert sinc.lin_context is not None
        sinc.lin_context.weight.zero_()
    edge_index = random_edge_index(8, 20, seed=1)
    x = features(8, 3, seed=2)
    torch.testing.assert_close(sinc(x, edge_index), sir(x, edge_index))


def test_sym_on_a_regular_graph_is_sum_over_degree() -> None:
    # Cycle of 6 nodes, both directions: every node has in- and out-degree 2.
    ring = torch.arange(6)
    edge_index = torch.cat(
        [torch.stack([ring, (ring + 1) % 6]), torch.stack([(ring + 1) % 6, ring])], 1
    )
    x = features(6, 3, seed=4)
    sym = make("sym", "sym", 3, 4, bias=False)
    plain = make("sum", "mean", 3, 4, bias=False)  # same seed: same weights
    torch.testing.assert_close(sym(x, edge_index), plain(x, edge_index) / 2)


def test_linearity_trick_never_stores_per_edge_weight_products() -> None:
    """Saved activations are at most [E, D]: no [E, D_in, D_hidden] tensor, and W_R runs per
    edge (an [E, D_out] tensor) only under max."""
    num_nodes, num_edges, d_in, d_hidden, d_out = 12, 40, 11, 5, 7
    edge_index = random_edge_index(num_nodes, num_edges, seed=0, duplicates=0, self_loops=0)
    x = features(num_nodes, d_in, seed=1).requires_grad_()
    for aggr in AGGRS:
        for context in AGGRS:
            conv = make(aggr, context, d_in, d_out, hidden_channels=d_hidden)
            shapes: list[tuple[int, ...]] = []

            def pack(t: Tensor, shapes: list[tuple[int, ...]] = shapes) -> Tensor:
                shapes.append(tuple(t.shape))
                return t

            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                conv(x, edge_index).sum()
            biggest = max(math.prod(s) for s in shapes)
            assert biggest <= num_edges * d_in, (aggr, context, shapes)
            per_edge_out = (num_edges, d_out) in shapes
            assert per_edge_out == (aggr == "max"), (aggr, context, shapes)


# ---------------------------------------------------------------------- gradients, dropout


@pytest.mark.parametrize(("aggr", "context"), PAIRS)
def test_gradcheck(aggr: str, context: str | None) -> None:
    edge_index = random_edge_index(6, 14, seed=2)
    conv = make(aggr, context, 3, 2, hidden_channels=4, edge_dim=2)
    x = features(6, 3, seed=3).requires_grad_()
    edge_attr = features(edge_index.size(1), 2, seed=4).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: conv(a, edge_index, b), (x, edge_attr))


def test_every_parameter_gets_a_gradient() -> None:
    conv = make("sum", "sym", 3, 4, edge_dim=2)
    edge_index = random_edge_index(6, 14, seed=2)
    out = conv(features(6, 3, seed=0), edge_index, features(edge_index.size(1), 2, seed=1))
    out.square().sum().backward()
    for name, param in conv.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


def test_dropout_acts_on_query_key_and_context_only_in_training() -> None:
    conv = make("sum", "sum", 3, 4, dropout=0.5)
    edge_index = random_edge_index(6, 14, seed=2, self_loops=0, duplicates=0)
    x = features(6, 3, seed=0)
    clean = conv(x, edge_index)
    conv.train()
    torch.manual_seed(1)
    noisy = conv(x, edge_index)
    torch.manual_seed(1)  # the same masks, drawn in the order query, key, context
    q = torch.nn.functional.dropout(conv.lin_query(x), 0.5)
    k = torch.nn.functional.dropout(conv.lin_key(x), 0.5)
    src, dst = edge_index
    assert conv.lin_context is not None
    c = torch.nn.functional.dropout(
        torch.zeros_like(q).index_add_(0, dst, conv.lin_context(x)[src]), 0.5
    )
    z = torch.relu(q[dst] + c[dst] + k[src])
    expected = conv.lin_relation(torch.zeros_like(q).index_add_(0, dst, z))
    torch.testing.assert_close(noisy, expected)
    assert not torch.allclose(noisy, clean)
    conv.eval()
    torch.testing.assert_close(conv(x, edge_index), clean)


# ---------------------------------------------------------------------- options and errors


def test_activation_choices_and_modules() -> None:
    x, edge_index = features(4, 2, seed=0), random_edge_index(4, 8, seed=0)
    tanh = make("sum", "sum", 2, 3, act="Tanh")
    custom = make("sum", "sum", 2, 3, act=torch.nn.Tanh())
    torch.testing.assert_close(tanh(x, edge_index), custom(x, edge_index))
    leaky = make("mean", None, 2, 3, act="leaky_relu")
    assert isinstance(leaky.act, torch.nn.LeakyReLU)
    assert leaky.act.negative_slope == 0.2
    torch.testing.assert_close(leaky(x, edge_index), reference(leaky, x, x, edge_index))


def test_names_are_case_and_alias_insensitive() -> None:
    conv = SINCConv(2, 3, aggr="ADD", context_aggr="Mean")
    assert (conv.aggr, conv.context_aggr) == ("sum", "mean")


def test_no_biases() -> None:
    conv = make("sum", "sum", 2, 3, inner_bias=False, bias=False)
    assert conv.lin_query.bias is None
    assert conv.lin_relation.bias is None
    out = conv(features(4, 2, seed=0), torch.empty(2, 0, dtype=torch.long))
    torch.testing.assert_close(out, torch.zeros_like(out))


def test_reset_parameters_and_parameter_count() -> None:
    # UniqueSignature sizes (spec §4): SINC 1 -> 16 -> 16 has 352 - 16 (head) = 336 parameters.
    conv = SINCConv(1, 16, hidden_channels=16)
    assert sum(p.numel() for p in conv.parameters()) == 336
    assert sum(p.numel() for p in SIRConv(1, 16).parameters()) == 320
    torch.manual_seed(3)
    conv.reset_parameters()
    first = [p.clone() for p in conv.parameters()]
    torch.manual_seed(3)
    conv.reset_parameters()
    for a, b in zip(first, conv.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_repr() -> None:
    assert repr(SINCConv(8, 16, context_aggr="max")) == (
        "SINCConv(8, 16, hidden_channels=16, aggr='sum', context_aggr='max', act=ReLU(), "
        "dropout=0.0, inner_bias=True, bias=True)"
    )
    assert repr(SIRConv((4, 8), 16, hidden_channels=32, aggr="sym", edge_dim=3)) == (
        "SIRConv((4, 8), 16, hidden_channels=32, aggr='sym', act=ReLU(), dropout=0.0, "
        "edge_dim=3, inner_bias=True, bias=True)"
    )


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"aggr must be one of \['sum', 'mean', 'max', 'sym'\]"):
        SINCConv(2, 3, aggr="softmax")
    with pytest.raises(ValueError, match="context_aggr must be one of"):
        SINCConv(2, 3, context_aggr="std")
    with pytest.raises(ValueError, match="act must be one of"):
        SINCConv(2, 3, act="swish2")
    with pytest.raises(TypeError, match="act must be a torch.nn.Module"):
        SINCConv(2, 3, act=torch.tanh)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dropout must be in"):
        SINCConv(2, 3, dropout=1.0)
    with pytest.raises(ValueError, match="hidden_channels must be >= 1"):
        SINCConv(2, 3, hidden_channels=0)
    with pytest.raises(ValueError, match=r"in_channels must be an int or a \(source, target\)"):
        SINCConv((2, 3, 4), 3)  # type: ignore[arg-type]
    conv = SINCConv(2, 3)
    x = torch.randn(4, 2)
    edge_index = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="x has 3 features but the layer expects 2"):
        conv(torch.randn(4, 3), edge_index)
    with pytest.raises(ValueError, match="x must have a floating-point dtype"):
        conv(torch.ones(4, 2, dtype=torch.long), edge_index)
    with pytest.raises(ValueError, match=r"edge_index\[1\] entries must be < 4; found the entry 4"):
        conv(x, torch.tensor([[0, 1], [1, 4]]))
    with pytest.raises(ValueError, match=r"edge_index must have shape \[2, E\]"):
        conv(x, torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="edge_attr was given but the layer has no edge features"):
        conv(x, edge_index, torch.randn(2, 1))
    with_edges = SINCConv(2, 3, edge_dim=2)
    with pytest.raises(ValueError, match="the layer was built with edge_dim=2; pass edge_attr"):
        with_edges(x, edge_index)
    with pytest.raises(ValueError, match=r"edge_attr must have shape \[E, edge_dim\] = \[2, 2\]"):
        with_edges(x, edge_index, torch.randn(3, 2))
    with pytest.raises(ValueError, match="1-D is accepted only with edge_dim=1"):
        with_edges(x, edge_index, torch.randn(2))
    scalar_edges = SINCConv(2, 3, edge_dim=1)
    assert scalar_edges(x, edge_index, torch.randn(2)).shape == (4, 3)
