"""The shared base of the Module wrappers of the losses over the N x N similarity matrix."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor

from graphpair.losses._common import IndicesTuple, check_chunk_size, check_reduction


class BlockLossModule(torch.nn.Module):
    """Stores the options every blocked loss shares and passes them, with the subclass's own
    hyperparameters (:attr:`hyperparameters`, stored under their names), to its function.

    Subclasses implement :meth:`loss` (the functional form) and keep ``forward``'s
    pytorch-metric-learning signature; ``extra_repr`` lists every option that changes the
    output.
    """

    hyperparameters: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        reduction: str,
        chunk_size: int | None,
        distributed: bool,
        local_anchors: bool,
    ) -> None:
        super().__init__()
        self.reduction = check_reduction(reduction)
        self.chunk_size = check_chunk_size(chunk_size)
        self.distributed = bool(distributed)
        self.local_anchors = bool(local_anchors)

    def options(self) -> dict[str, Any]:
        """Keyword arguments of :meth:`loss`: the hyperparameters, then the shared options."""
        names = (*self.hyperparameters, "reduction", "chunk_size", "distributed", "local_anchors")
        return {name: getattr(self, name) for name in names}

    def loss(self, *args: Any, **kwargs: Any) -> Tensor:
        """The functional loss this module wraps."""
        raise NotImplementedError(f"{type(self).__name__} must implement loss()")

    def forward(
        self,
        embeddings: Tensor,
        labels: Tensor | None = None,
        indices_tuple: IndicesTuple | None = None,
        ref_emb: Tensor | None = None,
        ref_labels: Tensor | None = None,
    ) -> Tensor:
        """The loss of ``embeddings`` ``[N, D]`` with ``labels`` ``[N]`` or explicit pairs
        (``indices_tuple``), against ``ref_emb`` / ``ref_labels`` when given; see the
        functional form for the arguments."""
        return self.loss(
            embeddings,
            labels,
            indices_tuple,
            ref_emb=ref_emb,
            ref_labels=ref_labels,
            **self.options(),
        )

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={value!r}" for name, value in self.options().items())
