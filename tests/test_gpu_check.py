"""The CPU mode of ``benchmarks/gpu_check.py`` (issue 23), so that the prepared GPU check
cannot rot between GPU runs: the coverage of the public API by the equality sweep, the sweep
itself (CPU float32 against CPU float64, and torch-scatter against native where installed),
the comparison's own failure detection, and the report the script writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from benchmarks import gpu_check
from benchmarks._gpu_cases import CASES, SKIPPED, Call, coverage_problems
from benchmarks._gpu_sweep import compare, run_call, sweep
from graphpair.ops import torch_scatter_available

pytestmark = [
    pytest.mark.usefixtures("one_thread"),
    # The sparse-input adapters' cases build torch sparse CSR tensors (beta in torch 2.13).
    pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta state"),
    pytest.mark.filterwarnings("ignore:Sparse invariant checks are implicitly disabled"),
]

CPU = torch.device("cpu")


def test_every_public_callable_has_a_sweep_case_or_a_documented_skip() -> None:
    assert coverage_problems() == []
    for skips in SKIPPED.values():
        assert all(reason.strip() for reason in skips.values())


def test_a_new_public_name_without_a_case_fails_the_coverage_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import graphpair.losses

    monkeypatch.setattr(graphpair.losses, "__all__", [*graphpair.losses.__all__, "brand_new"])
    monkeypatch.setattr(graphpair.losses, "brand_new", lambda x: x, raising=False)
    assert coverage_problems() == ["graphpair.losses.brand_new: no sweep case and no skip entry"]


def test_the_sweep_passes_on_cpu_float32_against_float64() -> None:
    rows = sweep(CPU, torch.float32)
    assert len(rows) == sum(len(cases) for cases in CASES.values())
    failed = [(r.module, r.name, r.note) for r in rows if not r.ok]
    assert failed == []
    assert all(r.entries > 0 for r in rows)


@pytest.mark.skipif(not torch_scatter_available(), reason="torch-scatter not installed")
def test_the_sweep_passes_with_torch_scatter_against_native() -> None:
    ops = {"scatter", "segment", "softmax", "GRITConv", "SINCConv", "MPNNEncoder"}
    rows = sweep(CPU, torch.float32, backend="torch_scatter", only=lambda m, n: n in ops)
    assert len(rows) == len(ops)
    assert [(r.name, r.note) for r in rows if not r.ok] == []


def test_compare_catches_a_wrong_value_a_wrong_gradient_and_a_wrong_index() -> None:
    def square(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x * x, torch.argsort(x)

    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    reference = run_call(Call(square, (x.double().detach().requires_grad_(),), {}))
    assert compare(run_call(Call(square, (x,), {})), reference, 1e-5, 1e-5)[1] <= 1.0

    def off_by_a_bit(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x * x + 1e-3, torch.argsort(x)

    assert compare(run_call(Call(off_by_a_bit, (x,), {})), reference, 1e-5, 1e-5)[1] > 1.0

    def wrong_gradient(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x * x.detach(), torch.argsort(x)  # the right value, half the gradient

    _, ratio, _, note = compare(run_call(Call(wrong_gradient, (x,), {})), reference, 1e-5, 1e-5)
    assert ratio > 1.0
    assert note.startswith("grad.arg0")

    def wrong_order(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x * x, torch.argsort(-x)

    assert (
        "integer values differ"
        in compare(run_call(Call(wrong_order, (x,), {})), reference, 1e-5, 1e-5)[3]
    )


def test_the_cpu_mode_writes_its_report_and_exits_zero(tmp_path: Path) -> None:
    output = tmp_path / "gpu-cpu.md"
    assert gpu_check.main(["--device", "cpu", "--output", str(output)]) == 0
    text = output.read_text()
    assert "checks passed" in text
    assert "FAILED" not in text
    assert "torch " + torch.__version__ in text
    for cases in CASES.values():
        for name in cases:
            assert f"| {name} |" in text.replace("\\|", "|")
    assert not list(tmp_path.glob(".gpu-cpu.md.*"))  # the temporary file was renamed


def test_a_failed_check_makes_the_script_exit_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gpu_check, "coverage_problems", lambda: ["graphpair.ops.x: no case"])
    output = tmp_path / "report.md"
    assert gpu_check.main(["--device", "cpu", "--output", str(output)]) == 1
    assert "FAILED" in output.read_text()


@pytest.mark.data
def test_the_benchmarks_run_at_smoke_sizes(shared_data: Path) -> None:
    """The CN + sum and scatter benchmarks of the GPU run, at smoke sizes on CPU (the GRIT,
    Cora and loss ones run with ``gpu_check.py --device cpu --bench``, about a minute)."""
    from benchmarks._gpu_bench import bench_all

    tables, checks = bench_all(
        shared_data, CPU, smoke=True, only={"CN + sum (ogbl-ddi)", "scatter backends"}
    )
    assert [c for c in checks if not c[1]] == []
    cn = tables["CN + sum (ogbl-ddi)"]
    assert {row[1] for row in cn} >= {"graphpair", "torch.sparse", "AUTO_RULES entry"}
    assert any("('pair_sum', 'cpu')" in row[4] for row in cn)
    if torch_scatter_available():
        entries = [row[4] for row in tables["scatter backends"] if row[1] == "AUTO_RULES entry"]
        assert any(entry.startswith("('segment_sum', 'cpu')") for entry in entries)
