"""Argument checks shared by every public entry point.

Each check raises a :class:`ValueError` (or :class:`TypeError` for a wrong Python type) whose
message names the argument, shows the offending value and says what was expected, *before* any
expensive work starts. The checks that need a reduction over a tensor (index ranges, pointer
order, finiteness) cost one pass over that tensor, which is small next to the work of the ops
that call them, and read their result back to the host once per check (one device sync on CUDA).

Under ``torch.compile`` (:func:`compiling`) only the checks of types, shapes and dtypes run:
the data-dependent ones (index ranges, pointer order and ends, finiteness) would read a tensor
value on the host, which breaks the compiled graph (``Tensor.item()``) and, on CUDA, waits for
the device on every call. A compiled model is meant to be checked in eager mode first; its
inputs are then trusted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "check_choice",
    "check_edge_index",
    "check_finite",
    "check_index",
    "check_int",
    "check_memory",
    "check_ptr",
    "check_tensor",
    "compiling",
    "describe",
    "index_range",
    "normalize_name",
]


def compiling() -> bool:
    """Whether ``torch.compile`` is tracing the caller: the data-dependent checks are skipped
    then (see the module docstring), and :mod:`graphpair.ops` runs its native kernels."""
    return bool(torch.compiler.is_compiling())


def describe(value: Any) -> str:
    """A short description of ``value`` for error messages (tensors by shape and dtype)."""
    if isinstance(value, Tensor):
        return f"Tensor(shape={tuple(value.shape)}, dtype={value.dtype}, device={value.device})"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def normalize_name(name: str) -> str:
    """Case- and separator-insensitive key: ``'Torch-Scatter'`` -> ``'torchscatter'``."""
    return re.sub(r"[\s_\-./]+", "", name).lower()


def check_choice(
    name: str, value: Any, choices: Sequence[str], aliases: dict[str, str] | None = None
) -> str:
    """Resolve ``value`` to one of ``choices`` (case- and separator-insensitively).

    ``aliases`` maps further accepted spellings to a canonical choice.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {list(choices)}; got {describe(value)}")
    table = {normalize_name(c): c for c in choices}
    for alias, target in (aliases or {}).items():
        table[normalize_name(alias)] = target
    key = normalize_name(value)
    if key not in table:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}")
    return table[key]


def check_int(
    name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Check that ``value`` is a Python (or 0-d tensor) integer within ``[minimum, maximum]``."""
    if isinstance(value, Tensor) and value.dim() == 0 and not value.is_floating_point():
        value = int(value.item())
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int; got {describe(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {value}")
    return value


def check_tensor(
    name: str,
    value: Any,
    *,
    dim: int | Iterable[int] | None = None,
    floating: bool | None = None,
    integer: bool | None = None,
) -> Tensor:
    """Check that ``value`` is a tensor with the given number of dims and dtype family."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {describe(value)}")
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if value.dim() not in dims:
            want = " or ".join(str(d) for d in dims)
            raise ValueError(
                f"{name} must have {want} dimension(s); got shape {tuple(value.shape)}"
            )
    if floating and not value.is_floating_point():
        raise ValueError(f"{name} must have a floating-point dtype; got {value.dtype}")
    if integer and (value.is_floating_point() or value.is_complex() or value.dtype == torch.bool):
        raise ValueError(f"{name} must have an integer dtype (e.g. torch.long); got {value.dtype}")
    return value


def index_range(index: Tensor) -> tuple[int, int] | None:
    """``(min, max)`` of an integer tensor read back in one transfer (one sync on CUDA), or
    ``None`` for an empty tensor and under ``torch.compile`` (a data-dependent check, skipped
    there: see the module docstring)."""
    if index.numel() == 0 or compiling():
        return None
    lo, hi = torch.stack(torch.aminmax(index.reshape(-1))).tolist()
    return int(lo), int(hi)


def _check_range(name: str, index: Tensor, size: int | None) -> None:
    bounds = index_range(index)
    if bounds is None:
        return
    lo, hi = bounds
    if lo < 0:
        raise ValueError(f"{name} must be non-negative; found the entry {lo}")
    if size is not None and hi >= size:
        raise ValueError(f"{name} entries must be < {size}; found the entry {hi}")


def check_index(
    name: str, index: Any, *, size: int | None = None, length: int | None = None
) -> Tensor:
    """Check a 1-D integer index tensor with entries in ``[0, size)`` and ``length`` entries
    (the range is not checked under ``torch.compile``)."""
    out = check_tensor(name, index, dim=1, integer=True)
    if length is not None and out.numel() != length:
        raise ValueError(f"{name} must have {length} entries; got {out.numel()}")
    _check_range(name, out, size)
    return out


def check_edge_index(name: str, edge_index: Any, *, num_nodes: int | None = None) -> Tensor:
    """Check a ``[2, E]`` integer tensor of node pairs with entries in ``[0, num_nodes)`` (the
    range is not checked under ``torch.compile``)."""
    out = check_tensor(name, edge_index, dim=2, integer=True)
    if out.size(0) != 2:
        raise ValueError(f"{name} must have shape [2, E]; got shape {tuple(out.shape)}")
    _check_range(name, out, num_nodes)
    return out


def check_ptr(name: str, ptr: Any, *, total: int) -> Tensor:
    """Check a CSR pointer: 1-D integer, starts at 0, non-decreasing, ends at ``total`` (the
    values are not checked under ``torch.compile``, only the type, shape and dtype)."""
    out = check_tensor(name, ptr, dim=1, integer=True)
    if out.numel() == 0:
        raise ValueError(
            f"{name} must have at least one entry (a pointer [S + 1]); got an empty tensor"
        )
    if compiling():
        return out
    # One read-back for the three facts: first entry, last entry, whether any step decreases.
    decreasing = (out[1:] < out[:-1]).any().to(out.dtype)
    first, last, bad = torch.stack([out[0], out[-1], decreasing]).tolist()
    if first != 0:
        raise ValueError(f"{name} must start at 0; got {first}")
    if last != total:
        raise ValueError(f"{name} must end at the input size {total}; got {last}")
    if bad:
        raise ValueError(f"{name} must be non-decreasing")
    return out


def check_finite(name: str, value: Tensor) -> Tensor:
    """Check that a floating tensor holds no NaN or infinite entries.

    A finite sum proves every entry finite (a NaN or an infinity makes the sum NaN or
    infinite), at a third of the memory traffic of ``isfinite(value).all()``: this check runs
    on every embedding a link predictor scores. Only a non-finite sum, which an overflow of
    finite entries can also give, is looked at entry by entry. Skipped under ``torch.compile``.
    """
    if not value.is_floating_point() or value.numel() == 0 or compiling():
        return value
    if bool(torch.isfinite(value.sum())) or bool(torch.isfinite(value).all()):
        return value
    bad = int((~torch.isfinite(value)).sum())
    raise ValueError(f"{name} must be finite; found {bad} NaN or infinite entries")


def available_memory(device: torch.device) -> int | None:
    """Bytes that can still be allocated on ``device``: CUDA's free memory, or on CPU the
    kernel's ``MemAvailable`` (Linux); ``None`` where it cannot be told."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    if device.type != "cpu":
        return None
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_memory(what: str, need: int, device: torch.device, hint: str) -> None:
    """Refuse, before allocating, a tensor set of about ``need`` bytes that does not fit in the
    memory still available on ``device`` (:func:`available_memory`; no check where it cannot
    be told). The message gives the estimate and ``hint`` (what to do instead)."""
    free = available_memory(device)
    if free is not None and need > free:
        raise ValueError(
            f"{what} needs about {need / 2**20:,.1f} MiB, more than the {free / 2**20:,.1f} MiB "
            f"available on {device}; {hint}"
        )
