"""One scale in every table graphpair prints (issue 25): scores x100 (percent, as the OGB
leaderboards), errors such as MAE as recorded. Each table of the link, graph, node and
pretrain commands, the summary beside ``--output`` and ``graphpair report`` is read back and
compared with the raw values of the JSON records the same command wrote."""

from __future__ import annotations

import csv
import io
import json
import pathlib
import re
import statistics
from typing import Any

import pytest

from graphpair.cli import main
from graphpair.train import GRACEResult, graph_config, group_records, render_csv, train_graph
from graphpair.train._results import format_mean_std, table_scale
from tests.conftest import data_root

pytestmark = pytest.mark.usefixtures("one_thread")


def _table_rows(out: str) -> list[list[str]]:
    """The rows under the dashed line of a CLI table (columns two or more spaces apart)."""
    lines = out.splitlines()
    rule = next(i for i, line in enumerate(lines) if re.fullmatch(r"[- ]+", line) and "--" in line)
    width = len(re.split(r"\s{2,}", lines[rule - 1].strip()))
    rows = []
    for line in lines[rule + 1 :]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) != width:  # the table ends (a blank line, the summary's path)
            break
        rows.append(cells)
    return rows


def _mean_std(cell: str) -> tuple[float, float]:
    mean, std = cell.split("±")
    return float(mean), float(std)


def _raw(records: list[dict[str, Any]], split: str, metric: str | None = None) -> list[float]:
    """The records' own values of ``split`` at the selected epoch (fractions)."""
    if metric is None:
        return [float(r["best"][split]) for r in records]
    return [float(r["best"][metric][split]) for r in records]


def _expect(cell: str, raw: list[float], scale: float) -> None:
    """``cell`` is mean ± population std of ``raw`` x ``scale``, to its printed digits."""
    mean, std = _mean_std(cell)
    digits = len(cell.split("±")[0].strip().split(".")[1])
    tolerance = 0.51 * 10.0**-digits
    assert mean == pytest.approx(scale * statistics.fmean(raw), abs=tolerance), cell
    assert std == pytest.approx(scale * statistics.pstdev(raw), abs=tolerance), cell


def _records(path: pathlib.Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _summary_row(path: pathlib.Path) -> dict[str, str]:
    """The first row of the CSV summary written beside ``--output``."""
    summary = path.with_name(path.stem + ".summary.csv")
    return next(csv.DictReader(summary.read_text().splitlines()))


def test_link_table_is_percent(tmp_path: pathlib.Path, capsys: Any) -> None:
    output = tmp_path / "link.jsonl"
    argv = ["link", "--dataset", "karate", "--predictor", "gae", "--epochs", "2", "--runs", "2"]
    assert main([*argv, "--hidden-channels", "8", "--output", str(output)]) == 0
    rows = _table_rows(capsys.readouterr().out)
    records = _records(output)
    assert {row[2] for row in rows} == set(records[0]["best"])  # one row per metric
    for row in rows:
        _expect(row[3], _raw(records, "valid", row[2]), 100.0)
        _expect(row[4], _raw(records, "test", row[2]), 100.0)
    summary = _summary_row(output)
    assert float(summary["test_mean"]) == pytest.approx(
        100 * statistics.fmean(_raw(records, "test", records[0]["metric"]))
    )


def test_graph_table_is_percent_for_scores(tmp_path: pathlib.Path, capsys: Any) -> None:
    root = data_root()
    if root is None:
        pytest.skip("offline datasets not found")
    output = tmp_path / "graph.jsonl"
    argv = ["graph", "--dataset", "csl", "--model", "gin", "--folds", "2", "--epochs", "1"]
    argv += ["--hidden-channels", "8", "--data-root", str(root), "--output", str(output)]
    assert main(argv) == 0
    (row,) = _table_rows(capsys.readouterr().out)
    records = _records(output)
    assert records[0]["higher_is_better"] is True
    assert row[:2] == ["CSL", "GIN"]
    _expect(row[4], _raw(records, "valid"), 100.0)
    _expect(row[5], _raw(records, "test"), 100.0)
    summary = _summary_row(output)
    assert float(summary["valid_mean"]) == pytest.approx(
        100 * statistics.fmean(_raw(records, "valid"))
    )


def test_graph_summary_is_percent_and_errors_stay_as_recorded() -> None:
    # ZINC-like regression (MAE, lower is better): the summary and the report both print
    # the error as recorded, never x100.
    options = {"num_graphs": 40, "p": 0.3, "num_features": 3, "cache_processed": False}
    cfg = graph_config(
        "UniqueSignature", "gin", epochs=1, runs=2, hidden_channels=8, dataset_options=options
    )
    result = train_graph(cfg)
    records = json.loads(json.dumps(result.to_records()))
    summary = result.summary()
    scale = table_scale(result.task.higher_is_better)
    assert scale == 100.0  # balanced accuracy: a score
    assert summary.test_mean == pytest.approx(scale * statistics.fmean(_raw(records, "test")))
    assert summary.test_std == pytest.approx(scale * statistics.pstdev(_raw(records, "test")))
    errors = [dict(r, metric="mae", higher_is_better=False) for r in records]
    row = next(csv.DictReader(io.StringIO(render_csv(group_records(errors)))))
    assert float(row["test_mean"]) == pytest.approx(statistics.fmean(_raw(records, "test")))


def test_node_table_is_percent(tmp_path: pathlib.Path, capsys: Any) -> None:
    output = tmp_path / "node.jsonl"
    argv = ["node", "--dataset", "default", "--epochs", "1", "--runs", "2"]
    assert main([*argv, "--hidden-channels", "8", "--output", str(output)]) == 0
    (row,) = _table_rows(capsys.readouterr().out)
    records = _records(output)
    _expect(row[3], _raw(records, "valid"), 100.0)
    _expect(row[4], _raw(records, "test"), 100.0)


def test_pretrain_summary_and_report_are_percent(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    def fake(config: Any, save_model: Any = None) -> GRACEResult:
        return GRACEResult(config, (0.70, 0.74), (0.69, 0.75), (5.1, 5.0), 0.25, 321)

    monkeypatch.setattr("graphpair.cli._pretrain.train_grace", fake)
    output = tmp_path / "grace.jsonl"
    assert main(["pretrain", "--dataset", "default", "--runs", "2", "--output", str(output)]) == 0
    out = capsys.readouterr().out
    (line,) = _records(output)
    cell = re.search(r"test accuracy (\S+ ± \S+)", out)
    assert cell is not None
    _expect(cell.group(1), line["test"], 100.0)
    assert main(["report", str(output), "--format", "csv"]) == 0
    row = next(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert float(row["test_mean"]) == pytest.approx(100 * statistics.fmean(line["test"]))


def test_report_markdown_and_csv_share_the_scale(tmp_path: pathlib.Path, capsys: Any) -> None:
    record = {
        "dataset": "d",
        "model": "m",
        "seed": 0,
        "metric": "acc",
        "best": {"epoch": 1, "valid": 0.5, "test": 0.25},
        "config": {},
        "num_parameters": 1,
        "seconds_per_epoch": 0.1,
    }
    error = dict(record, metric="mae", higher_is_better=False, model="e")
    path = tmp_path / "runs.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(error) + "\n")
    assert main(["report", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    score = next(line for line in lines if "| acc |" in line)
    mae = next(line for line in lines if "mae (lower is better)" in line)
    assert "| 50.00 ± 0.00 | 25.00 ± 0.00 |" in score
    assert "| 0.5000 ± 0.0000 | 0.2500 ± 0.0000 |" in mae
    assert main(["report", str(path), "--format", "csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [float(r["test_mean"]) for r in rows] == [25.0, 0.25]


def test_format_mean_std() -> None:
    assert format_mean_std(81.2, 0.53, True) == "81.20 ± 0.53"
    assert format_mean_std(0.07123, 0.0031, False) == "0.0712 ± 0.0031"
    assert format_mean_std(float("nan"), 0.0, True) == "n/a"
