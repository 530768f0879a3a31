"""Reading a text edge list: `graphpair.data.read_edge_list` against the reader it replaced.

Issue 22's benchmark. A synthetic edge list of ogbl-ppa's size (576,289 nodes, 30,326,273
edges: 1 = the full size) or a fraction of it is generated under a temporary folder (never
kept), with uniformly random endpoints (seed 0), in two formats:

- `int`: integer ids, comma-separated, no header (ogbl-ppa's `raw/edge.csv` layout);
- `names`: string ids `p<id>`, with a `source,target` header line (issue 25's case).

Each read runs in a **fresh interpreter** (a child process of this file) whose address space
is capped (`RLIMIT_AS`, as `ulimit -v`) at its size after the imports plus 85 % of the memory
available when it starts (or `--memory-cap-gib`), so a read that does not fit fails with
"out of memory" in the table instead of waking the OOM killer. The child imports torch and
graphpair first, then times the read. Memory: *peak extra* is the read's own high-water mark
(`/proc/self/clear_refs` reset, `VmHWM` after minus `VmRSS` before, with
`MALLOC_MMAP_THRESHOLD_=131072` as in `_common.peak_memory`; where `clear_refs` is not
writable, the growth of `ru_maxrss`, a lower bound); *process max RSS* is the child's
`ru_maxrss`; *final* is the returned `edge_index` (int64, both directions); *B/edge* is
(peak extra - final) per line of the file: the memory the read needs beyond its result.

**Baseline** (`old`): a copy of graphpair's reader before issue 22 (`csv` module into a list
of Python string tuples, `int()` per id or a dict of string ids, `torch.tensor` of Python
lists, then `symmetrize`), kept below as `old_read_edge_list`. The two outputs (edge_index,
num_nodes, node_ids) are checked identical by a SHA-256 of each.

    python benchmarks/bench_edge_list.py                    # 1/16, 1/4 and full size
    python benchmarks/bench_edge_list.py --sizes 1/16       # one size
    python benchmarks/bench_edge_list.py --quick            # 1/256: a smoke test
    (ulimit -v 16000000; python benchmarks/bench_edge_list.py --sizes 1/16)
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Hashable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    _max_rss_bytes,
    _status_bytes,
    add_common_arguments,
    cap_memory,
    fmt_bytes,
    fmt_time,
    markdown_table,
    publish,
)

PPA_NODES = 576_289
PPA_EDGES = 30_326_273
FORMATS = ("int", "names")
READERS = ("old", "new")
_CHILD_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072"}
_ALLOC_ERRORS = ("memoryerror", "can't allocate memory", "cannot allocate memory", "bad_alloc")


# ---------------------------------------------------------------------- the baseline


def old_read_edge_list(path: Path, directed: bool = False) -> Any:
    """BASELINE, not graphpair's code any more: the reader before issue 22, as it was.

    Every line through the ``csv`` module into a list of ``(str, str)`` tuples; a header is
    dropped only when every later row is integer; integer ids via ``int()`` into a Python list
    of tuples and ``torch.tensor``; string ids numbered by a dict; then ``symmetrize``.
    """
    import torch
    from torch_geometric.data import Data

    from graphpair.data import symmetrize

    delimiter = {".csv": ",", ".tsv": "\t"}.get(path.suffix.lower())
    rows: list[tuple[str, str]] = []
    with path.open(newline="") as handle:
        lines = (line for line in handle if line.strip() and not line.startswith("#"))
        reader = (
            csv.reader(lines, delimiter=delimiter)
            if delimiter is not None
            else (line.split() for line in lines)
        )
        for fields in reader:
            fields = [f.strip() for f in fields]
            rows.append((fields[0], fields[1]))

    def is_int_pair(row: tuple[str, str]) -> bool:
        return all(field.lstrip("-").isdigit() for field in row)

    if rows and not is_int_pair(rows[0]) and all(is_int_pair(r) for r in rows[1:]):
        rows = rows[1:]
    node_ids: list[Hashable] | None = None
    if all(is_int_pair(r) for r in rows):
        ints = [(int(u), int(v)) for u, v in rows]
        tensor = torch.tensor(ints, dtype=torch.long).view(-1, 2).t()
    else:
        index: dict[Hashable, int] = {}
        for u, v in rows:
            index.setdefault(u, len(index))
            index.setdefault(v, len(index))
        node_ids = list(index)
        tensor = torch.tensor([[index[u] for u, _ in rows], [index[v] for _, v in rows]])
        tensor = tensor.view(2, -1)
    num_nodes = int(tensor.max()) + 1
    if directed:
        keep = tensor[0] != tensor[1]
        keys = torch.unique(tensor[0, keep] * num_nodes + tensor[1, keep])
        edge_index = torch.stack([keys // num_nodes, keys % num_nodes])
    else:
        edge_index = symmetrize(tensor, num_nodes)
    data = Data(edge_index=edge_index, num_nodes=num_nodes)
    if node_ids is not None:
        data.node_ids = node_ids
    return data


# ---------------------------------------------------------------------- the file


def write_edge_file(path: Path, num_edges: int, fmt: str, seed: int = 0) -> None:
    """A synthetic edge list of ``num_edges`` uniformly random pairs over ppa's node count,
    written in pieces of a million lines (a few tens of MB of memory at a time)."""
    rng = np.random.default_rng(seed)
    with path.open("w") as handle:
        if fmt == "names":
            handle.write("source,target\n")
        pattern = "{},{}\n" if fmt == "int" else "p{},p{}\n"
        done = 0
        while done < num_edges:
            count = min(1_000_000, num_edges - done)
            pairs = rng.integers(0, PPA_NODES, size=(count, 2))
            handle.write("".join(map(pattern.format, pairs[:, 0].tolist(), pairs[:, 1].tolist())))
            done += count


# ---------------------------------------------------------------------- the child


def _digest(data: Any) -> tuple[str, int]:
    """SHA-256 of ``(edge_index, num_nodes, node_ids)``, and how many phantom nodes were
    dropped first: the old reader reads a ``source,target`` header over string ids as an
    edge between two nodes ``'source'`` and ``'target'`` (issue 25); they are removed (with
    that one edge) so that the rest can be compared."""
    edge_index, num_nodes = data.edge_index, int(data.num_nodes)
    ids = getattr(data, "node_ids", None)
    phantoms = 0
    if ids is not None and ids[:2] == ["source", "target"]:
        phantoms = 2
        keep = (edge_index >= phantoms).all(dim=0)
        edge_index, num_nodes, ids = edge_index[:, keep] - phantoms, num_nodes - 2, ids[2:]
    digest = hashlib.sha256(edge_index.contiguous().numpy().tobytes())
    digest.update(str(num_nodes).encode())
    if ids is not None:
        digest.update("\n".join(map(str, ids)).encode())
    return digest.hexdigest()[:16], phantoms


def run_child(case: dict[str, Any]) -> dict[str, Any]:
    """One read in this fresh process: imports, cap, then the timed read."""
    import torch  # noqa: F401  (imported before the measurement, as a user's session has it)

    from graphpair.data import read_edge_list

    allowed = cap_memory(case.get("cap_bytes"))
    read = read_edge_list if case["reader"] == "new" else old_read_edge_list
    try:
        Path("/proc/self/clear_refs").write_text("5")
        before, exact = _status_bytes("VmRSS"), True
    except OSError:
        before, exact = _max_rss_bytes(), False
    start = time.perf_counter()
    data = read(Path(case["path"]))
    seconds = time.perf_counter() - start
    peak = (_status_bytes("VmHWM") if exact else _max_rss_bytes()) - before
    digest, phantoms = _digest(data)
    return {
        "seconds": seconds,
        "peak_extra": peak,
        "exact": exact,
        "max_rss": _max_rss_bytes(),
        "final": data.edge_index.numel() * data.edge_index.element_size(),
        "num_nodes": int(data.num_nodes),
        "stored_edges": int(data.edge_index.size(1)),
        "digest": digest,
        "phantom_nodes": phantoms,
        "cap_bytes": allowed,
    }


def spawn(case: dict[str, Any]) -> dict[str, Any]:
    """Run one read in a fresh interpreter; its answer, or ``{'error': message}``."""
    result = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(case)],
        capture_output=True,
        text=True,
        env={**os.environ, **_CHILD_ENV},
        check=False,
    )
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or [f"exit {result.returncode}"]
        if result.returncode < 0 or any(s in result.stderr.lower() for s in _ALLOC_ERRORS):
            return {"error": f"out of memory under the cap ({tail[0][:120]})"}
        raise RuntimeError(f"child {case} failed (exit {result.returncode}):\n{result.stderr}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


# ---------------------------------------------------------------------- the report


def _row(size: str, edges: int, file_bytes: int, fmt: str, reader: str, r: dict) -> list[str]:
    if "error" in r:
        return [size, f"{edges:,}", fmt_bytes(file_bytes), fmt, reader, r["error"], "", "", "", ""]
    mark = "" if r["exact"] else " (ru_maxrss)"
    per_edge = (r["peak_extra"] - r["final"]) / edges
    return [
        size,
        f"{edges:,}",
        fmt_bytes(file_bytes),
        fmt,
        reader,
        fmt_time(r["seconds"]),
        fmt_bytes(r["peak_extra"]) + mark,
        fmt_bytes(r["max_rss"]),
        fmt_bytes(r["final"]),
        f"{per_edge:.0f}",
    ]


def main(argv: list[str] | None = None) -> Path:
    """Run the benchmark and write ``results/edge_list.md`` (``.quick.md``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--sizes",
        nargs="+",
        default=None,
        help="fractions of ogbl-ppa's 30,326,273 edges (default: 1/16 1/4 1; --quick: 1/256)",
    )
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument(
        "--readers", nargs="+", choices=READERS, default=list(READERS), help="old: the baseline"
    )
    parser.add_argument(
        "--memory-cap-gib", type=float, default=None, help="address-space cap of each read"
    )
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(run_child(json.loads(args.child))))
        sys.exit(0)
    sizes = args.sizes or (["1/256"] if args.quick else ["1/16", "1/4", "1"])
    fractions = [Fraction(s) for s in sizes]
    if any(not 0 < f <= 4 for f in fractions):
        parser.error(f"--sizes must be fractions in (0, 4]; got {sizes}")
    cap = int(args.memory_cap_gib * 2**30) if args.memory_cap_gib else None
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    shown = "none" if limit == resource.RLIM_INFINITY else f"{limit // 1024:,} KiB"
    notes = [
        f"Address-space limit of the run (`ulimit -v`) when it started: {shown}; each read "
        "ran under the cap described in Method.",
    ]
    rows, checks = [], []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_edge_list.") as tmp:
        for fraction in fractions:
            edges = round(PPA_EDGES * fraction)
            for fmt in args.formats:
                path = Path(tmp) / f"edges_{fmt}.csv"
                print(f"writing {edges:,} edges ({fmt})", flush=True)
                write_edge_file(path, edges, fmt)
                file_bytes = path.stat().st_size
                answers = {}
                for reader in args.readers:
                    print(f"  reading with {reader}", flush=True)
                    case = {"reader": reader, "path": str(path), "cap_bytes": cap}
                    answers[reader] = spawn(case)
                    rows.append(
                        _row(str(fraction), edges, file_bytes, fmt, reader, answers[reader])
                    )
                    print(f"    {rows[-1][5:]}", flush=True)
                digests = {r: a.get("digest") for r, a in answers.items() if "digest" in a}
                if len(set(digests.values())) > 1:
                    raise AssertionError(f"{fmt} at {fraction}: outputs differ: {digests}")
                if len(digests) == 2:
                    old, new = answers["old"], answers["new"]
                    phantom = (
                        f" once the old reader's {old['phantom_nodes']} phantom header nodes "
                        "are removed"
                        if old["phantom_nodes"]
                        else ""
                    )
                    checks.append(
                        f"- {fraction} of ppa, `{fmt}`: outputs identical{phantom} (SHA-256 "
                        f"`{digests['new']}`: {new['num_nodes']:,} nodes, "
                        f"{new['stored_edges']:,} stored edges); new is "
                        f"{old['seconds'] / new['seconds']:.1f}x faster and needs "
                        f"{old['peak_extra'] / max(new['peak_extra'], 1):.1f}x less peak memory"
                    )
                path.unlink()
    notes.append(f"Total run time: {time.perf_counter() - started:.0f} s.")
    header = [
        "size (of ppa)", "lines", "file", "format", "reader", "wall time", "peak extra",
        "process max RSS", "final edge_index", "B/edge beyond final",
    ]  # fmt: skip
    sections = [
        "\n".join(notes),
        "## Reads\n\n" + markdown_table(header, rows),
        "## Checks\n\n" + ("\n".join(checks) or "- (only one reader ran: nothing compared)"),
        "## Method\n\n" + __doc__.split("\n\n", 1)[1].split("\n    python")[0],
    ]
    return publish("edge_list", "Reading text edge lists (issue 22)", sections, args.quick)


if __name__ == "__main__":
    main()
