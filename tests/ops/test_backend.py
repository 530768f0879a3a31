from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch
from torch import Tensor

import graphpair.ops._backend as backend_module
from graphpair.ops import (
    get_backend,
    resolve_backend,
    scatter,
    segment,
    set_backend,
    torch_scatter_available,
    use_backend,
)
from graphpair.ops._backend import AUTO_RULES, auto_rule


@contextmanager
def deterministic() -> Iterator[None]:
    """torch's deterministic switch for a block, restored afterwards."""
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


def test_default_is_auto_and_auto_follows_the_measured_table() -> None:
    assert get_backend() == "auto"
    assert resolve_backend("scatter_sum", torch.device("cpu")) == "native"
    assert resolve_backend("scatter_max", torch.device("cpu")) == "native"
    assert resolve_backend("softmax", torch.device("cpu")) == "native"
    expected = "torch_scatter" if torch_scatter_available() else "native"
    assert resolve_backend("segment_sum", torch.device("cpu")) == expected
    assert resolve_backend("segment_mean", torch.device("cpu")) == expected
    assert resolve_backend("segment_sum", torch.device("cuda")) == "native"  # not measured


def test_use_backend_is_scoped_and_names_are_normalised() -> None:
    with use_backend("Native"):
        assert get_backend() == "native"
        with use_backend("torch-scatter"):
            assert get_backend() == "torch_scatter"
        assert get_backend() == "native"
    assert get_backend() == "auto"


def test_set_backend_changes_the_context_default() -> None:
    token = backend_module._current.set(None)
    try:
        set_backend("native")
        assert get_backend() == "native"
    finally:
        backend_module._current.reset(token)
    assert get_backend() == "auto"


def test_environment_variable_sets_the_initial_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHPAIR_SCATTER_BACKEND", "native")
    assert get_backend() == "native"
    monkeypatch.setenv("GRAPHPAIR_SCATTER_BACKEND", "cuda-magic")
    with pytest.raises(ValueError, match="GRAPHPAIR_SCATTER_BACKEND must be one of"):
        get_backend()


def test_unknown_backend_is_rejected_with_choices() -> None:
    with pytest.raises(
        ValueError,
        match=r"backend must be one of \['auto', 'native', 'torch_scatter'\]; got 'fast'",
    ):
        scatter(torch.ones(2), torch.tensor([0, 1]), backend="fast")


def test_forced_torch_scatter_without_the_package_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backend_module, "_torch_scatter_module", lambda: None)
    with pytest.raises(ImportError, match="pip install --no-build-isolation torch-scatter"):
        scatter(torch.ones(2), torch.tensor([0, 1]), backend="torch_scatter")
    # 'auto' quietly stays native when the package is missing.
    assert resolve_backend("scatter_sum", torch.device("cpu"), "auto") == "native"


def test_auto_uses_torch_scatter_only_where_measured_faster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backend_module, "AUTO_RULES", {("scatter_max", "cpu"): "torch_scatter"})
    monkeypatch.setattr(backend_module, "_torch_scatter_module", lambda: object())
    assert resolve_backend("scatter_max", torch.device("cpu")) == "torch_scatter"
    assert resolve_backend("scatter_sum", torch.device("cpu")) == "native"


def test_auto_rule_reads_the_one_table_with_a_default_per_family(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert auto_rule("pair_sum", "cpu") == "spmm"
    assert auto_rule("pair_sum", torch.device("cuda")) == "gather"
    assert auto_rule("softmax", "cuda") == "native"
    monkeypatch.setattr(backend_module, "AUTO_RULES", {("segment_sum", "cuda"): "torch_scatter"})
    assert auto_rule("segment_sum", "cuda") == "torch_scatter"
    assert auto_rule("segment_sum", "cpu") == "native"
    assert auto_rule("pair_sum", "cpu") == "gather"  # the family's default without an entry
    # Every entry of the shipped table names a known op family and one of its choices.
    for (op, kind), choice in AUTO_RULES.items():
        family = "pair_sum" if op == "pair_sum" else "scatter"
        assert choice in backend_module._RULE_CHOICES[family], (op, kind, choice)
        assert kind in ("cpu", "cuda")


@pytest.mark.parametrize("forced", ["torch_scatter", "auto"])
def test_torch_scatter_is_never_traced_by_torch_compile(forced: str) -> None:
    """Inside a compiled region every choice resolves to native, so a model compiles under
    any backend setting (torch-scatter's kernels have no fake-tensor implementation)."""
    src = torch.arange(12.0).view(6, 2)
    ptr = torch.tensor([0, 2, 2, 6])

    def reduce(values: Tensor) -> Tensor:
        return segment(values, ptr, "sum") + segment(values, ptr, "mean")

    compiled = torch.compile(reduce, backend="eager", fullgraph=True)
    context = use_backend(forced) if forced == "auto" or torch_scatter_available() else None
    with context or use_backend("native"):
        torch.testing.assert_close(compiled(src), reduce(src))
        explain = torch._dynamo.explain(reduce)(src)
    assert explain.graph_break_count == 0


def test_deterministic_cuda_refuses_torch_scatter_atomics_and_native_product(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With torch's deterministic switch on, the ops that cannot be deterministic on CUDA are
    refused before any work with a message naming them (checked on a CUDA device object; no
    kernel runs)."""
    monkeypatch.setattr(backend_module, "_torch_scatter_module", lambda: object())
    monkeypatch.setattr(backend_module, "AUTO_RULES", {("scatter_max", "cuda"): "torch_scatter"})
    cuda = torch.device("cuda")
    assert resolve_backend("scatter_max", cuda, "auto") == "torch_scatter"  # switch off
    with deterministic():
        with pytest.raises(RuntimeError, match="scatter_max on torch_scatter uses atomics"):
            resolve_backend("scatter_max", cuda, "torch_scatter")
        assert resolve_backend("scatter_max", cuda, "auto") == "native"  # auto steps aside
        assert resolve_backend("scatter_sum", cuda, "torch_scatter") == "torch_scatter"
        assert resolve_backend("segment_max", cuda, "torch_scatter") == "torch_scatter"
        with pytest.raises(RuntimeError, match="reduce='mul' has no deterministic CUDA"):
            resolve_backend("scatter_mul", cuda, "native")
        # CPU is never refused.
        assert resolve_backend("scatter_mul", torch.device("cpu"), "native") == "native"
        torch.use_deterministic_algorithms(True, warn_only=True)
        assert resolve_backend("scatter_mul", cuda, "native") == "native"  # warn_only: allowed
