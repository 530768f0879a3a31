"""How much of the graph one sampled link step encodes (issue 22: why a sampled epoch grows as E^2).

A sampled NCN step encodes the computation subgraph of the nodes its predictor reads (the
endpoints of its pairs and their common neighbours). When that subgraph covers nearly every
node, the step's encoder works on all N nodes and an epoch, whose steps grow with E, grows
about as E^2 however the neighbours are drawn. This counts, on the ppa stand-ins of
``bench_scale.py`` (NCN's random split, the shipped ``ogbl-ppa`` NCN configuration:
``batch_size`` positives a step, fanout 10 per layer, 3 layers), for ``--draws`` random
batches of training positives with as many uniform random pairs, on the graph with the
positives masked (target link removal):

- the nodes read (``graphpair.train._link_sampling.needed_nodes``), as a share of N;
- the nodes and edges of the sampled computation subgraph (``neighbor_sample``), as shares of
  N and of the stored entries.

No timing: the counts explain the epoch times of ``scale.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import add_common_arguments, markdown_table, publish
from benchmarks.bench_scale import standin


def coverage(fraction: float, draws: int) -> list[tuple[object, ...]]:
    """One row per draw at ``fraction`` of the ppa stand-in."""
    from torch_geometric.data import Data

    from graphpair.data import link_split
    from graphpair.ops import CSR, neighbor_sample
    from graphpair.train import link_config
    from graphpair.train._link_builder import build_predictor
    from graphpair.train._link_sampling import needed_nodes, sampler_fanout

    edges, n = standin("ppa", fraction)
    edge_index = torch.from_numpy(edges)
    data = Data(edge_index=torch.cat([edge_index, edge_index.flip(0)], 1), num_nodes=n)
    split = link_split(data, 0, audit=False)
    adj = CSR.from_edge_index(split.edge_index("train"), n)
    config = link_config("ogbl-ppa", "ncn", device="cpu", sampler="neighbor")
    predictor = build_predictor(config)
    fanout = sampler_fanout(config)
    assert fanout is not None
    generator = torch.Generator().manual_seed(0)
    steps = split.train_pos.size(1) // config.batch_size
    rows: list[tuple[object, ...]] = []
    for draw in range(draws):
        batch = torch.randperm(split.train_pos.size(1), generator=generator)
        pos = split.train_pos[:, batch[: config.batch_size]]
        neg = torch.randint(0, n, pos.shape, generator=generator)
        with adj.masked(pos) as graph:
            nodes = needed_nodes(predictor, graph, torch.cat([pos, neg], 1))
            sub = neighbor_sample(graph, nodes, fanout, generator=generator)
        rows.append(
            (
                f"{fraction:g}",
                f"{n:,}",
                f"{adj.num_active_edges:,}",
                f"{steps:,}",
                draw,
                f"{nodes.numel():,} ({nodes.numel() / n:.1%})",
                f"{sub.node.numel():,} ({sub.node.numel() / n:.1%})",
                f"{sub.edge_index.size(1):,} ({sub.edge_index.size(1) / adj.num_active_edges:.1%})",
            )
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--fractions", default="0.0625,0.25,1")
    parser.add_argument("--draws", type=int, default=3)
    args = parser.parse_args()
    fractions = [0.004] if args.quick else [float(f) for f in args.fractions.split(",")]
    rows = [row for fraction in fractions for row in coverage(fraction, args.draws)]
    header = (
        "fraction",
        "nodes",
        "stored entries",
        "steps an epoch",
        "draw",
        "nodes read",
        "sampled nodes",
        "sampled edges",
    )
    section = "## ppa stand-in, NCN (shipped ppa configuration)\n\n" + markdown_table(header, rows)
    publish(
        "sampled_coverage", "One sampled link step's computation subgraph", [section], args.quick
    )


if __name__ == "__main__":
    main()
