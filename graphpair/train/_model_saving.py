"""What the graph, node and GRACE runners write with ``save_model=``: the model folder of a
run (:mod:`graphpair.train._artifact`) and the checkpoint entries that let a resumed run save
the same model.

Each folder's manifest carries, beside the configuration, the metrics of the saved epoch
(``metric``, ``epoch``, ``valid``, ``test``, ``seed``, ``fold``, ``config_key``) and a
``build`` mapping with what the builders need besides the configuration, so that
:class:`~graphpair.train.SavedGraphModel`, :class:`~graphpair.train.SavedNodeModel` and
:class:`~graphpair.train.SavedEncoder` rebuild the model without the dataset:

- ``'graph'``: ``{"inputs": GraphInputs fields, "task": GraphTask fields}``;
- ``'node'``: ``{"in_channels": F, "num_classes": C}``, and the graph (``graph.gpw``);
- ``'encoder'`` (GRACE): ``{"in_channels": F}``, and the graph.

The stored graph of node and encoder folders holds ``edge_index``, the node features ``x``
as the run read them (float, before GRACE's row normalisation, which the model applies) and
``num_nodes``; its fingerprint is :func:`~graphpair.train._artifact.graph_fingerprint` of
that ``edge_index`` and ``x`` plus ``'directed_edges'`` (:func:`node_graph_print`): a node
model passes messages along ``edge_index`` as given, so a graph that differs only in the
direction of some edges is another graph to it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from graphpair.data import GraphSet
from graphpair.data._io import fingerprint
from graphpair.nn import GraphInputs
from graphpair.ops import CSR
from graphpair.train._artifact import (
    MANIFEST,
    BestState,
    graph_fingerprint,
    run_folder,
    write_model,
)
from graphpair.train._config import ConfigError
from graphpair.train._config_key import config_key
from graphpair.train._graph_task import GraphTask
from graphpair.train._predictions import PredictionTable, output_rows
from graphpair.train._results import Selection

__all__ = [
    "add_graph_outputs",
    "check_finished_run",
    "kept_outputs",
    "node_graph",
    "node_graph_print",
    "restore_best",
    "save_encoder",
    "save_graph_model",
    "save_node_model",
]


def _run_name(seed: int, fold: int | None) -> str:
    return f"seed {seed}" if fold is None else f"seed {seed} fold {fold}"


def restore_best(
    best: BestState,
    saved: Mapping[str, Any],
    *,
    save_model: str | os.PathLike[str] | None,
    seed: int,
    fold: int | None = None,
) -> None:
    """Put the selected weights of a resumed run's checkpoint back into ``best``.

    Raises:
        ConfigError: ``save_model`` is set and the checkpoint, which has evaluated epochs,
            was written without it: the weights of its selected epoch are gone
            (``field='save_model'``).
    """
    if save_model is None:
        return
    if saved.get("best") is not None:
        best.load(saved["best"])
    elif saved.get("history"):
        raise ConfigError(
            "save_model",
            f"the checkpoint of run {_run_name(seed, fold)} was written without save_model, "
            "so the weights of its selected epoch are not in it; resume without save_model, "
            "or train afresh in another checkpoint folder",
        )


def check_finished_run(
    save_model: str | os.PathLike[str] | None,
    seed: int,
    fold: int | None = None,
) -> None:
    """With ``save_model``, a run that a resume finds finished must have saved its model
    there already (its weights are not in the finished checkpoint).

    Raises:
        ConfigError: the run's folder holds no saved model (``field='save_model'``).
    """
    if save_model is None:
        return
    folder = run_folder(save_model, seed, fold)
    if not (folder / MANIFEST).is_file():
        raise ConfigError(
            "save_model",
            f"run {_run_name(seed, fold)} finished in its checkpoint without a saved model in "
            f"{str(folder)!r}; its weights are gone: give the save_model folder of the run "
            "that trained it, or train afresh in another checkpoint folder",
        )


def _metrics(
    config: Any,
    metric: str,
    selection: Selection,
    seed: int,
    fold: int | None,
) -> dict[str, Any]:
    return {
        "metric": metric,
        "epoch": selection.epoch,
        "valid": selection.valid,
        "test": selection.test,
        "seed": seed,
        "fold": fold,
        "config_key": config_key(config),
    }


def _check_selected(best: BestState, selection: Selection, folder: Path) -> None:
    # BestState follows the runners' selection rule; a disagreement is a bug, and saving the
    # wrong epoch silently would be worse than failing.
    if best.epoch != selection.epoch or not best.weights:
        raise RuntimeError(
            f"the kept weights are of epoch {best.epoch}, the selected epoch is "
            f"{selection.epoch}: not saving {str(folder)!r}"
        )


def save_graph_model(
    folder: str | os.PathLike[str],
    *,
    config: Any,
    task: GraphTask,
    inputs: GraphInputs,
    best: BestState,
    selection: Selection,
    seed: int,
    fold: int | None,
) -> Path:
    """Write a graph run's model folder (kind ``'graph'``) from its kept weights."""
    target = Path(folder)
    _check_selected(best, selection, target)
    metrics = _metrics(config, task.metric, selection, seed, fold)
    metrics["higher_is_better"] = task.higher_is_better
    return write_model(
        target,
        kind="graph",
        config=config.to_dict(),
        config_class=type(config).__name__,
        weights=best.weights,
        metrics=metrics,
        build={"inputs": dataclasses.asdict(inputs), "task": dataclasses.asdict(task)},
    )


def node_graph_print(x: Tensor, edge_index: Tensor) -> dict[str, Any]:
    """The fingerprint of a node model's graph: :func:`graph_fingerprint` (undirected, as a
    link model's) and ``'directed_edges'``, a hash of the sorted ``edge_index`` columns as
    the model's message passing reads them (direction, repeats and self loops included)."""
    x, edge_index = x.detach().cpu(), edge_index.detach().cpu()
    num_nodes = int(x.size(0))
    out = graph_fingerprint(CSR.from_edge_index(edge_index, num_nodes), x)
    keys = edge_index[0].long() * num_nodes + edge_index[1].long()  # [E], order-free below
    out["directed_edges"] = fingerprint(torch.sort(keys).values)
    return out


def node_graph(x: Tensor, edge_index: Tensor) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stored graph of a node or encoder folder and its fingerprint
    (:func:`node_graph_print`)."""
    x = x.detach().cpu()
    edge_index = edge_index.detach().cpu()
    graph = {"edge_index": edge_index, "x": x, "num_nodes": int(x.size(0))}
    return graph, node_graph_print(x, edge_index)


def save_node_model(
    folder: str | os.PathLike[str],
    *,
    config: Any,
    best: BestState,
    selection: Selection,
    seed: int,
    x: Tensor,
    edge_index: Tensor,
    num_classes: int,
) -> Path:
    """Write a node run's model folder (kind ``'node'``) from its kept weights."""
    target = Path(folder)
    _check_selected(best, selection, target)
    graph, graph_print = node_graph(x, edge_index)
    return write_model(
        target,
        kind="node",
        config=config.to_dict(),
        config_class=type(config).__name__,
        weights=best.weights,
        metrics=_metrics(config, "acc", selection, seed, None),
        build={"in_channels": int(x.size(1)), "num_classes": int(num_classes)},
        graph=graph,
        graph_print=graph_print,
    )


def save_encoder(
    folder: str | os.PathLike[str],
    *,
    config: Any,
    model: torch.nn.Module,
    selection: Selection,
    seed: int,
    loss: float,
    x: Tensor,
    edge_index: Tensor,
) -> Path:
    """Write a GRACE run's encoder folder (kind ``'encoder'``): the encoder after the last
    epoch, its linear-probe accuracies (``metric`` ``'probe_acc'``) and final loss."""
    graph, graph_print = node_graph(x, edge_index)
    metrics = _metrics(config, "probe_acc", selection, seed, None)
    metrics["loss"] = loss
    return write_model(
        folder,
        kind="encoder",
        config=config.to_dict(),
        config_class=type(config).__name__,
        weights={"model": model.state_dict()},
        metrics=metrics,
        build={"in_channels": int(x.size(1))},
        graph=graph,
        graph_print=graph_print,
    )


def kept_outputs(saved: dict[str, Any], seed: int, fold: int | None) -> dict[str, Any]:
    """The selected epoch's outputs a checkpoint kept for ``save_predictions``.

    Raises:
        ConfigError: it kept none (``field='save_predictions'``).
    """
    best = saved.get("best")
    if best is None or "outputs" not in best.get("extra", {}):
        raise ConfigError(
            "save_predictions",
            f"the checkpoint of run {_run_name(seed, fold)} was written without "
            "save_predictions, so its outputs were not kept; train afresh in another "
            "checkpoint folder",
        )
    return dict(best)


def add_graph_outputs(
    table: PredictionTable,
    graphs: GraphSet,
    split: dict[str, Tensor],
    best: BestState,
    seed: int,
    fold: int | None,
) -> None:
    """The valid and test outputs of the selected epoch, as rows of ``table``: one per
    graph (``item`` = its dataset index), or per node of node-level sets (``item`` = the
    node's index in its graph)."""
    assert best.epoch is not None
    for stage, kept in best.extra["outputs"].items():
        out, y = kept[0]
        index = split[stage]
        if out.size(0) != index.numel():  # node-level: the nodes of every graph, in order
            sizes = [int(graphs[int(i)].num_nodes) for i in index]
            index = torch.cat([torch.arange(n) for n in sizes]) if sizes else index
        table.append(output_rows(seed, fold, best.epoch, stage, index, out, y))
