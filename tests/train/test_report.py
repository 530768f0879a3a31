from __future__ import annotations

import csv
import io
import json
import math
import pathlib
import statistics
from typing import Any

import pytest

from graphpair.cli import main
from graphpair.train import (
    ReportError,
    graph_config,
    group_records,
    link_config,
    read_records,
    render_csv,
    render_markdown,
    train_graph,
    train_link,
    write_report,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def link_records() -> list[dict[str, Any]]:
    """Two seeds of two configurations (dropout 0.1 and 0.3) and one seed of GAE on karate."""
    out: list[dict[str, Any]] = []
    for dropout in (0.1, 0.3):
        cfg = link_config("karate", "ncn", epochs=3, runs=2, hidden_channels=8, dropout=dropout)
        out += train_link(cfg).to_records()
    out += train_link(
        link_config("karate", "gae", epochs=2, runs=1, hidden_channels=8)
    ).to_records()
    return json.loads(json.dumps(out))  # exactly what a JSON file gives back


@pytest.fixture(scope="module")
def graph_records() -> list[dict[str, Any]]:
    options = {"num_graphs": 40, "p": 0.3, "num_features": 3, "cache_processed": False}
    cfg = graph_config(
        "UniqueSignature", "gin", epochs=2, runs=2, hidden_channels=8, dataset_options=options
    )
    return json.loads(json.dumps(train_graph(cfg).to_records()))


def _write(path: pathlib.Path, records: list[dict[str, Any]]) -> pathlib.Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_groups_are_configurations_and_values_match_the_runner_summary(
    link_records: list[dict[str, Any]], tmp_path: pathlib.Path
) -> None:
    path = _write(tmp_path / "runs.jsonl", link_records)
    groups = group_records(read_records([path]))
    assert [(g.dataset, g.model, len(g.records)) for g in groups] == [
        ("karate", "ncn", 2),
        ("karate", "ncn", 2),
        ("karate", "gae", 1),
    ]
    # The two NCN groups differ only in dropout: that is their variant; GAE is alone.
    assert groups[0].variant == ("dropout=0.1",)
    assert groups[1].variant == ("dropout=0.3",)
    assert groups[2].variant == ()
    assert len({g.config_id for g in groups}) == 3
    # The runner's own numbers: test ROC-AUC at the selected epoch, x100.
    expected = [100 * r["best"]["rocauc"]["test"] for r in link_records[:2]]
    assert groups[0].values("test") == pytest.approx(expected)
    table = render_markdown(groups, "karate")
    row = next(line for line in table.splitlines() if "dropout=0.1" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    mean, std = statistics.fmean(expected), statistics.pstdev(expected)
    assert cells[:5] == ["karate", "ncn", "dropout=0.1", "rocauc", "2"]
    assert cells[6] == f"{mean:.2f} ± {std:.2f}"
    assert cells[7] == f"{link_records[0]['num_parameters']:,}"
    assert table.startswith("# karate\n")


def test_variant_ignores_fields_older_records_lack(link_records: list[dict[str, Any]]) -> None:
    # A record written before a config field existed lacks it: only fields both sides have
    # can set a group apart, or every new field would show up as a variant.
    old = json.loads(json.dumps(link_records[:2]))
    for record in old:
        del record["config"]["walk_length"]
    groups = group_records(old + link_records[2:4])
    assert [g.variant for g in groups[:2]] == [("dropout=0.1",), ("dropout=0.3",)]


def test_graph_records_and_lower_is_better_metrics(
    graph_records: list[dict[str, Any]],
) -> None:
    groups = group_records(graph_records)
    assert len(groups) == 1
    assert groups[0].kind == "graph"
    assert groups[0].metric == "balanced_acc"
    assert groups[0].values("test") == pytest.approx(
        [100 * r["best"]["test"] for r in graph_records]
    )
    # An error metric (ZINC's MAE) is reported as it is, with four digits.
    errors = [dict(r, metric="mae", higher_is_better=False) for r in graph_records]
    for record, value in zip(errors, (0.5, 0.7), strict=True):
        record["best"] = {"epoch": 1, "valid": value, "test": value + 0.1}
    rows = list(csv.DictReader(io.StringIO(render_csv(group_records(errors)))))
    assert len(rows) == 1
    row = rows[0]
    assert (row["metric"], row["higher_is_better"], row["runs"]) == ("mae", "false", "2")
    values = [float(row[k]) for k in ("valid_mean", "valid_std", "test_mean", "test_std")]
    assert values == pytest.approx([0.6, 0.1, 0.7, 0.1])
    assert int(row["params"]) == graph_records[0]["num_parameters"]
    assert "0.6000 ± 0.1000 | 0.7000 ± 0.1000" in render_markdown(group_records(errors))


def test_bad_files_are_named_with_the_line(
    link_records: list[dict[str, Any]], tmp_path: pathlib.Path
) -> None:
    path = _write(tmp_path / "runs.jsonl", link_records[:2])
    with path.open("a") as handle:
        handle.write(json.dumps(link_records[2])[:40])  # an interrupted, non-atomic writer
    with pytest.raises(ReportError, match=r"runs.jsonl:3: not a JSON record"):
        read_records([path])
    other = tmp_path / "other.jsonl"
    other.write_text('{"hello": 1}\n')
    with pytest.raises(ReportError, match=r"other.jsonl:1: not a graphpair run record"):
        read_records([other])
    with pytest.raises(ReportError, match="does not exist"):
        read_records([tmp_path / "nope.jsonl"])
    # The same file twice would count every run twice.
    good = _write(tmp_path / "good.jsonl", link_records)
    with pytest.raises(ReportError, match="seed 0 is recorded more than once"):
        group_records(read_records([good, good]))


def test_write_report_writes_tables_and_figures(
    link_records: list[dict[str, Any]],
    graph_records: list[dict[str, Any]],
    tmp_path: pathlib.Path,
) -> None:
    groups = group_records([*link_records, *graph_records])
    out = tmp_path / "report"
    written = write_report(groups, out, title="all")
    names = sorted(p.name for p in written)
    assert "report.md" in names
    assert "report.csv" in names
    assert "time_per_epoch.png" in names
    curves = [n for n in names if n.startswith("curves_")]
    assert len(curves) == len(groups) == 4  # every group has per-epoch curves
    for name in names:
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == PNG_MAGIC
    text = (out / "report.md").read_text()
    assert all(f"]({n})" in text for n in curves)
    assert len((out / "report.csv").read_text().splitlines()) == 1 + len(groups)
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temporaries
    assert write_report(groups, tmp_path / "plain", figures=False) == [
        tmp_path / "plain" / "report.md",
        tmp_path / "plain" / "report.csv",
    ]


def test_link_records_carry_the_epoch_curve(link_records: list[dict[str, Any]]) -> None:
    record = link_records[0]
    assert [h["epoch"] for h in record["history"]] == [1, 2, 3]
    best = record["best"]["rocauc"]
    chosen = record["history"][best["epoch"] - 1]
    assert chosen["test"]["rocauc"] == best["test"]
    assert all(math.isfinite(h["loss"]) for h in record["history"])
    assert set(record["versions"]) == {"graphpair", "torch"}


def test_cli_report(
    link_records: list[dict[str, Any]],
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _write(tmp_path / "runs.jsonl", link_records)
    assert main(["report", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# graphpair results\n")
    assert out.count("| karate |") == 3
    assert main(["report", str(path), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("dataset,model,variant,metric,higher_is_better,")
    assert main(["report", str(path), "--output-dir", str(tmp_path / "r"), "--no-figures"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "r" / "report.md").is_file()
    with pytest.raises(SystemExit) as exc:
        main(["report", str(tmp_path / "missing.jsonl")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "results file" in err
    assert "missing.jsonl' does not exist" in err
