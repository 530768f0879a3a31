"""Property-based fuzzing of every public op, layer, link predictor and transform.

Hypothesis draws graphs with the awkward cases built in (empty, single node, isolated nodes,
duplicate edges, self loops, directed edges, several graphs in a batch) and features at scales
from 1e-3 to 1e3 (``tests/graphs.py``). For each callable the properties are the reliability
guarantees of ``docs/reliability.md``: no error other than the documented ones, finite output
for finite input, and the invariances of the math (order of the inputs, relabelling of the
nodes, symmetry of a pair score). Examples are capped so that the whole file stays near a
minute on two cores; ``HYPOTHESIS_PROFILE=thorough`` asks for more.
"""

from __future__ import annotations

import pathlib

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GCNConv

import graphpair.nn.conv
import graphpair.nn.encoders
import graphpair.nn.link
import graphpair.nn.models
import graphpair.ops
import graphpair.transforms
from graphpair.nn.conv import GRITConv, SINCConv, SIRConv, pair_layout, signed_sqrt
from graphpair.nn.encoders import CONVS, FeatureEncoder, GRACEEncoder, MPNNEncoder
from graphpair.nn.link import (
    GAEPredictor,
    GRITLinkEncoder,
    GRITPairPredictor,
    LinkModel,
    NCNCPredictor,
    NCNDiffPredictor,
    NCNPredictor,
)
from graphpair.nn.models import (
    GRIT,
    SINC,
    ConvBackbone,
    ConvStack,
    GraphModel,
    GRITBackbone,
    MLPReadout,
    NodeClassifier,
)
from graphpair.ops import (
    CSR,
    REDUCTIONS,
    common_neighbors,
    common_neighbors_method,
    neighbor_difference,
    neighbor_overlap,
    random_walk_powers,
    scatter,
    segment,
    softmax,
)
from graphpair.transforms import AddRRWP, locate_pairs, rrwp
from tests.graphs import features, graph_batches, graphs, node_pairs, permutations, relabel

# Tiny inputs: one torch thread (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("one_thread")

# 50 examples under the CI profile (60), proportionally more under HYPOTHESIS_PROFILE=thorough.
FUZZ = settings(max_examples=max(1, settings.default.max_examples * 5 // 6), deadline=None)
FUZZ_HEAVY = settings(max_examples=max(1, settings.default.max_examples // 2), deadline=None)


def _finite(*tensors: Tensor) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in tensors)


def _close(a: Tensor, b: Tensor) -> None:
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


# -------------------------------------------------------------------------------------- ops


@FUZZ
@given(data=st.data(), reduce=st.sampled_from(REDUCTIONS))
def test_scatter_and_segment_are_finite_and_ignore_the_order_of_the_rows(
    data: st.DataObject, reduce: str
) -> None:
    num = data.draw(st.integers(0, 30))
    groups = data.draw(st.integers(1, 8))
    index = torch.tensor(
        data.draw(st.lists(st.integers(0, groups - 1), min_size=num, max_size=num)),
        dtype=torch.long,
    )
    src = data.draw(features(num, 3))
    if reduce == "mul":  # a product of 30 entries of size 1e3 is not representable
        src = src.clamp(-2.0, 2.0)
    out = scatter(src, index, dim_size=groups, reduce=reduce)
    assert out.shape == (groups, 3)
    assert _finite(out)
    empty = torch.bincount(index, minlength=groups) == 0
    assert bool((out[empty] == (1.0 if reduce == "mul" else 0.0)).all())
    perm = data.draw(permutations(num))
    _close(scatter(src[perm], index[perm], dim_size=groups, reduce=reduce), out)
    order = torch.argsort(index, stable=True)
    ptr = torch.zeros(groups + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(torch.bincount(index, minlength=groups), 0)
    _close(segment(src[order], ptr, reduce=reduce), out)


@FUZZ
@given(data=st.data())
def test_softmax_is_finite_normalised_and_shift_invariant_per_group(data: st.DataObject) -> None:
    num = data.draw(st.integers(0, 30))
    groups = data.draw(st.integers(1, 8))
    index = torch.tensor(
        sorted(data.draw(st.lists(st.integers(0, groups - 1), min_size=num, max_size=num))),
        dtype=torch.long,
    )
    src = data.draw(features(num, 2))  # up to 1e3: exp would overflow without the max shift
    out = softmax(src, index, num_nodes=groups)
    assert _finite(out)
    assert bool(((out >= 0) & (out <= 1)).all())
    sums = scatter(out, index, dim_size=groups)
    present = torch.bincount(index, minlength=groups) > 0
    _close(sums[present], torch.ones_like(sums[present]))
    shift = torch.linspace(-50.0, 50.0, groups).unsqueeze(-1)
    _close(softmax(src + shift[index], index, num_nodes=groups), out)
    ptr = torch.zeros(groups + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(torch.bincount(index, minlength=groups), 0)
    _close(softmax(src, ptr=ptr), out)


@FUZZ
@given(
    data=st.data(),
    graph=graphs(min_nodes=0),
    method=st.sampled_from(["auto", "sparse", "dense"]),
    chunk=st.integers(1, 64),
)
def test_neighbor_overlap_is_common_neighbors_and_both_differences(
    data: st.DataObject, graph: tuple[Tensor, int], method: str, chunk: int
) -> None:
    edge_index, num_nodes = graph
    adj = CSR.from_edge_index(edge_index, num_nodes)
    assert common_neighbors_method(adj) in ("sparse", "dense")
    pairs = data.draw(node_pairs(num_nodes))
    overlap = neighbor_overlap(adj, pairs, method=method, chunk_size=chunk)
    i_only, j_only = neighbor_difference(adj, pairs, method=method, chunk_size=chunk)
    expected = (common_neighbors(adj, pairs, method=method, chunk_size=chunk), i_only, j_only)
    for got, want in zip((overlap.common, overlap.i_only, overlap.j_only), expected, strict=True):
        assert torch.equal(got.pair_idx, want.pair_idx)
        assert torch.equal(got.node_idx, want.node_idx)


@FUZZ
@given(
    data=st.data(),
    batch=graph_batches(),
    walk_length=st.integers(1, 4),
    method=st.sampled_from(["auto", "sparse", "dense"]),
    weighted=st.booleans(),
)
def test_random_walk_powers_of_a_batch_are_the_graphs_side_by_side(
    data: st.DataObject,
    batch: tuple[Tensor, Tensor, int],
    walk_length: int,
    method: str,
    weighted: bool,
) -> None:
    edge_index, node_graph, num_nodes = batch
    weight = None
    if weighted:  # zero weights included: such an edge carries no probability
        weight = data.draw(features(edge_index.size(1), 1)).abs().view(-1)
    out = random_walk_powers(
        edge_index,
        walk_length,
        num_nodes,
        batch=node_graph,
        edge_weight=weight,
        method=method,
        dtype=torch.float64,
    )
    assert _finite(out.pair_val, out.node_val)
    assert bool(((out.pair_val >= 0) & (out.pair_val <= 1 + 1e-9)).all())
    assert torch.equal(node_graph[out.pair_index[0]], node_graph[out.pair_index[1]])
    start = 0
    for g in range(int(node_graph.max()) + 1):
        size = int((node_graph == g).sum())
        inside = (edge_index[0] >= start) & (edge_index[0] < start + size)
        alone = random_walk_powers(
            edge_index[:, inside] - start,
            walk_length,
            size,
            edge_weight=None if weight is None else weight[inside],
            method=method,
            dtype=torch.float64,
        )
        mine = node_graph[out.pair_index[0]] == g
        assert torch.equal(out.pair_index[:, mine] - start, alone.pair_index)
        _close(out.pair_val[mine], alone.pair_val)
        _close(out.node_val[start : start + size], alone.node_val)
        start += size


# ------------------------------------------------------------------------------- transforms


@FUZZ
@given(
    data=st.data(),
    batch=graph_batches(),
    walk_length=st.integers(1, 4),
    full_pairs=st.booleans(),
    walk_from=st.sampled_from(["target", "source"]),
)
def test_rrwp_pairs_are_sorted_findable_and_finite(
    data: st.DataObject,
    batch: tuple[Tensor, Tensor, int],
    walk_length: int,
    full_pairs: bool,
    walk_from: str,
) -> None:
    edge_index, node_graph, num_nodes = batch
    enc = rrwp(
        edge_index,
        walk_length,
        num_nodes,
        batch=node_graph,
        full_pairs=full_pairs,
        walk_from=walk_from,
    )
    assert _finite(enc.node, enc.pair_val, enc.log_deg)
    keys = enc.pair_index[1] * max(num_nodes, 1) + enc.pair_index[0]
    assert bool((keys[1:] > keys[:-1]).all())  # sorted by (target, source), no repeats
    sizes = torch.bincount(node_graph)
    if full_pairs:
        assert enc.pair_index.size(1) == int((sizes * sizes).sum())
    # Every edge has a pair to carry its features, and every pair is found where it is.
    assert bool((locate_pairs(enc.pair_index, edge_index, num_nodes) >= 0).all())
    perm = data.draw(permutations(enc.pair_index.size(1)))
    assert torch.equal(locate_pairs(enc.pair_index, enc.pair_index[:, perm], num_nodes), perm)


@FUZZ
@given(graph=graphs(max_nodes=8, max_edges=16, min_nodes=0), walk_length=st.integers(1, 4))
def test_add_rrwp_writes_what_rrwp_computes(graph: tuple[Tensor, int], walk_length: int) -> None:
    from torch_geometric.data import Data

    edge_index, num_nodes = graph
    data = Data(edge_index=edge_index, num_nodes=num_nodes)
    out = AddRRWP(walk_length)(data.clone())
    enc = rrwp(edge_index, walk_length, num_nodes)
    assert torch.equal(out.rrwp_index, enc.pair_index)
    assert torch.equal(out.rrwp, enc.node)
    assert torch.equal(out.rrwp_val, enc.pair_val)
    assert torch.equal(out.log_deg, enc.log_deg)
    assert "rrwp" not in data  # the input is not mutated


# ----------------------------------------------------------------------------------- layers


SINC_KINDS = [
    ("sinc", "sum", "sum"),
    ("sinc", "mean", "sum"),
    ("sinc", "max", None),
    ("sinc", "sym", "sym"),
    ("sir", "sum", None),
    ("sir", "max", None),
]


@FUZZ
@given(
    data=st.data(),
    graph=graphs(max_nodes=8, max_edges=20, min_nodes=0),
    kind=st.sampled_from(SINC_KINDS),
)
def test_sinc_and_sir_are_finite_and_permutation_equivariant(
    data: st.DataObject, graph: tuple[Tensor, int], kind: tuple[str, str, str | None]
) -> None:
    edge_index, num_nodes = graph
    name, aggr, context = kind
    torch.manual_seed(0)
    if name == "sinc":
        conv: torch.nn.Module = SINCConv(4, 5, aggr=aggr, context_aggr=context).eval()
    else:
        conv = SIRConv(4, 5, aggr=aggr).eval()
    x = data.draw(features(num_nodes, 4))
    out = conv(x, edge_index)
    assert out.shape == (num_nodes, 5)
    assert _finite(out)
    perm = data.draw(permutations(num_nodes))
    moved_edges, moved_x = relabel(perm, edge_index, x)
    _close(conv(moved_x, moved_edges)[perm], out)


@FUZZ
@given(
    data=st.data(),
    graph=graphs(max_nodes=8, max_edges=20),
    bad=st.sampled_from([float("nan"), float("inf")]),
    name=st.sampled_from(["sinc", "sir"]),
)
def test_a_non_finite_feature_reaches_only_the_nodes_that_depend_on_it(
    data: st.DataObject, graph: tuple[Tensor, int], bad: float, name: str
) -> None:
    # Layers do not scan their input (docs/reliability.md): a NaN or Inf in row w reaches
    # w's out-neighbours (messages, context) and w itself when w has in-neighbours (its query
    # enters every message to w), and no other row.
    edge_index, num_nodes = graph
    torch.manual_seed(0)
    conv = SINCConv(3, 4) if name == "sinc" else SIRConv(3, 4)
    x = data.draw(features(num_nodes, 3))
    w = data.draw(st.integers(0, num_nodes - 1))
    clean = conv(x, edge_index)
    x[w, 0] = bad
    out = conv(x, edge_index)
    reached = torch.zeros(num_nodes, dtype=torch.bool)
    reached[edge_index[1, edge_index[0] == w]] = True
    reached[w] |= bool((edge_index[1] == w).any())
    assert torch.equal(out[~reached], clean[~reached])
    if bad != bad:  # NaN survives every step; an Inf may be cut to 0 by the ReLU
        assert bool(out[reached].isnan().all())


@FUZZ
@given(
    data=st.data(),
    graph=graphs(max_nodes=7, max_edges=16, min_nodes=0),
    walk_length=st.integers(1, 3),
)
def test_grit_conv_is_finite_and_permutation_equivariant(
    data: st.DataObject, graph: tuple[Tensor, int], walk_length: int
) -> None:
    edge_index, num_nodes = graph
    torch.manual_seed(0)
    conv = GRITConv(8, heads=2).eval()
    enc = rrwp(edge_index, walk_length, num_nodes)
    x = data.draw(features(num_nodes, 8))
    pair_attr = data.draw(features(enc.pair_index.size(1), 8))
    h, pairs = conv(x, enc.pair_index, pair_attr, log_deg=enc.log_deg)
    assert h.shape == x.shape
    assert pairs.shape == pair_attr.shape
    assert _finite(h, pairs)
    perm = data.draw(permutations(num_nodes))
    moved = rrwp(perm[edge_index], walk_length, num_nodes)
    where = locate_pairs(moved.pair_index, perm[enc.pair_index], num_nodes)
    assert bool((where >= 0).all())
    moved_attr = torch.empty_like(pair_attr)
    moved_attr[where] = pair_attr
    _, moved_x = relabel(perm, edge_index, x)
    h2, pairs2 = conv(moved_x, moved.pair_index, moved_attr, log_deg=moved.log_deg)
    _close(h2[perm], h)
    _close(pairs2[where], pairs)
    layout = pair_layout(enc.pair_index, num_nodes)
    assert torch.equal(layout.ptr.diff(), torch.bincount(enc.pair_index[1], minlength=num_nodes))


@FUZZ
@given(data=st.data(), num=st.integers(0, 20))
def test_signed_sqrt_is_finite_odd_and_inverts_the_signed_square(
    data: st.DataObject, num: int
) -> None:
    u = data.draw(features(num, 3)).requires_grad_()  # rows of exact zeros included
    out = signed_sqrt(u)
    out.sum().backward()
    assert u.grad is not None
    assert _finite(out, u.grad)
    _close(signed_sqrt(-u.detach()), -out.detach())
    _close(out.detach() * out.detach().abs(), u.detach())


@FUZZ
@given(
    data=st.data(),
    graph=graphs(max_nodes=8, max_edges=20, min_nodes=0),
    conv=st.sampled_from(CONVS),
)
def test_mpnn_encoder_is_finite_and_permutation_equivariant(
    data: st.DataObject, graph: tuple[Tensor, int], conv: str
) -> None:
    edge_index, num_nodes = graph
    torch.manual_seed(0)
    encoder = MPNNEncoder(4, 6, 2, conv=conv, ln=True, res=True, jk=True).eval()
    x = data.draw(features(num_nodes, 4))
    out = encoder(x, CSR.from_edge_index(edge_index, num_nodes))
    assert out.shape == (num_nodes, 6)
    assert _finite(out)
    perm = data.draw(permutations(num_nodes))
    moved_edges, moved_x = relabel(perm, edge_index, x)
    _close(encoder(moved_x, CSR.from_edge_index(moved_edges, num_nodes))[perm], out)


@FUZZ
@given(data=st.data(), graph=graphs(max_nodes=8, max_edges=20, min_nodes=0))
def test_grace_encoder_is_finite_and_permutation_equivariant(
    data: st.DataObject, graph: tuple[Tensor, int]
) -> None:
    edge_index, num_nodes = graph
    torch.manual_seed(0)
    encoder = GRACEEncoder(4, 6, 5).eval()
    x = data.draw(features(num_nodes, 4))
    out = encoder(x, edge_index)
    assert _finite(out, encoder.project(out))
    perm = data.draw(permutations(num_nodes))
    moved_edges, moved_x = relabel(perm, edge_index, x)
    _close(encoder(moved_x, moved_edges)[perm], out)


@FUZZ_HEAVY
@given(
    data=st.data(),
    graph=graphs(max_nodes=7, max_edges=16, min_nodes=0),
    model=st.sampled_from(["sinc", "grit"]),
)
def test_graph_models_are_finite_and_invariant_to_relabelling(
    data: st.DataObject, graph: tuple[Tensor, int], model: str
) -> None:
    edge_index, num_nodes = graph
    torch.manual_seed(0)
    x = data.draw(features(num_nodes, 4))
    perm = data.draw(permutations(num_nodes))
    moved_edges, moved_x = relabel(perm, edge_index, x)
    # One graph, also when it is empty: its readout is then that of an empty sum.
    batch = torch.zeros(num_nodes, dtype=torch.long)
    if model == "sinc":
        sinc = SINC(4, 8, 3, num_layers=2, pool="sum").eval()
        out = sinc(x, edge_index, batch=batch, num_graphs=1)
        again = sinc(moved_x, moved_edges, batch=batch, num_graphs=1)
    else:
        grit = GRIT(4, 8, 3, num_layers=2, heads=2, walk_length=3, pool="sum").eval()

        def run(x: Tensor, edge_index: Tensor) -> Tensor:
            enc = rrwp(edge_index, 3, num_nodes)
            return grit(  # type: ignore[no-any-return]
                x,
                edge_index,
                rrwp=enc.node,
                rrwp_index=enc.pair_index,
                rrwp_val=enc.pair_val,
                log_deg=enc.log_deg,
                batch=batch,
                num_graphs=1,
            )

        out, again = run(x, edge_index), run(moved_x, moved_edges)
    assert out.shape == (1, 3)
    assert _finite(out)
    _close(again, out)


# -------------------------------------------------------------------------- link predictors


PREDICTORS = ["ncn", "ncnc", "ncnc2", "ncn-diff", "gae-mlp", "gae-dot"]


def _predictor(kind: str) -> torch.nn.Module:
    torch.manual_seed(0)
    if kind == "ncn":
        return NCNPredictor(6, 8, ln=True, use_xlin=True).eval()
    if kind in ("ncnc", "ncnc2"):
        return NCNCPredictor(6, 8, depth=1 if kind == "ncnc" else 2, ln=True, chunk_size=3).eval()
    if kind == "ncn-diff":
        return NCNDiffPredictor(6, 8, ln=True).eval()
    return GAEPredictor(6, 8, mode=kind[4:]).eval()


@FUZZ
@given(
    data=st.data(),
    graph=graphs(max_nodes=10, max_edges=30, min_nodes=0),
    kind=st.sampled_from(PREDICTORS),
)
def test_link_predictors_are_finite_symmetric_and_invariant_to_relabelling(
    data: st.DataObject, graph: tuple[Tensor, int], kind: str
) -> None:
    edge_index, num_nodes = graph
    predictor = _predictor(kind)
    adj = CSR.from_edge_index(edge_index, num_nodes)  # directed input is symmetrised here
    h = data.draw(features(num_nodes, 6))
    pairs = data.draw(node_pairs(num_nodes))
    with torch.no_grad():
        out = predictor(h, adj, pairs)
        assert out.shape == (pairs.size(1),)
        assert _finite(out)
        _close(predictor(h, adj, pairs.flip(0)), out)  # a score of the unordered pair
        perm = data.draw(permutations(num_nodes))
        moved_edges, moved_h = relabel(perm, edge_index, h)
        _close(predictor(moved_h, CSR.from_edge_index(moved_edges, num_nodes), perm[pairs]), out)


@FUZZ_HEAVY
@given(data=st.data(), graph=graphs(max_nodes=8, max_edges=20, min_nodes=0))
def test_grit_link_head_is_finite_symmetric_and_invariant_to_relabelling(
    data: st.DataObject, graph: tuple[Tensor, int]
) -> None:
    edge_index, num_nodes = graph
    torch.manual_seed(0)
    encoder = GRITLinkEncoder(4, 8, 1, heads=2, walk_length=3).eval()
    head = GRITPairPredictor(8, 8).eval()
    x = data.draw(features(num_nodes, 4))
    pairs = data.draw(node_pairs(num_nodes))
    with torch.no_grad():
        h, state = encoder(x, CSR.from_edge_index(edge_index, num_nodes))
        out = head(h, state, pairs)
        assert out.shape == (pairs.size(1),)
        assert _finite(out)
        _close(head(h, state, pairs.flip(0)), out)
        perm = data.draw(permutations(num_nodes))
        moved_edges, moved_x = relabel(perm, edge_index, x)
        h2, state2 = encoder(moved_x, CSR.from_edge_index(moved_edges, num_nodes))
        _close(head(h2, state2, perm[pairs]), out)


# ------------------------------------------------------------------------------- coverage

#: Where each public callable of the fuzzed packages is driven by hypothesis (in this file
#: unless a path says otherwise); the test below keeps the list complete.


def _runner_model(kind: str) -> torch.nn.Module:
    """The models the runners build, made from graphpair.nn's public classes."""
    torch.manual_seed(0)
    atoms = FeatureEncoder(8, vocab=(3, 2), in_channels=0)
    if kind == "node":
        return NodeClassifier(MPNNEncoder(4, 8, conv="gcn"), torch.nn.Linear(8, 3)).eval()
    if kind == "grit":
        grit = GRIT(None, 8, 3, num_layers=1, heads=2, walk_length=3, pool="mean")
        bonds = FeatureEncoder(8, vocab=None, in_channels=0)  # one learned vector per edge
        return GraphModel(
            GRITBackbone(grit), node_encoder=atoms, edge_encoder=bonds, readout=None
        ).eval()
    if kind == "sinc":
        stack: torch.nn.Module = SINC(8, 8, None, 2, input_lin=False, norm="layer")
    else:
        convs: list[torch.nn.Module] = [GCNConv(8, 8), GCNConv(8, 8)]
        stack = ConvStack(convs, [8, 8, 8], norm="layer", residual="identity")
    readout = MLPReadout(8, 3, pooling="sum", head_layers=1)
    return GraphModel(
        ConvBackbone(stack), node_encoder=atoms, edge_encoder=None, readout=readout
    ).eval()


@FUZZ_HEAVY
@given(
    data=st.data(),
    graph=graphs(max_nodes=7, max_edges=16, min_nodes=0),
    kind=st.sampled_from(["stack", "sinc", "grit", "node"]),
)
def test_runner_models_are_finite_and_invariant_to_relabelling(
    data: st.DataObject, graph: tuple[Tensor, int], kind: str
) -> None:
    """GraphModel (ConvStack, SINC or GRIT backbone, FeatureEncoder inputs, MLPReadout) gives
    one graph's output independent of the node order; NodeClassifier is equivariant."""
    edge_index, num_nodes = graph
    model = _runner_model(kind)
    perm = data.draw(permutations(num_nodes))
    if kind == "node":
        x = data.draw(features(num_nodes, 4))
        moved_edges, moved_x = relabel(perm, edge_index, x)
        with torch.no_grad():
            out = model(x, edge_index)
            assert out.shape == (num_nodes, 3)
            assert _finite(out)
            _close(model(moved_x, moved_edges)[perm], out)
        return
    columns = [
        data.draw(st.lists(st.integers(0, top), min_size=num_nodes, max_size=num_nodes))
        for top in (2, 1)
    ]
    atoms = torch.tensor(columns, dtype=torch.long).view(2, num_nodes).t()  # [N, 2]
    moved_edges, moved_atoms = relabel(perm, edge_index, atoms)
    graphs_ = [
        Data(x=atoms, edge_index=edge_index, num_nodes=num_nodes),
        Data(x=moved_atoms, edge_index=moved_edges, num_nodes=num_nodes),
    ]
    if kind == "grit":
        graphs_ = [AddRRWP(3)(g) for g in graphs_]
    with torch.no_grad():
        out, again = (model(Batch.from_data_list([g])) for g in graphs_)
    assert out.shape == (1, 3)
    assert _finite(out)
    _close(again, out)


@FUZZ
@given(
    data=st.data(),
    graph=graphs(max_nodes=10, max_edges=30, min_nodes=0),
    kind=st.sampled_from(PREDICTORS),
)
def test_link_model_scores_as_its_parts_and_is_invariant_to_relabelling(
    data: st.DataObject, graph: tuple[Tensor, int], kind: str
) -> None:
    edge_index, num_nodes = graph
    torch.manual_seed(0)
    model = LinkModel(MPNNEncoder(4, 6, conv="gcn"), _predictor(kind)).eval()
    x = data.draw(features(num_nodes, 4))
    pos, neg = data.draw(node_pairs(num_nodes)), data.draw(node_pairs(num_nodes))
    adj = CSR.from_edge_index(edge_index, num_nodes)
    with torch.no_grad():
        pos_out, neg_out = model(x, adj, pos, neg)
        h = model.encoder(x, adj)
        _close(pos_out, model.predictor(h, adj, pos))
        _close(neg_out, model.predictor(h, adj, neg))
        assert _finite(pos_out, neg_out)
        perm = data.draw(permutations(num_nodes))
        moved_edges, moved_x = relabel(perm, edge_index, x)
        moved = CSR.from_edge_index(moved_edges, num_nodes)
        _close(model(moved_x, moved, perm[pos], perm[neg])[0], pos_out)


FUZZED = {
    "graphpair.ops": {
        "CSR": "tests/ops/test_csr.py::test_has_edge_and_find_edges_match_sets",
        "common_neighbors": "test_neighbor_overlap_is_common_neighbors_and_both_differences",
        "common_neighbors_method": "test_neighbor_overlap_is_common_neighbors_and_both_differences",
        "neighbor_difference": "tests/ops/test_common_neighbors.py::test_properties_under_masks",
        "neighbor_overlap": "test_neighbor_overlap_is_common_neighbors_and_both_differences",
        "random_walk_powers": "test_random_walk_powers_of_a_batch_are_the_graphs_side_by_side",
        "scatter": "test_scatter_and_segment_are_finite_and_ignore_the_order_of_the_rows",
        "segment": "test_scatter_and_segment_are_finite_and_ignore_the_order_of_the_rows",
        "softmax": "test_softmax_is_finite_normalised_and_shift_invariant_per_group",
        "as_csr": "tests/ops/test_as_csr.py::test_property_matrix_forms_equal_edge_index",
        "csr_from_data": "tests/ops/test_as_csr.py::test_property_matrix_forms_equal_edge_index",
        "csr_from_sparse": "tests/ops/test_as_csr.py::test_property_matrix_forms_equal_edge_index",
        "csr_from_sparse_tensor": (
            "tests/ops/test_as_csr.py::test_property_matrix_forms_equal_edge_index"
        ),
        "induced_subgraph": "tests/ops/test_subgraph.py::test_against_set_oracles",
        "neighborhood": "tests/ops/test_subgraph.py::test_against_set_oracles",
        "neighbor_sample": "tests/ops/test_sampling.py::test_random_graphs",
        "capped_neighbor_overlap": (
            "tests/ops/test_capped_overlap.py::test_equals_listing_then_capping_bit_for_bit"
        ),
        "cap_members": (
            "tests/nn/link/test_ncnc_scale.py::"
            "test_cap_members_keeps_at_most_cap_and_the_weights_sum_to_the_count"
        ),
    },
    "graphpair.nn.conv": {
        "GRITConv": "test_grit_conv_is_finite_and_permutation_equivariant",
        "SINCConv": "test_sinc_and_sir_are_finite_and_permutation_equivariant",
        "SIRConv": "test_sinc_and_sir_are_finite_and_permutation_equivariant",
        "pair_layout": "test_grit_conv_is_finite_and_permutation_equivariant",
        "signed_sqrt": "test_signed_sqrt_is_finite_odd_and_inverts_the_signed_square",
    },
    "graphpair.nn.link": {
        "LinkModel": "test_link_model_scores_as_its_parts_and_is_invariant_to_relabelling",
        "GAEPredictor": "test_link_predictors_are_finite_symmetric_and_invariant_to_relabelling",
        "NCNPredictor": "test_link_predictors_are_finite_symmetric_and_invariant_to_relabelling",
        "NCNCPredictor": "test_link_predictors_are_finite_symmetric_and_invariant_to_relabelling",
        "NCNDiffPredictor": (
            "test_link_predictors_are_finite_symmetric_and_invariant_to_relabelling"
        ),
        "GRITLinkEncoder": "test_grit_link_head_is_finite_symmetric_and_invariant_to_relabelling",
        "GRITPairPredictor": (
            "test_grit_link_head_is_finite_symmetric_and_invariant_to_relabelling"
        ),
        "rrwp_pair_bound": (
            "tests/nn/link/test_grit_pair.py::"
            "test_pair_bound_is_an_upper_bound_and_exact_for_short_walks"
        ),
        "cap_members": (
            "tests/nn/link/test_ncnc_scale.py::"
            "test_cap_members_keeps_at_most_cap_and_the_weights_sum_to_the_count"
        ),
    },
    "graphpair.transforms": {
        "AddRRWP": "test_add_rrwp_writes_what_rrwp_computes",
        "locate_pairs": "test_rrwp_pairs_are_sorted_findable_and_finite",
        "rrwp": "test_rrwp_pairs_are_sorted_findable_and_finite",
    },
    "graphpair.nn.encoders": {
        "MPNNEncoder": "test_mpnn_encoder_is_finite_and_permutation_equivariant",
        "GRACEEncoder": "test_grace_encoder_is_finite_and_permutation_equivariant",
        "FeatureEncoder": "test_runner_models_are_finite_and_invariant_to_relabelling",
    },
    "graphpair.nn.models": {
        "SINC": "test_graph_models_are_finite_and_invariant_to_relabelling",
        "GRIT": "test_graph_models_are_finite_and_invariant_to_relabelling",
        **dict.fromkeys(
            ["ConvBackbone", "ConvStack", "GRITBackbone", "GraphModel", "MLPReadout"],
            "test_runner_models_are_finite_and_invariant_to_relabelling",
        ),
        "NodeClassifier": "test_runner_models_are_finite_and_invariant_to_relabelling",
    },
}

#: Public callables that take no graph or tensor input to fuzz: backend switches, result
#: containers (NamedTuples) and pieces exercised through the fuzzed classes above.
NOT_FUZZED = {
    "graphpair.ops": {
        "get_backend",
        "set_backend",
        "use_backend",
        "resolve_backend",
        "torch_scatter_available",
        "PairNodeSet",
        "NeighborOverlap",
        "CappedOverlap",
        "RandomWalkPowers",
        "is_sparse_tensor",  # a type check
        "check_fanout",  # argument validation (tests/ops/test_sampling.py)
        "SampledSubgraph",  # a result dataclass of neighbor_sample
    },
    "graphpair.nn.conv": {"PairLayout"},
    "graphpair.nn.link": set(),
    "graphpair.transforms": {"RRWPEncoding"},
    # Fuzzed inside GRIT, GRITLinkEncoder, MPNNEncoder and GRACEEncoder respectively.
    "graphpair.nn.encoders": {
        "RRWPNodeEncoder",
        "RRWPPairEncoder",
        "pure_propagate",
        "drop_feature",
        # PyG's GCNConv / SAGEConv as CSR products, inside MPNNEncoder (and equal to PyG's
        # layers in tests/nn/encoders/test_mpnn_sparse.py)
        "gcn_conv",
        "sage_conv",
    },
    # GraphInputs describes a dataset's layout (a dataclass, no graph input).
    "graphpair.nn.models": {"GRITBlock", "GRITPairs", "GraphInputs"},
}

MODULES = {
    "graphpair.ops": graphpair.ops,
    "graphpair.nn.conv": graphpair.nn.conv,
    "graphpair.nn.link": graphpair.nn.link,
    "graphpair.transforms": graphpair.transforms,
    "graphpair.nn.encoders": graphpair.nn.encoders,
    "graphpair.nn.models": graphpair.nn.models,
}


@pytest.mark.parametrize("name", list(MODULES))
def test_every_public_callable_is_fuzzed_or_listed_as_not_fuzzable(name: str) -> None:
    module = MODULES[name]
    public = {s for s in module.__all__ if callable(getattr(module, s))}
    assert public == set(FUZZED[name]) | NOT_FUZZED[name]
    root = pathlib.Path(__file__).resolve().parents[1]
    for target in FUZZED[name].values():
        path, _, test = target.rpartition("::")
        source = (root / path if path else pathlib.Path(__file__)).read_text()
        assert f"def {test}(" in source, target
