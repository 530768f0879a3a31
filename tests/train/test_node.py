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


class _CrashError(Exception):
    pass


def _curve(result: Any) -> list[list[tuple[Any, ...]]]:
    return [[(r.epoch, r.loss, r.valid, r.test) for r in run.history] for run in result.runs]


def test_resume_after_a_crash_ends_with_the_uninterrupted_numbers(tmp_path: pathlib.Path) -> None:
    # The embedded default graph (no data files needed); eval_every=2 so that the epochs
    # between evaluations are checkpointed too.
    cfg = node_config("default", epochs=10, runs=2, hidden_channels=8, eval_every=2)
    full = train_node(cfg)

    def crash(run: int, record: Any) -> None:
        if run == 1 and record.epoch == 6:
            raise _CrashError

    with pytest.raises(_CrashError):  # dies in seed 1 after epoch 6 trained, before it was saved
        train_node(cfg, on_epoch=crash, checkpoint_dir=tmp_path)
    seen: list[tuple[int, int]] = []
    finished: list[int] = []
    resumed = train_node(
        cfg,
        on_epoch=lambda run, record: seen.append((run, record.epoch)),
        on_run=lambda run, result: finished.append(result.seed),
        checkpoint_dir=tmp_path,
        resume=True,
    )
    # Seed 0 comes back from its checkpoint; seed 1 continues after epoch 5 (its last save).
    assert seen == [(1, 6), (1, 8), (1, 10)]
    assert finished == [0, 1]
    assert _curve(resumed) == _curve(full)
    assert [r.best for r in resumed.runs] == [r.best for r in full.runs]
    # A finished configuration resumes without training anything.
    seen.clear()
    again = train_node(
        cfg,
        on_epoch=lambda run, record: seen.append((run, record.epoch)),
        checkpoint_dir=tmp_path,
        resume=True,
    )
    assert seen == []
    assert _curve(again) == _curve(full)
    with pytest.raises(ConfigError, match="already holds 2 checkpoint") as info:
        train_node(cfg, checkpoint_dir=tmp_path)
    assert info.value.field == "resume"
    with pytest.raises(ConfigError, match="resume needs checkpoint_dir") as info:
        train_node(cfg, resume=True)
    assert info.value.field == "resume"


def test_cli_node_summary_and_resume_refusing_a_truncated_checkpoint(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    argv = ["node", "--dataset", "default", "--runs", "1", "--epochs", "2", "--hidden", "8"]
    argv += ["--checkpoint-dir", str(tmp_path), "--quiet", "--output", str(tmp_path / "r.jsonl")]
    assert main(argv) == 0
    assert "| default | gcn |  | acc | 1 |" in (tmp_path / "r.summary.md").read_text()
    table = capsys.readouterr().out.splitlines()
    assert main([*argv, "--resume"]) == 0
    again = capsys.readouterr().out.splitlines()
    # The finished run, read back: the same row but for the command's own wall time.
    assert [line.rsplit(None, 1)[0] for line in again] == [
        line.rsplit(None, 1)[0] for line in table
    ]
    (ckpt,) = tmp_path.glob("*/run-0.ckpt")
    ckpt.write_bytes(ckpt.read_bytes()[:-10])
    with pytest.raises(SystemExit):
        main([*argv, "--resume"])
    err = capsys.readouterr().err
    assert "--resume:" in err
    assert "run-0.ckpt" in err
