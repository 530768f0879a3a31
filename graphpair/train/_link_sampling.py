"""Sampled link training (``sampler='neighbor'``, ``specs/ncn.md`` at OGB scale, issue 22).

A full-batch step runs the encoder on the whole graph, so an epoch, whose number of steps
grows with the edges, grows as :math:`E^2`. A sampled step runs it only on the computation
subgraph of the nodes whose representation the predictor reads for the step's pairs:

1. **the nodes read** (:func:`needed_nodes`, on the step's masked graph): the endpoints for
   GAE; the endpoints and their common neighbours for NCN (and NCNC of depth 0); the endpoints
   and every node within ``depth`` hops of them for NCNC (its completion pairs ``(j, k)``, ``k``
   a neighbour of ``i`` only, read the common neighbours of ``j`` and ``k``, which are
   neighbours of ``j``) and NCN-diff (the neighbour differences);
2. **their computation subgraph**: ``fanout[l]`` neighbours per node at layer ``l``, uniformly
   without replacement, as PyG's ``NeighborLoader`` (:func:`graphpair.ops.neighbor_sample`);
3. **the encoder on that subgraph**; the rows of the nodes read go to the predictor, with the
   adjacency among those nodes (:func:`graphpair.ops.induced_subgraph`, exact: every common
   neighbour or neighbour the predictor looks up is inside) and the pairs relabelled; plain
   NCN gets the smaller :func:`common_neighbor_star` of the common neighbours found in step 1,
   on which its common neighbours are the same.

With every fanout ``-1`` and an encoder that reads only ``L``-hop neighbourhoods, step 3 gives
the full-batch step's logits exactly (tested). Evaluation is not sampled: the encoder runs once
on the whole graph without gradient, layer by layer over node chunks
(:meth:`~graphpair.nn.encoders.MPNNEncoder.inference`: no per-edge message tensor, two
``[N, D]`` tensors per layer), then the pairs are scored in chunks of ``test_batch_size``.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from graphpair.nn import (
    GAEPredictor,
    LinkModel,
    MPNNEncoder,
    NCNCPredictor,
    NCNDiffPredictor,
    NCNPredictor,
)
from graphpair.ops import (
    CSR,
    PairNodeSet,
    check_fanout,
    common_neighbors,
    induced_subgraph,
    neighbor_sample,
    neighborhood,
)
from graphpair.ops._segment import counts_to_ptr, expand_rows
from graphpair.ops._spmm import csr_matrix
from graphpair.train._config import ConfigError, LinkConfig

__all__ = [
    "SampledLinkStep",
    "common_neighbor_star",
    "needed_nodes",
    "sampler_fanout",
    "select_rows",
    "step_module",
    "step_seed",
    "warn_noisy_sums",
]


def needed_nodes(predictor: torch.nn.Module, adj: CSR, pairs: Tensor) -> Tensor:
    """The sorted distinct nodes whose encoder output ``predictor`` reads to score ``pairs``
    on ``adj`` (the module docstring says which, per predictor).

    Shapes:
        - pairs: ``[2, P]``
        - output: ``[M]``, sorted
    """
    return _reads(predictor, adj, pairs)[0]


def _reads(
    predictor: torch.nn.Module, adj: CSR, pairs: Tensor
) -> tuple[Tensor, PairNodeSet | None]:
    """:func:`needed_nodes`, with the common neighbours of ``pairs`` found on the way (for
    NCN, else ``None``)."""
    ends = pairs.reshape(-1)
    if isinstance(predictor, NCNCPredictor) and predictor.depth > 0:
        return neighborhood(adj, ends, predictor.depth), None
    if isinstance(predictor, NCNDiffPredictor):
        return neighborhood(adj, ends, 1), None
    if isinstance(predictor, NCNPredictor):
        members = common_neighbors(adj, pairs, method=predictor.cn_method)
        nodes: Tensor = torch.unique(torch.cat([ends, members.node_idx]))
        return nodes, members
    if isinstance(predictor, GAEPredictor):
        distinct: Tensor = torch.unique(ends)
        return distinct, None
    raise TypeError(
        f"sampler='neighbor' needs a GAE, NCN, NCNC or NCN-diff predictor; got "
        f"{type(predictor).__name__}"
    )


def common_neighbor_star(pairs: Tensor, members: PairNodeSet, num_nodes: int) -> CSR:
    r"""The adjacency of the edges between each pair's endpoints and its common neighbours:
    ``i - k`` and ``j - k`` for every member ``k`` of pair ``(i, j)``, both directions.

    On it every pair has exactly the common neighbours ``members`` lists, so NCN may score
    ``pairs`` on it instead of on the adjacency among all the nodes it reads
    (:func:`~graphpair.ops.induced_subgraph`): each of its edges is an edge of the graph, so
    a node adjacent to both ends of a pair there is a common neighbour of the pair in the
    graph, and every listed one is adjacent to both. Its size is four entries per member at
    most, where the induced subgraph is found by walking every row of the nodes read (at
    ogbl-ppa's size most of the graph: ``benchmarks/results/scale.md``). NCN's edge dropout
    then keeps each of the entries it reads (``i -> k``, ``j -> k``) independently with the
    same probability as on the whole graph: the same distribution of dropped sets, other
    random draws.

    Shapes:
        - pairs: ``[2, P]``, node ids below ``num_nodes``
        - members: two ``[M]`` tensors, ``pair_idx`` below ``P``, ``node_idx`` below
          ``num_nodes``
        - output: a :class:`~graphpair.ops.CSR` with ``num_nodes`` nodes
    """
    pair_idx, node = members
    ends = pairs[:, pair_idx]  # [2, M]
    edges = torch.stack([ends.reshape(-1), node.repeat(2)])
    # self_loops: a self-looped end is its own common neighbour (as in the graph)
    return CSR.from_edge_index(edges, num_nodes, self_loops=True)


def select_rows(x: Tensor, index: Tensor) -> Tensor:
    """Rows ``index`` of node inputs: dense features, a sparse CSR feature matrix (torch has no
    ``index_select`` for CSR tensors; this gathers the rows' entries), or ids ``[N]``."""
    if x.layout != torch.sparse_csr:
        return x.index_select(0, index)
    crow, col, values = x.crow_indices(), x.col_indices(), x.values()
    starts = crow[index]
    counts = crow[index + 1] - starts
    position, _ = expand_rows(starts, counts)
    rowptr = counts_to_ptr(counts)
    return csr_matrix(rowptr, col[position], values[position], (index.numel(), x.size(1)))


class SampledLinkStep(torch.nn.Module):
    r"""One sampled training step: ``(x, adj, pos, neg, seed) -> (pos logits, neg logits)``.

    The module that :class:`~torch.nn.parallel.DistributedDataParallel` wraps under
    ``torchrun`` (each process samples for its share of the pairs), as
    :class:`~graphpair.nn.LinkModel` is in full-batch training.

    An encoder whose ``aggregates_by_sum`` is true (:class:`~graphpair.nn.MPNNEncoder` with
    ``'puresum'``) is called as ``encoder(x, adj, edge_weight)``, every sampled edge
    :math:`u \to v` weighted by :math:`|N(v)| / k_v`
    (:meth:`~graphpair.ops.SampledSubgraph.sum_scale`): a node that sums :math:`k_v` sampled
    neighbours then sums, in expectation, all :math:`|N(v)|` of them, as it does in the
    full-graph evaluation. An :class:`~graphpair.nn.MPNNEncoder` gets the sampled
    ``edge_index`` (grouped by hop) with ``num_sampled_nodes_per_hop`` /
    ``num_sampled_edges_per_hop``, so each layer runs on the hops that still reach a seed;
    any other encoder gets the sampled edges as a :class:`~graphpair.ops.CSR`.

    Args:
        encoder: An encoder ``encoder(x, adj) -> [N, D]`` taking a :class:`~graphpair.ops.CSR`
            (or an :class:`~graphpair.nn.MPNNEncoder`).
        predictor: A GAE, NCN, NCNC or NCN-diff predictor.
        fanout: Neighbours per node for each encoder layer (``-1`` = all).
    """

    def __init__(
        self, encoder: torch.nn.Module, predictor: torch.nn.Module, fanout: tuple[int, ...]
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.predictor = predictor
        self.fanout = fanout

    def forward(
        self, x: Tensor | None, adj: CSR, pos: Tensor, neg: Tensor, seed: int
    ) -> tuple[Tensor, Tensor]:
        """Logits of ``pos`` ``[P]`` and ``neg`` ``[Q]``; ``seed`` seeds the neighbour draws."""
        pairs = torch.cat([pos, neg], dim=1)
        nodes, members = _reads(self.predictor, adj, pairs)
        generator = torch.Generator(device=adj.device).manual_seed(seed)
        sub = neighbor_sample(adj, nodes, self.fanout, generator=generator)
        inputs = sub.node if x is None else select_rows(x, sub.node)
        sums = getattr(self.encoder, "aggregates_by_sum", False)  # unbiased sampled sums
        if isinstance(self.encoder, MPNNEncoder):
            # the edges grouped by hop: each layer runs on the hops that still reach a seed
            weight = sub.sum_scale(adj)[sub.edge_index[1]] if sums else None
            h = self.encoder(
                inputs,
                sub.edge_index,
                weight,
                num_sampled_nodes_per_hop=sub.num_sampled_nodes,
                num_sampled_edges_per_hop=sub.num_sampled_edges,
            )
        else:
            graph = sub.to_csr()
            weight = sub.sum_scale(adj)[graph.col] if sums else None
            h = (
                self.encoder(inputs, graph)
                if weight is None
                else self.encoder(inputs, graph, weight)
            )
        h = h[: nodes.numel()]  # the seeds come first
        local = torch.searchsorted(nodes, pairs)
        if members is not None and type(self.predictor) is NCNPredictor:
            # plain NCN reads the common neighbours alone: the graph of those edges (4
            # entries a member) instead of the one among all the nodes read (every row walked)
            local_members = PairNodeSet(
                members.pair_idx, torch.searchsorted(nodes, members.node_idx)
            )
            reads = common_neighbor_star(local, local_members, nodes.numel())
        else:
            reads = induced_subgraph(adj, nodes)
        logits = self.predictor(h, reads, local)
        return logits[: pos.size(1)], logits[pos.size(1) :]


def step_seed(generator: torch.Generator, rank: int = 0) -> int:
    """The seed of one sampled step's neighbour draws: one draw from the run's generator (the
    same on every process, so permutations and negatives stay in step) plus the rank."""
    return int(torch.randint(2**62, (1,), generator=generator)) + rank


#: Mean degree over fanout above which a sampled sum encoder warns: the sampled sum is unbiased
#: (:meth:`~graphpair.ops.SampledSubgraph.sum_scale`) but its relative spread grows about as
#: the square root of this ratio (ogbl-ddi, mean degree about 500: fanout 10 did not learn in
#: one epoch, fanout 100 did; ``benchmarks/results/sampling_accuracy.md``).
NOISY_SUM_RATIO = 10.0


def warn_noisy_sums(
    encoder: torch.nn.Module, fanout: tuple[int, ...], num_edges: int, num_nodes: int
) -> None:
    """Warn when ``encoder`` sums its neighbours (``aggregates_by_sum``) and the graph's mean
    degree ``num_edges / num_nodes`` is more than :data:`NOISY_SUM_RATIO` times the smallest
    finite ``fanout``: the reweighted sampled sums are then too noisy to learn from."""
    finite = [f for f in fanout if f != -1]
    if not getattr(encoder, "aggregates_by_sum", False) or not finite:
        return
    mean_degree = num_edges / max(num_nodes, 1)
    if min(finite) and mean_degree / min(finite) <= NOISY_SUM_RATIO:
        return
    warnings.warn(
        f"sampler='neighbor' with a sum encoder, fanout {fanout} and a mean degree of "
        f"{mean_degree:.1f}: the sampled sums are weighted |N(v)| / k to be unbiased, but "
        "their spread grows as sqrt(degree / fanout), and with fanout < mean degree / "
        f"{NOISY_SUM_RATIO:g} they are too noisy to learn from (ogbl-ddi, NCN: "
        "benchmarks/results/sampling_accuracy.md). Use a larger fanout, a mean-type encoder "
        "(puremean, sage, puregcn) or sampler='full'",
        UserWarning,
        stacklevel=3,
    )


def sampler_fanout(config: LinkConfig) -> tuple[int, ...] | None:
    """The fanout of every encoder layer for ``sampler='neighbor'`` (``None`` for ``'full'``),
    or a :class:`ConfigError` naming the field; :func:`train_link` calls it before any work."""
    if config.sampler == "full":
        return None
    if config.predictor == "grit-pair":
        raise ConfigError(
            "sampler",
            "sampler='neighbor' needs a message-passing encoder; 'grit-pair' attends over the "
            "masked graph's pairs and trains full-batch only (use sampler='full')",
        )
    layers = 0 if config.conv == "none" else config.num_layers
    try:
        return check_fanout(config.fanout, layers) if layers else ()
    except ValueError as err:
        raise ConfigError("fanout", f"{err} (the encoder has num_layers={layers})") from None


def step_module(
    config: LinkConfig, encoder: torch.nn.Module, predictor: torch.nn.Module, adj: CSR
) -> torch.nn.Module:
    """The module a training step calls on ``adj``: the full-batch :class:`LinkModel` or,
    with ``sampler='neighbor'``, a :class:`SampledLinkStep` with one fanout per encoder layer
    (:func:`warn_noisy_sums` says when a sum encoder's samples are too small)."""
    fanout = sampler_fanout(config)
    if fanout is None:
        return LinkModel(encoder, predictor)
    warn_noisy_sums(encoder, fanout, adj.num_active_edges, adj.num_nodes)
    return SampledLinkStep(encoder, predictor, fanout)
