"""MPNNEncoder.inference: layer-wise full-graph inference over node chunks."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor

from graphpair.nn import LinkModel, MPNNEncoder, NCNPredictor, NodeClassifier
from graphpair.ops import CSR

CHUNKED = ("puregcn", "puresum", "puremean", "gcn", "sage")


def graph(n: int, m: int, seed: int, *, symmetric: bool = True) -> CSR:
    gen = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, n, (2, m), generator=gen)
    edge_index = edge_index[:, edge_index[0] != edge_index[1]]  # GCNConv's self-loop rule
    return CSR.from_edge_index(edge_index, n, symmetric=symmetric)


@settings(max_examples=60, deadline=None)
@given(
    conv=st.sampled_from(CHUNKED),
    n=st.integers(1, 30),
    m=st.integers(0, 90),
    layers=st.integers(0, 3),
    in_channels=st.sampled_from([3, 8, 12]),
    res=st.booleans(),
    jk=st.booleans(),
    ln=st.booleans(),
    symmetric=st.booleans(),
    masked=st.integers(0, 5),
    weighted=st.booleans(),
    chunk_size=st.integers(1, 40),
    seed=st.integers(0, 2**16),
)
def test_inference_equals_the_eval_forward(
    conv: str,
    n: int,
    m: int,
    layers: int,
    in_channels: int,
    res: bool,
    jk: bool,
    ln: bool,
    symmetric: bool,
    masked: int,
    weighted: bool,
    chunk_size: int,
    seed: int,
) -> None:
    """Every chunking gives the forward's values up to round-off (float64; a linear map on a
    chunk of rows may round differently from one on all rows): directed and undirected
    graphs, masked entries (target link removal), per-entry weights, res / JK / LayerNorm, a
    narrowing SAGE layer (in 12 > hidden 8), isolated nodes."""
    torch.manual_seed(seed)
    adj = graph(n, m, seed, symmetric=symmetric)
    enc = MPNNEncoder(in_channels, 8, layers, conv=conv, res=res, jk=jk, ln=ln).double().eval()
    x = torch.randn(n, in_channels, dtype=torch.float64)
    weight = torch.rand(adj.num_edges, dtype=torch.float64) if weighted else None
    pairs = adj.to_edge_index()[:, :masked]
    with adj.masked(pairs) as view, torch.no_grad():
        want = enc(x, view, weight)
        got = enc.inference(x, view, weight, chunk_size=chunk_size)
    assert not got.requires_grad
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_inference_matches_a_dense_gcn() -> None:
    """Oracle: puregcn's two layers are D^-1/2 (A + I) D^-1/2 applied twice to Lin(x)."""
    adj = graph(12, 40, 3)
    enc = MPNNEncoder(4, 5, 2, conv="puregcn").double().eval()
    x = torch.randn(12, 4, dtype=torch.float64)
    a = torch.zeros(12, 12, dtype=torch.float64)
    a[adj.row, adj.col] = 1.0
    inv_sqrt = (1.0 + a.sum(0)).rsqrt()
    gcn = inv_sqrt[:, None] * (a.t() + torch.eye(12, dtype=a.dtype)) * inv_sqrt[None, :]
    assert enc.lin is not None
    want = gcn @ gcn @ enc.lin(x)
    torch.testing.assert_close(enc.inference(x, adj, chunk_size=5), want)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("conv", CHUNKED)
def test_half_precision_runs_without_a_csr_product(conv: str, dtype: torch.dtype) -> None:
    """torch's CPU CSR product has no half-precision kernel: the chunk's messages are summed
    instead, to the forward's values."""
    adj = graph(20, 60, 6)
    enc = MPNNEncoder(4, 8, 2, conv=conv).to(dtype).eval()
    x = torch.randn(20, 4, dtype=dtype)
    with torch.no_grad():
        want = enc(x, adj)
    torch.testing.assert_close(enc.inference(x, adj, chunk_size=7), want)


def test_node_ids_and_embeddings() -> None:
    adj = graph(20, 60, 1)
    enc = MPNNEncoder(None, 6, 2, conv="gcn", num_embeddings=20).eval()
    with torch.no_grad():
        assert torch.equal(enc.inference(None, adj, chunk_size=3), enc(None, adj))


@pytest.mark.parametrize("conv", ["puremax", "sinc", "sir", "none"])
def test_other_convs_run_the_forward(conv: str) -> None:
    adj = graph(15, 50, 2)
    enc = MPNNEncoder(4, 6, 2, conv=conv).eval()
    x = torch.randn(15, 4)
    with torch.no_grad():
        want = enc(x, adj)
    assert torch.equal(enc.inference(x, adj, chunk_size=4), want)


def test_an_edge_list_and_a_self_loop_gcn_run_the_forward() -> None:
    adj = graph(15, 50, 2)
    enc = MPNNEncoder(4, 6, 2, conv="gcn").eval()
    x = torch.randn(15, 4)
    looped = CSR.from_edge_index(torch.cat([adj.to_edge_index(), torch.tensor([[3], [3]])], 1))
    with torch.no_grad():
        for structure in (adj.to_edge_index(), looped):
            assert torch.equal(enc.inference(x, structure), enc(x, structure))


def test_bad_calls_are_named() -> None:
    adj = graph(10, 30, 0)
    enc = MPNNEncoder(4, 6, 2, conv="gcn")
    x = torch.randn(10, 4)
    with pytest.raises(RuntimeError, match=r"\.eval\(\)"):
        enc.inference(x, adj)
    enc.eval()
    with pytest.raises(ValueError, match="chunk_size"):
        enc.inference(x, adj, chunk_size=0)
    with pytest.raises(ValueError, match="one entry per stored entry"):
        enc.inference(x, adj, torch.ones(adj.num_edges + 1))


def _peak_layer_tensors(enc: MPNNEncoder, x: Tensor, adj: CSR, *, layerwise: bool) -> int:
    """The most ``[N, hidden]`` float tensors alive at once during the call, counted by a
    dispatch mode that sees every tensor created and when each is freed."""
    import weakref

    from torch.utils._python_dispatch import TorchDispatchMode

    n, hidden = adj.num_nodes, enc.hidden_channels
    alive: set[int] = set()
    peak = 0

    class Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            nonlocal peak
            out = func(*args, **(kwargs or {}))
            for t in out if isinstance(out, tuple | list) else (out,):
                if isinstance(t, Tensor) and t.shape == (n, hidden) and t._base is None:
                    key = id(t)
                    if key not in alive:
                        alive.add(key)
                        weakref.finalize(t, alive.discard, key)
            peak = max(peak, len(alive))
            return out

    with Count(), torch.no_grad():
        out = enc.inference(x, adj, chunk_size=16) if layerwise else enc(x, adj)
    del out
    return peak


def test_inference_keeps_two_layer_tensors() -> None:
    """The memory claim: a 3-layer GCN keeps at most two [N, D] tensors alive (the
    projected input and the output); the forward without autograd keeps more."""
    adj = graph(200, 800, 4)
    enc = MPNNEncoder(5, 32, 3, conv="gcn").eval()
    x = torch.randn(200, 5)
    assert _peak_layer_tensors(enc, x, adj, layerwise=True) == 2
    assert _peak_layer_tensors(enc, x, adj, layerwise=False) >= 3


def test_models_evaluate_through_inference() -> None:
    """NodeClassifier.inference and LinkModel.encode(inference=True) give the eval forward's
    values."""
    adj = graph(25, 80, 5)
    x = torch.randn(25, 4)
    model = NodeClassifier(MPNNEncoder(4, 8, 2, conv="sage"), torch.nn.Linear(8, 3)).eval()
    with torch.no_grad():
        assert torch.equal(model.inference(x, adj), model(x, adj))
    link = LinkModel(MPNNEncoder(4, 8, 2, conv="gcn"), NCNPredictor(8, 8)).eval()
    with torch.no_grad():
        h, state = link.encode(x, adj, inference=True)
        assert torch.equal(h, link.encode(x, adj)[0])
        assert state is adj
