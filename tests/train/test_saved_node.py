"""Saved node classifiers and GRACE encoders (``train_node`` / ``train_grace`` with
``save_model=``; :class:`SavedNodeModel`, :class:`SavedEncoder`), on the embedded default
graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor

import graphpair.train._grace as grace_module
import graphpair.train._node as node_module
from graphpair.data import load_dataset
from graphpair.train import (
    ConfigError,
    grace_config,
    linear_probe,
    node_config,
    train_grace,
    train_node,
)
from graphpair.train._artifact import ModelFileError
from graphpair.train._grace import _probe_split
from graphpair.train._node import _masks
from graphpair.train._saved_node import SavedEncoder, SavedNodeModel

# lr 0.05 for 30 epochs: validation accuracy peaks at epoch 14 and falls after it, so the
# selected epoch is not the last.
NODE = {"epochs": 30, "runs": 1, "hidden_channels": 8, "lr": 0.05}


def _accuracy(logits: Tensor, y: Tensor, mask: Tensor) -> float:
    return float((logits[mask].argmax(-1) == y[mask]).float().mean())


@pytest.fixture(scope="module")
def node_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    root = tmp_path_factory.mktemp("node")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = train_node(node_config("default", **NODE), save_model=root)
    finally:
        torch.set_num_threads(threads)
    return result, root / "run-0"


def test_a_reloaded_node_model_reproduces_its_runs_accuracies(node_run: tuple[Any, Path]) -> None:
    result, folder = node_run
    run = result.runs[0]
    assert run.best.epoch < run.history[-1].epoch  # the selected epoch is not the last
    saved = SavedNodeModel.load(folder)
    assert saved.config == result.config
    metrics = saved.manifest["metrics"]
    assert (metrics["epoch"], metrics["valid"], metrics["test"]) == tuple(
        getattr(run.best, k) for k in ("epoch", "valid", "test")
    )
    dataset = load_dataset("default")
    y = dataset.data.y
    _, valid, test = _masks(dataset, dataset.data, torch.Generator().manual_seed(run.seed))
    logits = saved.logits()
    assert _accuracy(logits, y, valid) == run.best.valid  # bit for bit
    assert _accuracy(logits, y, test) == run.best.test
    assert _accuracy(logits, y, valid) != run.history[-1].valid["acc"]
    probs = saved.predict()
    assert probs.shape == (saved.num_nodes, saved.num_classes) == (2708, 7)
    assert torch.allclose(probs.sum(1), torch.ones(2708))
    assert not saved.model.training
    assert "num_classes=7" in repr(saved)


def test_the_stored_graph_and_other_graphs(node_run: tuple[Any, Path]) -> None:
    saved = SavedNodeModel.load(node_run[1])
    data = load_dataset("default").data
    expected = saved.predict()
    order = torch.randperm(data.edge_index.size(1), generator=torch.Generator().manual_seed(0))
    assert torch.equal(saved.predict(data.x, data.edge_index), expected)
    # The same graph, its edges reordered: the fingerprint matches (the sums' order differs).
    assert torch.allclose(saved.predict(data.x, data.edge_index[:, order]), expected, atol=1e-6)
    assert torch.equal(saved.predict(x=data.x.double()), expected)
    fewer = data.edge_index[:, 10:]  # some edges lose one of their two directions
    with pytest.raises(ValueError, match=r"\(directed_edges differ.*strict=False"):
        saved.predict(edge_index=fewer)
    row, col = data.edge_index
    gone = (row == row[0]) & (col == col[0]) | (row == col[0]) & (col == row[0])
    with pytest.raises(ValueError, match=r"\(num_edges, edges, directed_edges differ"):
        saved.predict(edge_index=data.edge_index[:, ~gone])  # one edge less
    with pytest.raises(ValueError, match="features differ"):
        saved.predict(x=data.x + 1)
    assert saved.predict(edge_index=fewer, strict=False).shape == expected.shape
    three = torch.rand(3, data.x.size(1))
    assert saved.predict(three, torch.tensor([[0, 1], [1, 2]]), strict=False).shape == (3, 7)
    with pytest.raises(ValueError, match=r"x must be node features \[N, 1433\]"):
        saved.predict(x=torch.ones(5, 4))
    with pytest.raises(ValueError, match="edge_index"):
        saved.predict(three, torch.tensor([[0, 1], [1, 3]]), strict=False)


class _CrashError(Exception):
    pass


def test_resuming_saves_the_same_node_model(tmp_path: Path) -> None:
    config = node_config("default", **{**NODE, "epochs": 12, "runs": 2, "eval_every": 2})
    train_node(config, save_model=tmp_path / "straight")

    def crash(run: int, record: Any) -> None:
        if run == 1 and record.epoch == 8:
            raise _CrashError

    with pytest.raises(_CrashError):
        train_node(
            config, on_epoch=crash, checkpoint_dir=tmp_path / "ckpt", save_model=tmp_path / "res"
        )
    train_node(config, checkpoint_dir=tmp_path / "ckpt", resume=True, save_model=tmp_path / "res")
    for run in ("run-0", "run-1"):
        straight = SavedNodeModel.load(tmp_path / "straight" / run)
        resumed = SavedNodeModel.load(tmp_path / "res" / run)
        assert straight.manifest["metrics"] == resumed.manifest["metrics"]
        a, b = straight.model.state_dict(), resumed.model.state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), run
    with pytest.raises(_CrashError):  # checkpointed without save_model, then asked for it
        train_node(config, on_epoch=crash, checkpoint_dir=tmp_path / "bare")
    with pytest.raises(ConfigError, match="run seed 0 finished in its checkpoint") as info:
        train_node(config, checkpoint_dir=tmp_path / "bare", resume=True, save_model=tmp_path)
    assert info.value.field == "save_model"


@pytest.mark.parametrize("runner", ["node", "grace"])
def test_a_file_as_save_model_is_refused_before_training(
    runner: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "model.txt"
    target.write_text("not a folder")
    calls: list[str] = []
    module: Any = node_module if runner == "node" else grace_module
    builder = "build_node_model" if runner == "node" else "build_grace_encoder"
    monkeypatch.setattr(module, "load_dataset", lambda *a, **k: calls.append("load"))
    monkeypatch.setattr(module, builder, lambda *a, **k: calls.append("build"))
    run: Any = (
        (lambda: train_node(node_config("default", **NODE), save_model=target))
        if runner == "node"
        else (lambda: train_grace(grace_config("default", epochs=1), save_model=target))
    )
    with pytest.raises(ConfigError, match="save_model must be a folder") as info:
        run()
    assert info.value.field == "save_model"
    assert calls == []  # nothing loaded or built, so no epoch ran
    assert target.read_text() == "not a folder"


def test_a_reloaded_encoder_gives_the_representations_its_probe_scored(tmp_path: Path) -> None:
    config = grace_config("default", epochs=2, hidden_channels=8, proj_channels=8)
    result = train_grace(config, save_model=tmp_path)
    saved = SavedEncoder.load(tmp_path / "run-0")
    metrics = saved.manifest["metrics"]
    assert (metrics["valid"], metrics["test"], metrics["loss"]) == (
        result.valid[0],
        result.test[0],
        result.final_loss[0],
    )
    data = load_dataset("default").data
    z = saved.embed()
    assert z.shape == (2708, 8)
    probe = linear_probe(z, data.y, *_probe_split(data, torch.Generator().manual_seed(0)))
    assert probe == (result.valid[0], result.test[0])  # bit for bit
    # Raw features of the same graph: the model normalises them as the run did.
    assert torch.equal(saved.embed(data.x, data.edge_index), z)
    with pytest.raises(ValueError, match="features differ"):
        saved.embed(x=data.x * 2)
    assert "out_channels=8" in repr(saved)


def _copy(folder: Path, to: Path) -> Path:
    to.mkdir()
    for path in folder.iterdir():
        (to / path.name).write_bytes(path.read_bytes())
    return to


@pytest.mark.parametrize("damage", ["truncate", "edit"])
def test_damaged_files_are_refused(node_run: tuple[Any, Path], tmp_path: Path, damage: str) -> None:
    for name, match in (("weights.gpw", "SHA-256 differs"), ("graph.gpw", "checksum")):
        folder = _copy(node_run[1], tmp_path / name)
        path = folder / name
        raw = path.read_bytes()
        cut = raw[: len(raw) - 100]
        path.write_bytes(cut if damage == "truncate" else raw[:-5] + b"xxxxx")
        with pytest.raises(ModelFileError, match=rf"{name}.*{match}"):
            SavedNodeModel.load(folder)


def test_the_wrong_kind_is_refused(node_run: tuple[Any, Path]) -> None:
    with pytest.raises(ModelFileError, match="'node' model; SavedEncoder loads 'encoder'"):
        SavedEncoder.load(node_run[1])
