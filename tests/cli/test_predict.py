from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import torch

from graphpair import load_model
from graphpair.cli import main
from graphpair.train import link_config, train_link


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("model")
    train_link(link_config("karate", "gae", epochs=2, hidden_channels=16), save_model=root)
    return root / "run-0"


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_predict_writes_the_models_scores(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("0\t5\n33\t1\n\n")
    assert main(["predict", str(folder), "--pairs", str(pairs)]) == 0
    rows = _rows(capsys.readouterr().out)
    expected = load_model(folder).score(torch.tensor([[0, 33], [5, 1]]))
    assert [(r["source"], r["target"]) for r in rows] == [("0", "5"), ("33", "1")]
    assert [float(r["score"]) for r in rows] == pytest.approx(expected.tolist(), rel=1e-5)
    output = tmp_path / "scores.csv"
    assert main(["predict", str(folder), "--pairs", str(pairs), "--output", str(output)]) == 0
    assert _rows(output.read_text()) == rows


def test_recommend_lists_the_top_k_per_node(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["recommend", str(folder), "--nodes", "0,33", "--k", "3"]) == 0
    rows = _rows(capsys.readouterr().out)
    found = load_model(folder).recommend([0, 33], k=3)
    assert [int(r["target"]) for r in rows] == found.target.view(-1).tolist()
    assert [r["rank"] for r in rows] == ["1", "2", "3"] * 2
    assert [r["node"] for r in rows] == ["0"] * 3 + ["33"] * 3


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("source,target\n0,1\n", [], "line 1: node 'source' is not in the graph.*--header"),
        ("0,1\n2,3,4\n", [], "line 2 has 3 columns; expected 2"),
        ("0,1\n0,99\n", [], "line 2: node '?99'? is not in the graph"),
    ],
)
def test_bad_pairs_files_are_named_with_their_line(
    folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    extra: list[str],
    message: str,
) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(content)
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(folder), "--pairs", str(pairs), *extra])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert str(pairs) in err
    assert re.search(message, err), err


def test_a_header_is_skipped_when_asked(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("source,target\n0,1\n")
    assert main(["predict", str(folder), "--pairs", str(pairs), "--header"]) == 0
    assert len(_rows(capsys.readouterr().out)) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["recommend", "{folder}", "--nodes", "0", "--k", "0"], "--k: .* must be >= 1; got 0"),
        (["recommend", "{folder}", "--nodes", "77"], "node '?77'? is not in the graph"),
        (["recommend", "{tmp}/none", "--nodes", "0"], "is not a model folder"),
        (["predict", "{folder}"], "--pairs: a file of"),
    ],
)
def test_bad_arguments_exit_with_one_line(
    folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    argv = [a.format(folder=folder, tmp=tmp_path) for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert "Traceback" not in err


def test_link_saves_one_model_and_score_file_per_predictor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "link",
        "--dataset",
        "karate",
        "--predictor",
        "gae,ncn",
        "--epochs",
        "1",
        "--hidden-channels",
        "8",
        "--quiet",
    ]
    scores, models = tmp_path / "scores.npz", tmp_path / "models"
    assert main([*argv, "--save-model", str(models), "--save-predictions", str(scores)]) == 0
    capsys.readouterr()
    for predictor in ("gae", "ncn"):
        assert load_model(models / predictor / "run-0").config.predictor == predictor
        assert (tmp_path / f"scores.{predictor}.npz").is_file()
    with pytest.raises(SystemExit):
        main([*argv, "--save-predictions", str(tmp_path / "scores.txt")])
    assert "must end in one of" in capsys.readouterr().err


def test_graph_node_and_pretrain_models_are_saved_and_predicted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRAPHPAIR_DATA", raising=False)  # CSL generated, as in the tests
    graph_argv = [
        "graph",
        "--dataset",
        "csl",
        "--model",
        "gin",
        "--epochs",
        "1",
        "--folds",
        "1",
        "--hidden",
        "8",
        "--quiet",
        "--save-model",
        str(tmp_path / "g"),
    ]
    assert main(graph_argv) == 0
    assert (
        main(
            [
                "node",
                "--dataset",
                "default",
                "--epochs",
                "1",
                "--quiet",
                "--save-model",
                str(tmp_path / "n"),
                "--save-predictions",
                str(tmp_path / "n.npz"),
            ]
        )
        == 0
    )
    assert (tmp_path / "n.npz").is_file()
    assert (
        main(
            [
                "pretrain",
                "--dataset",
                "default",
                "--epochs",
                "1",
                "--save-model",
                str(tmp_path / "e"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    folder = tmp_path / "g" / "run-0-fold0"
    assert main(["predict", str(folder), "--dataset", "csl", "--split", "test"]) == 0
    rows = _rows(capsys.readouterr().out)
    expected = load_model(folder).predict("CSL", split="test")
    assert len(rows) == expected.size(0) == 30
    assert [float(rows[0][f"p{c}"]) for c in range(10)] == pytest.approx(
        expected[0].tolist(), rel=1e-5, abs=1e-12
    )
    assert main(["predict", str(tmp_path / "n" / "run-0")]) == 0
    rows = _rows(capsys.readouterr().out)
    assert len(rows) == 2708
    assert sum(float(rows[5][f"p{c}"]) for c in range(7)) == pytest.approx(1.0, rel=1e-5)
    with pytest.raises(SystemExit):
        main(["predict", str(tmp_path / "e" / "run-0")])
    assert "embed()" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["predict", str(folder)])
    assert "--dataset: a graph model" in capsys.readouterr().err
