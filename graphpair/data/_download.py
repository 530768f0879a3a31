"""Fetching raw files when they are absent: the ordinary public URLs, never a prompt.

Every loader first looks for its raw files in the folder the registry names under the data
root. Only when files are missing and ``download=True`` does it fetch them from the dataset's
usual public address (OGB's, PyG's), into a temporary folder that is moved into place once
complete; a failed or offline download ends in :class:`MissingDataError` naming the files and
the folder they belong in, so the user can copy them there by hand.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from graphpair.data._io import MissingDataError

__all__ = ["ensure_files"]

log = logging.getLogger(__name__)

_TIMEOUT_S = 60


def _fetch(url: str, target: Path) -> None:
    import urllib.request

    with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response, target.open("wb") as out:
        shutil.copyfileobj(response, out)


def ensure_files(
    folder: Path,
    files: Sequence[str],
    *,
    dataset: str,
    urls: Sequence[tuple[str, str]] = (),
    archive: str | None = None,
    archive_subdir: str | None = None,
    download: bool = True,
) -> Path:
    """Return ``folder`` once every name in ``files`` exists in it, downloading if allowed.

    Args:
        folder: where the files belong.
        files: their paths relative to ``folder``.
        dataset: the dataset name, for messages.
        urls: ``(url, relative path)`` pairs fetched one by one.
        archive: a zip URL whose content (or its ``archive_subdir``) becomes ``folder``.
        download: try the network when files are missing.

    Raises:
        MissingDataError: files are missing and could not be downloaded (offline, refused).
    """
    missing = [name for name in files if not (folder / name).is_file()]
    if not missing:
        return folder
    hint = "Put them there (the dataset's usual layout) or pass root=... / set $GRAPHPAIR_DATA."
    if not download or not (urls or archive):
        why = "downloading is off" if (urls or archive) else "no public download exists"
        raise MissingDataError(
            f"dataset {dataset!r}: missing {len(missing)} file(s) {missing} in folder "
            f"{str(folder)!r} and {why}. {hint}"
        )
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}.") as tmp:
            staging = Path(tmp) / "content"
            staging.mkdir()
            if archive is not None:
                log.info("downloading %s", archive)
                zip_path = Path(tmp) / "archive.zip"
                _fetch(archive, zip_path)
                with zipfile.ZipFile(zip_path) as handle:
                    handle.extractall(staging)
                if archive_subdir:
                    staging = staging / archive_subdir
            for url, relative in urls:
                log.info("downloading %s", url)
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                _fetch(url, target)
            folder.mkdir(parents=True, exist_ok=True)
            for item in staging.rglob("*"):
                if item.is_file():
                    destination = folder / item.relative_to(staging)
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(str(item), destination)
    except (OSError, zipfile.BadZipFile) as exc:
        raise MissingDataError(
            f"dataset {dataset!r}: missing {len(missing)} file(s) {missing} in folder "
            f"{str(folder)!r}, and the download failed ({type(exc).__name__}: {exc}). {hint}"
        ) from exc
    still = [name for name in files if not (folder / name).is_file()]
    if still:
        raise MissingDataError(
            f"dataset {dataset!r}: after downloading, file(s) {still} are still missing in "
            f"{str(folder)!r}. {hint}"
        )
    return folder
