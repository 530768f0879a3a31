"""Sampled training in the node runner (``sampler='neighbor'``, issue 22 item 3)."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
import torch

from graphpair.cli import main
from graphpair.data import get_spec
from graphpair.train import ConfigError, NodeResult, node_config, train_node
from graphpair.train._node import _layer_fanout, build_node_model
from tests.conftest import data_root

ROOT = data_root()
HAS_CORA = ROOT is not None and get_spec("cora").files_present(ROOT)
needs_cora = pytest.mark.skipif(not HAS_CORA, reason="Planetoid Cora not in the offline data")


def _curve(result: NodeResult) -> list[list[tuple[Any, ...]]]:
    return [[(r.epoch, r.loss, r.valid, r.test) for r in run.history] for run in result.runs]


@needs_cora
def test_sampled_training_on_cora_is_within_a_few_points_of_full_batch() -> None:
    """Three seeds, 30 epochs, width 16: GCN with fanout (10, 10) and batches of 64 seeds (3
    steps an epoch) against one full-batch step an epoch. Measured (mean test accuracy x100
    +- population std): full 77.5 +- 1.7, sampled 78.9 +- 1.0; at 50 epochs, width 64, batch
    1,024 (one step an epoch): full 80.1 +- 1.1, sampled 80.8 +- 0.6."""
    common: dict[str, Any] = {"epochs": 30, "runs": 3, "hidden_channels": 16, "eval_every": 5}
    common["data_root"] = str(ROOT)
    full = train_node(node_config("cora", **common))
    sampled = train_node(
        node_config("cora", sampler="neighbor", fanout=(10, 10), batch_size=64, **common)
    )
    full_mean, sampled_mean = full.summary()[0], sampled.summary()[0]
    assert all(run.best.test > 0.72 for run in sampled.runs), sampled.summary()
    assert abs(full_mean - sampled_mean) < 4.0, (full_mean, sampled_mean)
    # the sampled run learns: its training loss falls
    assert all(run.history[-1].loss < run.history[0].loss for run in sampled.runs)


@pytest.mark.parametrize("conv", ["sage", "puremean", "puresum"])
def test_all_neighbours_in_one_batch_is_the_full_batch_step(conv: str) -> None:
    """With every fanout -1 and one batch holding every training node, the subgraph holds
    each seed's whole 2-hop computation graph: every node within one hop has all its
    in-edges, so a mean aggregation gives every seed the full-graph output. The loss of the
    first epoch (taken before the step) is the full-batch loss, and the second epoch's (after
    one step, so the gradients agreed too) also, to float tolerance: only the order of the
    sums differs (nodes are relabelled), not the terms; a sum's sampled-edge weights are all
    1. Dropout is off, its masks being drawn per row. GCN is not exact: its normalisation
    reads the source's degree, which for the outermost hop is its degree in the subgraph (as
    with PyG's NeighborLoader)."""
    common: dict[str, Any] = {"epochs": 2, "runs": 1, "hidden_channels": 16, "dropout": 0.0}
    full = train_node(node_config("default", conv=conv, **common))
    sampled = train_node(
        node_config(
            "default", conv=conv, sampler="neighbor", fanout=(-1,), batch_size=100_000, **common
        )
    )
    (full_run,), (sampled_run,) = full.runs, sampled.runs
    for a, b in zip(full_run.history, sampled_run.history, strict=True):
        assert b.loss == pytest.approx(a.loss, rel=1e-6, abs=1e-7)
        assert b.valid["acc"] == pytest.approx(a.valid["acc"], abs=2e-3)
    # ... and the comparison can fail: a fanout of 2 changes the loss
    few = train_node(node_config("default", conv=conv, sampler="neighbor", fanout=(2,), **common))
    assert few.runs[0].history[0].loss != pytest.approx(full_run.history[0].loss, rel=1e-5)


def test_gcn_with_all_neighbours_differs_only_by_the_boundary_degrees() -> None:
    common: dict[str, Any] = {"epochs": 1, "runs": 1, "hidden_channels": 16, "dropout": 0.0}
    full = train_node(node_config("default", conv="gcn", **common))
    sampled = train_node(
        node_config("default", conv="gcn", sampler="neighbor", fanout=(-1,), **common)
    )
    a, b = full.runs[0].history[0].loss, sampled.runs[0].history[0].loss
    assert a != b
    assert b == pytest.approx(a, rel=1e-2)


def test_several_batches_an_epoch_are_reproducible_and_resume_exactly(
    tmp_path: pathlib.Path,
) -> None:
    cfg = node_config(
        "default",
        sampler="neighbor",
        fanout=(4, 3),
        batch_size=16,
        epochs=6,
        runs=1,
        hidden_channels=8,
        eval_every=2,
    )
    first, again = train_node(cfg), train_node(cfg)
    assert _curve(first) == _curve(again)
    other = train_node(cfg.replace(batch_size=32))
    assert _curve(other) != _curve(first)

    class CrashError(Exception):
        pass

    def crash(run: int, record: Any) -> None:
        if record.epoch == 4:
            raise CrashError

    with pytest.raises(CrashError):
        train_node(cfg, on_epoch=crash, checkpoint_dir=tmp_path)
    resumed = train_node(cfg, checkpoint_dir=tmp_path, resume=True)
    assert _curve(resumed) == _curve(first)


def test_the_fanout_broadcasts_to_the_layers_or_is_refused_before_loading(
    tmp_path: pathlib.Path,
) -> None:
    assert _layer_fanout(node_config("default", fanout=(7,), num_layers=3)) == (7, 7, 7)
    assert _layer_fanout(node_config("default", fanout=(7, 3), num_layers=3)) == (7, 3, 3)
    assert _layer_fanout(node_config("default", conv="none", fanout=(7, 3))) == ()
    # an empty data root: loading would fail, so the fanout is checked before it
    cfg = node_config(
        "cora",
        sampler="neighbor",
        fanout=(15, 10, 5),
        num_layers=2,
        data_root=str(tmp_path),
        download=False,
    )
    with pytest.raises(ConfigError, match=r"fanout has 3 values .*num_layers=2") as info:
        train_node(cfg)
    assert info.value.field == "fanout"
    # the full-batch sampler ignores the fanout
    ok = node_config("default", fanout=(15, 10, 5), num_layers=2, epochs=1, runs=1)
    assert len(train_node(ok).runs) == 1


def test_no_convolution_samples_the_seeds_alone() -> None:
    cfg = node_config("default", conv="none", sampler="neighbor", epochs=2, runs=1)
    assert len(train_node(cfg).runs[0].history) == 2


@pytest.mark.parametrize("dataset", ["default", pytest.param("cora", marks=needs_cora)])
def test_cli_sampler_flags(
    dataset: str, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    argv = ["node", "--sampler", "neighbor", "--fanout", "5,5", "--epochs", "2", "--runs", "1"]
    argv += ["--dataset", dataset, "--quiet", "--output", str(tmp_path / "r.jsonl")]
    if dataset == "cora":
        argv += ["--data-root", str(ROOT)]
    assert main(argv) == 0
    record = (tmp_path / "r.jsonl").read_text()
    assert '"sampler": "neighbor"' in record
    assert '"fanout": [5, 5]' in record
    assert len(capsys.readouterr().out.splitlines()) == 3  # header, rule, one row
    with pytest.raises(SystemExit):
        main([*argv[:4], "5,5,5", *argv[5:]])
    assert "fanout has 3 values" in capsys.readouterr().err


def test_sampled_epoch_takes_the_loss_on_the_seeds_only() -> None:
    """The model sees the subgraph but the loss reads only its first rows, the seeds: a
    model whose output for non-seed rows is poisoned still gives a finite loss. An encoder
    that sums gets every sampled edge u -> v weighted |N(v)| / k_v."""
    from graphpair.nn import NodeClassifier
    from graphpair.ops import CSR
    from graphpair.train._node import _sampled_epoch, _Sampling

    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    adj = CSR.from_edge_index(edge_index.flip(0), 4, symmetric=False, self_loops=True)
    seen: list[int] = []
    weights: list[torch.Tensor | None] = []

    class Probe(torch.nn.Module):
        def __init__(self, sums: bool) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(1, 2))
            self.aggregates_by_sum = sums

        def forward(
            self, x: torch.Tensor, edge_index: torch.Tensor, edge_weight: torch.Tensor | None = None
        ) -> torch.Tensor:
            seen.append(x.size(0))
            weights.append(edge_weight)
            out = x @ torch.ones(1, 2) + self.weight
            return torch.cat([out[:1], torch.full_like(out[1:], float("nan"))])

    x = torch.arange(4.0).view(4, 1)
    y = torch.tensor([0, 1, 0, 1])
    for sums, fanout in ((False, -1), (True, 1)):
        seen.clear()
        weights.clear()
        model = NodeClassifier(Probe(sums), torch.nn.Identity())
        loss = _sampled_epoch(
            model,
            torch.optim.SGD(model.parameters(), lr=0.1),
            (x, y, torch.tensor([1, 2])),
            _Sampling(adj, (fanout,), 1),
            torch.Generator().manual_seed(0),
        )
        assert torch.isfinite(torch.tensor(loss))
        if not sums:
            assert seen == [3, 3]  # each seed with its two neighbours
            assert weights == [None, None]
        else:
            assert seen == [2, 2]  # each seed (two neighbours) samples one
            assert [w.tolist() for w in weights if w is not None] == [[2.0], [2.0]]


def test_the_sampler_follows_edges_into_the_seeds() -> None:
    """On a directed graph a seed samples the sources of its in-edges (the nodes whose
    messages it receives in the full-batch encoder), with self loops kept and repeats once."""
    from graphpair.train._node import _sampling

    edge_index = torch.tensor([[0, 1, 3, 3, 2], [1, 2, 2, 2, 2]])  # 0->1->2, 3->2 twice, 2->2
    cfg = node_config("default", sampler="neighbor", fanout=(-1,), num_layers=2)
    sampling = _sampling(cfg, edge_index, 5)
    assert sampling is not None
    assert sampling.fanout == (-1, -1)
    assert sampling.adj.neighbors(2).tolist() == [1, 2, 3]
    assert sampling.adj.neighbors(0).tolist() == []
    assert _sampling(node_config("default"), edge_index, 5) is None


# ---------------------------------------------------------------- the memory estimate


def test_node_run_estimates_its_memory_and_refuses_what_would_not_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import graphpair.train._memory as memory

    config = node_config("default", epochs=1, runs=1, hidden_channels=8, device="cpu")
    seen: list[Any] = []
    train_node(config, on_estimate=seen.append)
    (estimate,) = seen
    assert estimate.parameters > 0
    assert estimate.peak > estimate.graph > 0
    monkeypatch.setattr(memory, "available_bytes", lambda device: 1024)
    epochs: list[int] = []
    with pytest.raises(ConfigError, match="--sampler neighbor") as err:
        train_node(config, on_epoch=lambda *args: epochs.append(1))
    assert err.value.field == "memory_check"
    assert epochs == []  # refused before the first epoch
    with pytest.raises(ConfigError, match="--batch-size or --fanout"):
        train_node(config.replace(sampler="neighbor", fanout=(2,)))
    train_node(config.replace(memory_check=False), on_estimate=seen.append)
    assert seen[-1].available == 1024


def test_node_estimate_counts_parameters_exactly_and_shrinks_when_sampled() -> None:
    from graphpair.train import estimate_node_memory

    config = node_config("default", hidden_channels=32, device="cpu")
    count = sum(p.numel() for p in build_node_model(config, 100, 47).parameters())
    full = estimate_node_memory(config, 2_449_029, 123_718_280, 100, 47, count)
    assert full.parameters == 4 * 4 * count  # weights, gradients, Adam's two moments
    sampled = estimate_node_memory(
        config.replace(sampler="neighbor", fanout=(10, 5), batch_size=512),
        2_449_029,
        123_718_280,
        100,
        47,
        count,
    )
    assert sampled.train_step < full.train_step / 100
    assert sampled.graph == full.graph + 16 * 123_718_280  # the sampler's view: cols, rows


def test_node_estimate_counts_trimmed_layers_and_the_layerwise_evaluation() -> None:
    """By hand for products' GCN: 1,024 seeds with fanout (15, 10, 5) reach 16,384, 169,984
    and 937,984 rows through hops 1-3 (936,960 sampled entries); trimmed, layers 1-3 keep
    activations on 937,984, 169,984 and 16,384 rows (four [rows, 64] tensors each). The
    layer-wise evaluation keeps two [N, 64] tensors and the logits, 16 bytes an entry."""
    from graphpair.train import estimate_node_memory

    n, entries = 2_449_029, 123_718_280
    config = node_config(
        "default",
        conv="gcn",
        num_layers=3,
        hidden_channels=64,
        sampler="neighbor",
        fanout=(15, 10, 5),
        batch_size=1024,
        device="cpu",
    )
    got = estimate_node_memory(config, n, entries, 100, 47, 0)
    kept = (937_984 + 169_984 + 16_384) * 4 * 64
    assert got.train_step == (937_984 * (100 + 3 * 47) + kept) * 4 + 936_960 * 16
    assert got.evaluation == n * (2 * 64 + 3 * 47) * 4 + entries * 16
    untrimmed = estimate_node_memory(config.replace(conv="sinc"), n, entries, 100, 47, 0)
    assert untrimmed.evaluation > got.evaluation  # the forward: three [N, D] tensors
    assert untrimmed.train_step > got.train_step  # every layer on all 937,984 rows


def test_the_sampler_shares_the_runs_csr() -> None:
    from graphpair.ops import CSR
    from graphpair.train._node import _propagation_graph, _sampling

    edge_index = torch.tensor([[0, 1, 1, 2, 3], [1, 0, 2, 3, 3]])  # directed, a self loop
    config = node_config("default", sampler="neighbor", fanout=(2,), num_layers=1)
    graph = _propagation_graph(edge_index, 4)
    assert graph is not None
    shared = _sampling(config, edge_index, 4, graph)
    own = _sampling(config, edge_index, 4)
    assert shared is not None
    assert own is not None
    assert torch.equal(shared.adj.rowptr, own.adj.rowptr)
    assert torch.equal(shared.adj.col, own.adj.col)
    assert shared.adj.col is graph.transpose()[2]  # no copy
    symmetric = CSR.from_edge_index(edge_index, 4)
    assert symmetric.transposed().col is symmetric.col
    assert _propagation_graph(torch.tensor([[0, 0], [1, 1]]), 2) is None  # a repeated edge
