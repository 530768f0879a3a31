"""Dropout whose CPU path draws a quarter of the random words ``F.dropout`` draws."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["dropout"]

_LEVELS = 1 << 16  # the keep test compares a uniform 16-bit integer with a threshold


def dropout(x: Tensor, p: float, *, training: bool = True) -> Tensor:
    r"""Inverted dropout: each entry is zeroed with probability ``p``, the rest scaled by
    :math:`1/(1-p)`, as :func:`torch.nn.functional.dropout`.

    On CPU, torch's dropout draws one Mersenne-Twister word per entry; here each 64-bit draw
    is split into four uniform 16-bit integers and an entry is kept when its integer is at
    least :math:`\operatorname{round}(p \cdot 2^{16})`. So the drop probability is ``p``
    rounded to a multiple of :math:`2^{-16}` (off by at most :math:`7.6 \cdot 10^{-6}`) and
    the call is about twice as fast (``docs/ncn.md``, "Speed"). Other devices use
    ``F.dropout``. Seeded by torch's global generator, like ``F.dropout``.

    Shapes:
        - x: any shape; output: the same shape
    """
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or p >= 1.0 or not x.is_floating_point():
        return F.dropout(x, p, training=True)
    count = x.numel()
    words = torch.empty((count + 3) // 4, dtype=torch.int64).random_(-(2**63), None)
    draws = words.view(torch.int16)[:count].view(x.shape)  # uniform in [-2^15, 2^15)
    keep = draws >= round(p * _LEVELS) - _LEVELS // 2
    return torch.where(keep, x * (1.0 / (1.0 - p)), 0.0)
