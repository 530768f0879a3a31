from __future__ import annotations

import json
import pathlib

import pytest

from graphpair.cli import main
from graphpair.train import group_records, read_records, render_csv, render_markdown

# Tiny inputs and training runs: one torch thread (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("one_thread")

_TINY = ["--epochs", "1", "--hidden", "8", "--layers", "1", "--head-layers", "0"]


def test_print_config_merges_dataset_defaults_and_flags(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["graph", "--dataset", "zinc", "--model", "grit", "--print-config"]
    flags = ["--epochs", "5", "--hidden", "32", "--no-full-pairs", "--grad-clip", "none"]
    assert main([*argv, *flags, "--dataset-options", "seed=3,cache_processed=false"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert (config["dataset"], config["model"]) == ("ZINC", "grit")
    assert (config["epochs"], config["hidden_channels"], config["full_pairs"]) == (5, 32, False)
    assert config["grad_clip"] is None
    assert config["dataset_options"] == {"cache_processed": False, "seed": 3}
    # Untouched values come from GRIT's ZINC recipe.
    assert (config["walk_length"], config["num_layers"], config["scheduler"]) == (21, 10, "cosine")


def test_print_config_for_several_models_and_the_shipped_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["graph", "--dataset", "zinc", "--model", "gine,sinc", "--print-config"]) == 0
    configs = json.loads(capsys.readouterr().out)
    assert [c["model"] for c in configs] == ["gine", "sinc"]
    assert [c["hidden_channels"] for c in configs] == [64, 70]
    assert main(["graph", "--dataset", "UniqueSignature", "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "sinc"


def test_graph_runs_folds_and_prints_a_table(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    output = tmp_path / "runs.jsonl"
    argv = ["graph", "--dataset", "csl", "--model", "gin", "--folds", "2", *_TINY]
    assert main([*argv, "--output", str(output), "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "CSL GIN: 2 fold(s) x 1 seed(s) = 2 run(s) x 1 epoch(s)" in out
    assert "run 1 epoch 1: loss " in out
    assert "run 2/2 seed 0 fold 1: valid " in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("dataset"))
    assert lines[header].split() == [
        "dataset",
        "model",
        "metric",
        "runs",
        "valid",
        "test",
        "params",
        "s/epoch",
        "total",
        "s",
    ]
    row = lines[header + 2].split()
    assert row[:5] == ["CSL", "GIN", "acc", "↑", "2"]
    assert row[6] == "±"
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(r["fold"], r["seed"]) for r in records] == [(0, 0), (1, 0)]
    assert all(r["config"]["epochs"] == 1 and len(r["history"]) == 1 for r in records)
    groups = group_records(read_records([output]))
    assert len(groups) == 1
    assert (tmp_path / "runs.summary.md").read_text() == render_markdown(
        groups, f"Summary of {output}"
    )
    assert (tmp_path / "runs.summary.csv").read_text() == render_csv(groups)


def test_a_split_without_validation_shows_a_dash(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["graph", "--dataset", "UniqueSignature", "--model", "gcn", "--runs", "1"]
    assert main([*argv, *_TINY, "--dataset-options", "num_graphs=20"]) == 0
    out = capsys.readouterr().out
    row = out.splitlines()[-1]
    assert row.startswith("UniqueSignature  GCN")
    assert "balanced_acc ↑" in row
    assert " — " in row


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--dropout", "1.5"], "--dropout: dropout must be a probability in [0, 1); got 1.5"),
        (["--model", "gat"], "--model: model must be one of"),
        (["--dataset", "cora"], "--dataset: dataset must be a graph or node dataset"),
        (["--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
        (["--residual", "yes"], "--residual: residual must be one of"),
        (["--dataset-options", "p"], "argument --dataset-options: expected KEY=VALUE pairs"),
        (["--folds", "9"], "--folds: folds must be at most the 5 folds of 'CSL'; got 9"),
        (["--metric", "rocauc"], "--metric: metric 'rocauc' scores binary tasks"),
        (["--model", "grit", "--heads", "3"], "--heads: heads must divide hidden_channels=8"),
    ],
)
def test_bad_flag_names_the_flag(
    capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["graph", "--dataset", "csl", *_TINY, *flags])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_link_flags_still_come_from_link_config(capsys: pytest.CaptureFixture[str]) -> None:
    # The flag generator is shared by both subcommands.
    argv = ["link", "--dataset", "karate", "--print-config", "--hidden", "16", "--no-tlr"]
    assert main(argv) == 0
    config = json.loads(capsys.readouterr().out)
    assert (config["hidden_channels"], config["tlr"]) == (16, False)
