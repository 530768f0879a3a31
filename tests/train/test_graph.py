from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

import graphpair.train._graph as graph_module
from graphpair.data import GraphSet, LoadedDataset, get_spec
from graphpair.train import (
    ConfigError,
    EpochRecord,
    GraphConfig,
    GraphResult,
    GraphTask,
    evaluate_graph,
    graph_config,
    infer_task,
    make_folds,
    select_graph_best,
    task_loss,
    train_graph,
)

# UniqueSignature cut to 40 graphs (32 train / 8 test): a node task without validation.
_SMALL_US = {"num_graphs": 40}


def _tiny_csl(**changes: Any) -> GraphConfig:
    values: dict[str, Any] = {
        "epochs": 1,
        "hidden_channels": 8,
        "num_layers": 1,
        "batch_size": 32,
        "head_layers": 0,
    }
    values.update(changes)
    return graph_config("CSL", "gin", **values)


def _tiny_us(model: str = "sinc", **changes: Any) -> GraphConfig:
    values: dict[str, Any] = {"epochs": 3, "runs": 1, "dataset_options": _SMALL_US}
    values.update(changes)
    return graph_config("UniqueSignature", model, **values)


def _loaded(name: str, graphs: list[Data], **kwargs: Any) -> LoadedDataset:
    return LoadedDataset(get_spec(name), GraphSet(graphs), **kwargs)


def _edge(num_nodes: int, **attrs: Any) -> Data:
    return Data(edge_index=torch.tensor([[0], [1]]), num_nodes=num_nodes, **attrs)


# ------------------------------------------------------------------------------- task


def test_tasks_follow_the_registry_and_the_labels() -> None:
    zinc = _loaded("ZINC", [_edge(2, y=torch.tensor([0.3])), _edge(2, y=torch.tensor([1.5]))])
    assert infer_task(zinc) == GraphTask("graph", "regression", 1, "mae", False)
    csl = _loaded("CSL", [_edge(2, y=torch.tensor([c])) for c in range(10)])
    assert infer_task(csl) == GraphTask("graph", "multiclass", 10, "acc", True)
    mol = _loaded(
        "ogbg-molhiv", [_edge(2, y=torch.tensor([[v]])) for v in (0, 1, 1)]
    )  # OGB's [1, T] labels
    assert infer_task(mol) == GraphTask("graph", "binary", 1, "rocauc", True)
    multi = _loaded(
        "ogbg-molbace",
        [_edge(2, y=torch.tensor([[0.0, math.nan]])), _edge(2, y=torch.tensor([[1.0, 0.0]]))],
    )
    assert infer_task(multi) == GraphTask("graph", "binary", 2, "rocauc", True)
    us = _loaded("UniqueSignature", [_edge(3, y=torch.tensor([0, 1, 0]))])
    assert infer_task(us) == GraphTask("node", "binary", 1, "balanced_acc", True)
    assert infer_task(csl, "balanced_acc").metric == "balanced_acc"


def test_a_metric_that_does_not_fit_the_labels_names_the_metric() -> None:
    zinc = _loaded("ZINC", [_edge(2, y=torch.tensor([0.3]))])
    with pytest.raises(ConfigError, match="needs class labels") as err:
        infer_task(zinc, "acc")
    assert err.value.field == "metric"
    csl = _loaded("CSL", [_edge(2, y=torch.tensor([c])) for c in range(3)])
    with pytest.raises(ConfigError, match="scores binary tasks") as err:
        infer_task(csl, "rocauc")
    assert err.value.field == "metric"


# ------------------------------------------------------------------------------- loss


def test_losses_match_torch_on_the_labelled_entries() -> None:
    out = torch.tensor([[0.5], [-1.0], [2.0]])
    y = torch.tensor([1.0, 0.0, 1.5])
    mae = GraphTask("graph", "regression", 1, "mae", False)
    rmse = GraphTask("graph", "regression", 1, "rmse", False)
    assert float(task_loss(mae, out, y)) == pytest.approx((0.5 + 1.0 + 0.5) / 3)
    assert float(task_loss(rmse, out, y)) == pytest.approx((0.25 + 1.0 + 0.25) / 3)
    binary = GraphTask("graph", "binary", 2, "rocauc", True)
    logits = torch.tensor([[0.3, -2.0], [1.0, 0.5]])
    labels = torch.tensor([[1.0, math.nan], [0.0, 1.0]])
    expected = F.binary_cross_entropy_with_logits(
        torch.tensor([0.3, 1.0, 0.5]), torch.tensor([1.0, 0.0, 1.0])
    )
    assert float(task_loss(binary, logits, labels)) == pytest.approx(float(expected))
    multi = GraphTask("graph", "multiclass", 3, "acc", True)
    scores = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    classes = torch.tensor([2, 0, 1, 2])
    assert torch.equal(task_loss(multi, scores, classes), F.cross_entropy(scores, classes))


def test_class_weights_follow_the_batch_class_sizes() -> None:
    # GRIT's weighted cross-entropy: w_c = (V - V_c) / V, then a weighted mean.
    multi = GraphTask("node", "multiclass", 3, "acc", True)
    scores = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    classes = torch.tensor([0, 0, 0, 1, 2])
    weights = torch.tensor([2 / 5, 4 / 5, 4 / 5])
    expected = F.cross_entropy(scores, classes, weight=weights)
    got = task_loss(multi, scores, classes, class_weights=True)
    torch.testing.assert_close(got, expected)
    binary = GraphTask("node", "binary", 1, "acc", True)
    logits = torch.tensor([[0.2], [-0.3], [1.1]])
    labels = torch.tensor([1, 0, 0])
    each = F.binary_cross_entropy_with_logits(logits.view(-1), labels.float(), reduction="none")
    w = torch.tensor([2 / 3, 1 / 3, 1 / 3])
    torch.testing.assert_close(
        task_loss(binary, logits, labels, class_weights=True), (w * each).sum() / w.sum()
    )
    # One class only: every weight is 0, so the plain mean is used.
    one = torch.tensor([1, 1, 1])
    torch.testing.assert_close(
        task_loss(binary, logits, one, class_weights=True), task_loss(binary, logits, one)
    )


# ------------------------------------------------------------------------------ metric


class _NodeCount(torch.nn.Module):
    """Predicts the number of nodes of each graph (a regression 'model' without weights)."""

    def forward(self, data: Data) -> Tensor:
        return torch.bincount(data.batch, minlength=data.num_graphs).float().view(-1, 1)


class _FirstFeature(torch.nn.Module):
    """Per-node logits: the node's feature x - 0.5 (positive iff x = 1)."""

    def forward(self, data: Data) -> Tensor:
        out: Tensor = data.x - 0.5
        return out


def test_evaluation_matches_a_hand_computation() -> None:
    graphs = [_edge(n, y=torch.tensor([float(y)])) for n, y in ((2, 2.5), (3, 1.0), (5, 5.0))]
    loader = DataLoader(GraphSet(graphs), batch_size=2)
    mae = GraphTask("graph", "regression", 1, "mae", False)
    value, loss = evaluate_graph(_NodeCount(), loader, mae, "cpu")
    assert value == pytest.approx((0.5 + 2.0 + 0.0) / 3)
    assert loss == pytest.approx(value)
    rmse = GraphTask("graph", "regression", 1, "rmse", False)
    value, _ = evaluate_graph(_NodeCount(), loader, rmse, "cpu")
    assert value == pytest.approx(math.sqrt((0.25 + 4.0) / 3))

    # Node level, balanced accuracy: predictions x = [1, 0, 0 | 1, 1], labels [1, 0, 1 | 0, 1].
    nodes = [
        Data(
            x=torch.tensor([[1.0], [0.0], [0.0]]),
            edge_index=torch.tensor([[0], [1]]),
            y=torch.tensor([1, 0, 1]),
        ),
        Data(
            x=torch.tensor([[1.0], [1.0]]),
            edge_index=torch.tensor([[0], [1]]),
            y=torch.tensor([0, 1]),
        ),
    ]
    node_loader = DataLoader(GraphSet(nodes), batch_size=1)
    bacc = GraphTask("node", "binary", 1, "balanced_acc", True)
    value, _ = evaluate_graph(_FirstFeature(), node_loader, bacc, "cpu")
    # recall of class 1: 2 of 3; of class 0: 1 of 2.
    assert value == pytest.approx((2 / 3 + 1 / 2) / 2)
    acc = GraphTask("node", "binary", 1, "acc", True)
    assert evaluate_graph(_FirstFeature(), node_loader, acc, "cpu")[0] == pytest.approx(3 / 5)


def test_non_finite_predictions_give_a_nan_metric() -> None:
    class _Broken(torch.nn.Module):
        def forward(self, data: Data) -> Tensor:
            return torch.full((int(data.num_graphs), 1), math.nan)

    loader = DataLoader(GraphSet([_edge(2, y=torch.tensor([1]))] * 2), batch_size=2)
    task = GraphTask("graph", "binary", 1, "rocauc", True)
    value, _ = evaluate_graph(_Broken(), loader, task, "cpu")
    assert math.isnan(value)


# ----------------------------------------------------------------------------- folds


def test_folds_partition_the_graphs_and_keep_the_classes_balanced() -> None:
    labels = torch.arange(10).repeat_interleave(15)  # CSL: 10 classes of 15
    folds = make_folds(150, 5, labels=labels, seed=3)
    assert len(folds) == 5
    tested = torch.cat([f["test"] for f in folds])
    assert torch.equal(torch.sort(tested).values, torch.arange(150))
    for i, fold in enumerate(folds):
        parts = [fold["train"], fold["valid"], fold["test"]]
        assert [p.numel() for p in parts] == [90, 30, 30]
        assert torch.equal(torch.sort(torch.cat(parts)).values, torch.arange(150))
        assert torch.equal(fold["valid"], folds[(i + 1) % 5]["test"])
        assert torch.equal(torch.bincount(labels[fold["test"]]), torch.full((10,), 3))
    again = make_folds(150, 5, labels=labels, seed=3)
    assert all(torch.equal(a["test"], b["test"]) for a, b in zip(folds, again, strict=True))
    other = make_folds(150, 5, labels=labels, seed=4)
    assert not torch.equal(folds[0]["test"], other[0]["test"])
    with pytest.raises(ValueError, match="k must be >= 3"):
        make_folds(10, 2)


def test_every_fold_is_run_for_every_seed() -> None:
    result = train_graph(_tiny_csl(runs=2))
    assert [(r.fold, r.seed) for r in result.runs] == [(f, s) for f in range(5) for s in (0, 1)]
    assert result.summary().runs == 10
    first_two = train_graph(_tiny_csl(folds=2))
    assert [r.fold for r in first_two.runs] == [0, 1]
    with pytest.raises(ConfigError, match="at most the 5 folds") as err:
        train_graph(_tiny_csl(folds=6))
    assert err.value.field == "folds"


# ------------------------------------------------------------------------- selection


def _records(values: list[tuple[float, float]]) -> list[EpochRecord]:
    return [
        EpochRecord(e, 0.0, {"mae": v, "loss": v}, {"mae": t}, 0.0, 0.0)
        for e, (v, t) in enumerate(values, 1)
    ]


def test_selection_follows_the_metric_direction() -> None:
    recs = _records([(0.5, 0.6), (0.3, 0.4), (0.3, 0.1), (0.4, 0.0)])
    lower = select_graph_best(recs, "mae", higher_is_better=False)
    assert (lower.epoch, lower.valid, lower.test) == (2, 0.3, 0.4)  # ties keep the earlier
    higher = select_graph_best(recs, "mae", higher_is_better=True)
    assert (higher.epoch, higher.test) == (1, 0.6)
    no_valid = [EpochRecord(e, 0.0, {}, {"acc": t}, 0.0, 0.0) for e, t in ((1, 0.2), (2, 0.7))]
    last = select_graph_best(no_valid, "acc", higher_is_better=True)
    assert (last.epoch, last.test) == (2, 0.7)
    assert math.isnan(last.valid)
    with pytest.raises(ValueError, match="at least one evaluated epoch"):
        select_graph_best([], "acc", True)


def test_cosine_schedule_is_grits() -> None:
    cfg = graph_config("ZINC", "grit", epochs=150, warmup_epochs=50)
    factor = graph_module._cosine_factor(cfg)
    assert factor(0) == 1e-6
    assert factor(25) == pytest.approx(0.5)
    assert factor(50) == pytest.approx(1.0)
    assert factor(100) == pytest.approx(0.5)
    assert factor(150) == pytest.approx(0.0, abs=1e-12)


# ------------------------------------------------------------------------- end to end


def _numbers(result: GraphResult) -> list[tuple[Any, ...]]:
    return [
        (run.seed, run.fold, r.epoch, r.loss, dict(r.valid), dict(r.test))
        for run in result.runs
        for r in run.history
    ]


@pytest.mark.parametrize("model", ["gin", "sinc"])
def test_same_seed_gives_identical_numbers(model: str) -> None:
    cfg = _tiny_us(model, dropout=0.3, hidden_channels=8, num_layers=2, norm="batch")
    first, second = train_graph(cfg), train_graph(cfg)
    assert _numbers(first) == _numbers(second)  # bit-identical, not approximately equal
    other = train_graph(cfg.replace(seed=4))
    assert [r.loss for r in other.runs[0].history] != [r.loss for r in first.runs[0].history]


def test_a_node_task_without_validation_reports_the_last_epoch() -> None:
    epochs: list[tuple[int, EpochRecord]] = []
    cfg = _tiny_us("gcn", epochs=3, eval_every=2)
    result = train_graph(cfg, on_epoch=lambda run, rec: epochs.append((run, rec)))
    assert result.task == GraphTask("node", "binary", 1, "balanced_acc", True)
    run = result.runs[0]
    assert [r.epoch for r in run.history] == [2, 3]
    assert [rec.epoch for _, rec in epochs] == [2, 3]
    assert len(run.epoch_seconds) == 3  # every epoch is timed, evaluated or not
    assert run.best.epoch == 3
    assert run.best.test == run.history[-1].test["balanced_acc"]
    assert 0.0 <= run.best.test <= 1.0
    assert math.isnan(result.summary().valid_mean)
    assert run.history[0].valid == {}
    # GCNConv(1, 16) + bias-free Linear(16, 1): 16 + 16 + 16.
    assert result.num_parameters == 48
    record = result.to_records()[0]
    assert record["best"]["valid"] is None
    assert record["config"]["dataset_options"] == _SMALL_US
    assert [h["epoch"] for h in record["history"]] == [2, 3]


def test_the_loss_falls_on_a_learnable_task() -> None:
    # CLUSTER (SBM node classification, 6 classes) at a tiny size: the training loss falls.
    cfg = graph_config(
        "CLUSTER",
        "gin",
        epochs=8,
        runs=1,
        hidden_channels=16,
        num_layers=2,
        lr=1e-2,
        batch_size=8,
        dataset_options={"num_train": 24, "num_valid": 8, "num_test": 8, "cache_processed": False},
    )
    result = train_graph(cfg)
    losses = [r.loss for r in result.runs[0].history]
    assert losses[-1] < losses[0]
    assert result.task.kind == "multiclass"
    assert result.task.metric == "balanced_acc"  # the published SBM metric (accuracy_SBM)
    history = result.runs[0].history
    assert result.runs[0].best.valid == max(r.valid["balanced_acc"] for r in history)


def test_data_dependent_errors_name_the_field() -> None:
    with pytest.raises(ConfigError) as err:
        train_graph(_tiny_us(dataset_options={"num_graphs": 40, "p": 2.0}))
    assert err.value.field == "dataset_options"
    with pytest.raises(ConfigError) as err:
        train_graph(_tiny_csl(metric="mae", class_weights=True))
    assert err.value.field == "class_weights"
    with pytest.raises(ConfigError) as err:
        train_graph(_tiny_csl(metric="rocauc"))
    assert err.value.field == "metric"
    with pytest.raises(TypeError, match="config must be a GraphConfig"):
        train_graph(object())  # type: ignore[arg-type]


def test_a_run_on_real_molecules(shared_data: Path, tmp_path: Path) -> None:
    # ogbg-molesol, OGB's layout: 9 categorical atom columns, 3 bond columns, RMSE.
    cfg = graph_config(
        "ogbg-molesol",
        "gine",
        epochs=1,
        runs=1,
        hidden_channels=8,
        num_layers=1,
        batch_size=128,
        data_root=str(shared_data),
        cache=str(tmp_path),
    )
    result = train_graph(cfg)
    assert result.task == GraphTask("graph", "regression", 1, "rmse", False)
    best = result.runs[0].best
    assert best.valid > 0
    assert best.test > 0


def test_the_models_transform_runs_once_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    # GRIT's RRWP is applied to the dataset once, in memory, and shared by every run.
    calls = []

    def transform_graphs(config: GraphConfig, graphs: GraphSet) -> GraphSet:
        calls.append(len(graphs))
        return graphs

    monkeypatch.setattr(graph_module, "transform_graphs", transform_graphs)
    result = train_graph(_tiny_us("gcn", epochs=1, runs=2))
    assert len(result.runs) == 2
    assert calls == [40]


def test_supcon_auxiliary_term_is_added_to_the_task_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    import graphpair.train._graph as graph_module

    seen: list[tuple[torch.Size, torch.Size, float]] = []
    real = graph_module.sup_con

    def spy(z: torch.Tensor, labels: torch.Tensor, *, temperature: float) -> torch.Tensor:
        seen.append((z.shape, labels.shape, temperature))
        return real(z, labels, temperature=temperature)

    monkeypatch.setattr(graph_module, "sup_con", spy)
    plain = train_graph(_tiny_csl(folds=1))
    mixed = train_graph(_tiny_csl(folds=1, supcon_weight=0.5, supcon_temperature=0.2))
    assert seen  # called on every training batch
    assert all(t == 0.2 and z[0] == labels[0] and len(z) == 2 for z, labels, t in seen)
    # Same seed, same batches: only the auxiliary term changes the training loss.
    assert mixed.runs[0].history[0].loss != plain.runs[0].history[0].loss


def test_supcon_is_refused_where_it_does_not_apply() -> None:
    with pytest.raises(ConfigError) as info:
        graph_config("CSL", "grit", supcon_weight=0.5)
    assert info.value.field == "supcon_weight"
    with pytest.raises(ConfigError) as info:
        graph_config("CSL", "gin", supcon_weight=-1.0)
    assert info.value.field == "supcon_weight"


def test_patience_stops_early_and_needs_a_validation_split() -> None:
    options = {"num_train": 24, "num_valid": 8, "num_test": 8, "cache_processed": False}
    values: dict[str, Any] = {
        "epochs": 30,
        "runs": 1,
        "hidden_channels": 8,
        "num_layers": 1,
        "batch_size": 8,
        "dataset_options": options,
    }
    full = train_graph(graph_config("CLUSTER", "gin", **values))
    stopped = train_graph(graph_config("CLUSTER", "gin", patience=2, **values))
    history = stopped.runs[0].history
    assert len(history) < 30

    def numbers(records: Any) -> list[tuple[Any, ...]]:
        return [(r.epoch, r.loss, r.valid, r.test) for r in records]

    assert numbers(history) == numbers(full.runs[0].history[: len(history)])
    assert history[-1].epoch == stopped.runs[0].best.epoch + 2
    with pytest.raises(ConfigError, match="patience needs a validation split") as info:
        train_graph(_tiny_us(patience=1))
    assert info.value.field == "patience"


def test_csl_evaluates_with_the_batchnorm_statistics_of_the_training_graphs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 21: with CSL's shipped ``precise_bn`` every evaluation sees BatchNorm statistics
    recomputed from the training graphs with the current weights, as
    ``benchmarks/bench_csl.py`` evaluates; the running averages of training (what the runner
    used before, with which GRIT scored 0.82 instead of 1.00 on CSL) fail this test."""
    import copy

    monkeypatch.delenv("GRAPHPAIR_DATA", raising=False)
    config = graph_config(
        "CSL", "grit", epochs=2, folds=1, hidden_channels=16, num_layers=2, walk_length=8
    )
    assert config.precise_bn  # the shipped CSL configuration
    training: list[DataLoader] = []
    real_loader, real_evaluate = graph_module._loader, graph_module.evaluate_graph

    def loader(graphs: GraphSet, index: Tensor, batch_size: int, generator: Any) -> DataLoader:
        if generator is not None:  # the shuffled training loader
            training.append(DataLoader(graphs[index], batch_size=batch_size))
        return real_loader(graphs, index, batch_size, generator)

    checked = []

    def evaluate(model: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
        # Oracle (bench_csl.py's recipe): a copy in training mode, statistics reset to a
        # cumulative average, one pass over the training graphs.
        reference = copy.deepcopy(model)
        norms = [m for m in reference.modules() if isinstance(m, torch.nn.BatchNorm1d)]
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None
        reference.train()
        with torch.no_grad():
            for batch in training[-1]:
                reference(batch)
        used = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
        assert len(used) == len(norms) > 0
        for mine, theirs in zip(used, norms, strict=True):
            torch.testing.assert_close(mine.running_mean, theirs.running_mean)
            torch.testing.assert_close(mine.running_var, theirs.running_var)
        checked.append(True)
        return real_evaluate(model, *args, **kwargs)

    monkeypatch.setattr(graph_module, "_loader", loader)
    monkeypatch.setattr(graph_module, "evaluate_graph", evaluate)
    precise = train_graph(config)
    assert len(checked) == 2 * 2  # valid and test, two epochs
    # The recomputation draws nothing and leaves the training as it was.
    monkeypatch.setattr(graph_module, "evaluate_graph", real_evaluate)
    plain = train_graph(config.replace(precise_bn=False))
    assert [r.loss for r in precise.runs[0].history] == [r.loss for r in plain.runs[0].history]
