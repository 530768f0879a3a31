"""``graphpair demo``: the link-prediction job in miniature on the embedded default graph,
then a short tour of the ops layer on the Les Misérables graph (no download)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import torch

from graphpair._version import __version__
from graphpair.data import link_split, load_dataset
from graphpair.metrics import Evaluator
from graphpair.ops import CSR, common_neighbors, neighbor_overlap, random_walk_powers

__all__ = ["add_demo_parser"]


def _builtin_edge_index() -> tuple[torch.Tensor, int]:
    import networkx as nx

    graph = nx.convert_node_labels_to_integers(nx.les_miserables_graph())
    edges = torch.tensor(sorted(graph.edges()), dtype=torch.long).t()
    return edges, graph.number_of_nodes()


def _cn_scores(adj: CSR, pairs: torch.Tensor) -> torch.Tensor:
    """Number of common neighbours of each pair, the classic link heuristic."""
    return torch.bincount(common_neighbors(adj, pairs).pair_idx, minlength=pairs.size(1)).double()


def _link_job(args: argparse.Namespace) -> None:
    out = sys.stdout
    dataset = load_dataset("default", seed=args.seed)
    split = link_split(dataset, seed=args.seed)  # audited: raises on any leakage
    sizes = split.sizes()
    print(
        f"graphpair {__version__} demo: dataset {dataset.name!r} "
        f"({dataset.data.num_nodes} nodes, {dataset.data.edge_index.size(1) // 2} edges), "
        f"split {split.protocol!r} seed {args.seed}: {sizes['train_pos']} train / "
        f"{sizes['valid_pos']} valid / {sizes['test_pos']} test positives, audit passed",
        file=out,
    )
    adj = CSR.from_edge_index(split.edge_index("test"), split.num_nodes)
    evaluator = Evaluator.from_dataset(dataset.name)
    result = evaluator(
        {
            "y_pred_pos": _cn_scores(adj, split.test_pos),
            "y_pred_neg": _cn_scores(adj, split.test_neg),
        }
    )
    print(
        f"  common-neighbour scorer on the test split: {evaluator.metric} = "
        f"{result[evaluator.metric]:.4f}",
        file=out,
    )


def _demo(args: argparse.Namespace) -> int:
    out = sys.stdout
    _link_job(args)
    generator = torch.Generator().manual_seed(args.seed)
    edge_index, num_nodes = _builtin_edge_index()
    num_undirected = edge_index.size(1)
    print(
        f"ops tour: the Les Misérables co-occurrence graph "
        f"({num_nodes} nodes, {num_undirected} edges)",
        file=out,
    )

    # Hold out 10% of the edges as link-prediction targets; the rest is the observed graph.
    perm = torch.randperm(num_undirected, generator=generator)
    num_test = max(1, num_undirected // 10)
    test_pos = edge_index[:, perm[:num_test]]
    adj = CSR.from_edge_index(edge_index[:, perm[num_test:]], num_nodes)
    print(f"  observed graph: {adj}", file=out)

    # Negatives: uniformly drawn node pairs that are neither observed nor held out.
    full = CSR.from_edge_index(edge_index, num_nodes)
    cand = torch.randint(0, num_nodes, (2, 20 * num_test), generator=generator)
    cand = cand[:, (cand[0] != cand[1]) & ~full.has_edge(cand)]
    test_neg = cand[:, :num_test]

    pos_cn = torch.bincount(
        common_neighbors(adj, test_pos).pair_idx, minlength=test_pos.size(1)
    ).float()
    neg_cn = torch.bincount(
        common_neighbors(adj, test_neg).pair_idx, minlength=test_neg.size(1)
    ).float()
    wins = (pos_cn.view(-1, 1) > neg_cn.view(1, -1)).float() + 0.5 * (
        pos_cn.view(-1, 1) == neg_cn.view(1, -1)
    ).float()
    print(
        f"  common neighbours: held-out edges {pos_cn.mean():.2f} on average, "
        f"non-edges {neg_cn.mean():.2f}; "
        f"a held-out edge outranks a non-edge {wins.mean():.1%} of the time",
        file=out,
    )

    # Target link removal: the batch's own edges vanish from the structure for one step.
    batch = edge_index[:, perm[num_test : num_test + 4]]
    before = neighbor_overlap(adj, batch)
    with adj.masked(batch):
        during = neighbor_overlap(adj, batch)
        masked = adj.num_masked
    print(
        f"  target link removal: masked {masked} entries for a batch of {batch.size(1)} "
        f"training edges; neighbour differences {before.i_only.node_idx.numel()} -> "
        f"{during.i_only.node_idx.numel()} "
        f"(the targets themselves drop out), common neighbours unchanged: "
        f"{torch.equal(before.common.node_idx, during.common.node_idx)}",
        file=out,
    )

    rw = random_walk_powers(full.to_edge_index(), walk_length=args.walk_length, num_nodes=num_nodes)
    rows = torch.zeros(num_nodes, args.walk_length).index_add_(0, rw.pair_index[0], rw.pair_val)
    print(
        f"  random-walk powers (K={args.walk_length}): {rw.pair_index.size(1)} reachable pairs of "
        f"{num_nodes * num_nodes}; every channel's rows sum to 1: "
        f"{bool(torch.allclose(rows, torch.ones_like(rows)))}; "
        f"return probability of node 0 after 2 steps {rw.node_val[0, 2]:.3f}",
        file=out,
    )
    return 0


def add_demo_parser(sub: Any) -> None:
    """The ``demo`` subcommand."""
    demo = sub.add_parser("demo", help="tour of the ops layer on a built-in graph (no download)")
    demo.add_argument(
        "--seed", type=int, default=0, help="random seed for the held-out split (default: 0)"
    )
    demo.add_argument(
        "--walk-length",
        type=int,
        default=8,
        help="random-walk channels K, identity included (default: 8)",
    )
    demo.set_defaults(func=_demo)
