from __future__ import annotations

from pathlib import Path

import pytest

from graphpair.data import DATASETS, MissingDataError, load_dataset

_SMALL = {
    "PATTERN": {"num_train": 20, "num_valid": 5, "num_test": 5},
    "CLUSTER": {"num_train": 20, "num_valid": 5, "num_test": 5},
    "UniqueSignature": {"num_graphs": 50},
}
# Converting all 15,535 peptides takes minutes; test_files converts a real sample instead.
_SLOW = {"Peptides-func"}


@pytest.mark.data
@pytest.mark.parametrize("spec", [s for s in DATASETS if s.name not in _SLOW], ids=lambda s: s.name)
def test_every_entry_loads_or_gives_the_documented_error(
    spec: object, shared_data: Path, tmp_path: Path
) -> None:
    from graphpair.data import DatasetSpec, link_split

    assert isinstance(spec, DatasetSpec)
    options = _SMALL.get(spec.name, {})
    if not spec.files_present(shared_data) and spec.folder is not None:
        with pytest.raises(MissingDataError, match=spec.folder):
            load_dataset(spec.name, root=shared_data, cache=tmp_path, download=False)
        return
    ds = load_dataset(spec.name, root=shared_data, cache=tmp_path, download=False, **options)
    assert len(ds) >= 1
    if spec.task == "link":
        split = link_split(ds, seed=0)  # audits: raises on leakage
        assert split.sizes()["test_pos"] > 0
    else:
        parts = ds.split if ds.split is not None else (ds.folds[0] if ds.folds else None)
        if spec.split not in ("none",):
            assert parts is not None, spec.name
            for index in parts.values():
                assert index.numel() == 0 or int(index.max()) < len(ds)


def test_missing_planetoid_files_give_planetoids_url_and_the_flags(tmp_path: Path) -> None:
    from graphpair.data._planetoid import PLANETOID_URL

    with pytest.raises(MissingDataError) as caught:
        load_dataset("CiteSeer", root=tmp_path, download=False)
    message = str(caught.value)
    assert "missing 8 file(s) ['ind.citeseer.x'" in message
    assert str(tmp_path / "planetoid" / "CiteSeer" / "raw") in message
    assert f"Download them from {PLANETOID_URL}/" in message
    assert PLANETOID_URL.startswith("https://github.com/kimiyoung/planetoid")
    for how in ("root=...", "--data-root DIR", "$GRAPHPAIR_DATA", "'planetoid/CiteSeer/raw'"):
        assert how in message, how
    assert caught.value.missing[0] == "ind.citeseer.x"


def test_a_failed_download_is_named_in_the_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import graphpair.data._download as download

    def offline(url: str, target: Path) -> None:
        raise OSError(f"no network for {url}")

    monkeypatch.setattr(download, "_fetch", offline)
    with pytest.raises(MissingDataError, match=r"the download failed \(OSError: no network"):
        load_dataset("ogbl-ppa", root=tmp_path, download=True)
