"""Checkpoints of runs: written atomically, verified on load, never unpickling code.

A checkpoint folder holds one subfolder per configuration (the first 16 hex digits of the
SHA-256 of the configuration without the fields that do not change the computation) and in
it one file per run, ``run-<seed>.ckpt``, rewritten after every epoch: model, optimizer and
random-number states, the epoch curve so far, and once the run has finished, its result.
Resuming reads them back, skips finished runs and continues unfinished ones from their last
epoch, so a deterministic CPU run ends with the same numbers as an uninterrupted one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from graphpair.data._io import load_checked, save_checked
from graphpair.train._config import ConfigError
from graphpair.train._config_key import ADDED_FIELDS, config_key
from graphpair.train._results import epoch_from_state, epoch_to_state

__all__ = [
    "ADDED_FIELDS",
    "CheckpointError",
    "RunCheckpoints",
    "config_key",
    "open_checkpoints",
    "restore_run",
    "run_state",
]

_MAGIC = b"GRAPHPAIR-CHECKPOINT-1\n"
_FORMAT = 1


class CheckpointError(ValueError):
    """A checkpoint file is truncated, corrupted, not graphpair's, or from another
    configuration or run; the message names the file.

    Raised when a runner resumes (``resume=True``) from such a file, instead of continuing
    from a state that is not the run's own.
    """


def rng_state(generator: torch.Generator, device: torch.device) -> dict[str, Any]:
    """The random states a run draws from: torch's global CPU generator (initialisation,
    dropout), the run's own ``generator`` (permutations, negatives, shuffling) and, on CUDA,
    the device's generator."""
    state = {"torch": torch.get_rng_state(), "generator": generator.get_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(
    state: Mapping[str, Any], generator: torch.Generator, device: torch.device
) -> None:
    """Restore what :func:`rng_state` saved."""
    torch.set_rng_state(state["torch"].cpu())
    generator.set_state(state["generator"].cpu())
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"].cpu(), device)


def run_state(
    epoch: int,
    *,
    modules: Mapping[str, torch.nn.Module],
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    device: torch.device,
    history: Sequence[Any],
    seconds: float,
    **extra: Any,
) -> dict[str, Any]:
    """The checkpoint of an unfinished run after ``epoch``: the ``modules``' state dicts
    under their names, the optimizer, the random states (:func:`rng_state`), the curve so
    far (``EpochRecord`` s), the seconds spent and the runner's ``extra`` entries."""
    state: dict[str, Any] = {"epoch": epoch}
    state.update({name: module.state_dict() for name, module in modules.items()})
    state.update(
        optimizer=optimizer.state_dict(),
        rng=rng_state(generator, device),
        history=[epoch_to_state(r) for r in history],
        seconds=seconds,
        result=None,
    )
    state.update(extra)
    return state


def restore_run(
    saved: Mapping[str, Any],
    *,
    modules: Mapping[str, torch.nn.Module],
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    device: torch.device,
) -> tuple[list[Any], int, float]:
    """Load what :func:`run_state` saved back into the ``modules`` (by the same names), the
    optimizer and the random states; returns ``(history, first epoch to run, seconds
    already spent)``. Runner-specific ``extra`` entries are the caller's to restore."""
    for name, module in modules.items():
        module.load_state_dict(saved[name])
    optimizer.load_state_dict(saved["optimizer"])
    set_rng_state(saved["rng"], generator, device)
    history = [epoch_from_state(r) for r in saved["history"]]
    return history, int(saved["epoch"]) + 1, float(saved["seconds"])


class RunCheckpoints:
    """The checkpoint files of one configuration's runs under ``root``.

    Args:
        root: the checkpoint folder (created when the first checkpoint is written).
        config: the run configuration (a dataclass); its :func:`config_key` names the
            subfolder and is checked on every load.
        resume: continue from existing checkpoints; without it, existing checkpoints of the
            same configuration are an error (so that a run never silently overwrites them).
        device: where loaded tensors go.

    Raises:
        ConfigError: ``root`` exists and is not a folder (field ``checkpoint_dir``), or it
            holds checkpoints of this configuration and ``resume`` is false (field
            ``resume``).

    Example:
        >>> import tempfile
        >>> from graphpair.train import link_config
        >>> config = link_config("karate")
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     RunCheckpoints(tmp, config, resume=False).save(0, {"epoch": 3})
        ...     RunCheckpoints(tmp, config, resume=True).load(0)
        {'epoch': 3}
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        config: Any,
        *,
        resume: bool,
        device: torch.device | str = "cpu",
    ) -> None:
        base = Path(root)
        if base.exists() and not base.is_dir():
            raise ConfigError(
                "checkpoint_dir", f"checkpoint_dir must be a folder; got the file {str(base)!r}"
            )
        self.key = config_key(config)
        self.folder = base / self.key
        self.resume = bool(resume)
        self.device = device
        existing = sorted(self.folder.glob("run-*.ckpt")) if self.folder.is_dir() else []
        if existing and not self.resume:
            raise ConfigError(
                "resume",
                f"{str(self.folder)!r} already holds {len(existing)} checkpoint(s) of this "
                "configuration; pass resume to continue them, or another checkpoint folder",
            )

    def path(self, seed: int, fold: int | None = None) -> Path:
        """The checkpoint file of the run with ``seed`` (on ``fold``, for cross-validation)."""
        suffix = "" if fold is None else f"-fold{fold}"
        return self.folder / f"run-{seed}{suffix}.ckpt"

    def _meta(self, seed: int, fold: int | None) -> dict[str, Any]:
        meta = {"format": _FORMAT, "config": self.key, "seed": int(seed)}
        if fold is not None:
            meta["fold"] = int(fold)
        return meta

    def save(self, seed: int, state: Mapping[str, Any], fold: int | None = None) -> None:
        """Atomically (re)write the checkpoint of run ``seed`` (on ``fold``)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = self._meta(seed, fold)
        save_checked(self.path(seed, fold), dict(state), meta, magic=_MAGIC)

    def load(self, seed: int, fold: int | None = None) -> dict[str, Any] | None:
        """The saved state of run ``seed``, or ``None`` when there is none (or when not
        resuming).

        Raises:
            CheckpointError: the file is truncated or corrupted, not a graphpair checkpoint,
                or belongs to another configuration, seed or format version.
        """
        path = self.path(seed, fold)
        if not self.resume or not path.is_file():
            return None
        state = load_checked(
            path,
            meta=self._meta(seed, fold),
            magic=_MAGIC,
            error=CheckpointError,
            what="checkpoint",
            map_location=self.device,
        )
        if not isinstance(state, dict) or "epoch" not in state:
            raise CheckpointError(f"{str(path)!r} has an unexpected layout (no 'epoch')")
        return state


def open_checkpoints(
    checkpoint_dir: str | os.PathLike[str] | None,
    config: Any,
    *,
    resume: bool,
    device: torch.device | str = "cpu",
) -> RunCheckpoints | None:
    """The runners' entry: :class:`RunCheckpoints` under ``checkpoint_dir``, or ``None``
    without one.

    Raises:
        ConfigError: ``resume`` without ``checkpoint_dir`` (field ``resume``), or as
            :class:`RunCheckpoints`.
    """
    if resume and checkpoint_dir is None:
        raise ConfigError("resume", "resume needs checkpoint_dir (where the checkpoints are)")
    if checkpoint_dir is None:
        return None
    return RunCheckpoints(checkpoint_dir, config, resume=resume, device=device)
