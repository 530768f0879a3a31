from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from graphpair.data import MissingDataError
from graphpair.data._download import ensure_files


def test_present_files_need_no_network(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    assert ensure_files(tmp_path, ["a.txt"], dataset="d", download=False) == tmp_path


def test_archive_download_into_place(tmp_path: Path) -> None:
    archive = tmp_path / "ddi.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("ddi/raw/edge.csv.gz", b"data")
        handle.writestr("ddi/split/target/train.pt", b"data")
    folder = tmp_path / "root" / "ogb" / "ogbl_ddi"
    ensure_files(
        folder,
        ["raw/edge.csv.gz", "split/target/train.pt"],
        dataset="ogbl-ddi",
        archive=archive.as_uri(),
        archive_subdir="ddi",
    )
    assert (folder / "raw" / "edge.csv.gz").read_bytes() == b"data"
    assert [p.name for p in folder.parent.iterdir()] == ["ogbl_ddi"]  # no staging left


def test_failed_download_names_files_and_folder(tmp_path: Path) -> None:
    folder = tmp_path / "planetoid" / "Cora" / "raw"
    with pytest.raises(
        MissingDataError, match=r"ind\.cora\.x.*planetoid/Cora/raw.*download failed"
    ):
        ensure_files(
            folder,
            ["ind.cora.x"],
            dataset="Cora",
            urls=[((tmp_path / "nowhere" / "ind.cora.x").as_uri(), "ind.cora.x")],
        )
    assert not folder.exists() or not any(folder.iterdir())


def test_incomplete_archive_is_reported(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("x/other.txt", b"1")
    with pytest.raises(MissingDataError, match="still missing"):
        ensure_files(
            tmp_path / "f",
            ["needed.txt"],
            dataset="d",
            archive=archive.as_uri(),
            archive_subdir="x",
        )
