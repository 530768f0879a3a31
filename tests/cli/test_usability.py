"""The command line as a new user meets it (issue 25): no run wasted on an output path that
cannot be written, one-line data errors, help for every flag, the command's own usage on
errors, the dataset listing per command, closed pipes, and light imports."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest

import graphpair.train
from graphpair.cli import COMMANDS, build_parser, main
from graphpair.data import dataset_names, get_spec, load_dataset
from graphpair.train import GraphConfig, LinkConfig, NodeConfig
from graphpair.train._artifact import check_output_file, check_output_folder
from graphpair.train._fields import Choice, ConfigError, default_text, field_help

ROOT = pathlib.Path(__file__).resolve().parents[2]


class _Spy:
    """Stands in for a runner's train function: records that it was called."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        raise AssertionError("training started")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


# ------------------------------------------------------------------- outputs before work


def _bad_outputs(tmp: pathlib.Path) -> list[tuple[list[str], str]]:
    """Flags whose path cannot be written, and the start of the error each gets."""
    folder = tmp / "a-folder"
    folder.mkdir()
    file = tmp / "a-file"
    file.write_text("x")
    summary_taken = tmp / "runs.summary.md"
    summary_taken.mkdir()
    return [
        (["--output", str(folder)], "--output: output must be a file, not a folder"),
        (["--output", str(file / "runs.jsonl")], "--output: output cannot be created at"),
        (
            ["--output", str(tmp / "runs.jsonl")],
            "--output: the summary beside output must be a file, not a folder",
        ),
        (["--checkpoint-dir", str(file)], "--checkpoint-dir: checkpoint_dir must be a folder"),
        (["--save-model", str(file)], "--save-model: save_model must be a folder"),
        (["--save-model", str(file / "deeper")], "--save-model: save_model cannot be created"),
        (
            ["--save-predictions", str(folder)],
            "--save-predictions: save_predictions must be a file, not a folder",
        ),
    ]


@pytest.mark.parametrize(
    ("command", "runner", "flags"),
    [
        ("link", "graphpair.cli._link.train_link", ["--dataset", "karate"]),
        ("graph", "graphpair.cli._graph.train_graph", ["--dataset", "CSL"]),
        ("node", "graphpair.cli._node.train_node", ["--dataset", "default"]),
    ],
)
def test_unwritable_outputs_are_refused_before_any_epoch(
    command: str,
    runner: str,
    flags: list[str],
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spy = _Spy()
    monkeypatch.setattr(runner, spy)
    for bad, message in _bad_outputs(tmp_path):
        with pytest.raises(SystemExit) as exc:
            main([command, *flags, "--epochs", "1", *bad])
        err = capsys.readouterr().err
        assert exc.value.code == 2, bad
        assert f"graphpair {command}: error: {message}" in err, (bad, err)
        assert err.startswith(f"usage: graphpair {command}")  # the command's usage
        assert bad[1] in err or "runs.summary.md" in err  # the path is named
    assert spy.calls == 0  # no data loaded, no epoch trained


def test_pretrain_output_is_checked_before_training(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spy = _Spy()
    monkeypatch.setattr("graphpair.cli._pretrain.train_grace", spy)
    with pytest.raises(SystemExit):
        main(["pretrain", "--output", str(tmp_path)])
    assert "--output: output must be a file, not a folder" in capsys.readouterr().err
    assert spy.calls == 0


def test_good_outputs_pass_and_parents_are_made_by_the_writers(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "new" / "deeper"
    argv = ["link", "--dataset", "karate", "--runs", "1", "--epochs", "1", "--hidden", "8"]
    assert main([*argv, "--quiet", "--output", str(deep / "runs.jsonl")]) == 0
    assert (deep / "runs.jsonl").is_file()
    assert (deep / "runs.summary.md").is_file()
    capsys.readouterr()


def test_output_checks_name_the_field_and_the_path(tmp_path: pathlib.Path) -> None:
    file = tmp_path / "f.txt"
    file.write_text("")
    with pytest.raises(ConfigError) as err:
        check_output_folder("save_model", file)
    assert err.value.field == "save_model"
    assert str(file) in str(err.value)
    with pytest.raises(ConfigError, match="is a file"):
        check_output_file("output", file / "sub" / "runs.jsonl")
    check_output_file("output", tmp_path / "a" / "b" / "runs.jsonl")  # creatable: fine
    check_output_folder("save_model", tmp_path / "a" / "b")
    assert not (tmp_path / "a").exists()  # checking creates nothing
    check_output_file("output", None)
    check_output_folder("save_model", None)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere"
)
def test_a_read_only_folder_is_refused(tmp_path: pathlib.Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match="not writable"):
            check_output_file("output", locked / "runs.jsonl")
        with pytest.raises(ConfigError, match="must be writable"):
            check_output_folder("checkpoint_dir", locked)
    finally:
        locked.chmod(0o700)


# --------------------------------------------------------------------- one-line data errors


def test_missing_dataset_is_one_line(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["node", "--dataset", "pubmed", "--data-root", str(tmp_path), "--no-download"]
    assert main([*argv, "--epochs", "1"]) == 1
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("graphpair node: error: dataset 'PubMed': missing")
    assert "\n" not in err
    assert "Traceback" not in captured.err + captured.out


def test_malformed_edge_list_is_one_line_with_the_file(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "edges.csv"
    bad.write_text("0,1\n1,2\n3\n")
    assert main(["link", "--edge-list", str(bad), "--epochs", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("graphpair link: error: ")
    assert str(bad) in err
    assert "\n" not in err


def test_binary_edge_list_is_one_line(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "edges.csv"
    binary.write_bytes(b"a,b\n\xff\xfe\x00,c\n")
    assert main(["link", "--edge-list", str(binary), "--epochs", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("graphpair link: error: ")
    assert "\n" not in err


def test_traceback_on_request(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHPAIR_TRACEBACK", "1")
    argv = ["node", "--dataset", "pubmed", "--data-root", str(tmp_path), "--no-download"]
    with pytest.raises(FileNotFoundError, match="missing"):
        main(argv)


def test_a_bug_is_not_dressed_as_a_data_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("an internal bug")

    monkeypatch.setattr("graphpair.cli._link.train_link", broken)
    with pytest.raises(ValueError, match="an internal bug"):
        main(["link", "--dataset", "karate", "--epochs", "1", "--quiet"])


# ---------------------------------------------------------------------------------- help


def test_every_flag_of_every_command_has_help() -> None:
    for name, parser in _subparsers(build_parser()).items():
        for action in parser._actions:
            if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
                continue
            flags = [s.lstrip("-") for s in action.option_strings] or [action.dest]
            text = (action.help or "").strip()
            spelled = {f.replace("-", " ") for f in flags} | {action.dest.replace("_", " ")}
            assert len(text.split()) >= 2, (name, action.dest, text)
            assert text not in (*flags, *spelled, action.dest), (name, action.dest)
            assert "%" not in text.replace("%%", "") or "%(" in text, (name, action.dest)


@pytest.mark.parametrize(
    ("command", "config"),
    [
        ("link", "LinkConfig"),
        ("graph", "GraphConfig"),
        ("node", "NodeConfig"),
        ("pretrain", "GRACEConfig"),
    ],
)
def test_config_flags_say_what_they_do_their_choices_and_default(command: str, config: str) -> None:
    actions = {a.dest: a for a in _subparsers(build_parser([command]))[command]._actions}
    for spec in dataclasses.fields(getattr(graphpair.train, config)):
        action = actions[spec.name]
        if action.help != field_help(spec):  # the command's own flag (a list of names)
            assert "default:" in (action.help or ""), spec.name
            continue
        help_text = " ".join(action.help.split())
        assert help_text.endswith(f"(default: {default_text(spec)})"), spec.name
        check = spec.metadata["check"]
        if isinstance(check, Choice):
            assert all(choice in help_text for choice in check.choices), spec.name
            assert action.metavar in ("NAME", "NAME|none")
        formatted = _subparsers(build_parser([command]))[command].format_help()
        assert f"--{spec.name.replace('_', '-')}" in formatted


def test_help_renders_and_the_header_flag_reads_well() -> None:
    parser = _subparsers(build_parser(["link"]))["link"]
    text = " ".join(parser.format_help().split())
    assert (
        "--header, --no-header whether the first line of the edge_list file is a header: "
        "True (--header) skips it, False (--no-header) reads it as an edge, None detects it"
    ) in text
    assert "(default: auto)" in text  # --device


def test_top_level_help_is_the_same_light_or_full() -> None:
    assert build_parser([]).format_help() == build_parser().format_help()
    assert list(_subparsers(build_parser())) == list(COMMANDS)


def test_command_errors_print_the_commands_usage(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in [
        (["link", "--bogus"], "unrecognized arguments: --bogus"),
        (["link", "--epochs", "0"], "--epochs: epochs must be >= 1; got 0"),
        (["graph", "--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
        (["datasets", "--data-root", "/nonexistent-h4"], "--data-root: must be an existing"),
    ]:
        with pytest.raises(SystemExit) as exc:
            main(argv)
        err = capsys.readouterr().err
        assert exc.value.code == 2
        assert err.startswith(f"usage: graphpair {argv[0]} ")
        assert f"graphpair {argv[0]}: error: {message}" in err


# ------------------------------------------------------------------------------ datasets


def test_datasets_per_command_match_what_the_commands_accept(
    capsys: pytest.CaptureFixture[str],
) -> None:
    listed = {}
    for task in ("link", "graph", "node"):
        assert main(["datasets", "--task", task, "--format", "json"]) == 0
        listed[task] = {row["name"] for row in json.loads(capsys.readouterr().out)}

    def accepts(config: type[Any], name: str) -> bool:
        try:
            config.resolve("dataset", name)
        except ConfigError:
            return False
        return True

    names = dataset_names()
    assert listed["link"] == {n for n in names if accepts(LinkConfig, n)}
    assert listed["graph"] == {n for n in names if accepts(GraphConfig, n)}
    assert listed["node"] <= {n for n in names if accepts(NodeConfig, n)}
    assert {"Cora", "CiteSeer", "PubMed", "ogbn-arxiv"} <= listed["node"]
    assert not {"PATTERN", "CLUSTER", "karate"} & listed["node"]


@pytest.mark.parametrize("name", ["default", "karate", "les-miserables"])
def test_node_listing_follows_the_loaded_graph(name: str) -> None:
    from graphpair.cli._datasets import commands_for

    graph = load_dataset(name).graphs[0]
    spec = get_spec(name)
    has_labels = graph.x is not None and getattr(graph, "y", None) is not None
    assert ("node" in commands_for(spec)) == has_labels
    if has_labels:
        assert spec.stats["features"] == graph.x.size(1)
        assert spec.stats["classes"] == int(graph.y.max()) + 1


@pytest.mark.data
def test_planetoid_stats_match_the_files() -> None:
    from graphpair.data import data_root

    if data_root() is None and not (ROOT.parent / "shared" / "data").is_dir():
        pytest.skip("no data root")
    root = data_root() or ROOT.parent / "shared" / "data"
    for name in ("Cora", "CiteSeer"):
        graph = load_dataset(name, root, download=False).graphs[0]
        stats = get_spec(name).stats
        assert stats["features"] == graph.x.size(1)
        assert stats["classes"] == int(graph.y.max()) + 1


def test_closed_pipe_ends_quietly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "graphpair", "datasets", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 1
    assert "BrokenPipeError" not in err, err
    assert "Traceback" not in err, err


# --------------------------------------------------------------------------- light imports


def _modules_after(argv: list[str]) -> set[str]:
    code = (
        "import sys, json\n"
        "from graphpair.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def test_help_imports_neither_torch_nor_the_commands() -> None:
    loaded = _modules_after(["--help"])
    assert "torch" not in loaded
    assert not {m for m in loaded if m.startswith("graphpair.cli._")}


def test_datasets_imports_no_training_code() -> None:
    loaded = _modules_after(["datasets", "--format", "csv"])
    assert "graphpair.data" in loaded
    assert not {
        m for m in loaded if m.split(".")[:2] in (["graphpair", "train"], ["graphpair", "nn"])
    }


# --------------------------------------------------------------------------- run headers


def test_verbose_numbers_runs_from_one_like_the_run_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["link", "--dataset", "karate", "--runs", "2", "--epochs", "1", "--hidden", "8"]
    assert main([*argv, "--verbose"]) == 0
    lines = capsys.readouterr().out.splitlines()
    epochs = [line.split()[1] for line in lines if " epoch 1: loss" in line]
    runs = [line.split()[1].split("/")[0] for line in lines if " seed " in line]
    assert epochs == runs == ["1", "2"]
    assert "device cpu" in lines[0] or "device cuda" in lines[0]


def test_graph_header_counts_the_folds_the_runs_go_through(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["graph", "--dataset", "CSL", "--folds", "2", "--runs", "2", "--epochs", "1"]
    assert main([*argv, "--hidden", "8", "--layers", "1", "--batch-size", "64"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "CSL GIN: 2 fold(s) x 2 seed(s) = 4 run(s) x 1 epoch(s)" in lines[0]
    done = [line for line in lines if line.startswith("  run ")]
    assert [line.split()[1] for line in done] == ["1/4", "2/4", "3/4", "4/4"]  # as announced


def test_graph_header_without_folds() -> None:
    from graphpair.cli._graph import _fold_count

    assert _fold_count(GraphConfig(dataset="ZINC")) is None
    assert _fold_count(GraphConfig(dataset="MUTAG")) == 10
    assert _fold_count(GraphConfig(dataset="CSL", folds=3)) == 3


@pytest.mark.cuda
def test_auto_device_is_the_gpu_and_the_header_names_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert LinkConfig().device == "cuda"
    argv = ["link", "--dataset", "karate", "--runs", "1", "--epochs", "1", "--hidden", "8"]
    assert main(argv) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert "device cuda (" in header  # with the GPU's name


def test_header_flags_reach_the_edge_list_reader(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import networkx as nx

    import graphpair.data
    import graphpair.train._link

    edges = tmp_path / "edges.csv"
    graph = nx.powerlaw_cluster_graph(60, 3, 0.4, seed=0)
    names = {n: f"n{n}" for n in graph}
    names[0] = "source"  # the first line reads as column names, and 'source' is a node
    lines = [f"{names[a]},{names[b]}\n" for a, b in graph.edges()]
    edges.write_text("source,target\n" + "".join(lines))
    argv = ["link", "--edge-list", str(edges), "--predictor", "gae", "--epochs", "1"]
    assert main([*argv, "--quiet"]) == 1  # ambiguous: one line that asks for the flag
    assert capsys.readouterr().err.count("\n") == 1
    seen: list[tuple[str, object]] = []
    real = graphpair.data.load_edge_list

    def spy(where: str) -> Any:
        def load(*args: Any, **kwargs: Any) -> Any:
            seen.append((where, kwargs.get("header")))
            return real(*args, **kwargs)

        return load

    monkeypatch.setattr(graphpair.data, "load_edge_list", spy("config"))
    monkeypatch.setattr(graphpair.train._link, "load_edge_list", spy("runner"))
    for flag, header in (("--header", True), ("--no-header", False)):
        seen.clear()
        assert main([*argv, "--quiet", "--hidden", "8", flag]) == 0
        assert seen == [("config", header), ("runner", header)]
    capsys.readouterr()


@pytest.mark.parametrize("command", ["predict", "recommend"])
def test_apply_commands_check_their_output_before_loading(
    command: str,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spy = _Spy()
    monkeypatch.setattr("graphpair.cli._predict.load_model", spy)
    monkeypatch.setattr("graphpair.cli._predict._load_link", spy)
    extra = ["--nodes", "a"] if command == "recommend" else ["--pairs", "p.csv"]
    with pytest.raises(SystemExit):
        main([command, str(tmp_path), *extra, "--output", str(tmp_path)])
    err = capsys.readouterr().err
    assert f"graphpair {command}: error: output must be a file, not a folder" in err
    assert spy.calls == 0
