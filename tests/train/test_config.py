from __future__ import annotations

import dataclasses
import json
import pathlib

import pytest

from graphpair.train import LINK_CONFIGS, ConfigError, LinkConfig, link_config

# Spot checks of specs/ncn.md §4.4, one row per dataset:
# (dataset, predictor, {field: value}).
PAPER = [
    (
        "Cora",
        "ncn",
        {
            "conv": "puregcn",
            "num_layers": 1,
            "hidden_channels": 256,
            "jk": True,
            "input_dropout": 0.7,
            "tail_dropout": 0.3,
            "dropout": 0.05,
            "predictor_dropout": 0.05,
            "predictor_edge_dropout": 0.4,
            "gnnlr": 0.0043,
            "prelr": 0.0024,
            "batch_size": 1152,
            "test_batch_size": 8192,
            "epochs": 100,
            "runs": 10,
            "tlr": True,
            "use_xlin": True,
            "tailact": True,
            "twolayerlin": False,
            "metric": "hits@100",
        },
    ),
    (
        "CiteSeer",
        "ncnc",
        {
            "dropout": 0.75,
            "predictor_dropout": 0.55,
            "gnnlr": 0.0085,
            "prelr": 0.0078,
            "batch_size": 384,
            "twolayerlin": True,
            "scale": 6.5,
            "offset": 4.4,
            "pt": 0.75,
            "alpha": 0.4,
        },
    ),
    ("PubMed", "ncnc", {"batch_size": 2048, "gnnlr": 0.0097, "scale": 5.3, "alpha": 0.3}),
    (
        "ogbl-collab",
        "ncn",
        {
            "conv": "gcn",
            "hidden_channels": 64,
            "res": True,
            "edge_dropout": 0.25,
            "batch_size": 65536,
            "valid_as_input": True,
            "metric": "hits@50",
        },
    ),
    (
        "ogbl-ppa",
        "ncn",
        {"num_layers": 3, "node_input": "category", "epochs": 25, "use_xlin": False},
    ),
    (
        "ogbl-citation2",
        "ncn",
        {"num_layers": 3, "tlr": False, "grad_clip": 1.0, "negatives": "source", "metric": "mrr"},
    ),
    ("ogbl-citation2", "ncnc", {"prelr": 0.001, "batch_size": 24576, "offset": -0.3}),
    (
        "ogbl-ddi",
        "ncn",
        {
            "conv": "puresum",
            "hidden_channels": 224,
            "node_input": "id",
            "predictor_dropout": 0.6,
            "twolayerlin": True,
            "tailact": False,
            "metric": "hits@20",
        },
    ),
    ("ogbl-ddi", "ncnc", {"prelr": 0.0025, "scale": 10.0, "offset": 3.0, "alpha": 0.5}),
]


@pytest.mark.parametrize(("dataset", "predictor", "expected"), PAPER)
def test_shipped_configs_hold_the_paper_hyperparameters(
    dataset: str, predictor: str, expected: dict[str, object]
) -> None:
    cfg = link_config(dataset, predictor)
    assert cfg.dataset == dataset
    for name, value in expected.items():
        assert getattr(cfg, name) == value, name


def test_every_shipped_config_is_valid_for_every_predictor() -> None:
    for dataset in LINK_CONFIGS:
        for predictor in ("ncn", "ncnc", "ncnc2", "gae", "ncn-diff"):
            assert link_config(dataset, predictor).predictor == predictor


def test_names_resolve_case_and_separator_insensitively() -> None:
    cfg = link_config("CORA", "NCN_Diff", conv="PureGCN", metrics=("Hits@20", "hits_at_100"))
    assert (cfg.dataset, cfg.predictor, cfg.conv) == ("Cora", "ncn-diff", "puregcn")
    assert cfg.metrics == ("hits@20", "hits@100")
    assert link_config("ogbl_ddi").dataset == "ogbl-ddi"


def test_overrides_win_over_the_dataset_and_ncnc_values() -> None:
    cfg = link_config("ogbl-ddi", "ncnc", prelr=0.5, runs=2)
    assert (cfg.prelr, cfg.runs, cfg.scale) == (0.5, 2, 10.0)
    assert link_config("ogbl-ddi", "ncn").prelr == 0.0018


def test_unshipped_link_dataset_gets_the_class_defaults() -> None:
    assert link_config("default").epochs == 20  # shipped
    assert dataclasses.replace(LinkConfig(), dataset="Cora").epochs == LinkConfig().epochs


@pytest.mark.parametrize(
    ("changes", "field", "pattern"),
    [
        ({"hidden_channels": 0}, "hidden_channels", "hidden_channels must be >= 1; got 0"),
        ({"dropout": 1.0}, "dropout", r"dropout must be a probability in \[0, 1\); got 1.0"),
        ({"predictor": "seal"}, "predictor", "predictor must be one of .*'ncnc'.*got 'seal'"),
        ({"conv": "gat"}, "conv", "conv must be one of"),
        ({"dataset": "nope"}, "dataset", "unknown dataset 'nope'"),
        ({"dataset": "ZINC"}, "dataset", "'ZINC' is a graph dataset"),
        ({"epochs": 2.5}, "epochs", "epochs must be an int; got 2.5"),
        ({"tlr": 1}, "tlr", "tlr must be a bool; got 1"),
        ({"metric": "hits@20", "metrics": ("hits@50",)}, "metric", "one of metrics"),
        ({"metrics": ("hits@0",)}, "metrics", "metrics must be 'hits@K'"),
        ({"metrics": ()}, "metrics", "non-empty"),
        ({"gnnlr": -1.0}, "gnnlr", "gnnlr must be >= 0"),
        ({"pt": 0.0}, "pt", "pt must be > 0"),
        ({"grad_clip": 0.0}, "grad_clip", "grad_clip must be > 0"),
        ({"device": "warp-drive"}, "device", "device must be 'auto' or a torch device name"),
        ({"data_root": "/no/such/folder"}, "data_root", "existing folder"),
        ({"batch": 3}, "batch", "unknown LinkConfig field 'batch'"),
    ],
)
def test_bad_values_name_the_field_and_value(
    changes: dict[str, object], field: str, pattern: str
) -> None:
    with pytest.raises(ConfigError, match=pattern) as info:
        link_config(**{"dataset": "karate", **changes})  # type: ignore[arg-type]
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_config_is_frozen_and_replace_checks() -> None:
    cfg = link_config("karate")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.epochs = 3  # type: ignore[misc]
    assert cfg.replace(epochs=3).epochs == 3
    with pytest.raises(ConfigError, match="epochs must be >= 1"):
        cfg.replace(epochs=0)


def test_to_dict_round_trips_through_json() -> None:
    cfg = link_config("cora", "ncnc", metrics=["hits@20", "hits@100"])
    data = json.loads(json.dumps(cfg.to_dict()))
    data["metrics"] = tuple(data["metrics"])
    assert LinkConfig(**data) == cfg


def test_grit_pair_gets_a_small_grit_and_its_heads_must_divide_the_width() -> None:
    cfg = link_config("cora", "grit-pair")
    assert (cfg.hidden_channels, cfg.num_layers, cfg.heads, cfg.walk_length) == (64, 2, 4, 3)
    assert cfg.input_dropout == link_config("cora", "ncn").input_dropout  # the dataset's
    assert link_config("cora", "grit-pair", hidden_channels=32).hidden_channels == 32
    with pytest.raises(ConfigError, match="heads must divide hidden_channels=64") as info:
        link_config("cora", "grit-pair", heads=6)
    assert info.value.field == "heads"
    assert link_config("cora", "ncn", heads=6).heads == 6  # only GRIT uses heads
    with pytest.raises(ConfigError, match="num_layers must be >= 1") as info:
        link_config("cora", "grit-pair", num_layers=0)
    for field, value in (("walk_length", 0), ("max_pairs", 0), ("attn_dropout", 1.0)):
        with pytest.raises(ConfigError, match=field) as info:
            link_config("cora", "grit-pair", **{field: value})
        assert info.value.field == field


def test_shipped_ncnc_configs_use_the_reference_recursion() -> None:
    # The paper's completion constants were tuned with it (quirk Q1).
    for dataset in LINK_CONFIGS:
        for predictor in ("ncnc", "ncnc2"):
            assert link_config(dataset, predictor).official_recursion is True
        assert link_config(dataset, "ncn").official_recursion is False
    assert LinkConfig().official_recursion is False  # the class default is graphpair's own
    assert link_config("cora", "ncnc", official_recursion=False).official_recursion is False


def test_edge_list_must_be_a_file_and_replaces_the_dataset(tmp_path: pathlib.Path) -> None:
    file = tmp_path / "mine.tsv"
    file.write_text("a\tb\n")
    config = link_config("default", "ncnc", edge_list=file, batch_size=8)
    assert config.edge_list == str(file)  # a PathLike is stored as str (JSON records)
    assert config.data_name == "mine.tsv"
    assert link_config("cora").data_name == "Cora"
    with pytest.raises(ConfigError, match="edge_list must be an existing file; got .*absent"):
        link_config(edge_list=str(tmp_path / "absent.csv"))
    with pytest.raises(ConfigError, match="edge_list must be a path to an edge list file"):
        link_config(edge_list=3)
    with pytest.raises(ConfigError, match="give one of them, not dataset='Cora'") as err:
        link_config("cora", edge_list=str(file))
    assert err.value.field == "edge_list"


def test_new_fields_at_their_old_value_keep_the_checkpoint_key() -> None:
    """Checkpoints and records written before ``edge_list`` existed keep their key."""
    from graphpair.data._io import fingerprint
    from graphpair.train import config_key
    from graphpair.train._config_key import ADDED_FIELDS

    config = link_config("default", "ncn")
    bookkeeping = {"runs", "device", "data_root", "cache", "download", "deterministic"}
    # An added field is left out at its "as before" value only (graphpair node's batch_size
    # None, never a link batch size).
    before = {
        f.name: getattr(config, f.name)
        for f in dataclasses.fields(config)
        if f.name not in bookkeeping
        and not (
            f.name in ADDED_FIELDS
            and json.dumps(getattr(config, f.name)) == json.dumps(ADDED_FIELDS[f.name])
        )
    }
    assert "batch_size" in before
    assert config_key(config) == fingerprint("LinkConfig", json.loads(json.dumps(before)))
    assert config_key(config) != config_key(config.replace(edge_list=__file__))


def test_edge_list_batch_size_fits_a_small_graph_unless_given(tmp_path: pathlib.Path) -> None:
    import networkx as nx

    from graphpair.data import link_split, load_edge_list

    file = tmp_path / "lesmis.csv"
    graph = nx.les_miserables_graph()
    file.write_text("".join(f"{a},{b}\n" for a, b in graph.edges()))
    num_train = link_split(load_edge_list(file), 0).train_pos.size(1)
    assert num_train < link_config("default").batch_size
    assert link_config(edge_list=file).batch_size == num_train  # one full batch per epoch
    assert link_config(edge_list=file, batch_size=64).batch_size == 64
    # A larger graph keeps the shipped batch size.
    big = tmp_path / "big.csv"
    graph = nx.powerlaw_cluster_graph(2000, 3, 0.3, seed=0)
    big.write_text("".join(f"{a},{b}\n" for a, b in graph.edges()))
    assert link_config(edge_list=big).batch_size == link_config("default").batch_size


@pytest.mark.parametrize("dataset", ["karate", "Cora", "ogbl-ddi", "default"])
def test_metric_alone_joins_the_tracked_metrics(dataset: str) -> None:
    shipped = link_config(dataset)
    for metric in ("mrr", "hits@7", shipped.metric):
        cfg = link_config(dataset, metric=metric)
        assert cfg.metric == metric
        expected = shipped.metrics + (() if metric in shipped.metrics else (metric,))
        assert cfg.metrics == expected  # the shipped ones kept, in order


@pytest.mark.parametrize("dataset", ["karate", "Cora"])
def test_metrics_alone_bring_their_first_as_headline(dataset: str) -> None:
    shipped = link_config(dataset)
    cfg = link_config(dataset, metrics=("mrr", "hits@3"))
    assert (cfg.metrics, cfg.metric) == (("mrr", "hits@3"), "mrr")
    # The shipped headline kept when the new list has it.
    kept = link_config(dataset, metrics=("mrr", shipped.metric))
    assert kept.metric == shipped.metric
    # Both given and at odds: still the error, naming the field.
    with pytest.raises(ConfigError, match="metric must be one of metrics") as info:
        link_config(dataset, metrics=("mrr",), metric="hits@3")
    assert info.value.field == "metric"
    # A bad name is named as before, not swallowed by the pairing.
    with pytest.raises(ConfigError, match="metric must be 'hits@K'"):
        link_config(dataset, metric="hits@zero")


def test_device_defaults_to_auto_and_keeps_the_key() -> None:
    import torch

    from graphpair.train import config_key

    found = "cuda" if torch.cuda.is_available() else "cpu"
    assert LinkConfig().device == found
    assert link_config("karate").device == found
    cpu = link_config("karate", device="cpu")
    assert config_key(cpu) == config_key(link_config("karate"))  # bookkeeping: same key
    assert cpu.to_dict()["device"] == "cpu"
