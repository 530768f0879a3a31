"""The results store: one JSON line per run, appended under a lock, never duplicated.

Several processes may append to one results file at once (two runners, a runner and a
resumed copy of itself, the ranks of a launcher): every append takes an exclusive
``flock`` on the file, drops the records whose run is already there (same kind, dataset,
model, configuration key, seed and fold), writes the rest with one ``write`` call and
``fsync``-s before releasing the lock. A trailing partial line (a writer killed by a power
cut in the middle of ``write``) is cut off, with a warning, by the next append, in place and
under the lock.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["append_records", "record_key"]

log = logging.getLogger(__name__)


def record_key(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """The identity of the run a record describes: kind, dataset, model, configuration key
    (``record['config_key']``; the whole config where it is missing), seed and fold.

    The kind is ``record['kind']`` where the record names it (``'pretrain'``), else
    ``'link'`` for a record with a predictor and ``'graph'`` for the others.

    Example:
        >>> record_key({"kind": "pretrain", "dataset": "cora", "model": "GRACE", "seed": 1,
        ...             "config": {"epochs": 2}})
        ('pretrain', 'cora', 'GRACE', '{"epochs": 2}', 1, None)
    """
    kind = record.get("kind") or ("link" if "predictor" in record else "graph")
    model = record.get("predictor", record.get("model"))
    config = record.get("config_key") or json.dumps(record.get("config"), sort_keys=True)
    return (kind, record.get("dataset"), model, config, record.get("seed"), record.get("fold"))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[IO[bytes]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # not POSIX: appends are not serialised between processes
            fcntl = None  # type: ignore[assignment]
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield handle
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def append_records(path: str | os.PathLike[str], records: Sequence[Mapping[str, Any]]) -> int:
    """Append ``records`` (one JSON line each) to the results file ``path``, skipping runs it
    already holds; returns how many lines were written.

    Safe under concurrent appenders (an exclusive lock per append) and against a killed
    writer (a trailing partial line is dropped by the next append, which says so in the log).
    """
    target = Path(path)
    with _locked(target) as handle:
        handle.seek(0)
        raw = handle.read()
        complete, newline, partial = raw.rpartition(b"\n")
        if partial and _parses(partial):  # a complete last record without its newline
            handle.seek(0, os.SEEK_END)
            handle.write(b"\n")
            raw += b"\n"
        elif partial:
            log.warning(
                "%s: dropping a partial last line (%d bytes) left by an interrupted writer",
                target,
                len(partial),
            )
            # In place, under the lock (replacing the file would strand other appenders
            # waiting on the old inode).
            raw = complete + newline
            os.ftruncate(handle.fileno(), len(raw))
        return _write_new(handle, raw, records)


def _parses(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _write_new(handle: IO[bytes], raw: bytes, records: Sequence[Mapping[str, Any]]) -> int:
    present = set()
    for line in raw.splitlines():
        if line.strip():
            try:
                present.add(record_key(json.loads(line)))
            except (json.JSONDecodeError, AttributeError):
                continue  # not ours to judge: `graphpair report` names bad lines
    lines = []
    for record in records:
        key = record_key(record)
        if key in present:
            log.warning("run %s is already in the results file; not appended again", key[1:])
            continue
        present.add(key)
        lines.append(json.dumps(record, allow_nan=False) + "\n")
    if lines:
        handle.seek(0, os.SEEK_END)
        handle.write("".join(lines).encode())
        handle.flush()
        os.fsync(handle.fileno())
    return len(lines)
