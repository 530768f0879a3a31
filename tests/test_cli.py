from __future__ import annotations

import argparse
import csv
import io
import json
import pathlib
import subprocess
import sys

import pytest

from graphpair.cli import main
from graphpair.data import dataset_names, get_spec
from graphpair.train import group_records, read_records, render_csv, render_markdown


def test_demo_runs_and_reports_each_op(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--seed", "1", "--walk-length", "4"]) == 0
    out = capsys.readouterr().out
    assert "dataset 'default' (2708 nodes" in out
    assert "split 'ncn-planetoid' seed 1" in out
    assert "audit passed" in out
    assert "common-neighbour scorer on the test split: hits@100 = 0." in out
    assert "Les Misérables co-occurrence graph (77 nodes, 254 edges)" in out
    assert "target link removal: masked" in out
    assert "common neighbours unchanged: True" in out
    assert "every channel's rows sum to 1: True" in out
    assert "a held-out edge outranks a non-edge" in out


def test_demo_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo", "--seed", "3"])
    first = capsys.readouterr().out
    main(["demo", "--seed", "3"])
    assert capsys.readouterr().out == first


def test_bad_flag_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--walk-length", "0"])
    assert exc.value.code == 2
    assert "--walk-length must be >= 1; got 0" in capsys.readouterr().err


def test_python_dash_m_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "graphpair", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("graphpair ")


# ------------------------------------------------------------------------------------ link


def test_link_print_config_merges_dataset_defaults_and_flags(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["link", "--dataset", "cora", "--predictor", "ncnc", "--print-config"]
    assert main([*argv, "--runs", "3", "--hidden", "64", "--no-tlr", "--chunk-size", "none"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["dataset"] == "Cora"
    assert config["predictor"] == "ncnc"
    assert (config["runs"], config["hidden_channels"], config["tlr"]) == (3, 64, False)
    assert config["chunk_size"] is None
    assert (config["gnnlr"], config["scale"], config["epochs"]) == (0.0043, 4.3, 100)


def test_link_print_config_for_several_predictors(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["link", "--dataset", "karate", "--predictor", "ncn,gae", "--print-config"]
    assert main([*argv, "--metrics", "hits@1,rocauc", "--metric", "hits@1"]) == 0
    configs = json.loads(capsys.readouterr().out)
    assert [c["predictor"] for c in configs] == ["ncn", "gae"]
    assert configs[0]["metrics"] == ["hits@1", "rocauc"]


@pytest.mark.usefixtures("one_thread")
def test_link_runs_and_prints_a_table(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    output = tmp_path / "runs.jsonl"
    argv = ["link", "--dataset", "karate", "--runs", "1", "--epochs", "2", "--hidden", "8"]
    assert main([*argv, "--output", str(output)]) == 0
    out = capsys.readouterr().out
    assert "karate NCN: 1 run(s) x 2 epoch(s)" in out
    assert "run 1/1 seed 0: rocauc valid" in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("dataset"))
    assert lines[header].split() == [
        "dataset",
        "model",
        "metric",
        "valid",
        "test",
        "params",
        "s/epoch",
        "total",
        "s",
    ]
    row = lines[header + 2]
    assert row.startswith("karate")
    assert "NCN (puregcn)" in row
    assert "rocauc" in row
    assert " ± 0.00" in row  # one run: std 0
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(records) == 1
    assert records[0]["seed"] == 0
    assert records[0]["config"]["epochs"] == 2
    # The command's summary table beside the records: what graphpair report makes of them.
    groups = group_records(read_records([output]))
    summary = tmp_path / "runs.summary.md"
    assert summary.read_text() == render_markdown(groups, f"Summary of {output}")
    assert (tmp_path / "runs.summary.csv").read_text() == render_csv(groups)
    assert f"summary: {summary}" in out


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--dropout", "1.5"], "--dropout: dropout must be a probability in [0, 1); got 1.5"),
        (["--predictor", "seal"], "--predictor: predictor must be one of"),
        (["--dataset", "nope"], "--dataset: unknown dataset 'nope'"),
        (["--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
        (["--metrics", "rocauc", "--metric", "hits@20"], "--metric: metric must be one of"),
        (["--batch-size", "500"], "--batch-size: batch_size must be at most the 56"),
        (["--model", "grit-pair", "--heads", "5"], "--heads: heads must divide hidden_chan"),
        (["--model", "grit-pair", "--max-pairs", "40"], "--max-pairs: 'karate': walk_length=3"),
    ],
)
@pytest.mark.usefixtures("one_thread")
def test_link_bad_flag_names_the_flag(
    capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["link", "--dataset", "karate", "--epochs", "1", "--runs", "1", *flags])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_link_default_predictors_and_model_alias(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["link", "--print-config"]) == 0
    configs = json.loads(capsys.readouterr().out)
    # The README's main job: NCNC against GAE on the embedded default graph.
    assert [c["predictor"] for c in configs] == ["ncnc", "gae"]
    assert main(["link", "--dataset", "karate", "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["predictor"] == "ncn"
    assert main(["link", "--dataset", "karate", "--model", "ncn-diff", "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["predictor"] == "ncn-diff"


@pytest.mark.usefixtures("one_thread")
def test_link_trains_on_your_own_edge_list(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    import networkx as nx

    edges = tmp_path / "friends.tsv"
    graph = nx.powerlaw_cluster_graph(120, 3, 0.5, seed=0)
    edges.write_text("".join(f"user{a}\tuser{b}\t2024\n" for a, b in graph.edges()))
    output = tmp_path / "runs.jsonl"
    argv = ["link", "--edge-list", str(edges), "--predictor", "ncnc", "--epochs", "2"]
    # --no-header: the first line is an edge (detection agrees: an id with digits is never a
    # column name); the flag reaches the reader.
    argv.append("--no-header")
    assert main([*argv, "--batch-size", "64", "--hidden", "16", "--output", str(output)]) == 0
    out = capsys.readouterr().out
    assert "friends.tsv NCNC: 1 run(s) x 2 epoch(s)" in out
    row = next(line for line in out.splitlines() if line.startswith("friends.tsv  "))
    assert "NCNC (puregcn)" in row
    # about 70 negatives per stage: too few for Hits@100 (user_graph_metrics), so ROC-AUC
    assert "rocauc" in row
    (record,) = [json.loads(line) for line in output.read_text().splitlines()]
    assert record["dataset"] == "friends.tsv"
    assert record["config"]["edge_list"] == str(edges)
    assert record["config"]["metric"] == "rocauc"
    assert 0 <= record["best"]["rocauc"]["test"] <= 1
    # The file is checked when the config is built, before any training.
    with pytest.raises(SystemExit):
        main(["link", "--edge-list", str(tmp_path / "absent.csv")])
    assert "--edge-list: edge_list must be an existing file" in capsys.readouterr().err


@pytest.mark.usefixtures("one_thread")
def test_link_runs_the_grit_pair_head(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["link", "--dataset", "karate", "--model", "grit-pair", "--runs", "1", "--epochs", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "karate GRIT-pair: 1 run(s) x 1 epoch(s), GRIT/2/64, K=3, device cpu" in out
    assert "GRIT-pair (GRIT)" in out


@pytest.mark.usefixtures("one_thread")
def test_pretrain_runs_prints_and_writes_a_record(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    output = tmp_path / "grace.jsonl"
    argv = ["pretrain", "--dataset", "default", "--epochs", "2", "--hidden-channels", "8"]
    assert main([*argv, "--proj-channels", "8", "--output", str(output)]) == 0
    out = capsys.readouterr().out
    assert "default GRACE: 1 run(s) x 2 epoch(s)" in out
    assert "linear-probe test accuracy" in out
    record = json.loads(output.read_text())
    assert record["config"]["hidden_channels"] == 8
    assert 0.0 <= record["test"][0] <= 1.0


def test_pretrain_print_config_and_bad_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pretrain", "--dataset", "citeseer", "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["temperature"] == 0.9
    with pytest.raises(SystemExit) as exc:
        main(["pretrain", "--drop-edge-1", "1.5"])
    assert exc.value.code == 2
    assert "--drop-edge-1: drop_edge_1 must be a probability" in capsys.readouterr().err


def test_datasets_lists_the_registry_with_local_files(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    # An empty data root: nothing is present, generated and built-in sets need no files.
    assert main(["datasets", "--data-root", str(tmp_path), "--format", "json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(dataset_names())
    assert rows["Cora"]["task"] == "link"
    assert rows["Cora"]["metric"] == "hits@100"
    assert rows["Cora"]["size"] == "2,708 nodes, 10,556 edges"
    assert rows["Cora"]["files"] == "downloadable"
    assert rows["karate"]["files"] == "built-in"
    assert rows["PATTERN"]["files"] == "generated"
    assert rows["PATTERN"]["metric"] == "balanced_acc"  # Benchmarking GNNs' accuracy_SBM
    # Cora's raw files placed under the root: now present.
    spec = get_spec("cora")
    assert spec.folder is not None
    for name in spec.files:
        path = tmp_path / spec.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    assert main(["datasets", "--data-root", str(tmp_path), "--task", "link"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["name", "task", "commands", "metric", "split", "size", "files"]
    cora = next(line for line in lines if line.startswith("Cora "))
    assert cora.split()[-1] == "present"
    assert "ZINC" not in out
    assert f"{sum(get_spec(n).task == 'link' for n in dataset_names())} dataset(s)" in out
    assert rows["Cora"]["commands"] == ["link", "node", "pretrain"]


def test_datasets_markdown_csv_and_bad_flags(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    assert main(["datasets", "--task", "graph", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    header = ["name", "task", "commands", "metric", "split", "size", "files", "description"]
    assert rows[0] == header
    assert {row[2] for row in rows[1:]} == {"graph"}  # the sets of graphs
    assert {row[1] for row in rows[1:]} == {"graph", "node"}  # PATTERN labels nodes
    assert "PATTERN" in {row[0] for row in rows[1:]}
    assert main(["datasets", "--format", "markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "|---|---|---|---|---|---|---|---|"
    assert len(lines) == 2 + len(dataset_names())
    with pytest.raises(SystemExit):
        main(["datasets", "--data-root", str(tmp_path / "nope")])
    assert f"--data-root: must be an existing folder; got '{tmp_path / 'nope'}'" in (
        capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        main(["datasets", "--task", "edge"])
    assert "argument --task: invalid choice: 'edge'" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.usefixtures("one_thread")
def test_link_progress_bar_on_a_terminal_and_quiet(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["link", "--dataset", "karate", "--runs", "2", "--epochs", "3", "--hidden", "8"]
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(argv) == 0
    bars = terminal.getvalue()
    assert "run 1/2" in bars
    assert "run 2/2" in bars
    assert "3/3" in bars
    assert "valid rocauc=" in bars
    assert "run 1/2 seed 0: rocauc valid" in capsys.readouterr().out
    quiet = _Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert main([*argv, "--quiet", "--verbose"]) == 0
    assert quiet.getvalue() == ""
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("dataset")  # only the table
    assert len(lines) == 2 + 3  # header, rule, one row per tracked metric


def test_link_patience_reports_the_early_stop(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["link", "--dataset", "karate", "--runs", "1", "--epochs", "40", "--hidden", "8"]
    assert main([*argv, "--patience", "2"]) == 0
    assert ", stopped early at epoch " in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([*argv, "--patience", "0"])
    assert "--patience: patience must be >= 1" in capsys.readouterr().err


def test_config_file_sits_between_the_dataset_defaults_and_the_flags(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(
        "dataset: karate\npredictor: gae\nepochs: 3\nhidden-channels: 16\n"
        "metrics: [rocauc, hits@1]\n"
    )
    assert main(["link", "--config", str(path), "--epochs", "5", "--print-config"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert (cfg["dataset"], cfg["predictor"]) == ("karate", "gae")  # from the file
    assert cfg["hidden_channels"] == 16  # file over the dataset's 32
    assert cfg["epochs"] == 5  # flag over file
    assert cfg["metrics"] == ["rocauc", "hits@1"]
    assert cfg["batch_size"] == 16  # karate's shipped value, untouched
    # A flag naming the dataset wins over the file's.
    assert (
        main(["link", "--config", str(path), "--dataset", "les-miserables", "--print-config"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["dataset"] == "les-miserables"
    # The graph runner and pretraining read the same kind of file.
    graph_file = tmp_path / "graph.yaml"
    graph_file.write_text("dataset: ZINC\nmodel: gine\nepochs: 2\n")
    assert main(["graph", "--config", str(graph_file), "--print-config"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert (cfg["dataset"], cfg["model"], cfg["epochs"]) == ("ZINC", "gine", 2)
    json_file = tmp_path / "pre.json"
    json_file.write_text('{"epochs": 7}')
    assert main(["pretrain", "--config", str(json_file), "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["epochs"] == 7


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dropout: lots\n", "--config: in '{path}': dropout must be a finite number; got 'lots'"),
        ("dropuot: 0.1\n", "--config: unknown field 'dropuot' in '{path}'; valid fields:"),
        ("- a\n- b\n", "--config: '{path}' must hold a mapping of field: value; got list"),
        ("epochs: [1\n", "--config: cannot read '{path}'"),
    ],
)
def test_bad_config_files_are_named(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SystemExit) as exc:
        main(["link", "--dataset", "karate", "--config", str(path), "--print-config"])
    assert exc.value.code == 2
    assert message.format(path=path) in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["link", "--config", str(tmp_path / "missing.yaml")])
    assert "--config: cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "config", "own"),
    [
        ("link", "LinkConfig", ("dataset", "predictor")),
        ("graph", "GraphConfig", ("dataset", "model")),
        ("node", "NodeConfig", ("dataset", "conv")),
        ("pretrain", "GRACEConfig", ("dataset",)),
    ],
)
def test_every_config_field_is_a_flag_helped_by_its_doc(
    command: str, config: str, own: tuple[str, ...]
) -> None:
    import dataclasses

    import graphpair.train
    from graphpair.cli import build_parser
    from graphpair.train._fields import field_help

    (sub,) = (a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    actions = {a.dest: a for a in sub.choices[command]._actions}
    for spec in dataclasses.fields(getattr(graphpair.train, config)):
        assert "--" + spec.name.replace("_", "-") in actions[spec.name].option_strings
        if spec.name not in own:  # the command's own flag reads a comma-separated list
            assert actions[spec.name].help == field_help(spec)
            assert actions[spec.name].help != spec.name
