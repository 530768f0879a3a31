from __future__ import annotations

import json
from typing import Any

import pytest

from graphpair.train import (
    GRAPH_CONFIGS,
    GRAPH_MODEL_CONFIGS,
    GRAPH_MODELS,
    ConfigError,
    GraphConfig,
    graph_config,
)


def test_zinc_ships_grits_recipe() -> None:
    # specs/grit.md §3.3, value by value.
    cfg = graph_config("zinc", "grit")
    assert cfg.dataset == "ZINC"
    assert (cfg.num_layers, cfg.hidden_channels, cfg.heads, cfg.walk_length) == (10, 64, 8, 21)
    assert (cfg.dropout, cfg.attn_dropout, cfg.norm, cfg.full_pairs) == (0.0, 0.2, "batch", True)
    assert (cfg.optimizer, cfg.lr, cfg.weight_decay, cfg.grad_clip) == ("adamw", 1e-3, 1e-5, 1.0)
    assert (cfg.scheduler, cfg.warmup_epochs, cfg.epochs) == ("cosine", 50, 2000)
    assert (cfg.batch_size, cfg.pooling, cfg.head_layers, cfg.runs) == (32, "sum", 2, 4)


def test_model_differences_apply_on_top_of_the_dataset() -> None:
    sinc = graph_config("ZINC", "sinc")
    assert (sinc.hidden_channels, sinc.num_layers, sinc.aggr, sinc.context_aggr) == (
        70,
        4,
        "sym",
        "mean",
    )
    assert (sinc.weight_decay, sinc.residual, sinc.grad_clip, sinc.scheduler) == (
        0.1,
        "linear",
        None,
        "plateau",
    )
    # A baseline runs on the dataset's configuration (GRIT's budget on ZINC).
    gine = graph_config("ZINC", "gine")
    assert (gine.num_layers, gine.hidden_channels, gine.epochs) == (10, 64, 2000)


def test_unique_signature_ships_the_ncmp_protocol() -> None:
    # specs/sinc.md §4: the dataset's shipped model is SINC; 1 layer of 16, 500 epochs.
    cfg = graph_config("unique-signature")
    assert cfg.model == "sinc"
    assert (cfg.num_layers, cfg.hidden_channels, cfg.head_bias, cfg.norm) == (1, 16, False, "none")
    assert (cfg.scheduler, cfg.plateau_factor, cfg.plateau_patience) == ("plateau", 0.5, 10)
    assert (cfg.epochs, cfg.batch_size, cfg.runs, cfg.lr) == (500, 256, 10, 1e-3)
    assert graph_config("UniqueSignature", "sir").model == "sir"


def test_defaults_names_and_overrides() -> None:
    cfg = graph_config("csl", "GINE", epochs=3, norm="Layer", dataset_options={"seed": 2})
    assert (cfg.dataset, cfg.model, cfg.epochs, cfg.norm) == ("CSL", "gine", 3, "layer")
    assert dict(cfg.dataset_options) == {"seed": 2}
    assert graph_config("MUTAG").model == "gin"
    assert GraphConfig().dataset == "CSL"
    # Datasets without a shipped configuration get the class defaults.
    assert graph_config("ogbg-molpcba").hidden_channels == GraphConfig().hidden_channels


def test_replace_checks_and_to_dict_round_trips() -> None:
    cfg = graph_config("zinc", "grit", dataset_options={"seed": 1})
    payload = json.loads(json.dumps(cfg.to_dict()))
    assert GraphConfig(**payload) == cfg
    assert cfg.replace(epochs=7).epochs == 7
    with pytest.raises(ConfigError) as err:
        cfg.replace(epoch=7)
    assert err.value.field == "epoch"
    with pytest.raises(ConfigError, match="dropout must be a probability"):
        cfg.replace(dropout=2.0)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"dropout": 1.5}, "dropout", "dropout must be a probability in [0, 1); got 1.5"),
        ({"attn_dropout": -0.1}, "attn_dropout", "attn_dropout must be a probability"),
        ({"hidden_channels": 0}, "hidden_channels", "hidden_channels must be >= 1; got 0"),
        ({"num_layers": 2.0}, "num_layers", "num_layers must be an int; got 2.0"),
        ({"model": "gat"}, "model", "model must be one of ['gin', 'gine'"),
        ({"dataset": "Cora"}, "dataset", "'Cora' is a link dataset"),
        ({"dataset": "ogbn-arxiv"}, "dataset", "'ogbn-arxiv' is a single graph"),
        ({"dataset": "nope"}, "dataset", "unknown dataset 'nope'"),
        ({"norm": "group"}, "norm", "norm must be one of ['batch', 'layer', 'none']"),
        ({"residual": True}, "residual", "residual must be one of"),
        ({"pooling": "attention"}, "pooling", "pooling must be one of"),
        ({"aggr": "softmax"}, "aggr", "aggr must be one of"),
        ({"scheduler": "step"}, "scheduler", "scheduler must be one of"),
        ({"metric": "hits@20"}, "metric", "metric must be one of"),
        ({"model": "grit", "heads": 3}, "heads", "heads must divide hidden_channels=64"),
        ({"dataset": "ZINC", "folds": 2}, "folds", "folds must be None for 'ZINC'"),
        ({"folds": 0}, "folds", "folds must be >= 1"),
        ({"lr": -1.0}, "lr", "lr must be >= 0"),
        ({"grad_clip": 0.0}, "grad_clip", "grad_clip must be > 0 or None"),
        ({"plateau_factor": 1.0}, "plateau_factor", "plateau_factor must be in (0, 1)"),
        ({"class_weights": 1}, "class_weights", "class_weights must be a bool"),
        ({"dataset_options": {"p": [1]}}, "dataset_options", "dataset_options['p'] must be"),
        ({"dataset_options": "p=1"}, "dataset_options", "dataset_options must be a mapping"),
        ({"data_root": "/no/such/folder"}, "data_root", "data_root must be an existing folder"),
        ({"device": "gpu:x"}, "device", "device must be 'auto' or a torch device name"),
    ],
)
def test_bad_values_name_the_field(changes: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        GraphConfig(**changes)
    assert err.value.field == field
    assert message in str(err.value)


def test_graph_config_rejects_unknown_fields_models_and_datasets() -> None:
    with pytest.raises(ConfigError) as err:
        graph_config("csl", "gin", hidden=8)
    assert err.value.field == "hidden"
    with pytest.raises(ConfigError) as err:
        graph_config("csl", "gat")
    assert err.value.field == "model"
    with pytest.raises(ConfigError) as err:
        graph_config("karate", "gin")
    assert err.value.field == "dataset"


@pytest.mark.parametrize("dataset", sorted(GRAPH_CONFIGS))
@pytest.mark.parametrize("model", GRAPH_MODELS)
def test_every_shipped_configuration_is_valid(dataset: str, model: str) -> None:
    cfg = graph_config(dataset, model)
    assert cfg.dataset == dataset
    assert cfg.model == model


def test_model_differences_name_known_datasets_and_models() -> None:
    for dataset, model in GRAPH_MODEL_CONFIGS:
        assert dataset in GRAPH_CONFIGS
        assert model in GRAPH_MODELS
