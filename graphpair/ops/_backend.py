"""Backend choice for the scatter, segment and softmax kernels.

graphpair runs every reduction on torch's native kernels unless torch-scatter is installed
*and* was measured faster for that op on that device type, by a margin beyond run-to-run noise
(at least 1.2x, in ``benchmarks/results/scatter.md``). On this project's CPU machines
(2M x 64 rows, 100k groups, torch 2.13, torch-scatter 2.1.2) torch-scatter's ``segment_csr``
was faster for segment sum (1.30x) and segment mean (1.93x), so ``'auto'`` uses it for those;
native was faster for every max/min (scatter max 7.3x, segment max 1.5x) and for softmax
(1.2-1.4x), and scatter sum/mean were a tie (0.97x), so those stay native. No CUDA measurement
has been made yet, so ``'auto'`` is native on CUDA until ``benchmarks/bench_scatter.py
--device cuda`` shows otherwise; ``_AUTO_TORCH_SCATTER`` is the table to update.

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

from graphpair._validation import check_choice

__all__ = [
    "BACKENDS",
    "get_backend",
    "resolve_backend",
    "set_backend",
    "torch_scatter_available",
    "use_backend",
]

#: Accepted backend names. ``'auto'`` picks per op and device (see module docstring).
BACKENDS: tuple[str, ...] = ("auto", "native", "torch_scatter")

#: (op, device type) pairs on which torch-scatter was measured at least 1.2x faster than native.
_AUTO_TORCH_SCATTER: frozenset[tuple[str, str]] = frozenset(
    {("segment_sum", "cpu"), ("segment_mean", "cpu")}
)

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

    Args:
        op: Op name, e.g. ``'scatter_max'``, ``'segment_sum'``, ``'softmax'``.
        device: Device of the input.
        backend: Per-call override; ``None`` uses :func:`get_backend`.

    Raises:
        ValueError: ``backend`` is not a known name.
        ImportError: ``'torch_scatter'`` was forced but is not installed.

    Example:
        >>> resolve_backend("scatter_max", torch.device("cpu"), "auto")  # native is faster
        'native'
    """
    choice = get_backend() if backend is None else _canonical(backend)
    if choice == "native":
        return "native"
    if choice == "torch_scatter":
        if not torch_scatter_available():
            raise ImportError(
                "backend='torch_scatter' was requested but torch_scatter is not installed; "
                "install it with `pip install --no-build-isolation torch-scatter` "
                "(or `scripts/setup.sh test,scatter`), or use backend='native'"
            )
        return "torch_scatter"
    if (op, device.type) in _AUTO_TORCH_SCATTER and torch_scatter_available():
        return "torch_scatter"
    return "native"


def torch_scatter() -> ModuleType:
    """The imported ``torch_scatter`` module (call only after :func:`resolve_backend`)."""
    module = _torch_scatter_module()
    if module is None:  # pragma: no cover - resolve_backend guards this
        raise ImportError("torch_scatter is not installed")
    return module
