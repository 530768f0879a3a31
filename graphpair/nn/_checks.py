"""Argument checks shared by the layers of :mod:`graphpair.nn` (private)."""

from __future__ import annotations

from graphpair._validation import describe

__all__ = ["check_probability"]


def check_probability(name: str, value: float) -> float:
    """A dropout rate in ``[0, 1)``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float in [0, 1); got {describe(value)}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1); got {value}")
    return float(value)
