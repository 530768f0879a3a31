from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import graphpair.train._link as link_module
from graphpair.train import link_config, train_link
from graphpair.train._link_eval import metric_values
from graphpair.train._predictions import PredictionTable, check_predictions_path, link_rows


def test_link_rows_keep_pairs_labels_and_the_owner_of_per_positive_negatives() -> None:
    pos_pairs = torch.tensor([[0, 1], [2, 3]])
    neg_pairs = torch.tensor([[[0, 0, 0], [1, 1, 1]], [[5, 6, 7], [8, 9, 4]]])  # [2, P, K]
    rows = link_rows(
        3, 7, "test", pos_pairs, neg_pairs, torch.tensor([1.0, 2.0]), torch.arange(6.0).view(2, 3)
    )
    assert rows["label"].tolist() == [1, 1, 0, 0, 0, 0, 0, 0]
    assert rows["positive"].tolist() == [-1, -1, 0, 0, 0, 1, 1, 1]
    assert rows["source"].tolist() == [0, 1, 0, 0, 0, 1, 1, 1]
    assert rows["target"].tolist() == [2, 3, 5, 6, 7, 8, 9, 4]
    assert rows["score"].tolist() == [1.0, 2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert set(rows["stage"].tolist()) == {1}
    assert set(rows["seed"].tolist()) == {3}
    shared = link_rows(
        0, 1, "valid", pos_pairs, torch.tensor([[4], [5]]), torch.zeros(2), torch.zeros(1)
    )
    assert shared["positive"].tolist() == [-1, -1, -1]
    assert set(shared["stage"].tolist()) == {0}


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_saved_scores_give_the_runs_test_metrics(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"scores{suffix}"
    config = link_config("karate", "gae", epochs=3, runs=2, hidden_channels=16)
    result = train_link(config, save_predictions=path)
    if suffix == ".npz":
        columns = {k: torch.from_numpy(v) for k, v in np.load(path).items()}
    else:
        with path.open() as handle:
            rows = list(csv.DictReader(handle))
        columns = {k: torch.tensor([float(r[k]) for r in rows]) for k in rows[0]}
    for run in result.runs:
        chosen = run.best[config.metric]
        mine = (columns["seed"] == run.seed) & (columns["stage"] == 1)
        assert set(columns["epoch"][mine].tolist()) == {chosen.epoch}
        pos = columns["score"][mine & (columns["label"] == 1)].float()
        neg = columns["score"][mine & (columns["label"] == 0)].float()
        value = metric_values([config.metric], pos, neg)[config.metric]
        assert value == pytest.approx(chosen.test, abs=1e-12 if suffix == ".npz" else 1e-6)


@pytest.mark.parametrize(
    ("name", "message"), [("folder", "must be a file"), ("scores.txt", "must end in one of")]
)
def test_bad_paths_are_refused_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, message: str
) -> None:
    (tmp_path / "folder").mkdir()

    def never(*_: Any, **__: Any) -> float:
        raise AssertionError("an epoch ran")

    monkeypatch.setattr(link_module, "_train_epoch", never)
    with pytest.raises(ValueError, match=message):
        train_link(link_config("karate", "gae"), save_predictions=tmp_path / name)
    with pytest.raises(ValueError, match=message):
        check_predictions_path(tmp_path / name)


def test_a_finished_checkpoint_without_scores_is_named(tmp_path: Path) -> None:
    config = link_config("karate", "gae", epochs=1, hidden_channels=16)
    train_link(config, checkpoint_dir=tmp_path / "ckpt")
    with pytest.raises(ValueError, match="written without save_predictions"):
        train_link(
            config,
            checkpoint_dir=tmp_path / "ckpt",
            resume=True,
            save_predictions=tmp_path / "p.npz",
        )


def test_table_columns_must_agree(tmp_path: Path) -> None:
    table = PredictionTable()
    table.append({"a": torch.tensor([1, 2]), "b": torch.tensor([0.5, 0.25])})
    with pytest.raises(ValueError, match="one length"):
        table.append({"a": torch.tensor([1]), "b": torch.tensor([0.5, 0.25])})
    with pytest.raises(ValueError, match="differ"):
        table.append({"a": torch.tensor([1])})
    table.write(tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == "a,b\n1,0.5\n2,0.25\n"


def test_graph_outputs_give_the_runs_test_accuracy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graphpair.train import graph_config, train_graph

    monkeypatch.delenv("GRAPHPAIR_DATA", raising=False)
    path = tmp_path / "outputs.npz"
    config = graph_config("CSL", "gin", epochs=3, folds=2, hidden_channels=8)
    result = train_graph(config, save_predictions=path)
    columns = {k: torch.from_numpy(v) for k, v in np.load(path).items()}
    assert {f"pred_{c}" for c in range(10)} <= set(columns)
    for run in result.runs:
        mine = (columns["fold"] == run.fold) & (columns["stage"] == 1)
        assert set(columns["epoch"][mine].tolist()) == {run.best.epoch}
        logits = torch.stack([columns[f"pred_{c}"][mine] for c in range(10)], dim=1)
        accuracy = (logits.argmax(1) == columns["true_0"][mine]).double().mean().item()
        assert accuracy == pytest.approx(run.best.test, abs=1e-12)
        assert columns["item"][mine].numel() == 30  # CSL's test graphs of the fold


def test_node_outputs_give_the_runs_test_accuracy(tmp_path: Path) -> None:
    from graphpair.train import node_config, train_node

    path = tmp_path / "nodes.csv"
    result = train_node(node_config("default", epochs=4, runs=2), save_predictions=path)
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    classes = sum(1 for key in rows[0] if key.startswith("pred_"))
    for run in result.runs:
        mine = [r for r in rows if int(r["seed"]) == run.seed and r["stage"] == "1"]
        assert {int(r["epoch"]) for r in mine} == {run.best.epoch}
        right = sum(
            max(range(classes), key=lambda c, r=r: float(r[f"pred_{c}"])) == int(r["true_0"])
            for r in mine
        )
        assert right / len(mine) == pytest.approx(run.best.test, abs=1e-6)  # float32 mean


def test_resuming_an_unfinished_run_without_its_kept_scores_is_named(tmp_path: Path) -> None:
    """The selected epoch may lie before the interruption: its scores must be in the
    checkpoint, or the resumed run could not write them."""
    config = link_config("karate", "gae", epochs=3, hidden_channels=16)
    calls = []

    def stop(*_: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_link(config, checkpoint_dir=tmp_path / "ckpt", on_epoch=stop)
    with pytest.raises(ValueError, match="written without save_predictions"):
        train_link(
            config,
            checkpoint_dir=tmp_path / "ckpt",
            resume=True,
            save_predictions=tmp_path / "p.npz",
        )
