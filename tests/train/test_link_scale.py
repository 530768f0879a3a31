"""Issue 22 in the link runner: degree caps, sampled training, the memory estimate."""

from __future__ import annotations

import pathlib
import warnings

from graphpair.nn import NCNCPredictor
from graphpair.train import link_config
from graphpair.train._link_builder import build_predictor


def test_degree_caps_reach_the_ncnc_predictor() -> None:
    config = link_config("karate", "ncnc", train_degree_cap=128, test_degree_cap=96)
    predictor = build_predictor(config)
    assert isinstance(predictor, NCNCPredictor)
    assert (predictor.train_degree_cap, predictor.test_degree_cap) == (128, 96)
    plain = build_predictor(link_config("karate", "ncnc"))
    assert isinstance(plain, NCNCPredictor)
    assert (plain.train_degree_cap, plain.test_degree_cap) == (None, None)


# ---------------------------------------------------------------- sampled training

import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from graphpair.nn import GAEPredictor, LinkModel, MPNNEncoder, NCNDiffPredictor, NCNPredictor  # noqa: E402
from graphpair.ops import CSR, PairNodeSet, common_neighbors  # noqa: E402
from graphpair.train import ConfigError, train_link  # noqa: E402
from graphpair.train._link_sampling import (  # noqa: E402
    SampledLinkStep,
    common_neighbor_star,
    needed_nodes,
    select_rows,
)


def _graph(num_nodes: int = 40, num_edges: int = 110, seed: int = 0) -> CSR:
    gen = torch.Generator().manual_seed(seed)
    return CSR.from_edge_index(
        torch.randint(0, num_nodes, (2, num_edges), generator=gen), num_nodes
    )


def _predictors() -> list[torch.nn.Module]:
    torch.manual_seed(0)
    return [
        GAEPredictor(8, 8),
        NCNPredictor(8, 8, use_xlin=True),
        NCNCPredictor(8, 8, depth=1, use_xlin=True, scale=2.0, offset=0.5),
        NCNCPredictor(8, 8, depth=2, scale=2.0, offset=0.5),
        NCNDiffPredictor(8, 8),
    ]


@pytest.mark.parametrize("conv", ["puresum", "puremean", "sage"])
@pytest.mark.parametrize("inputs", ["features", "sparse", "ids"])
def test_sampled_step_with_every_neighbour_equals_the_full_step(conv: str, inputs: str) -> None:
    """fanout -1 on every layer: the computation subgraph holds every in-edge an L-layer
    sum / mean / SAGE encoder reads for the nodes the predictor reads, so the logits are the
    full-batch ones (GCN's symmetric normalisation would also read the degree of the hop-L
    nodes, which a computation subgraph does not hold: approximate there, as in PyG)."""
    adj = _graph()
    pairs = torch.tensor([[0, 3, 5, 7, 1], [9, 4, 20, 11, 2]])
    pos, neg = pairs[:, :3], pairs[:, 3:]
    torch.manual_seed(1)
    if inputs == "ids":
        encoder = MPNNEncoder(None, 8, 2, conv=conv, num_embeddings=40, ln=True)
        x = None
    else:
        encoder = MPNNEncoder(6, 8, 2, conv=conv, ln=True)
        x = torch.randn(40, 6).relu()  # some zeros
        if inputs == "sparse":
            x = x.to_sparse_csr()
    encoder = encoder.double().eval() if inputs != "sparse" else encoder.eval()
    if inputs == "features":
        x = x.double()
    for predictor in _predictors():
        predictor = predictor.to(next(encoder.parameters()).dtype).eval()
        with adj.masked(pos) as masked:
            full = LinkModel(encoder, predictor)(x, masked, pos, neg)  # type: ignore[arg-type]
            sampled = SampledLinkStep(encoder, predictor, (-1, -1))(x, masked, pos, neg, 0)
        for got, want in zip(sampled, full, strict=True):
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_a_sum_encoder_gets_unbiased_weights_and_others_none() -> None:
    """A sampled step calls an encoder with ``aggregates_by_sum`` as ``encoder(x, adj,
    edge_weight)``, every sampled edge u -> v at |N(v)| / k_v (v's active degree in the
    masked graph over its sampled in-edges); any other encoder as ``encoder(x, adj)``."""
    adj = _graph()
    pos, neg = torch.tensor([[0, 3], [9, 4]]), torch.tensor([[5, 7], [20, 11]])
    calls: list[tuple[CSR, torch.Tensor | None, torch.Tensor]] = []

    class Spy(torch.nn.Module):
        def __init__(self, sums: bool) -> None:
            super().__init__()
            self.aggregates_by_sum = sums
            self.lin = torch.nn.Linear(1, 8)

        def forward(
            self, x: torch.Tensor, graph: CSR, edge_weight: torch.Tensor | None = None
        ) -> torch.Tensor:
            calls.append((graph, edge_weight, x))
            return self.lin(x.unsqueeze(-1).float())

    for sums in (True, False):
        calls.clear()
        with adj.masked(pos) as masked:
            SampledLinkStep(Spy(sums), GAEPredictor(8, 8), (3,))(None, masked, pos, neg, 5)
            ((graph, weight, nodes),) = calls
            if not sums:
                assert weight is None
                continue
            assert weight is not None
            assert weight.numel() == graph.num_edges
            sampled = torch.bincount(graph.col, minlength=graph.num_nodes)
            degree = masked.degree(nodes)
            torch.testing.assert_close(weight, (degree / sampled)[graph.col].float())
            assert bool((sampled[graph.col] <= 3).all())
            assert bool((weight > 1).any())


class _AsCSR(torch.nn.Module):
    """An MPNNEncoder behind a wrapper: the sampled step hands it a CSR of the sampled edges,
    untrimmed (the path of any other encoder)."""

    def __init__(self, encoder: MPNNEncoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.aggregates_by_sum = encoder.aggregates_by_sum

    def forward(
        self, x: torch.Tensor, adj: CSR, edge_weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        out: torch.Tensor = self.encoder(x, adj, edge_weight)
        return out


@pytest.mark.parametrize("conv", ["puresum", "gcn", "sage"])
def test_a_trimmed_sampled_encoder_equals_the_untrimmed_one(conv: str) -> None:
    """With a finite fanout an MPNNEncoder gets the hop-grouped edges and trims its layers;
    from the same seed the logits equal those of the same encoder on the CSR of the same
    sampled edges, untrimmed (sum weights included)."""
    adj = _graph(60, 240, seed=3)
    pos, neg = torch.tensor([[0, 3, 8], [9, 4, 17]]), torch.tensor([[5, 7], [20, 11]])
    torch.manual_seed(2)
    encoder = MPNNEncoder(6, 8, 3, conv=conv).double().eval()
    x = torch.randn(60, 6, dtype=torch.float64)
    for predictor in _predictors():
        predictor = predictor.double().eval()
        with adj.masked(pos) as masked:
            trimmed = SampledLinkStep(encoder, predictor, (3, 2, 2))(x, masked, pos, neg, 7)
            whole = SampledLinkStep(_AsCSR(encoder), predictor, (3, 2, 2))(x, masked, pos, neg, 7)
        for got, want in zip(trimmed, whole, strict=True):
            torch.testing.assert_close(got, want)


def test_needed_nodes_per_predictor() -> None:
    adj = _graph()
    pairs = torch.tensor([[0, 3], [9, 4]])
    ends = set(pairs.reshape(-1).tolist())
    neighbours = {v: set(adj.neighbors(v).tolist()) for v in range(40)}
    one_hop = ends | {k for v in ends for k in neighbours[v]}
    two_hop = one_hop | {k for v in one_hop for k in neighbours[v]}
    common = set(common_neighbors(adj, pairs).node_idx.tolist())
    got = {
        type(p).__name__ + str(getattr(p, "depth", "")): needed_nodes(p, adj, pairs).tolist()
        for p in _predictors()
    }
    assert got["GAEPredictor"] == sorted(ends)
    assert got["NCNPredictor"] == sorted(ends | common)
    assert got["NCNCPredictor1"] == sorted(one_hop)
    assert got["NCNCPredictor2"] == sorted(two_hop)
    assert got["NCNDiffPredictor"] == sorted(one_hop)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 12),
    st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=45),
    st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), min_size=1, max_size=6),
    st.integers(0, 2),
    st.booleans(),
)
def test_ncn_finds_the_same_common_neighbours_on_its_star_graph(
    n: int,
    edges: list[tuple[int, int]],
    pair_list: list[tuple[int, int]],
    num_masked: int,
    self_loops: bool,
) -> None:
    """The sampled NCN step scores on ``common_neighbor_star`` of the common neighbours it
    found on the masked graph: every entry of that graph is an active edge of the graph
    (relabelled), and each pair has exactly the same common neighbours on it, self loops,
    repeated pairs and ``i == j`` included."""
    edge_index = torch.tensor(edges, dtype=torch.long).view(-1, 2).t() % n
    adj = CSR.from_edge_index(edge_index, n, self_loops=self_loops)
    pairs = torch.tensor(pair_list).t().contiguous() % n
    with adj.masked(pairs[:, :num_masked]) as masked:
        members = common_neighbors(masked, pairs)
        nodes = torch.unique(torch.cat([pairs.reshape(-1), members.node_idx]))
        local = torch.searchsorted(nodes, pairs)
        star = common_neighbor_star(
            local,
            PairNodeSet(members.pair_idx, torch.searchsorted(nodes, members.node_idx)),
            nodes.numel(),
        )
        active = {tuple(e) for e in masked.to_edge_index().t().tolist()}
        star_edges = nodes[star.to_edge_index()].t().tolist()
        assert {tuple(e) for e in star_edges} <= active
        got = common_neighbors(star, local, method="sparse")
        assert torch.equal(got.pair_idx, members.pair_idx)
        assert torch.equal(nodes[got.node_idx], members.node_idx)


def test_select_rows_of_a_sparse_csr_matrix() -> None:
    x = torch.randn(7, 5).relu()
    index = torch.tensor([6, 0, 3, 3])
    torch.testing.assert_close(select_rows(x.to_sparse_csr(), index).to_dense(), x[index])
    torch.testing.assert_close(select_rows(x, index), x[index])


def test_sampled_training_runs_end_to_end_and_is_reproducible() -> None:
    config = link_config(
        "karate",
        "ncnc",
        epochs=2,
        runs=1,
        hidden_channels=16,
        batch_size=16,
        metrics=("rocauc",),
        metric="rocauc",
        sampler="neighbor",
        fanout=(3,),
        num_layers=2,
        conv="sage",
        device="cpu",
    )

    def numbers(records: list[dict]) -> list[tuple]:
        return [(r["loss"], r["valid"], r["test"]) for r in records[0]["history"]]

    first = train_link(config).to_records()
    second = train_link(config).to_records()
    assert numbers(first) == numbers(second)
    full = train_link(config.replace(sampler="full")).to_records()
    assert first[0]["history"][0]["loss"] != full[0]["history"][0]["loss"]  # it did sample


def test_sampler_choices_refused_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    import graphpair.train._link as link_module

    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("data was loaded")

    monkeypatch.setattr(link_module, "load_dataset", no_load)
    with pytest.raises(ConfigError, match="'grit-pair' attends") as err:
        train_link(link_config("karate", "grit-pair", sampler="neighbor", runs=1, device="cpu"))
    assert err.value.field == "sampler"
    with pytest.raises(ConfigError, match="num_layers=1") as err:
        train_link(
            link_config(
                "karate", "ncn", sampler="neighbor", fanout=(5, 5), num_layers=1, device="cpu"
            )
        )
    assert err.value.field == "fanout"


# ---------------------------------------------------------------- the memory estimate


def _karate_estimate(**overrides: object):  # type: ignore[no-untyped-def]
    from graphpair.data import link_split, load_dataset
    from graphpair.train import estimate_link_memory

    config = link_config("karate", "ncnc", device="cpu", **overrides)  # type: ignore[arg-type]
    split = link_split(load_dataset("karate"), 0, audit=False)
    adj = CSR.from_edge_index(split.edge_index("train"), split.num_nodes)
    return config, estimate_link_memory(
        config, adj, split.train_pos, None, split.num_nodes + 1, eval_pairs=200
    )


def test_the_estimate_counts_parameters_exactly_and_grows_with_the_batch() -> None:
    from graphpair.train._link_builder import build_encoder, build_predictor

    config, estimate = _karate_estimate(hidden_channels=32, batch_size=16)
    count = sum(
        p.numel()
        for m in (build_encoder(config, None, 35), build_predictor(config))
        for p in m.parameters()
    )
    assert estimate.parameters == 4 * 4 * count  # weights, gradients, Adam's two moments
    _, bigger = _karate_estimate(hidden_channels=32, batch_size=64)
    assert bigger.train_step > estimate.train_step
    assert bigger.peak >= estimate.peak
    _, sampled = _karate_estimate(
        hidden_channels=32, batch_size=16, sampler="neighbor", fanout=(2,)
    )
    assert sampled.train_step <= estimate.train_step
    assert "estimated peak memory" in estimate.describe()
    assert estimate.peak == estimate.graph + estimate.parameters + max(
        estimate.train_step, estimate.evaluation
    )


def test_the_pair_statistics_count_the_sets_and_the_caps_without_listing_them() -> None:
    from graphpair.ops import neighbor_overlap
    from graphpair.train._memory import _pair_statistics

    gen = torch.Generator().manual_seed(0)
    hub = torch.stack([torch.zeros(60, dtype=torch.long), torch.arange(1, 61)])
    edges = torch.cat([hub, torch.randint(1, 61, (2, 150), generator=gen)], 1)
    adj = CSR.from_edge_index(edges, 61)
    train_pos = adj.to_edge_index()
    adj.mask_edges(train_pos[:, :9])  # the degrees are the active ones
    common, (listed, capped) = _pair_statistics(adj, train_pos, (None, 3))
    idx = torch.linspace(0, train_pos.size(1) - 1, min(1024, train_pos.size(1))).long()
    overlap = neighbor_overlap(adj, train_pos[:, idx])
    assert common == pytest.approx(overlap.common.node_idx.numel() / idx.numel())
    sides = [torch.bincount(s.pair_idx, minlength=idx.numel()) for s in overlap[1:]]
    assert listed == pytest.approx(sum(int(c.sum()) for c in sides) / idx.numel())
    assert capped == pytest.approx(sum(int(c.clamp(max=3).sum()) for c in sides) / idx.numel())
    assert capped < listed


def test_the_degree_caps_lower_the_ncnc_estimate() -> None:
    _, full = _karate_estimate(hidden_channels=32, batch_size=64)
    _, capped = _karate_estimate(
        hidden_channels=32, batch_size=64, train_degree_cap=1, test_degree_cap=1
    )
    assert capped.train_step < full.train_step
    assert capped.evaluation < full.evaluation


def test_a_run_that_would_not_fit_is_refused_before_training(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import graphpair.train._memory as memory

    monkeypatch.setattr(memory, "available_bytes", lambda device: 1024)
    steps: list[int] = []
    config = link_config("karate", "ncnc", epochs=1, runs=1, batch_size=16, device="cpu")
    with pytest.raises(ConfigError, match="--sampler neighbor") as err:
        train_link(config, on_step=lambda *args: steps.append(1))
    assert err.value.field == "memory_check"
    assert "estimated peak memory" in str(err.value)
    assert steps == []  # refused before the first step
    seen = []
    train_link(config.replace(memory_check=False), on_estimate=seen.append)
    assert len(seen) == 1
    assert seen[0].available == 1024


def test_available_bytes_honours_the_address_space_limit() -> None:
    import resource
    import subprocess
    import sys

    code = (
        "import resource, torch; from graphpair.train._memory import available_bytes; "
        "print(available_bytes(torch.device('cpu')))"
    )
    limit = 8 * 2**30
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)),
    )
    assert 0 < int(out.stdout.strip()) < limit


# ---------------------------------------------------------------- frozen node features


def test_ncnc_on_frozen_ncn_embeddings_the_citation2_recipe(tmp_path: pathlib.Path) -> None:
    import numpy as np

    from graphpair import load_model
    from graphpair.train._link_builder import read_node_features

    small = {"epochs": 1, "runs": 1, "hidden_channels": 8, "batch_size": 16, "device": "cpu"}
    small |= {"metrics": ("rocauc",), "metric": "rocauc"}
    train_link(link_config("karate", "ncn", **small), save_model=tmp_path / "ncn")
    folder = tmp_path / "ncn" / "run-0"
    embedding = load_model(folder).embed()
    assert embedding.shape == (34, 8)
    torch.save(embedding, tmp_path / "h.pt")
    config = link_config("karate", "ncnc", node_features=tmp_path / "h.pt", conv="none", **small)
    result = train_link(config)
    assert len(result.runs) == 1
    # the encoder's input is the frozen embedding
    from graphpair.data import load_dataset
    from graphpair.train._link_builder import node_input

    x, in_channels, num_embeddings = node_input(config, load_dataset("karate").data)
    assert (in_channels, num_embeddings) == (8, None)
    assert x is not None
    torch.testing.assert_close(x, embedding)
    # the same features from a .npy file
    np.save(tmp_path / "h.npy", embedding.numpy())
    for name in ("h.npy", "h.pt"):
        torch.testing.assert_close(read_node_features(str(tmp_path / name), 34), embedding)
    with pytest.raises(ConfigError, match=r"one row per node, \[35, F\]") as err:
        read_node_features(str(tmp_path / "h.pt"), 35)
    assert err.value.field == "node_features"
    with pytest.raises(ConfigError, match="node_features must be an existing file"):
        link_config("karate", node_features=tmp_path / "absent.pt")


def test_a_sampled_sum_encoder_warns_when_its_fanout_is_small_for_the_degree(
    tmp_path: pathlib.Path,
) -> None:
    from graphpair.train._link_sampling import NOISY_SUM_RATIO, warn_noisy_sums

    sums = MPNNEncoder(None, 4, 1, conv="puresum", num_embeddings=10)
    mean = MPNNEncoder(None, 4, 1, conv="puremean", num_embeddings=10)
    degree = 5 * NOISY_SUM_RATIO  # 500 edges over 10 nodes
    with pytest.warns(UserWarning, match="too noisy to learn from"):
        warn_noisy_sums(sums, (4,), 500, 10)
    with pytest.warns(UserWarning, match="mean degree of 50.0"):
        warn_noisy_sums(sums, (-1, 0), 500, 10)  # fanout 0 samples nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_noisy_sums(sums, (int(degree / NOISY_SUM_RATIO),), 500, 10)
        warn_noisy_sums(sums, (-1,), 500, 10)
        warn_noisy_sums(mean, (1,), 500, 10)
    dense = tmp_path / "dense.txt"  # 40 nodes, half the pairs: fanout 1 is too few
    pairs = [(u, v) for u in range(40) for v in range(u + 1, 40) if (u + v) % 2]
    dense.write_text("".join(f"{u} {v}\n" for u, v in pairs))
    config = link_config(
        edge_list=str(dense),
        predictor="ncn",
        sampler="neighbor",
        fanout=(1,),
        conv="puresum",
        device="cpu",
        epochs=1,
        runs=1,
        metrics=("rocauc",),
        metric="rocauc",
    )
    with pytest.warns(UserWarning, match=r"mean degree of 1\d\.\d: .* too noisy"):
        train_link(config)
