"""How much memory a link or node run will take, said before it starts (issue 22, item 4).

:func:`estimate_link_memory` (:func:`estimate_node_memory` for ``graphpair node``) adds up,
from the loaded graph and the configuration, what a run allocates on top of what is already in
memory: the adjacency structures, the parameters with
their gradients and Adam's two moments (counted exactly on a model built on the ``meta``
device), the largest training step and the evaluation. Per-pair quantities (common neighbours,
one-sided neighbours) are measured on a sample of 1,024 training pairs, not guessed from
degrees. The runner logs the estimate and, with ``memory_check``, refuses a run whose estimate
exceeds the memory available (:func:`available_bytes`), naming the options that help.

The figures are estimates of the dominant terms (tensors whose size grows with the graph or the
batch); ``benchmarks/results/scale.md`` sets them against measured peaks.
"""

from __future__ import annotations

import dataclasses
import os
import resource

import torch
from torch import Tensor

from graphpair._validation import available_memory
from graphpair.ops import CSR, common_neighbors
from graphpair.train._config import ConfigError, LinkConfig
from graphpair.train._node_config import NodeConfig

__all__ = [
    "MemoryEstimate",
    "available_bytes",
    "check_link_memory",
    "check_node_memory",
    "estimate_link_memory",
    "estimate_node_memory",
]

_GIB = 2**30
_FLOAT = 4
_INDEX = 8
#: Bytes per stored adjacency entry of a :class:`~graphpair.ops.CSR` with its caches: column
#: and row ids, sorted keys, the order of the cached transpose (8 each) and the mask (1).
_CSR_ENTRY = 4 * _INDEX + 1
#: Bytes per entry of one propagation on an edge list: the edge list and weights of the layer
#: (dropped copies), and the CSR product's matrix built for the forward and the backward.
_PROPAGATION_ENTRY = 2 * _INDEX + _FLOAT + 2 * (_INDEX + _FLOAT) + _INDEX
#: The same on a CSR's stored entries (``MPNNEncoder``'s sum / mean / GCN / SAGE layers): the
#: layer's weights, their transposed copy, the normalised weights and the mask as floats.
_ENTRY_PROPAGATION = 4 * _FLOAT
#: Bytes per stored entry of :meth:`~graphpair.nn.encoders.MPNNEncoder.inference` (layer-wise
#: evaluation of the entry encoders): the entries' weights, their normalised values (kept for
#: every layer) and 8 bytes of transients (a GCN's self-loop check, a weighted copy); the
#: incoming entries are read from the CSR's cached transpose, a chunk at a time.
_INFERENCE_ENTRY = 2 * _FLOAT + _INDEX
#: Encoders that run on a CSR's stored entries (the others take an edge list).
_ENTRY_CONVS = ("puregcn", "puresum", "puremean", "gcn", "sage")
#: ``[rows, width]`` activations kept per encoder layer for the backward (input, norm,
#: dropout mask, activation) and per predictor MLP layer.
_KEPT_PER_LAYER = 4
_PREDICTOR_LAYERS = 8


@dataclasses.dataclass(frozen=True)
class MemoryEstimate:
    """The estimated extra memory of a run, in bytes, by part.

    Attributes:
        graph: Adjacency structures (training graph, test-stage graph).
        parameters: Parameters, gradients and Adam's two moments.
        train_step: The largest training step (encoder and predictor activations).
        evaluation: Full-graph inference and one chunk of scored pairs.
        available: Memory available on the device now (``None``: unknown).

    Example:
        >>> estimate = MemoryEstimate(2**30, 2**29, 2**31, 2**30, 8 * 2**30)
        >>> estimate.peak / 2**30
        3.5
        >>> estimate.describe()[:35]
        'estimated peak memory 3.50 GiB (gra'
    """

    graph: int
    parameters: int
    train_step: int
    evaluation: int
    available: int | None

    @property
    def peak(self) -> int:
        """Graph and parameters, plus the larger of a training step and an evaluation."""
        return self.graph + self.parameters + max(self.train_step, self.evaluation)

    def describe(self) -> str:
        """One line: the estimate, its parts and the memory available."""
        parts = (
            f"graph {self.graph / _GIB:.2f}, parameters and optimizer "
            f"{self.parameters / _GIB:.2f}, training step {self.train_step / _GIB:.2f}, "
            f"evaluation {self.evaluation / _GIB:.2f}"
        )
        free = "unknown" if self.available is None else f"{self.available / _GIB:.1f} GiB"
        return f"estimated peak memory {self.peak / _GIB:.2f} GiB ({parts}); available {free}"


def available_bytes(device: torch.device) -> int | None:
    """Memory that can still be allocated: CUDA's free memory; on CPU the smaller of the
    kernel's ``MemAvailable`` and what the address-space limit (``ulimit -v``) leaves."""
    free = available_memory(device)
    if device.type != "cpu":
        return free
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return free
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            used = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return free
    left = max(0, soft - used)
    return left if free is None else min(free, left)


def _parameter_bytes(
    config: LinkConfig, in_channels: int | None, num_embeddings: int | None
) -> int:
    from graphpair.train._link_builder import build_encoder, build_predictor

    with torch.device("meta"):
        count = sum(
            p.numel()
            for module in (
                build_encoder(config, in_channels, num_embeddings),
                build_predictor(config),
            )
            for p in module.parameters()
        )
    return 4 * count * _FLOAT  # weights, gradients, Adam's two moments


def _pair_statistics(
    adj: CSR, train_pos: Tensor, caps: tuple[int | None, ...]
) -> tuple[float, list[float]]:
    """Mean common neighbours of a sample of training pairs, measured, and for each cap in
    ``caps`` their mean one-sided neighbours (both sides, at most ``cap`` a side; ``None``:
    all): degree minus common neighbours, so that no hub's one-sided set is listed."""
    count = min(1024, train_pos.size(1))
    if count == 0 or adj.num_edges == 0:
        return 0.0, [0.0 for _ in caps]
    idx = torch.linspace(0, train_pos.size(1) - 1, count).long()
    pairs = train_pos[:, idx].to(adj.device)
    common = torch.bincount(common_neighbors(adj, pairs).pair_idx, minlength=count)
    sides = adj.degree(pairs.reshape(-1)).view(2, count) - common  # |N(i) - N(j)|, |N(j) - N(i)|
    one_sided = [float(sides.sum() if cap is None else sides.clamp(max=cap).sum()) for cap in caps]
    return float(common.sum()) / count, [total / count for total in one_sided]


def _propagation_bytes(conv: str) -> int:
    """Bytes an entry of one propagation with the encoder ``conv``."""
    return _ENTRY_PROPAGATION if conv in _ENTRY_CONVS else _PROPAGATION_ENTRY


def _estimate(
    graph: float, parameters: float, train_step: float, evaluation: float, device: str
) -> MemoryEstimate:
    """The parts as a :class:`MemoryEstimate`, with the memory available on ``device``."""
    return MemoryEstimate(
        graph=int(graph),
        parameters=int(parameters),
        train_step=int(train_step),
        evaluation=int(evaluation),
        available=available_bytes(torch.device(device)),
    )


def _sampled_hops(
    seeds: int, n: int, entries: int, fanout: tuple[int, ...], layers: int
) -> tuple[list[int], int]:
    """Rows through each hop ``[seeds, ..., all]`` (``layers + 1`` values) and the entries
    of a sampled computation subgraph: from ``seeds`` nodes, up to ``fanout[l]`` neighbours
    each per hop (the last value repeating; -1: the mean degree), bounded by the graph
    (repeated draws are not discounted: an upper estimate)."""
    rows, edges, frontier = seeds, 0, seeds
    hops = [rows]
    for hop in (fanout + fanout[-1:] * layers)[:layers]:
        grow = frontier * (entries / max(n, 1) if hop == -1 else hop)
        edges += int(grow)
        frontier = int(min(n, grow))
        rows = min(n, rows + frontier)
        hops.append(rows)
    return hops, min(edges, entries)


def _sampled_size(
    seeds: int, n: int, entries: int, fanout: tuple[int, ...], layers: int
) -> tuple[int, int]:
    """Rows and entries of a sampled computation subgraph (:func:`_sampled_hops`)."""
    hops, edges = _sampled_hops(seeds, n, entries, fanout, layers)
    return hops[-1], edges


def estimate_node_memory(
    config: NodeConfig,
    num_nodes: int,
    num_entries: int,
    in_channels: int,
    num_classes: int,
    num_parameters: int,
) -> MemoryEstimate:
    """The memory a node run of ``config`` will add on a graph already loaded (features and
    edge list in memory).

    Args:
        config: The run's configuration.
        num_nodes: ``N``.
        num_entries: Stored (directed) edges ``E`` of the graph the encoder runs on.
        in_channels: Node feature width.
        num_classes: Classes ``C``.
        num_parameters: Parameters of the model.

    Returns:
        A :class:`MemoryEstimate`: the CSR built once (with the sampler's in-neighbour view of
        it), the model with Adam, one full-batch step (or one sampled batch), and the
        full-graph evaluation.

    Example:
        >>> from graphpair.train import node_config
        >>> estimate = estimate_node_memory(node_config("default"), 100, 400, 16, 3, 1_000)
        >>> estimate.train_step > 0 and estimate.peak > estimate.graph
        True
    """
    n, entries = num_nodes, num_entries
    width, layers = config.hidden_channels, (0 if config.conv == "none" else config.num_layers)
    graph = entries * _CSR_ENTRY + (n + 1) * _INDEX
    if config.sampler == "neighbor":  # the sampler's transposed CSR: its columns and row ids
        graph += entries * 2 * _INDEX
    parameters = 4 * _FLOAT * num_parameters  # weights, gradients, Adam's two moments
    rows, step_entries = n, entries
    layer_rows = [n] * layers  # the rows each layer's kept activations span
    if config.sampler == "neighbor" and layers:
        batch = 1024 if config.batch_size is None else config.batch_size
        hops, step_entries = _sampled_hops(min(n, batch), n, entries, config.fanout, layers)
        rows = hops[-1]
        if config.conv in _ENTRY_CONVS:  # trimmed (trim_to_layer): layer l spans hops <= L - l
            layer_rows = [hops[layers - layer] for layer in range(layers)]
        else:
            layer_rows = [rows] * layers

    per_entry = _propagation_bytes(config.conv)
    kept = sum(layer_rows) * _KEPT_PER_LAYER * width
    # the step's input rows (gathered) and logits, the layers' kept tensors, the propagation
    train_step = (rows * (in_channels + 3 * num_classes) + kept) * _FLOAT
    train_step += step_entries * per_entry
    # without gradient (the features already loaded): layer-wise inference keeps a layer's
    # projected input and its output (the entry encoders), the forward also its input and one
    # temporary, whatever the depth
    if config.conv in _ENTRY_CONVS:
        alive, evaluated_entries = (2 if layers else 0), entries * _INFERENCE_ENTRY
    else:
        alive, evaluated_entries = (3 if layers else 0), entries * per_entry
    evaluation = n * (alive * width + 3 * num_classes) * _FLOAT + evaluated_entries
    return _estimate(graph, parameters, train_step, evaluation, config.device)


def estimate_link_memory(
    config: LinkConfig,
    adj: CSR,
    train_pos: Tensor,
    in_channels: int | None,
    num_embeddings: int | None,
    *,
    test_stage_graph: bool = False,
    eval_pairs: int | None = None,
) -> MemoryEstimate:
    """The memory a link run of ``config`` on the training graph ``adj`` will add.

    Args:
        config: The run's configuration.
        adj: Its training graph.
        train_pos: Its training positives ``[2, P]`` (a sample gives the per-pair figures).
        in_channels: Node feature width, or ``None`` for a node-id embedding.
        num_embeddings: Rows of the node-id embedding, or ``None``.
        test_stage_graph: A second adjacency for test time (validation edges as input).
        eval_pairs: The most pairs of one evaluation stage (scored ``test_batch_size`` at a
            time); ``None``: at least ``test_batch_size``.

    Returns:
        A :class:`MemoryEstimate`.

    Example:
        >>> from graphpair.train import link_config
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]]))
        >>> config = link_config("karate", "ncn", hidden_channels=8, device="cpu")
        >>> pairs = torch.tensor([[0, 1], [1, 2]])
        >>> estimate = estimate_link_memory(config, adj, pairs, 3, None, eval_pairs=4)
        >>> estimate.parameters > 0 and estimate.peak > estimate.parameters
        True
    """
    n, entries = adj.num_nodes, adj.num_edges
    width = config.hidden_channels
    layers = 0 if config.conv == "none" else config.num_layers
    graph = (entries * _CSR_ENTRY + (n + 1) * _INDEX) * (2 if test_stage_graph else 1)
    parameters = _parameter_bytes(config, in_channels, num_embeddings)
    completes = config.predictor in ("ncnc", "ncnc2")
    caps = (config.train_degree_cap, config.test_degree_cap) if completes else (None, None)
    common, (train_sided, test_sided) = _pair_statistics(adj, train_pos, caps)
    pairs = config.batch_size * (1 + config.num_negatives)
    uses_sides = config.predictor in ("ncnc", "ncnc2", "ncn-diff")

    def predictor_bytes(num_pairs: int, with_grad: bool = True) -> int:
        kept = _PREDICTOR_LAYERS if with_grad else 2
        one_sided = train_sided if with_grad else test_sided
        members = common + (one_sided if uses_sides else 0)
        total = num_pairs * members * (2 * _INDEX + _FLOAT) + kept * num_pairs * width * _FLOAT
        if config.predictor in ("ncnc", "ncnc2"):
            # completion: one chunk of distinct one-sided pairs at a time, without gradient
            chunk = min(config.chunk_size or 65536, int(num_pairs * one_sided) or 1)
            total += chunk * common * (2 * _INDEX) + 3 * chunk * width * _FLOAT
            total += int(num_pairs * one_sided) * 3 * _INDEX  # completion keys and weights
        return int(total)

    if config.sampler == "neighbor" and layers:
        # the nodes read, then their sampled computation subgraph
        read = min(n, int(pairs * (2 + (common if config.predictor == "ncn" else train_sided))))
        encoder_rows, encoder_entries = _sampled_size(read, n, entries, config.fanout, layers)
    else:
        encoder_rows, encoder_entries = n, entries
    input_rows = encoder_rows * width * _FLOAT
    per_entry = _propagation_bytes(config.conv)
    train_step = (
        input_rows
        + layers * (_KEPT_PER_LAYER * encoder_rows * width * _FLOAT)
        + (encoder_entries * per_entry if layers else 0)
        + predictor_bytes(pairs, with_grad=True)
    )
    layerwise = config.conv in _ENTRY_CONVS  # MPNNEncoder.inference: chunked, no [E] temps
    evaluation = (
        (2 + int(config.res) + int(config.jk)) * n * width * _FLOAT
        + (entries * (_INFERENCE_ENTRY if layerwise else per_entry) if layers else 0)
        + predictor_bytes(min(config.test_batch_size, eval_pairs or config.test_batch_size), False)
    )
    return _estimate(graph, parameters, train_step, evaluation, config.device)


def check_link_memory(estimate: MemoryEstimate, config: LinkConfig) -> None:
    """Refuse a run whose estimated peak exceeds the memory available (with
    ``config.memory_check``), naming the options that lower it."""
    helps = []
    if config.sampler == "full" and config.predictor != "grit-pair":
        helps.append("--sampler neighbor (encode each step's sampled subgraph only)")
    helps.append(f"a smaller --batch-size (now {config.batch_size})")
    if config.predictor in ("ncnc", "ncnc2"):
        helps.append("a smaller --chunk-size or --train-degree-cap / --test-degree-cap")
    helps.append(f"a smaller --hidden-channels (now {config.hidden_channels})")
    _refuse(estimate, config.memory_check, config.data_name, helps)


def check_node_memory(estimate: MemoryEstimate, config: NodeConfig) -> None:
    """:func:`check_link_memory` for a node run."""
    helps = []
    if config.sampler == "full":
        helps.append("--sampler neighbor (train on sampled subgraphs of the training nodes)")
    else:
        helps.append(f"a smaller --batch-size or --fanout (now {config.fanout})")
    helps.append(f"a smaller --hidden-channels (now {config.hidden_channels})")
    _refuse(estimate, config.memory_check, config.dataset, helps)


def _refuse(estimate: MemoryEstimate, check: bool, name: str, helps: list[str]) -> None:
    if not check or estimate.available is None or estimate.peak <= estimate.available:
        return
    raise ConfigError(
        "memory_check",
        f"{name!r}: {estimate.describe()}; this run would not fit. Try "
        + ", ".join(helps)
        + ", or --no-memory-check to run anyway",
    )
