"""Shared helpers for the benchmarks: timing, peak memory, machine info, data, result files.

Peak memory of one call is measured in a fresh subprocess: the child builds its inputs, resets
the kernel's peak-RSS counter (``echo 5 > /proc/self/clear_refs``), reads ``VmRSS``, runs the
call once and reads ``VmHWM``; the difference is the extra resident memory the call needed at
its peak. The child runs with ``MALLOC_MMAP_THRESHOLD_=131072`` so every allocation above
128 KiB is a fresh mapping returned to the system on free (otherwise glibc would recycle freed
memory and hide allocations). torch's CPU allocator does not cache, so this sees every tensor.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def data_root(explicit: str | None = None) -> Path | None:
    """The offline data folder: ``--data-root``, ``$GRAPHPAIR_DATA``, or ``../shared/data``."""
    for candidate in (explicit, os.environ.get("GRAPHPAIR_DATA"), ROOT.parent / "shared" / "data"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def load_ddi(root: Path) -> tuple[torch.Tensor, int] | None:
    """ogbl-ddi training edges ``[2, 1,067,911]`` (one direction each) and N = 4,267."""
    path = root / "ogb" / "ogbl_ddi" / "raw" / "edge.csv.gz"
    if not path.is_file():
        return None
    edges = np.loadtxt(path, delimiter=",", dtype=np.int64)
    return torch.from_numpy(edges).t().contiguous(), 4267


def load_cora(root: Path) -> tuple[torch.Tensor, int] | None:
    """Cora's citation edges ``[2, 10,556]`` (both directions) and N = 2,708; read-only."""
    raw = root / "planetoid" / "Cora" / "raw"
    if not (raw / "ind.cora.graph").is_file():
        return None
    from torch_geometric.io import read_planetoid_data

    data = read_planetoid_data(str(raw), "cora")
    return data.edge_index, int(data.num_nodes)


def median_time(
    fn: Callable[[], object], repeats: int = 5, warmup: int = 1
) -> tuple[float, list[float]]:
    """Median wall time of ``fn`` over ``repeats`` calls after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def machine_info() -> str:
    """A markdown block describing the machine and the library versions."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch_geometric

        pyg = torch_geometric.__version__
    except ImportError:  # pragma: no cover
        pyg = "not installed"
    try:
        import torch_scatter

        ts = torch_scatter.__version__
    except ImportError:
        ts = "not installed"
    lines = [
        f"- date: {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- CPU: {cpu}, {os.cpu_count()} logical cores, torch threads {torch.get_num_threads()}",
        f"- Python {platform.python_version()}, torch {torch.__version__}, torch_geometric {pyg}, "
        f"torch_scatter {ts}, numpy {np.__version__}",
        f"- CUDA: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}",
    ]
    return "\n".join(lines)


def write_results(name: str, body: str, command: str) -> Path:
    """Write ``benchmarks/results/<name>.md`` atomically (temp file + rename)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = (
        f"# {name}\n\nCommand: `{command}`\n\n## Machine\n\n{machine_info()}\n\n{body.rstrip()}\n"
    )
    target = RESULTS / f"{name}.md"
    fd, tmp = tempfile.mkstemp(dir=RESULTS, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


def fmt_bytes(num: float | None) -> str:
    if num is None:
        return "n/a"
    return f"{num / 2**20:.1f} MiB"


# ---------------------------------------------------------------------- peak memory


def _read_status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def peak_memory(module_file: str, case: dict[str, Any]) -> int | None:
    """Peak extra resident bytes of one call of ``build_case(case)()`` from ``module_file``,
    measured in a fresh subprocess (see the module docstring). ``None`` if unmeasurable."""
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
    result = subprocess.run(
        [sys.executable, __file__, "--peak", module_file, json.dumps(case)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"peak-memory child failed for {case}:\n{result.stderr[-2000:]}")
    value = json.loads(result.stdout.strip().splitlines()[-1])["peak"]
    return None if value is None else int(value)


def _child(module_file: str, case_json: str) -> None:
    spec = importlib.util.spec_from_file_location("bench_case_module", module_file)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = module.build_case(json.loads(case_json))
    try:
        Path("/proc/self/clear_refs").write_text("5")
        before = _read_status("VmRSS")
        fn()
        peak: int | None = _read_status("VmHWM") - before
    except OSError:
        peak = None
    print(json.dumps({"peak": peak}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--peak", nargs=2, metavar=("MODULE_FILE", "CASE_JSON"), required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    _child(*args.peak)
