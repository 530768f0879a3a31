"""Contrastive objectives on nodes: GRACE pre-training, a linear probe, and SupCon.

What this tutorial teaches:

1. ``graphpair.train.train_grace``: GRACE (Zhu et al. 2020) in one call: two randomly
   corrupted views of the graph per epoch, ``graphpair.losses.grace`` between their
   projections, then ``linear_probe`` (an L2-penalised logistic regression, its penalty chosen
   on validation) on the frozen representations; the CLI equivalent is ``graphpair pretrain``;
2. the same recipe written out with the library's pieces (``GRACEEncoder``, ``drop_feature``,
   PyG's ``dropout_edge``, ``grace``), so the loss can be watched epoch by epoch, and the probe
   compared with two baselines: the raw features, and the same encoder before training;
3. ``graphpair.losses.SupConLoss``: the supervised contrastive loss, where nodes that share a
   label are the positives of each other, trained on the few labelled nodes and probed the
   same way.

The graph is Planetoid Cora when its raw files are found (``--data-root`` or
``$GRAPHPAIR_DATA``), else the embedded Cora-sized default graph (features and 7 classes, no
files needed). Run ``python docs/tutorials/contrastive_pretraining.py`` (under a minute on a
2-core CPU) or ``--quick``.
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from torch import Tensor
from torch_geometric.utils import dropout_edge

from graphpair.data import data_root, get_spec, load_dataset
from graphpair.losses import SupConLoss, grace
from graphpair.nn import MPNNEncoder
from graphpair.nn.encoders import GRACEEncoder, drop_feature
from graphpair.train import GRACEConfig, grace_config, linear_probe, train_grace


def probe_masks(data: object, seed: int) -> tuple[Tensor, Tensor, Tensor]:
    """The graph's public split if it has one (Cora), else Planetoid's recipe drawn from
    ``seed``: 20 training nodes per class, 500 validation and 1,000 test nodes."""
    if hasattr(data, "train_mask"):
        return data.train_mask, data.val_mask, data.test_mask  # type: ignore[attr-defined]
    y: Tensor = data.y  # type: ignore[attr-defined]
    generator = torch.Generator().manual_seed(seed)
    train = torch.zeros_like(y, dtype=torch.bool)
    for label in torch.unique(y).tolist():
        members = (y == label).nonzero().view(-1)
        train[members[torch.randperm(members.numel(), generator=generator)[:20]]] = True
    rest = (~train).nonzero().view(-1)
    rest = rest[torch.randperm(rest.numel(), generator=generator)]
    valid = torch.zeros_like(train)
    test = torch.zeros_like(train)
    valid[rest[:500]] = True
    test[rest[500:1500]] = True
    return train, valid, test


def grace_by_hand(
    config: GRACEConfig, x: Tensor, edge_index: Tensor
) -> tuple[GRACEEncoder, GRACEEncoder, list[float]]:
    """GRACE's training loop; returns the encoder before and after training, and the losses."""
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    model = GRACEEncoder(
        x.size(1),
        config.hidden_channels,
        config.proj_channels,
        num_layers=config.num_layers,
        activation=config.activation,
    )
    untrained = copy.deepcopy(model)  # the starting point, kept for the baseline
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    losses = []
    for _ in range(config.epochs):
        model.train()
        optimizer.zero_grad()
        views = []
        for p_edge, p_feature in (
            (config.drop_edge_1, config.drop_feature_1),
            (config.drop_edge_2, config.drop_feature_2),
        ):
            kept = dropout_edge(edge_index, p=p_edge)[0]  # drop edges at random
            masked = drop_feature(x, p_feature, generator=generator)  # zero feature columns
            views.append(model.project(model(masked, kept)))  # [N, D] projected view
        # Row i of one view is the positive of row i of the other; every other row of
        # both views is a negative.
        loss = grace(views[0], views[1], temperature=config.temperature)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        losses.append(float(loss.detach()))
    return untrained.eval(), model.eval(), losses


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="folder of the offline datasets")
    parser.add_argument("--epochs", type=int, default=15, help="GRACE epochs")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--lr", type=float, default=None, help="GRACE's: 5e-4 on Cora")
    parser.add_argument("--supcon-epochs", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="tiny settings (tests)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.hidden, args.supcon_epochs, args.lr = 4, 32, 15, 5e-3

    root = data_root(args.data_root)
    name = "Cora" if get_spec("cora").files_present(root) else "default"
    data = load_dataset(name, root, download=False).data
    train, valid, test = probe_masks(data, seed=0)
    print(f"{name}: {data.num_nodes} nodes, {int(train.sum())} labelled training nodes")

    # ---- 1. GRACE in one call ----------------------------------------------------------------
    # Cora's published GRACE configuration (GRACE_CONFIGS), with a shorter run.
    config = grace_config(
        name,
        epochs=args.epochs,
        hidden_channels=args.hidden,
        proj_channels=args.hidden,
        **({} if args.lr is None else {"lr": args.lr}),
        data_root=None if root is None else str(root),
        download=False,
    )
    tick = time.perf_counter()
    result = train_grace(config)
    print(
        f"train_grace: {config.epochs} epochs in {time.perf_counter() - tick:.1f} s, "
        f"probe valid {result.valid[0]:.4f}, test {result.test[0]:.4f}"
    )

    # ---- 2. the same recipe by hand, and two baselines ----------------------------------------
    x = data.x.float()
    x = x / x.sum(1, keepdim=True).clamp_min(1.0)  # row-normalised, as GRACE does
    untrained, encoder, losses = grace_by_hand(config, x, data.edge_index)
    print(f"GRACE by hand: loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    with torch.no_grad():
        probes = {
            "raw features": linear_probe(x, data.y, train, valid, test),
            "untrained encoder": linear_probe(
                untrained(x, data.edge_index), data.y, train, valid, test
            ),
            "GRACE encoder": linear_probe(encoder(x, data.edge_index), data.y, train, valid, test),
        }
    for label, (val_acc, test_acc) in probes.items():
        print(f"  linear probe on {label:18}: valid {val_acc:.4f}, test {test_acc:.4f}")

    # ---- 3. SupCon with the labels -------------------------------------------------------------
    torch.manual_seed(0)
    gcn = MPNNEncoder(x.size(1), args.hidden, 2, conv="gcn", dropout=0.5)
    before = linear_probe(gcn.eval()(x, data.edge_index).detach(), data.y, train, valid, test)
    loss_fn = SupConLoss(temperature=0.1)  # positives: the other nodes of the same class
    optimizer = torch.optim.Adam(gcn.parameters(), lr=0.01, weight_decay=5e-4)
    supcon_losses = []
    for _ in range(args.supcon_epochs):
        gcn.train()
        optimizer.zero_grad()
        z = gcn(x, data.edge_index)  # [N, D], the whole graph encoded
        loss = loss_fn(z[train], data.y[train])  # only the labelled nodes are compared
        loss.backward()
        optimizer.step()
        supcon_losses.append(float(loss.detach()))
    gcn.eval()
    with torch.no_grad():
        after = linear_probe(gcn(x, data.edge_index), data.y, train, valid, test)
    print(
        f"SupCon: loss {supcon_losses[0]:.4f} -> {supcon_losses[-1]:.4f}; linear probe test "
        f"{before[1]:.4f} before training, {after[1]:.4f} after"
    )
    return {
        "dataset": name,
        "train_grace_test": result.test[0],
        "grace_losses": losses,
        "probe_raw_test": probes["raw features"][1],
        "probe_untrained_test": probes["untrained encoder"][1],
        "probe_grace_test": probes["GRACE encoder"][1],
        "supcon_losses": supcon_losses,
        "supcon_before_test": before[1],
        "supcon_after_test": after[1],
    }


if __name__ == "__main__":
    main()
