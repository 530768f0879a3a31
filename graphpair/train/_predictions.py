"""``--save-predictions``: the scores behind a run's metrics, in a columnar file."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from graphpair.data._io import atomic_write_bytes
from graphpair.train._artifact import check_output_file
from graphpair.train._fields import ConfigError

__all__ = [
    "PREDICTION_FORMATS",
    "PredictionTable",
    "check_predictions_path",
    "link_rows",
    "output_rows",
]

#: File suffixes :class:`PredictionTable` writes: compressed numpy columns, or CSV.
PREDICTION_FORMATS = (".npz", ".csv")


def check_predictions_path(path: str | os.PathLike[str] | None) -> None:
    """Refuse, before any work, a ``save_predictions`` path that is a folder or has another
    suffix than :data:`PREDICTION_FORMATS`."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise ConfigError(
            "save_predictions", f"save_predictions must be a file; {str(target)!r} is a folder"
        )
    if target.suffix not in PREDICTION_FORMATS:
        raise ConfigError(
            "save_predictions",
            f"save_predictions must end in one of {list(PREDICTION_FORMATS)}; got {str(target)!r}",
        )
    check_output_file("save_predictions", target)  # under a file, or not writable


class PredictionTable:
    """Rows of equal-length columns, appended run by run and written whole (atomically) as
    compressed numpy arrays (``.npz``: ``numpy.load(path)[column]``) or CSV.

    Example:
        >>> import tempfile
        >>> table = PredictionTable()
        >>> table.append({"seed": torch.tensor([0, 0]), "score": torch.tensor([0.5, 1.5])})
        >>> path = f"{tempfile.mkdtemp()}/scores.npz"
        >>> table.write(path)
        >>> np.load(path)["score"].tolist()
        [0.5, 1.5]
    """

    def __init__(self) -> None:
        self.columns: dict[str, list[np.ndarray]] = {}

    def append(self, rows: Mapping[str, Tensor | np.ndarray]) -> None:
        """Add rows: column name -> values (every column the same length)."""
        lengths = {len(v) for v in rows.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of one append must have one length; got {lengths}")
        if self.columns and set(rows) != set(self.columns):
            raise ValueError(f"columns {sorted(rows)} differ from {sorted(self.columns)}")
        for name, values in rows.items():
            array = values.cpu().numpy() if isinstance(values, Tensor) else np.asarray(values)
            self.columns.setdefault(name, []).append(array)

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write every row so far to ``path`` (``.npz`` or ``.csv``), atomically."""
        check_predictions_path(path)
        joined = {name: np.concatenate(parts) for name, parts in self.columns.items()}
        if Path(path).suffix == ".npz":
            buffer = io.BytesIO()
            np.savez_compressed(buffer, **joined)  # type: ignore[arg-type]
            atomic_write_bytes(path, buffer.getvalue())
            return
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(list(joined))
        writer.writerows(zip(*(column.tolist() for column in joined.values()), strict=True))
        atomic_write_bytes(path, text.getvalue().encode())


def link_rows(
    seed: int,
    epoch: int,
    stage: str,
    pos_pairs: Tensor,
    neg_pairs: Tensor,
    pos: Tensor,
    neg: Tensor,
) -> dict[str, Tensor]:
    """The rows of one stage of a link run: ``seed``, ``epoch``, ``stage`` (0 valid, 1 test),
    ``label`` (1 positive, 0 negative), ``positive`` (for negatives drawn per positive, the
    index of their positive; else -1), ``source``, ``target`` and ``score`` (the logit the
    metrics ranked)."""
    neg_flat = neg_pairs.reshape(2, -1)
    per_positive = neg_pairs.dim() == 3
    owner = (
        torch.arange(neg_pairs.size(1)).repeat_interleave(neg_pairs.size(2))
        if per_positive
        else torch.full((neg_flat.size(1),), -1)
    )
    count = pos_pairs.size(1) + neg_flat.size(1)
    return {
        "seed": torch.full((count,), seed),
        "epoch": torch.full((count,), epoch),
        "stage": torch.full((count,), 0 if stage == "valid" else 1),
        "label": torch.cat([torch.ones(pos_pairs.size(1)), torch.zeros(neg_flat.size(1))]).long(),
        "positive": torch.cat([torch.full((pos_pairs.size(1),), -1), owner]),
        "source": torch.cat([pos_pairs[0], neg_flat[0]]).cpu(),
        "target": torch.cat([pos_pairs[1], neg_flat[1]]).cpu(),
        "score": torch.cat([pos.reshape(-1), neg.reshape(-1)]).float(),
    }


def output_rows(
    seed: int,
    fold: int | None,
    epoch: int,
    stage: str,
    item: Tensor,
    out: Tensor,
    y: Tensor,
) -> dict[str, Tensor]:
    """The rows of one stage of a graph or node run: ``seed``, ``fold`` (-1 without),
    ``epoch``, ``stage`` (0 valid, 1 test), ``item`` (the graph's index in the dataset, or the
    node's in the graph), ``pred_0 .. pred_{C-1}`` (the model's raw outputs, logits for
    classification, as the metrics received them) and ``true_0 ..`` (the labels)."""
    count = out.size(0)
    rows = {
        "seed": torch.full((count,), seed),
        "fold": torch.full((count,), -1 if fold is None else fold),
        "epoch": torch.full((count,), epoch),
        "stage": torch.full((count,), 0 if stage == "valid" else 1),
        "item": item.cpu().long(),
    }
    predictions = out.reshape(count, -1).float().cpu()
    labels = y.reshape(count, -1).cpu()
    rows.update({f"pred_{c}": predictions[:, c] for c in range(predictions.size(1))})
    rows.update({f"true_{c}": labels[:, c] for c in range(labels.size(1))})
    return rows
