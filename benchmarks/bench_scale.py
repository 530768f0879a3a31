"""OGB-scale link prediction on one machine: time and peak memory of each piece (issue 22).

Stand-ins with the node and edge counts of ogbl-ppa (576,289 nodes, 30.3M edges) and
ogbl-citation2 (2,927,963 nodes, 30.6M edges) and a power-law degree distribution
(Chung-Lu: both endpoints of every edge drawn with probability proportional to a weight
:math:`w_i \\propto (i + 1)^{-1/(\\gamma - 1)}`, :math:`\\gamma = 2.5`; self loops and repeats
dropped) are generated here at a fraction of the full size (never committed: they go to a
temporary cache folder). ppa's stand-in has a species id per node (58 categories), citation2's
128 random features, as the real sets.

Every piece runs in a fresh interpreter under an address-space cap (``--cap-gib``, default
22): the child builds what the piece needs, resets the kernel's peak-RSS counter
(``/proc/self/clear_refs``), runs the piece once and reports its wall time and its peak extra
resident memory (``VmHWM`` after minus ``VmRSS`` before). ``peak RSS`` is the whole child's
high-water mark. The pieces:

- ``load``: ``graphpair.data.read_edge_list`` of the stand-in written as a text edge list;
- ``csr``: ``CSR.from_edge_index`` of the symmetrised training graph and its cached
  transpose (``CSR.transpose``, the one sort that message passing then reuses);
- ``split``: ``link_split`` (NCN's Planetoid split: 70 / 10 / 20 % of the edges, negatives,
  leakage audit);
- ``audit``: ``audit_split`` of that split (built in set-up); ``audit-isin``: the audit as
  before 2026-12-08 (:func:`_audit_isin`: ``torch.isin`` per check, which sorts its reference
  every time, and the message-passing graphs symmetrised), its baseline in the same run;
- ``cn``: common neighbours of 65,536 training pairs;
- ``encoder``: the dataset's shipped encoder, forward and backward on the whole graph, on the
  CSR's stored entries with its cached transpose (built in set-up, once per run);
- ``encoder-edges``: the same on ``adj.to_edge_index()``, the path every CSR took before the
  cached transpose (an edge list copied every forward, sorted by target every layer): the
  baseline of ``encoder``, measured in the same run;
- ``step`` / ``step-sampled``: one training step on a random batch of positives,
  full-batch / ``sampler='neighbor'`` (before 2026-12-07 the split's first batch: the
  positives of nodes 0-2, the stand-in's hubs);
- ``step-sampled-before``: ``step-sampled`` as before 2026-12-07: NCN scoring on the
  adjacency among all the nodes it reads (``induced_subgraph``, not ``common_neighbor_star``:
  ``_reads`` patched to hand no common neighbours on), the rows holding a masked entry
  sampled by random keys over all their entries (``bench_masked_sampling.split_hop``), and
  every encoder layer on the whole sampled subgraph (no per-hop trimming): the baseline of
  ``step-sampled``, measured in the same run;
- ``step-sampled-copied``: ``step-sampled`` with GCN propagation's self-loop term added out of
  place (``edges.sum(x, norm) + loop``, a fresh ``[N, D]`` sum a layer), as before
  2026-12-07's in-place ``add_``: the baseline of ``step-sampled``, measured in the same run;
- ``step-sampled-search``: ``step-sampled`` with ``neighbor_sample`` relabelling by binary
  search alone, as before 2026-12-07 (``TABLE_LABELS_MIN_SHARE`` patched to infinity): the
  baseline of its ``[N]`` table of local ids (``node-epoch-sampled-search``: the same for
  ``node-epoch-sampled``);
- ``epoch`` / ``epoch-sampled``: one full training epoch (every batch of the split);
  ``epoch-sampled-before``: ``epoch-sampled`` with the patches of ``step-sampled-before``;
  ``epoch-sampled-48``: the first :data:`PREFIX_STEPS` steps of ``epoch-sampled`` (an epoch
  over that many random batches of the training positives: an epoch's start, for what its
  memory and time do over varied batches without the hours of a full-size epoch);
- ``eval``: one full evaluation (validation and test scored in ``test_batch_size`` chunks);
- ``eval-chunk``: one chunk of ``eval``: ``test_batch_size`` pairs drawn at random from the
  validation positives and negatives, scored on node embeddings computed in set-up (the time
  and work a scored pair costs, at each size);
- ``eval-ogb`` (citation2): one full evaluation under OGB's citation2 protocol: as many
  validation and test positives as OGB's (86,956 each, scaled with the fraction; drawn from
  the random split's), each with its own 1,000 negatives (its source, uniformly random
  destinations, as OGB's were drawn), scored in ``test_batch_size`` chunks; MRR with the
  Hits@1/3/10 that OGB's MRR evaluator reports (the shipped citation2 metrics);
- ``eval-ogb-rechecked``: ``eval-ogb`` with the embedding checked for NaN / infinity in
  every scored chunk (``check_embeddings_finite`` patched to check every call), as before
  2026-12-07: the baseline of ``eval-ogb``, measured in the same run;
- ``eval-unshared``: ``eval`` with every chunk computing its own rows of NCNC's
  :math:`h' = h + \\mathrm{XLIN}(h)` (``chunked_scoring`` patched to do nothing), as before
  ``NCNCPredictor.reuse_rows``: the baseline of ``eval``, measured in the same run;
- ``overlap`` / ``overlap-listed`` (configurations with NCNC's degree caps, citation2's):
  the common neighbours and capped one-sided sets of one random batch of positives and as
  many negatives, by ``capped_neighbor_overlap`` / by ``neighbor_overlap`` then
  ``cap_members`` on each side (every one-sided set listed first: the baseline, measured in
  the same run);
- ``node-epoch`` / ``node-epoch-sampled`` (the ogbn-products stand-in: 2,449,029 nodes,
  61,859,140 edges, 100 random features, 47 random classes, OGB's split sizes (196,615
  training and 39,323 validation nodes, scaled with the fraction)): one epoch of
  ``graphpair node`` (OGB's products GCN: 3 layers, width 256, dropout 0.5), a training pass
  (full-batch, or ``sampler='neighbor'`` with fanout (15, 10, 5) and 1,024 seeds a step) then
  the full-graph evaluation; the run's memory estimate is checked first, as the runner does,
  and a refusal is the row's result;
- ``node-eval`` / ``node-eval-forward``: one full-graph evaluation of that GCN (untrained)
  on the products stand-in's CSR: ``NodeClassifier.inference`` (layer by layer over node
  chunks, what ``graphpair node`` runs) / the forward under ``torch.no_grad()`` (what it ran
  before; the baseline, measured in the same run);
- ``node-epoch-untrimmed``: ``node-epoch-sampled`` with every encoder layer on the whole
  sampled subgraph, as before the per-hop trimming (``MPNNEncoder._trim_plan`` is patched
  here to make no plan): the baseline of ``node-epoch-sampled``.

``--predictors`` names the link predictors (``ncn``, ``ncnc``, ...); ``<name>-frozen``
runs it with ``conv='none'`` on frozen ``[N, hidden]`` node embeddings (random here), as
the reference runs citation2's NCNC on a trained NCN's embeddings (spec quirk Q3).

``--allocator default`` runs the children with glibc's own settings instead of
``MALLOC_MMAP_THRESHOLD_=131072`` (see :data:`ALLOCATORS`): faster allocation-heavy rows,
``peak RSS`` then an upper bound of the live peak; ``--allocator reuse`` runs them as
``graphpair link --allocator reuse`` runs (freed memory kept in the heap).

Growth exponents: :math:`\\log(t_b / t_a) / \\log(E_b / E_a)` between consecutive sizes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

from benchmarks._common import (
    _status_bytes,
    add_common_arguments,
    fmt_bytes,
    fmt_time,
    markdown_table,
    publish,
)

GRAPHS = {
    "ppa": {"nodes": 576_289, "edges": 30_326_273, "dataset": "ogbl-ppa", "species": 58},
    "citation2": {
        "nodes": 2_927_963,
        "edges": 30_561_187,
        "dataset": "ogbl-citation2",
        "features": 128,
    },
    "products": {
        "nodes": 2_449_029,
        "edges": 61_859_140,
        "dataset": "ogbn-products",
        "features": 100,
        "classes": 47,
        "split": (196_615, 39_323),  # training and validation nodes; the rest is test
    },
}
#: Set (to "1") by ``--no-memory-check`` for the children: run the node pieces past the estimate.
_NO_MEMORY_CHECK = "GRAPHPAIR_BENCH_NO_MEMORY_CHECK"
#: Steps of the ``epoch-sampled-48`` piece.
PREFIX_STEPS = 48
#: Pieces of the node task (the products stand-in runs these only, the link stand-ins the rest).
NODE_PIECES = (
    "node-epoch",
    "node-epoch-sampled",
    "node-epoch-sampled-search",
    "node-epoch-untrimmed",
    "node-eval",
    "node-eval-forward",
)
PIECES = (
    "load",
    "csr",
    "split",
    "audit",
    "audit-isin",
    "cn",
    "encoder",
    "encoder-edges",
    "step",
    "step-sampled",
    "step-sampled-before",
    "step-sampled-search",
    "step-sampled-copied",
    "eval",
    "eval-unshared",
    "eval-chunk",
    "eval-ogb",
    "eval-ogb-rechecked",
    "epoch",
    "epoch-sampled",
    "epoch-sampled-before",
    f"epoch-sampled-{PREFIX_STEPS}",
    "overlap",
    "overlap-listed",
    *NODE_PIECES,
)
CACHE = Path(os.environ.get("GRAPHPAIR_BENCH_CACHE", tempfile.gettempdir())) / "graphpair-scale"


def standin(name: str, fraction: float) -> tuple[np.ndarray, int]:
    """The stand-in's undirected edges ``[2, E]`` (int64) and node count, cached as .npy."""
    spec = GRAPHS[name]
    n, m = int(spec["nodes"] * fraction), int(spec["edges"] * fraction)
    path = CACHE / f"{name}-{fraction:g}.npy"
    if path.exists():
        return np.load(path), n
    gen = torch.Generator().manual_seed(0)
    weight = torch.arange(1, n + 1, dtype=torch.float64).pow(-1 / 1.5)
    cdf = torch.cumsum(weight / weight.sum(), 0)
    keys = torch.empty(0, dtype=torch.long)
    draw = m
    while keys.numel() < m:
        ends = torch.searchsorted(
            cdf, torch.rand(2, int(draw * 1.1) + 16, generator=gen, dtype=torch.float64)
        )
        ends = ends.clamp_(max=n - 1)
        lo, hi = ends.min(0).values, ends.max(0).values
        fresh = (lo * n + hi)[lo != hi]
        keys = torch.unique(torch.cat([keys, fresh]))
        draw = m - keys.numel()
    keys = keys[torch.randperm(keys.numel(), generator=gen)[:m]]
    edges = torch.stack([keys // n, keys % n]).numpy()
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, edges)
    tmp.replace(path)
    return edges, n


# ------------------------------------------------------------------------------ the child


def _node_inputs(name: str, n: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1)
    spec = GRAPHS[name]
    if "species" in spec:
        return torch.nn.functional.one_hot(
            torch.randint(0, spec["species"], (n,), generator=gen)
        ).float()
    return torch.randn(n, spec["features"], generator=gen)


def _setup(name: str, fraction: float, piece: str, predictor: str) -> Any:
    """What the piece needs, built before the peak counter is reset; returns the call."""
    from torch_geometric.data import Data

    from graphpair.data import link_split, read_edge_list
    from graphpair.ops import CSR, common_neighbors
    from graphpair.train import link_config

    edges, n = standin(name, fraction)
    if piece == "load":
        text = CACHE / f"{name}-{fraction:g}.txt"
        if not text.exists():
            tmp = text.with_suffix(".tmp")
            np.savetxt(tmp, edges.T, fmt="%d", delimiter="\t")
            tmp.replace(text)
        return lambda: read_edge_list(text)
    edge_index = torch.from_numpy(edges)
    data = Data(edge_index=torch.cat([edge_index, edge_index.flip(0)], 1), num_nodes=n)
    if piece in ("node-eval", "node-eval-forward"):
        return _node_eval(name, data, piece)
    if piece in NODE_PIECES:
        return _node_epoch(name, data, piece)
    if piece == "csr":

        def build() -> None:
            CSR.from_edge_index(edge_index, n).transpose()

        return build
    if piece == "split":
        return lambda: link_split(data, 0)
    split = link_split(data, 0, audit=False)
    if piece in ("audit", "audit-isin"):
        from graphpair.data import audit_split

        expected = audit_split(split, strict=False).counts
        if _audit_isin(split) != expected:
            raise AssertionError("audit-isin and audit_split count differently")
        if piece == "audit":
            return lambda: audit_split(split)

        def isin_audit() -> None:  # its counts are not a piece's parts' times
            _audit_isin(split)

        return isin_audit
    ogb = piece.startswith("eval-ogb")
    if ogb:
        split = _ogb_protocol(split, fraction)
    adj = CSR.from_edge_index(split.edge_index("train"), n)
    adj.transpose()  # built once per run, with the graph (the csr piece times it)
    if piece == "cn":
        pairs = split.train_pos[:, :65536]
        return lambda: common_neighbors(adj, pairs)
    data.x = _node_inputs(name, n)
    sampler = "neighbor" if piece.endswith("sampled") or "sampled-" in piece else "full"
    # '<predictor>-frozen': the reference's citation2 NCNC (spec quirk Q3), no message
    # passing on frozen NCN node embeddings ([N, hidden] here, random: a stand-in for
    # `SavedLinkModel.embed()` of a trained NCN) read as the node features
    frozen = predictor.endswith("-frozen")
    # the stand-in's split is NCN's random one with shared negative pools, scored with
    # Hits@K; eval-ogb replaced its evaluation pairs with OGB's citation2 protocol above
    config = link_config(
        GRAPHS[name]["dataset"],
        predictor.removesuffix("-frozen"),
        device="cpu",
        sampler=sampler,
        runs=1,
        epochs=1,
        # eval-ogb keeps the shipped citation2 metrics: MRR, Hits@1/3/10
        **({} if ogb else {"metrics": ("hits@20", "hits@50", "hits@100"), "metric": "hits@100"}),
        **({"conv": "none"} if frozen else {}),
    )
    if frozen:
        gen = torch.Generator().manual_seed(3)
        data.x = torch.randn(n, config.hidden_channels, generator=gen)
    if piece in ("overlap", "overlap-listed"):
        return _overlap(config, split.train_pos, adj, piece)
    from graphpair.train._link import _evaluate_once, _train_epoch
    from graphpair.train._link_builder import build_encoder, build_predictor, node_input
    from graphpair.train._link_sampling import step_module, step_seed

    x, in_channels, num_embeddings = node_input(config, data)
    torch.manual_seed(0)
    encoder = build_encoder(config, in_channels, num_embeddings)
    predictor = build_predictor(config)
    optimizer = torch.optim.Adam([*encoder.parameters(), *predictor.parameters()], lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    if piece == "encoder":

        def encode() -> None:
            encoder(x, adj).square().mean().backward()

        return encode
    if piece == "encoder-edges":

        def encode_edges() -> None:
            encoder(x, adj.to_edge_index()).square().mean().backward()

        return encode_edges
    if piece.endswith("-sampled-before"):  # the baseline: the induced subgraph, split hops
        from benchmarks.bench_masked_sampling import split_hop
        from graphpair.ops import _sampling
        from graphpair.train import _link_sampling

        reads = _link_sampling._reads
        _link_sampling._reads = lambda *args: (reads(*args)[0], None)
        _sampling._sample_hop = split_hop
        # every layer on the whole sampled subgraph, as a CSR (no MPNNEncoder is one of these)
        _link_sampling.MPNNEncoder = type("Untrimmed", (), {})  # type: ignore[misc]
    if piece.endswith("-sampled-search"):  # the baseline: relabelling by binary search alone
        from graphpair.ops import _sampling

        _sampling.TABLE_LABELS_MIN_SHARE = math.inf
    if piece.endswith("-sampled-copied"):  # the baseline: GCN's self-loop term added out of place
        from graphpair.nn.encoders import _mpnn, _propagate

        in_place = _propagate._propagate

        def copied(x: torch.Tensor, edges: Any, weight: torch.Tensor, aggr: str) -> Any:
            if aggr != "gcn":
                return in_place(x, edges, weight, aggr)
            inv_sqrt, norm = edges.gcn_norm(weight)
            return edges.sum(x, norm) + x * inv_sqrt.pow(2).unsqueeze(-1)

        _propagate._propagate = _mpnn._propagate = copied  # the module's and its importer's
    if piece.startswith("step"):
        step = step_module(config, encoder, predictor, adj)
        # a random batch, as an epoch's are (the split lists its positives sorted by source:
        # its first batch would be the hubs' edges alone)
        batch = torch.randperm(split.train_pos.size(1), generator=generator)
        pos = split.train_pos[:, batch[: config.batch_size]]
        neg = torch.randint(0, n, pos.shape, generator=generator)

        def one_step() -> None:
            extra = {} if sampler == "full" else {"seed": step_seed(generator)}
            with adj.masked(pos) as graph:
                p, q = step(x, graph, pos, neg, **extra)
                (
                    -torch.nn.functional.logsigmoid(p).mean()
                    - torch.nn.functional.logsigmoid(-q).mean()
                ).backward()
            optimizer.step()

        return one_step
    if piece.startswith("epoch"):
        step = step_module(config, encoder, predictor, adj)
        train_pos = split.train_pos
        if piece == f"epoch-sampled-{PREFIX_STEPS}":  # an epoch's first steps
            share = torch.randperm(train_pos.size(1), generator=generator)
            train_pos = train_pos[:, share[: PREFIX_STEPS * config.batch_size]]
        return lambda: _train_epoch(
            config,
            encoder,
            predictor,
            optimizer,
            x,
            adj,
            train_pos,
            split.edge_index("train"),
            generator,
            step,
        )
    if piece == "eval-chunk":
        from graphpair.nn import LinkModel
        from graphpair.train._link_eval import chunked_scoring

        pairs = torch.cat([split.pos("valid"), split.neg("valid").reshape(2, -1)], 1)
        chunk = pairs[:, torch.randperm(pairs.size(1), generator=generator)]
        chunk = chunk[:, : config.test_batch_size]
        encoder.eval()
        predictor.eval()
        with torch.no_grad():
            h, state = LinkModel(encoder, predictor).encode(x, adj, inference=True)

        def score_chunk() -> None:
            with torch.no_grad(), chunked_scoring(predictor):
                predictor(h, state, chunk)

        return score_chunk
    if piece in ("eval", "eval-unshared", "eval-ogb", "eval-ogb-rechecked"):
        from graphpair.train._link import Shard

        if piece == "eval-unshared":  # the baseline: every chunk computes its own h' rows
            import contextlib

            import graphpair.train._link_eval as link_eval

            link_eval.chunked_scoring = lambda _predictor: contextlib.nullcontext()  # type: ignore[assignment]
        if piece == "eval-ogb-rechecked":  # the baseline: every chunk checks h again
            import graphpair.nn.link._common as link_common
            from graphpair._validation import check_finite

            link_common.check_embeddings_finite = lambda h: check_finite("h", h)  # type: ignore[assignment]

        return lambda: _evaluate_once(config, encoder, predictor, x, adj, adj, split, Shard())
    raise ValueError(f"unknown piece {piece!r}")


#: OGB's ogbl-citation2 evaluation: validation and test positives, given negatives per positive.
OGB_CITATION2 = {"positives": 86_956, "negatives": 1000}


def _audit_isin(split: Any) -> dict[str, int]:
    """``audit_split``'s counts as computed before 2026-12-08 (the ``audit-isin`` baseline):
    every check a ``torch.isin``, which sorts the reference array anew each call, against the
    symmetrised message-passing graphs of ``split.edge_index``."""
    n, directed = split.num_nodes, split.directed

    def keys(pairs: torch.Tensor, directed: bool) -> torch.Tensor:
        row, col = pairs.reshape(2, -1)
        if not directed:
            row, col = torch.minimum(row, col), torch.maximum(row, col)
        return row * n + col

    def count_in(a: torch.Tensor, b: torch.Tensor) -> int:
        return int(torch.isin(a, b).sum())

    stages = ("train", "valid", "test")
    pos = {s: keys(split.pos(s), directed) for s in stages}
    every = torch.cat([keys(split.pos(s), False) for s in stages])
    counts = {}
    for name in ("valid", "test"):
        graph = keys(split.edge_index(name), False)
        counts[f"{name}_pos_in_graph"] = count_in(keys(split.pos(name), False), graph)
    counts["train_valid_overlap"] = count_in(torch.unique(pos["valid"]), pos["train"])
    counts["train_test_overlap"] = count_in(torch.unique(pos["test"]), pos["train"])
    counts["valid_test_overlap"] = count_in(torch.unique(pos["test"]), pos["valid"])
    for name in stages:
        counts[f"{name}_pos_duplicates"] = pos[name].numel() - torch.unique(pos[name]).numel()
    for name in ("valid", "test"):
        neg = split.neg(name)
        flat = neg.reshape(2, -1)
        counts[f"{name}_neg_is_edge"] = count_in(keys(flat, False), every)
        counts[f"{name}_neg_self_loops"] = int((flat[0] == flat[1]).sum())
        neg_keys = keys(neg, directed)
        if neg.dim() == 3:
            ordered = torch.sort(neg_keys.reshape(neg.shape[1:]), dim=1).values
            counts[f"{name}_neg_duplicates"] = int((ordered[:, 1:] == ordered[:, :-1]).sum())
        else:
            counts[f"{name}_neg_duplicates"] = neg_keys.numel() - torch.unique(neg_keys).numel()
    return counts


def _ogb_protocol(split: Any, fraction: float) -> Any:
    """``split`` with OGB's citation2 evaluation (:data:`OGB_CITATION2`, positives scaled with
    ``fraction``): random validation / test positives of its own, each with its source and
    1,000 uniformly random destinations as negatives ``[2, P, 1000]``."""
    import dataclasses

    gen = torch.Generator().manual_seed(2)
    count = max(1, round(OGB_CITATION2["positives"] * fraction))
    stages = {}
    for stage in ("valid", "test"):
        positives = split.pos(stage)
        pos = positives[:, torch.randperm(positives.size(1), generator=gen)[:count]]
        targets = torch.randint(
            0, split.num_nodes, (pos.size(1), OGB_CITATION2["negatives"]), generator=gen
        )
        neg = torch.stack([pos[0, :, None].expand_as(targets), targets])
        stages |= {f"{stage}_pos": pos, f"{stage}_neg": neg}
    return dataclasses.replace(split, **stages)


def _overlap(config: Any, train_pos: torch.Tensor, adj: Any, piece: str) -> Any:
    """NCNC's capped neighbour overlap of one batch: its positives, then as many negatives
    (the positive's source, a random destination), as a training step computes them."""
    from graphpair.ops import cap_members, capped_neighbor_overlap, neighbor_overlap

    cap = config.train_degree_cap
    if cap is None:
        raise ValueError(f"piece {piece!r} needs a degree cap; {config.data_name} has none")
    gen = torch.Generator().manual_seed(0)
    batch = torch.randperm(train_pos.size(1), generator=gen)[: config.batch_size]
    pos = train_pos[:, batch]
    neg = torch.stack([pos[0], torch.randint(0, adj.num_nodes, (pos.size(1),), generator=gen)])

    def capped() -> None:
        for pairs in (pos, neg):
            capped_neighbor_overlap(adj, pairs, cap)

    def listed() -> None:  # the baseline: every one-sided set listed, then capped
        for pairs in (pos, neg):
            _, i_only, j_only = neighbor_overlap(adj, pairs)
            cap_members(i_only, pairs.size(1), cap)
            cap_members(j_only, pairs.size(1), cap)

    return capped if piece == "overlap" else listed


def _node_epoch(name: str, data: Any, piece: str) -> Any:
    """One epoch of ``graphpair node`` on the stand-in, after the runner's memory check."""
    from types import SimpleNamespace

    from graphpair.train import ConfigError, node_config
    from graphpair.train._memory import check_node_memory
    from graphpair.train._node import _node_run, _propagation_graph, _sampling, memory_estimate

    spec = GRAPHS[name]
    n = int(data.num_nodes)
    gen = torch.Generator().manual_seed(2)
    x = _node_inputs(name, n)
    y = torch.randint(0, spec["classes"], (n,), generator=gen)
    order = torch.randperm(n, generator=gen)
    scale = n / spec["nodes"]  # OGB's split sizes, scaled with the stand-in
    train, valid = (int(count * scale) for count in spec["split"])
    split = {"train": order[:train], "valid": order[train : train + valid]}
    split["test"] = order[train + valid :]
    dataset = SimpleNamespace(data=data, split=split)
    sampled = piece in ("node-epoch-sampled", "node-epoch-untrimmed", "node-epoch-sampled-search")
    if piece == "node-epoch-sampled-search":  # the baseline: relabelling by binary search alone
        from graphpair.ops import _sampling as ops_sampling

        ops_sampling.TABLE_LABELS_MIN_SHARE = math.inf
    if piece == "node-epoch-untrimmed":  # no trimming plan: every layer on every node
        from graphpair.nn import MPNNEncoder

        MPNNEncoder._trim_plan = lambda *args: None  # type: ignore[method-assign]
    config = node_config(
        "default",  # the configuration's fields; the data are the stand-in's
        conv="gcn",
        num_layers=3,
        hidden_channels=256,
        dropout=0.5,
        epochs=1,
        runs=1,
        device="cpu",
        sampler="neighbor" if sampled else "full",
        fanout=(15, 10, 5),
        batch_size=1024,
    )
    tensors = (x, y, data.edge_index)
    graph = _propagation_graph(data.edge_index, n)
    estimate = memory_estimate(config, x, spec["classes"], data.edge_index, graph)
    print(estimate.describe(), file=sys.stderr)
    try:
        if os.environ.get(_NO_MEMORY_CHECK) != "1":
            check_node_memory(estimate, config)
    except ConfigError as err:
        raise SystemExit(f"refused before training: {estimate.describe()}") from err
    sampling = _sampling(config, data.edge_index, n, graph)

    def epoch() -> dict[str, float]:
        run = _node_run(config, dataset, tensors, 0, None, None, None, None, sampling, graph)
        record = run.history[0]
        return {"train": record.train_seconds, "evaluation": record.eval_seconds}

    return epoch


def _node_eval(name: str, data: Any, piece: str) -> Any:
    """One full-graph evaluation of the products GCN (the ``node-epoch`` model, untrained):
    ``NodeClassifier.inference`` as the runner calls it, or (``node-eval-forward``, the
    baseline) the forward under ``torch.no_grad()`` that the runner ran before."""
    from graphpair.train import node_config
    from graphpair.train._node import _propagation_graph, build_node_model

    spec = GRAPHS[name]
    n = int(data.num_nodes)
    x = _node_inputs(name, n)
    config = node_config("default", conv="gcn", num_layers=3, hidden_channels=256, device="cpu")
    torch.manual_seed(0)
    model = build_node_model(config, x.size(1), spec["classes"]).eval()
    graph = _propagation_graph(data.edge_index, n)
    assert graph is not None
    graph.transpose()  # built once per run, with the graph (as the runner's CSR is)

    def evaluate() -> None:
        if piece == "node-eval":
            model.inference(x, graph)
        else:
            with torch.no_grad():
                model(x, graph)

    return evaluate


#: Set in a child's environment (``bench_allocator.py``'s ``graphpair reuse``): the child
#: calls :func:`graphpair.train.reuse_freed_memory` first and
#: :func:`~graphpair.train.release_freed_memory` after its set-up, as the runners do with
#: ``--allocator reuse``.
REUSE = "GRAPHPAIR_BENCH_REUSE"


def child(name: str, fraction: float, piece: str, predictor: str, repeats: int) -> None:
    from graphpair.train import release_freed_memory, reuse_freed_memory

    reuse = os.environ.get(REUSE) == "1"
    if reuse:
        reuse_freed_memory()
    call = _setup(name, fraction, piece, predictor)
    if reuse:
        release_freed_memory()
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_bytes("VmRSS")
    times, parts, faults, kernel = [], {}, [], []
    for _ in range(repeats):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        result = call()
        parts = result if isinstance(result, dict) else {}  # a piece's parts' times
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_SELF)
        faults.append(after.ru_minflt - usage.ru_minflt)
        kernel.append(after.ru_stime - usage.ru_stime)
    print(
        json.dumps(
            {
                "parts": parts,
                "seconds": statistics.median(times),
                "times": times,
                "faults": statistics.median(faults),  # minor page faults a call
                "kernel": statistics.median(kernel),  # system CPU seconds a call
                "extra": _status_bytes("VmHWM") - before,
                "peak": _status_bytes("VmHWM"),
            }
        )
    )


# ------------------------------------------------------------------------------ the parent


def run_capped(
    argv: list[str], cap_gib: float, timeout: float | None, env: dict[str, str]
) -> dict[str, Any]:
    """Run ``python argv`` with the address space capped at ``cap_gib`` and return the JSON
    object its last stdout line prints, or ``{"error": ...}`` (timeout, memory, failure)."""
    cap = int(cap_gib * 2**30)

    def limit() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        low = cap if hard == resource.RLIM_INFINITY else min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (low, hard))

    try:
        result = subprocess.run(
            [sys.executable, *argv],
            capture_output=True,
            text=True,
            preexec_fn=limit,
            timeout=timeout,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired:
        assert timeout is not None
        return {"error": f"over the {fmt_time(timeout)} limit"}
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["?"])[-1]
        oom = "memory" in tail.lower() and not tail.startswith("refused")
        return {"error": ("out of memory: " if oom else "") + tail[:300]}
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


#: ``--allocator``: the child's glibc settings. ``exact`` (``MALLOC_MMAP_THRESHOLD_=131072``):
#: every block above 128 KiB is its own mapping, returned when freed, so ``VmHWM`` is the live
#: peak, but each large allocation pays for fresh zeroed pages (allocation-heavy pieces ran
#: about 2x slower: scale.md). ``default``: glibc's own settings; freed blocks may stay in the
#: heap, so ``VmHWM`` is an upper bound of the live peak, and the time is what a user sees
#: under ``--allocator system``. ``reuse``: what ``graphpair link`` / ``node`` do with
#: ``--allocator reuse`` (:data:`REUSE`), no block unmapped, the set-up's free pages handed
#: back once.
ALLOCATORS = {
    "exact": {"MALLOC_MMAP_THRESHOLD_": "131072"},
    "default": {},
    "reuse": {REUSE: "1"},
}


def measure(
    name: str,
    fraction: float,
    piece: str,
    predictor: str,
    cap_gib: float,
    timeout: float,
    repeats: int = 1,
    allocator: Mapping[str, str] = ALLOCATORS["exact"],
) -> dict[str, Any]:
    """One piece in a capped child whose allocator variables are ``allocator``'s (one of
    :data:`ALLOCATORS`, or any others: ``bench_allocator.py``) and no inherited ones."""
    argv = [__file__, "--child", name, str(fraction), piece, predictor, str(repeats)]
    return run_capped(argv, cap_gib, timeout, allocator_env(allocator))


#: torch's switch for transparent huge pages under its CPU allocations of 2 MB and more, read
#: once, at torch's first allocation (``bench_allocator.py`` measures it)
TORCH_THP = "THP_MEM_ALLOC_ENABLE"


def allocator_env(allocator: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without the allocator variables (glibc's ``MALLOC_*`` and
    ``GLIBC_TUNABLES``, torch's :data:`TORCH_THP`), with ``allocator``'s: a child's allocator
    is the one asked for, whatever the parent inherited."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MALLOC_") and key not in ("GLIBC_TUNABLES", TORCH_THP, REUSE)
    }
    return {**env, **allocator}


def child_env(allocator: str) -> dict[str, str]:
    """:func:`allocator_env` with the settings of ``allocator`` (:data:`ALLOCATORS`)."""
    return allocator_env(ALLOCATORS[allocator])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--graphs", default="ppa,citation2")
    parser.add_argument("--fractions", default="0.0625,0.25,1")
    parser.add_argument("--pieces", default=",".join(PIECES))
    parser.add_argument("--predictors", default="ncn")
    parser.add_argument(
        "--limits",
        default="eval=0.25,eval-unshared=0.25,eval-ogb=0.25,eval-ogb-rechecked=0.25,epoch=0.0625,epoch-sampled=0.0625",
        help="PIECE=FRACTION,...: the largest fraction a piece runs at (its rows beyond are "
        "'not run')",
    )
    parser.add_argument("--cap-gib", type=float, default=22.0)
    parser.add_argument("--name", default="scale", help="results file stem")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per piece")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="calls of each piece in its child; the median time is reported (the first call "
        "of a piece that builds a cache pays for it)",
    )
    parser.add_argument(
        "--no-memory-check",
        action="store_true",
        help="run the node pieces even where the runner's memory estimate would refuse them "
        "(to measure the real peak under the address-space cap)",
    )
    parser.add_argument(
        "--allocator",
        choices=tuple(ALLOCATORS),
        default="exact",
        help="exact: freed memory leaves the child, peak RSS is the live peak (allocation-heavy "
        "pieces slower); default: glibc's settings, peak RSS an upper bound; reuse: the "
        "runners' --allocator reuse",
    )
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.no_memory_check:
        os.environ[_NO_MEMORY_CHECK] = "1"
    if args.child:
        name, fraction, piece, predictor, repeats = args.child
        child(name, float(fraction), piece, predictor, int(repeats))
        return
    torch.set_num_threads(torch.get_num_threads())
    fractions = [0.001, 0.004] if args.quick else [float(f) for f in args.fractions.split(",")]
    limits = {
        key: float(value)
        for key, _, value in (part.partition("=") for part in args.limits.split(",") if part)
    }
    sections: list[str] = []  # publish() adds the machine and the command
    for name in args.graphs.split(","):
        for predictor in args.predictors.split(","):
            rows, exponents = [], []
            for piece in args.pieces.split(","):
                if (piece in NODE_PIECES) != ("classes" in GRAPHS[name]):
                    continue  # node pieces on the node stand-in, link pieces on the others
                found: list[tuple[float, dict[str, Any]]] = []
                for fraction in fractions:
                    edges, _ = standin(name, fraction)
                    if not args.quick and fraction > limits.get(piece, 1.0):
                        rows.append((piece, f"{fraction:g}", f"{edges.shape[1]:,}", "not run"))
                        continue
                    out = measure(
                        name,
                        fraction,
                        piece,
                        predictor,
                        args.cap_gib,
                        args.timeout,
                        args.repeats,
                        ALLOCATORS[args.allocator],
                    )
                    found.append((edges.shape[1], out))
                    print(name, predictor, piece, fraction, out, flush=True)
                    cell = out.get("error") or (
                        f"{fmt_time(out['seconds'])}, +{fmt_bytes(out['extra'])} "
                        f"(peak RSS {fmt_bytes(out['peak'])})"
                        + (f", median of {args.repeats}" if args.repeats > 1 else "")
                        + "".join(f"; {k} {fmt_time(v)}" for k, v in out["parts"].items())
                    )
                    rows.append((piece, f"{fraction:g}", f"{edges.shape[1]:,}", cell))
                for (ea, a), (eb, b) in itertools.pairwise(found):
                    if "seconds" in a and "seconds" in b and a["seconds"] > 0:
                        growth = math.log(b["seconds"] / a["seconds"]) / math.log(eb / ea)
                        mem = math.log(max(b["extra"], 1) / max(a["extra"], 1)) / math.log(eb / ea)
                        exponents.append(
                            (piece, f"{ea:,} -> {eb:,}", f"{growth:.2f}", f"{mem:.2f}")
                        )
            allocator = {
                "exact": "",
                "default": "Children ran with glibc's default allocator settings "
                "(`--allocator default`): peak RSS is an upper bound of the live peak.\n\n",
                "reuse": "Children kept freed memory in their heap, as `graphpair link` / "
                "`node` do with `--allocator reuse`, handing the set-up's free pages back "
                "once: peak RSS is the heap's high-water mark.\n\n",
            }[args.allocator]
            sections.append(
                f"## {name} stand-in, {predictor}\n\n"
                + allocator
                + markdown_table(
                    ("piece", "fraction", "edges", "time, extra memory (peak RSS)"), rows
                )
                + "\n\nGrowth exponents (time, extra memory) between sizes:\n\n"
                + markdown_table(("piece", "edges", "time", "memory"), exponents)
            )
    publish(args.name, "OGB-scale link prediction: pieces, time and memory", sections, args.quick)


if __name__ == "__main__":
    main()
