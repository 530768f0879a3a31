"""``graphpair report`` options of issue 25: --metric, pretrain records, runs recorded twice
(--dedupe), and what the figures show (short runs, the selected epoch, folds, time axis)."""

from __future__ import annotations

import json
import pathlib
import statistics
from typing import Any

import pytest

from graphpair.cli import main
from graphpair.train import (
    GRACEResult,
    ReportError,
    grace_config,
    graph_config,
    group_records,
    link_config,
    read_records,
    render_markdown,
    train_graph,
    train_link,
)
from graphpair.train._report_figures import SHORT_RUN_EPOCHS, curve_figure, pyplot, time_figure
from tests.conftest import data_root

pytestmark = pytest.mark.usefixtures("one_thread")

#: karate's evaluation has 15 shared negatives: Hits@K needs K well below that.
METRICS = ("hits@1", "hits@3", "rocauc")


@pytest.fixture(scope="module")
def link_records() -> list[dict[str, Any]]:
    """Two seeds of NCN on karate tracking Hits@1, Hits@3 and ROC-AUC (headline: ROC-AUC)."""
    cfg = link_config(
        "karate", "ncn", epochs=3, runs=2, hidden_channels=8, metrics=METRICS, metric="rocauc"
    )
    return json.loads(json.dumps(train_link(cfg).to_records()))


@pytest.fixture(scope="module")
def fold_records() -> list[dict[str, Any]]:
    """Three cross-validation folds of GIN on CSL, all with seed 0."""
    root = data_root()
    if root is None:
        pytest.skip("offline datasets not found")
    cfg = graph_config("CSL", "gin", epochs=2, runs=1, folds=3, hidden_channels=8, data_root=root)
    return json.loads(json.dumps(train_graph(cfg).to_records()))


def _write(path: pathlib.Path, records: list[dict[str, Any]]) -> pathlib.Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _row(markdown: str, metric: str) -> list[str]:
    line = next(line for line in markdown.splitlines() if f"| {metric} |" in line)
    return [cell.strip() for cell in line.strip("|").split("|")]


def _cell(values: list[float]) -> str:
    return f"{statistics.fmean(values):.2f} ± {statistics.pstdev(values):.2f}"


# ------------------------------------------------------------------------------ --metric


@pytest.mark.parametrize(
    ("asked", "name"),
    [("hits@1", "hits@1"), ("Hits@3", "hits@3"), ("HITS@-1", "hits@1"), ("RocAuc", "rocauc")],
)
def test_metric_reports_any_recorded_metric_at_its_own_selected_epoch(
    link_records: list[dict[str, Any]], tmp_path: pathlib.Path, asked: str, name: str, capsys: Any
) -> None:
    path = _write(tmp_path / "runs.jsonl", link_records)
    (group,) = group_records(read_records([path]), metric=asked)
    assert group.metric == name
    raw = [r["best"][name] for r in link_records]  # the oracle: the records' own numbers
    assert group.values("test") == pytest.approx([100 * b["test"] for b in raw])
    assert group.values("valid") == pytest.approx([100 * b["valid"] for b in raw])
    assert main(["report", str(path), "--metric", asked]) == 0
    cells = _row(capsys.readouterr().out, name)
    assert cells[5:7] == [
        _cell([100 * b["valid"] for b in raw]),
        _cell([100 * b["test"] for b in raw]),
    ]


def test_default_is_the_headline_metric(link_records: list[dict[str, Any]]) -> None:
    (group,) = group_records(link_records)
    assert group.metric == "rocauc"
    assert group.values("test") == pytest.approx(
        [100 * r["best"]["rocauc"]["test"] for r in link_records]
    )


def test_unknown_metric_names_the_record_and_the_choices(
    link_records: list[dict[str, Any]], tmp_path: pathlib.Path, capsys: Any
) -> None:
    path = _write(tmp_path / "runs.jsonl", link_records)
    with pytest.raises(ReportError) as err:
        group_records(read_records([path]), metric="hits@10")
    message = str(err.value)
    assert "'hits@10'" in message
    assert "runs.jsonl:1" in message
    assert "['hits@1', 'hits@3', 'rocauc']" in message
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(path), "--metric", "auc"])
    assert exit_.value.code == 2
    assert "metric 'auc' is not recorded" in capsys.readouterr().err


def test_a_metric_only_some_records_hold_is_an_error(
    link_records: list[dict[str, Any]], fold_records: list[dict[str, Any]]
) -> None:
    with pytest.raises(ReportError, match=r"CSL gin.*metrics every record holds: \[\]"):
        group_records([*link_records, *fold_records], metric="hits@3")


# ------------------------------------------------------------------------ pretrain records


def _fake_grace(config: Any, save_model: Any = None) -> GRACEResult:
    return GRACEResult(config, (0.70, 0.74, 0.71), (0.69, 0.75, 0.72), (5.1, 5.0, 4.9), 0.25, 321)


def test_pretrain_records_are_read_one_run_each(
    link_records: list[dict[str, Any]],
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    # What `graphpair pretrain --output` writes, by the command itself (training faked).
    monkeypatch.setattr("graphpair.cli._pretrain.train_grace", _fake_grace)
    pretrain = tmp_path / "grace.jsonl"
    args = ["pretrain", "--dataset", "default", "--runs", "3", "--seed", "4"]
    assert main([*args, "--epochs", "7", "--output", str(pretrain)]) == 0
    capsys.readouterr()
    records = read_records([pretrain])
    assert [(r["kind"], r["model"], r["seed"], r["metric"]) for r in records] == [
        ("pretrain", "GRACE", seed, "probe_acc") for seed in (4, 5, 6)
    ]
    assert [r["best"] for r in records] == [
        {"epoch": 7, "valid": v, "test": t}
        for v, t in zip((0.70, 0.74, 0.71), (0.69, 0.75, 0.72), strict=True)
    ]
    links = _write(tmp_path / "links.jsonl", link_records)
    groups = group_records(read_records([links, pretrain]))
    assert [(g.kind, g.model, g.metric) for g in groups] == [
        ("link", "ncn", "rocauc"),
        ("pretrain", "GRACE", "probe_acc"),
    ]
    assert groups[1].values("test") == pytest.approx([69.0, 75.0, 72.0])
    assert main(["report", str(pretrain), str(links)]) == 0
    cells = _row(capsys.readouterr().out, "probe_acc")
    assert cells[:2] == ["default", "GRACE"]
    assert cells[4:8] == ["3", _cell([70.0, 74.0, 71.0]), _cell([69.0, 75.0, 72.0]), "321"]
    assert cells[8] == "0.250"


def test_pretrain_output_appends_to_a_shared_results_file(
    link_records: list[dict[str, Any]],
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    # A results file shared with link runs keeps them (pretrain used to replace the file),
    # and the same configuration run again is not appended twice (the results store's rule).
    monkeypatch.setattr("graphpair.cli._pretrain.train_grace", _fake_grace)
    shared = _write(tmp_path / "runs.jsonl", link_records)
    before = shared.read_text()
    args = ["pretrain", "--dataset", "default", "--runs", "3", "--output", str(shared)]
    assert main([*args, "--epochs", "7"]) == 0
    assert main([*args, "--epochs", "7"]) == 0
    assert main([*args, "--epochs", "8"]) == 0
    capsys.readouterr()
    text = shared.read_text()
    assert text.startswith(before)
    added = [json.loads(line) for line in text[len(before) :].splitlines()]
    assert [line["config"]["epochs"] for line in added] == [7, 8]
    records = read_records([shared])
    assert len(records) == len(link_records) + 6
    pretrain = [(r["config"]["epochs"], r["seed"]) for r in records if r.get("kind") == "pretrain"]
    assert pretrain == [(epochs, seed) for epochs in (7, 8) for seed in (0, 1, 2)]


def test_a_broken_pretrain_line_is_named(tmp_path: pathlib.Path) -> None:
    config = grace_config("default", epochs=2).to_dict()
    bad = {"config": config, "valid": [0.5], "test": [0.5, 0.6], "final_loss": [1.0]}
    path = tmp_path / "grace.jsonl"
    path.write_text(json.dumps({**bad, "seconds_per_epoch": 1.0, "num_parameters": 3}) + "\n")
    with pytest.raises(ReportError, match=r"grace.jsonl:1: not a graphpair pretrain record"):
        read_records([path])
    path.write_text(json.dumps(bad) + "\n")
    with pytest.raises(ReportError, match=r"grace.jsonl:1: .*'seconds_per_epoch'"):
        read_records([path])


# ------------------------------------------------------------------------------ duplicates


def test_a_run_in_two_files_names_both_files_and_lines(
    link_records: list[dict[str, Any]], tmp_path: pathlib.Path, capsys: Any
) -> None:
    first = _write(tmp_path / "first.jsonl", link_records)
    rerun = json.loads(json.dumps(link_records[1]))  # seed 1 again, with other numbers
    rerun["best"]["rocauc"]["test"] = 0.123
    second = _write(tmp_path / "second.jsonl", [rerun])
    records = read_records([first, second])
    with pytest.raises(ReportError) as err:
        group_records(records)
    message = str(err.value)
    assert "seed 1" in message
    assert f"at {first}:2 and at {second}:1" in message
    assert "--dedupe" in message
    # --dedupe: the later file wins, seed 0 is kept.
    (group,) = group_records(records, dedupe=True)
    assert [r["seed"] for r in group.records] == [0, 1]
    assert group.values("test") == pytest.approx(
        [100 * link_records[0]["best"]["rocauc"]["test"], 12.3]
    )
    assert main(["report", str(first), str(second), "--dedupe"]) == 0
    captured = capsys.readouterr()
    assert "dropped 1 record(s)" in captured.err
    assert _row(captured.out, "rocauc")[4] == "2"
    with pytest.raises(SystemExit):
        main(["report", str(first), str(second)])
    assert f"{first}:2 and at {second}:1" in capsys.readouterr().err


def test_a_run_twice_in_one_file_names_both_lines(
    link_records: list[dict[str, Any]], tmp_path: pathlib.Path
) -> None:
    path = _write(tmp_path / "runs.jsonl", [link_records[0], link_records[1], link_records[0]])
    with pytest.raises(ReportError, match=rf"seed 0 .* at {path}:1 and at {path}:3"):
        group_records(read_records([path]))
    (group,) = group_records(read_records([path]), dedupe=True)
    assert [r["seed"] for r in group.records] == [1, 0]  # the last line of seed 0 is kept


def test_runs_built_in_memory_are_named_by_position(link_records: list[dict[str, Any]]) -> None:
    with pytest.raises(ReportError, match=r"at record #1 and at record #3"):
        group_records([link_records[0], link_records[1], link_records[0]])


def test_folds_of_one_seed_are_different_runs(fold_records: list[dict[str, Any]]) -> None:
    (group,) = group_records(fold_records)
    assert [(r["seed"], r["fold"]) for r in group.records] == [(0, 0), (0, 1), (0, 2)]
    with pytest.raises(ReportError, match="seed 0 fold 1 is recorded more than once"):
        group_records([*fold_records, fold_records[1]])


# --------------------------------------------------------------------------------- figures


def _legend(ax: Any) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_curves_name_folds_and_star_the_selected_epoch(fold_records: list[dict[str, Any]]) -> None:
    plt = pyplot()
    (group,) = group_records(fold_records)
    fig = curve_figure(group, plt)
    ax_metric, ax_loss = fig.axes
    labels = _legend(ax_metric)
    assert labels == [
        "fold 0 seed 0",
        "fold 1 seed 0",
        "fold 2 seed 0",
        "validation",
        "test",
        "selected epoch",
    ]
    stars = [line for line in ax_metric.lines if line.get_marker() == "*"]
    assert len(stars) == 3
    for star, record in zip(stars, fold_records, strict=True):
        best = record["best"]
        assert list(star.get_xdata()) == [best["epoch"]] * 2
        assert list(star.get_ydata()) == pytest.approx([100 * best["valid"], 100 * best["test"]])
    # Two evaluated epochs: every curve point has a marker (a line alone would hide them).
    curves = [line for line in ax_metric.lines + ax_loss.lines if line.get_marker() != "*"]
    assert len(curves) == 3 * 3  # valid and test, and the loss, of three folds
    assert all(line.get_marker() == "o" for line in curves)
    plt.close(fig)


def test_long_runs_are_plain_lines(fold_records: list[dict[str, Any]]) -> None:
    plt = pyplot()
    record = json.loads(json.dumps(fold_records[0]))
    step = record["history"][0]
    record["history"] = [dict(step, epoch=e) for e in range(1, SHORT_RUN_EPOCHS + 2)]
    fig = curve_figure(group_records([record])[0], plt)
    curves = [line for line in fig.axes[0].lines if line.get_marker() != "*"]
    assert len(curves) == 2
    assert all(line.get_marker() in ("None", "", None) for line in curves)
    plt.close(fig)


def test_time_per_epoch_is_on_a_log_axis(
    link_records: list[dict[str, Any]], fold_records: list[dict[str, Any]]
) -> None:
    plt = pyplot()
    groups = group_records([*link_records, *fold_records])
    fig = time_figure(groups, plt)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == pytest.approx([g.seconds_per_epoch() for g in groups])
    assert _legend(ax) == ["link runs", "graph runs"]
    plt.close(fig)


def test_markdown_keeps_working_for_mixed_kinds(
    link_records: list[dict[str, Any]], fold_records: list[dict[str, Any]]
) -> None:
    text = render_markdown(group_records([*link_records, *fold_records]))
    assert _row(text, "rocauc")[:2] == ["karate", "ncn"]
    assert _row(text, "acc")[:2] == ["CSL", "gin"]


def test_pretrain_records_through_the_results_store(tmp_path: pathlib.Path) -> None:
    # The layout `graphpair pretrain` can append through the store: one line per run, read
    # as it is, and appended once even when the command runs twice.
    from graphpair.train._results import pretrain_records
    from graphpair.train._store import append_records

    config = grace_config("default", epochs=3, runs=2, seed=5).to_dict()
    versions = {"graphpair": "0.0.test", "torch": "2.x"}
    records = pretrain_records(config, [0.6, 0.7], [0.55, 0.65], [4.0, 3.9], 0.1, 99, versions)
    assert all(r["versions"] == versions for r in records)
    path = tmp_path / "grace.jsonl"
    assert append_records(path, records) == 2
    assert append_records(path, records) == 0
    (group,) = group_records(read_records([path]))
    assert (group.kind, group.model, group.metric) == ("pretrain", "GRACE", "probe_acc")
    assert [r["seed"] for r in group.records] == [5, 6]
    assert group.values("test") == pytest.approx([55.0, 65.0])
    with pytest.raises(ValueError, match="one value per run; got lengths 2, 1 and 2"):
        pretrain_records(config, [0.6, 0.7], [0.55], [4.0, 3.9], 0.1, 99)
