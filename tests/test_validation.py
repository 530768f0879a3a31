from __future__ import annotations

import pytest
import torch

from graphpair._validation import (
    check_choice,
    check_edge_index,
    check_finite,
    check_index,
    check_int,
    check_memory,
    check_ptr,
    check_tensor,
    describe,
    normalize_name,
)


def test_normalize_name_ignores_case_and_separators() -> None:
    assert (
        normalize_name("Torch-Scatter")
        == normalize_name("torch_scatter")
        == normalize_name("TORCH SCATTER")
    )


def test_check_choice_resolves_aliases_and_lists_choices() -> None:
    assert check_choice("reduce", "ADD", ["sum", "max"], aliases={"add": "sum"}) == "sum"
    with pytest.raises(ValueError, match=r"reduce must be one of \['sum', 'max'\]; got 'avg'"):
        check_choice("reduce", "avg", ["sum", "max"])
    with pytest.raises(TypeError, match="reduce must be a string"):
        check_choice("reduce", 3, ["sum"])


def test_check_int() -> None:
    assert check_int("k", torch.tensor(4)) == 4
    with pytest.raises(TypeError, match="k must be an int; got True"):
        check_int("k", True)
    with pytest.raises(TypeError, match="k must be an int; got 2.0"):
        check_int("k", 2.0)
    with pytest.raises(ValueError, match="k must be <= 3; got 4"):
        check_int("k", 4, maximum=3)


def test_check_tensor_and_describe() -> None:
    with pytest.raises(ValueError, match="x must have 1 or 2 dimension"):
        check_tensor("x", torch.zeros(1, 1, 1), dim=(1, 2))
    with pytest.raises(ValueError, match="x must have a floating-point dtype; got torch.int64"):
        check_tensor("x", torch.zeros(2, dtype=torch.long), floating=True)
    with pytest.raises(ValueError, match="x must have an integer dtype"):
        check_tensor("x", torch.zeros(2, dtype=torch.bool), integer=True)
    assert describe(torch.zeros(2, 3)) == "Tensor(shape=(2, 3), dtype=torch.float32, device=cpu)"
    assert describe("x" * 200).endswith("...")


def test_index_and_edge_index_ranges() -> None:
    check_index("i", torch.empty(0, dtype=torch.long), size=0)
    with pytest.raises(ValueError, match="i must be non-negative; found the entry -3"):
        check_index("i", torch.tensor([0, -3]))
    with pytest.raises(ValueError, match="edge_index entries must be < 2; found the entry 2"):
        check_edge_index("edge_index", torch.tensor([[0, 1], [1, 2]]), num_nodes=2)


def test_check_ptr_and_finite() -> None:
    check_ptr("ptr", torch.tensor([0, 0, 2]), total=2)
    with pytest.raises(ValueError, match="ptr must end at the input size 3; got 2"):
        check_ptr("ptr", torch.tensor([0, 2]), total=3)
    with pytest.raises(ValueError, match="x must be finite; found 2 NaN or infinite entries"):
        check_finite("x", torch.tensor([1.0, float("inf"), float("nan")]))
    check_finite("x", torch.tensor([1, 2]))
    # Finite entries whose sum overflows are accepted; one infinity among them is not.
    huge = torch.full((4,), 3e38)
    assert check_finite("x", huge) is huge
    with pytest.raises(ValueError, match="found 1 NaN or infinite entries"):
        check_finite("x", torch.cat([huge, torch.tensor([float("-inf")])]))
    with pytest.raises(ValueError, match="found 1 NaN"):
        check_finite("x", torch.tensor([float("nan"), 1.0]))


def test_check_memory_refuses_with_the_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    import graphpair._validation as validation

    free = validation.available_memory(torch.device("cpu"))
    assert free is None or free > 0  # MemAvailable on Linux, unknown elsewhere
    monkeypatch.setattr(validation, "available_memory", lambda device: 3 * 2**20)
    check_memory("a table", 2**20, torch.device("cpu"), "use less")
    with pytest.raises(
        ValueError,
        match=r"a table needs about 4\.0 MiB, more than the 3\.0 MiB available on cpu; use less",
    ):
        check_memory("a table", 4 * 2**20, torch.device("cpu"), "use less")
    monkeypatch.setattr(validation, "available_memory", lambda device: None)
    check_memory("a table", 2**60, torch.device("cpu"), "use less")  # unknown: no refusal
