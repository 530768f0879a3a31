"""Link prediction with NCNC on Cora, twice: the runner, then the loop it runs.

What this tutorial teaches:

1. where graphpair finds data: Planetoid Cora from the offline raw files (``--data-root``
   or ``$GRAPHPAIR_DATA``), and otherwise the embedded Cora-sized default graph, which needs
   no file and no network;
2. the high-level API: ``link_config("cora", "ncnc", ...)`` gives the NCN paper's shipped
   configuration with overrides, and ``train_link(config)`` trains, evaluates and selects the
   best epoch on validation;
3. what ``train_link`` does underneath, spelled out with the library's pieces: the audited
   link split (``link_split``), the training graph as a ``CSR``, the ``MPNNEncoder`` and
   ``NCNCPredictor``, per-epoch negatives, target link removal with ``adj.masked(pairs)``,
   NCN's loss, and Hits@K from ``graphpair.metrics.Evaluator``;
4. a sanity check against the common-neighbour count, the heuristic NCN builds on.

Run ``python docs/tutorials/link_prediction_cora.py`` (about a minute on a 2-core CPU) or
``--quick`` for a few seconds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch import Tensor

from graphpair.data import data_root, get_spec, link_split, load_dataset, negative_sampling
from graphpair.metrics import Evaluator
from graphpair.nn import MPNNEncoder, NCNCPredictor
from graphpair.ops import CSR, common_neighbors
from graphpair.train import EpochRecord, LinkConfig, bce_loss, link_config, train_link


def choose_dataset(requested: str, root: Path | None) -> str:
    """``requested`` if its files are there (or it needs none), else the embedded default."""
    spec = get_spec(requested)
    if spec.files_present(root):
        return spec.name
    print(f"{spec.name} files not found under {root}; using the embedded default graph instead")
    return "default"


def score(predictor: NCNCPredictor, h: Tensor, adj: CSR, pairs: Tensor, batch_size: int) -> Tensor:
    """Logits of ``pairs`` ``[2, P]``, ``batch_size`` pairs at a time."""
    chunks = [
        predictor(h, adj, pairs[:, start : start + batch_size])
        for start in range(0, pairs.size(1), batch_size)
    ]
    return torch.cat(chunks)


def hits(pos: Tensor, neg: Tensor, ks: tuple[int, ...]) -> dict[str, float]:
    """OGB's Hits@K of positive scores against the shared pool of negative scores."""
    out: dict[str, float] = {}
    for k in ks:
        out.update(Evaluator(f"hits@{k}")({"y_pred_pos": pos, "y_pred_neg": neg}))
    return out


def manual_run(config: LinkConfig, root: Path | None) -> dict[str, float]:
    """One run of ``config`` written out: what ``train_link`` does for seed ``config.seed``."""
    seed = config.seed
    dataset = load_dataset(config.dataset, root, download=False)
    data = dataset.data
    # NCN's Planetoid protocol: ~70 / 10 / 20 % of the edges, negatives drawn from the
    # non-edges of the full graph, a function of the seed only; audited for leakage.
    split = link_split(dataset, seed)
    print(f"split: {split}")

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)  # every draw of the loop comes from it
    # [N, F] bag of words, 1.3 % nonzero: handed over as a sparse tensor, as the runner does;
    # the encoder keeps it sparse through its first Linear and drops out only the nonzeros.
    x = data.x.float().to_sparse().coalesce()
    encoder = MPNNEncoder(
        x.size(1),
        config.hidden_channels,
        config.num_layers,
        conv=config.conv,  # 'puregcn': D^-1/2 (A + I) D^-1/2 x, no weights in the propagation
        input_dropout=config.input_dropout,
        tail_dropout=config.tail_dropout,
        dropout=config.dropout,
        edge_dropout=config.edge_dropout,
        ln=config.ln,
        res=config.res,
        jk=config.jk,
    )
    predictor = NCNCPredictor(
        config.hidden_channels,
        config.hidden_channels,
        ln=config.predictor_ln,
        dropout=config.predictor_dropout,
        edge_dropout=config.predictor_edge_dropout,
        use_xlin=config.use_xlin,
        tailact=config.tailact,
        twolayerlin=config.twolayerlin,
        beta=config.beta,
        scale=config.scale,  # completion calibration tau, mu, pi, alpha of the paper
        offset=config.offset,
        pt=config.pt,
        alpha=config.alpha,
        chunk_size=config.chunk_size,
        official_recursion=config.official_recursion,
    )
    optimizer = torch.optim.Adam(
        [
            {"params": list(encoder.parameters()), "lr": config.gnnlr},
            {"params": list(predictor.parameters()), "lr": config.prelr},
        ]
    )

    # Messages pass over the training edges only, stored both ways in a sorted CSR.
    train_graph = split.edge_index("train")  # [2, 2 * P_train]
    adj = CSR.from_edge_index(train_graph, split.num_nodes)
    train_pos = split.train_pos  # [2, P_train], one direction per edge
    num_pos, batch = train_pos.size(1), config.batch_size
    losses = []
    for epoch in range(1, config.epochs + 1):
        encoder.train()
        predictor.train()
        # One uniform non-edge of the training graph per positive, drawn once per epoch.
        neg_all = negative_sampling(
            train_graph, split.num_nodes, num_pos, directed=True, generator=generator
        )
        perm = torch.randperm(num_pos, generator=generator)
        total = 0.0
        steps = 0
        for start in range(0, num_pos - batch + 1, batch):  # full batches only
            idx = perm[start : start + batch]
            pos, neg = train_pos[:, idx], neg_all[:, idx]  # [2, B] each
            optimizer.zero_grad()
            # Target link removal: the batch's positives are switched off in both directions
            # of the CSR for this step only (no rebuild), so a pair cannot see its own edge.
            with adj.masked(pos) as masked:
                h = encoder(x, masked)  # [N, D] from the whole graph
                loss = bce_loss(predictor(h, masked, pos), predictor(h, masked, neg))
                loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            total += float(loss.detach())
            steps += 1
        losses.append(total / steps)
        print(f"  manual epoch {epoch:3d}  loss {losses[-1]:.4f}")

    # Evaluation: nothing masked; validation and test pairs scored on the training graph.
    encoder.eval()
    predictor.eval()
    with torch.no_grad():
        h = encoder(x, adj)
        results = {}
        for stage in ("valid", "test"):
            pos = score(predictor, h, adj, split.pos(stage), config.test_batch_size)
            neg = score(predictor, h, adj, split.neg(stage), config.test_batch_size)
            for name, value in hits(pos, neg, (20, 50, 100)).items():
                results[f"{stage}_{name}"] = value

        # The heuristic NCN builds on: count the common neighbours on the training graph.
        def cn_count(pairs: Tensor) -> Tensor:
            found = common_neighbors(adj, pairs)  # (pair_idx, node_idx), sorted by pair
            return torch.bincount(found.pair_idx, minlength=pairs.size(1)).double()

        cn = hits(cn_count(split.test_pos), cn_count(split.test_neg), (100,))
    results["cn_test_hits@100"] = cn["hits@100"]
    results["first_loss"], results["last_loss"] = losses[0], losses[-1]
    return results


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset",
        default="cora",
        choices=["cora", "citeseer", "default"],
        help="a link dataset with node features (default: Cora, else the embedded graph)",
    )
    parser.add_argument("--data-root", default=None, help="folder of the offline datasets")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--quick", action="store_true", help="tiny settings (tests)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.hidden = 2, 32

    root = data_root(args.data_root)
    name = choose_dataset(args.dataset, root)
    # The shipped configuration of the paper (Cora's for the default graph), with overrides.
    config = link_config(
        name,
        "ncnc",
        epochs=args.epochs,
        hidden_channels=args.hidden,
        runs=1,
        data_root=None if root is None else str(root),
        download=False,
    )
    print(f"dataset {config.dataset}: NCNC, {config.epochs} epochs, width {args.hidden}")

    # ---- 1. the runner -------------------------------------------------------------------
    def on_epoch(run: int, record: EpochRecord) -> None:
        print(
            f"  runner epoch {record.epoch:3d}  loss {record.loss:.4f}  "
            f"valid hits@100 {record.valid['hits@100']:.4f}"
        )

    tick = time.perf_counter()
    result = train_link(config, on_epoch=on_epoch)
    runner_seconds = time.perf_counter() - tick
    best = result.runs[0].best["hits@100"]  # the epoch of best validation Hits@100
    print(
        f"runner: best epoch {best.epoch}, valid hits@100 {best.valid:.4f}, "
        f"test hits@100 {best.test:.4f} ({runner_seconds:.1f} s)"
    )

    # ---- 2. the same run, written out ------------------------------------------------------
    tick = time.perf_counter()
    manual = manual_run(config, root)
    manual_seconds = time.perf_counter() - tick
    print(
        "manual: after the last epoch "
        + ", ".join(f"{k} {v:.4f}" for k, v in manual.items() if k.startswith("test_"))
        + f" ({manual_seconds:.1f} s)"
    )
    last = result.runs[0].history[-1]  # the runner's last epoch, the state the loop ends in
    # Same seed, same draws, same order: on one CPU thread the two agree bit for bit; with
    # several threads, float sums may be ordered differently from run to run.
    print(
        f"runner's last epoch: test hits@100 {last.test['hits@100']:.4f}; the loop's: "
        f"{manual['test_hits@100']:.4f}"
    )
    print(f"common-neighbour count: test hits@100 {manual['cn_test_hits@100']:.4f}")
    return {
        "dataset": config.dataset,
        "runner_test_hits@100": best.test,
        "runner_valid_hits@100": best.valid,
        "runner_last_test_hits@100": last.test["hits@100"],
        "runner_losses": [record.loss for record in result.runs[0].history],
        **manual,
    }


if __name__ == "__main__":
    main()
