from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from graphpair.nn.encoders import MPNNEncoder, pure_propagate
from graphpair.ops import CSR

# 6 nodes, node 5 isolated: N(0) = {1, 2}, N(1) = {0, 2, 3}, N(2) = {0, 1}, N(3) = {1, 4}.
EDGES = [(0, 1), (0, 2), (1, 2), (1, 3), (3, 4)]
N = 6


def edge_index() -> Tensor:
    e = torch.tensor(EDGES).t()
    return torch.cat([e, e.flip(0)], dim=1)


def dense_adjacency(edges: list[tuple[int, int]] = EDGES) -> Tensor:
    a = torch.zeros(N, N, dtype=torch.float64)
    for u, v in edges:
        a[u, v] = a[v, u] = 1.0
    return a


def gcn_matrix(a: Tensor) -> Tensor:
    inv_sqrt = (1.0 + a.sum(1)).rsqrt()
    return inv_sqrt[:, None] * (a + torch.eye(N, dtype=a.dtype)) * inv_sqrt[None, :]


def features(dim: int = 3, seed: int = 0) -> Tensor:
    return torch.randn(N, dim, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def assert_same_values_and_gradients(got: Tensor, want: Tensor, inputs: list[Tensor]) -> None:
    """``got`` equals ``want``, and so do their gradients with respect to ``inputs`` (the
    same ones unused by both) for one random output gradient."""
    torch.testing.assert_close(got, want)
    grad = torch.randn_like(want)
    got_grads = torch.autograd.grad(got, inputs, grad, allow_unused=True, retain_graph=True)
    want_grads = torch.autograd.grad(want, inputs, grad, allow_unused=True, retain_graph=True)
    for g, w in zip(got_grads, want_grads, strict=True):
        assert (g is None) == (w is None)
        if g is not None:
            torch.testing.assert_close(g, w)


def make(*args: object, **kwargs: object) -> MPNNEncoder:
    torch.manual_seed(0)
    return MPNNEncoder(*args, **kwargs).double().eval()  # type: ignore[arg-type]


def test_pure_propagate_matches_dense_weighted_references() -> None:
    x = features()
    ei = edge_index()
    w = torch.rand(ei.size(1), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    a = torch.zeros(N, N, dtype=torch.float64)
    a[ei[1], ei[0]] = w  # a[target, source]
    torch.testing.assert_close(pure_propagate(x, ei, w, N, "gcn"), gcn_matrix(a) @ x)
    torch.testing.assert_close(pure_propagate(x, ei, w, N, "sum"), a @ x)
    mean = torch.zeros_like(x)
    top = torch.zeros_like(x)
    for v in range(N):
        sources = (ei[1] == v).nonzero().view(-1)
        if sources.numel():
            msgs = x[ei[0, sources]] * w[sources, None]
            mean[v], top[v] = msgs.mean(0), msgs.amax(0)
    torch.testing.assert_close(pure_propagate(x, ei, w, N, "mean"), mean)
    torch.testing.assert_close(pure_propagate(x, ei, w, N, "max"), top)


@pytest.mark.parametrize("aggr", ["gcn", "sum", "mean"])
def test_pure_propagate_csr_path_gradients_match_the_scatter_path(aggr: str) -> None:
    # Weights without gradient take the ops layer's CSR product; with gradient, the scatter.
    x = features().requires_grad_()
    ei = edge_index()
    w = torch.rand(ei.size(1), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert torch.autograd.gradcheck(lambda a: pure_propagate(a, ei, w, N, aggr), x)
    grad = torch.randn(N, 3, dtype=torch.float64)
    (csr_grad,) = torch.autograd.grad(pure_propagate(x, ei, w, N, aggr), x, grad)
    w_grad = w.clone().requires_grad_()
    (scatter_grad,) = torch.autograd.grad(pure_propagate(x, ei, w_grad, N, aggr), x, grad)
    torch.testing.assert_close(csr_grad, scatter_grad)


def test_gcn_propagation_on_csr_entries_matches_the_dense_matrix_with_gradients() -> None:
    # The CSR-entry product with its self-loop term added in place: values and float64
    # gradients (inputs and edge weights) against the dense normalised matrix.
    from graphpair.nn.encoders._propagate import _Edges, _propagate

    ei = edge_index()
    adj = CSR.from_edge_index(ei, N)
    generator = torch.Generator().manual_seed(1)
    w_entries = torch.rand(adj.col.numel(), dtype=torch.float64, generator=generator)
    x = features().requires_grad_()
    w_entries.requires_grad_()  # one weight per stored entry, messages row -> col

    def ours(a: Tensor, weight: Tensor) -> Tensor:
        return _propagate(a, _Edges(None, N, adj=adj), weight, "gcn")

    def dense(a: Tensor, weight: Tensor) -> Tensor:
        m = torch.zeros(N, N, dtype=torch.float64).index_put((adj.col, adj.row), weight)
        return gcn_matrix(m) @ a

    assert_same_values_and_gradients(ours(x, w_entries), dense(x, w_entries), [x, w_entries])
    assert torch.autograd.gradcheck(ours, (x, w_entries))
    assert torch.autograd.gradcheck(lambda a: ours(a, w_entries.detach()), x)


@pytest.mark.parametrize("conv", ["puregcn", "puresum"])
def test_pure_stack_with_res_and_jk_matches_dense(conv: str) -> None:
    enc = make(3, 4, 2, conv=conv, res=True, jk=True, tail_dropout=0.5, dropout=0.2)
    x = features()
    a = dense_adjacency()
    prop = gcn_matrix(a) if conv == "puregcn" else a
    assert enc.lin is not None
    assert enc.jk_weight is not None
    x0 = enc.lin(x)
    x1 = prop @ x0 + x0
    x2 = prop @ x1 + x1
    expected = enc.jk_weight[0] * x1 + enc.jk_weight[1] * x2
    torch.testing.assert_close(enc(x, CSR.from_edge_index(edge_index(), N)), expected)
    torch.testing.assert_close(enc(x, edge_index()), expected)


def test_gcn_stack_matches_dense() -> None:
    enc = make(3, 4, 2, conv="gcn", ln=True, res=True)
    x = features()
    prop = gcn_matrix(dense_adjacency())
    conv1, conv2 = enc.convs
    (norm,) = enc.norms
    x1 = F.relu(norm(prop @ x @ conv1.lin.weight.t() + conv1.bias))  # 3 -> 4: no residual
    x2 = prop @ x1 @ conv2.lin.weight.t() + conv2.bias + x1  # last layer linear, residual
    torch.testing.assert_close(enc(x, CSR.from_edge_index(edge_index(), N)), x2)


def test_single_layer_sage_ends_with_relu_q8() -> None:
    enc = make(3, 4, 1, conv="sage")
    x = features()
    a = dense_adjacency()
    mean = (a @ x) / a.sum(1, keepdim=True).clamp(min=1)
    (conv,) = enc.convs
    expected = F.relu(conv.lin_l(mean) + conv.lin_r(x))
    out = enc(x, CSR.from_edge_index(edge_index(), N))
    torch.testing.assert_close(out, expected)
    assert bool((out >= 0).all())


def test_csr_mask_is_target_link_removal() -> None:
    enc = make(3, 4, 2, conv="puregcn")
    x = features()
    adj = CSR.from_edge_index(edge_index(), N)
    with adj.masked(torch.tensor([[1], [0]])) as masked:
        out = enc(x, masked)
    rest = [e for e in EDGES if e != (0, 1)]
    assert enc.lin is not None
    prop = gcn_matrix(dense_adjacency(rest))
    torch.testing.assert_close(out, prop @ (prop @ enc.lin(x)))
    assert not torch.allclose(out, enc(x, adj))


def test_node_embedding_for_featureless_graphs() -> None:
    enc = make(None, 4, 1, conv="puresum", num_embeddings=N + 1, res=True)
    assert enc.embedding is not None
    assert enc.lin is None
    weight = enc.embedding.weight
    assert weight.shape == (N + 1, 4)
    torch.testing.assert_close(weight.t() @ weight, torch.eye(4, dtype=torch.float64))  # orthogonal
    adj = CSR.from_edge_index(edge_index(), N)
    h0 = weight[:N]
    expected = dense_adjacency() @ h0 + h0
    torch.testing.assert_close(enc(None, adj), expected)
    torch.testing.assert_close(enc(torch.arange(N), edge_index()), expected)


def test_sparse_features_match_dense_features() -> None:
    enc = make(3, 4, 1, conv="puregcn")
    x = features()
    x[x < 0.3] = 0.0
    adj = CSR.from_edge_index(edge_index(), N)
    torch.testing.assert_close(enc(x.to_sparse(), adj), enc(x, adj))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        x_csr = x.to_sparse_csr()
    torch.testing.assert_close(enc(x_csr, adj), enc(x, adj))


@pytest.mark.parametrize("conv", ["puregcn", "gcn", "sage"])
def test_edge_dropout_only_in_training_and_seeded(conv: str) -> None:
    enc = make(3, 4, 2, conv=conv, edge_dropout=0.5)
    x = features()
    adj = CSR.from_edge_index(edge_index(), N)
    clean = enc(x, adj)
    enc.train()
    runs = []
    for _ in range(2):
        torch.manual_seed(4)
        runs.append(enc(x, adj))
    torch.testing.assert_close(runs[0], runs[1], rtol=0, atol=0)
    assert not torch.allclose(runs[0], clean)
    enc.eval()
    torch.testing.assert_close(enc(x, adj), clean)


@pytest.mark.parametrize(
    "conv", ["puregcn", "puresum", "puremean", "puremax", "gcn", "sage", "none"]
)
def test_shapes_gradients_reset_and_permutation(conv: str) -> None:
    enc = make(3, 4, 2, conv=conv, ln=True, jk=conv != "none")
    x = features().requires_grad_()
    adj = CSR.from_edge_index(edge_index(), N)
    out = enc(x, adj)
    assert out.shape == (N, 4)
    out.sum().backward()
    assert x.grad is not None
    assert x.grad.abs().sum() > 0
    for name, param in enc.named_parameters():
        assert param.grad is not None, name
    perm = torch.randperm(N, generator=torch.Generator().manual_seed(1))
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(N)
    permuted = CSR.from_edge_index(perm[edge_index()], N)
    torch.testing.assert_close(enc(x[inverse], permuted), out[inverse])
    torch.manual_seed(2)
    enc.reset_parameters()
    first = enc(x, adj)
    torch.manual_seed(2)
    enc.reset_parameters()
    torch.testing.assert_close(enc(x, adj), first)


def test_gradcheck() -> None:
    enc = make(3, 4, 2, conv="puregcn", res=True, jk=True)
    x = features().requires_grad_()
    ei = edge_index()
    w = torch.rand(ei.size(1), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: enc(a, ei, b), (x, w))


def test_repr() -> None:
    assert repr(MPNNEncoder(None, 8, num_embeddings=10, conv="PureSum")) == (
        "MPNNEncoder(num_embeddings=10, 8, num_layers=1, conv='puresum', dropout=0.0, "
        "edge_dropout=0.0, input_dropout=0.0, tail_dropout=0.0, ln=False, res=False, jk=False)"
    )


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="exactly one of in_channels"):
        MPNNEncoder(3, 4, num_embeddings=5)
    with pytest.raises(ValueError, match="conv must be one of"):
        MPNNEncoder(3, 4, conv="gat")
    with pytest.raises(ValueError, match="input_dropout must be in"):
        MPNNEncoder(3, 4, input_dropout=1.5)
    enc = MPNNEncoder(3, 4)
    with pytest.raises(ValueError, match="x has 2 features but in_channels=3"):
        enc(torch.randn(N, 2), edge_index())
    adj = CSR.from_edge_index(edge_index(), N)
    with pytest.raises(ValueError, match=rf"one entry per stored entry \({adj.num_edges}\); got 3"):
        enc(torch.randn(N, 3), adj, torch.ones(3))
    ids = MPNNEncoder(None, 4, num_embeddings=3)
    with pytest.raises(ValueError, match=r"x ids must be in \[0, num_embeddings=3\)"):
        ids(None, CSR.from_edge_index(edge_index(), N))


@pytest.mark.parametrize("conv", ["puregcn", "puresum", "puremean", "gcn", "sage"])
def test_csr_entries_path_equals_the_edge_list_path(conv: str) -> None:
    # A CSR runs on its stored entries (masked ones at weight 0, the cached transpose); an
    # edge_index of the active entries runs on the edge list. Same dropout draws, same result.
    enc = make(3, 4, 3, conv=conv, edge_dropout=0.4, dropout=0.1, jk=True)
    enc.train()
    adj = CSR.from_edge_index(edge_index(), N)
    x = features().requires_grad_()
    with adj.masked(torch.tensor([[0, 3], [2, 4]])):
        active = adj.to_edge_index()
        torch.manual_seed(7)
        entries_out = enc(x, adj)
    torch.manual_seed(7)
    edges_out = enc(x, active)
    assert_same_values_and_gradients(entries_out, edges_out, [x, *enc.parameters()])


@pytest.mark.parametrize("conv", ["puregcn", "puresum", "puremean", "gcn", "gcn-self-loop"])
def test_csr_entry_weights_equal_edge_list_weights(conv: str) -> None:
    # Weights of a CSR's stored entries (masked ones left out) act as the same weights on the
    # edge list of its active entries; a self loop sends GCN down the edge-list path.
    base = edge_index()
    if conv == "gcn-self-loop":
        conv, base = "gcn", torch.cat([base, torch.tensor([[2], [2]])], dim=1)
    enc = make(3, 4, 2, conv=conv, edge_dropout=0.3)
    enc.train()
    adj = CSR.from_edge_index(base, N, self_loops=True)
    weight = torch.rand(adj.num_edges, dtype=torch.float64) + 0.5
    x = features().requires_grad_()
    with adj.masked(torch.tensor([[0, 3], [2, 4]])):
        torch.manual_seed(3)
        got = enc(x, adj, weight)
        active = adj.to_edge_index()
        torch.manual_seed(3)
        want = enc(x, active, weight[adj.mask])
    torch.testing.assert_close(got, want)
    unweighted = enc.eval()(x, adj)
    assert not torch.allclose(enc(x, adj, weight), unweighted)


def test_csr_entries_path_sorts_once(monkeypatch: pytest.MonkeyPatch) -> None:
    enc = make(3, 4, 3, conv="puregcn", edge_dropout=0.3)
    enc.train()
    adj = CSR.from_edge_index(edge_index(), N)
    adj.transpose()  # the one sort, cached on the graph

    def no_sort(*args: object, **kwargs: object) -> Tensor:
        raise AssertionError("the edge list was sorted again")

    monkeypatch.setattr(torch, "argsort", no_sort)
    monkeypatch.setattr(torch, "sort", no_sort)
    enc(features().requires_grad_(), adj).sum().backward()


@pytest.mark.parametrize("conv", ["puregcn", "puresum", "puremean", "gcn", "sage", "puremax"])
@pytest.mark.parametrize("options", [{}, {"res": True, "jk": True, "ln": True}])
def test_trimmed_sampled_forward_equals_the_untrimmed_seeds(
    conv: str, options: dict[str, bool]
) -> None:
    """With the per-hop counts, layer l runs only on the hops that still reach a seed (PyG's
    trim_to_layer); the seeds' rows and every gradient equal the untrimmed forward's, edge
    dropout included (the same draws), GCN normalised by the untrimmed degrees."""
    from graphpair.ops import neighbor_sample
    from tests.graphs import random_edge_index

    adj = CSR.from_edge_index(random_edge_index(60, 240, 4), 60)
    sub = neighbor_sample(
        adj, torch.tensor([3, 17, 42]), [4, 3, 2], generator=torch.Generator().manual_seed(2)
    )
    assert sub.num_sampled_nodes[-1] > 0  # the last hop is there to be trimmed
    enc = make(5, 6, 3, conv=conv, edge_dropout=0.3, **options)
    enc.train()  # edge dropout on; dropout=0 by default, so the row draws do not matter
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(sub.num_nodes, 5, dtype=torch.float64, generator=gen).requires_grad_()
    weight = torch.rand(sub.edge_index.size(1), dtype=torch.float64) + 0.5
    counts = {
        "num_sampled_nodes_per_hop": sub.num_sampled_nodes,
        "num_sampled_edges_per_hop": sub.num_sampled_edges,
    }
    torch.manual_seed(9)
    trimmed = enc(x, sub.edge_index, weight, **counts)
    torch.manual_seed(9)
    full = enc(x, sub.edge_index, weight)[:3]
    assert trimmed.shape == (3, 6)
    assert_same_values_and_gradients(trimmed, full, [x, *enc.parameters()])


def test_trimming_counts_are_checked() -> None:
    enc = make(3, 4, 2, conv="sage")
    ei = edge_index()
    x = features()
    with pytest.raises(ValueError, match="go together; got only num_sampled_nodes_per_hop"):
        enc(x, ei, num_sampled_nodes_per_hop=[N, 0, 0])
    with pytest.raises(ValueError, match=r"must have 3 / 2 entries \(num_layers=2\)"):
        enc(x, ei, num_sampled_nodes_per_hop=[N, 0], num_sampled_edges_per_hop=[ei.size(1)])
    with pytest.raises(ValueError, match="summing to the 6 nodes"):
        enc(x, ei, num_sampled_nodes_per_hop=[1, 1, 1], num_sampled_edges_per_hop=[ei.size(1), 0])
    with pytest.raises(ValueError, match="not a CSR"):
        enc(
            x,
            CSR.from_edge_index(ei, N),
            num_sampled_nodes_per_hop=[N, 0, 0],
            num_sampled_edges_per_hop=[ei.size(1), 0],
        )


@pytest.mark.parametrize("conv", ["gcn", "sage", "puregcn"])
@pytest.mark.parametrize("options", [{}, {"res": True, "jk": True, "ln": True}])
def test_inference_without_autograd_is_the_same_forward(
    conv: str, options: dict[str, bool]
) -> None:
    """Without autograd the forward adds the GCN self-loop term and bias and applies ReLU in
    place and keeps no layer outputs it does not need: bit-identical values."""
    enc = make(3, 4, 3, conv=conv, **options)
    adj = CSR.from_edge_index(edge_index(), N)
    x = features()
    with_grad = enc(x.requires_grad_(), adj)
    with torch.no_grad():
        without = enc(x, adj)
    assert torch.equal(with_grad.detach(), without)
