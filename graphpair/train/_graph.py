"""The graph-level runner: graph regression, graph classification, and node classification on
a set of graphs (PATTERN, CLUSTER, UniqueSignature).

Per dataset: the task (loss, outputs, metric) is read off the registry entry and the labels
(:func:`infer_task`); the protocol is the dataset's fixed split, its folds (CSL files, the TU
folds of Errica et al.), or stratified folds drawn from ``config.seed`` when it has neither
(:func:`make_folds`). Per fold and run (seed ``s``): ``torch.manual_seed(s)`` before the model
is built and one ``torch.Generator`` seeded with ``s`` shuffling the training graphs, so a CPU
run is bit-reproducible on one thread, and at any thread count with ``config.deterministic``.
Every evaluated epoch scores validation and test; the reported number
is the test value at the best validation epoch (the last epoch where the split has no
validation set, as the UniqueSignature protocol).
"""

from __future__ import annotations

import functools
import logging
import math
import os
import time
from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch import Tensor
from torch_geometric.loader import DataLoader

from graphpair.data import CacheError, GraphSet, LoadedDataset, load_dataset
from graphpair.losses import sup_con
from graphpair.nn import GraphInputs, GraphModel
from graphpair.train._artifact import BestState, check_output_folder, run_folder
from graphpair.train._callbacks import EpochCallback, StepCallback
from graphpair.train._checkpoint import (
    RunCheckpoints,
    open_checkpoints,
    restore_run,
    run_state,
)
from graphpair.train._config import ConfigError
from graphpair.train._deterministic import honour_deterministic
from graphpair.train._graph_builder import build_graph_model, transform_graphs
from graphpair.train._graph_config import GraphConfig, fixed_split, fold_count
from graphpair.train._graph_results import GraphResult, GraphRun, select_graph_best
from graphpair.train._graph_task import (
    GraphTask,
    count_items,
    evaluate_graph,
    infer_task,
    task_loss,
)
from graphpair.train._model_saving import (
    add_graph_outputs,
    check_finished_run,
    kept_outputs,
    restore_best,
    save_graph_model,
)
from graphpair.train._precise_bn import precise_batch_norm
from graphpair.train._predictions import PredictionTable, check_predictions_path
from graphpair.train._results import (
    EarlyStopping,
    EpochRecord,
)

__all__ = ["GraphRunCallback", "make_folds", "train_graph"]

log = logging.getLogger(__name__)


class GraphRunCallback(Protocol):
    """``on_run(run_index, run)``: called after every run (0-based over folds x seeds).

    ``run`` is the finished :class:`GraphRun`; the callback's return value is ignored.
    """

    def __call__(self, run_index: int, run: GraphRun, /) -> None: ...


def make_folds(
    num_graphs: int, k: int, *, labels: Tensor | None = None, seed: int = 0
) -> tuple[dict[str, Tensor], ...]:
    """``k`` cross-validation folds: fold ``i`` tests part ``i``, validates on part
    ``(i + 1) mod k`` and trains on the rest (3 : 1 : 1 for k = 5, Benchmarking GNNs' CSL
    protocol).

    The parts are drawn from a generator seeded with ``seed``; with ``labels`` (one class id
    per graph) every part gets the same share of each class, up to one graph.

    Args:
        num_graphs: Graphs to split, at least ``k``.
        k: Number of folds, at least 3.
        labels: One class id per graph ``[num_graphs]`` for stratified parts, or ``None``.
        seed: Seed of the random parts.

    Raises:
        ValueError: ``k < 3`` or ``num_graphs < k``.

    Example:
        >>> folds = make_folds(10, 5)
        >>> [int(folds[0][s].numel()) for s in ("train", "valid", "test")]
        [6, 2, 2]
    """
    if k < 3:
        raise ValueError(f"k must be >= 3 (train, valid and test parts); got {k}")
    if num_graphs < k:
        raise ValueError(f"num_graphs must be >= k={k}; got {num_graphs}")
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(num_graphs, generator=generator)
    if labels is not None:
        # Group by class, keeping the random order inside each class; dealing the grouped
        # sequence round-robin spreads every class evenly over the parts.
        order = order[torch.sort(labels.view(-1)[order], stable=True).indices]
    part = torch.empty(num_graphs, dtype=torch.long)
    part[order] = torch.arange(num_graphs) % k
    folds = []
    for i in range(k):
        test, valid = part == i, part == (i + 1) % k
        folds.append(
            {
                "train": torch.nonzero(~(test | valid)).view(-1),
                "valid": torch.nonzero(valid).view(-1),
                "test": torch.nonzero(test).view(-1),
            }
        )
    return tuple(folds)


def _optimizer(config: GraphConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    kind = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return kind(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def _cosine_factor(config: GraphConfig) -> Any:
    warmup, epochs = config.warmup_epochs, config.epochs

    def factor(epoch: int) -> float:
        # GRIT's cosine_with_warmup, stepped once per epoch (0-based): its min_lr has no
        # effect in the reference, so the rate decays to 0 (specs/grit.md §3.3).
        if epoch < warmup:
            return max(1e-6, epoch / warmup)
        return 0.5 * (1.0 + math.cos(math.pi * (epoch - warmup) / (epochs - warmup)))

    return factor


def _loader(
    graphs: GraphSet, index: Tensor, batch_size: int, generator: torch.Generator | None
) -> DataLoader:
    return DataLoader(
        graphs[index], batch_size=batch_size, shuffle=generator is not None, generator=generator
    )


def _train_epoch(
    config: GraphConfig,
    task: GraphTask,
    model: GraphModel,
    optimizer: torch.optim.Optimizer,
    loader: DataLoader,
    device: torch.device,
    on_step: Callable[[int, int, float], None] | None = None,
) -> float:
    model.train()
    total, count = 0.0, 0
    steps = len(loader)
    for index, batch in enumerate(loader, 1):
        batch = batch.to(device)
        optimizer.zero_grad()
        if config.supcon_weight > 0:
            out, z = model.forward_with_representation(batch)
            loss = task_loss(task, out, batch.y, class_weights=config.class_weights)
            labels = batch.y.view(-1)
            loss = loss + config.supcon_weight * sup_con(
                z, labels, temperature=config.supcon_temperature
            )
        else:
            out = model(batch)
            loss = task_loss(task, out, batch.y, class_weights=config.class_weights)
        loss.backward()  # type: ignore[no-untyped-call]
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        items = count_items(task, batch)
        value = float(loss.detach())
        total += value * items
        count += items
        if on_step is not None:
            on_step(index, steps, value)
    return total / count


def _run(
    config: GraphConfig,
    task: GraphTask,
    inputs: GraphInputs,
    graphs: GraphSet,
    split: dict[str, Tensor],
    seed: int,
    fold: int | None,
    run_index: int,
    on_epoch: EpochCallback | None,
    checkpoints: RunCheckpoints | None = None,
    on_step: StepCallback | None = None,
    save_model: str | os.PathLike[str] | None = None,
    predictions: PredictionTable | None = None,
) -> GraphRun:
    start = time.perf_counter()
    saved = checkpoints.load(seed, fold) if checkpoints is not None else None
    if saved is not None and saved.get("result") is not None:
        log.info("run %d seed %d fold %s: finished in a checkpoint", run_index, seed, fold)
        check_finished_run(save_model, seed, fold)
        if predictions is not None:
            kept = BestState(higher_is_better=task.higher_is_better, enabled=False)
            kept.load(kept_outputs(saved, seed, fold))
            add_graph_outputs(predictions, graphs, split, kept, seed, fold)
        return GraphRun.from_state(saved["result"])
    device = torch.device(config.device)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = build_graph_model(config, inputs).to(device)
    num_parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
    optimizer = _optimizer(config, model)
    cosine = None
    plateau = None
    if config.scheduler == "cosine":
        cosine = torch.optim.lr_scheduler.LambdaLR(optimizer, _cosine_factor(config))
    elif config.scheduler == "plateau":
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=config.plateau_factor, patience=config.plateau_patience
        )
    eval_size = config.eval_batch_size or config.batch_size
    train_loader = _loader(graphs, split["train"], config.batch_size, generator)
    stages = {
        name: _loader(graphs, split[name], eval_size, None)
        for name in ("valid", "test")
        if name in split and split[name].numel() > 0
    }

    if config.patience is not None and "valid" not in stages:
        raise ConfigError(
            "patience",
            f"patience needs a validation split, and {config.dataset!r} has none here",
        )
    history: list[EpochRecord] = []
    epoch_seconds: list[float] = []
    stopping = EarlyStopping(config.patience, higher_is_better=task.higher_is_better)
    # The selected epoch's weights, kept only for save_model (the selection itself is
    # select_graph_best's, below; the two rules agree).
    best = BestState(higher_is_better=task.higher_is_better, enabled=save_model is not None)
    keep_best = save_model is not None or predictions is not None
    first_epoch, earlier_seconds = 1, 0.0
    if saved is not None:  # continue after the last saved epoch, random states included
        history, first_epoch, earlier_seconds = restore_run(
            saved, modules={"model": model}, optimizer=optimizer, generator=generator, device=device
        )
        for scheduler, name in ((cosine, "cosine"), (plateau, "plateau")):
            if scheduler is not None:
                scheduler.load_state_dict(saved[name])
        epoch_seconds = [float(s) for s in saved["epoch_seconds"]]
        if config.patience is not None:
            for record in history:
                stopping.update(record.valid[task.metric])
        restore_best(best, saved, save_model=save_model, seed=seed, fold=fold)
        if predictions is not None and history:
            best.load(kept_outputs(saved, seed, fold))

    def state(epoch: int) -> dict[str, Any]:
        extra: dict[str, Any] = {
            name: scheduler.state_dict()
            for scheduler, name in ((cosine, "cosine"), (plateau, "plateau"))
            if scheduler is not None
        }
        if keep_best:
            extra["best"] = best.state()
        return run_state(
            epoch,
            modules={"model": model},
            optimizer=optimizer,
            generator=generator,
            device=device,
            history=history,
            seconds=earlier_seconds + time.perf_counter() - start,
            epoch_seconds=list(epoch_seconds),
            **extra,
        )

    for epoch in range(first_epoch, config.epochs + 1):
        tick = time.perf_counter()
        step = None if on_step is None else functools.partial(on_step, run_index)
        loss = _train_epoch(config, task, model, optimizer, train_loader, device, step)
        train_seconds = time.perf_counter() - tick
        epoch_seconds.append(train_seconds)
        if cosine is not None:
            cosine.step()
        evaluate = epoch % config.eval_every == 0 or epoch == config.epochs
        if not evaluate:
            if plateau is not None and "valid" not in stages:
                plateau.step(loss)
            if checkpoints is not None:
                checkpoints.save(seed, state(epoch), fold)
            continue
        tick = time.perf_counter()
        if config.precise_bn:
            # The training graphs in order, in training-sized batches (the statistics are a
            # mean over batches).
            train_batches = _loader(graphs, split["train"], config.batch_size, None)
            precise_batch_norm(model, train_batches, device)
        values = {}
        outputs: dict[str, list[tuple[Tensor, Tensor]]] | None = None if predictions is None else {}
        for name, loader in stages.items():
            keep = None if outputs is None else outputs.setdefault(name, [])
            metric, stage_loss = evaluate_graph(model, loader, task, device, keep=keep)
            values[name] = {task.metric: metric, "loss": stage_loss}
        if plateau is not None:
            plateau.step(values["valid"]["loss"] if "valid" in values else loss)
        record = EpochRecord(
            epoch,
            loss,
            values.get("valid", {}),
            values.get("test", {}),
            train_seconds,
            time.perf_counter() - tick,
        )
        history.append(record)
        log.debug(
            "run %d seed %d fold %s epoch %d: loss %.4f, valid %s, test %s",
            run_index,
            seed,
            fold,
            epoch,
            loss,
            record.valid.get(task.metric),
            record.test.get(task.metric),
        )
        best.consider(
            epoch,
            record.valid.get(task.metric),
            {"model": model},
            None if outputs is None else functools.partial(dict, outputs=outputs),
        )
        if on_epoch is not None:
            on_epoch(run_index, record)
        stop = config.patience is not None and stopping.update(record.valid[task.metric])
        if checkpoints is not None:
            checkpoints.save(seed, state(epoch), fold)
        if stop:
            log.info(
                "run %d seed %d fold %s: early stop after epoch %d", run_index, seed, fold, epoch
            )
            break
    selection = select_graph_best(history, task.metric, task.higher_is_better)
    log.info(
        "run %d seed %d fold %s: %s valid %.4f test %.4f (epoch %d)",
        run_index,
        seed,
        fold,
        task.metric,
        selection.valid,
        selection.test,
        selection.epoch,
    )
    result = GraphRun(
        seed=seed,
        fold=fold,
        best=selection,
        history=tuple(history),
        num_parameters=num_parameters,
        seconds=earlier_seconds + time.perf_counter() - start,
        epoch_seconds=tuple(epoch_seconds),
    )
    if save_model is not None:  # before the checkpoint says "finished"
        save_graph_model(
            run_folder(save_model, seed, fold),
            config=config,
            task=task,
            inputs=inputs,
            best=best,
            selection=selection,
            seed=seed,
            fold=fold,
        )
    if predictions is not None:
        add_graph_outputs(predictions, graphs, split, best, seed, fold)
    if checkpoints is not None:  # finished: a resume returns this result, trains nothing
        done = {"epoch": history[-1].epoch, "result": result.to_state()}
        if predictions is not None:  # a resumed command writes the same rows
            done["best"] = {**best.state(), "weights": {}}
        checkpoints.save(seed, done, fold)
    return result


def _folds(
    config: GraphConfig, dataset: LoadedDataset, task: GraphTask
) -> tuple[dict[str, Tensor], ...] | None:
    """Every fold of ``dataset``: its own, or drawn from ``config.seed``; ``None`` for a
    dataset with one fixed split (``dataset.split``)."""
    if dataset.split is not None and fixed_split(dataset.spec.split):
        return None
    if dataset.folds is not None:
        return dataset.folds
    assert isinstance(dataset.graphs, GraphSet)
    labels = None
    if task.kind != "regression" and task.level == "graph":
        labels = dataset.graphs._data.y.view(len(dataset.graphs), -1)[:, 0].long()
    return make_folds(
        len(dataset.graphs), fold_count(dataset.spec.split), labels=labels, seed=config.seed
    )


def _splits(
    config: GraphConfig, dataset: LoadedDataset, task: GraphTask
) -> list[tuple[int | None, dict[str, Tensor]]]:
    """``(fold, split)`` pairs the runs go through: the fixed split, or the folds."""
    folds = _folds(config, dataset, task)
    if folds is None:
        assert dataset.split is not None
        return [(None, dataset.split)]
    count = len(folds) if config.folds is None else config.folds
    if count > len(folds):
        raise ConfigError(
            "folds",
            f"folds must be at most the {len(folds)} folds of {dataset.name!r}; got {count}",
        )
    return list(enumerate(folds[:count]))


def _transformed(config: GraphConfig, graphs: GraphSet) -> GraphSet:
    """``graphs`` with the model's transform applied, once, in memory."""
    tick = time.perf_counter()
    out = transform_graphs(config, graphs)
    if out is not graphs:
        log.info("transformed %d graphs in %.1f s", len(graphs), time.perf_counter() - tick)
    return out


@honour_deterministic
def train_graph(
    config: GraphConfig,
    *,
    on_epoch: EpochCallback | None = None,
    on_run: GraphRunCallback | None = None,
    on_result: Callable[[GraphResult], None] | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    on_step: StepCallback | None = None,
    save_model: str | os.PathLike[str] | None = None,
    save_predictions: str | os.PathLike[str] | None = None,
) -> GraphResult:
    """Train and evaluate ``config.runs`` seeds on every fold of a graph-set dataset.

    Loads the dataset (``config.dataset_options`` go to its loader), infers the task
    (:func:`infer_task`), applies the model's transform (GRIT's RRWP) once in memory, and for
    every fold and seed ``config.seed .. config.seed + runs - 1`` trains with mini-batches of
    graphs (shuffled by the run's generator), the optimiser, scheduler and gradient clipping
    of the config, and evaluates every ``eval_every`` epochs. Model selection is on validation
    (:func:`select_graph_best`).

    Args:
        config: the run configuration (see :func:`graphpair.train.graph_config`).
        on_epoch: called as ``on_epoch(run_index, record)`` after every evaluation.
        on_run: called as ``on_run(run_index, run)`` after every run.
        on_result: called after every run with the :class:`GraphResult` of the runs so far
            (e.g. to store each run's record as soon as it exists).
        on_step: called as ``on_step(run_index, step, steps, loss)`` after every training
            batch (:class:`~graphpair.train.StepCallback`).
        checkpoint_dir, resume: as :func:`~graphpair.train.train_link`: a checkpoint per
            run (seed and fold) after every epoch; ``resume`` skips finished runs and
            continues unfinished ones (model, optimizer, scheduler and random states), so a
            CPU run ends with the uninterrupted numbers.
        save_model: a folder to save the model of every run's selected epoch in, one
            subfolder per run (``run-<seed>``, ``run-<seed>-fold<k>`` with folds), for
            :func:`graphpair.load_model` (:class:`~graphpair.train.SavedGraphModel`). With
            checkpoints, the selected weights are checkpointed too, so a resumed run saves
            the model an uninterrupted one would.
        save_predictions: write the validation and test outputs of every run's selected
            epoch with the labels to this ``.npz`` or ``.csv`` file, rewritten after every
            run (columns ``seed``, ``fold``, ``epoch``, ``stage``, ``item``, ``pred_*``,
            ``true_*``: the raw outputs and the labels).

    Returns:
        A :class:`GraphResult`; ``result.summary()`` is mean ± std over folds and seeds.

    Raises:
        ConfigError: the device is unavailable, a loader option is invalid
            (``field='dataset_options'``), or the data do not fit the config (a metric that
            does not fit the labels, more folds than the dataset has, a model this
            installation lacks); or ``field='save_model'``: it is a file (checked before
            anything is loaded or trained), or a resumed run was checkpointed without it.

    Example:
        A small generated node-level set (UniqueSignature, 20 graphs), one epoch:

        >>> from graphpair.train import graph_config
        >>> config = graph_config("UniqueSignature", epochs=1, runs=1,
        ...                       dataset_options={"num_graphs": 20})
        >>> result = train_graph(config)
        >>> result.task.level, [len(run.history) for run in result.runs]
        ('node', [1])
    """
    if not isinstance(config, GraphConfig):
        raise TypeError(f"config must be a GraphConfig; got {type(config).__name__}")
    check_output_folder("save_model", save_model)
    check_output_folder("checkpoint_dir", checkpoint_dir)
    check_predictions_path(save_predictions)
    table = None if save_predictions is None else PredictionTable()
    device = torch.device(config.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", f"device {config.device!r} is not available here")
    checkpoints = open_checkpoints(checkpoint_dir, config, resume=resume, device=device)
    start = time.perf_counter()
    try:
        dataset = load_dataset(
            config.dataset,
            config.data_root,
            cache=config.cache,
            download=config.download,
            **config.dataset_options,
        )
    except (TypeError, ValueError) as err:
        if not config.dataset_options or isinstance(err, CacheError):
            raise
        raise ConfigError("dataset_options", f"dataset_options: {err}") from err
    log.info("loaded %s", dataset)
    if not isinstance(dataset.graphs, GraphSet):
        raise ConfigError("dataset", f"dataset {dataset.name!r} is not a set of graphs")
    task = infer_task(dataset, config.metric)
    if config.supcon_weight > 0 and not (task.kind == "multiclass" and task.level == "graph"):
        raise ConfigError(
            "supcon_weight",
            f"supcon_weight needs graph classification with one class per graph; "
            f"{dataset.name!r} is a {task.level}-level {task.kind} task",
        )
    if config.class_weights and (
        task.kind == "regression" or (task.out_channels > 1 and task.kind == "binary")
    ):
        raise ConfigError(
            "class_weights",
            f"class_weights needs one label column of classes; {dataset.name!r} is a "
            f"{task.kind} task with {task.out_channels} output(s)",
        )
    splits = _splits(config, dataset, task)
    graphs = _transformed(config, dataset.graphs)
    inputs = GraphInputs.from_data(graphs._data, task.out_channels, task.level == "node")
    runs: list[GraphRun] = []
    for fold, split in splits:
        for offset in range(config.runs):
            run_index = len(runs)
            seed = config.seed + offset
            run = _run(
                config,
                task,
                inputs,
                graphs,
                split,
                seed,
                fold,
                run_index,
                on_epoch,
                checkpoints,
                on_step,
                save_model,
                table,
            )
            runs.append(run)
            if table is not None and save_predictions is not None:
                table.write(save_predictions)  # after every run: nothing finished is lost
            if on_run is not None:
                on_run(run_index, run)
            if on_result is not None:
                elapsed = time.perf_counter() - start
                on_result(GraphResult(config=config, task=task, runs=tuple(runs), seconds=elapsed))
    return GraphResult(
        config=config, task=task, runs=tuple(runs), seconds=time.perf_counter() - start
    )
