from __future__ import annotations

import subprocess
import sys

import pytest

from graphpair.cli import main


def test_demo_runs_and_reports_each_op(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--seed", "1", "--walk-length", "4"]) == 0
    out = capsys.readouterr().out
    assert "dataset 'default' (2708 nodes" in out
    assert "split 'ncn-planetoid' seed 1" in out
    assert "audit passed" in out
    assert "common-neighbour scorer on the test split: hits@100 = 0." in out
    assert "Les Misérables co-occurrence graph (77 nodes, 254 edges)" in out
    assert "target link removal: masked" in out
    assert "common neighbours unchanged: True" in out
    assert "every channel's rows sum to 1: True" in out
    assert "a held-out edge outranks a non-edge" in out


def test_demo_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo", "--seed", "3"])
    first = capsys.readouterr().out
    main(["demo", "--seed", "3"])
    assert capsys.readouterr().out == first


def test_bad_flag_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--walk-length", "0"])
    assert exc.value.code == 2
    assert "--walk-length must be >= 1; got 0" in capsys.readouterr().err


def test_python_dash_m_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "graphpair", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("graphpair ")
