"""What a link run keeps beyond its metrics: the selected model (``save_model``) and the
scores behind its metrics (``save_predictions``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from torch import Tensor

from graphpair.data import LinkSplit
from graphpair.ops import CSR
from graphpair.train._artifact import BestState, graph_fingerprint, run_folder, write_model
from graphpair.train._config import ConfigError, LinkConfig
from graphpair.train._link_builder import node_input
from graphpair.train._predictions import PredictionTable, link_rows
from graphpair.train._results import RunResult

__all__ = ["add_predictions", "save_finished", "save_link_model"]


def add_predictions(table: PredictionTable, split: LinkSplit, best: BestState, seed: int) -> None:
    """The valid and test scores of the selected epoch, as rows of ``table``."""
    assert best.epoch is not None
    for stage in ("valid", "test"):
        pos, neg = best.extra["outputs"][stage]
        table.append(
            link_rows(seed, best.epoch, stage, split.pos(stage), split.neg(stage), pos, neg)
        )


def save_finished(
    root: Path,
    config: LinkConfig,
    data: object,
    split: LinkSplit,
    result: RunResult,
    best_state: dict[str, Any] | None,
) -> None:
    """``--save-model`` for a run that finished in a checkpoint: its model folder exists, or
    the checkpoint kept the selected model; otherwise that model is gone."""
    if (run_folder(root, result.seed) / "manifest.json").is_file():
        return
    if best_state is None:
        raise ConfigError(
            "save_model",
            f"run seed {result.seed} finished in a checkpoint written without save_model, so "
            "its selected model was not kept; resume into a new checkpoint_dir to retrain it",
        )
    best = BestState(higher_is_better=True)
    best.load(best_state)
    train_graph = split.edge_index("train")
    save_link_model(root, config, data, train_graph, split.num_nodes, best, result)


def save_link_model(
    root: Path,
    config: LinkConfig,
    data: object,
    train_graph: Tensor,
    num_nodes: int,
    best: BestState,
    result: RunResult,
) -> None:
    """Write the selected epoch's model of a finished run into ``root/run-<seed>``, with the
    training graph it scores on."""
    x = getattr(data, "x", None)
    if x is not None and x.is_sparse:
        x = x.to_dense()
    _, in_channels, num_embeddings = node_input(config, data)
    adj = CSR.from_edge_index(train_graph, num_nodes)
    selected = result.best[config.metric]
    node_ids = getattr(data, "node_ids", None)
    write_model(
        run_folder(root, result.seed),
        kind="link",
        config=config.to_dict(),
        config_class=type(config).__name__,
        weights=best.weights,
        metrics={
            "seed": result.seed,
            "metric": config.metric,
            "epoch": selected.epoch,
            "valid": selected.valid,
            "test": selected.test,
            "selected": {name: dataclasses.asdict(choice) for name, choice in result.best.items()},
        },
        build={"in_channels": in_channels, "num_embeddings": num_embeddings},
        graph={
            "edge_index": train_graph,
            "num_nodes": num_nodes,
            **({} if x is None else {"x": x}),
            **({} if node_ids is None else {"node_ids": list(node_ids)}),
        },
        graph_print=graph_fingerprint(adj, x),
    )
