from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import torch

import graphpair.train._link as link_module
import graphpair.train._saved_link as saved_module
from graphpair import load_model
from graphpair.data import link_split, load_dataset
from graphpair.train import (
    ModelFileError,
    SavedLinkModel,
    link_config,
    train_link,
)
from graphpair.train._link_eval import metric_values

PREDICTORS = ["gae", "ncn", "ncnc", "ncn-diff", "grit-pair"]


def _config(predictor: str, **changes: Any) -> Any:
    small = {"hidden_channels": 16, "epochs": 3, "runs": 1}
    if predictor == "grit-pair":
        small.update(num_layers=1, heads=2, walk_length=3)
    return link_config("karate", predictor, **{**small, **changes})


def _test_metrics(model: SavedLinkModel, seed: int) -> dict[str, float]:
    """The run's test metrics recomputed from the loaded model's scores."""
    split = link_split(load_dataset("karate"), seed)
    pos = model.logits(split.pos("test"))
    neg = model.logits(split.neg("test").reshape(2, -1)).view(split.neg("test").shape[1:])
    return metric_values(model.config.metrics, pos, neg)


@pytest.mark.parametrize("predictor", PREDICTORS)
def test_a_reloaded_model_reproduces_its_runs_test_metrics(predictor: str, tmp_path: Path) -> None:
    result = train_link(_config(predictor), save_model=tmp_path)
    model = load_model(tmp_path / "run-0")
    assert isinstance(model, SavedLinkModel)
    run = result.runs[0]
    manifest = model.manifest
    assert manifest["metrics"]["epoch"] == run.best[model.config.metric].epoch
    recomputed = _test_metrics(model, run.seed)
    for name in model.config.metrics:
        # Every metric of the selected epoch of config.metric, bit for bit.
        chosen = run.history[run.best[model.config.metric].epoch - 1]
        assert recomputed[name] == chosen.test[name], name
    assert manifest["graph"]["num_nodes"] == 34
    assert manifest["config"] == result.config.to_dict()


def test_the_selected_epoch_is_saved_not_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation values 0.5, 0.9, 0.9, 0.1: epoch 2 is selected (ties keep the earlier)."""
    seen: list[dict[str, torch.Tensor]] = []
    values = iter([0.5, 0.9, 0.9, 0.1])

    def evaluate(config: Any, encoder: Any, predictor: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append({k: v.clone() for k, v in predictor.state_dict().items()})
        value = next(values)
        scores = dict.fromkeys(config.metrics, value)
        return scores, scores

    monkeypatch.setattr(link_module, "_evaluate_once", evaluate)
    train_link(_config("gae", epochs=4), save_model=tmp_path)
    model = load_model(tmp_path / "run-0")
    assert model.manifest["metrics"]["epoch"] == 2
    for key, value in model.model.predictor.state_dict().items():
        assert torch.equal(value, seen[1][key]), key
    assert not all(
        torch.equal(value, seen[3][key])
        for key, value in model.model.predictor.state_dict().items()
    )


def test_resuming_saves_the_same_model(tmp_path: Path) -> None:
    config = _config("ncn", epochs=3)
    train_link(config, save_model=tmp_path / "straight")
    calls = []

    def stop(*_: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_link(
            config, checkpoint_dir=tmp_path / "ckpt", save_model=tmp_path / "resumed", on_epoch=stop
        )
    assert not (tmp_path / "resumed" / "run-0").exists()
    train_link(
        config, checkpoint_dir=tmp_path / "ckpt", resume=True, save_model=tmp_path / "resumed"
    )
    straight = load_model(tmp_path / "straight" / "run-0").model.state_dict()
    resumed = load_model(tmp_path / "resumed" / "run-0").model.state_dict()
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)


def test_a_finished_checkpoint_without_the_model_is_named(tmp_path: Path) -> None:
    config = _config("gae", epochs=1)
    train_link(config, checkpoint_dir=tmp_path / "ckpt")
    with pytest.raises(ValueError, match="written without save_model"):
        train_link(config, checkpoint_dir=tmp_path / "ckpt", resume=True, save_model=tmp_path)


def test_a_file_as_save_model_is_refused_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "model.txt"
    target.write_text("not a folder")

    def never(*_: Any, **__: Any) -> float:
        raise AssertionError("an epoch ran")

    monkeypatch.setattr(link_module, "_train_epoch", never)
    with pytest.raises(ValueError, match="save_model must be a folder"):
        train_link(_config("gae"), save_model=target)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("saved")
    train_link(_config("ncn", epochs=2), save_model=folder)
    return folder / "run-0"


def test_recommendations_are_the_brute_force_top_k_of_the_non_edges(saved: Path) -> None:
    model = load_model(saved)
    graph = nx.karate_club_graph()
    adj = model._adj
    train_edges = {tuple(e) for e in adj.to_edge_index().t().tolist()}
    for node in (0, 5, 33):
        rec = model.recommend([node], k=4)
        others = [v for v in range(34) if v != node and (node, v) not in train_edges]
        probs = model.score(torch.tensor([[node] * len(others), others]))
        order = torch.sort(probs, descending=True, stable=True).indices[:4]
        assert rec.target[0].tolist() == [others[i] for i in order.tolist()]
        torch.testing.assert_close(rec.score[0], probs[order])
        assert all((node, v) not in train_edges for v in rec.target[0].tolist())
        assert rec.score[0].tolist() == sorted(rec.score[0].tolist(), reverse=True)
    assert graph.number_of_nodes() == model.num_nodes
    # Several nodes share scoring calls (here all in one, and one node per call): same answer.
    together = model.recommend([0, 5, 33], k=4)
    apart = model.recommend([0, 5, 33], k=4, batch_size=1)
    assert together.target.tolist() == apart.target.tolist()
    for row, node in enumerate((0, 5, 33)):
        assert together.target[row].tolist() == model.recommend([node], k=4).target[0].tolist()
    known = model.recommend([0], k=40, exclude_known=False)
    assert (known.target[0] == -1).sum() == 40 - 33  # every other node, then padding
    assert torch.isnan(known.score[0, 33:]).all()


def test_large_graphs_take_the_nodes_within_two_hops(
    saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(saved_module, "ALL_PAIRS_BELOW", 0)
    model = load_model(saved)
    graph = nx.Graph(model._adj.to_edge_index().t().tolist())
    for node in (0, 9, 26):
        near = nx.single_source_shortest_path_length(graph, node, cutoff=2)
        expected = sorted(v for v, hops in near.items() if hops == 2)
        assert model.candidates(node).tolist() == expected
        with_known = sorted(v for v, hops in near.items() if hops in (1, 2))
        assert model.candidates(node, exclude_known=False).tolist() == with_known


def test_bad_queries_are_named(saved: Path) -> None:
    model = load_model(saved)
    with pytest.raises(ValueError, match="k must be >= 1"):
        model.recommend([0], k=0)
    with pytest.raises(ValueError, match="node 34 is not in the graph"):
        model.recommend([34], k=2)
    with pytest.raises(ValueError, match="node 'alice' is not in the graph"):
        model.node_index(["alice"])
    with pytest.raises(ValueError, match=r"range \[0, 40\]"):
        model.score(torch.tensor([[0], [40]]))
    with pytest.raises(ValueError, match=r"\[2, P\]"):
        model.score(torch.tensor([0, 1, 2]))
    other = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="not the graph the model"):
        model.score(torch.tensor([[0], [1]]), edge_index=other)
    assert model.score(torch.tensor([[0], [1]]), edge_index=other, strict=False).shape == (1,)


def _copy(saved: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    target.mkdir()
    for path in saved.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def test_broken_folders_are_refused_naming_the_file(saved: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not a model folder"):
        load_model(tmp_path / "nowhere")
    folder = _copy(saved, tmp_path)
    weights = folder / "weights.gpw"
    original = weights.read_bytes()
    weights.write_bytes(original[: len(original) // 2])
    with pytest.raises(ModelFileError, match="weights.gpw.*SHA-256 differs"):
        load_model(folder)
    weights.write_bytes(original)
    graph = folder / "graph.gpw"
    graph_bytes = graph.read_bytes()
    graph.write_bytes(graph_bytes[:-10] + b"0123456789")
    with pytest.raises(ModelFileError, match="graph.gpw.*checksum"):
        load_model(folder)
    graph.write_bytes(graph_bytes)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "format": 99}))
    with pytest.raises(ModelFileError, match="format 99.*upgrade graphpair"):
        load_model(folder)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="manifest.json.*not a JSON manifest"):
        load_model(folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(ModelFileError, match="manifest.json.*is missing"):
        load_model(folder)


def test_edge_list_models_recommend_by_name(tmp_path: Path) -> None:
    edges = tmp_path / "friends.csv"
    graph = nx.les_miserables_graph()
    edges.write_text("".join(f"{u},{v}\n" for u, v in graph.edges()))
    config = link_config(
        edge_list=str(edges), predictor="gae", epochs=2, hidden_channels=16, runs=1
    )
    train_link(config, save_model=tmp_path / "model")
    model = load_model(tmp_path / "model" / "run-0")
    assert model.node_ids is not None
    assert set(model.node_ids) == set(graph.nodes())
    rec = model.recommend(["Valjean", "Javert"], k=3)
    names = [[model.node_ids[i] for i in row] for row in rec.target.tolist()]
    assert all(name not in ("Valjean",) for name in names[0])
    assert model.node_index(["Valjean"]).tolist() == [model.node_ids.index("Valjean")]


def test_a_fresh_process_reproduces_the_test_metric(saved: Path) -> None:
    script = (
        "import json, sys, torch\n"
        "torch.set_num_threads(1)\n"
        "from graphpair import load_model\n"
        "from tests.train.test_saved_link import _test_metrics\n"
        "model = load_model(sys.argv[1])\n"
        "print(json.dumps(_test_metrics(model, 0)))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script, str(saved)],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    )
    fresh = json.loads(done.stdout)
    manifest = load_model(saved).manifest
    epoch = manifest["metrics"]["epoch"]
    assert fresh[manifest["metrics"]["metric"]] == manifest["metrics"]["test"]
    assert epoch >= 1


def test_resuming_a_checkpoint_without_the_selected_weights_is_named(tmp_path: Path) -> None:
    config = _config("gae", epochs=3)
    calls = []

    def stop(*_: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_link(config, checkpoint_dir=tmp_path / "ckpt", on_epoch=stop)
    with pytest.raises(ValueError, match="written without save_model"):
        train_link(config, checkpoint_dir=tmp_path / "ckpt", resume=True, save_model=tmp_path)
