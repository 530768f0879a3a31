"""The task of a graph-level dataset (loss, outputs, metric, read off its registry entry and
labels) and the evaluation of a model on it."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from graphpair.data import GraphSet, LoadedDataset
from graphpair.metrics import Evaluator
from graphpair.train._config import ConfigError

__all__ = ["GraphTask", "count_items", "evaluate_graph", "infer_task", "task_loss"]

log = logging.getLogger(__name__)

_ERROR_METRICS = ("mae", "rmse")
_SCORE_METRICS = ("rocauc", "ap")


@dataclass(frozen=True)
class GraphTask:
    """What is predicted and how it is scored.

    Attributes:
        level: ``'graph'`` or ``'node'`` (node classification on a set of graphs).
        kind: ``'regression'`` (L1 loss for MAE, else MSE), ``'binary'`` (one logit per task,
            BCE; NaN labels are skipped) or ``'multiclass'`` (one logit per class,
            cross-entropy).
        out_channels: model outputs per graph or node.
        metric: the reported metric (a :class:`graphpair.metrics.Evaluator` name).
        higher_is_better: direction of ``metric`` (model selection).

    Example:
        >>> from graphpair.data import load_dataset
        >>> infer_task(load_dataset("CSL"))  # doctest: +NORMALIZE_WHITESPACE
        GraphTask(level='graph', kind='multiclass', out_channels=10, metric='acc',
                  higher_is_better=True)
    """

    level: str
    kind: str
    out_channels: int
    metric: str
    higher_is_better: bool


def infer_task(dataset: LoadedDataset, metric: str | None = None) -> GraphTask:
    """The task of a graph-set dataset from its registry entry and labels.

    Regression when the metric is an error (``'mae'``, ``'rmse'``); otherwise labels with
    several columns are binary tasks (OGB's multi-task sets), and a single label column with
    ``C`` classes is binary (one logit) for ``C <= 2`` and ``C``-way otherwise.

    Args:
        dataset: A loaded graph-set dataset with labels ``y``.
        metric: An :class:`~graphpair.metrics.Evaluator` metric name; ``None`` takes the
            dataset's headline metric.

    Raises:
        ConfigError: ``metric`` (``field='metric'``) does not fit the labels, or the dataset
            has no labels (``field='dataset'``).

    Example:
        >>> from graphpair.data import load_dataset
        >>> task = infer_task(load_dataset("UniqueSignature", num_graphs=20))
        >>> task.level, task.kind, task.out_channels, task.metric
        ('node', 'binary', 1, 'balanced_acc')
    """
    spec = dataset.spec
    name = spec.metric if metric is None else metric
    evaluator = Evaluator(name)
    y = getattr(dataset.graphs._data if isinstance(dataset.graphs, GraphSet) else None, "y", None)
    if y is None:
        raise ConfigError("dataset", f"dataset {spec.name!r} has no labels y")
    columns = 1 if y.dim() == 1 else int(y.size(1))
    if evaluator.metric in _ERROR_METRICS:
        return GraphTask(spec.task, "regression", columns, evaluator.metric, False)
    labelled = y[~y.isnan()] if y.is_floating_point() else y
    if labelled.numel() == 0 or bool((labelled != labelled.round()).any()):
        raise ConfigError(
            "metric",
            f"metric {evaluator.metric!r} needs class labels; {spec.name!r} has real-valued "
            "targets (use 'mae' or 'rmse')",
        )
    if columns > 1 or int(labelled.max()) <= 1:
        if columns > 1 and bool(((labelled != 0) & (labelled != 1)).any()):
            raise ConfigError(
                "metric", f"{spec.name!r} has several label columns that are not 0/1 labels"
            )
        return GraphTask(spec.task, "binary", columns, evaluator.metric, True)
    if evaluator.metric in _SCORE_METRICS:
        raise ConfigError(
            "metric",
            f"metric {evaluator.metric!r} scores binary tasks; {spec.name!r} has "
            f"{int(labelled.max()) + 1} classes (use 'acc' or 'balanced_acc')",
        )
    return GraphTask(spec.task, "multiclass", int(labelled.max()) + 1, evaluator.metric, True)


def _rows(task: GraphTask, y: Tensor, count: int) -> Tensor:
    """Labels as ``[count, T]`` (regression, binary) or ``[count]`` class ids (multiclass)."""
    if task.kind == "multiclass":
        return y.view(count).long()
    return y.view(count, -1).float()


def task_loss(task: GraphTask, out: Tensor, y: Tensor, *, class_weights: bool = False) -> Tensor:
    r"""The training loss of ``task`` on predictions ``out`` ``[M, out_channels]``.

    Regression: L1 (metric MAE) or squared error, over labelled entries. Binary: BCE with
    logits over labelled (non-NaN) entries. Multiclass: cross-entropy. With
    ``class_weights`` (one label column), entry :math:`i` of class :math:`c_i` weighs
    :math:`w_{c} = (V - V_c) / V` (``V`` labelled entries in the batch, ``V_c`` of class
    ``c``) and the loss is :math:`\sum_i w_{c_i} \ell_i / \sum_i w_{c_i}`; a batch holding one
    class only falls back to the plain mean (its weights would all be 0).

    Args:
        task: What is predicted (:func:`infer_task`).
        out: Predictions: values, logits per task, or logits per class.
        y: Labels of the ``M`` graphs or nodes (NaN: missing, for regression and binary).
        class_weights: Weight classes inversely to their share of the batch.

    Shapes:
        - out: ``[M, out_channels]``; y: ``[M]`` or ``[M, T]``
        - output: a scalar

    Example:
        >>> task = GraphTask("graph", "multiclass", 3, "acc", True)
        >>> task_loss(task, torch.zeros(4, 3), torch.tensor([0, 1, 2, 2]))  # log(3)
        tensor(1.0986)
    """
    target = _rows(task, y, out.size(0))
    if task.kind == "multiclass":
        losses = F.cross_entropy(out, target, reduction="none")  # [M]
        labels = target
    else:
        mask = ~target.isnan()
        pred, true = out[mask], target[mask]
        if task.kind == "regression":
            if task.metric == "mae":
                return F.l1_loss(pred, true)
            return F.mse_loss(pred, true)
        losses = F.binary_cross_entropy_with_logits(pred, true, reduction="none")
        labels = true.long()
    if not class_weights:
        return losses.mean()
    counts = torch.bincount(labels, minlength=max(2, task.out_channels)).to(losses.dtype)
    weights = ((counts.sum() - counts) / counts.sum())[labels]  # [M]
    if float(weights.sum()) == 0.0:
        return losses.mean()
    return (weights * losses).sum() / weights.sum()


def _predictions(task: GraphTask, out: Tensor) -> Tensor:
    """What :class:`~graphpair.metrics.Evaluator` scores: values, scores or class labels."""
    if task.kind == "regression" or task.metric in _SCORE_METRICS:
        return out
    if task.kind == "binary":
        return (out > 0).long()
    return out.argmax(dim=-1, keepdim=True)


def count_items(task: GraphTask, batch: Data) -> int:
    """The items a batch's loss averages over: its nodes for a node-level task, else its
    graphs."""
    return int(batch.num_nodes) if task.level == "node" else int(batch.num_graphs)


@torch.no_grad()
def evaluate_graph(
    model: torch.nn.Module,
    loader: DataLoader,
    task: GraphTask,
    device: torch.device | str,
    keep: list[tuple[Tensor, Tensor]] | None = None,
) -> tuple[float, float]:
    """``(metric, loss)`` of ``model`` over every graph of ``loader``, in eval mode.

    The metric is :class:`graphpair.metrics.Evaluator`'s over all predictions at once (per
    graph, or per node for node-level tasks); the loss is :func:`task_loss` without class
    weights. Non-finite predictions give a NaN metric (never selected) instead of an error.

    Args:
        model: A model called as ``model(batch)`` (:class:`~graphpair.nn.GraphModel`).
        loader: Batches of labelled graphs.
        task: What is predicted and how it is scored (:func:`infer_task`).
        device: Where the batches go.
        keep: When given, receives ``(outputs, labels)`` of every graph (or node), in order.

    Example:
        >>> from torch_geometric.loader import DataLoader
        >>> from graphpair.data import load_dataset
        >>> from graphpair.nn import GraphInputs
        >>> from graphpair.train import build_graph_model, graph_config
        >>> dataset = load_dataset("CSL")
        >>> task = infer_task(dataset)
        >>> inputs = GraphInputs(None, 1, None, 0, task.out_channels, node_level=False)
        >>> model = build_graph_model(graph_config("CSL", hidden_channels=16), inputs)
        >>> accuracy, loss = evaluate_graph(model, DataLoader(dataset.graphs[:20]), task, "cpu")
        >>> 0.0 <= accuracy <= 1.0
        True
    """
    model.eval()
    outs, ys = [], []
    for batch in loader:
        batch = batch.to(device)
        out = model(batch)
        outs.append(out.float().cpu())
        ys.append(batch.y.view(out.size(0), -1).cpu())
    out = torch.cat(outs)
    y = torch.cat(ys)
    if keep is not None:
        keep.append((out, y))
    loss = float(task_loss(task, out, y))
    if not bool(torch.isfinite(out).all()):
        log.warning("non-finite predictions in evaluation; the metric is NaN")
        return math.nan, loss
    y_true = y.view(-1, 1) if task.kind == "multiclass" else y.float()
    value = Evaluator(task.metric)({"y_true": y_true, "y_pred": _predictions(task, out)})
    return value[task.metric], loss
