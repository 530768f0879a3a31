"""Shared helpers of the benchmarks: machine description, timing, peak memory, results, data.

Peak memory of one call is measured in a fresh interpreter (:func:`peak_memory`): the child
imports the benchmark module, builds the inputs with the module's ``setup_case(case)``, resets
the kernel's peak-RSS counter (``echo 5 > /proc/self/clear_refs``), reads ``VmRSS``, runs the
call once and reads ``VmHWM``; the difference is the extra resident memory the call needed at
its peak. The child runs with ``MALLOC_MMAP_THRESHOLD_=131072`` so that every allocation above
128 KiB is a fresh mapping, returned to the system when freed: otherwise glibc would recycle
memory freed during set-up and hide the call's allocations. torch's CPU allocator does not
cache, so every tensor of that size shows up. Where ``clear_refs`` cannot be written, the child
falls back to the growth of ``ru_maxrss`` over the call, a lower bound (only growth beyond the
set-up's own peak is seen), and the results say so.

The child is this file run as a script (internal):
``python benchmarks/_common.py --peak-child MODULE_FILE CASE_JSON``.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
#: Offline datasets when neither ``--data-root`` nor ``$GRAPHPAIR_DATA`` is given.
DEFAULT_DATA_ROOT = ROOT.parent / "shared" / "data"
DATA_ENV_VAR = "GRAPHPAIR_DATA"

DDI_NUM_NODES = 4_267
_CORA_FILES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
_PEAK_CHILD_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072"}

T = TypeVar("T")

#: When the benchmark started (this module's import, or :func:`mark_start`) and the load
#: average then: the report is written at the end, when its own work has raised the load.
_START: tuple[datetime.datetime, tuple[float, float, float]]


def mark_start() -> None:
    """Record now as the benchmark's start, for its report's machine block (``run.py`` calls
    it before each benchmark it runs in its one process)."""
    global _START
    _START = (datetime.datetime.now(datetime.timezone.utc), os.getloadavg())


mark_start()


# ---------------------------------------------------------------------- machine and command


def _version(distribution: str) -> str:
    """Installed version of a distribution, without importing it (torch_geometric is slow)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> str:
    """A markdown list describing the machine, the library versions and the load average at
    the benchmark's start and now."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cuda = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    started, start_load = _START
    load = ", ".join(f"{x:.2f}" for x in start_load)
    end_load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return "\n".join(
        [
            f"- date: {started.strftime('%Y-%m-%d %H:%M UTC')} (the start)",
            f"- CPU: {cpu}; {os.cpu_count()} logical cores, "
            f"{len(os.sched_getaffinity(0))} usable, torch threads {torch.get_num_threads()}",
            f"- load average (1, 5, 15 min) at the start: {load} (should be near 0: idle machine);"
            f" when written: {end_load} (the benchmark's own work included)",
            f"- Python {platform.python_version()}, torch {torch.__version__}, "
            f"torch_geometric {_version('torch_geometric')}, "
            f"torch_scatter {_version('torch_scatter')}, numpy {np.__version__}, "
            f"pandas {pd.__version__}",
            f"- CUDA device: {cuda}",
        ]
    )


def command_line() -> str:
    """The command line that started this process, as typed, prefixed with ``cd`` when it was
    not run from the repository root."""
    command = shlex.join(sys.orig_argv)
    cwd = Path.cwd().resolve()
    return command if cwd == ROOT else f"cd {shlex.quote(str(cwd))} && {command}"


# ---------------------------------------------------------------------- timing


def median_time(
    fn: Callable[[], object], repeats: int = 5, warmup: int = 1
) -> tuple[float, list[float]]:
    """Median wall time of ``fn()`` over ``repeats`` timed calls after ``warmup`` untimed ones.

    Returns the median and every timing, in seconds. torch's thread count is left as it is.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1; got {repeats}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def time_once(fn: Callable[[], T]) -> tuple[float, T]:
    """Wall time of one call of ``fn()`` and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# ---------------------------------------------------------------------- peak memory


class PeakMemory(NamedTuple):
    """Peak extra resident memory of one call, and how it was measured."""

    bytes: int
    """``VmHWM`` after the call minus ``VmRSS`` before it (or the ``ru_maxrss`` growth)."""
    exact: bool
    """``True`` for the ``clear_refs`` measurement, ``False`` for the ``ru_maxrss`` lower bound."""


def peak_memory(module_file: str, case: dict[str, Any]) -> PeakMemory:
    """Peak extra memory of one call of ``setup_case(case)()`` from ``module_file``.

    Measured in a fresh interpreter as described in the module docstring; ``case`` travels as
    JSON, so it holds only plain values.
    """
    result = subprocess.run(
        [sys.executable, __file__, "--peak-child", module_file, json.dumps(case)],
        capture_output=True,
        text=True,
        env={**os.environ, **_PEAK_CHILD_ENV},
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"peak-memory child for {case} failed (exit {result.returncode}):\n"
            f"{result.stderr[-3000:]}"
        )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    return PeakMemory(int(answer["bytes"]), bool(answer["exact"]))


def _status_bytes(key: str) -> int:
    """A ``kB`` field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(f"{key} not in /proc/self/status")


def meminfo_bytes(key: str) -> int:
    """A ``kB`` field of ``/proc/meminfo`` (``MemAvailable``) in bytes."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(f"{key} not in /proc/meminfo")


#: Share of the memory available now that :func:`cap_memory` lets a child add by default.
MEMORY_SHARE = 0.85


def cap_memory(cap_bytes: int | None = None) -> int:
    """Cap this process's address space at its current size plus ``cap_bytes`` (default:
    :data:`MEMORY_SHARE` of the memory available now), never above a cap already set
    (``ulimit -v``), so that a too-large allocation fails with an error instead of waking the
    kernel's OOM killer on a shared machine. Returns the extra bytes allowed."""
    allowed = cap_bytes if cap_bytes else int(MEMORY_SHARE * meminfo_bytes("MemAvailable"))
    limit = _status_bytes("VmSize") + allowed
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or limit < soft:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return allowed


def reset_peak() -> int | None:
    """Reset ``VmHWM`` and return ``VmRSS``, or ``None`` where ``clear_refs`` is read-only."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    return _status_bytes("VmRSS")


def _max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _peak_child(module_file: str, case_json: str) -> None:
    """Child side of :func:`peak_memory`: set up, reset the peak counter, call once, report."""
    sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location("_benchmark_case", module_file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {module_file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look classes up here
    spec.loader.exec_module(module)
    call = module.setup_case(json.loads(case_json))
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        before = _max_rss_bytes()
        call()
        answer = {"bytes": max(0, _max_rss_bytes() - before), "exact": False}
    else:
        before = _status_bytes("VmRSS")
        call()
        answer = {"bytes": _status_bytes("VmHWM") - before, "exact": True}
    print(json.dumps(answer))


# ---------------------------------------------------------------------- results


def results_name(name: str, quick: bool) -> str:
    """Results file stem: ``<name>``, or ``<name>.quick`` so smoke tests keep real results."""
    return f"{name}.quick" if quick else name


def render_report(title: str, sections: Sequence[str]) -> str:
    """A results document: title, command, machine block, then ``sections`` (markdown)."""
    parts = [
        f"# {title}",
        f"Command: `{command_line()}`",
        "## Machine\n\n" + machine_info(),
        *(s.strip() for s in sections),
    ]
    return "\n\n".join(parts) + "\n"


def write_results(name: str, markdown: str) -> Path:
    """Write ``benchmarks/results/<name>.md`` atomically (temp file in the folder, then rename)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    target = RESULTS_DIR / f"{name}.md"
    fd, tmp = tempfile.mkstemp(dir=RESULTS_DIR, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(markdown)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be read by anyone
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def publish(name: str, title: str, sections: Sequence[str], quick: bool) -> Path:
    """Render a report and write it to ``results/<name>.md`` (``.quick.md`` for smoke tests)."""
    path = write_results(results_name(name, quick), render_report(title, sections))
    print(f"wrote {path}")
    return path


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt_time(seconds: float) -> str:
    """``842 µs``, ``12.3 ms`` or ``4.56 s``."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_bytes(num: float) -> str:
    """Bytes in MiB (GiB from 1 GiB up)."""
    if num >= 2**30:
        return f"{num / 2**30:.2f} GiB"
    return f"{num / 2**20:.1f} MiB"


def fmt_peak(peak: PeakMemory) -> str:
    """A :class:`PeakMemory`; the ``ru_maxrss`` fallback is marked as a lower bound."""
    return fmt_bytes(peak.bytes) if peak.exact else f">= {fmt_bytes(peak.bytes)} (ru_maxrss)"


PEAK_FALLBACK_NOTE = (
    "**Peak memory: `/proc/self/clear_refs` was not writable, so the numbers marked "
    "`(ru_maxrss)` are the growth of the process's lifetime peak during the call: a lower "
    "bound that misses memory the set-up had already used and freed.**"
)


# ---------------------------------------------------------------------- data


class Graph(NamedTuple):
    """A dataset graph as an edge list."""

    name: str
    edge_index: torch.Tensor
    """Edges ``[2, E]`` as stored in the dataset."""
    num_nodes: int


def resolve_data_root(explicit: str | None = None) -> Path:
    """``--data-root`` if given, else ``$GRAPHPAIR_DATA``, else ``../shared/data`` (next to
    the repository). The path is returned even if it does not exist; loaders say what is
    missing."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(DATA_ENV_VAR)
    return Path(env).expanduser() if env else DEFAULT_DATA_ROOT


def load_ddi(root: Path) -> Graph:
    """ogbl-ddi's training edges ``[2, 1,067,911]`` (one direction each), N = 4,267.

    Reads ``ogb/ogbl_ddi/raw/edge.csv.gz`` in place; writes nothing.

    Raises:
        FileNotFoundError: the file is missing.
    """
    path = root / "ogb" / "ogbl_ddi" / "raw" / "edge.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"ogbl-ddi not found: {path} is missing")
    edges = pd.read_csv(path, header=None, dtype=np.int64).to_numpy()  # [E, 2]
    edge_index = torch.from_numpy(np.ascontiguousarray(edges.T))
    if edge_index.numel() and int(edge_index.max()) >= DDI_NUM_NODES:
        raise ValueError(f"{path} has node ids >= {DDI_NUM_NODES}; is it ogbl-ddi?")
    return Graph("ogbl-ddi", edge_index, DDI_NUM_NODES)


def load_cora(root: Path) -> Graph:
    """Cora's citation graph, ``[2, 10,556]`` (both directions), N = 2,708.

    Reads the Planetoid raw files ``planetoid/Cora/raw/ind.cora.*`` in place with
    ``torch_geometric.io.read_planetoid_data`` (which only reads); writes nothing.

    Raises:
        FileNotFoundError: a raw file is missing.
    """
    raw = root / "planetoid" / "Cora" / "raw"
    if not raw.is_dir():
        raise FileNotFoundError(f"Cora not found: {raw} does not exist")
    missing = [f"ind.cora.{n}" for n in _CORA_FILES if not (raw / f"ind.cora.{n}").is_file()]
    if missing:
        raise FileNotFoundError(f"Cora not found: {', '.join(missing)} missing in {raw}")
    from torch_geometric.io import read_planetoid_data

    data = read_planetoid_data(str(raw), "cora")
    return Graph("Cora", data.edge_index, int(data.num_nodes))


#: Dataset loaders by the name the benchmarks print.
LOADERS: dict[str, Callable[[Path], Graph]] = {"ogbl-ddi": load_ddi, "Cora": load_cora}


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--quick`` and ``--data-root``, shared by every benchmark and ``run.py``."""
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument(
        "--data-root",
        default=None,
        help=f"offline datasets (default: ${DATA_ENV_VAR}, else {DEFAULT_DATA_ROOT})",
    )


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(description="internal: the child of peak_memory()")
    _parser.add_argument("--peak-child", nargs=2, metavar=("MODULE_FILE", "CASE_JSON"))
    _args = _parser.parse_args()
    if _args.peak_child is None:
        _parser.error("this module is a library; run a bench_*.py file or run.py")
    _peak_child(*_args.peak_child)
