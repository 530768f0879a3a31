"""Tiny OGB link datasets in the exact layout ogb 1.3.6's ``LinkPropPredDataset`` reads.

The real ogbl-collab, ogbl-ppa and ogbl-citation2 are not available offline; these writers make
small stand-ins with the same files, file formats and dictionary keys, so the loaders, the
link runner and ogb's own reader (the oracle) can all be pointed at them:

``<root>/<ogbl_name>/``
    ``RELEASE_v1.txt`` (ogb asks on stdin to re-download a folder without it),
    ``raw/edge.csv.gz`` (the training edges, one line ``u,v`` each, no header),
    ``raw/num-node-list.csv.gz`` / ``raw/num-edge-list.csv.gz`` (one line: N, E),
    ``raw/node-feat.csv.gz`` (one row per node), the dataset's additional node and edge files
    of ogb's ``master.csv`` (collab ``raw/edge_weight.csv.gz`` and ``raw/edge_year.csv.gz``
    per raw edge; citation2 ``raw/node_year.csv.gz`` per node), and
    ``split/<split>/{train,valid,test}.pt``: ``torch.save``-d dicts of numpy arrays:
    collab ``edge [E, 2]``, ``weight [E]``, ``year [E]`` (+ ``edge_neg [Q, 2]`` for valid and
    test); ppa ``edge`` (+ ``edge_neg``); citation2 ``source_node [P]``, ``target_node [P]``
    (+ ``target_node_neg [P, 1000]``).

What the fixtures reproduce on purpose: collab's repeated training pairs (one collaboration
in several years, each with its own weight and year, sometimes in the other orientation) and
its time split (train years < valid year < test year); ppa's 58-column one-hot species
features stored as integers; citation2's directed edges and 1,000 negative targets per
positive, none of them a known edge or the source itself, none repeated within a row.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

__all__ = ["write_citation2", "write_collab", "write_link_fixture", "write_ppa"]


def _csv(path: Path, array: np.ndarray) -> None:
    """One row per line, comma separated, no header, gzip: OGB's raw csv.gz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = array.reshape(array.shape[0], -1)
    if np.issubdtype(rows.dtype, np.integer):
        lines = [",".join(str(int(v)) for v in row) for row in rows]
    else:
        lines = [",".join(repr(float(v)) for v in row) for row in rows]
    with gzip.open(path, "wt") as handle:
        handle.write("".join(line + "\n" for line in lines))


def _pt(path: Path, content: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(content, path)


def _undirected_pairs(rng: np.random.Generator, num_nodes: int, count: int) -> np.ndarray:
    """``count`` distinct undirected non-loop pairs ``[count, 2]``, each in a random
    orientation."""
    chosen: set[tuple[int, int]] = set()
    out = []
    while len(out) < count:
        u, v = (int(a) for a in rng.integers(0, num_nodes, 2))
        key = (min(u, v), max(u, v))
        if u == v or key in chosen:
            continue
        chosen.add(key)
        out.append((u, v))
    return np.asarray(out, dtype=np.int64)


def _shared_negatives(
    rng: np.random.Generator, num_nodes: int, edges: np.ndarray, count: int
) -> np.ndarray:
    """``count`` distinct non-edges ``[count, 2]`` (a shared pool, like OGB's ``edge_neg``)."""
    known = {(min(u, v), max(u, v)) for u, v in edges.tolist()}
    out: list[tuple[int, int]] = []
    while len(out) < count:
        u, v = (int(a) for a in rng.integers(0, num_nodes, 2))
        key = (min(u, v), max(u, v))
        if u == v or key in known:
            continue
        known.add(key)
        out.append((u, v))
    return np.asarray(out, dtype=np.int64)


def _common(folder: Path, num_nodes: int, raw_edges: np.ndarray, x: np.ndarray) -> None:
    (folder / "RELEASE_v1.txt").parent.mkdir(parents=True, exist_ok=True)
    (folder / "RELEASE_v1.txt").write_text("# Release note\nv1\n")
    _csv(folder / "raw" / "edge.csv.gz", raw_edges)
    _csv(folder / "raw" / "num-node-list.csv.gz", np.asarray([[num_nodes]], dtype=np.int64))
    _csv(folder / "raw" / "num-edge-list.csv.gz", np.asarray([[len(raw_edges)]], dtype=np.int64))
    _csv(folder / "raw" / "node-feat.csv.gz", x)


def write_collab(
    root: Path,
    *,
    num_nodes: int = 80,
    num_train: int = 300,
    num_repeated: int = 40,
    num_eval: int = 40,
    num_negatives: int = 300,
    features: int = 16,
    seed: int = 0,
    weight_offset: int = 0,
) -> Path:
    """ogbl-collab's layout under ``root/ogbl_collab``; returns that folder.

    ``num_train`` distinct collaborations from the years 2000-2016 plus ``num_repeated``
    repeats of some of them in later training years (half of them written in the other
    orientation), ``num_eval`` validation pairs from 2018 and test pairs from 2019 (distinct
    from each other and from training), ``num_negatives`` shared negatives per stage.
    ``weight_offset`` shifts every weight (two fixtures differing only in weights).
    """
    rng = np.random.default_rng(seed)
    folder = root / "ogbl_collab"
    pairs = _undirected_pairs(rng, num_nodes, num_train + 2 * num_eval)
    train = pairs[:num_train]
    valid, test = pairs[num_train : num_train + num_eval], pairs[num_train + num_eval :]
    again = train[rng.choice(num_train, num_repeated, replace=False)].copy()
    again[::2] = again[::2, ::-1]  # some repeats in the other orientation
    train_edges = np.concatenate([train, again])
    years = np.concatenate(
        [rng.integers(2000, 2012, num_train), rng.integers(2012, 2017, num_repeated)]
    ).astype(np.int64)
    weights = rng.integers(1, 4, len(train_edges)).astype(np.int64) + weight_offset
    x = rng.standard_normal((num_nodes, features)).astype(np.float32)
    _common(folder, num_nodes, train_edges, x)
    _csv(folder / "raw" / "edge_weight.csv.gz", weights.reshape(-1, 1))
    _csv(folder / "raw" / "edge_year.csv.gz", years.reshape(-1, 1))
    everything = np.concatenate([train, valid, test])
    split = folder / "split" / "time"
    _pt(split / "train.pt", {"edge": train_edges, "weight": weights, "year": years})
    for name, edges, year in (("valid", valid, 2018), ("test", test, 2019)):
        _pt(
            split / f"{name}.pt",
            {
                "edge": edges,
                "weight": rng.integers(1, 4, len(edges)).astype(np.int64) + weight_offset,
                "year": np.full(len(edges), year, dtype=np.int64),
                "edge_neg": _shared_negatives(rng, num_nodes, everything, num_negatives),
            },
        )
    return folder


def write_ppa(
    root: Path,
    *,
    num_nodes: int = 100,
    num_train: int = 400,
    num_eval: int = 40,
    num_negatives: int = 300,
    species: int = 58,
    seed: int = 0,
) -> Path:
    """ogbl-ppa's layout under ``root/ogbl_ppa`` (split ``throughput``); returns the folder.

    Node features are OGB's one-hot species rows, ``species`` integer columns.
    """
    rng = np.random.default_rng(seed)
    folder = root / "ogbl_ppa"
    pairs = _undirected_pairs(rng, num_nodes, num_train + 2 * num_eval)
    train = pairs[:num_train]
    valid, test = pairs[num_train : num_train + num_eval], pairs[num_train + num_eval :]
    x = np.zeros((num_nodes, species), dtype=np.int64)
    x[np.arange(num_nodes), rng.integers(0, species, num_nodes)] = 1
    _common(folder, num_nodes, train, x)
    split = folder / "split" / "throughput"
    _pt(split / "train.pt", {"edge": train})
    for name, edges in (("valid", valid), ("test", test)):
        negatives = _shared_negatives(rng, num_nodes, pairs, num_negatives)
        _pt(split / f"{name}.pt", {"edge": edges, "edge_neg": negatives})
    return folder


def write_citation2(
    root: Path,
    *,
    num_nodes: int = 1100,
    num_train: int = 2500,
    num_eval: int = 30,
    num_negatives: int = 1000,
    features: int = 16,
    seed: int = 0,
) -> Path:
    """ogbl-citation2's layout under ``root/ogbl_citation2`` (split ``time``); returns it.

    Directed citations ``source -> target``; validation and test hold ``num_eval`` citations
    each with ``num_negatives`` negative targets per source (OGB: 1,000), which are neither
    the source, nor a neighbour of it in any stage, nor repeated within the row.
    """
    rng = np.random.default_rng(seed)
    folder = root / "ogbl_citation2"
    pairs = _undirected_pairs(rng, num_nodes, num_train + 2 * num_eval)
    train = pairs[:num_train]
    valid, test = pairs[num_train : num_train + num_eval], pairs[num_train + num_eval :]
    x = rng.standard_normal((num_nodes, features)).astype(np.float32)
    _common(folder, num_nodes, train, x)
    _csv(folder / "raw" / "node_year.csv.gz", rng.integers(1990, 2020, (num_nodes, 1)))
    neighbours: dict[int, set[int]] = {}
    for u, v in pairs.tolist():
        neighbours.setdefault(u, set()).add(v)
        neighbours.setdefault(v, set()).add(u)
    split = folder / "split" / "time"
    _pt(split / "train.pt", {"source_node": train[:, 0].copy(), "target_node": train[:, 1].copy()})
    for name, edges in (("valid", valid), ("test", test)):
        rows = []
        for source in edges[:, 0].tolist():
            allowed = np.setdiff1d(np.arange(num_nodes), [source, *neighbours[source]])
            rows.append(rng.choice(allowed, num_negatives, replace=False))
        _pt(
            split / f"{name}.pt",
            {
                "source_node": edges[:, 0].copy(),
                "target_node": edges[:, 1].copy(),
                "target_node_neg": np.stack(rows).astype(np.int64),
            },
        )
    return folder


def write_link_fixture(root: Path, name: str, **options: int) -> Path:
    """The fixture of OGB link dataset ``name`` (``'ogbl-collab'``, ``'ogbl-ppa'``,
    ``'ogbl-citation2'``) under ``root``, in ogb's folder ``root/ogbl_<name>``."""
    writers = {
        "ogbl-collab": write_collab,
        "ogbl-ppa": write_ppa,
        "ogbl-citation2": write_citation2,
    }
    return writers[name](root, **options)
