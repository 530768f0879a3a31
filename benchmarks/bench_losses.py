"""Pair losses: graphpair against pytorch-metric-learning (PML), the chunked path at scale, and
GRACE on Cora.

1. **Speed.** Every loss on the same float32 embeddings `[N, D]` (N = 4,096, D = 128, standard
   normal, fixed seed) with labels of 32 rows per class (128 classes); GRACE gets two views of
   N rows each. Time is one forward *and* backward pass (`loss.backward()`), the median of the
   calls after one warm-up call; the two values are checked equal first (float32, rtol 1e-4).
   PML is not run where it would need `PML_MAX_BYTES` (1 GiB) or more for one intermediate
   tensor: its NT-Xent builds a `[positive pairs, negative pairs]` matrix and its triplet loss
   lists every triplet; the table gives the size, and a second table compares those losses at
   a size where PML fits.
2. **Memory at N = 65,536.** Each loss that needs the N x N matrix (16 GiB in float32) on
   `[65,536, 128]` float32 embeddings (GRACE: two views of 32,768 rows, the same 65,536
   stacked rows), forward and backward, in a fresh process: peak extra resident memory (see
   `_common.py`) and the wall time of that one call. graphpair chooses the chunked path
   itself. PML cannot run at this size (one N x N float32 matrix is 16 GiB).
3. **GRACE on Cora** with the official Cora configuration (CRIPAC-DIG/GRACE `config.yaml`:
   2-layer GCN 1433 -> 256 -> 128 with ReLU, projection head 128 -> 128 -> 128 with ELU,
   edge-drop rates 0.2 / 0.4, feature-mask rates 0.3 / 0.4, tau = 0.4, Adam lr 5e-4, weight
   decay 1e-5, 200 epochs, row-normalised features), trained with `graphpair.losses.grace`.
   The frozen encoder output (L2-normalised) is scored two ways: a multinomial logistic
   regression on the public split (140 train / 500 validation / 1,000 test nodes; C chosen on
   validation from 2^-10..2^9) and the official protocol (`eval.py`: one-vs-rest liblinear
   logistic regression, C by 5-fold grid search over 2^-10..2^9, random 10% train / 90% test
   split, micro-F1, 3 splits). Published figure: Zhu et al. 2020, "Deep Graph Contrastive
   Representation Learning" (arXiv:2006.04131), Table 3: Cora 83.3 +- 0.4 (official protocol).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    PEAK_FALLBACK_NOTE,
    add_common_arguments,
    fmt_bytes,
    fmt_peak,
    fmt_time,
    markdown_table,
    median_time,
    peak_memory,
    publish,
    resolve_data_root,
)
from graphpair.losses import (
    LOSS_BLOCK_BYTES,
    contrastive_margin,
    grace,
    info_nce,
    multi_similarity,
    multi_similarity_miner,
    sup_con,
    triplet_margin,
)
from graphpair.nn.encoders import GRACEEncoder, drop_feature

#: PML is not run when one of its intermediate tensors would reach this.
PML_MAX_BYTES = 2**30
PER_CLASS = 32
DIM = 128
GRACE_PAPER_CORA = "83.3 +- 0.4"


@dataclass(frozen=True)
class Config:
    """Sizes of one run."""

    num: int
    """Rows of the speed comparison."""
    small: int
    """Rows of the comparison where PML's NT-Xent and triplet loss fit."""
    large: int
    """Rows of the memory measurement."""
    repeats: int
    epochs: int
    seeds: int
    data_root: Path
    quick: bool

    @classmethod
    def from_args(cls, quick: bool, data_root: str | None) -> Config:
        root = resolve_data_root(data_root)
        if quick:
            return cls(1_024, 128, 8_192, 2, 20, 1, root, quick)
        return cls(4_096, 192, 65_536, 5, 200, 3, root, quick)


# ---------------------------------------------------------------------- inputs


def embeddings(num: int, seed: int = 0, requires_grad: bool = True) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(num, DIM, generator=gen).requires_grad_(requires_grad)


def class_labels(num: int, per_class: int = PER_CLASS) -> Tensor:
    """``per_class`` rows per class, shuffled with a fixed seed."""
    gen = torch.Generator().manual_seed(1)
    labels = torch.arange(num) // per_class
    return labels[torch.randperm(num, generator=gen)]


def pair_counts(labels: Tensor) -> tuple[int, int]:
    """Ordered positive (self excluded) and negative pairs of a label vector."""
    counts = torch.unique(labels, return_counts=True)[1]
    num = labels.numel()
    positive = int((counts * (counts - 1)).sum())
    return positive, num * num - int((counts * counts).sum())


def triplet_count(labels: Tensor) -> int:
    counts = torch.unique(labels, return_counts=True)[1]
    return int((counts * (counts - 1) * (labels.numel() - counts)).sum())


# ---------------------------------------------------------------------- the loss cases


@dataclass(frozen=True)
class Case:
    """One loss: graphpair's call, PML's call, and what PML's largest tensor would cost."""

    label: str
    ours: Callable[[Tensor, Tensor], Tensor]
    theirs: Callable[[Tensor, Tensor], Tensor]
    pml_bytes: Callable[[Tensor], int]
    """Bytes of PML's largest intermediate for these labels (float32)."""
    two_views: bool = False


def _pml() -> Any:
    from pytorch_metric_learning import losses, miners

    return losses, miners


def _views(x: Tensor) -> tuple[Tensor, Tensor]:
    half = x.size(0) // 2
    return x[:half], x[half:]


def _pml_ntxent_bytes(labels: Tensor) -> int:
    positive, negative = pair_counts(labels)
    return positive * negative * 4  # n_per_p [positive pairs, negative pairs] float32


def _pml_grace_bytes(labels: Tensor) -> int:
    rows = labels.numel()  # stacked views: one positive per row, rows - 2 negatives
    return rows * rows * (rows - 2) * 4


def _pml_triplet_bytes(labels: Tensor) -> int:
    num = labels.numel()
    cube = num**3 if num**3 < 2**31 - 1 else 0  # PML's vectorised path makes an N^3 mask
    return max(cube, triplet_count(labels) * 3 * 8)


def _square_bytes(labels: Tensor) -> int:
    return labels.numel() ** 2 * 4


def _mined_ms_ours(x: Tensor, y: Tensor) -> Tensor:
    return multi_similarity(x, y, multi_similarity_miner(x, y))


def _mined_ms_pml(x: Tensor, y: Tensor) -> Tensor:
    losses, miners = _pml()
    return losses.MultiSimilarityLoss()(x, y, miners.MultiSimilarityMiner()(x, y))


CASES: dict[str, Case] = {
    "info_nce": Case(
        "InfoNCE / NT-Xent (tau 0.07)",
        lambda x, y: info_nce(x, y),
        lambda x, y: _pml()[0].NTXentLoss()(x, y),
        _pml_ntxent_bytes,
    ),
    "sup_con": Case(
        "SupCon (tau 0.1)",
        lambda x, y: sup_con(x, y),
        lambda x, y: _pml()[0].SupConLoss()(x, y),
        _square_bytes,
    ),
    "multi_similarity": Case(
        "Multi-Similarity, all pairs",
        lambda x, y: multi_similarity(x, y),
        lambda x, y: _pml()[0].MultiSimilarityLoss()(x, y),
        _square_bytes,
    ),
    "multi_similarity_mined": Case(
        "MS miner + Multi-Similarity",
        _mined_ms_ours,
        _mined_ms_pml,
        _square_bytes,
    ),
    "contrastive": Case(
        "Contrastive (margins 0, 1)",
        lambda x, y: contrastive_margin(x, y),
        lambda x, y: _pml()[0].ContrastiveLoss()(x, y),
        _square_bytes,
    ),
    "triplet": Case(
        "Triplet margin (0.05), all triplets",
        lambda x, y: triplet_margin(x, y),
        lambda x, y: _pml()[0].TripletMarginLoss()(x, y),
        _pml_triplet_bytes,
    ),
    "grace": Case(
        "GRACE (tau 0.5), two views",
        lambda x, y: grace(*_views(x)),
        lambda x, y: _pml()[0].SelfSupervisedLoss(_pml()[0].NTXentLoss(0.5))(*_views(x)),
        _pml_grace_bytes,
        two_views=True,
    ),
}
#: The losses with an N x N matrix, measured at N = 65,536.
#: The parts of the report, in order.
SECTIONS = ("speed", "memory", "grace")

LARGE = ["info_nce", "sup_con", "multi_similarity", "contrastive", "triplet", "grace"]


def forward_backward(fn: Callable[[Tensor, Tensor], Tensor], x: Tensor, y: Tensor) -> Tensor:
    x.grad = None
    loss = fn(x, y)
    loss.backward()
    return loss.detach()


# ---------------------------------------------------------------------- 1. speed


def speed_rows(names: list[str], num: int, repeats: int) -> list[list[str]]:
    """Table rows: loss, graphpair time, PML time, speed-up, agreement."""
    rows = []
    for name in names:
        case = CASES[name]
        rows_in = 2 * num if case.two_views else num
        x, y = embeddings(rows_in), class_labels(rows_in)
        print(f"  {name} at N = {num:,}", flush=True)
        ours_value = forward_backward(case.ours, x, y)  # warm-up
        ours_t = median_time(partial(forward_backward, case.ours, x, y), repeats, 0)[0]
        needed = case.pml_bytes(y)
        if needed >= PML_MAX_BYTES:
            theirs, ratio, check = f"not run: needs {fmt_bytes(needed)}", "-", "-"
        else:
            theirs_value = forward_backward(case.theirs, x, y)
            torch.testing.assert_close(ours_value, theirs_value, rtol=1e-4, atol=1e-5)
            theirs_t = median_time(partial(forward_backward, case.theirs, x, y), repeats, 0)[0]
            theirs, ratio = fmt_time(theirs_t), f"{theirs_t / ours_t:.2f}x"
            check = f"yes ({ours_value.item():.5f})"
        shape = f"2 x [{num:,}, {DIM}]" if case.two_views else f"[{num:,}, {DIM}]"
        rows.append([case.label, shape, fmt_time(ours_t), theirs, ratio, check])
    return rows


# ---------------------------------------------------------------------- 2. memory at scale


def setup_case(case: dict[str, Any]) -> Callable[[], object]:
    """Peak-memory child: build the inputs; the call runs forward and backward once and writes
    its wall time to ``case['time_file']``."""
    torch.manual_seed(0)
    spec = CASES[case["loss"]]
    x = embeddings(case["num"])
    y = class_labels(case["num"])

    def call() -> None:
        start = time.perf_counter()
        forward_backward(spec.ours, x, y)
        Path(case["time_file"]).write_text(str(time.perf_counter() - start))

    return call


def memory_rows(config: Config) -> tuple[list[list[str]], bool]:
    rows, exact = [], True
    num = config.large
    with tempfile.TemporaryDirectory() as tmp:
        for name in LARGE:
            print(f"  {name} at N = {num:,} (fresh process)", flush=True)
            time_file = Path(tmp) / f"{name}.time"
            peak = peak_memory(__file__, {"loss": name, "num": num, "time_file": str(time_file)})
            exact &= peak.exact
            seconds = float(time_file.read_text())
            shape = f"2 x [{num // 2:,}, {DIM}]" if CASES[name].two_views else f"[{num:,}, {DIM}]"
            rows.append(
                [
                    CASES[name].label,
                    shape,
                    fmt_peak(peak),
                    fmt_time(seconds),
                    fmt_bytes(num * num * 4),
                ]
            )
    return rows, exact


# ---------------------------------------------------------------------- 3. GRACE on Cora


def load_cora_data(root: Path) -> Any:
    """Cora with features, labels and the public split, read in place (row-normalised
    features, as GRACE's ``T.NormalizeFeatures()``)."""
    raw = root / "planetoid" / "Cora" / "raw"
    if not raw.is_dir():
        raise FileNotFoundError(f"Cora not found: {raw} does not exist")
    from torch_geometric.io import read_planetoid_data

    data = read_planetoid_data(str(raw), "cora")
    data.x = data.x / data.x.sum(1, keepdim=True).clamp_min(1.0)
    return data


def train_grace(data: Any, epochs: int, seed: int) -> tuple[Tensor, float]:
    """GRACE's Cora configuration; returns the frozen embeddings and seconds per epoch."""
    from torch_geometric.utils import dropout_edge

    torch.manual_seed(seed)
    model = GRACEEncoder(data.num_features, 128, 128)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4, weight_decay=1e-5)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        e1 = dropout_edge(data.edge_index, p=0.2)[0]
        e2 = dropout_edge(data.edge_index, p=0.4)[0]
        z1 = model(drop_feature(data.x, 0.3), e1)
        z2 = model(drop_feature(data.x, 0.4), e2)
        loss = grace(model.project(z1), model.project(z2), temperature=0.4)
        loss.backward()
        optimizer.step()
    per_epoch = (time.perf_counter() - start) / max(1, epochs)
    model.eval()
    with torch.no_grad():
        return model(data.x, data.edge_index), per_epoch


def probe_public_split(z: np.ndarray, data: Any) -> float:
    """Multinomial logistic regression on the public split, C chosen on validation."""
    from sklearn.linear_model import LogisticRegression

    y = data.y.numpy()
    train, val, test = (m.numpy() for m in (data.train_mask, data.val_mask, data.test_mask))
    best_c, best_val = 1.0, -1.0
    for c in 2.0 ** np.arange(-10, 10):
        clf = LogisticRegression(C=c, max_iter=2000).fit(z[train], y[train])
        score = clf.score(z[val], y[val])
        if score > best_val:
            best_c, best_val = c, score
    clf = LogisticRegression(C=best_c, max_iter=2000).fit(z[train], y[train])
    return float(clf.score(z[test], y[test]))


def probe_official(z: np.ndarray, y: np.ndarray, seed: int) -> float:
    """GRACE's ``label_classification``: 10% / 90% random split, one-vs-rest liblinear, C by
    5-fold grid search, micro-F1 of the arg-max (= accuracy)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, train_test_split
    from sklearn.multiclass import OneVsRestClassifier

    x_tr, x_te, y_tr, y_te = train_test_split(z, y, test_size=0.9, random_state=seed)
    onehot = np.eye(int(y.max()) + 1, dtype=bool)
    search = GridSearchCV(
        OneVsRestClassifier(LogisticRegression(solver="liblinear")),
        {"estimator__C": 2.0 ** np.arange(-10, 10)},
        cv=5,
    )
    search.fit(x_tr, onehot[y_tr])
    predicted = search.predict_proba(x_te).argmax(1)
    return float((predicted == y_te).mean())


def grace_section(config: Config) -> str:
    try:
        data = load_cora_data(config.data_root)
    except FileNotFoundError as error:
        return f"## GRACE on Cora\n\n**Skipped: {error}.**"
    public, official, epoch_times = [], [], []
    for seed in range(config.seeds):
        print(f"  GRACE on Cora, seed {seed}: {config.epochs} epochs", flush=True)
        z, per_epoch = train_grace(data, config.epochs, seed)
        emb = F.normalize(z, dim=1).numpy()
        public.append(probe_public_split(emb, data))
        official += [probe_official(emb, data.y.numpy(), split) for split in range(3)]
        epoch_times.append(per_epoch)

    def mean_std(values: list[float]) -> str:
        std = statistics.pstdev(values) if len(values) > 1 else 0.0
        return f"{100 * statistics.mean(values):.1f} +- {100 * std:.1f}"

    table = markdown_table(
        ["evaluation", "graphpair GRACE (accuracy %)", "runs", "GRACE paper (Table 3)"],
        [
            [
                "public split (140 / 500 / 1,000), logistic regression",
                mean_std(public),
                f"seeds: {len(public)}",
                "-",
            ],
            [
                "official protocol (10% / 90% random, 5-fold CV, micro-F1)",
                mean_std(official),
                f"seeds: {config.seeds}, x 3 splits",
                GRACE_PAPER_CORA,
            ],
        ],
    )
    return "\n\n".join(
        [
            f"## GRACE on Cora ({config.epochs} epochs, training seeds: {config.seeds})",
            table,
            f"Training: {fmt_time(statistics.median(epoch_times))} per epoch (two views, "
            f"loss on 2 x {data.num_nodes:,} rows: "
            f"{'dense' if (2 * data.num_nodes) ** 2 * 4 <= LOSS_BLOCK_BYTES else 'chunked'} "
            "path). The paper's figure uses the official protocol (random 10% / 90% splits); it "
            "reports no public-split figure.",
        ]
    )


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> Path:
    """Run the benchmark and write ``results/losses.md`` (``.quick.md``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=SECTIONS,
        default=list(SECTIONS),
        help="run only these parts; a partial run writes results/losses-<parts>.md, so it never "
        "overwrites the full report",
    )
    args = parser.parse_args(argv)
    config = Config.from_args(args.quick, args.data_root)
    sections = [__doc__.split("\n\n", 1)[1]]

    header = ["loss", "input", "graphpair", "PML", "PML / graphpair", "same value"]
    if "speed" in args.sections:
        print("speed", flush=True)
        sections += [
            f"## Speed at N = {config.num:,}, D = {DIM} (forward + backward, median of "
            f"{config.repeats}; labels: {PER_CLASS} rows per class)",
            markdown_table(header, speed_rows(list(CASES), config.num, config.repeats)),
            f"### Where PML fits: N = {config.small:,}",
            markdown_table(
                header, speed_rows(["info_nce", "triplet", "grace"], config.small, config.repeats)
            ),
        ]
    if "memory" in args.sections:
        print("memory", flush=True)
        rows, exact = memory_rows(config)
        sections += [
            f"## Chunked path at N = {config.large:,}, D = {DIM} (one forward + backward, fresh "
            "process)",
            markdown_table(
                ["loss", "input", "peak extra memory", "time", "one N x N float32 matrix"], rows
            ),
            f"graphpair chose blocks of {max(1, LOSS_BLOCK_BYTES // (config.large * 4))} anchor "
            f"rows (`LOSS_BLOCK_BYTES` = {fmt_bytes(LOSS_BLOCK_BYTES)} per `[B, N]` float32 block; "
            "the triplet loss plans its blocks at 16 bytes a cell). PML was not run: it holds "
            "N x N matrices.",
        ]
        if not exact:
            sections.append(PEAK_FALLBACK_NOTE)
    if "grace" in args.sections:
        print("GRACE on Cora", flush=True)
        sections.append(grace_section(config))
    name = "losses" if set(args.sections) == set(SECTIONS) else "-".join(["losses", *args.sections])
    return publish(name, "Pair losses", sections, args.quick)


if __name__ == "__main__":
    main()
