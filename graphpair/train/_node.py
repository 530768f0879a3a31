"""Node classification on one graph (``graphpair node``): an encoder and a linear head.

A baseline runner for the single-graph node datasets of the registry (Planetoid Cora /
CiteSeer / PubMed with their public split, ogbn-arxiv with OGB's): any encoder of
:class:`graphpair.nn.MPNNEncoder` (GCN, SAGE, SINC-GCN, ...) followed by a Linear layer to the
classes, cross-entropy on the training nodes (one full-batch step per epoch, or with
``sampler='neighbor'`` mini-batches of seed nodes on their sampled computation subgraphs),
Adam with weight decay, accuracy on validation and test after every evaluated epoch (on the
full graph), the epoch of best validation accuracy selected, several seeds, early stopping,
and the same JSON records as the other runners.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from graphpair.data import load_dataset
from graphpair.nn import MPNNEncoder, NodeClassifier
from graphpair.ops import CSR, check_fanout, neighbor_sample
from graphpair.train._allocator import release_freed_memory
from graphpair.train._artifact import BestState, check_output_folder, run_folder
from graphpair.train._callbacks import EpochCallback
from graphpair.train._checkpoint import (
    RunCheckpoints,
    open_checkpoints,
    restore_run,
    run_state,
)
from graphpair.train._config import ConfigError
from graphpair.train._deterministic import honour_deterministic
from graphpair.train._grace import _probe_split
from graphpair.train._link_sampling import warn_noisy_sums
from graphpair.train._memory import MemoryEstimate, check_node_memory, estimate_node_memory
from graphpair.train._model_saving import (
    check_finished_run,
    kept_outputs,
    restore_best,
    save_node_model,
)
from graphpair.train._node_config import NodeConfig, node_config
from graphpair.train._predictions import PredictionTable, check_predictions_path, output_rows
from graphpair.train._results import (
    EarlyStopping,
    EpochRecord,
    Selection,
    epoch_from_state,
    epoch_to_state,
    single_metric_record,
)

__all__ = [
    "NodeConfig",
    "NodeResult",
    "NodeRun",
    "build_node_model",
    "node_config",
    "train_node",
]

log = logging.getLogger(__name__)

#: Seed nodes per step with ``sampler='neighbor'`` when ``batch_size`` is ``None``.
DEFAULT_BATCH_SIZE = 1024


@dataclass(frozen=True)
class NodeRun:
    """One seed: the selected epoch, the curve, parameters and wall time.

    Attributes:
        seed: the run's seed (split where the dataset has none, initialisation, dropout).
        best: the selected epoch (best validation accuracy) and its accuracies.
        history: every evaluated epoch (metric ``'acc'``).
        num_parameters: trainable parameters of the encoder and the head.
        seconds: wall time of the run.

    Example:
        >>> from graphpair.train import EpochRecord
        >>> record = EpochRecord(1, 1.9, {"acc": 0.6}, {"acc": 0.55}, 0.02, 0.01)
        >>> run = NodeRun(0, Selection(1, 0.6, 0.55), (record,), 1000, 0.1)
        >>> run.seconds_per_epoch
        0.02
    """

    seed: int
    best: Selection
    history: tuple[EpochRecord, ...]
    num_parameters: int
    seconds: float

    @property
    def seconds_per_epoch(self) -> float:
        """Mean training time of an evaluated epoch."""
        return statistics.fmean(r.train_seconds for r in self.history)

    def to_state(self) -> dict[str, Any]:
        """Plain Python values (for checkpoints); :meth:`from_state` inverts it exactly."""
        return {
            "seed": self.seed,
            "best": dataclasses.asdict(self.best),
            "history": [epoch_to_state(r) for r in self.history],
            "num_parameters": self.num_parameters,
            "seconds": self.seconds,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> NodeRun:
        """The :class:`NodeRun` that :meth:`to_state` described."""
        return cls(
            seed=int(state["seed"]),
            best=Selection(**state["best"]),
            history=tuple(epoch_from_state(r) for r in state["history"]),
            num_parameters=int(state["num_parameters"]),
            seconds=float(state["seconds"]),
        )


@dataclass(frozen=True)
class NodeResult:
    """All runs of one configuration; ``summary()`` is test accuracy x100, mean and
    population std.

    Attributes:
        config: the configuration that produced it.
        runs: one :class:`NodeRun` per seed.
        seconds: total wall time, data loading included.

    Example:
        >>> result = train_node(node_config("default", epochs=2, runs=2, hidden_channels=8))
        >>> len(result.runs), [len(run.history) for run in result.runs]
        (2, [2, 2])
        >>> mean, std = result.summary()  # test accuracy in percent
    """

    config: NodeConfig
    runs: tuple[NodeRun, ...]
    seconds: float

    @property
    def num_parameters(self) -> int:
        """Trainable parameters of the model."""
        return self.runs[0].num_parameters

    def summary(self) -> tuple[float, float]:
        """Test accuracy x100 at the selected epochs: mean and population std over runs."""
        values = [100 * run.best.test for run in self.runs]
        return statistics.fmean(values), statistics.pstdev(values)

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON record per run, in the graph runner's layout (``graphpair report``)."""
        return [
            single_metric_record(self.config, self.config.conv, run, "acc", True)
            for run in self.runs
        ]


def _masks(dataset: Any, data: Any, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    split = getattr(dataset, "split", None)
    if isinstance(split, dict) and {"train", "valid", "test"} <= set(split):
        n = int(data.num_nodes)
        masks = []
        for name in ("train", "valid", "test"):
            mask = torch.zeros(n, dtype=torch.bool)
            mask[split[name].long()] = True
            masks.append(mask)
        return masks[0], masks[1], masks[2]
    return _probe_split(data, generator)


def build_node_model(config: NodeConfig, in_channels: int, num_classes: int) -> NodeClassifier:
    """The model of a node run: :class:`~graphpair.nn.MPNNEncoder` of ``config.conv`` and a
    Linear head to the classes.

    Args:
        config: The run configuration (encoder, width, depth, dropout).
        in_channels: Node feature width ``F``.
        num_classes: Classes ``C``.

    Example:
        >>> model = build_node_model(node_config("default", hidden_channels=8), 5, 3)
        >>> model(torch.randn(4, 5), torch.tensor([[0, 1, 2], [1, 2, 3]])).shape
        torch.Size([4, 3])
    """
    encoder = MPNNEncoder(
        in_channels,
        config.hidden_channels,
        config.num_layers,
        conv=config.conv,
        dropout=config.dropout,
    )
    return NodeClassifier(encoder, torch.nn.Linear(config.hidden_channels, num_classes))


def _accuracy(logits: Tensor, y: Tensor, mask: Tensor) -> float:
    return float((logits[mask].argmax(-1) == y[mask]).float().mean())


@dataclass(frozen=True)
class _Sampling:
    """What a sampled epoch needs: the in-neighbour CSR, one fanout per layer, the batch."""

    adj: CSR
    fanout: tuple[int, ...]
    batch_size: int


def _layer_fanout(config: NodeConfig) -> tuple[int, ...]:
    """``config.fanout`` with one value per encoder layer (none for ``conv='none'``), or a
    ``ConfigError`` naming ``fanout`` and ``num_layers``."""
    if config.conv == "none":  # no message passing: the seeds alone
        return ()
    try:
        return check_fanout(config.fanout, config.num_layers)
    except ValueError as err:
        raise ConfigError("fanout", str(err)) from None


def _sampling(
    config: NodeConfig, edge_index: Tensor, num_nodes: int, graph: CSR | None = None
) -> _Sampling | None:
    """The sampler of a ``sampler='neighbor'`` run (``None`` for ``'full'``).

    Row ``v`` of the CSR lists the sources of the edges into ``v`` (``edge_index`` flipped), so
    a sampled neighbour sends its message along a true edge; self loops are kept (the
    full-batch encoder sees them too) and repeated edges count once. With the run's
    propagation ``graph`` (the same edges) it is that graph's transpose, sharing its arrays
    (no second CSR: 4 GiB at ogbn-products' size).
    """
    if config.sampler != "neighbor":
        return None
    if graph is not None:
        adj = graph.transposed()
    else:
        adj = CSR.from_edge_index(edge_index.flip(0), num_nodes, symmetric=False, self_loops=True)
    batch_size = DEFAULT_BATCH_SIZE if config.batch_size is None else config.batch_size
    return _Sampling(adj, _layer_fanout(config), batch_size)


def memory_estimate(
    config: NodeConfig, x: Tensor, num_classes: int, edge_index: Tensor, graph: CSR | None
) -> MemoryEstimate:
    """The run's peak-memory estimate (:func:`~graphpair.train.estimate_node_memory`): the
    model's parameters counted on the ``meta`` device, the propagation's entries those of
    ``graph`` (the edge list's for a multigraph, ``graph=None``)."""
    with torch.device("meta"):
        model = build_node_model(config, x.size(1), num_classes)
    num_parameters = sum(p.numel() for p in model.parameters())
    entries = edge_index.size(1) if graph is None else graph.num_edges
    return estimate_node_memory(config, x.size(0), entries, x.size(1), num_classes, num_parameters)


def _propagation_graph(edge_index: Tensor, num_nodes: int) -> CSR | None:
    """The edges as a :class:`~graphpair.ops.CSR` (messages ``edge_index[0] ->
    edge_index[1]``, self loops kept), or ``None`` for a multigraph, whose repeated edges the
    CSR would merge."""
    adj = CSR.from_edge_index(edge_index, num_nodes, symmetric=False, self_loops=True)
    return adj if adj.num_edges == edge_index.size(1) else None


def _sampled_epoch(
    model: NodeClassifier,
    optimizer: torch.optim.Optimizer,
    tensors: tuple[Tensor, Tensor, Tensor],
    sampling: _Sampling,
    generator: torch.Generator,
) -> float:
    """One epoch of mini-batches: the training nodes shuffled by ``generator``, each batch of
    ``batch_size`` seeds run on its sampled computation subgraph, the loss on the seeds (a
    sum encoder's sampled edges weighted by :meth:`~graphpair.ops.SampledSubgraph.sum_scale`,
    and an :class:`~graphpair.nn.MPNNEncoder` given the per-hop counts, so that each layer
    runs only on the hops that still reach a seed). Returns the mean training loss over the
    seeds."""
    x, y, train_nodes = tensors
    order = torch.randperm(train_nodes.numel(), generator=generator).to(train_nodes.device)
    total = 0.0
    sums = getattr(model.encoder, "aggregates_by_sum", False)  # unbiased sampled sums
    trims = isinstance(model.encoder, MPNNEncoder)  # each layer on the hops reaching a seed
    for seeds in torch.split(train_nodes[order], sampling.batch_size):
        sub = neighbor_sample(sampling.adj, seeds, sampling.fanout, generator=generator)
        optimizer.zero_grad()
        weight = sub.sum_scale(sampling.adj)[sub.edge_index[1]] if sums else None
        counts = {}
        if trims:
            counts = {
                "num_sampled_nodes_per_hop": sub.num_sampled_nodes,
                "num_sampled_edges_per_hop": sub.num_sampled_edges,
            }
        logits = model(x[sub.node], sub.edge_index, weight, **counts)
        logits = logits[: seeds.numel()]  # seeds come first
        loss = F.cross_entropy(logits, y[seeds])
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        total += float(loss.detach()) * seeds.numel()
    return total / max(train_nodes.numel(), 1)


def _node_run(
    config: NodeConfig,
    dataset: Any,
    tensors: tuple[Tensor, Tensor, Tensor],
    index: int,
    on_epoch: EpochCallback | None,
    checkpoints: RunCheckpoints | None,
    save_model: str | os.PathLike[str] | None = None,
    predictions: PredictionTable | None = None,
    sampling: _Sampling | None = None,
    graph: CSR | None = None,
) -> NodeRun:
    x, y, edge_index = tensors
    structure = edge_index if graph is None else graph  # what the full-graph passes run on
    device = x.device
    seed = config.seed + index
    start = time.perf_counter()
    saved = checkpoints.load(seed) if checkpoints is not None else None
    if saved is not None and saved.get("result") is not None:
        log.info("run %d seed %d: finished in a checkpoint", index, seed)
        check_finished_run(save_model, seed)
        if predictions is not None:
            kept = BestState(higher_is_better=True, enabled=False)
            kept.load(kept_outputs(saved, seed, None))
            _add_outputs(predictions, kept, seed)
        return NodeRun.from_state(saved["result"])
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    train, valid, test = (m.to(device) for m in _masks(dataset, dataset.data, generator))
    num_classes = int(y.max()) + 1
    model = build_node_model(config, x.size(1), num_classes).to(device)
    if sampling is not None and index == 0:
        adj = sampling.adj
        warn_noisy_sums(model.encoder, sampling.fanout, adj.num_active_edges, adj.num_nodes)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    stopping = EarlyStopping(config.patience)
    # The selected epoch's weights, for save_model: BestState's rule (strictly better
    # validation accuracy) is the selection below (best accuracy, earliest on ties).
    best = BestState(higher_is_better=True, enabled=save_model is not None)
    keep_best = save_model is not None or predictions is not None
    history: list[EpochRecord] = []
    first_epoch, earlier_seconds = 1, 0.0
    if saved is not None:  # continue after the last saved epoch, random states included
        history, first_epoch, earlier_seconds = restore_run(
            saved, modules={"model": model}, optimizer=optimizer, generator=generator, device=device
        )
        if config.patience is not None:
            for record in history:
                stopping.update(record.valid["acc"])
        restore_best(best, saved, save_model=save_model, seed=seed)
        if predictions is not None and history:
            best.load(kept_outputs(saved, seed, None))

    def state(epoch: int) -> dict[str, Any]:
        extra = {"best": best.state()} if keep_best else {}
        return run_state(
            epoch,
            modules={"model": model},
            optimizer=optimizer,
            generator=generator,
            device=device,
            history=history,
            seconds=earlier_seconds + time.perf_counter() - start,
            **extra,
        )

    train_nodes = train.nonzero().view(-1)
    for epoch in range(first_epoch, config.epochs + 1):
        model.train()
        step = time.perf_counter()
        if sampling is None:
            optimizer.zero_grad()
            logits = model(x, structure)
            loss = F.cross_entropy(logits[train], y[train])
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            train_loss = float(loss.detach())
        else:
            train_loss = _sampled_epoch(model, optimizer, (x, y, train_nodes), sampling, generator)
        train_seconds = time.perf_counter() - step
        if epoch % config.eval_every and epoch != config.epochs:
            if checkpoints is not None:
                checkpoints.save(seed, state(epoch))
            continue
        step = time.perf_counter()
        model.eval()
        logits = model.inference(x, structure)  # layer by layer over node chunks
        record = EpochRecord(
            epoch,
            train_loss,
            {"acc": _accuracy(logits, y, valid)},
            {"acc": _accuracy(logits, y, test)},
            train_seconds,
            time.perf_counter() - step,
        )
        history.append(record)
        outputs = None
        if predictions is not None:  # the scores behind the accuracies, with the labels
            outputs = {
                stage: [(mask.nonzero().view(-1).cpu(), logits[mask].cpu(), y[mask].cpu())]
                for stage, mask in (("valid", valid), ("test", test))
            }
        best.consider(
            epoch,
            record.valid["acc"],
            {"model": model},
            None if outputs is None else functools.partial(dict, outputs=outputs),
        )
        if on_epoch is not None:
            on_epoch(index, record)
        stop = config.patience is not None and stopping.update(record.valid["acc"])
        if checkpoints is not None:
            checkpoints.save(seed, state(epoch))
        if stop:
            break
    chosen = max(history, key=lambda r: (r.valid["acc"], -r.epoch))
    selection = Selection(chosen.epoch, chosen.valid["acc"], chosen.test["acc"])
    run = NodeRun(
        seed=seed,
        best=selection,
        history=tuple(history),
        num_parameters=sum(p.numel() for p in model.parameters()),
        seconds=earlier_seconds + time.perf_counter() - start,
    )
    log.info("run %d seed %d: valid %.4f test %.4f", index, seed, run.best.valid, run.best.test)
    if save_model is not None:  # before the checkpoint says "finished"
        save_node_model(
            run_folder(save_model, seed),
            config=config,
            best=best,
            selection=selection,
            seed=seed,
            x=x,
            edge_index=edge_index,
            num_classes=num_classes,
        )
    if predictions is not None:
        _add_outputs(predictions, best, seed)
    if checkpoints is not None:  # finished: a resume returns this result, trains nothing
        done = {"epoch": history[-1].epoch, "result": run.to_state()}
        if predictions is not None:  # a resumed command writes the same rows
            done["best"] = {**best.state(), "weights": {}}
        checkpoints.save(seed, done)
    return run


def _add_outputs(table: PredictionTable, best: BestState, seed: int) -> None:
    """The validation and test logits of the selected epoch, one row per node."""
    assert best.epoch is not None
    for stage, ((nodes, logits, labels),) in best.extra["outputs"].items():
        table.append(output_rows(seed, None, best.epoch, stage, nodes, logits, labels))


@honour_deterministic
def train_node(
    config: NodeConfig,
    *,
    on_epoch: EpochCallback | None = None,
    on_run: Callable[[int, NodeRun], None] | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    save_model: str | os.PathLike[str] | None = None,
    save_predictions: str | os.PathLike[str] | None = None,
    on_estimate: Callable[[MemoryEstimate], None] | None = None,
) -> NodeResult:
    """Train ``config.runs`` seeds of an encoder + linear head for node classification.

    The split is the dataset's own (OGB's, or Planetoid's public masks); a graph without one
    gets Planetoid's recipe drawn from the seed (20 training nodes per class, 500
    validation, 1,000 test). With ``sampler='full'`` every epoch is one full-batch step; with
    ``'neighbor'`` an epoch shuffles the training nodes (the run's generator) and takes one
    step per ``batch_size`` of them, the encoder running on their computation subgraph
    sampled by :func:`~graphpair.ops.neighbor_sample` (``fanout`` per layer, PyG
    ``NeighborLoader``'s conventions) and the loss taken on those seeds only; the recorded
    loss is the epoch's mean over the training nodes. Evaluation always runs on the full
    graph. The selected epoch is the first with the best validation accuracy.

    Args:
        config: the run configuration.
        on_epoch: called as ``on_epoch(run_index, record)`` after every evaluated epoch.
        on_run: called as ``on_run(run_index, run)`` when a run ends (also for a run that a
            resume finds finished).
        checkpoint_dir, resume: as :func:`~graphpair.train.train_link`: one checkpoint per
            seed, rewritten after every epoch; ``resume`` returns finished runs from their
            checkpoints and continues unfinished ones after their last epoch, with the
            numbers of an uninterrupted run on CPU.
        save_model: a folder to save the model of every run's selected epoch in
            (``run-<seed>``), with the graph it classifies, for :func:`graphpair.load_model`
            (:class:`~graphpair.train.SavedNodeModel`). With checkpoints, the selected
            weights are checkpointed too, so a resumed run saves the model an
            uninterrupted one would.
        save_predictions: write the validation and test logits of every run's selected
            epoch with the labels to this ``.npz`` or ``.csv`` file, one row per node
            (columns ``seed``, ``fold`` -1, ``epoch``, ``stage``, ``item`` the node,
            ``pred_*``, ``true_0``), rewritten after every run.
        on_estimate: called with the run's :class:`~graphpair.train.MemoryEstimate` once the
            data are loaded, before the first epoch (with ``config.memory_check``, a run
            estimated not to fit is refused: ``ConfigError`` on ``memory_check``).

    The full-graph passes run on a :class:`~graphpair.ops.CSR` of the edges built once (its
    cached transpose serves every layer and epoch) where the edge list has no repeated edge;
    a multigraph keeps its edge list, so a repeated edge still counts once per copy.

    Raises:
        ConfigError: the dataset is not one graph with node features and labels, the device
            is unavailable, ``fanout`` has more values than the encoder has layers (checked
            before anything is loaded), ``resume`` without ``checkpoint_dir``, or checkpoints
            of this configuration exist and ``resume`` is false; or ``field='save_model'``: it
            is a file (checked before anything is loaded or trained), or a resumed run was
            checkpointed without it.
        CheckpointError: a checkpoint to resume from is truncated, corrupted or foreign.

    Example:
        Two epochs of a small GCN on the embedded default graph:

        >>> result = train_node(node_config("default", epochs=2, runs=1, hidden_channels=8))
        >>> run = result.runs[0]
        >>> run.best.epoch in (1, 2), sorted(run.history[0].valid)
        (True, ['acc'])
    """
    if not isinstance(config, NodeConfig):
        raise TypeError(f"config must be a NodeConfig; got {type(config).__name__}")
    check_output_folder("save_model", save_model)
    check_output_folder("checkpoint_dir", checkpoint_dir)
    check_predictions_path(save_predictions)
    if config.sampler == "neighbor":
        _layer_fanout(config)  # a bad fanout fails before the data are loaded
    table = None if save_predictions is None else PredictionTable()
    device = torch.device(config.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", f"device {config.device!r} is not available here")
    checkpoints = open_checkpoints(checkpoint_dir, config, resume=resume, device=device)
    start = time.perf_counter()
    dataset = load_dataset(
        config.dataset, config.data_root, cache=config.cache, download=config.download
    )
    data = dataset.data
    x, y = getattr(data, "x", None), getattr(data, "y", None)
    if x is None or y is None or y.dim() != 1 or y.numel() != int(data.num_nodes):
        raise ConfigError(
            "dataset",
            f"dataset {config.dataset!r} is not one graph with node features and one label "
            "per node",
        )
    x = (x.to_dense() if x.is_sparse else x).float().to(device)
    tensors = (x, y.long().to(device), data.edge_index.to(device))
    graph = _propagation_graph(tensors[2], x.size(0))
    estimate = memory_estimate(config, x, int(tensors[1].max()) + 1, tensors[2], graph)
    log.info("%s", estimate.describe())
    if on_estimate is not None:
        on_estimate(estimate)
    check_node_memory(estimate, config)
    sampling = _sampling(config, tensors[2], x.size(0), graph)
    runs = []
    for index in range(config.runs):
        release_freed_memory()  # the set-up's freed blocks, under the runner's --allocator reuse
        run = _node_run(
            config,
            dataset,
            tensors,
            index,
            on_epoch,
            checkpoints,
            save_model,
            table,
            sampling,
            graph,
        )
        runs.append(run)
        if table is not None and save_predictions is not None:
            table.write(save_predictions)  # after every run: nothing finished is lost
        if on_run is not None:
            on_run(index, run)
    return NodeResult(config=config, runs=tuple(runs), seconds=time.perf_counter() - start)
