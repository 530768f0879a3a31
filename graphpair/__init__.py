"""graphpair: pairwise and link tasks on graphs with PyTorch Geometric.

:func:`load_model` reads back a model a runner saved (``--save-model``).

The subpackages (``graphpair.nn``, ``graphpair.train`` ...) are imported when first used, so
that ``import graphpair`` (and the ``graphpair`` command) does not pay for torch and PyG
before it needs them; ``from graphpair import nn`` and ``graphpair.nn`` work as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from graphpair._version import __version__

if TYPE_CHECKING:
    from graphpair import data, losses, metrics, nn, ops, train, transforms
    from graphpair.train import load_model

__all__ = [
    "__version__",
    "data",
    "load_model",
    "losses",
    "metrics",
    "nn",
    "ops",
    "train",
    "transforms",
]

_SUBPACKAGES = ("data", "losses", "metrics", "nn", "ops", "train", "transforms")


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"graphpair.{name}")
    if name == "load_model":
        return importlib.import_module("graphpair.train").load_model
    raise AttributeError(f"module 'graphpair' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
