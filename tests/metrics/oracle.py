"""Shared pieces of the metric tests: tie-heavy score strategies and OGB's evaluators."""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st
from ogb.graphproppred import Evaluator as GraphEvaluator
from ogb.linkproppred import Evaluator as LinkEvaluator
from ogb.nodeproppred import Evaluator as NodeEvaluator

__all__ = [
    "GraphEvaluator",
    "LinkEvaluator",
    "NodeEvaluator",
    "as_numpy",
    "as_tensor",
    "close",
    "score_lists",
    "tied_scores",
]

# A handful of values, so that most draws contain ties; -0.0 and 0.0 compare equal and must tie.
TIED_VALUES = [-2.0, -0.5, -0.0, 0.0, 0.25, 1.0, 1.0 + 2.0**-40, 3.0]


def tied_scores(*, infinite: bool = False) -> st.SearchStrategy[float]:
    """One score drawn from a small pool (optionally with +-inf), or now and then any float."""
    pool = TIED_VALUES + ([-math.inf, math.inf] if infinite else [])
    return st.one_of(
        st.sampled_from(pool),
        st.floats(-10, 10, allow_nan=False, width=32),
    )


def score_lists(min_size: int, max_size: int, **kwargs: bool) -> st.SearchStrategy[list[float]]:
    return st.lists(tied_scores(**kwargs), min_size=min_size, max_size=max_size)


def close(ours: float, reference: float) -> bool:
    """Equal up to float64 summation order: within 1e-12, relative or absolute."""
    return math.isclose(ours, float(reference), rel_tol=1e-12, abs_tol=1e-12)


def as_numpy(values: list[float], dtype: type = np.float64) -> np.ndarray:
    return np.asarray(values, dtype=dtype)


def as_tensor(values: list[float], dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype)
