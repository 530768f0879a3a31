"""Dropout whose CPU path draws a quarter of the random words ``F.dropout`` draws."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["dropout"]

_LEVELS = 1 << 16  # the keep test compares a uniform 16-bit integer with a threshold
_LOWEST = -(_LEVELS // 2)  # the smallest int16


def dropout(x: Tensor, p: float, *, training: bool = True) -> Tensor:
    r"""Inverted dropout: each entry is zeroed with probability ``p``, the rest scaled by
    :math:`1/(1-p)`, as :func:`torch.nn.functional.dropout`.

    On CPU, torch's dropout draws one Mersenne-Twister word per entry; here each 64-bit draw
    is split into four uniform 16-bit integers and an entry is kept when its integer is at
    least :math:`\operatorname{round}(p \cdot 2^{16})` above the smallest. So the drop
    probability is ``p`` rounded to a multiple of :math:`2^{-16}` (off by at most
    :math:`7.6 \cdot 10^{-6}`). The keep mask is made with int16 arithmetic (a clamp to the
    two values around the threshold) rather than a comparison, whose boolean output is several
    times slower on CPU, and applied as one product, as ``F.dropout`` does (so a NaN stays NaN
    where it is dropped). On ``[2708, 256]`` at p = 0.05 with its backward, two threads: 1.3 ms,
    against 2.4 ms for the comparison and ``torch.where`` used before and 4.2 ms for
    ``F.dropout`` (measured 2026-12-04). Other devices use ``F.dropout``. Seeded by torch's
    global generator, like ``F.dropout``.

    Shapes:
        - x: any shape; output: the same shape

    Example:
        >>> _ = torch.manual_seed(0)
        >>> dropout(torch.ones(8), 0.25)  # kept entries scaled by 1 / (1 - 0.25)
        tensor([0.0000, 0.0000, 1.3333, 0.0000, 1.3333, 1.3333, 0.0000, 0.0000])
    """
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or p >= 1.0 or not x.is_floating_point():
        return F.dropout(x, p, training=True)
    count = x.numel()
    words = torch.empty((count + 3) // 4, dtype=torch.int64).random_(-(2**63), None)
    draws = words.view(torch.int16)[:count].view(x.shape)  # uniform in [-2^15, 2^15)
    threshold = round(p * _LEVELS) + _LOWEST  # keep an entry when its draw is >= threshold
    scale = 1.0 / (1.0 - p)
    if threshold <= _LOWEST:  # p below 2^-17: every draw passes
        return x * scale
    if threshold >= -_LOWEST:  # p above 1 - 2^-17: no draw passes
        return x * 0.0
    # clamp maps draws below the threshold to threshold - 1 and the others to threshold, so
    # subtracting threshold - 1 leaves the 0/1 keep mask (still int16, no comparison).
    keep = draws.clamp(threshold - 1, threshold).sub_(threshold - 1)
    return x * keep.to(x.dtype).mul_(scale)
