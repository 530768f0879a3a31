"""Saved link models: load, score 1M pairs and recommend top-K, on ogbl-ddi and a 1M-node graph.

Issue 24's benchmark, through the public path only (`graphpair.load_model` and the
`SavedLinkModel` it returns):

- **ogbl-ddi**: an NCN with ddi's shipped configuration (`link_config('ogbl-ddi', 'ncn')`:
  `puresum`, hidden 224, a learned node-id embedding of N + 1 rows), saved with ddi's training
  graph (both directions, as the runner saves it): `load_model` time, then scoring 1,000,000
  uniformly random pairs with `score` (the run's `test_batch_size`, 131,072 pairs a batch);
  then `recommend` for 1,000 random nodes with K = 20. ddi has 4,267 nodes, more than
  `ALL_PAIRS_BELOW` = 4,096, so its candidates are the nodes within two hops (on this dense
  graph most nodes: see the candidate counts).
- **power-law, N = 1,000,000**: a Chung-Lu (expected-degree) graph with a power-law degree
  sequence, `recommend` for random nodes with K = 20 with a small NCN (the `default` shipped
  configuration with `node_input='id'` and hidden 64: `puregcn`, one layer, a learned
  1,000,001-row id embedding). Candidates are the nodes within two hops, so the table also
  gives how many candidates a query node had (median, max over the measured nodes).

The model folders are written by the benchmark with `graphpair.train._artifact.write_model`
(the arguments `train_link(save_model=)` passes) from **freshly built, untrained** modules
(`graphpair.train.build_encoder`, `build_predictor`, torch seed 0): the weights' values do
not change the work done, only which targets come out on top, so no training is spent.

Every case runs in a **fresh interpreter** (a child process of this file) whose address space
is capped at its size after the imports plus 85 % of the memory available when it starts
(`RLIMIT_AS`, as `ulimit -v`), so a case that does not fit fails with an error instead of
waking the OOM killer. The child times `import graphpair` (torch already imported),
`load_model` (reading and checking the files, rebuilding the modules, the CSR and the graph
fingerprint), the encoder's pass over the whole graph (`embed()`: computed on first use and
cached by the model, so it is reported on its own and the later calls reuse it), then the
operation. Memory: *process peak RSS* is the child's `ru_maxrss` at its end (interpreter,
torch, the loaded model and everything the operation held at its peak); *peak extra* is the
operation's own high-water mark (`/proc/self/clear_refs` reset, `VmHWM` after minus `VmRSS`
before, with `MALLOC_MMAP_THRESHOLD_=131072` as in `_common.peak_memory`), encoding included.
`load_model` is run in separate fresh processes and its median reported.

`recommend` is called on chunks of the query nodes until they are all done or a time budget is
spent; where the budget ran out first, the per-node cost is measured on the nodes done and the
figure for all of them is an **extrapolation** (marked so), not a measurement. Candidate counts
come from `SavedLinkModel.candidates` called again after the timing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    _max_rss_bytes,
    _status_bytes,
    add_common_arguments,
    cap_memory,
    fmt_bytes,
    fmt_time,
    load_ddi,
    markdown_table,
    publish,
    reset_peak,
    resolve_data_root,
)

# graphpair itself is imported inside the functions: the child process times its import.

#: Environment of the children: allocations above 128 KiB are fresh mappings (see _common).
_CHILD_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072"}
_ALLOC_ERRORS = ("can't allocate memory", "cannot allocate memory", "out of memory")


@dataclass(frozen=True)
class Config:
    """Sizes of one run."""

    score_pairs: int
    score_repeats: int
    """Timed `score` calls after the encoding (median reported)."""
    load_repeats: int
    """Fresh processes that time `load_model` (median reported)."""
    k: int
    ddi_nodes: int
    """Query nodes of `recommend` on ogbl-ddi (or its quick stand-in)."""
    stand_in_nodes: int
    """Quick mode: N of the power-law graph that stands in for ogbl-ddi (0: use ogbl-ddi)."""
    big_nodes: int
    big_mean_degree: float
    big_exponent: float
    big_hidden: int
    big_queries: int
    chunk: int
    """Query nodes per `recommend` call (the budget is checked between calls)."""
    budget_s: float
    """Time budget of one `recommend` case before it stops and extrapolates."""
    data_root: Path
    quick: bool

    @classmethod
    def from_args(cls, quick: bool, data_root: str | None) -> Config:
        root = resolve_data_root(data_root)
        if quick:  # no ogbl-ddi: a 3,000-node power-law graph takes its place
            return cls(5_000, 1, 1, 20, 5, 3_000, 20_000, 10.0, 2.5, 16, 20, 10, 30.0, root, True)
        return cls(
            1_000_000, 2, 3, 20, 1_000, 0, 1_000_000, 10.0, 2.5, 64, 1_000, 25, 420.0, root, False
        )


# ---------------------------------------------------------------------- graphs and folders


def power_law_graph(num_nodes: int, mean_degree: float, exponent: float, seed: int) -> Tensor:
    """A Chung-Lu graph: ``round(mean_degree * N / 2)`` edges whose endpoints are drawn
    independently with probability proportional to expected degrees
    :math:`w_i \\propto (i + 1)^{-1/(\\gamma - 1)}` (a power law of exponent
    :math:`\\gamma` = ``exponent``), scaled to mean ``mean_degree``; node ids are shuffled so
    the hubs are not the first rows. Self loops are dropped and duplicates merged by the CSR
    later, so the realised mean degree is a little lower.

    Memory is O(N + E): one cumulative distribution and the endpoint draws, never N x N.

    Returns:
        Edges ``[2, E]``, one direction each.
    """
    generator = torch.Generator().manual_seed(seed)
    rank = torch.arange(1, num_nodes + 1, dtype=torch.float64)
    weight = rank.pow(-1.0 / (exponent - 1.0))  # expected degrees up to a factor, [N]
    cdf = torch.cumsum(weight, 0)
    cdf /= cdf[-1].clone()
    num_edges = round(mean_degree * num_nodes / 2)
    draws = torch.rand(2, num_edges, generator=generator, dtype=torch.float64)  # [2, E]
    ends = torch.searchsorted(cdf, draws).clamp_(max=num_nodes - 1)  # rounding at the top
    del draws
    ids = torch.randperm(num_nodes, generator=generator)
    edge_index = ids[ends]
    return edge_index[:, edge_index[0] != edge_index[1]]


def write_link_folder(folder: Path, config: Any, edge_index: Tensor, num_nodes: int) -> dict:
    """Write a link model folder as `train_link(save_model=)` does, from untrained modules.

    Returns facts about the stored graph for the report.
    """
    from torch_geometric.data import Data

    from graphpair.data import symmetrize
    from graphpair.ops import CSR
    from graphpair.train import build_encoder, build_predictor
    from graphpair.train._artifact import graph_fingerprint, write_model
    from graphpair.train._link_builder import node_input

    train_graph = symmetrize(edge_index, num_nodes)  # what the runner saves: both directions
    _, in_channels, num_embeddings = node_input(config, Data(num_nodes=num_nodes))
    torch.manual_seed(0)
    encoder = build_encoder(config, in_channels, num_embeddings)
    predictor = build_predictor(config)
    adj = CSR.from_edge_index(train_graph, num_nodes)
    write_model(
        folder,
        kind="link",
        config=config.to_dict(),
        config_class=type(config).__name__,
        weights={"encoder": encoder.state_dict(), "predictor": predictor.state_dict()},
        metrics={"note": "untrained modules written by benchmarks/bench_saved_model.py"},
        build={"in_channels": in_channels, "num_embeddings": num_embeddings},
        graph={"edge_index": train_graph, "num_nodes": num_nodes},
        graph_print=graph_fingerprint(adj, None),
    )
    degree = adj.degree()
    files = sum(p.stat().st_size for p in folder.iterdir())
    return {
        "num_nodes": num_nodes,
        "entries": adj.num_edges,
        "mean_degree": adj.num_edges / max(num_nodes, 1),
        "median_degree": float(degree.float().median()),
        "max_degree": int(degree.max()),
        "folder_bytes": files,
        "parameters": sum(p.numel() for m in (encoder, predictor) for p in m.parameters()),
    }


# ---------------------------------------------------------------------- child process


def _timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run_child(case: dict[str, Any]) -> dict[str, Any]:
    """One case in this (fresh) process: import, load, then ``case['op']``."""
    allowed = cap_memory()
    import_s, _ = _timed(lambda: __import__("graphpair"))
    from graphpair import load_model

    out: dict[str, Any] = {"import_s": import_s, "cap_bytes": allowed}
    out["load_s"], model = _timed(lambda: load_model(case["folder"]))
    out["rss_after_load"] = _status_bytes("VmRSS")
    if case["op"] == "load":
        out["max_rss"] = _max_rss_bytes()
        return out
    generator = torch.Generator().manual_seed(case["seed"])
    num_nodes = model.num_nodes
    before = reset_peak()
    out["embed_s"], h = _timed(model.embed)
    out["embed_shape"] = list(h.shape)
    if case["op"] == "score":
        pairs = torch.randint(0, num_nodes, (2, case["num_pairs"]), generator=generator)
        times = []
        for _ in range(case["repeats"]):
            seconds, probs = _timed(partial(model.score, pairs))
            times.append(seconds)
        if probs.shape != (case["num_pairs"],) or not bool(torch.isfinite(probs).all()):
            raise AssertionError(f"score gave {probs.shape} with non-finite values")
        out["score_s"] = times
    else:
        nodes = torch.randperm(num_nodes, generator=generator)[: case["num_queries"]].tolist()
        done, times = 0, []
        while done < len(nodes):
            batch = nodes[done : done + case["chunk"]]
            seconds, rec = _timed(partial(model.recommend, batch, case["k"]))
            if rec.target.shape != (len(batch), case["k"]):
                raise AssertionError(f"recommend gave targets {tuple(rec.target.shape)}")
            times.append((len(batch), seconds))
            done += len(batch)
            if sum(t for _, t in times) > case["budget_s"]:
                break
        out["recommend"] = times
        out["done"] = done
    if before is not None:
        out["peak_extra"] = _status_bytes("VmHWM") - before
    if case["op"] == "recommend":
        # After the timing and the peak: the candidate pools of the nodes recommended for.
        out["candidates"] = [int(model.candidates(v).numel()) for v in nodes[: out["done"]]]
    out["max_rss"] = _max_rss_bytes()
    return out


def spawn(case: dict[str, Any]) -> dict[str, Any]:
    """Run one case in a fresh interpreter; its answer, or ``{'error': message}``."""
    result = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(case)],
        capture_output=True,
        text=True,
        env={**os.environ, **_CHILD_ENV},
        check=False,
    )
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or [f"exit {result.returncode}"]
        if any(s in result.stderr.lower() for s in _ALLOC_ERRORS):
            return {"error": f"out of memory under the address-space cap: {tail[0]}"}
        raise RuntimeError(f"child {case} failed (exit {result.returncode}):\n{result.stderr}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


# ---------------------------------------------------------------------- cases and tables


def _median(values: list[float]) -> float:
    return statistics.median(values)


def graph_line(name: str, facts: dict[str, Any]) -> str:
    return (
        f"**{name}**: N = {facts['num_nodes']:,}, {facts['entries']:,} stored entries (both "
        f"directions), degree mean {facts['mean_degree']:.1f}, median "
        f"{facts['median_degree']:.0f}, max {facts['max_degree']:,}; model "
        f"{facts['parameters']:,} parameters; folder {fmt_bytes(facts['folder_bytes'])}."
    )


def measure(
    name: str, folder: Path, facts: dict[str, Any], config: Config, queries: int, score: bool
) -> dict[str, Any]:
    """Every case of one model folder, each in fresh processes."""
    base = {"folder": str(folder), "seed": 0}
    print(f"  {name}: load x {config.load_repeats}", flush=True)
    loads = [spawn({**base, "op": "load"}) for _ in range(config.load_repeats)]
    out: dict[str, Any] = {"name": name, "facts": facts, "load": loads}
    if score:
        print(f"  {name}: score {config.score_pairs:,} pairs", flush=True)
        out["score"] = spawn(
            {
                **base,
                "op": "score",
                "num_pairs": config.score_pairs,
                "repeats": config.score_repeats,
            }
        )
    print(f"  {name}: recommend {queries:,} nodes, K = {config.k}", flush=True)
    out["recommend"] = spawn(
        {
            **base,
            "op": "recommend",
            "num_queries": queries,
            "k": config.k,
            "chunk": config.chunk,
            "budget_s": config.budget_s,
        }
    )
    return out


def _peak(answer: dict[str, Any]) -> str:
    return fmt_bytes(answer["peak_extra"]) if "peak_extra" in answer else "n/a (no clear_refs)"


def load_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for res in results:
        loads = res["load"]
        rows.append(
            [
                res["name"],
                fmt_time(_median([a["import_s"] for a in loads])),
                fmt_time(_median([a["load_s"] for a in loads])),
                ", ".join(fmt_time(a["load_s"]) for a in loads),
                fmt_bytes(_median([a["rss_after_load"] for a in loads])),
                fmt_bytes(_median([a["max_rss"] for a in loads])),
            ]
        )
    return rows


def score_rows(results: list[dict[str, Any]], config: Config) -> list[list[str]]:
    rows = []
    for res in results:
        answer = res.get("score")
        if answer is None:
            continue
        if "error" in answer:
            rows.append([res["name"], f"{config.score_pairs:,}", answer["error"], "", "", "", ""])
            continue
        times = answer["score_s"]
        rows.append(
            [
                res["name"],
                f"{config.score_pairs:,}",
                fmt_time(answer["load_s"]),
                fmt_time(answer["embed_s"]),
                f"{fmt_time(_median(times))} ({', '.join(fmt_time(t) for t in times)})",
                f"{config.score_pairs / _median(times):,.0f}",
                _peak(answer),
                fmt_bytes(answer["max_rss"]),
            ]
        )
    return rows


def recommend_rows(results: list[dict[str, Any]], config: Config) -> list[list[str]]:
    rows = []
    for res in results:
        answer, queries = res["recommend"], res["queries"]
        if "error" in answer:
            rows.append([res["name"], f"{queries:,}", answer["error"], *[""] * 7])
            continue
        done = answer["done"]
        seconds = sum(t for _, t in answer["recommend"])
        per_node = seconds / done
        if done == queries:
            total = f"{fmt_time(seconds)} (measured)"
        else:
            total = f"~{fmt_time(per_node * queries)} (**extrapolated** from {done:,} nodes)"
        counts = sorted(answer["candidates"])
        rows.append(
            [
                res["name"],
                f"{queries:,}",
                f"{done:,}",
                fmt_time(answer["load_s"]),
                fmt_time(answer["embed_s"]),
                fmt_time(per_node),
                total,
                f"{statistics.median(counts):,.0f} / {max(counts):,}",
                _peak(answer),
                fmt_bytes(answer["max_rss"]),
            ]
        )
    return rows


def tables(results: list[dict[str, Any]], config: Config) -> list[str]:
    cap = fmt_bytes(results[0]["load"][0]["cap_bytes"])
    sections = [
        f"Address-space cap of the first child: its size after the imports + {cap}.",
        f"## load_model (median of {config.load_repeats} fresh processes)",
        markdown_table(
            [
                "model",
                "import graphpair",
                "load_model",
                "each load",
                "RSS after load",
                "process peak RSS",
            ],
            load_rows(results),
        ),
    ]
    rows = score_rows(results, config)
    if rows:
        sections += [
            f"## score (one fresh process; median of {config.score_repeats} calls after the "
            "encoding)",
            markdown_table(
                [
                    "model",
                    "pairs",
                    "load_model",
                    "encode (embed, once)",
                    "score (each call)",
                    "pairs / s",
                    "peak extra (encode + score)",
                    "process peak RSS",
                ],
                rows,
            ),
        ]
    sections += [
        f"## recommend, K = {config.k} (one fresh process; encoding done once before)",
        f"Called on {config.chunk} query nodes at a time until all are done or "
        f"{config.budget_s:.0f} s of `recommend` time is spent. *Candidates*: the pool "
        "`recommend` scores for a node (median / max over the nodes done).",
        markdown_table(
            [
                "model",
                "query nodes",
                "measured on",
                "load_model",
                "encode (embed, once)",
                "per node",
                "all query nodes",
                "candidates median / max",
                "peak extra (encode + recommend)",
                "process peak RSS",
            ],
            recommend_rows(results, config),
        ),
    ]
    return sections


def main(argv: list[str] | None = None) -> Path:
    """Run the benchmark and write ``results/saved_model.md`` (``.quick.md``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(run_child(json.loads(args.child))))
        sys.exit(0)
    config = Config.from_args(args.quick, args.data_root)

    from graphpair.train import link_config

    notes: list[str] = []
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_saved_model.") as tmp:
        # ogbl-ddi, or its quick stand-in.
        ddi_config = link_config("ogbl-ddi", "ncn")
        if config.stand_in_nodes:
            name = f"stand-in for ogbl-ddi: power-law N = {config.stand_in_nodes:,}"
            edges = power_law_graph(config.stand_in_nodes, 10.0, 2.5, seed=1)
            num_nodes = config.stand_in_nodes
        else:
            name = "ogbl-ddi"
            try:
                graph = load_ddi(config.data_root)
                edges, num_nodes = graph.edge_index, graph.num_nodes
            except FileNotFoundError as err:
                edges = None
                notes.append(f"**ogbl-ddi: skipped.** {err}")
                print(notes[-1], flush=True)
        if edges is not None:
            print(f"writing {name}", flush=True)
            facts = write_link_folder(Path(tmp) / "ddi", ddi_config, edges, num_nodes)
            del edges
            notes.append(graph_line(f"{name}, NCN with ddi's shipped configuration", facts))
            res = measure(name, Path(tmp) / "ddi", facts, config, config.ddi_nodes, True)
            res["queries"] = config.ddi_nodes
            results.append(res)
        # The large power-law graph.
        name = f"power-law N = {config.big_nodes:,}"
        print(f"generating and writing {name}", flush=True)
        big_config = link_config(
            "default", "ncn", node_input="id", hidden_channels=config.big_hidden
        )
        edges = power_law_graph(config.big_nodes, config.big_mean_degree, config.big_exponent, 0)
        facts = write_link_folder(Path(tmp) / "big", big_config, edges, config.big_nodes)
        del edges
        notes.append(
            graph_line(
                f"{name}: Chung-Lu, exponent {config.big_exponent}, "
                f"{round(config.big_mean_degree * config.big_nodes / 2):,} drawn edges (seed 0); "
                f"NCN of the `default` configuration, node_input='id', hidden {config.big_hidden}",
                facts,
            )
        )
        res = measure(name, Path(tmp) / "big", facts, config, config.big_queries, False)
        res["queries"] = config.big_queries
        results.append(res)
    notes.append(f"Total run time: {time.perf_counter() - started:.0f} s.")

    sizes = {k: v for k, v in asdict(config).items() if k not in ("data_root", "quick")}
    sections = [
        __doc__.split("\n\n", 1)[1],
        f"Data root: `{config.data_root}`. Sizes: `{sizes}`.",
        *notes,
        *tables(results, config),
    ]
    return publish("saved_model", "Saved link models: load, score, recommend", sections, args.quick)


if __name__ == "__main__":
    main()
