"""graphpair: pairwise and link tasks on graphs with PyTorch Geometric.

:func:`load_model` reads back a model a runner saved (``--save-model``).

The subpackages (``graphpair.nn``, ``graphpair.train`` ...) are imported when first used, so
that ``import graphpair`` (and the ``graphpair`` command) does not pay for torch and PyG
before it needs them; ``from graphpair import nn`` and ``graphpair.nn`` work as usual.
"""

from __future__ import annotations

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


def __getattr__(name: str) -> Any:
    # Run on first use; the imports are written out so that tests/test_layering.py sees them.
    if name == "data":
        import graphpair.data
    elif name == "losses":
        import graphpair.losses
    elif name == "metrics":
        import graphpair.metrics
    elif name == "nn":
        import graphpair.nn
    elif name == "ops":
        import graphpair.ops
    elif name == "train":
        import graphpair.train
    elif name == "transforms":
        import graphpair.transforms
    elif name == "load_model":
        import graphpair.train

        return graphpair.train.load_model
    else:
        raise AttributeError(f"module 'graphpair' has no attribute {name!r}")
    return globals()[name]  # importing a subpackage sets it on this package


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
