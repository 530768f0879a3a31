"""Saved graph models (``train_graph(save_model=)``, :class:`SavedGraphModel`).

CSL is generated here (``$GRAPHPAIR_DATA`` unset: its files, where a data root holds them,
are other graphs), so the runs and the reloaded models read the same graphs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor

import graphpair.train._graph as graph_module
from graphpair.data import load_dataset
from graphpair.data._io import DATA_ENV_VAR
from graphpair.metrics import Evaluator
from graphpair.train import ConfigError, GraphConfig, graph_config, task_loss, train_graph
from graphpair.train._artifact import ModelFileError, read_manifest
from graphpair.train._graph import _folds
from graphpair.train._saved_graph import SavedGraphModel
from graphpair.train._saved_node import SavedNodeModel


@pytest.fixture(autouse=True)
def _generated_csl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)


def _config(model: str, **changes: Any) -> GraphConfig:
    small: dict[str, Any] = {"epochs": 3, "runs": 1, "folds": 1, "hidden_channels": 8}
    if model == "grit":
        small.update(num_layers=1, walk_length=8, fused=False)
    else:
        small.update(num_layers=1)
    return graph_config("CSL", model, **{**small, **changes})


def _recomputed(model: SavedGraphModel, split: str) -> tuple[float, float]:
    """``(loss, accuracy)`` of the loaded model on the CSL ``split`` of its run."""
    logits = model.logits("CSL", split=split)
    y = _labels(model, split)
    loss = float(task_loss(model.task, logits, y))
    accuracy = Evaluator("acc")({"y_true": y.view(-1, 1), "y_pred": logits.argmax(-1, True)})
    return loss, accuracy["acc"]


def _labels(model: SavedGraphModel, split: str) -> Tensor:
    dataset = load_dataset("CSL")
    folds = _folds(model.config, dataset, model.task)
    assert folds is not None
    index = folds[model.manifest["metrics"]["fold"]][split]
    return torch.cat([dataset.graphs[int(i)].y for i in index])


@pytest.mark.parametrize("model", ["gin", "sinc", "grit"])
def test_a_reloaded_model_reproduces_its_runs_test_metric(model: str, tmp_path: Path) -> None:
    # CSL's shipped configuration evaluates with precise BatchNorm statistics: they are part
    # of the saved state.
    result = train_graph(_config(model), save_model=tmp_path)
    run = result.runs[0]
    saved = SavedGraphModel.load(tmp_path / "run-0-fold0")
    assert saved.config == result.config
    metrics = saved.manifest["metrics"]
    assert (metrics["epoch"], metrics["test"], metrics["seed"], metrics["fold"]) == (
        run.best.epoch,
        run.best.test,
        0,
        0,
    )
    chosen = run.history[run.best.epoch - 1]
    for split, values in (("valid", chosen.valid), ("test", chosen.test)):
        # The loss of the selected epoch bit for bit, and its metric.
        assert _recomputed(saved, split) == (values["loss"], values["acc"]), split
    probs = saved.predict("CSL", split="test")
    assert probs.shape == (30, 10)
    assert torch.allclose(probs.sum(1), torch.ones(30))
    assert torch.equal(probs.argmax(1), saved.logits("CSL", split="test").argmax(1))
    assert not saved.model.training
    assert repr(saved).startswith("SavedGraphModel(")


def test_predicting_graphs_equals_predicting_the_split(tmp_path: Path) -> None:
    train_graph(_config("grit", epochs=1), save_model=tmp_path)
    saved = SavedGraphModel.load(tmp_path / "run-0-fold0", device="cpu")
    dataset = load_dataset("CSL")
    folds = _folds(saved.config, dataset, saved.task)
    assert folds is not None
    graphs = [dataset.graphs[int(i)] for i in folds[0]["test"]]
    by_name = saved.predict("CSL", split="test")
    # GRIT's RRWP is computed here from the raw graphs, in other chunks than the run's.
    assert torch.equal(saved.predict(graphs), by_name)
    # Other batches, other matrix shapes, which a CPU's kernels may round differently (bit for
    # bit equal on the AMD machines, not on an Intel Xeon with AVX-512).
    torch.testing.assert_close(saved.predict(graphs, batch_size=7), by_name)
    assert torch.equal(saved.predict(dataset.graphs[folds[0]["test"]]), by_name)


def test_the_selected_epoch_is_saved_not_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation accuracies 0.5, 0.9, 0.9, 0.1: epoch 2 is selected (ties keep the earlier)."""
    real = graph_module.evaluate_graph
    values = iter([0.5, 0.9, 0.9, 0.1])
    states: list[dict[str, Tensor]] = []
    calls = []

    def evaluate(model: Any, loader: Any, task: Any, device: Any, **_: Any) -> tuple[float, float]:
        calls.append(1)
        metric, loss = real(model, loader, task, device)
        if len(calls) % 2:  # valid, then test, every epoch
            states.append({k: v.clone() for k, v in model.state_dict().items()})
            return next(values), loss
        return metric, loss

    monkeypatch.setattr(graph_module, "evaluate_graph", evaluate)
    result = train_graph(_config("gin", epochs=4), save_model=tmp_path)
    assert result.runs[0].best.epoch == 2
    saved = SavedGraphModel.load(tmp_path / "run-0-fold0")
    assert saved.manifest["metrics"]["epoch"] == 2
    weights = saved.model.state_dict()
    assert all(torch.equal(weights[k], states[1][k]) for k in weights)
    assert not all(torch.equal(weights[k], states[3][k]) for k in weights)


class _CrashError(Exception):
    pass


def test_resuming_saves_the_same_model(tmp_path: Path) -> None:
    config = _config("gin", epochs=4, runs=2)
    train_graph(config, save_model=tmp_path / "straight")

    def crash(run: int, record: Any) -> None:
        if run == 1 and record.epoch == 3:
            raise _CrashError

    with pytest.raises(_CrashError):
        train_graph(
            config, checkpoint_dir=tmp_path / "ckpt", save_model=tmp_path / "res", on_epoch=crash
        )
    assert (tmp_path / "res" / "run-0-fold0" / "manifest.json").is_file()
    assert not (tmp_path / "res" / "run-1-fold0").exists()
    train_graph(config, checkpoint_dir=tmp_path / "ckpt", resume=True, save_model=tmp_path / "res")
    for run in ("run-0-fold0", "run-1-fold0"):
        straight = SavedGraphModel.load(tmp_path / "straight" / run)
        resumed = SavedGraphModel.load(tmp_path / "res" / run)
        assert straight.manifest["metrics"] == resumed.manifest["metrics"]
        a, b = straight.model.state_dict(), resumed.model.state_dict()
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), run


def test_resuming_without_the_kept_weights_is_refused(tmp_path: Path) -> None:
    config = _config("gin", epochs=3)

    def crash(run: int, record: Any) -> None:
        if record.epoch == 2:  # after epoch 1 was checkpointed
            raise _CrashError

    with pytest.raises(_CrashError):  # checkpointed without save_model
        train_graph(config, checkpoint_dir=tmp_path / "ckpt", on_epoch=crash)
    with pytest.raises(ConfigError, match="written without save_model") as info:
        train_graph(config, checkpoint_dir=tmp_path / "ckpt", resume=True, save_model=tmp_path)
    assert info.value.field == "save_model"
    # A run that finished without saving its model cannot save it later either.
    train_graph(config, checkpoint_dir=tmp_path / "done")
    with pytest.raises(ConfigError, match="finished in its checkpoint without a saved model"):
        train_graph(config, checkpoint_dir=tmp_path / "done", resume=True, save_model=tmp_path)


def test_a_file_as_save_model_is_refused_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "model.txt"
    target.write_text("not a folder")
    epochs: list[int] = []
    monkeypatch.setattr(graph_module, "_train_epoch", lambda *a, **k: epochs.append(1))
    monkeypatch.setattr(graph_module, "load_dataset", lambda *a, **k: epochs.append(0))
    with pytest.raises(ConfigError, match="save_model must be a folder") as info:
        train_graph(_config("gin"), save_model=target)
    assert info.value.field == "save_model"
    assert epochs == []
    assert target.read_text() == "not a folder"


@pytest.fixture(scope="module")
def saved_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("saved")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(DATA_ENV_VAR, raising=False)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            train_graph(_config("gin", epochs=1), save_model=root)
        finally:
            torch.set_num_threads(threads)
    return root / "run-0-fold0"


@pytest.mark.parametrize("damage", ["truncate", "edit"])
def test_damaged_weights_are_refused(saved_folder: Path, tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "copy"
    folder.mkdir()
    for path in saved_folder.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    weights = folder / "weights.gpw"
    raw = weights.read_bytes()
    if damage == "truncate":
        weights.write_bytes(raw[: len(raw) // 2])
    else:
        weights.write_bytes(raw[:-10] + bytes([raw[-10] ^ 1]) + raw[-9:])
    with pytest.raises(ModelFileError, match=r"weights\.gpw.*SHA-256 differs"):
        SavedGraphModel.load(folder)


def test_the_wrong_kind_and_a_foreign_configuration_are_refused(saved_folder: Path) -> None:
    with pytest.raises(ModelFileError, match="'graph' model; SavedNodeModel loads 'node'"):
        SavedNodeModel.load(saved_folder)
    manifest = read_manifest(saved_folder)
    with pytest.raises(ModelFileError, match="manifest.json.*unknown GraphConfig field"):
        SavedGraphModel.load(saved_folder, {**manifest, "config": {"nonsense": 1}})
    build = {**manifest["build"], "inputs": {"node_features": 1}}
    with pytest.raises(ModelFileError, match="build entry"):
        SavedGraphModel.load(saved_folder, {**manifest, "build": build})


def test_bad_predict_inputs_are_named_before_scoring(
    saved_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = SavedGraphModel.load(saved_folder)
    scored: list[int] = []
    forward = saved.model.forward
    monkeypatch.setattr(saved.model, "forward", lambda b: scored.append(1) or forward(b))
    with pytest.raises(ValueError, match=r"split must be one of \['train', 'valid', 'test'\]"):
        saved.predict("CSL", split="validation")
    with pytest.raises(ValueError, match=r"fold must be an int in \[0, 5\).*got 7"):
        saved.predict("CSL", split="test", fold=7)
    with pytest.raises(ValueError, match="need a dataset name, not list"):
        saved.predict([load_dataset("CSL").graphs[0]], split="test")
    with pytest.raises(ValueError, match="at least one graph"):
        saved.predict([])
    with pytest.raises(ValueError, match="list of torch_geometric Data"):
        saved.predict([torch.zeros(3)])  # type: ignore[list-item]
    graph = load_dataset("CSL").graphs[0]
    graph.x = torch.ones(graph.num_nodes, 3)
    with pytest.raises(ValueError, match="float features of width 1; the graphs have width 3"):
        saved.predict([graph])
    with pytest.raises(ValueError, match="batch_size"):
        saved.predict("CSL", split="test", batch_size=0)
    assert scored == []
    # The default fold is the run's own; another one is chosen by number.
    assert saved.predict("CSL", split="train", fold=1).shape == (90, 10)
    assert scored


def test_a_node_level_model_predicts_every_node_of_the_split(tmp_path: Path) -> None:
    # UniqueSignature cut to 40 graphs: a binary node task whose split has no validation part.
    config = graph_config(
        "UniqueSignature", "sinc", epochs=2, runs=1, dataset_options={"num_graphs": 40}
    )
    result = train_graph(config, save_model=tmp_path)
    saved = SavedGraphModel.load(tmp_path / "run-0")  # a fixed split: no fold in the name
    assert saved.manifest["metrics"]["valid"] is None  # NaN in the run: no validation set
    assert saved.manifest["metrics"]["test"] == result.runs[0].best.test
    dataset = load_dataset("UniqueSignature", num_graphs=40)
    assert dataset.split is not None
    test = dataset.graphs[dataset.split["test"]]
    probs = saved.predict("UniqueSignature", split="test")
    assert probs.shape == (sum(int(g.num_nodes) for g in test), 1)
    assert torch.equal(probs, torch.sigmoid(saved.logits(test)))
    with pytest.raises(ValueError, match="has no 'valid' graphs; its split has"):
        saved.predict("UniqueSignature", split="valid")
    with pytest.raises(ValueError, match="fold must be None"):
        saved.predict("UniqueSignature", split="test", fold=0)


def test_a_fresh_process_reproduces_the_run(tmp_path: Path) -> None:
    result = train_graph(_config("grit"), save_model=tmp_path)
    chosen = result.runs[0].history[result.runs[0].best.epoch - 1]
    script = (
        "import json, sys, torch\n"
        "torch.set_num_threads(1)\n"
        "from graphpair.train._saved_graph import SavedGraphModel\n"
        "from tests.train.test_saved_graph import _recomputed\n"
        "print(json.dumps(_recomputed(SavedGraphModel.load(sys.argv[1]), 'test')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != DATA_ENV_VAR}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "run-0-fold0")],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        env=env,
    )
    assert json.loads(done.stdout) == [chosen.test["loss"], chosen.test["acc"]]
