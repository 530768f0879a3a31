"""Run every benchmark in sequence; each writes its markdown table to benchmarks/results/.

    python benchmarks/run.py            # full sizes (about 15 minutes on 2 cores)
    python benchmarks/run.py --quick    # small sizes, a smoke test
    python benchmarks/run.py --only common_neighbors random_walk

Run on an otherwise idle machine: a concurrent job inflated timings 2-25x here.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import (
    bench_cn_method_rule,
    bench_common_neighbors,
    bench_random_walk,
    bench_scatter,
)

BENCHMARKS = {
    "scatter": bench_scatter.main,
    "common_neighbors": bench_common_neighbors.main,
    "cn_method_rule": bench_cn_method_rule.main,
    "random_walk": bench_random_walk.main,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument(
        "--data-root", default=None, help="offline datasets (default: ../shared/data)"
    )
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=None)
    args = parser.parse_args(argv)
    shared = (["--quick"] if args.quick else []) + (
        ["--data-root", args.data_root] if args.data_root else []
    )
    for name in args.only or BENCHMARKS:
        start = time.perf_counter()
        BENCHMARKS[name](shared)
        print(
            f"{name}: done in {time.perf_counter() - start:.0f} s -> benchmarks/results/{name}.md"
        )


if __name__ == "__main__":
    main()
