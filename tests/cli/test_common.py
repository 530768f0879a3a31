"""Step-level progress: the runners' ``on_step`` callback and the CLI's two progress bars."""

from __future__ import annotations

import io
import statistics

import pytest

from graphpair.cli._common import Progress
from graphpair.train import EpochRecord, graph_config, link_config, train_graph, train_link


def test_link_on_step_reports_every_step_and_the_epoch_loss_is_their_mean() -> None:
    cfg = link_config("karate", "ncn", epochs=3, runs=2, hidden_channels=8, batch_size=16)
    steps: list[tuple[int, int, int, float]] = []
    result = train_link(cfg, on_step=lambda *args: steps.append(args))
    # Full batches of 16 of karate's training edges: the same count every epoch.
    per_epoch = {s[2] for s in steps}
    assert len(per_epoch) == 1
    (count,) = per_epoch
    assert count >= 1
    assert len(steps) == 2 * 3 * count
    for run in range(2):
        mine = [s for s in steps if s[0] == run]
        assert [s[1] for s in mine] == list(range(1, count + 1)) * 3
        for epoch, record in enumerate(result.runs[run].history):
            losses = [s[3] for s in mine[epoch * count : (epoch + 1) * count]]
            assert record.loss == pytest.approx(statistics.fmean(losses))


def test_graph_on_step_reports_every_batch() -> None:
    options = {"num_graphs": 40, "p": 0.3, "num_features": 3, "cache_processed": False}
    cfg = graph_config(
        "UniqueSignature",
        "gin",
        epochs=2,
        runs=1,
        hidden_channels=8,
        batch_size=8,
        dataset_options=options,
    )
    steps: list[tuple[int, int, int, float]] = []
    train_graph(cfg, on_step=lambda *args: steps.append(args))
    # 32 training graphs (the first 80 %) in batches of 8: 4 steps per epoch, 2 epochs.
    assert [(s[0], s[1], s[2]) for s in steps] == [(0, i, 4) for i in (1, 2, 3, 4)] * 2
    assert all(s[3] >= 0 for s in steps)


def test_progress_draws_an_epoch_bar_and_a_step_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    progress = Progress(False, runs=2, epochs=2, metric="acc")
    progress.disable = False  # stderr is not a terminal here; draw anyway
    for epoch in (1, 2):
        for step in (1, 2, 3):
            progress.step(0, step, 3, 0.5)
        progress.epoch(0, EpochRecord(epoch, 0.5, {"acc": 0.75}, {"acc": 0.7}, 0.1, 0.1))
    assert progress.steps.n == 3
    assert progress.bar.n == 2
    progress.close()
    text = err.getvalue()
    assert "run 1/2" in text
    assert "steps" in text
    assert "valid acc=0.7500" in text
    assert progress.bar is None
    assert progress.steps is None
