"""The cases of the equality sweep of ``benchmarks/gpu_check.py`` (run by ``_gpu_sweep.py``):
every public op, layer, predictor, model, transform and loss, built for a target (device,
dtype) and for the reference (CPU, float64); outputs and gradients are compared within a
float32 tolerance stated per family.

The cases are listed per public module and checked against the modules' ``__all__``
(:func:`coverage_problems`): a new public name that has neither a case nor an entry in
:data:`SKIPPED` (with its reason) makes the sweep fail. Each case builds its callable and
inputs for a given device and dtype from one seed, so the reference and the target see the
same parameters and the same input values (inputs are drawn in float32, then cast).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GCNConv

from graphpair import losses as L
from graphpair.nn import conv as C
from graphpair.nn import encoders as E
from graphpair.nn import link as K
from graphpair.nn import models as M
from graphpair.ops import CSR, neighbor_overlap
from graphpair.transforms import AddRRWP, rrwp

__all__ = ["CASES", "FAMILY_TOLERANCE", "SKIPPED", "Builder", "Call", "coverage_problems"]

#: Per family: (rtol, atol) of a float32 result against the float64 CPU reference,
#: ``|target - reference| <= atol * scale + rtol * |reference|`` for every output and gradient
#: entry, ``scale`` being the largest finite ``|reference|`` entry of that tensor, at least 1
#: (so ``atol`` grows with the tensor's magnitude: a gradient reaching 40 may differ by 4e-3 at
#: 1e-4, and a gradient that is zero in exact arithmetic, e.g. a bias before a batch norm, may
#: be float32 rounding).
#: Ops are one or two roundings deep; layers a few GEMMs; models stack layers with norms
#: (batch statistics of a few rows amplify rounding); losses exponentiate similarities.
FAMILY_TOLERANCE: dict[str, tuple[float, float]] = {
    "op": (1e-5, 1e-5),
    "transform": (1e-5, 1e-5),
    "layer": (1e-4, 1e-4),
    "predictor": (1e-4, 1e-4),
    "model": (1e-3, 1e-3),
    "loss": (1e-4, 1e-5),
}


class Call(NamedTuple):
    """A callable and its arguments, built for one device and dtype."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


Builder = Callable[[torch.device, torch.dtype], Call]


# ------------------------------------------------------------------------------- inputs

_NODES = 12


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _edges(num_nodes: int = _NODES, num_edges: int = 30, seed: int = 0) -> Tensor:
    """A fixed random undirected graph ``[2, 2E']`` without self loops (both directions)."""
    g = _generator(seed)
    src = torch.randint(0, num_nodes, (num_edges,), generator=g)
    dst = torch.randint(0, num_nodes, (num_edges,), generator=g)
    keep = src != dst
    pairs = torch.stack([src[keep], dst[keep]])
    both = torch.cat([pairs, pairs.flip(0)], dim=1)
    return torch.unique(both, dim=1)


def _feat(device: torch.device, dtype: torch.dtype, *shape: int, seed: int = 1) -> Tensor:
    """Features drawn in float32 (so every dtype sees the same values), cast, with grad."""
    value = torch.randn(*shape, generator=_generator(seed))
    return value.to(device=device, dtype=dtype).requires_grad_(True)


def _pairs(num_pairs: int = 10, num_nodes: int = _NODES, seed: int = 2) -> Tensor:
    return torch.randint(0, num_nodes, (2, num_pairs), generator=_generator(seed))


def _module(factory: Callable[[], torch.nn.Module], device: torch.device, dtype: torch.dtype):
    """The module built under a fixed seed, moved to (device, dtype)."""
    torch.manual_seed(0)
    return factory().to(device=device, dtype=dtype)


def _grit_inputs(device: torch.device, dtype: torch.dtype, channels: int = 8):
    enc = rrwp(_edges(), 3, _NODES)
    x = _feat(device, dtype, _NODES, channels)
    pair_attr = _feat(device, dtype, enc.pair_index.size(1), channels, seed=3)
    return enc, x, pair_attr


def _grit_model_kwargs(device: torch.device, dtype: torch.dtype) -> dict[str, Any]:
    enc = rrwp(_edges(), 3, _NODES)
    return {
        "rrwp": enc.node.to(device=device, dtype=dtype),
        "rrwp_index": enc.pair_index.to(device),
        "rrwp_val": enc.pair_val.to(device=device, dtype=dtype),
        "log_deg": enc.log_deg.to(device=device, dtype=dtype),
        "batch": torch.tensor([0] * 5 + [1] * 7, device=device),
        "num_graphs": 2,
    }


def _zinc_like_batch(device: torch.device) -> Batch:
    """Two small graphs with atom and bond type ids and their RRWP (as GraphModel takes)."""
    graphs = []
    for seed, n in ((4, 5), (5, 7)):
        edges = _edges(n, 8, seed)
        g = _generator(seed)
        x = torch.randint(0, 3, (n, 2), generator=g)
        x[:, 1] %= 2
        data = Data(x=x, edge_index=edges, edge_attr=torch.zeros(edges.size(1), 0), num_nodes=n)
        graphs.append(AddRRWP(3)(data))
    return Batch.from_data_list(graphs).to(device)


# ------------------------------------------------------------------------------- cases


def _ops() -> dict[str, tuple[str, Builder]]:
    import graphpair.ops as ops

    def scatter(device: torch.device, dtype: torch.dtype) -> Call:
        src = _feat(device, dtype, 20, 3)
        index = torch.randint(0, 6, (20,), generator=_generator(7)).to(device)

        def run(src: Tensor, index: Tensor) -> list[Tensor]:
            # max/min without ties (continuous draws); 'mul' on values near 1 stays stable.
            out = [ops.scatter(src, index, 0, 7, reduce) for reduce in ("sum", "mean", "max")]
            out.append(ops.scatter(src, index, 0, 7, "min"))
            out.append(ops.scatter(1 + 0.1 * src, index, 0, 7, "mul"))
            return out

        return Call(run, (src, index), {})

    def segment(device: torch.device, dtype: torch.dtype) -> Call:
        src = _feat(device, dtype, 20, 3)
        ptr = torch.tensor([0, 3, 3, 9, 14, 20], device=device)

        def run(src: Tensor, ptr: Tensor) -> list[Tensor]:
            out = [ops.segment(src, ptr, reduce) for reduce in ("sum", "mean", "max", "min")]
            out.append(ops.segment(1 + 0.1 * src, ptr, "mul"))
            return out

        return Call(run, (src, ptr), {})

    def softmax(device: torch.device, dtype: torch.dtype) -> Call:
        src = _feat(device, dtype, 20, 2)
        index = torch.randint(0, 6, (20,), generator=_generator(8)).to(device)
        ptr = torch.tensor([0, 3, 3, 9, 14, 20], device=device)

        def run(src: Tensor, index: Tensor, ptr: Tensor) -> list[Tensor]:
            return [ops.softmax(src, index, num_nodes=6), ops.softmax(src, ptr=ptr)]

        return Call(run, (src, index, ptr), {})

    def csr_call(fn: Callable[..., Any]) -> Builder:
        def build(device: torch.device, dtype: torch.dtype) -> Call:
            adj = CSR.from_edge_index(_edges().to(device), _NODES)
            return Call(fn, (adj, _pairs().to(device)), {})

        return build

    def method(device: torch.device, dtype: torch.dtype) -> Call:
        adj = CSR.from_edge_index(_edges().to(device), _NODES)
        return Call(ops.common_neighbors_method, (adj,), {})

    def walks(device: torch.device, dtype: torch.dtype) -> Call:
        weight = torch.rand(_edges().size(1), generator=_generator(9)) + 0.5
        kwargs = {"edge_weight": weight.to(device=device, dtype=dtype), "dtype": dtype}
        return Call(ops.random_walk_powers, (_edges().to(device), 4, _NODES), kwargs)

    cases: dict[str, tuple[str, Builder]] = {
        "scatter": ("op", scatter),
        "segment": ("op", segment),
        "softmax": ("op", softmax),
        "common_neighbors": ("op", csr_call(ops.common_neighbors)),
        "neighbor_difference": ("op", csr_call(ops.neighbor_difference)),
        "neighbor_overlap": ("op", csr_call(ops.neighbor_overlap)),
        "common_neighbors_method": ("op", method),
        "random_walk_powers": ("op", walks),
    }
    if hasattr(ops, "capped_neighbor_overlap"):  # NCNC's degree caps (issue 22)

        def capped(device: torch.device, dtype: torch.dtype) -> Call:
            adj = CSR.from_edge_index(_edges().to(device), _NODES)
            # A cap above every one-sided set: no draw (draws differ per device by design;
            # the path past the cap is tested on CPU, tests/ops/test_capped_overlap.py).
            return Call(ops.capped_neighbor_overlap, (adj, _pairs().to(device), _NODES), {})

        def cap(device: torch.device, dtype: torch.dtype) -> Call:
            adj = CSR.from_edge_index(_edges().to(device), _NODES)
            members = ops.neighbor_overlap(adj, _pairs().to(device)).common
            return Call(ops.cap_members, (members, 10, _NODES), {})  # no draw, as above

        cases["capped_neighbor_overlap"] = ("op", capped)
        cases["cap_members"] = ("op", cap)
    # The sparse-input adapters (graphpair.ops._as_csr), where this checkout has them.
    if hasattr(ops, "as_csr"):

        def sparse_adj(device: torch.device, dtype: torch.dtype) -> Tensor:
            edges = _edges()
            values = torch.ones(edges.size(1), dtype=dtype)
            coo = torch.sparse_coo_tensor(
                edges, values, (_NODES, _NODES), check_invariants=True
            ).coalesce()
            return coo.to_sparse_csr().to(device)

        def adapter(name: str) -> Builder:
            def build(device: torch.device, dtype: torch.dtype) -> Call:
                if name == "csr_from_data":
                    arg: Any = Data(edge_index=_edges().to(device), num_nodes=_NODES)
                elif name == "csr_from_sparse_tensor":
                    arg = (_edges().to(device), _NODES)
                else:
                    arg = sparse_adj(device, dtype)
                fn = getattr(ops, name)
                if name == "csr_from_sparse_tensor":
                    return Call(lambda pair: ops.as_csr(pair[0], pair[1]), (arg,), {})
                return Call(fn, (arg,), {})

            return build

        for name in ("as_csr", "csr_from_data", "csr_from_sparse", "csr_from_sparse_tensor"):
            cases[name] = ("op", adapter(name))
        cases["is_sparse_tensor"] = (
            "op",
            lambda device, dtype: Call(ops.is_sparse_tensor, (sparse_adj(device, dtype),), {}),
        )
    # The sampling ops, where this checkout has them.
    if hasattr(ops, "neighbor_sample"):

        def csr_nodes(fn: Callable[..., Any], *extra: Any) -> Builder:
            def build(device: torch.device, dtype: torch.dtype) -> Call:
                adj = CSR.from_edge_index(_edges().to(device), _NODES)
                return Call(fn, (adj, torch.tensor([0, 3, 5], device=device), *extra), {})

            return build

        cases["induced_subgraph"] = ("op", csr_nodes(ops.induced_subgraph))
        cases["neighborhood"] = ("op", csr_nodes(ops.neighborhood, 2))
        # A fanout above every degree: every neighbour is kept, no draw (the draws differ
        # per device by design).
        cases["neighbor_sample"] = ("op", csr_nodes(ops.neighbor_sample, [_NODES, _NODES]))
    return cases


def _transforms() -> dict[str, tuple[str, Builder]]:
    import graphpair.transforms as T

    def add_rrwp(device: torch.device, dtype: torch.dtype) -> Call:
        data = Data(edge_index=_edges().to(device), num_nodes=_NODES)
        return Call(lambda d: T.AddRRWP(4)(d.clone()), (data,), {})

    def encode(device: torch.device, dtype: torch.dtype) -> Call:
        return Call(T.rrwp, (_edges().to(device), 4, _NODES), {"dtype": dtype})

    def locate(device: torch.device, dtype: torch.dtype) -> Call:
        enc = T.rrwp(_edges().to(device), 2, _NODES)
        return Call(T.locate_pairs, (enc.pair_index, _pairs().to(device), _NODES), {})

    return {
        "AddRRWP": ("transform", add_rrwp),
        "rrwp": ("transform", encode),
        "locate_pairs": ("transform", locate),
    }


def _conv() -> dict[str, tuple[str, Builder]]:
    def grit(device: torch.device, dtype: torch.dtype) -> Call:
        enc, x, pair_attr = _grit_inputs(device, dtype)
        layer = _module(lambda: C.GRITConv(8, heads=2), device, dtype)
        kwargs = {"log_deg": enc.log_deg.to(device=device, dtype=dtype)}
        return Call(layer, (x, enc.pair_index.to(device), pair_attr), kwargs)

    def sinc(cls: type) -> Builder:
        def build(device: torch.device, dtype: torch.dtype) -> Call:
            layer = _module(lambda: cls(6, 5), device, dtype)
            return Call(layer, (_feat(device, dtype, _NODES, 6), _edges().to(device)), {})

        return build

    def layout(device: torch.device, dtype: torch.dtype) -> Call:
        enc = rrwp(_edges(), 3, _NODES)
        return Call(C.pair_layout, (enc.pair_index.to(device), _NODES), {})

    def signed_sqrt(device: torch.device, dtype: torch.dtype) -> Call:
        return Call(C.signed_sqrt, (_feat(device, dtype, 40) * 3,), {})

    return {
        "GRITConv": ("layer", grit),
        "SINCConv": ("layer", sinc(C.SINCConv)),
        "SIRConv": ("layer", sinc(C.SIRConv)),
        "pair_layout": ("op", layout),
        "signed_sqrt": ("op", signed_sqrt),
    }


def _encoders() -> dict[str, tuple[str, Builder]]:
    def mpnn(device: torch.device, dtype: torch.dtype) -> Call:
        enc = _module(lambda: E.MPNNEncoder(6, 8, 2, conv="gcn", ln=True, res=True), device, dtype)
        adj = CSR.from_edge_index(_edges().to(device), _NODES)
        return Call(enc, (_feat(device, dtype, _NODES, 6), adj), {})

    def mpnn_inference(device: torch.device, dtype: torch.dtype) -> Call:
        """Layer-wise inference over 5-node chunks (the CSR product path on CUDA too)."""
        enc = _module(lambda: E.MPNNEncoder(6, 8, 2, conv="gcn", ln=True, jk=True), device, dtype)
        adj = CSR.from_edge_index(_edges().to(device), _NODES)
        x = _feat(device, dtype, _NODES, 6)
        return Call(lambda x, a: enc.eval().inference(x, a, chunk_size=5), (x, adj), {})

    def grace(device: torch.device, dtype: torch.dtype) -> Call:
        enc = _module(lambda: E.GRACEEncoder(6, 8, 5), device, dtype)
        return Call(
            lambda x, e: enc.project(enc(x, e)),
            (_feat(device, dtype, _NODES, 6), _edges().to(device)),
            {},
        )

    def feature(device: torch.device, dtype: torch.dtype) -> Call:
        enc = _module(lambda: E.FeatureEncoder(8, vocab=(3, 2), in_channels=0), device, dtype)
        ids = torch.randint(0, 2, (_NODES, 2), generator=_generator(10)).to(device)
        return Call(enc, (ids, _NODES), {})

    def node_rrwp(device: torch.device, dtype: torch.dtype) -> Call:
        enc = rrwp(_edges(), 3, _NODES)
        layer = _module(lambda: E.RRWPNodeEncoder(3, 8), device, dtype)
        return Call(
            layer, (_feat(device, dtype, _NODES, 8), enc.node.to(device=device, dtype=dtype)), {}
        )

    def pair_rrwp(device: torch.device, dtype: torch.dtype) -> Call:
        enc = rrwp(_edges(), 3, _NODES)
        layer = _module(lambda: E.RRWPPairEncoder(3, 8), device, dtype)
        edges = _edges().to(device)
        edge_attr = _feat(device, dtype, edges.size(1), 8, seed=11)
        args = (
            enc.pair_val.to(device=device, dtype=dtype),
            enc.pair_index.to(device),
            edges,
            edge_attr,
            _NODES,
        )
        return Call(layer, args, {})

    def propagate(device: torch.device, dtype: torch.dtype) -> Call:
        edges = _edges().to(device)
        weight = _feat(device, dtype, edges.size(1), seed=12)
        x = _feat(device, dtype, _NODES, 4)
        return Call(
            lambda x, w: [E.pure_propagate(x, edges, w, _NODES, a) for a in ("sum", "mean", "max")],
            (x, weight),
            {},
        )

    def drop(device: torch.device, dtype: torch.dtype) -> Call:
        # p = 0: the draws differ per device by design, the identity must not.
        return Call(E.drop_feature, (_feat(device, dtype, _NODES, 4), 0.0), {})

    cases: dict[str, tuple[str, Builder]] = {}
    if hasattr(E, "gcn_conv"):
        from torch_geometric.nn import SAGEConv

        def gcn(device: torch.device, dtype: torch.dtype) -> Call:
            layer = _module(lambda: GCNConv(4, 6), device, dtype)
            edges = _edges().to(device)
            weight = _feat(device, dtype, edges.size(1), seed=16).abs()
            args = (layer, _feat(device, dtype, _NODES, 4), edges, weight, _NODES)
            return Call(lambda *a: E.gcn_conv(*a), args, {})

        def sage(device: torch.device, dtype: torch.dtype) -> Call:
            layer = _module(lambda: SAGEConv(4, 6), device, dtype)
            args = (layer, _feat(device, dtype, _NODES, 4), _edges().to(device), _NODES)
            return Call(lambda *a: E.sage_conv(*a), args, {})

        cases = {"gcn_conv": ("layer", gcn), "sage_conv": ("layer", sage)}
    return cases | {
        "MPNNEncoder": ("layer", mpnn),
        "MPNNEncoder[inference]": ("layer", mpnn_inference),
        "GRACEEncoder": ("layer", grace),
        "FeatureEncoder": ("layer", feature),
        "RRWPNodeEncoder": ("layer", node_rrwp),
        "RRWPPairEncoder": ("layer", pair_rrwp),
        "pure_propagate": ("op", propagate),
        "drop_feature": ("op", drop),
    }


def _link() -> dict[str, tuple[str, Builder]]:
    def predictor(factory: Callable[[], torch.nn.Module]) -> Builder:
        def build(device: torch.device, dtype: torch.dtype) -> Call:
            model = _module(factory, device, dtype)
            adj = CSR.from_edge_index(_edges().to(device), _NODES)
            return Call(model, (_feat(device, dtype, _NODES, 6), adj, _pairs().to(device)), {})

        return build

    def grit_encoder(device: torch.device, dtype: torch.dtype) -> Call:
        model = _module(lambda: K.GRITLinkEncoder(6, 8, 1, heads=2, walk_length=3), device, dtype)
        adj = CSR.from_edge_index(_edges().to(device), _NODES)
        return Call(lambda x, a: model(x, a)[0], (_feat(device, dtype, _NODES, 6), adj), {})

    def grit_head(device: torch.device, dtype: torch.dtype) -> Call:
        torch.manual_seed(0)
        encoder = K.GRITLinkEncoder(6, 8, 1, heads=2, walk_length=3).to(device=device, dtype=dtype)
        head = _module(lambda: K.GRITPairPredictor(8, 8), device, dtype)
        adj = CSR.from_edge_index(_edges().to(device), _NODES)
        with torch.no_grad():
            h, state = encoder(_feat(device, dtype, _NODES, 6).detach(), adj)
        h = h.detach().requires_grad_(True)
        return Call(head, (h, state, _pairs().to(device)), {})

    def link_model(device: torch.device, dtype: torch.dtype) -> Call:
        model = _module(
            lambda: K.LinkModel(E.MPNNEncoder(6, 6, conv="gcn"), K.NCNPredictor(6, 8)),
            device,
            dtype,
        )
        adj = CSR.from_edge_index(_edges().to(device), _NODES)
        args = (
            _feat(device, dtype, _NODES, 6),
            adj,
            _pairs().to(device),
            _pairs(seed=13).to(device),
        )
        return Call(model, args, {})

    def cap(device: torch.device, dtype: torch.dtype) -> Call:
        adj = CSR.from_edge_index(_edges().to(device), _NODES)
        members = neighbor_overlap(adj, _pairs().to(device)).common
        # A cap above every pair's count: no draw (the draws differ per device by design).
        return Call(K.cap_members, (members, 10, _NODES), {})

    def bound(device: torch.device, dtype: torch.dtype) -> Call:
        return Call(K.rrwp_pair_bound, (CSR.from_edge_index(_edges().to(device), _NODES), 3), {})

    return {
        "GAEPredictor": ("predictor", predictor(lambda: K.GAEPredictor(6, 8, mode="mlp"))),
        "NCNPredictor": (
            "predictor",
            predictor(lambda: K.NCNPredictor(6, 8, ln=True, use_xlin=True)),
        ),
        "NCNCPredictor": (
            "predictor",
            predictor(lambda: K.NCNCPredictor(6, 8, depth=2, ln=True, chunk_size=8)),
        ),
        "NCNDiffPredictor": ("predictor", predictor(lambda: K.NCNDiffPredictor(6, 8, ln=True))),
        "GRITLinkEncoder": ("model", grit_encoder),
        "GRITPairPredictor": ("predictor", grit_head),
        "LinkModel": ("model", link_model),
        "cap_members": ("op", cap),
        "rrwp_pair_bound": ("op", bound),
    }


def _models() -> dict[str, tuple[str, Builder]]:
    def graph_model(kind: str) -> Builder:
        def factory() -> torch.nn.Module:
            atoms = E.FeatureEncoder(8, vocab=(3, 2), in_channels=0)
            if kind == "grit":
                grit = M.GRIT(None, 8, 3, num_layers=2, heads=2, walk_length=3, pool="mean")
                bonds = E.FeatureEncoder(8, vocab=None, in_channels=0)
                return M.GraphModel(
                    M.GRITBackbone(grit), node_encoder=atoms, edge_encoder=bonds, readout=None
                )
            if kind == "sinc":
                stack: torch.nn.Module = M.SINC(8, 8, None, 2, input_lin=False, norm="layer")
            else:
                stack = M.ConvStack(
                    [GCNConv(8, 8), GCNConv(8, 8)], [8, 8, 8], norm="layer", residual="identity"
                )
            readout = M.MLPReadout(8, 3, pooling="sum", head_layers=1)
            return M.GraphModel(
                M.ConvBackbone(stack), node_encoder=atoms, edge_encoder=None, readout=readout
            )

        def build(device: torch.device, dtype: torch.dtype) -> Call:
            return Call(_module(factory, device, dtype), (_zinc_like_batch(device),), {})

        return build

    def grit_block(device: torch.device, dtype: torch.dtype) -> Call:
        enc, x, pair_attr = _grit_inputs(device, dtype)
        block = _module(lambda: M.GRITBlock(8, heads=2), device, dtype)
        kwargs = {"log_deg": enc.log_deg.to(device=device, dtype=dtype)}
        return Call(block, (x, enc.pair_index.to(device), pair_attr), kwargs)

    def readout(device: torch.device, dtype: torch.dtype) -> Call:
        head = _module(lambda: M.MLPReadout(6, 3, pooling="mean", head_layers=2), device, dtype)
        batch = torch.tensor([0] * 5 + [1] * 7, device=device)
        return Call(head, (_feat(device, dtype, _NODES, 6), batch, 2), {})

    def conv_stack(device: torch.device, dtype: torch.dtype) -> Call:
        stack = _module(
            lambda: M.ConvStack([GCNConv(6, 8), GCNConv(8, 8)], [6, 8, 8], norm="layer"),
            device,
            dtype,
        )
        return Call(stack, (_feat(device, dtype, _NODES, 6), _edges().to(device)), {})

    def node_classifier(device: torch.device, dtype: torch.dtype) -> Call:
        model = _module(
            lambda: M.NodeClassifier(E.MPNNEncoder(6, 8, conv="gcn"), torch.nn.Linear(8, 3)),
            device,
            dtype,
        )
        adj = CSR.from_edge_index(_edges().to(device), _NODES)
        return Call(model, (_feat(device, dtype, _NODES, 6), adj), {})

    def grit(device: torch.device, dtype: torch.dtype) -> Call:
        model = _module(
            lambda: M.GRIT(6, 8, 3, num_layers=2, heads=2, walk_length=3, pool="sum"), device, dtype
        )
        args = (_feat(device, dtype, _NODES, 6), _edges().to(device))
        return Call(model, args, _grit_model_kwargs(device, dtype))

    def sinc(device: torch.device, dtype: torch.dtype) -> Call:
        model = _module(lambda: M.SINC(6, 8, 3, num_layers=2, pool="sum"), device, dtype)
        batch = torch.tensor([0] * 5 + [1] * 7, device=device)
        args = (_feat(device, dtype, _NODES, 6), _edges().to(device))
        return Call(model, args, {"batch": batch, "num_graphs": 2})

    return {
        "GraphModel": ("model", graph_model("grit")),
        "GRITBackbone": ("model", graph_model("grit")),
        "ConvBackbone": ("model", graph_model("sinc")),
        "ConvStack": ("model", conv_stack),
        "MLPReadout": ("layer", readout),
        "GRITBlock": ("layer", grit_block),
        "NodeClassifier": ("model", node_classifier),
        "GraphModel[stack]": ("model", graph_model("stack")),
        # Exported by graphpair.nn (not graphpair.nn.models' __all__).
        "GRIT": ("model", grit),
        "SINC": ("model", sinc),
    }


def _losses() -> dict[str, tuple[str, Builder]]:
    def embeddings(fn: Callable[..., Any], **kwargs: Any) -> Builder:
        def build(device: torch.device, dtype: torch.dtype) -> Call:
            z = _feat(device, dtype, 16, 6)
            labels = torch.arange(16).remainder(4).to(device)
            return Call(fn, (z, labels), kwargs)

        return build

    def scores(fn: Callable[..., Any]) -> Builder:
        def build(device: torch.device, dtype: torch.dtype) -> Call:
            return Call(fn, (_feat(device, dtype, 12), _feat(device, dtype, 12, 5, seed=14)), {})

        return build

    def views(fn: Callable[..., Any]) -> Builder:
        def build(device: torch.device, dtype: torch.dtype) -> Call:
            return Call(fn, (_feat(device, dtype, 10, 6), _feat(device, dtype, 10, 6, seed=15)), {})

        return build

    def miner(fn: Callable[..., Any]) -> Builder:
        def build(device: torch.device, dtype: torch.dtype) -> Call:
            z = torch.nn.functional.normalize(_feat(device, dtype, 16, 6).detach(), dim=1)
            return Call(fn, (z, torch.arange(16).remainder(4).to(device)), {})

        return build

    return {
        "info_nce": ("loss", embeddings(L.info_nce)),
        "InfoNCELoss": ("loss", embeddings(L.InfoNCELoss())),
        "sup_con": ("loss", embeddings(L.sup_con)),
        "SupConLoss": ("loss", embeddings(L.SupConLoss())),
        "multi_similarity": ("loss", embeddings(L.multi_similarity)),
        "MultiSimilarityLoss": ("loss", embeddings(L.MultiSimilarityLoss())),
        "contrastive_margin": ("loss", embeddings(L.contrastive_margin)),
        "ContrastiveLoss": ("loss", embeddings(L.ContrastiveLoss())),
        "triplet_margin": ("loss", embeddings(L.triplet_margin, margin=0.2)),
        "TripletMarginLoss": ("loss", embeddings(L.TripletMarginLoss(0.2))),
        "link_bce": ("loss", scores(lambda pos, neg: L.link_bce(pos, neg))),
        "LinkBCELoss": ("loss", scores(L.LinkBCELoss())),
        "link_info_nce": ("loss", scores(lambda pos, neg: L.link_info_nce(pos, neg))),
        "LinkInfoNCELoss": ("loss", scores(L.LinkInfoNCELoss())),
        "pairwise_ranking": ("loss", scores(lambda pos, neg: L.pairwise_ranking(pos, neg[:, 0]))),
        "PairwiseRankingLoss": (
            "loss",
            scores(lambda pos, neg: L.PairwiseRankingLoss()(pos, neg[:, 0])),
        ),
        "grace": ("loss", views(L.grace)),
        "GRACELoss": ("loss", views(L.GRACELoss())),
        "multi_similarity_miner": ("loss", miner(L.multi_similarity_miner)),
        "MultiSimilarityMiner": ("loss", miner(L.MultiSimilarityMiner())),
        # Without a process group it returns its input; the NCCL path needs several ranks.
        "all_gather_with_grad": ("loss", views(lambda a, b: L.all_gather_with_grad(a) * b)),
    }


#: Public module -> {public name: (family, builder)}; a name with a suffix in brackets is a
#: further configuration of that name.
CASES: dict[str, dict[str, tuple[str, Builder]]] = {
    "graphpair.ops": _ops(),
    "graphpair.transforms": _transforms(),
    "graphpair.nn.conv": _conv(),
    "graphpair.nn.encoders": _encoders(),
    "graphpair.nn.link": _link(),
    "graphpair.nn.models": _models(),
    "graphpair.losses": _losses(),
}

#: Public callables the sweep does not run, each with the reason.
SKIPPED: dict[str, dict[str, str]] = {
    "graphpair.ops": {
        "get_backend": "backend switch: no tensor input (the sweep runs under each backend)",
        "set_backend": "backend switch: no tensor input",
        "use_backend": "backend switch: no tensor input (the sweep's --backend uses it)",
        "resolve_backend": "backend switch: no tensor input",
        "torch_scatter_available": "no tensor input",
        "PairNodeSet": "result container of common_neighbors (compared there)",
        "NeighborOverlap": "result container of neighbor_overlap (compared there)",
        "CappedOverlap": "result container of capped_neighbor_overlap (compared there)",
        "RandomWalkPowers": "result container of random_walk_powers (compared there)",
        **(
            {
                "SampledSubgraph": "result container of neighbor_sample (compared there)",
                "check_fanout": "argument check: no tensor input",
            }
            if hasattr(importlib.import_module("graphpair.ops"), "neighbor_sample")
            else {}
        ),
    },
    "graphpair.transforms": {"RRWPEncoding": "result container of rrwp (compared there)"},
    "graphpair.nn.conv": {"PairLayout": "result container of pair_layout (compared there)"},
    "graphpair.nn.encoders": {},
    "graphpair.nn.link": {},
    "graphpair.nn.models": {
        "GRITPairs": "result container of GRIT.encode / GRITLinkEncoder (compared there)",
        "GraphInputs": "a dataset layout description (a dataclass, no tensor input)",
    },
    "graphpair.losses": {"NoPairsWarning": "a warning class"},
}


def coverage_problems() -> list[str]:
    """Public callables of the swept modules with neither a case nor a skip entry, and stale
    cases or skip entries naming no public callable; empty when the sweep covers the API."""
    problems: list[str] = []
    covered: set[str] = set()
    for module_name, cases in CASES.items():
        module = importlib.import_module(module_name)
        public = {s for s in module.__all__ if callable(getattr(module, s)) and not s.isupper()}
        named = {name.split("[")[0] for name in cases} | set(SKIPPED[module_name])
        if module_name == "graphpair.nn.models":
            public |= {"GRIT", "SINC"}  # graphpair.nn's, built from graphpair.nn.models
        problems += [
            f"{module_name}.{s}: no sweep case and no skip entry" for s in sorted(public - named)
        ]
        problems += [f"{module_name}.{s}: listed but not public" for s in sorted(named - public)]
        covered |= named
    # graphpair.nn re-exports its subpackages' names; every one must be covered above.
    nn = importlib.import_module("graphpair.nn")
    for s in sorted(nn.__all__):
        value = getattr(nn, s)
        if callable(value) and not s.isupper() and s not in covered:
            problems.append(f"graphpair.nn.{s}: no sweep case and no skip entry")
    return problems
