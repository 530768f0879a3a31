"""The prepared GPU check of issue 23: one command that proves every CUDA path and measures it.

    python benchmarks/gpu_check.py                  # on a GPU machine (benchmarks/gpu_check.sh)
    python benchmarks/gpu_check.py --device cpu     # the same sweep on CPU, in seconds

Steps, each a list of checks; the exit status is 1 when any check failed:

1. **coverage**: every public callable of ``graphpair.ops``, ``transforms``, ``nn.*`` and
   ``losses`` has a sweep case or a documented skip (``benchmarks/_gpu_cases.py``);
2. **sweep**: every case on the target (CUDA float32, or CPU float32 with ``--device cpu``)
   against CPU float64, outputs and gradients within the family's float32 tolerance; on CUDA
   also under ``torch_scatter`` when it is installed, and under torch's deterministic switch;
3. **cuda tests** (CUDA only): ``pytest -m cuda``, every test marked ``cuda``;
4. **compile** (CUDA only): GRITConv, GRIT and the NCN predictor compiled with inductor on
   CUDA, against eager;
5. **benchmarks** (CUDA, or ``--bench`` on CPU at smoke-test sizes): ``_gpu_bench.py``, each
   beside its baseline in this process, with the targets of issue 23 as checks and the
   ``AUTO_RULES`` entries the measurements call for.

The report (``benchmarks/results/gpu.md`` on CUDA, ``gpu.cpu.quick.md`` beside it otherwise,
ignored by git, or
``--output``) holds the device, torch/CUDA versions and every figure, written atomically.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._gpu_cases import CASES, FAMILY_TOLERANCE, coverage_problems
from benchmarks._gpu_sweep import SweepRow, sweep

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
Check = tuple[str, bool, str]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def environment(device: torch.device) -> list[str]:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    lines = [
        f"- device: {device} ({name or platform.machine()})",
        f"- torch {torch.__version__}, CUDA {torch.version.cuda or '-'}, "
        f"cuDNN {torch.backends.cudnn.version() if device.type == 'cuda' else '-'}",
        f"- python {platform.python_version()}, {os.cpu_count()} CPU cores, "
        f"torch threads {torch.get_num_threads()}",
    ]
    try:
        import torch_scatter

        lines.append(f"- torch-scatter {torch_scatter.__version__}")
    except ImportError:
        lines.append("- torch-scatter: not installed")
    return lines


def sweep_rows(rows: list[SweepRow]) -> list[list[str]]:
    return [
        [
            r.module.removeprefix("graphpair."),
            r.name,
            r.family,
            f"{r.max_abs:.1e}",
            f"{r.ratio:.3f}",
            "ok" if r.ok else "FAILED",
            f"{r.seconds:.2f}",
            r.note,
        ]
        for r in rows
    ]


def run_sweeps(device: torch.device) -> tuple[list[str], list[Check]]:
    """The sweep on the target, plus, on CUDA, under torch-scatter and deterministic mode."""
    from benchmarks._gpu_sweep import compare  # noqa: F401  (documents where compare lives)
    from graphpair.ops import torch_scatter_available

    runs: list[tuple[str, Callable[[], list[SweepRow]]]] = [("auto backend", lambda: sweep(device))]
    if device.type == "cuda" and torch_scatter_available():
        runs.append(("torch_scatter backend", lambda: sweep(device, backend="torch_scatter")))
    if device.type == "cuda":
        runs.append(("deterministic", lambda: _deterministic_sweep(device)))
    lines: list[str] = []
    checks: list[Check] = []
    for title, run in runs:
        rows = run()
        failed = [f"{r.name} ({r.note})" for r in rows if not r.ok]
        checks.append(
            (f"sweep, {title}: {len(rows)} cases", not failed, "; ".join(failed)[:400] or "all ok")
        )
        lines += [f"### Sweep: {device} float32 against CPU float64, {title}", ""]
        header = ["module", "name", "family", "max abs err", "err / tol", "", "s", "note"]
        lines += [*_table(header, sweep_rows(rows)), ""]
    return lines, checks


def _deterministic_sweep(device: torch.device) -> list[SweepRow]:
    """The sweep under torch's deterministic algorithms: equal results, or the clear refusal
    of graphpair (scatter 'mul' on CUDA) counted as expected."""
    from graphpair.train import deterministic

    with deterministic():
        rows = sweep(device)
    for row in rows:
        if not row.ok and "no deterministic CUDA implementation" in row.note:
            row.ok, row.note = True, "refused as documented: " + row.note[:80]
    return rows


def run_cuda_tests() -> Check:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "cuda", "tests"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    tail = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    return ("pytest -m cuda", done.returncode == 0, tail)


def run_compile_checks(device: torch.device) -> tuple[list[list[str]], list[Check]]:
    """GRITConv, GRIT and NCNPredictor compiled with inductor on ``device``, against eager."""
    from benchmarks._gpu_sweep import compare, run_call

    rows, checks = [], []
    for module, name in (
        ("graphpair.nn.conv", "GRITConv"),
        ("graphpair.nn.models", "GRIT"),
        ("graphpair.nn.link", "NCNPredictor"),
    ):
        _, builder = CASES[module][name]
        torch._dynamo.reset()
        start = time.perf_counter()
        try:
            eager = run_call(builder(device, torch.float32))
            call = builder(device, torch.float32)
            compiled = run_call(call, torch.compile(call.fn))
            _, ratio, _, note = compare(compiled, eager, *FAMILY_TOLERANCE["layer"])
            ok = ratio <= 1.0
        except Exception as error:
            ok, ratio, note = False, float("inf"), f"{type(error).__name__}: {error}"[:200]
        seconds = time.perf_counter() - start
        rows.append([name, "inductor", f"{ratio:.3f}", f"{seconds:.1f}", note])
        checks.append((f"torch.compile {name} on {device.type}", ok, note or f"{seconds:.1f} s"))
    return rows, checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    parser.add_argument("--bench", action="store_true", help="also run the benchmarks on CPU")
    parser.add_argument("--no-bench", action="store_true", help="skip the benchmarks")
    parser.add_argument("--no-tests", action="store_true", help="skip pytest -m cuda")
    parser.add_argument("--data-root", default=None, help="offline datasets (../shared/data)")
    parser.add_argument("--output", default=None, help="report path")
    args = parser.parse_args(argv)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda, but torch sees no CUDA device (is this a CPU build?)")
    on_gpu = device.type == "cuda"
    name = "gpu.md" if on_gpu else "gpu.cpu.quick.md"  # *.quick.md: ignored by git
    output = Path(args.output) if args.output else ROOT / "benchmarks" / "results" / name
    if not on_gpu:
        torch.set_num_threads(1)  # tiny inputs: the thread pool costs more than it gives
    start = time.perf_counter()
    checks: list[Check] = []
    body: list[str] = []

    problems = coverage_problems()
    checks.append(("sweep covers the public API", not problems, "; ".join(problems) or "ok"))
    lines, found = run_sweeps(device)
    body += lines
    checks += found
    if on_gpu and not args.no_tests:
        checks.append(run_cuda_tests())
    if on_gpu:
        rows, found = run_compile_checks(device)
        checks += found
        body += ["### torch.compile (inductor) against eager", ""]
        body += [*_table(["name", "backend", "err / tol", "s", "note"], rows), ""]
    if (on_gpu or args.bench) and not args.no_bench:
        from benchmarks._common import resolve_data_root
        from benchmarks._gpu_bench import bench_all

        tables, found = bench_all(resolve_data_root(args.data_root), device, smoke=not on_gpu)
        checks += found
        for title, rows in tables.items():
            body += [f"### Benchmark: {title}", ""]
            body += [*_table(["case", "method", "median", "peak extra", "note"], rows), ""]

    failed = [c for c in checks if not c[1]]
    head = [
        "# GPU check (issue 23)" if on_gpu else "# GPU check, CPU mode (issue 23)",
        "",
        f"Command: `python benchmarks/gpu_check.py {' '.join(argv or sys.argv[1:])}`".rstrip(),
        f"({time.perf_counter() - start:.0f} s). Written by the script; not edited by hand.",
        "",
        *environment(device),
        "",
        f"**{len(checks) - len(failed)} of {len(checks)} checks passed.**",
        "",
        *_table(["check", "", "detail"], [[n, "ok" if ok else "FAILED", d] for n, ok, d in checks]),
        "",
        "Tolerances (float32 against CPU float64, |err| <= atol * max(1, max|ref|) + rtol |ref|): "
        + ", ".join(f"{fam} rtol {r:g} atol {a:g}" for fam, (r, a) in FAMILY_TOLERANCE.items()),
        "",
    ]
    write_atomic(output, "\n".join(head + body) + "\n")
    print(f"{len(checks) - len(failed)}/{len(checks)} checks passed; report: {output}")
    for check_name, _, detail in failed:
        print(f"FAILED: {check_name}: {detail}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
