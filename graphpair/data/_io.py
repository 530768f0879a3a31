"""File handling of the data layer: roots, caches with checksums, atomic writes, safe loading.

Three rules hold for every file the data layer touches:

* **Raw files are read in place and never written next to.** The raw root comes from an
  argument or ``$GRAPHPAIR_DATA`` and may be read-only (it is in CI).
* **Caches are written atomically with a checksum.** A cache file is written to a temporary
  file in the same folder, flushed, ``fsync``-ed and renamed over the target, so a reader sees
  either the old complete file or the new complete file. Its header carries the SHA-256 of the
  payload; a file whose checksum does not match (truncated, corrupted, foreign) is never
  trusted: :func:`load_cache` raises :class:`CacheError` and :func:`cached` rebuilds it.
* **Nothing is unpickled with weights-only mode off.** OGB's split files are pickled numpy
  arrays; they are read with ``weights_only=True`` plus an explicit allowlist of the numpy
  globals that such files need (:data:`NUMPY_SAFE_GLOBALS`).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "CACHE_ENV_VAR",
    "DATA_ENV_VAR",
    "NUMPY_SAFE_GLOBALS",
    "CacheError",
    "MissingDataError",
    "atomic_write_bytes",
    "cache_dir",
    "cached",
    "data_root",
    "fingerprint",
    "load_cache",
    "load_numpy_pickle",
    "require_files",
    "save_cache",
]

log = logging.getLogger(__name__)

#: Environment variable naming the root folder of raw datasets (read only).
DATA_ENV_VAR = "GRAPHPAIR_DATA"
#: Environment variable naming the writable folder for processed caches.
CACHE_ENV_VAR = "GRAPHPAIR_CACHE"

_MAGIC = b"GRAPHPAIR-CACHE-1\n"
_DIGEST_LEN = 64  # hex SHA-256


class CacheError(ValueError):
    """A cache file is truncated, corrupted, from another program or from another version.

    Raised when a processed cache is read and fails its checksum, its layout or its key; the
    loaders catch it, log it and rebuild the file, so it reaches users only through code that
    reads cache files directly.
    """


class MissingDataError(FileNotFoundError):
    """Dataset files are absent and cannot be downloaded (offline, or no download exists).

    Raised by the loaders (:func:`~graphpair.data.load_dataset`) with a message naming every
    missing file, the folder it belongs in, where to download it, and how to point graphpair
    at a copy (``root=`` in Python, ``--data-root`` on the command line, ``$GRAPHPAIR_DATA``);
    a :class:`FileNotFoundError`, so code that already catches that keeps working. The facts
    are attributes too: ``dataset``, ``missing`` (paths relative to ``folder``), ``folder``
    and ``url`` (``None`` where unknown).
    """

    def __init__(
        self,
        message: str,
        *,
        dataset: str | None = None,
        missing: Iterable[str] = (),
        folder: str | os.PathLike[str] | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.dataset = dataset
        self.missing = tuple(missing)
        self.folder = None if folder is None else Path(folder)
        self.url = url


def data_root(root: str | os.PathLike[str] | None = None) -> Path | None:
    """The raw-data root: ``root`` if given, else ``$GRAPHPAIR_DATA``, else ``None``.

    Args:
        root: Folder of the raw datasets (``~`` is expanded); ``None`` reads the environment.

    Returns:
        The folder, or ``None`` when neither ``root`` nor ``$GRAPHPAIR_DATA`` is set.

    Example:
        >>> data_root("/srv/graphs").as_posix()
        '/srv/graphs'
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(DATA_ENV_VAR)
    return Path(env).expanduser() if env else None


def cache_dir(cache: str | os.PathLike[str] | None = None) -> Path:
    """The writable cache folder.

    ``cache`` if given, else ``$GRAPHPAIR_CACHE``, else ``$XDG_CACHE_HOME/graphpair``, else
    ``~/.cache/graphpair``. The folder is created on first use, not here.

    Args:
        cache: Cache folder (``~`` is expanded); ``None`` reads the environment.

    Example:
        >>> cache_dir("/tmp/graphpair-cache").as_posix()
        '/tmp/graphpair-cache'
    """
    if cache is not None:
        return Path(cache).expanduser()
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "graphpair"


def require_files(
    folder: Path,
    names: Iterable[str],
    *,
    dataset: str,
    hint: str = "",
    url: str | None = None,
    reason: str | None = None,
    relative_folder: str | None = None,
) -> None:
    """Raise :class:`MissingDataError` when any of ``names`` is not a file in ``folder``.

    The message names every missing file and the folder, says why they are missing
    (``reason``, e.g. ``'downloading is off'``), where to get them (``url``), and how to point
    graphpair at a copy: ``root=`` in Python, ``--data-root`` on the command line, or
    ``$GRAPHPAIR_DATA``, a data root under which the dataset's folder is ``relative_folder``.

    Args:
        folder: Where the files belong.
        names: Their paths relative to ``folder``.
        dataset: The dataset's name, for the message.
        hint: A sentence after the download's (how to unpack it, say).
        url: Where the files can be downloaded (an archive or a folder of files).
        reason: Why they are missing.
        relative_folder: ``folder`` relative to the data root (``'ogb/ogbl_ddi'``).

    Raises:
        MissingDataError: A file is missing.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> try:
        ...     require_files(folder, ["raw/edge.csv.gz"], dataset="ogbl-ddi",
        ...                   url="http://snap.stanford.edu/ogb/data/linkproppred/ddi.zip",
        ...                   reason="downloading is off")
        ... except MissingDataError as err:
        ...     print(err.missing, err.url)
        ('raw/edge.csv.gz',) http://snap.stanford.edu/ogb/data/linkproppred/ddi.zip
    """
    missing = [name for name in names if not (folder / name).is_file()]
    if not missing:
        return
    why = f" and {reason}" if reason else ""
    parts = [
        f"dataset {dataset!r}: missing {len(missing)} file(s) {missing} in folder "
        f"{str(folder)!r}{why}."
    ]
    if url:
        parts.append(f"Download them from {url}.")
    if hint:
        parts.append(hint)
    where = f" under which {relative_folder!r} holds them" if relative_folder else ""
    parts.append(
        f"Then point graphpair at a data root{where}: root=... in Python "
        f"(load_dataset(..., root=...)), --data-root DIR on the command line, or "
        f"${DATA_ENV_VAR}."
    )
    raise MissingDataError(
        " ".join(parts), dataset=dataset, missing=missing, folder=folder, url=url
    )


def _create_temporary(folder: Path, name: str) -> tuple[int, Path]:
    """A new file beside the target, opened for writing, with the mode a plain ``open(path,
    'w')`` gives (``0o666`` less the process umask: the kernel applies it at creation).

    ``tempfile.mkstemp`` would create it ``0o600``, and the rename would hand that mode to the
    final file; reading the umask instead (``os.umask`` sets it to read it) races with other
    threads, so the file is created with ``os.open`` and a random name, retried on a clash.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {str(folder / name)!r}")


def atomic_write_bytes(path: str | os.PathLike[str], payload: bytes) -> None:
    """Write ``payload`` to ``path`` so that readers never see a partial file.

    The bytes go to a temporary file in the same folder, are flushed and ``fsync``-ed, and the
    temporary file is renamed over ``path``. The final file gets the mode of any newly created
    file, ``0o666 & ~umask`` (``0o644`` under the usual umask ``022``), whatever mode an older
    file at ``path`` had.

    Example:
        >>> import os, stat, tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = os.path.join(tmp, "report.md")
        ...     atomic_write_bytes(path, b"# results\\n")
        ...     mode = stat.S_IMODE(os.stat(path).st_mode)
        >>> old = os.umask(0); _ = os.umask(old)
        >>> mode == 0o666 & ~old
        True
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(target.parent, target.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def fingerprint(*parts: Any) -> str:
    """A short stable hash of tensors, arrays and JSON-serialisable values (cache keys)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Tensor):
            array = part.detach().cpu().contiguous()
            digest.update(f"tensor{tuple(array.shape)}{array.dtype}".encode())
            digest.update(array.numpy().tobytes() if array.numel() else b"")
        elif isinstance(part, np.ndarray):
            digest.update(f"array{part.shape}{part.dtype}".encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
        digest.update(b"\x00")
    return digest.hexdigest()[:16]


def save_checked(
    path: str | os.PathLike[str], content: Any, meta: Mapping[str, Any], *, magic: bytes = _MAGIC
) -> None:
    """Atomically write ``content`` (anything ``torch.load(weights_only=True)`` reads back:
    tensors, numbers, strings, lists, dicts) and JSON-serialisable ``meta`` behind a header
    line ``magic`` and a SHA-256 checksum of the payload."""
    buffer = io.BytesIO()
    torch.save({"meta_json": json.dumps(dict(meta), sort_keys=True), "content": content}, buffer)
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest().encode()
    atomic_write_bytes(path, magic + digest + b"\n" + payload)


def load_checked(
    path: str | os.PathLike[str],
    *,
    meta: Mapping[str, Any] | None = None,
    magic: bytes = _MAGIC,
    error: type[ValueError] = ValueError,
    what: str = "file",
    map_location: str | torch.device | None = None,
) -> Any:
    """Read a file written by :func:`save_checked` with the same ``magic``: header, checksum,
    layout and (when given) ``meta`` are verified, and nothing executes code
    (``weights_only=True``).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        error: the file is not one of ours (foreign header), is truncated or corrupted
            (checksum), has an unexpected layout, or was written for other ``meta``; the
            message names the file and says which.
    """
    raw = Path(path).read_bytes()
    head = len(magic) + _DIGEST_LEN + 1
    if not raw.startswith(magic) or len(raw) < head:
        raise error(f"{str(path)!r} is not a graphpair {what} (wrong header)")
    digest = raw[len(magic) : len(magic) + _DIGEST_LEN]
    payload = raw[head:]
    if hashlib.sha256(payload).hexdigest().encode() != digest:
        raise error(f"{str(path)!r} failed its checksum (truncated or corrupted)")
    try:
        stored = torch.load(io.BytesIO(payload), weights_only=True, map_location=map_location)
        stored_meta = json.loads(stored["meta_json"])
        # Caches written before checkpoints shared this format keyed their body "tensors".
        content = stored["content"] if "content" in stored else stored["tensors"]
    except Exception as exc:  # a checksum-valid file of an unexpected layout
        raise error(f"{str(path)!r} has an unexpected layout: {exc}") from exc
    if meta is not None and stored_meta != json.loads(json.dumps(dict(meta), sort_keys=True)):
        raise error(f"{str(path)!r} was written for other parameters: {stored_meta}")
    return content


def save_cache(
    path: str | os.PathLike[str], tensors: Mapping[str, Tensor], meta: Mapping[str, Any]
) -> None:
    """Atomically write ``tensors`` and JSON-serialisable ``meta`` with a SHA-256 checksum."""
    save_checked(path, {key: value.detach().cpu() for key, value in tensors.items()}, meta)


def load_cache(
    path: str | os.PathLike[str], *, meta: Mapping[str, Any] | None = None
) -> dict[str, Tensor]:
    """Read a file written by :func:`save_cache`, verifying its checksum (and ``meta``).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CacheError: the file is not a graphpair cache, is truncated or corrupted, or was
            written for different ``meta`` (other parameters or another format version).
    """
    tensors = load_checked(path, meta=meta, error=CacheError, what="cache file")
    if not isinstance(tensors, dict) or not all(isinstance(v, Tensor) for v in tensors.values()):
        raise CacheError(f"{str(path)!r} has an unexpected layout (not a dict of tensors)")
    return tensors


def cached(
    path: str | os.PathLike[str] | None,
    build: Callable[[], Mapping[str, Tensor]],
    meta: Mapping[str, Any],
) -> dict[str, Tensor]:
    """Return the cache at ``path`` if it verifies, else ``build()`` and write it atomically.

    ``path=None`` disables caching. A cache that fails verification is logged and rebuilt,
    never trusted. A cache folder that cannot be written (read-only) only costs the rebuild.
    """
    if path is None:
        return dict(build())
    target = Path(path)
    if target.is_file():
        try:
            return load_cache(target, meta=meta)
        except CacheError as exc:
            log.warning("rebuilding cache: %s", exc)
    tensors = dict(build())
    try:
        save_cache(target, tensors, meta)
    except OSError as exc:
        log.warning("could not write cache %s: %s", target, exc)
    return tensors


def _numpy_safe_globals() -> list[Any]:
    """The numpy globals that pickled integer/float arrays reference, under both numpy 1 and 2.

    Pickles written with numpy 1 name ``numpy.core.multiarray._reconstruct``; numpy 2 moved it
    to ``numpy._core``. torch matches allowlisted globals by name, so the old name is given
    explicitly for the new object.
    """
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]
    out: list[Any] = [
        (_reconstruct, "numpy.core.multiarray._reconstruct"),
        (_reconstruct, "numpy._core.multiarray._reconstruct"),
        np.ndarray,
        np.dtype,
    ]
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        for name in (
            "BoolDType",
            "Int8DType",
            "Int16DType",
            "Int32DType",
            "Int64DType",
            "UInt8DType",
            "Float32DType",
            "Float64DType",
        ):
            if hasattr(dtypes, name):
                out.append(getattr(dtypes, name))
    return out


#: The allowlist given to ``torch.load(weights_only=True)`` for OGB's pickled split files.
NUMPY_SAFE_GLOBALS: list[Any] = _numpy_safe_globals()


def load_numpy_pickle(path: str | os.PathLike[str]) -> Any:
    """Load a ``torch.save``-d file of numpy arrays (OGB split files) without executing code.

    Uses ``weights_only=True`` with :data:`NUMPY_SAFE_GLOBALS` only; any other global in the
    file (a foreign or malicious pickle) makes the load fail instead of running it.
    """
    with torch.serialization.safe_globals(NUMPY_SAFE_GLOBALS):
        return torch.load(path, weights_only=True)
