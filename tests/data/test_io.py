from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from graphpair.data import CacheError
from graphpair.data._io import (
    atomic_write_bytes,
    cache_dir,
    cached,
    data_root,
    fingerprint,
    load_cache,
    load_numpy_pickle,
    save_cache,
)


def test_roots_follow_argument_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRAPHPAIR_DATA", raising=False)
    assert data_root() is None
    monkeypatch.setenv("GRAPHPAIR_DATA", "/some/where")
    assert data_root() == Path("/some/where")
    assert data_root("/else") == Path("/else")
    monkeypatch.setenv("GRAPHPAIR_CACHE", "/cache/here")
    assert cache_dir() == Path("/cache/here")
    monkeypatch.delenv("GRAPHPAIR_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert cache_dir() == Path("/xdg/graphpair")


def test_cache_round_trip_and_meta(tmp_path: Path) -> None:
    tensors = {"a": torch.arange(5), "b": torch.randn(2, 3)}
    path = tmp_path / "sub" / "c.pt"
    save_cache(path, tensors, {"k": 1})
    out = load_cache(path, meta={"k": 1})
    assert torch.equal(out["a"], tensors["a"])
    assert torch.equal(out["b"], tensors["b"])
    with pytest.raises(CacheError, match="other parameters"):
        load_cache(path, meta={"k": 2})
    assert [p.name for p in path.parent.iterdir()] == ["c.pt"]  # no temporary files left


@pytest.mark.parametrize("damage", ["truncate", "flip", "foreign"])
def test_damaged_cache_is_refused_and_rebuilt(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.pt"
    save_cache(path, {"a": torch.arange(100)}, {})
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        path.write_bytes(raw[:-10] + bytes([raw[-10] ^ 0xFF]) + raw[-9:])
    else:
        torch.save({"a": torch.zeros(3)}, path)
    with pytest.raises(CacheError):
        load_cache(path)
    calls = []

    def build() -> dict[str, torch.Tensor]:
        calls.append(1)
        return {"a": torch.arange(100)}

    with caplog.at_level(logging.WARNING):
        out = cached(path, build, {})
    assert calls == [1]
    assert torch.equal(out["a"], torch.arange(100))
    assert "rebuilding cache" in caplog.text
    assert torch.equal(load_cache(path)["a"], torch.arange(100))  # rewritten, valid again
    assert cached(path, build, {})["a"].numel() == 100
    assert calls == [1]


def test_interrupted_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"old")

    def boom(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(path, b"new content")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_fingerprint_is_stable_and_sensitive() -> None:
    a = fingerprint(torch.arange(4), "x", 1)
    assert a == fingerprint(torch.arange(4), "x", 1)
    assert a != fingerprint(torch.arange(5), "x", 1)
    assert a != fingerprint(torch.arange(4).float(), "x", 1)
    assert re.fullmatch("[0-9a-f]{16}", a)


def test_numpy_pickle_loader_refuses_code(tmp_path: Path) -> None:
    import numpy as np

    good = tmp_path / "good.pt"
    torch.save({"edge": np.arange(6).reshape(3, 2)}, good, _use_new_zipfile_serialization=False)
    out = load_numpy_pickle(good)
    assert np.array_equal(out["edge"], np.arange(6).reshape(3, 2))

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("pwned",))

    bad = tmp_path / "bad.pt"
    torch.save({"edge": Evil()}, bad, _use_new_zipfile_serialization=False)
    with pytest.raises(Exception, match="weights_only|Unsupported global"):
        load_numpy_pickle(bad)


def test_package_never_loads_with_weights_only_false() -> None:
    """Scan the package source: every torch.load call passes weights_only=True."""
    package = Path(__file__).resolve().parents[2] / "graphpair"
    calls = 0
    for path in package.rglob("*.py"):
        text = path.read_text()
        assert "weights_only=False" not in text, path
        for match in re.finditer(r"torch\.load\(", text):
            calls += 1
            window = text[match.end() : match.end() + 200]
            assert "weights_only=True" in window, f"{path}: torch.load without weights_only=True"
        assert "pickle.load(" not in text, path
        assert "pickle.loads(" not in text, path
    assert calls >= 2


def test_checked_files_hold_nested_state_and_read_the_older_cache_layout(
    tmp_path: Path,
) -> None:
    import hashlib
    import io as _io

    from graphpair.data._io import _MAGIC, load_cache, load_checked, save_checked

    state = {"epoch": 3, "opt": {"state": {0: {"step": torch.tensor(2.0)}}, "lr": [0.1]}}
    save_checked(tmp_path / "a", state, {"v": 1}, magic=b"X-1\n")
    got = load_checked(tmp_path / "a", meta={"v": 1}, magic=b"X-1\n")
    assert got["epoch"] == 3
    assert torch.equal(got["opt"]["state"][0]["step"], torch.tensor(2.0))
    with pytest.raises(KeyError, match="other parameters"):
        load_checked(tmp_path / "a", meta={"v": 2}, magic=b"X-1\n", error=KeyError)
    with pytest.raises(ValueError, match="is not a graphpair file"):
        load_checked(tmp_path / "a")  # another magic: not this kind of file
    # A cache written before the shared format keyed its body "tensors": still readable.
    buffer = _io.BytesIO()
    torch.save({"meta_json": "{}", "tensors": {"x": torch.arange(3)}}, buffer)
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest().encode()
    (tmp_path / "old").write_bytes(_MAGIC + digest + b"\n" + payload)
    assert torch.equal(load_cache(tmp_path / "old", meta={})["x"], torch.arange(3))


@pytest.fixture
def umask_027() -> Iterator[int]:
    """A umask other than the usual 022, restored afterwards (it is process-wide)."""
    old = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002, 0o077])
def test_atomic_writes_follow_the_umask(tmp_path: Path, mask: int) -> None:
    # The oracle: a file created the ordinary way under the same umask.
    old = os.umask(mask)
    try:
        plain = tmp_path / "plain.txt"
        plain.write_bytes(b"x")
        written = tmp_path / "report.md"
        atomic_write_bytes(written, b"# results\n")
        stale = tmp_path / "stale.csv"  # an older file's 0o600 is not kept
        stale.write_bytes(b"old")
        stale.chmod(0o600)
        atomic_write_bytes(stale, b"new")
        cache = tmp_path / "cache.pt"
        save_cache(cache, {"a": torch.arange(3)}, {"v": 1})
    finally:
        os.umask(old)
    expected = 0o666 & ~mask
    assert stat.S_IMODE(plain.stat().st_mode) == expected
    for path in (written, stale, cache):
        assert stat.S_IMODE(path.stat().st_mode) == expected, path.name
    assert stale.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cache.pt",
        "plain.txt",
        "report.md",
        "stale.csv",
    ]


def test_checkpoints_follow_the_umask(tmp_path: Path, umask_027: int) -> None:
    from graphpair.train import link_config
    from graphpair.train._checkpoint import RunCheckpoints

    checkpoints = RunCheckpoints(tmp_path, link_config("karate", epochs=1), resume=False)
    checkpoints.save(0, {"epoch": 1})
    assert stat.S_IMODE(checkpoints.path(0).stat().st_mode) == 0o666 & ~umask_027


def test_temporary_name_clashes_are_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first two random names are taken by files that must survive untouched.
    names = iter(["aaaa", "aaaa", "bbbb", "cccc"])
    monkeypatch.setattr("graphpair.data._io.secrets.token_hex", lambda n: next(names))
    for taken in ("aaaa", "bbbb"):
        (tmp_path / f".f.bin.{taken}.tmp").write_bytes(b"someone else's")
    atomic_write_bytes(tmp_path / "f.bin", b"mine")
    assert (tmp_path / "f.bin").read_bytes() == b"mine"
    assert (tmp_path / ".f.bin.aaaa.tmp").read_bytes() == b"someone else's"
    assert not (tmp_path / ".f.bin.cccc.tmp").exists()
