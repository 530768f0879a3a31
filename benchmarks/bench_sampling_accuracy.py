"""Does sampling break learning? Sampled vs full-batch link training, side by side (issue 22).

Two comparisons, each over several seeds with the same short budget for both samplers:

- **ogbl-ddi** (real data, OGB's split, ``--data-root`` / ``$GRAPHPAIR_DATA``): NCN with the
  shipped configuration cut to ``--epochs`` epochs, ``sampler='full'`` against
  ``sampler='neighbor'`` with each of ``--ddi-fanouts`` (its ``puresum`` encoder's sampled
  sums weighted to be unbiased), Hits@20 on OGB's split;
- **a stand-in with planted structure**: a triadic-closure graph (every new node links to a
  random node and, with probability ``--closure``, to one of its neighbours: friends of friends
  become friends, so common neighbours predict links), NCN against GAE under both samplers,
  ROC-AUC, fanout ``--fanout``; NCN should beat GAE under both.

``--quick`` shrinks everything to a smoke test (written to ``sampling_accuracy.quick.md``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    DATA_ENV_VAR,
    add_common_arguments,
    command_line,
    machine_info,
    markdown_table,
    publish,
    resolve_data_root,
)
from graphpair.train import link_config, train_link


def triadic_closure(num_nodes: int, closure: float, seed: int) -> Path:
    """A triadic-closure graph written as a tab-separated edge list in a temporary folder."""
    import tempfile

    gen = torch.Generator().manual_seed(seed)
    neighbors: list[list[int]] = [[] for _ in range(num_nodes)]
    edges = []
    for v in range(1, num_nodes):
        u = int(torch.randint(0, v, (1,), generator=gen))
        picks = [u]
        if neighbors[u] and float(torch.rand(1, generator=gen)) < closure:
            picks.append(
                neighbors[u][int(torch.randint(0, len(neighbors[u]), (1,), generator=gen))]
            )
        for w in set(picks):
            edges.append((w, v))
            neighbors[w].append(v)
            neighbors[v].append(w)
    path = Path(tempfile.mkdtemp(prefix="graphpair-triadic-")) / "triadic.tsv"
    path.write_text("".join(f"{a}\t{b}\n" for a, b in edges))
    return path


def _runs(config: Any) -> list[float]:
    result = train_link(config)
    return [run.best[config.metric].test for run in result.runs]


def _cell(values: list[float]) -> str:
    mean = 100 * statistics.mean(values)
    std = 100 * statistics.pstdev(values) if len(values) > 1 else 0.0
    return f"{mean:.2f} ± {std:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--fanout", default="10", help="the triadic-closure rows' fanout")
    parser.add_argument("--ddi-fanouts", default="10,100", help="one ddi row per fanout")
    parser.add_argument("--closure", type=float, default=0.8)
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--skip-ddi", action="store_true")
    args = parser.parse_args()
    fanout = tuple(int(f) for f in args.fanout.split(","))
    seeds = 1 if args.quick else args.seeds
    sections = [machine_info(), f"Command: `{command_line()}`"]

    rows = []
    if not args.skip_ddi and not args.quick:
        root = resolve_data_root(args.data_root)
        ddi_fanouts = [int(f) for f in args.ddi_fanouts.split(",")]
        for sampler, ddi_fanout in [("full", None), *(("neighbor", f) for f in ddi_fanouts)]:
            config = link_config(
                "ogbl-ddi",
                "ncn",
                epochs=args.epochs,
                runs=seeds,
                sampler=sampler,
                fanout=(ddi_fanout or -1,),
                data_root=str(root),
                device="cpu",
            )
            tick = time.perf_counter()
            values = _runs(config)
            rows.append(
                (
                    "ogbl-ddi",
                    "NCN",
                    sampler if ddi_fanout is None else f"{sampler}, fanout {ddi_fanout}",
                    config.metric,
                    _cell(values),
                    f"{time.perf_counter() - tick:.0f} s",
                )
            )
            print(rows[-1], flush=True)
    nodes = 300 if args.quick else args.nodes
    path = triadic_closure(nodes, args.closure, 0)
    for predictor in ("ncn", "gae"):
        for sampler in ("full", "neighbor"):
            config = link_config(
                edge_list=str(path),
                predictor=predictor,
                epochs=2 if args.quick else 20,
                runs=seeds,
                sampler=sampler,
                fanout=fanout,
                metrics=("rocauc",),
                metric="rocauc",
                device="cpu",
                num_layers=2,
                conv="sage",
            )
            tick = time.perf_counter()
            values = _runs(config)
            rows.append(
                (
                    f"triadic closure ({nodes} nodes)",
                    predictor.upper(),
                    sampler if sampler == "full" else f"{sampler}, fanout {fanout}",
                    "rocauc",
                    _cell(values),
                    f"{time.perf_counter() - tick:.0f} s",
                )
            )
            print(rows[-1], flush=True)
    sections.append(
        f"Test metric ×100, mean ± std over {seeds} seed(s) (data: `${DATA_ENV_VAR}`); "
        f"ddi {args.epochs} epoch(s), triadic closure 20 epochs "
        "(2 with --quick), 2 SAGE layers.\n\n"
        + markdown_table(("graph", "model", "sampler", "metric", "test", "time"), rows)
    )
    publish("sampling_accuracy", "Sampled vs full-batch link training", sections, args.quick)


if __name__ == "__main__":
    main()
