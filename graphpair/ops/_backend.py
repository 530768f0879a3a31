"""Backend choice for the scatter, segment and softmax kernels, and the measured rules.

graphpair runs every reduction on torch's native kernels unless torch-scatter is installed
*and* was measured faster for that op on that device type, by a margin beyond run-to-run noise
(at least 1.2x, in ``benchmarks/results/scatter.md``). On this project's CPU machines
(2M x 64 rows, 100k groups, torch 2.13, torch-scatter 2.1.2) torch-scatter's ``segment_csr``
was faster for segment sum (1.30x) and segment mean (1.93x), so ``'auto'`` uses it for those;
native was faster for every max/min (scatter max 7.3x, segment max 1.5x) and for softmax
(1.2-1.4x), and scatter sum/mean were a tie (0.97x), so those stay native. No CUDA measurement
has been made yet, so ``'auto'`` is native on CUDA until ``benchmarks/gpu_check.sh`` (or
``benchmarks/bench_scatter.py --device cuda``) shows otherwise.

Every device-dependent rule that follows a measurement lives in one table, ``AUTO_RULES``
(read through ``auto_rule``): the scatter backends above, and ``pair_sum``'s path (the
sparse CSR product or the gather + segment sum of the member sums in ``graphpair.nn.link``).
A GPU run of ``benchmarks/gpu_check.sh`` measures each rule's alternatives and prints the
entries to change; nothing else needs editing.

Two situations override the table:

- **torch.compile**: torch-scatter's kernels have no fake-tensor implementation, so dynamo
  cannot trace them; inside a compiled region (``torch.compiler.is_compiling()``) every
  backend choice, ``'torch_scatter'`` included, resolves to ``'native'``.
- **deterministic algorithms on CUDA** (``torch.use_deterministic_algorithms(True)``, as
  :func:`graphpair.train.deterministic` sets): torch-scatter's scatter max/min/mul and its
  ``segment_coo`` use atomics on CUDA and are not covered by torch's switch, so ``'auto'``
  stays native for them and an explicit ``'torch_scatter'`` raises; torch's own
  ``scatter_reduce`` has no deterministic product on CUDA, so a ``'mul'`` scatter raises too
  (``check_deterministic``), naming the op and what to use instead.

The switch is scoped: :func:`use_backend` is a context manager, :func:`set_backend` changes
the default of the current context, and the environment variable
``GRAPHPAIR_SCATTER_BACKEND`` sets the initial default. Every op also takes ``backend=``.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import ModuleType

import torch

from graphpair._validation import check_choice, compiling

__all__ = [
    "AUTO_RULES",
    "BACKENDS",
    "auto_rule",
    "check_deterministic",
    "get_backend",
    "resolve_backend",
    "set_backend",
    "torch_scatter_available",
    "use_backend",
]

#: Accepted backend names. ``'auto'`` picks per op and device (see module docstring).
BACKENDS: tuple[str, ...] = ("auto", "native", "torch_scatter")

#: The measured rules, one entry per (op, device type): what ``'auto'`` picks there.
#: Scatter ops (``'scatter_<reduce>'``, ``'segment_<reduce>'``, ``'softmax'``) map to
#: ``'native'`` or ``'torch_scatter'`` (a missing entry is ``'native'``); ``'pair_sum'`` maps to
#: ``'spmm'`` (sparse CSR ``[P, N]`` times ``x``) or ``'gather'`` (member rows gathered and
#: summed per pair). CPU entries: ``benchmarks/results/scatter.md`` and ``link_speed.md``; the
#: CUDA entries are the unmeasured defaults until ``benchmarks/gpu_check.sh`` runs on a GPU
#: (``benchmarks/results/gpu.md`` then lists the entries its measurements call for).
AUTO_RULES: dict[tuple[str, str], str] = {
    ("segment_sum", "cpu"): "torch_scatter",
    ("segment_mean", "cpu"): "torch_scatter",
    ("pair_sum", "cpu"): "spmm",
    ("pair_sum", "cuda"): "gather",
}

#: The choices of each rule family of ``AUTO_RULES``, the first being the default.
_RULE_CHOICES: dict[str, tuple[str, ...]] = {
    "pair_sum": ("gather", "spmm"),
    "scatter": ("native", "torch_scatter"),
}

#: torch-scatter ops that use atomics on CUDA and are not covered by torch's deterministic
#: switch (``scatter_sum``/``mean`` call torch's ``scatter_add_``, which is; ``segment_csr`` has
#: no atomics).
_ATOMIC_TORCH_SCATTER: frozenset[str] = frozenset({"scatter_max", "scatter_min", "scatter_mul"})

_ENV_VAR = "GRAPHPAIR_SCATTER_BACKEND"
_current: ContextVar[str | None] = ContextVar("graphpair_scatter_backend", default=None)


def _canonical(name: str, arg: str = "backend") -> str:
    return check_choice(
        arg, name, BACKENDS, aliases={"torch": "native", "scatter": "torch_scatter"}
    )


@functools.cache
def _torch_scatter_module() -> ModuleType | None:
    try:
        return importlib.import_module("torch_scatter")
    except (ImportError, OSError):  # OSError: a wheel built against another torch
        return None


def auto_rule(op: str, device: torch.device | str) -> str:
    """The choice ``AUTO_RULES`` makes for ``op`` on ``device``'s type (its family's
    default where the table has no entry).

    Args:
        op: ``'pair_sum'`` or a scatter op name (``'segment_sum'``, ``'softmax'``, ...).
        device: The device (or device type) of the input.

    Example:
        >>> auto_rule("pair_sum", torch.device("cpu"))
        'spmm'
        >>> auto_rule("scatter_max", "cpu")
        'native'
    """
    kind = torch.device(device).type
    family = "pair_sum" if op == "pair_sum" else "scatter"
    return AUTO_RULES.get((op, kind), _RULE_CHOICES[family][0])


def _deterministic_on(device: torch.device) -> bool:
    """torch's deterministic switch is on without ``warn_only``, for a CUDA input."""
    return (
        device.type == "cuda"
        and torch.are_deterministic_algorithms_enabled()
        and not torch.is_deterministic_algorithms_warn_only_enabled()
    )


def check_deterministic(op: str, device: torch.device, backend: str) -> None:
    """Refuse ``op`` on ``backend`` where it cannot be deterministic: on CUDA with torch's
    deterministic algorithms on (``warn_only=False``), torch-scatter's atomic scatter
    max/min/mul, and a native ``'scatter_mul'`` (torch's ``scatter_reduce`` has no
    deterministic product on CUDA). Nothing is refused on CPU.

    Raises:
        RuntimeError: the message names the op and what to use instead.

    Example:
        >>> check_deterministic("scatter_mul", torch.device("cpu"), "native")  # CPU: allowed
    """
    if not _deterministic_on(device):
        return
    if backend == "torch_scatter" and op in _ATOMIC_TORCH_SCATTER:
        raise RuntimeError(
            f"{op} on torch_scatter uses atomics on CUDA and is not deterministic, but torch's "
            "deterministic algorithms are on (torch.use_deterministic_algorithms / "
            "graphpair.train.deterministic); use backend='native' (or 'auto') for this op"
        )
    if backend == "native" and op == "scatter_mul":
        raise RuntimeError(
            "scatter with reduce='mul' has no deterministic CUDA implementation in torch "
            "(scatter_reduce 'prod'), but torch's deterministic algorithms are on; sort the "
            "entries by group and use segment(..., reduce='mul'), run it on CPU, or turn the "
            "deterministic switch off for this call"
        )


def torch_scatter_available() -> bool:
    """Whether the optional ``torch_scatter`` package imports in this environment.

    Example:
        >>> backend = "torch_scatter" if torch_scatter_available() else "native"
        >>> resolve_backend("segment_sum", torch.device("cpu"), backend) == backend
        True
    """
    return _torch_scatter_module() is not None


def get_backend() -> str:
    """The backend in force in the current context (``'auto'`` unless changed).

    Set by :func:`use_backend` or :func:`set_backend`, else by the environment variable
    ``GRAPHPAIR_SCATTER_BACKEND``.

    Example:
        >>> with use_backend("native"):
        ...     get_backend()
        'native'
    """
    value = _current.get()
    if value is not None:
        return value
    env = os.environ.get(_ENV_VAR)
    return _canonical(env, _ENV_VAR) if env else "auto"


def set_backend(backend: str) -> None:
    """Set the default backend for the current context: ``'auto'``, ``'native'`` or
    ``'torch_scatter'`` (case- and separator-insensitive).

    Prefer :func:`use_backend`, which restores the previous choice on its own.

    Args:
        backend: The name; ``'torch'`` is an alias of ``'native'``, ``'scatter'`` of
            ``'torch_scatter'``.

    Raises:
        ValueError: An unknown name.

    Example:
        >>> previous = get_backend()
        >>> set_backend("Native")
        >>> get_backend()
        'native'
        >>> set_backend(previous)
    """
    _current.set(_canonical(backend))


@contextmanager
def use_backend(backend: str) -> Iterator[None]:
    """Run a block with a given backend, restoring the previous choice afterwards.

    Args:
        backend: ``'auto'``, ``'native'`` or ``'torch_scatter'`` (case- and
            separator-insensitive; aliases as in :func:`set_backend`).

    Example:
        >>> from graphpair.ops import use_backend, scatter
        >>> with use_backend("native"):
        ...     out = scatter(torch.ones(3), torch.tensor([0, 0, 1]))
    """
    token = _current.set(_canonical(backend))
    try:
        yield
    finally:
        _current.reset(token)


def resolve_backend(op: str, device: torch.device, backend: str | None = None) -> str:
    """The concrete backend (``'native'`` or ``'torch_scatter'``) for ``op`` on ``device``.

    ``'auto'`` follows ``AUTO_RULES``. Inside a ``torch.compile`` region every choice is
    ``'native'`` (torch-scatter's kernels cannot be traced); with torch's deterministic
    algorithms on CUDA, ``'auto'`` avoids torch-scatter's atomic ops and an explicit
    ``'torch_scatter'`` for one of them raises (see the module docstring).

    Args:
        op: Op name, e.g. ``'scatter_max'``, ``'segment_sum'``, ``'softmax'``.
        device: Device of the input.
        backend: Per-call override; ``None`` uses :func:`get_backend`.

    Raises:
        ValueError: ``backend`` is not a known name.
        ImportError: ``'torch_scatter'`` was forced but is not installed.
        RuntimeError: the op cannot be deterministic on that backend and device while torch's
            deterministic algorithms are on (``check_deterministic``).

    Example:
        >>> resolve_backend("scatter_max", torch.device("cpu"), "auto")  # native is faster
        'native'
    """
    if compiling():
        # Before get_backend: dynamo cannot trace a ContextVar read either.
        if backend is not None:
            _canonical(backend)
        check_deterministic(op, device, "native")
        return "native"
    choice = get_backend() if backend is None else _canonical(backend)
    if choice == "torch_scatter":
        if not torch_scatter_available():
            raise ImportError(
                "backend='torch_scatter' was requested but torch_scatter is not installed; "
                "install it with `pip install --no-build-isolation torch-scatter` "
                "(or `scripts/setup.sh test,scatter`), or use backend='native'"
            )
        chosen = "torch_scatter"
    elif (
        choice == "auto"
        and auto_rule(op, device) == "torch_scatter"
        and torch_scatter_available()
        and not (op in _ATOMIC_TORCH_SCATTER and _deterministic_on(device))
    ):
        chosen = "torch_scatter"
    else:
        chosen = "native"
    check_deterministic(op, device, chosen)
    return chosen


def torch_scatter() -> ModuleType:
    """The imported ``torch_scatter`` module (call only after :func:`resolve_backend`)."""
    module = _torch_scatter_module()
    if module is None:  # pragma: no cover - resolve_backend guards this
        raise ImportError("torch_scatter is not installed")
    return module
