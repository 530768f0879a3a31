"""Runs the cases of ``_gpu_cases.py``: each on the reference (CPU, float64) and on a target
(device, dtype, scatter backend), outputs and gradients compared within the family's
tolerance. Used by ``benchmarks/gpu_check.py`` (CUDA float32 against the reference; on CPU,
CPU float32 against it) and by ``tests/test_gpu_check.py`` and ``tests/test_compile.py``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data

from benchmarks._gpu_cases import CASES, FAMILY_TOLERANCE, Builder, Call
from graphpair.ops import use_backend

__all__ = ["SweepRow", "compare", "flatten", "run_call", "run_case", "sweep"]


@dataclass
class SweepRow:
    """One case of the sweep: the largest error and whether every entry was within tolerance."""

    module: str
    name: str
    family: str
    rtol: float
    atol: float
    max_abs: float
    #: max over entries of |target - reference| / (atol * scale + rtol |reference|), scale
    #: being the tensor's largest finite |reference| entry (at least 1); <= 1 passes.
    ratio: float
    entries: int
    seconds: float
    ok: bool
    note: str = ""


def flatten(obj: Any, prefix: str = "out") -> dict[str, Any]:
    """Every tensor (and scalar) of a result, keyed by its path: tensors, tuples (named or
    not), lists, dicts, PyG ``Data`` and objects with tensor attributes (``CSR``)."""
    if isinstance(obj, Tensor):
        return {prefix: obj}
    if isinstance(obj, (bool, int, float, str)) or obj is None:
        return {prefix: obj}
    if isinstance(obj, Data):
        return flatten(obj.to_dict(), prefix)
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (tuple, list)):
        names = getattr(obj, "_fields", None) or range(len(obj))
        items = zip(names, obj, strict=True)
    elif hasattr(obj, "__dict__"):
        items = ((k, v) for k, v in vars(obj).items() if not k.startswith("_"))
    else:
        return {prefix: repr(obj)}
    out: dict[str, Any] = {}
    for key, value in items:
        out.update(flatten(value, f"{prefix}.{key}"))
    return out


def _modules(fn: Callable[..., Any]) -> list[torch.nn.Module]:
    """The module called, or the modules a closure calls (``lambda x: enc(x)``)."""
    if isinstance(fn, torch.nn.Module):
        return [fn]
    cells = getattr(fn, "__closure__", None) or ()
    return [c.cell_contents for c in cells if isinstance(c.cell_contents, torch.nn.Module)]


def run_call(call: Call, fn: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Run ``call`` (through ``fn`` when given, e.g. its compiled form), then backward of a
    fixed random projection of every differentiable output; returns the outputs and the
    gradients of the inputs and parameters, detached on CPU."""
    result = (call.fn if fn is None else fn)(*call.args, **call.kwargs)
    values = flatten(result)
    loss: Tensor | None = None
    for i, (_, value) in enumerate(sorted(values.items())):
        if isinstance(value, Tensor) and value.requires_grad and value.numel():
            g = torch.Generator().manual_seed(100 + i)
            weight = torch.randn(value.shape, generator=g).to(value.device, value.dtype)
            term = (value * weight).sum()
            loss = term if loss is None else loss + term
    leaves: dict[str, Tensor] = {}
    for i, arg in enumerate(call.args):
        if isinstance(arg, Tensor) and arg.requires_grad and arg.is_leaf:
            leaves[f"grad.arg{i}"] = arg
    for key, arg in call.kwargs.items():
        if isinstance(arg, Tensor) and arg.requires_grad and arg.is_leaf:
            leaves[f"grad.{key}"] = arg
    modules = _modules(call.fn) + [a for a in call.args if isinstance(a, torch.nn.Module)]
    for module in modules:
        for name, param in module.named_parameters():
            if param.requires_grad:
                leaves[f"grad.param.{name}"] = param
    if loss is not None and leaves:
        grads = torch.autograd.grad(loss, list(leaves.values()), allow_unused=True)
        for key, grad in zip(leaves, grads, strict=True):
            values[key] = grad
    return {k: v.detach().cpu() if isinstance(v, Tensor) else v for k, v in values.items()}


def run_case(
    builder: Builder, device: torch.device, dtype: torch.dtype, backend: str | None = None
) -> dict[str, Any]:
    """Build the case for (device, dtype) and run it under ``backend`` (``None``: as set)."""
    context = use_backend(backend) if backend else contextlib.nullcontext()
    with context:
        return run_call(builder(device, dtype))


def compare(
    target: dict[str, Any], reference: dict[str, Any], rtol: float, atol: float
) -> tuple[float, float, int, str]:
    """(max |target - reference|, max ratio to the tolerance, entries compared, first problem)
    over float tensors; integer and bool tensors and scalars must be equal."""
    max_abs, ratio, entries, note = 0.0, 0.0, 0, ""
    if set(target) != set(reference):
        missing = sorted(set(target) ^ set(reference))
        return math_inf(), math_inf(), 0, f"different results: {missing[:4]}"
    for key, ref in sorted(reference.items()):
        got = target[key]
        if isinstance(ref, Tensor) and isinstance(got, Tensor):
            if ref.shape != got.shape:
                return (
                    math_inf(),
                    math_inf(),
                    entries,
                    f"{key}: shape {tuple(got.shape)} != {tuple(ref.shape)}",
                )
            entries += ref.numel()
            if ref.is_floating_point():
                diff = (got.double() - ref.double()).abs()
                finite = ref.double()[ref.isfinite()].abs()
                scale = max(1.0, float(finite.max())) if finite.numel() else 1.0
                bound = atol * scale + rtol * ref.double().abs()
                both_nan = got.isnan() & ref.isnan()
                diff = torch.where(both_nan, 0.0, diff.nan_to_num(nan=float("inf")))
                if diff.numel():
                    max_abs = max(max_abs, float(diff.max()))
                    worst = float((diff / bound).max())
                    if worst > ratio:
                        ratio = worst
                        if worst > 1 and not note:
                            note = f"{key}: max error {float(diff.max()):.3g}"
            elif not torch.equal(got, ref):
                return max_abs, math_inf(), entries, f"{key}: integer values differ"
        elif got is None and ref is None:
            continue
        elif _zero_or_none(got) and _zero_or_none(ref):
            entries += 1  # an unused parameter: no gradient on one side, zeros on the other
        elif not isinstance(ref, Tensor) and not isinstance(got, Tensor) and got == ref:
            entries += 1
        elif isinstance(ref, Tensor) or isinstance(got, Tensor):
            return max_abs, math_inf(), entries, f"{key}: tensor on one side only"
        elif got != ref:
            return max_abs, math_inf(), entries, f"{key}: {got!r} != {ref!r}"
    return max_abs, ratio, entries, note


def _zero_or_none(value: Any) -> bool:
    return value is None or (
        isinstance(value, Tensor) and value.is_floating_point() and not bool(value.any())
    )


def math_inf() -> float:
    return float("inf")


def sweep(
    device: torch.device,
    dtype: torch.dtype = torch.float32,
    *,
    backend: str | None = None,
    only: Callable[[str, str], bool] | None = None,
) -> list[SweepRow]:
    """Every case on ``(device, dtype, backend)`` against CPU float64 (native backend)."""
    rows = []
    cpu = torch.device("cpu")
    for module, cases in CASES.items():
        for name, (family, builder) in cases.items():
            if only is not None and not only(module, name):
                continue
            rtol, atol = FAMILY_TOLERANCE[family]
            start = time.perf_counter()
            try:
                reference = run_case(builder, cpu, torch.float64, "native")
                target = run_case(builder, device, dtype, backend)
                max_abs, ratio, entries, note = compare(target, reference, rtol, atol)
                ok = ratio <= 1.0 and entries > 0
                if entries == 0 and not note:
                    note = "nothing compared"
            except Exception as error:  # a failing case is a failed row, not a crash
                max_abs, ratio, entries, ok = math_inf(), math_inf(), 0, False
                first = str(error).splitlines()[0][:160] if str(error) else ""
                note = f"{type(error).__name__}: {first}"
            seconds = time.perf_counter() - start
            rows.append(
                SweepRow(
                    module, name, family, rtol, atol, max_abs, ratio, entries, seconds, ok, note
                )
            )
    return rows
