"""The three OGB link protocols the real files of which are not offline (ogbl-collab, ogbl-ppa,
ogbl-citation2), end to end on tiny fixtures in OGB's exact layout (``tests/data/
ogb_fixtures.py``): the runner loads them, trains one epoch, and reports the metrics OGB's own
``Evaluator`` computes from the very scores the run saved (``save_predictions``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from ogb.linkproppred import Evaluator as OGBEvaluator

from graphpair.train import LinkConfig, link_config, train_link
from tests.data.ogb_fixtures import write_collab, write_link_fixture

# Tiny runs on a shared two-core machine: one torch thread is faster than two.
pytestmark = pytest.mark.usefixtures("one_thread")

# What the OGB protocols report (specs/ncn.md §4.3): Hits@20/50/100 with the dataset's headline
# K on collab and ppa; citation2's MRR with the Hits@1/3/10 of OGB's MRR evaluator.
EXPECTED = {
    "ogbl-collab": (("hits@20", "hits@50", "hits@100"), "hits@50"),
    "ogbl-ppa": (("hits@20", "hits@50", "hits@100"), "hits@100"),
    "ogbl-citation2": (("mrr", "hits@1", "hits@3", "hits@10"), "mrr"),
}


def tiny(name: str, root: Path, predictor: str = "ncn", **changes: Any) -> LinkConfig:
    values: dict[str, Any] = {
        "hidden_channels": 8,
        "batch_size": 64,
        "test_batch_size": 2048,
        "epochs": 1,
        "runs": 1,
        "data_root": str(root),
        "cache": str(root / "cache"),
        "download": False,
    }
    values.update(changes)
    return link_config(name, predictor, **values)


def saved_scores(path: Path, stage: str) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """OGB's ``y_pred_pos`` / ``y_pred_neg`` of one stage from a ``save_predictions`` file,
    and the stage's rows."""
    table = np.load(path)
    rows = table["stage"] == (0 if stage == "valid" else 1)
    label, owner, score = table["label"][rows], table["positive"][rows], table["score"][rows]
    pos = torch.from_numpy(score[label == 1])
    neg = torch.from_numpy(score[label == 0])
    if (owner[label == 0] >= 0).all():  # negatives per positive, grouped by their positive
        neg = neg.view(pos.numel(), -1)
    return pos, neg, np.flatnonzero(rows)


def ogb_values(name: str, metrics: tuple[str, ...], pos: torch.Tensor, neg: torch.Tensor) -> Any:
    """What ``ogb.linkproppred.Evaluator(name)`` reports for every metric of the run."""
    evaluator = OGBEvaluator(name)
    if neg.dim() == 2:
        lists = evaluator.eval({"y_pred_pos": pos, "y_pred_neg": neg})
        out = {"mrr": lists["mrr_list"].double().mean().item()}
        out.update(
            {f"hits@{k}": lists[f"hits@{k}_list"].sum().item() / pos.numel() for k in (1, 3, 10)}
        )
        return out
    out = {}
    for metric in metrics:
        evaluator.K = int(metric.split("@")[1])
        out.update(evaluator.eval({"y_pred_pos": pos, "y_pred_neg": neg}))
    return out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_one_epoch_on_each_protocol_reports_ogbs_metrics(name: str, tmp_path: Path) -> None:
    write_link_fixture(tmp_path / "ogb", name)
    config = tiny(name, tmp_path)
    metrics, headline = EXPECTED[name]
    assert (config.metrics, config.metric) == (metrics, headline)
    scores = tmp_path / "scores.npz"
    result = train_link(config, save_predictions=scores)
    (run,) = result.runs
    (record,) = run.history
    assert set(record.valid) == set(record.test) == set(metrics) == set(run.best)
    assert result.summary().metric == headline
    for stage, values in (("valid", record.valid), ("test", record.test)):
        pos, neg, _ = saved_scores(scores, stage)
        if name == "ogbl-citation2":
            assert neg.shape == (30, 1000)  # the 1,000 given negatives of each positive
        expected = ogb_values(name, metrics, pos, neg)
        for metric in metrics:
            if metric == "mrr":  # OGB's list is float32: its mean agrees to float32 precision
                assert values[metric] == pytest.approx(expected[metric], rel=1e-6), stage
            else:
                assert values[metric] == expected[metric], (stage, metric)


def test_collab_scores_its_test_pairs_on_the_train_and_validation_graph(tmp_path: Path) -> None:
    from graphpair import load_model
    from graphpair.data import load_dataset

    write_collab(tmp_path / "ogb")
    config = tiny("ogbl-collab", tmp_path, "ncnc")
    assert config.valid_as_input
    scores, models = tmp_path / "scores.npz", tmp_path / "models"
    train_link(config, save_predictions=scores, save_model=models)
    split = load_dataset("ogbl-collab", root=tmp_path, download=False).link_split
    assert split is not None
    model = load_model(models / "run-0")
    train_graph, test_graph = split.edge_index("train"), split.edge_index("test")
    assert test_graph.size(1) == train_graph.size(1) + 2 * split.valid_pos.size(1)
    for stage, graph in (("valid", None), ("test", test_graph)):
        pos, neg, _ = saved_scores(scores, stage)
        pairs = torch.cat([split.pos(stage), split.neg(stage)], dim=1)
        again = model.logits(pairs, edge_index=graph, strict=False)
        assert torch.equal(again, torch.cat([pos, neg])), stage
    # The validation edges matter: the training graph alone gives other test scores.
    pos, _, _ = saved_scores(scores, "test")
    assert not torch.equal(model.logits(split.test_pos), pos)
    # Without the rule the test graph is the training graph.
    plain = tmp_path / "plain.npz"
    train_link(config.replace(valid_as_input=False), save_predictions=plain)
    pos_plain, _, _ = saved_scores(plain, "test")
    assert torch.equal(pos_plain, model.logits(split.test_pos))


def test_collab_weights_and_years_do_not_change_a_run(tmp_path: Path) -> None:
    # The reference drops collab's weights and keeps no year filter (spec §4.2): a binary,
    # deduplicated adjacency. Fixtures differing only in weights train identically.
    histories = []
    for offset in (0, 7):
        root = tmp_path / f"offset{offset}"
        write_collab(root / "ogb", weight_offset=offset)
        result = train_link(tiny("ogbl-collab", root, epochs=2))
        histories.append([(r.loss, r.valid, r.test) for r in result.runs[0].history])
    assert histories[0] == histories[1]


def test_ppa_embeds_the_species_category(tmp_path: Path) -> None:
    from graphpair.data import load_dataset
    from graphpair.train import build_encoder
    from graphpair.train._link_builder import node_input

    write_link_fixture(tmp_path / "ogb", "ogbl-ppa")
    config = tiny("ogbl-ppa", tmp_path)
    assert config.node_input == "category"
    data = load_dataset("ogbl-ppa", root=tmp_path, download=False).data
    x, in_channels, rows = node_input(config, data)
    assert x is not None
    assert in_channels is None
    assert rows == 58  # one embedding row per species column (spec §2.9: 58 x 64)
    assert torch.equal(x, data.x.argmax(dim=1))
    encoder = build_encoder(config, in_channels, rows)
    weights = [p for n, p in encoder.named_parameters() if "embedding" in n]
    assert [tuple(w.shape) for w in weights] == [(58, 8)]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_graphpair_link_runs_each_protocol_from_the_command_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from graphpair.cli import main

    monkeypatch.setenv("GRAPHPAIR_CACHE", str(tmp_path / "cache"))
    write_link_fixture(tmp_path / "ogb", name)
    output = tmp_path / "runs.jsonl"
    argv = ["link", "--dataset", name, "--data-root", str(tmp_path), "--no-download"]
    argv += ["--epochs", "1", "--runs", "1", "--hidden", "8", "--batch-size", "64"]
    argv += ["--test-batch-size", "2048", "--output", str(output)]
    assert main(argv) == 0, capsys.readouterr().err
    (record,) = [json.loads(line) for line in output.read_text().splitlines()]
    metrics, headline = EXPECTED[name]
    assert record["dataset"] == name
    assert set(record["best"]) == set(metrics)
    assert 0.0 <= record["best"][headline]["test"] <= 1.0
    assert headline in capsys.readouterr().out
