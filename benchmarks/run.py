"""Run every benchmark in sequence; each writes its markdown report to `benchmarks/results/`.

    python benchmarks/run.py                 # full sizes (about 15 minutes on 2 cores)
    python benchmarks/run.py --quick         # small sizes: a smoke test (writes *.quick.md)
    python benchmarks/run.py --only scatter random_walk

Run it on an otherwise idle machine: a concurrent job inflated timings 2-25x here.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import (
    bench_cn_method_rule,
    bench_common_neighbors,
    bench_csl,
    bench_grit,
    bench_link,
    bench_link_repeats,
    bench_losses,
    bench_random_walk,
    bench_scatter,
    bench_sinc,
)
from benchmarks._common import add_common_arguments, mark_start

#: Name -> the benchmark's ``main(argv)``, in the order they run.
BENCHMARKS: dict[str, Callable[[list[str] | None], Path]] = {
    "scatter": bench_scatter.main,
    "common_neighbors": bench_common_neighbors.main,
    "cn_method_rule": bench_cn_method_rule.main,
    "random_walk": bench_random_walk.main,
    "link": bench_link.main,
    "link_repeats": bench_link_repeats.main,
    "sinc": bench_sinc.main,
    "grit": bench_grit.main,
    "csl": bench_csl.main,
    "losses": bench_losses.main,
}


def main(argv: list[str] | None = None) -> None:
    """Parse the options shared by the benchmarks and run the chosen ones in order."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument(
        "--only", nargs="+", choices=list(BENCHMARKS), default=None, help="run only these"
    )
    args = parser.parse_args(argv)
    shared = ["--quick"] if args.quick else []
    if args.data_root:
        shared += ["--data-root", args.data_root]
    total = time.perf_counter()
    for name in args.only or BENCHMARKS:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        mark_start()  # its report's date and load average at the start are its own
        path = BENCHMARKS[name](shared)
        print(f"== {name}: {time.perf_counter() - start:.0f} s -> {path}", flush=True)
    print(f"all done in {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main()
