"""The determinism switch of the runners (``deterministic=True``, ``--deterministic``).

The runners seed everything they draw from (``torch.manual_seed(seed)`` and one
``torch.Generator`` per run), which makes a CPU run on one thread repeat its numbers on the
same machine. What seeding cannot fix is an op whose *algorithm* is nondeterministic: on
CPU with several threads the accumulating ``index_put_`` behind the backward of ``x[idx]``;
on CUDA, atomic-add reductions (``index_add_``, ``scatter_add_``), cuDNN's autotuned
convolutions and cuBLAS with several workspaces. They differ from run to run in the last
bits. :func:`deterministic` asks
torch for its deterministic implementations for the length of a block and makes every op that
has none raise instead of silently differing.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import torch

__all__ = ["deterministic", "honour_deterministic"]

#: cuBLAS needs a fixed workspace configuration for reproducible matmuls (CUDA >= 10.2);
#: ``:4096:8`` is the larger of the two settings NVIDIA documents.
_CUBLAS_VAR = "CUBLAS_WORKSPACE_CONFIG"
_CUBLAS_VALUE = ":4096:8"

_P = ParamSpec("_P")
_R = TypeVar("_R")


@contextmanager
def deterministic(enabled: bool = True) -> Iterator[None]:
    """Run a block with torch's deterministic algorithms, restoring the previous state after.

    Inside the block: ``torch.use_deterministic_algorithms(True)`` (an op without a
    deterministic implementation raises torch's ``RuntimeError`` naming it, rather than
    returning numbers that differ between runs), ``torch.backends.cudnn.deterministic = True``
    and ``torch.backends.cudnn.benchmark = False`` (no autotuned convolution choice), and the
    environment variable ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` when it is not set (cuBLAS reads
    it when a process first uses it, so set it yourself before the first CUDA matmul for it to
    take effect on GPU). On exit, also by an exception, every one of these is put back as it
    was, the environment variable included. The switch is process-wide, not per thread.

    The switch does not seed: the runners seed every run from its config's ``seed``. With
    both, a run repeats its numbers bit for bit on the same machine and torch version, at any
    CPU thread count. Without the switch that is only guaranteed on one thread: on several,
    the backward of advanced indexing (``h[idx]``, an ``index_put_`` that accumulates) adds
    in an order that varies between runs. Cora NCN on two threads drifted by up to 8e-8
    within three epochs that way, until the link encoders and predictors switched to
    ``index_select``; other paths may still gather by indexing. The runners' configs have a
    ``deterministic`` field (``--deterministic`` on the command line) that runs the whole
    training inside this switch.

    Args:
        enabled: turn the switch on; ``False`` changes nothing, so that a caller can pass a
            config's flag straight through (an enclosing ``deterministic()`` block stays in
            force).

    Raises:
        TypeError: ``enabled`` is not a bool.

    Example:
        >>> import torch
        >>> from graphpair.train import deterministic
        >>> with deterministic():
        ...     torch.are_deterministic_algorithms_enabled()
        True
        >>> torch.are_deterministic_algorithms_enabled()
        False
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool; got {type(enabled).__name__}")
    if not enabled:
        yield
        return
    algorithms = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    cudnn_deterministic = torch.backends.cudnn.deterministic
    cudnn_benchmark = torch.backends.cudnn.benchmark
    cublas = os.environ.get(_CUBLAS_VAR)
    try:
        if cublas is None:
            os.environ[_CUBLAS_VAR] = _CUBLAS_VALUE
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        yield
    finally:
        torch.use_deterministic_algorithms(algorithms, warn_only=warn_only)
        torch.backends.cudnn.deterministic = cudnn_deterministic
        torch.backends.cudnn.benchmark = cudnn_benchmark
        if cublas is None:
            os.environ.pop(_CUBLAS_VAR, None)


def honour_deterministic(runner: Callable[_P, _R]) -> Callable[_P, _R]:
    """Wrap a runner ``runner(config, ...)`` so that the whole call runs inside
    ``deterministic(config.deterministic)`` (the runners' ``deterministic`` field)."""

    @functools.wraps(runner)
    def wrapped(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        config = args[0] if args else kwargs.get("config")
        # A config of the wrong type has no such field: the runner's own check reports it.
        with deterministic(getattr(config, "deterministic", False) is True):
            return runner(*args, **kwargs)

    return wrapped
