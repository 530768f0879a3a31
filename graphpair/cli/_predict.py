"""``graphpair predict`` and ``graphpair recommend``: apply a model saved with
``--save-model``."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import torch

from graphpair.data._io import atomic_write_bytes
from graphpair.train import (
    ModelFileError,
    SavedGraphModel,
    SavedLinkModel,
    SavedNodeModel,
    load_model,
)
from graphpair.train._artifact import check_output_file

__all__ = ["add_predict_parser", "add_recommend_parser", "read_pairs"]


def _node(text: str, model: SavedLinkModel) -> Hashable:
    """A node as written in a file or on the command line: a name of an edge-list graph, or
    an index."""
    if model.node_ids is not None:
        if text in model.node_ids:
            return text
        try:  # integer ids of an edge list are stored as ints
            number = int(text)
        except ValueError:
            return text
        return number if number in model.node_ids else text
    try:
        return int(text)
    except ValueError:
        return text


def read_pairs(path: str, model: SavedLinkModel, *, header: bool) -> tuple[list[Any], torch.Tensor]:
    """``(the pairs as written, their indices [2, P])`` from a CSV or TSV file of two columns
    (source, target), node names or indices.

    Raises:
        ValueError: the file is unreadable, a line has other than two columns, or names a node
            that is not in the graph (the file and the line are named).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"--pairs: cannot read {path!r} as text: {err}") from None
    delimiter = "\t" if "\t" in text.split("\n", 1)[0] else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    written, index = [], []
    for number, row in enumerate(rows, 1):
        if header and number == 1:
            continue
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 2:
            raise ValueError(
                f"--pairs: {path!r} line {number} has {len(row)} columns; expected 2 "
                f"(source, target): {row!r}"
            )
        pair = [_node(cell.strip(), model) for cell in row]
        try:
            index.append(model.node_index(pair).tolist())
        except ValueError as err:
            hint = " (is it a header? pass --header)" if number == 1 else ""
            raise ValueError(f"--pairs: {path!r} line {number}: {err}{hint}") from None
        written.append(pair)
    pairs = torch.tensor(index, dtype=torch.long).view(-1, 2).t()
    return written, pairs


# Pairs per scoring call of 'predict' (one progress step).
_CHUNK = 1 << 16


def _bar(items: range, desc: str, unit: str) -> Any:
    """``items`` with a progress bar on stderr when there is more than one step."""
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit=unit, disable=len(items) < 2 or None, file=sys.stderr)


def _write(rows: list[list[Any]], columns: list[str], output: str | None) -> None:
    """CSV to ``output`` (atomically) or to stdout."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    if output is None:
        sys.stdout.write(buffer.getvalue())
    else:
        atomic_write_bytes(output, buffer.getvalue().encode())


def _load_link(folder: str) -> SavedLinkModel:
    model = load_model(folder)
    if not isinstance(model, SavedLinkModel):
        raise ModelFileError(f"{folder!r} holds a {model.manifest['kind']} model; expected link")
    return model


def _predict_graphs(model: SavedGraphModel, args: argparse.Namespace) -> int:
    if args.dataset is None:
        raise ValueError(
            "--dataset: a graph model predicts the graphs of a registered dataset (with "
            "--split); in Python, load_model(DIR).predict(graphs) takes any graphs"
        )
    if args.pairs is not None:
        raise ValueError("--pairs: scores node pairs with a link model; this is a graph model")
    out = model.predict(
        args.dataset,
        split=args.split,
        fold=args.fold,
        batch_size=args.batch_size,
        data_root=args.data_root,
    )
    kind = model.task.kind
    columns = (
        [f"p{c}" for c in range(out.size(1))]
        if kind in ("multiclass", "binary")
        else [f"y{c}" for c in range(out.size(1))]
    )
    rows = [[i, *(f"{v:.6g}" for v in row)] for i, row in enumerate(out.tolist())]
    _write(rows, ["index", *columns], args.output)
    return 0


def _predict_nodes(model: SavedNodeModel, args: argparse.Namespace) -> int:
    if args.pairs is not None or args.dataset is not None:
        raise ValueError(
            "--pairs / --dataset: a node model predicts the nodes of its own graph; give neither"
        )
    out = model.predict()
    rows = [[i, *(f"{v:.6g}" for v in row)] for i, row in enumerate(out.tolist())]
    _write(rows, ["node", *(f"p{c}" for c in range(out.size(1)))], args.output)
    return 0


def _predict(args: argparse.Namespace) -> int:
    check_output_file("output", args.output)  # before the model is loaded and applied
    loaded = load_model(args.model)
    if isinstance(loaded, SavedGraphModel):
        return _predict_graphs(loaded, args)
    if isinstance(loaded, SavedNodeModel):
        return _predict_nodes(loaded, args)
    if not isinstance(loaded, SavedLinkModel):
        raise ModelFileError(
            f"{args.model!r} holds a pre-trained encoder, which predicts nothing; "
            "graphpair.load_model(DIR).embed() gives its node representations"
        )
    model = loaded
    if args.pairs is None:
        raise ValueError("--pairs: a file of (source, target) pairs is needed for a link model")
    written, pairs = read_pairs(args.pairs, model, header=args.header)
    scores: list[float] = []
    chunks = range(0, pairs.size(1), _CHUNK)
    for start in _bar(chunks, "scoring", unit=f"x{_CHUNK} pairs"):
        part = pairs[:, start : start + _CHUNK]
        scores += model.score(part, batch_size=args.batch_size).tolist()
    rows = [
        [source, target, f"{score:.6g}"]
        for (source, target), score in zip(written, scores, strict=True)
    ]
    _write(rows, ["source", "target", "score"], args.output)
    return 0


def _recommend(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise ValueError(f"--k: the number of suggestions per node must be >= 1; got {args.k}")
    check_output_file("output", args.output)
    model = _load_link(args.model)
    nodes = [_node(part.strip(), model) for part in args.nodes.split(",") if part.strip()]
    if not nodes:
        raise ValueError(
            f"--nodes: expected node names or indices separated by commas; got {args.nodes!r}"
        )
    model.node_index(nodes)  # every node checked before any scoring
    # Progress on stderr for long lists (tqdm turns itself off when it is not a terminal).
    parts = [
        model.recommend(
            nodes[i : i + 16], args.k, exclude_known=args.exclude_known, batch_size=args.batch_size
        )
        for i in _bar(range(0, len(nodes), 16), "recommending", unit="x16 nodes")
    ]
    found_targets = torch.cat([p.target for p in parts])
    found_scores = torch.cat([p.score for p in parts])
    name = (lambda i: model.node_ids[i]) if model.node_ids is not None else (lambda i: i)
    rows = []
    for query, targets, scores in zip(
        nodes, found_targets.tolist(), found_scores.tolist(), strict=True
    ):
        for rank, (target, score) in enumerate(zip(targets, scores, strict=True), 1):
            if target >= 0:
                rows.append([query, rank, name(target), f"{score:.6g}"])
    _write(rows, ["node", "rank", "target", "score"], args.output)
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model", metavar="MODEL_DIR", help="a model folder written by --save-model (DIR/run-<seed>)"
    )
    parser.add_argument(
        "--output",
        default=None,
        metavar="FILE",
        help="write the CSV here (atomically) instead of to stdout",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="N",
        help="pairs (link models) or graphs (graph models) per batch (default: the run's)",
    )


def add_predict_parser(sub: Any) -> None:
    """The ``predict`` subcommand."""
    predict = sub.add_parser(
        "predict",
        help="apply a saved model: score node pairs, or predict graphs or nodes",
        description="Apply a model saved with --save-model, as CSV. A link model scores the "
        "pairs of a CSV or TSV file (--pairs: two columns, source and target, node names of an "
        "edge-list graph or node indices): source,target,score (the link probability). A graph "
        "model predicts a dataset's split (--dataset NAME --split test): one row per graph "
        "(per node for node-level sets), class probabilities or values. A node model predicts "
        "the class probabilities of every node of its graph.",
    )
    _common(predict)
    predict.add_argument(
        "--pairs", default=None, metavar="FILE", help="CSV/TSV file of source,target pairs"
    )
    predict.add_argument(
        "--header", action="store_true", help="the pairs file starts with a header line to skip"
    )
    predict.add_argument(
        "--dataset", default=None, metavar="NAME", help="graph models: the dataset to predict"
    )
    predict.add_argument(
        "--split",
        default="test",
        metavar="PART",
        help="graph models: train, valid or test (default: test)",
    )
    predict.add_argument(
        "--fold",
        type=int,
        default=None,
        metavar="K",
        help="graph models: the fold (default: the run's)",
    )
    predict.add_argument(
        "--data-root",
        default=None,
        metavar="DIR",
        help="graph models: raw data folder (default: the run's)",
    )
    predict.set_defaults(func=_predict)


def add_recommend_parser(sub: Any) -> None:
    """The ``recommend`` subcommand."""
    recommend = sub.add_parser(
        "recommend",
        help="the top-K likely new links of nodes, with a saved link model",
        description="For each node, the K non-neighbours the saved model scores highest "
        "(candidates: every node on graphs up to 4,096 nodes, else the nodes within two hops), "
        "as CSV rows node,rank,target,score.",
    )
    _common(recommend)
    recommend.add_argument(
        "--nodes",
        required=True,
        metavar="NODE[,NODE]",
        help="node names or indices, separated by commas",
    )
    recommend.add_argument(
        "--k", type=int, default=10, metavar="K", help="suggestions per node (default: 10)"
    )
    recommend.add_argument(
        "--exclude-known",
        default=True,
        action=argparse.BooleanOptionalAction,
        help="leave out the node's current neighbours (default: yes)",
    )
    recommend.set_defaults(func=_recommend)
