from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
import torch

from graphpair.cli import main
from graphpair.data import get_spec, load_dataset
from graphpair.train import ConfigError, NodeConfig, node_config, train_node
from tests.conftest import data_root

ROOT = data_root()
HAS_CORA = ROOT is not None and get_spec("cora").files_present(ROOT)
needs_cora = pytest.mark.skipif(not HAS_CORA, reason="Planetoid Cora not in the offline data")


def _tiny(**changes: Any) -> NodeConfig:
    values: dict[str, Any] = {"epochs": 30, "runs": 2, "hidden_channels": 16}
    values["data_root"] = str(ROOT)
    values.update(changes)
    return node_config("cora", **values)


@needs_cora
def test_gcn_on_cora_learns_and_selects_on_validation() -> None:
    result = train_node(_tiny(runs=1, epochs=60))
    run = result.runs[0]
    best = max(r.valid["acc"] for r in run.history)
    first = next(r for r in run.history if r.valid["acc"] == best)
    assert (run.best.epoch, run.best.valid, run.best.test) == (
        first.epoch,
        best,
        first.test["acc"],
    )
    # 7 classes: chance is about 0.14-0.3; a GCN on the public split is far above it.
    assert run.best.test > 0.7
    assert run.history[-1].loss < run.history[0].loss


def test_accuracy_is_the_share_of_masked_nodes_whose_argmax_is_the_label() -> None:
    from graphpair.train._node import _accuracy

    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(50, 4, generator=gen)
    y = torch.randint(0, 4, (50,), generator=gen)
    mask = torch.rand(50, generator=gen) < 0.5
    hits = sum(1 for i in range(50) if mask[i] and int(logits[i].argmax()) == int(y[i]))
    assert _accuracy(logits, y, mask) == pytest.approx(hits / int(mask.sum()))


@needs_cora
def test_the_public_split_is_used() -> None:
    dataset = load_dataset("cora", ROOT)
    data = dataset.data
    assert (int(data.train_mask.sum()), int(data.test_mask.sum())) == (140, 1000)
    from graphpair.train._node import _masks

    train, _, test = _masks(dataset, data, torch.Generator())
    assert torch.equal(train, data.train_mask)
    assert torch.equal(test, data.test_mask)


@needs_cora
def test_same_seed_same_numbers_and_patience() -> None:
    first, second = train_node(_tiny()), train_node(_tiny())
    assert [[(r.epoch, r.loss, r.valid) for r in run.history] for run in first.runs] == [
        [(r.epoch, r.loss, r.valid) for r in run.history] for run in second.runs
    ]
    stopped = train_node(_tiny(runs=1, epochs=200, patience=5))
    history = stopped.runs[0].history
    assert len(history) < 200
    assert history[-1].epoch == stopped.runs[0].best.epoch + 5


def test_bad_configs_name_the_field() -> None:
    with pytest.raises(ConfigError, match="is a set of graphs") as info:
        node_config("zinc")
    assert info.value.field == "dataset"
    with pytest.raises(ConfigError, match="conv must be one of") as info:
        node_config("cora", conv="gat")
    assert info.value.field == "conv"
    with pytest.raises(ConfigError, match="unknown NodeConfig field 'hidden'"):
        node_config("cora", hidden=3)
    with pytest.raises(ConfigError, match="dropout must be a probability"):
        node_config("cora", dropout=1.0)
    with pytest.raises(ConfigError, match="one label per node") as info:
        train_node(node_config("karate", epochs=1, runs=1))
    assert info.value.field == "dataset"


@needs_cora
def test_cli_node_table_and_records(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    out = tmp_path / "node.jsonl"
    argv = ["node", "--dataset", "cora", "--conv", "gcn,sage", "--runs", "1", "--epochs", "3"]
    argv += ["--data-root", str(ROOT)]
    assert main([*argv, "--hidden", "8", "--output", str(out), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "dataset",
        "encoder",
        "metric",
        "valid",
        "test",
        "params",
        "s/epoch",
        "total",
        "s",
    ]
    assert [line.split()[1] for line in lines[2:]] == ["gcn", "sage"]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["model"], r["metric"]) for r in records] == [("gcn", "acc"), ("sage", "acc")]
    assert main(["report", str(out)]) == 0
    assert capsys.readouterr().out.count("| Cora |") == 2
    with pytest.raises(SystemExit):
        main(["node", "--dataset", "ogbg-molesol", "--print-config"])
    assert "--dataset: dataset must be a single graph" in capsys.readouterr().err
