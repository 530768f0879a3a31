"""UniqueSignature: balanced accuracy of SINC-GCN against SIR-GCN, GIN, GraphSAGE and GCN.

The synthetic node-classification task of the NCMP / SINC-GCN paper (`specs/sinc.md` §4,
`graphpair.data.load_dataset('UniqueSignature', p=..., num_features=...)`): G(n, p) graphs
with n uniform in 30..70, integer features x in F values centred on 0, and y_u = 1 iff some
neighbour v has x_v equal to the neighbourhood sum S_u. 5,000 graphs, the first 80% train, the
rest test; the grid p in {0.3, 0.5, 0.7} x F in {3, 5, 7}.

The authors' protocol, as far as the CPU allows (the section *Protocol* below says what was
run): one convolution of width 16, ReLU, then `Linear(16, 1, bias=False)`; `BCEWithLogits`;
AdamW (lr 1e-3, PyTorch's default weight decay 0.01); `ReduceLROnPlateau(factor 0.5,
patience 10)` on the epoch's mean training loss; mini-batches of 256 graphs reshuffled every
epoch; test balanced accuracy (`graphpair.metrics.balanced_accuracy`, logit > 0) after the last
epoch. Convolutions: `graphpair.nn.SINCConv(1, 16)` (sum / sum, ReLU messages: 352 parameters
with the head, as published) and `SIRConv(1, 16)` (336); PyG's `GINConv` with the MLP
`Lin(1, 16) > ReLU > Lin(16, 16)`, `SAGEConv(1, 16, aggr='max', project=True)` (the pool
aggregator) and `GCNConv(1, 16)`. Published (10 runs, 500 epochs): SINC-GCN 0.9957-1.0000 in
every cell, SIR-GCN 0.5000, GraphSAGE (pool) 0.50, GIN 0.80-0.86, GCN 0.50-0.67.

A full run keeps every cell's result in `results/unique_signature.json`, keyed by the protocol
(epochs, runs, lr, graphs, batch), so the grid can be measured in pieces with `--cells` on a
slow machine; the report shows every stored cell of the current protocol.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn import GCNConv, GINConv, SAGEConv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    RESULTS_DIR,
    add_common_arguments,
    command_line,
    markdown_table,
    publish,
    resolve_data_root,
)
from graphpair.data import load_dataset
from graphpair.metrics import balanced_accuracy
from graphpair.nn import SINCConv, SIRConv

THREADS = 1
MODELS = ("SINC", "SIR", "GIN", "SAGE", "GCN")
GRID_P = (0.3, 0.5, 0.7)
GRID_F = (3, 5, 7)
HIDDEN = 16
#: Every full-run result, one record per (protocol, cell, model).
STORE = RESULTS_DIR / "unique_signature.json"
#: The published balanced accuracy range over the nine cells (reference READMEs).
PUBLISHED = {
    "SINC": "0.9957-1.0000",
    "SIR": "0.5000",
    "GIN": "0.80-0.86",
    "SAGE": "0.50",
    "GCN": "0.50-0.67",
}


@dataclass(frozen=True)
class Config:
    """Sizes of one run."""

    epochs: int
    runs: int
    lr: float
    num_graphs: int
    batch_size: int
    models: tuple[str, ...]
    cells: tuple[tuple[float, int], ...]
    data_root: Path
    quick: bool

    def protocol_key(self) -> str:
        """What makes two results comparable: epochs, runs, lr, graphs, batch size."""
        return (
            f"epochs={self.epochs} runs={self.runs} lr={self.lr:g} "
            f"graphs={self.num_graphs} batch={self.batch_size}"
        )


class NodeClassifier(torch.nn.Module):
    """One convolution (width 16), ReLU, ``Linear(16, 1, bias=False)``: a logit per node."""

    def __init__(self, model: str) -> None:
        super().__init__()
        self.conv: torch.nn.Module
        if model == "SINC":
            self.conv = SINCConv(1, HIDDEN, hidden_channels=HIDDEN)
        elif model == "SIR":
            self.conv = SIRConv(1, HIDDEN, hidden_channels=HIDDEN)
        elif model == "GIN":
            mlp = torch.nn.Sequential(
                torch.nn.Linear(1, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, HIDDEN)
            )
            self.conv = GINConv(mlp)
        elif model == "SAGE":
            self.conv = SAGEConv(1, HIDDEN, aggr="max", project=True)
        elif model == "GCN":
            self.conv = GCNConv(1, HIDDEN)
        else:
            raise ValueError(f"model must be one of {list(MODELS)}; got {model!r}")
        self.head = torch.nn.Linear(HIDDEN, 1, bias=False)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        out: Tensor = self.head(torch.relu(self.conv(x, edge_index))).view(-1)
        return out


class Packed:
    """All graphs of one cell concatenated, so a batch of graphs is a few index operations."""

    def __init__(self, graphs: list[Data]) -> None:
        self.x = torch.cat([g.x for g in graphs])  # [N_total, 1]
        self.y = torch.cat([g.y for g in graphs])  # [N_total]
        self.edge_index = torch.cat([g.edge_index for g in graphs], 1)  # local ids [2, E_total]
        nodes = torch.tensor([g.num_nodes for g in graphs])
        edges = torch.tensor([g.edge_index.size(1) for g in graphs])
        self.node_ptr = torch.cat([torch.zeros(1, dtype=torch.long), nodes.cumsum(0)])
        self.edge_ptr = torch.cat([torch.zeros(1, dtype=torch.long), edges.cumsum(0)])

    @staticmethod
    def _ranges(ptr: Tensor, ids: Tensor) -> tuple[Tensor, Tensor]:
        """Positions of the items of graphs ``ids`` in order, and each item's rank in ``ids``."""
        counts = ptr[ids + 1] - ptr[ids]
        owner = torch.repeat_interleave(torch.arange(ids.numel()), counts)
        starts = torch.cumsum(counts, 0) - counts
        offset = torch.arange(int(counts.sum())) - starts[owner]
        return ptr[ids][owner] + offset, owner

    def batch(self, ids: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(x, edge_index, y)`` of the graphs ``ids`` as one disconnected graph."""
        nodes, _ = self._ranges(self.node_ptr, ids)
        edges, owner = self._ranges(self.edge_ptr, ids)
        counts = self.node_ptr[ids + 1] - self.node_ptr[ids]
        shift = torch.cumsum(counts, 0) - counts  # first node of each graph in the batch
        edge_index = self.edge_index[:, edges] + shift[owner]
        return self.x[nodes], edge_index, self.y[nodes]


def train_one(
    model_name: str, train: Packed, test: Packed, config: Config, seed: int
) -> tuple[float, float, float]:
    """Train one model; returns (test balanced accuracy, final train loss, seconds)."""
    torch.manual_seed(seed)
    model = NodeClassifier(model_name)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=10)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    num_train = train.node_ptr.numel() - 1
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    epoch_loss = float("nan")
    for _ in range(config.epochs):
        model.train()
        order = torch.randperm(num_train, generator=generator)
        total, count = 0.0, 0
        for lo in range(0, num_train, config.batch_size):
            x, edge_index, y = train.batch(order[lo : lo + config.batch_size])
            optimizer.zero_grad()
            loss = loss_fn(model(x, edge_index), y.float())
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * y.numel()
            count += y.numel()
        epoch_loss = total / count
        scheduler.step(epoch_loss)
    model.eval()
    with torch.no_grad():
        x, edge_index, y = test.batch(torch.arange(test.node_ptr.numel() - 1))
        pred = (model(x, edge_index) > 0).long()
    return balanced_accuracy(y, pred), epoch_loss, time.perf_counter() - start


def parameter_count(model_name: str) -> int:
    return sum(p.numel() for p in NodeClassifier(model_name).parameters())


def run_cell(p: float, num_features: int, config: Config) -> list[dict[str, Any]]:
    """Train every model on one cell; one record per model (accuracies per run and more)."""
    dataset = load_dataset(
        "UniqueSignature",
        root=config.data_root,
        p=p,
        num_features=num_features,
        num_graphs=config.num_graphs,
    )
    graphs = [dataset.graphs[i] for i in range(len(dataset.graphs))]
    train = Packed([graphs[i] for i in dataset.split["train"].tolist()])
    test = Packed([graphs[i] for i in dataset.split["test"].tolist()])
    positive = float(torch.cat([train.y, test.y]).float().mean())
    records = []
    for name in config.models:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        results = [train_one(name, train, test, config, seed) for seed in range(config.runs)]
        record = {
            "protocol": config.protocol_key(),
            "p": p,
            "F": num_features,
            "model": name,
            "accuracies": [r[0] for r in results],
            "final_loss": statistics.mean(r[1] for r in results),
            "seconds": sum(r[2] for r in results),
            "positive_rate": positive,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load": load,
            "command": command_line(),
        }
        print(
            f"  p={p}, F={num_features}, {name}: bacc "
            + ", ".join(f"{a:.4f}" for a in record["accuracies"])
            + f" (final train loss {record['final_loss']:.4f}, {record['seconds']:.0f} s)",
            flush=True,
        )
        records.append(record)
    return records


def fmt_accuracy(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def parse_cells(text: str | None, quick: bool) -> tuple[tuple[float, int], ...]:
    if text is None:
        if quick:
            return ((0.3, 3), (0.7, 7))
        return tuple((p, f) for p in GRID_P for f in GRID_F)
    cells = []
    for item in text.split():
        p, f = item.split(",")
        cells.append((float(p), int(f)))
    return tuple(cells)


def load_store(path: Path) -> list[dict[str, Any]]:
    """Every record measured so far (``[]`` if there is no store yet)."""
    if not path.is_file():
        return []
    records: list[dict[str, Any]] = json.loads(path.read_text())
    return records


def save_store(path: Path, records: list[dict[str, Any]]) -> None:
    """Write the store atomically (temp file, then rename)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(records, indent=1) + "\n")
    os.replace(tmp, path)


def merge(store: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``store`` with the records of ``new`` replacing those of the same protocol, cell and
    model."""

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return (r["protocol"], r["p"], r["F"], r["model"])

    fresh = {key(r) for r in new}
    return [r for r in store if key(r) not in fresh] + new


def protocol_fields(key: str) -> dict[str, str]:
    """``'epochs=20 runs=1 ...'`` -> ``{'epochs': '20', 'runs': '1', ...}``."""
    return dict(item.split("=", 1) for item in key.split())


def protocol_sections(records: list[dict[str, Any]], key: str) -> list[str]:
    """The tables of every stored cell measured under the protocol ``key``."""
    fields = protocol_fields(key)
    mine = [r for r in records if r["protocol"] == key]
    cells = sorted({(r["p"], r["F"]) for r in mine})
    models = [m for m in MODELS if any(r["model"] == m for r in mine)]
    by_key = {(r["p"], r["F"], r["model"]): r for r in mine}
    runs = int(fields["runs"])
    rows, loss_rows, when_rows = [], [], []
    for p, f in cells:
        found = [by_key[(p, f, m)] for m in models if (p, f, m) in by_key]
        rows.append(
            [str(p), str(f), f"{found[0]['positive_rate']:.4f}"]
            + [
                fmt_accuracy(by_key[(p, f, m)]["accuracies"]) if (p, f, m) in by_key else "-"
                for m in models
            ]
        )
        loss_rows.append(
            [str(p), str(f)]
            + [
                f"{by_key[(p, f, m)]['final_loss']:.4f}" if (p, f, m) in by_key else "-"
                for m in models
            ]
        )
        when_rows.extend(
            [str(p), str(f), r["model"], r["date"], r["load"], f"{r['seconds'] / 60:.1f} min"]
            for r in found
        )
    commands = sorted({r["command"] for r in mine})
    title = (
        f"## {fields['epochs']} epochs, lr {fields['lr']}, {runs} run(s) per cell "
        f"(seeds 0..{runs - 1}), batch {fields['batch']} graphs, {int(fields['graphs']):,} "
        "graphs per cell"
    )
    params = ", ".join(f"{m} {parameter_count(m)}" for m in models)
    return [
        title,
        f"Parameters (conv + head): {params}. "
        + ("Mean ± std over runs." if runs > 1 else "One run per cell.")
        + " Published (10 runs x 500 epochs, lr 1e-3), range over the nine cells: "
        + ", ".join(f"{m} {PUBLISHED[m]}" for m in models)
        + ".",
        "### Test balanced accuracy",
        markdown_table(["p", "F", "positive rate", *models], rows),
        "### Mean training loss in the last epoch",
        markdown_table(["p", "F", *models], loss_rows),
        "### Measurements",
        "When each model was trained on each cell (UTC), the load average (1, 5, 15 min) when "
        "it started and its training time, then the commands that measured this protocol.",
        markdown_table(["p", "F", "model", "date", "load", "training"], when_rows),
        "\n".join(f"- `{c}`" for c in commands),
    ]


def report_sections(records: list[dict[str, Any]], elapsed: float) -> list[str]:
    """A section per protocol in the store, the shortest training first."""
    keys = sorted(
        {r["protocol"] for r in records},
        key=lambda k: (int(protocol_fields(k)["epochs"]), k),
    )
    sections = [
        f"torch on {THREADS} thread. This invocation trained for {elapsed / 60:.1f} min; the "
        "results below may come from several invocations (`--cells`, `--models`), each listed "
        "under its protocol's *Measurements*."
    ]
    for key in keys:
        sections += protocol_sections(records, key)
    return sections


def main(argv: list[str] | None = None) -> Path:
    """Train the chosen models on the chosen cells and write ``results/unique_signature.md``.

    Full runs keep every cell's result in ``results/unique_signature.json``, so the grid can
    be measured in several invocations (``--cells``); the report shows every stored cell of
    the current protocol. ``--quick`` runs keep nothing.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--epochs", type=int, default=None, help="default 500 (--quick: 3)")
    parser.add_argument("--runs", type=int, default=None, help="seeds per cell (default 1)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument(
        "--cells", default=None, help="space-separated 'p,F' cells (default: the 3 x 3 grid)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(THREADS)
    config = Config(
        epochs=args.epochs if args.epochs is not None else (3 if args.quick else 500),
        runs=args.runs if args.runs is not None else 1,
        lr=args.lr,
        num_graphs=500 if args.quick else 5000,
        batch_size=256,
        models=tuple(args.models),
        cells=parse_cells(args.cells, args.quick),
        data_root=resolve_data_root(args.data_root),
        quick=args.quick,
    )

    start = time.perf_counter()
    new: list[dict[str, Any]] = []
    for p, num_features in config.cells:
        new += run_cell(p, num_features, config)
    elapsed = time.perf_counter() - start
    if config.quick:
        records = new
    else:
        records = merge(load_store(STORE), new)
        save_store(STORE, records)
    sections = [__doc__.split("\n\n", 1)[1], *report_sections(records, elapsed)]
    return publish("unique_signature", "UniqueSignature (NCMP paper)", sections, args.quick)


if __name__ == "__main__":
    main()
