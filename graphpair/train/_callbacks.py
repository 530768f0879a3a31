"""The callbacks the runners call while they train (progress displays, the CLI's per-run
lines, records as they come)."""

from __future__ import annotations

from typing import Protocol

from graphpair.train._results import EpochRecord, RunResult

__all__ = ["EpochCallback", "RunCallback", "StepCallback"]


class EpochCallback(Protocol):
    """``on_epoch(run_index, record)``: called after every evaluated epoch (0-based run).

    ``record`` is the epoch's :class:`~graphpair.train.EpochRecord`; the return value is
    ignored.
    """

    def __call__(self, run_index: int, record: EpochRecord, /) -> None: ...


class StepCallback(Protocol):
    """``on_step(run_index, step, steps, loss)``: called after every optimizer step of a
    training epoch (0-based run, 1-based step of ``steps``, the step's training loss), for
    progress displays on long epochs."""

    def __call__(self, run_index: int, step: int, steps: int, loss: float, /) -> None: ...


class RunCallback(Protocol):
    """``on_run(run_index, result)``: called after every run (0-based run).

    ``result`` is the finished run's :class:`~graphpair.train.RunResult`; the return value is
    ignored.
    """

    def __call__(self, run_index: int, result: RunResult, /) -> None: ...
