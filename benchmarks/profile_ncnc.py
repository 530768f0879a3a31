"""Where one NCNC training step spends its time on the OGB-scale stand-ins (issue 22).

One full-batch step of ``bench_scale.py``'s ``step`` piece (a random batch of the dataset's
shipped NCNC configuration, its positives masked) runs under :mod:`cProfile` in a fresh
interpreter with the address space capped (``--cap-gib``), after one untimed step. Reported:
the step's wall time under the profiler, the distinct completion pairs it scored (the pairs
NCNC's depth-0 level runs NCN on: the one-sided neighbours of each target pair, after the
degree caps where the configuration has them) and the functions with the most own time
(``tottime``; torch's tensor operators count inside the Python function that calls them).

A case ``graph:fraction:predictor:eval`` profiles one full evaluation instead (validation and
test in ``test_batch_size`` chunks, ``bench_scale.py``'s ``eval`` piece; no warm-up), and
``graph:fraction:predictor:eval-chunk`` one chunk of it (``test_batch_size`` random
validation pairs, ``bench_scale.py``'s ``eval-chunk``; no warm-up): the time and the work of a
scored pair at each size. Every case also counts the common-neighbour candidates walked by
the sparse path (the entries of the walked rows, each looked up in the other row; 0 where the
graph is small enough for the dense bitset path).

The predictor ``ncnc-frozen`` profiles NCNC without message passing, on frozen node
embeddings (``bench_scale.py``'s ``-frozen`` predictors).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import add_common_arguments, fmt_time, markdown_table, publish
from benchmarks.bench_scale import child_env, run_capped, standin

TOP = 12


def child(name: str, fraction: float, predictor: str, piece: str) -> None:
    from benchmarks.bench_scale import _setup
    from graphpair.nn.link import _ncnc
    from graphpair.ops import _common_neighbors

    call = _setup(name, fraction, piece, predictor)
    if piece == "step":
        call()  # warm-up: caches (transpose, keys) built once per graph
    scored: list[int] = []
    original = _ncnc.NCNCPredictor._completion_scores

    def spy(self: Any, h: Any, rows: Any, adj: Any, pairs: Any, *args: Any) -> Any:
        scored.append(int(pairs.size(1)))
        return original(self, h, rows, adj, pairs, *args)

    _ncnc.NCNCPredictor._completion_scores = spy  # type: ignore[method-assign]
    walked = [0]
    walk = _common_neighbors._walk

    def walk_spy(adj: Any, walker: Any, *args: Any) -> Any:
        walked[0] += int((adj.rowptr[walker + 1] - adj.rowptr[walker]).sum())
        return walk(adj, walker, *args)

    _common_neighbors._walk = walk_spy
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    call()
    profiler.disable()
    seconds = time.perf_counter() - start
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (path, line, func), (_, calls, own, total, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = func if path == "~" else f"{Path(path).name}:{line}({func})"
        rows.append((own, total, calls, where))
    rows.sort(reverse=True)
    top = [
        {"where": w, "calls": c, "own": o, "total": t, "share": o / seconds}
        for o, t, c, w in rows[:TOP]
    ]
    out = {"seconds": seconds, "completion_pairs": scored, "walked": walked[0], "top": top}
    print(json.dumps(out))


def measure(
    name: str, fraction: float, predictor: str, piece: str, cap_gib: float
) -> dict[str, Any]:
    """One profiled step (or evaluation) in a capped child (glibc's default allocator
    settings)."""
    argv = [__file__, "--child", name, str(fraction), predictor, piece]
    return run_capped(argv, cap_gib, None, child_env("default"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--cases", default="ppa:0.0625:ncnc,citation2:1:ncnc-frozen")
    parser.add_argument("--cap-gib", type=float, default=22.0)
    parser.add_argument("--name", default="ncnc_profile", help="results file stem")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, fraction, predictor, piece = args.child
        child(name, float(fraction), predictor, piece)
        return
    cases = ["ppa:0.004:ncnc"] if args.quick else args.cases.split(",")
    sections = []
    for case in cases:
        name, fraction, predictor, *rest = case.split(":")
        piece = rest[0] if rest else "step"
        if piece not in ("step", "eval", "eval-chunk"):
            raise SystemExit(
                f"--cases: piece must be 'step', 'eval' or 'eval-chunk'; got {piece!r} in {case!r}"
            )
        edges, _ = standin(name, float(fraction))
        out = measure(name, float(fraction), predictor, piece, args.cap_gib)
        print(case, {k: v for k, v in out.items() if k != "top"}, flush=True)
        title = f"## {name} stand-in at {fraction} ({edges.shape[1]:,} edges), {predictor}"
        if "error" in out:
            sections.append(f"{title}\n\n{out['error']}")
            continue
        pairs = out["completion_pairs"]
        what = {"step": "step", "eval": "evaluation", "eval-chunk": "evaluation chunk"}[piece]
        calls = (
            f"{' + '.join(f'{p:,}' for p in pairs)}, one call per scored batch: positives, "
            "negatives"
            if piece == "step"
            else f"{len(pairs)} call(s), one per scored chunk of pairs"
        )
        table = markdown_table(
            ("function", "calls", "own time", f"share of the {what}", "with callees"),
            [
                (
                    f"`{row['where']}`",
                    row["calls"],
                    fmt_time(row["own"]),
                    f"{100 * row['share']:.0f} %",
                    fmt_time(row["total"]),
                )
                for row in out["top"]
            ],
        )
        sections.append(
            f"{title}, {what}\n\nOne {what} under the profiler: {fmt_time(out['seconds'])}; "
            f"distinct completion pairs scored: {sum(pairs):,} ({calls}); common-neighbour "
            f"candidates walked: {out['walked']:,}.\n\n{table}"
        )
    title = "Where an NCNC training step (or evaluation) spends its time"
    publish(args.name, title, sections, args.quick)


if __name__ == "__main__":
    main()
