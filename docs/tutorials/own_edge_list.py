"""Bring your own edge list: from a text file to a trained NCNC and scored candidate links.

What this tutorial teaches:

1. ``graphpair.data.read_edge_list`` reads a CSV / TSV / whitespace file of edges whose node
   ids may be any strings; it relabels them ``0 .. N - 1`` (the original ids stay in
   ``data.node_ids``), stores both directions and drops self loops and repeated edges;
2. ``graphpair.data.link_split`` turns any single graph into an audited link split (NCN's
   protocol by default, or ``protocol='random'`` with your fractions);
3. a graph without node features gets a learned embedding per node
   (``MPNNEncoder(None, ..., num_embeddings=N)``), and NCNC trains on it with target link
   removal (``adj.masked(pairs)``), exactly as on a registered dataset;
4. ``graphpair.train.evaluate_link`` scores validation and test with OGB's metrics;
5. scoring new candidate pairs by name, for a node's most likely missing links.

Without ``--edges`` the script writes a small sample file (a clustered social graph with
string ids) to a temporary folder and uses it. With your own file:
``python docs/tutorials/own_edge_list.py --edges my_edges.csv`` (about 10 s on a 2-core CPU
for the sample graph).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import networkx as nx
import torch
from torch import Tensor

from graphpair.data import link_split, negative_sampling, read_edge_list
from graphpair.metrics import Evaluator
from graphpair.nn import MPNNEncoder, NCNCPredictor
from graphpair.ops import CSR, common_neighbors
from graphpair.train import bce_loss, evaluate_link


def write_sample_edge_list(folder: Path, num_nodes: int, seed: int = 0) -> Path:
    """A tab-separated edge list with string ids, a comment header and an ignored third
    column, as exported by many tools. The graph has heavy-tailed degrees and many triangles
    (Holme-Kim), the structure that common-neighbour link predictors exploit."""
    graph = nx.powerlaw_cluster_graph(num_nodes, 3, 0.7, seed=seed)
    path = folder / "friends.tsv"
    with path.open("w") as handle:
        # String ids cannot tell a header from an edge, so the header is a comment line.
        handle.write("# user_a\tuser_b\tsince\n")
        for u, v in graph.edges():
            handle.write(f"user{u:04d}\tuser{v:04d}\t{2000 + (u * v) % 25}\n")
    return path


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=Path, default=None, help="your edge list (csv/tsv/txt)")
    parser.add_argument("--nodes", type=int, default=1000, help="size of the sample graph")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny settings (tests)")
    args = parser.parse_args(argv)
    if args.quick:
        args.nodes, args.epochs, args.hidden = 300, 10, 32

    with tempfile.TemporaryDirectory() as tmp:
        path = args.edges or write_sample_edge_list(Path(tmp), args.nodes, args.seed)
        # ---- 1. read the file -------------------------------------------------------------
        data = read_edge_list(path)  # Data(edge_index=[2, 2E], num_nodes=N, node_ids=[...])
    num_nodes = int(data.num_nodes)
    names: list[str] = [str(v) for v in getattr(data, "node_ids", range(num_nodes))]
    index = {name: i for i, name in enumerate(names)}
    print(f"read {path.name}: {num_nodes} nodes, {data.edge_index.size(1) // 2} edges")

    # ---- 2. split ------------------------------------------------------------------------
    # NCN's protocol: ~70 / 10 / 20 % of the edges; validation and test negatives drawn from
    # the non-edges of the whole graph; audited for leakage; a function of the seed only.
    split = link_split(data, args.seed)
    print(split)

    # ---- 3. model --------------------------------------------------------------------------
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    # No features: x=None means "node ids 0..N-1", each with its own learned embedding.
    encoder = MPNNEncoder(None, args.hidden, 2, conv="gcn", num_embeddings=num_nodes, ln=True)
    predictor = NCNCPredictor(args.hidden, args.hidden, ln=True, tailact=True)
    optimizer = torch.optim.Adam([*encoder.parameters(), *predictor.parameters()], lr=0.01)

    train_graph = split.edge_index("train")  # both directions of the training edges
    adj = CSR.from_edge_index(train_graph, num_nodes)
    train_pos = split.train_pos
    num_pos = train_pos.size(1)
    batch = min(args.batch_size, num_pos)
    losses: list[float] = []
    tick = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        encoder.train()
        predictor.train()
        neg_all = negative_sampling(
            train_graph, num_nodes, num_pos, directed=True, generator=generator
        )  # [2, P]: one random non-edge per positive
        perm = torch.randperm(num_pos, generator=generator)
        total, steps = 0.0, 0
        for start in range(0, num_pos - batch + 1, batch):
            idx = perm[start : start + batch]
            pos, neg = train_pos[:, idx], neg_all[:, idx]
            optimizer.zero_grad()
            with adj.masked(pos) as masked:  # target link removal for this step
                h = encoder(None, masked)
                loss = bce_loss(predictor(h, masked, pos), predictor(h, masked, neg))
                loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            total += float(loss.detach())
            steps += 1
        losses.append(total / steps)
        if epoch == 1 or epoch % 10 == 0 or epoch == args.epochs:
            print(f"  epoch {epoch:3d}  loss {losses[-1]:.4f}")
    seconds = time.perf_counter() - tick

    # ---- 4. evaluate -----------------------------------------------------------------------
    metrics = ("rocauc", "hits@20")
    valid, test = evaluate_link(encoder, predictor, None, adj, adj, split, metrics, 8192)
    print(
        f"trained in {seconds:.1f} s; valid ROC-AUC {valid['rocauc']:.4f}, "
        f"test ROC-AUC {test['rocauc']:.4f}, test Hits@20 {test['hits@20']:.4f}"
    )
    # Is the model worth it? Compare with the common-neighbour count on the same graph.
    cn = {
        name: Evaluator(name)(
            {
                "y_pred_pos": cn_count(adj, split.test_pos),
                "y_pred_neg": cn_count(adj, split.test_neg),
            }
        )[name]
        for name in metrics
    }
    print(f"common-neighbour count: test ROC-AUC {cn['rocauc']:.4f}, Hits@20 {cn['hits@20']:.4f}")

    # ---- 5. score candidate links ------------------------------------------------------------
    # For predictions, let messages use every known edge (train + valid + test).
    full = CSR.from_edge_index(data.edge_index, num_nodes)
    encoder.eval()
    predictor.eval()
    person = names[int(full.degree().argmax())]  # the best-connected node, as an example
    u = index[person]
    candidates = torch.arange(num_nodes)
    candidates = candidates[(candidates != u) & ~full.has_edge(_pairs(u, candidates))]
    with torch.no_grad():
        h = encoder(None, full)
        probability = torch.sigmoid(predictor(h, full, _pairs(u, candidates)))  # [C]
    top = probability.topk(5)
    suggestions = [(names[int(candidates[i])], float(p)) for p, i in zip(*top, strict=True)]
    print(f"most likely new links of {person}:")
    for name, p in suggestions:
        print(f"  {person} - {name}: {p:.3f}")

    return {
        "num_nodes": num_nodes,
        "num_edges": int(data.edge_index.size(1) // 2),
        "losses": losses,
        "valid_rocauc": valid["rocauc"],
        "test_rocauc": test["rocauc"],
        "test_hits@20": test["hits@20"],
        "cn_test_rocauc": cn["rocauc"],
        "cn_test_hits@20": cn["hits@20"],
        "node": person,
        "suggestions": suggestions,
    }


def cn_count(adj: CSR, pairs: Tensor) -> Tensor:
    """Number of common neighbours of every pair ``[P]`` (the classic heuristic)."""
    found = common_neighbors(adj, pairs)  # (pair_idx, node_idx), sorted by pair
    return torch.bincount(found.pair_idx, minlength=pairs.size(1)).double()


def _pairs(u: int, others: Tensor) -> Tensor:
    """The pairs ``(u, k)`` for every ``k`` in ``others``, as ``[2, K]``."""
    return torch.stack([torch.full_like(others, u), others])


if __name__ == "__main__":
    main()
