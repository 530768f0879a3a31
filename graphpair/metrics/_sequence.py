"""Sub-token F1 for sequence prediction, identical to OGB's ``F1`` evaluator (ogbg-code2)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import NamedTuple

from graphpair._validation import describe

__all__ = ["SubtokenF1", "subtoken_f1"]


class SubtokenF1(NamedTuple):
    """Precision, recall and F1 averaged over sequences (OGB's keys ``precision``, ``recall``,
    ``F1``), as :func:`subtoken_f1` returns them.

    Attributes:
        precision: Mean per-sequence precision.
        recall: Mean per-sequence recall.
        f1: Mean per-sequence F1 (not the F1 of the two means).

    Example:
        >>> subtoken_f1([["get", "name"]], [["get"]])._asdict()
        {'precision': 1.0, 'recall': 0.5, 'f1': 0.6666666666666666}
    """

    precision: float
    recall: float
    f1: float


def _sequences(name: str, value: object) -> Sequence[Sequence[Hashable]]:
    if not isinstance(value, list | tuple):
        raise TypeError(f"{name} must be a list of token sequences; got {describe(value)}")
    for i, item in enumerate(value):
        if isinstance(item, str) or not isinstance(item, list | tuple):
            raise TypeError(
                f"{name}[{i}] must be a list of tokens (e.g. ['get', 'name']); got {describe(item)}"
            )
    return value


def subtoken_f1(
    seq_ref: Sequence[Sequence[Hashable]], seq_pred: Sequence[Sequence[Hashable]]
) -> SubtokenF1:
    r"""Set-based precision, recall and F1 per sequence, averaged over sequences.

    Each reference and prediction is reduced to its *set* of tokens (order and repeats are
    ignored). With :math:`tp = |R \cap \hat R|`,

    .. math::
        p = \frac{tp}{|\hat R|}, \qquad r = \frac{tp}{|R|}, \qquad
        F_1 = \frac{2 p r}{p + r},

    where a quotient with a zero denominator is 0 (OGB's rule). The three numbers are averaged
    over the sequences separately, so the mean F1 is not the F1 of the mean precision and
    recall.

    Args:
        seq_ref: reference token sequences (lists of strings in ogbg-code2).
        seq_pred: predicted token sequences, as many as ``seq_ref``.

    Example:
        >>> subtoken_f1([["get", "name"], ["set"]], [["get"], ["set"]])
        SubtokenF1(precision=1.0, recall=0.75, f1=0.8333333333333333)
    """
    refs, preds = _sequences("seq_ref", seq_ref), _sequences("seq_pred", seq_pred)
    if len(refs) != len(preds):
        raise ValueError(
            f"seq_ref and seq_pred must have the same length; got {len(refs)} and {len(preds)}"
        )
    if not refs:
        raise ValueError("seq_ref must hold at least one sequence; got an empty list")
    precisions, recalls, f1s = [], [], []
    for ref, pred in zip(refs, preds, strict=True):
        label, guess = set(ref), set(pred)
        tp = len(label & guess)
        precision = tp / len(guess) if guess else 0.0
        recall = tp / len(label) if label else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
        precisions.append(precision)
        recalls.append(recall)
        f1s.append(f1)
    n = len(refs)
    return SubtokenF1(math.fsum(precisions) / n, math.fsum(recalls) / n, math.fsum(f1s) / n)
