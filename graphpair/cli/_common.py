"""What the ``graphpair`` commands share: printing, progress bars, tables, the runner flags,
``--print-config`` and the summary written beside ``--output``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when used: ``graphpair datasets`` needs no training code
    from graphpair.train import EpochRecord

__all__ = [
    "Progress",
    "add_allocator_flag",
    "add_config_file_flags",
    "add_runner_flags",
    "add_save_model_flag",
    "add_save_predictions_flag",
    "check_outputs",
    "device_label",
    "model_folder",
    "names",
    "percent",
    "predictions_file",
    "print_configs",
    "printer",
    "render_table",
    "write_summary",
]


def printer(out: Any, quiet: bool) -> Callable[[str], None]:
    """``print`` to ``out`` (flushed), or nothing under ``--quiet``."""

    def print_line(text: str) -> None:
        if not quiet:
            print(text, file=out, flush=True)

    return print_line


class Progress:
    """Two tqdm bars on stderr: the run's epochs, with the last loss and validation value,
    and below it the current epoch's steps, with the step's loss. Off with ``--quiet``, and
    by tqdm itself when stderr is not a terminal (CI logs)."""

    def __init__(self, quiet: bool, runs: int, epochs: int, metric: str | None) -> None:
        self.disable: bool | None = True if quiet else None
        self.runs, self.epochs, self.metric = runs, epochs, metric
        self.run = -1
        self.bar: Any = None
        self.steps: Any = None

    def _start(self, run: int) -> None:
        from tqdm.auto import tqdm

        if run == self.run:
            return
        self.close()
        self.run = run
        self.bar = tqdm(
            total=self.epochs,
            desc=f"run {run + 1}/{self.runs}",
            unit="epoch",
            leave=False,
            disable=self.disable,
            file=sys.stderr,
        )

    def step(self, run: int, step: int, steps: int, loss: float) -> None:
        from tqdm.auto import tqdm

        self._start(run)
        if self.steps is None:
            self.steps = tqdm(
                total=steps,
                desc="  steps",
                unit="step",
                leave=False,
                position=1,
                disable=self.disable,
                file=sys.stderr,
            )
        if step == 1:
            self.steps.reset(total=steps)
        self.steps.update(step - self.steps.n)
        self.steps.set_postfix({"loss": f"{loss:.4f}"}, refresh=False)

    def epoch(self, run: int, record: EpochRecord) -> None:
        self._start(run)
        self.bar.update(record.epoch - self.bar.n)
        postfix = {"loss": f"{record.loss:.4f}"}
        metric = self.metric or next((k for k in record.valid if k != "loss"), None)
        if metric is not None and metric in record.valid:
            postfix[f"valid {metric}"] = f"{record.valid[metric]:.4f}"
        self.bar.set_postfix(postfix)  # redrawn once per epoch

    def close(self) -> None:
        for bar in (self.steps, self.bar):
            if bar is not None:
                bar.close()
        self.bar = self.steps = None


def device_label(device: str) -> str:
    """The device of a run header line: ``'cpu'``, or ``'cuda:0 (NVIDIA H100 80GB HBM3)'``."""
    if not device.startswith("cuda"):
        return device
    import torch

    try:
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    except (AssertionError, RuntimeError):  # no CUDA here: the name as given
        return device


def percent(mean: float, std: float) -> str:
    """``'81.20 ± 0.53'``."""
    return f"{mean:.2f} ± {std:.2f}"


def render_table(rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart, a dashed line under the header (the first row)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def names(text: str | None, default: str) -> list[str]:
    """The names of a comma-separated flag (``--model gin,sinc``), ``default``'s when unset."""
    return [part.strip() for part in str(text or default).split(",") if part.strip()]


def print_configs(configs: Sequence[Any], out: Any) -> None:
    """``--print-config``: the merged configuration as JSON (a list for several)."""
    payload = [cfg.to_dict() for cfg in configs]
    print(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2), file=out)


def _summary_paths(output: str) -> tuple[Path, Path]:
    """``runs.jsonl`` -> ``runs.summary.md``, ``runs.summary.csv`` (beside the records)."""
    path = Path(output)
    stem = path.with_suffix("") if path.suffix in (".jsonl", ".json") else path
    return stem.with_name(stem.name + ".summary.md"), stem.with_name(stem.name + ".summary.csv")


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before any data is loaded or any epoch trained, every path a runner command
    would write: ``--output`` and the summaries beside it, ``--checkpoint-dir``,
    ``--save-model`` and ``--save-predictions`` (a folder where a file is expected, a file
    where a folder is, a place that cannot be created or written).

    Raises:
        ConfigError: naming the field of the flag and the path.
    """
    from graphpair.train._artifact import check_output_file, check_output_folder

    output = getattr(args, "output", None)
    check_output_file("output", output)
    if output is not None and getattr(args, "command", None) != "pretrain":
        for summary in _summary_paths(output):
            check_output_file("output", summary, what="the summary beside output")
    check_output_folder("checkpoint_dir", getattr(args, "checkpoint_dir", None))
    check_output_folder("save_model", getattr(args, "save_model", None))
    check_output_file("save_predictions", getattr(args, "save_predictions", None))


def write_summary(output: str | None, results: Sequence[Any], say: Callable[[str], None]) -> None:
    """With ``--output``, the command's summary table (one row per configuration, mean ±
    std over its seeds, as ``graphpair report``) in markdown and CSV beside the records,
    each written atomically. A configuration asked for twice counts once."""
    from graphpair.data._io import atomic_write_bytes
    from graphpair.train import group_records, render_csv, render_markdown

    if output is None:
        return
    records, seen = [], set()
    for result in results:
        for record in json.loads(json.dumps(result.to_records())):
            key = (json.dumps(record["config"], sort_keys=True), record["seed"], record.get("fold"))
            if key not in seen:
                seen.add(key)
                records.append(record)
    if not records:
        return
    groups = group_records(records)
    markdown, csv_path = _summary_paths(output)
    atomic_write_bytes(markdown, render_markdown(groups, f"Summary of {output}").encode())
    atomic_write_bytes(csv_path, render_csv(groups).encode())
    say(f"summary: {markdown}, {csv_path}")


def add_config_file_flags(parser: argparse.ArgumentParser, *, shipped: bool = True) -> None:
    """``--print-config`` and ``--config FILE`` of a runner (``shipped``: the command starts
    from the dataset's shipped configuration)."""
    parser.add_argument(
        "--print-config", action="store_true", help="print the merged configuration and exit"
    )
    where = "over the dataset's shipped configuration and " if shipped else ""
    parser.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help=f"YAML (or JSON) file of field: value pairs, applied {where}under the flags",
    )


def add_save_model_flag(parser: argparse.ArgumentParser, what: str) -> None:
    """``--save-model DIR`` of a runner command."""
    parser.add_argument(
        "--save-model",
        default=None,
        metavar="DIR",
        help=f"save {what} into DIR/run-<seed> (a subfolder per model when several are "
        "trained): tensors only, with a JSON manifest; graphpair.load_model reads it back",
    )


def add_save_predictions_flag(parser: argparse.ArgumentParser, metrics: str, ids: str) -> None:
    """``--save-predictions FILE`` of a runner command."""
    parser.add_argument(
        "--save-predictions",
        default=None,
        metavar="FILE",
        help=f"write the scores behind every run's {metrics} (selected epoch), with the {ids}, "
        "to FILE.npz or FILE.csv (one file per model when several), to ensemble runs or test "
        "significance without retraining",
    )


def predictions_file(path: str | None, label: str, count: int) -> Path | None:
    """The ``--save-predictions`` file of one of ``count`` configurations: ``path`` itself,
    or ``NAME.label.SUFFIX`` when there are several."""
    if path is None:
        return None
    target = Path(path)
    return target if count == 1 else target.with_suffix(f".{label}{target.suffix}")


def model_folder(root: str | None, label: str, count: int) -> Path | None:
    """The ``--save-model`` folder of one of ``count`` configurations: ``root`` itself, or
    ``root/label`` when there are several."""
    if root is None:
        return None
    return Path(root) if count == 1 else Path(root) / label


def add_allocator_flag(parser: argparse.ArgumentParser) -> None:
    """``--allocator`` of ``link`` and ``node``: whether the process keeps freed memory in its
    heap (:func:`graphpair.train.reuse_freed_memory`), set before the data are loaded."""
    parser.add_argument(
        "--allocator",
        choices=("system", "reuse"),
        default="system",
        help="'system': glibc's own policy (default); 'reuse': keep freed memory in the "
        "process's heap for the next step instead of returning it to the kernel and faulting "
        "it in afresh (glibc): faster steps on large graphs, but resident memory grows to the "
        "heap's high-water mark, holes included, which the memory estimate does not count "
        "(docs/link.md, 'Fresh pages')",
    )


def add_runner_flags(parser: argparse.ArgumentParser) -> None:
    """``--output``, ``--verbose``, ``--checkpoint-dir`` and ``--resume`` of the runners."""
    parser.add_argument(
        "--output",
        default=None,
        metavar="FILE",
        help="append one JSON record per run to this file (a locked results store: a run is "
        "never stored twice), and write the command's summary table beside it as "
        "FILE.summary.md and FILE.summary.csv",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="print every evaluated epoch (runs count from 1)"
    )
    parser.add_argument(
        "--checkpoint-dir",
        default=None,
        metavar="DIR",
        help="checkpoint every run after every epoch into this folder (atomic, checksummed)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from --checkpoint-dir: finished runs are not repeated, unfinished ones "
        "continue after their last epoch (on CPU with the same final numbers)",
    )
