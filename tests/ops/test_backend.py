from __future__ import annotations

import pytest
import torch

import graphpair.ops._backend as backend_module
from graphpair.ops import (
    get_backend,
    resolve_backend,
    scatter,
    set_backend,
    torch_scatter_available,
    use_backend,
)


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
    monkeypatch.setattr(backend_module, "_AUTO_TORCH_SCATTER", frozenset({("scatter_max", "cpu")}))
    monkeypatch.setattr(backend_module, "_torch_scatter_module", lambda: object())
    assert resolve_backend("scatter_max", torch.device("cpu")) == "torch_scatter"
    assert resolve_backend("scatter_sum", torch.device("cpu")) == "native"
