"""Shared pytest configuration: hypothesis profiles, device and data fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, settings

# CI gets a fixed, deterministic profile; locally more examples can be asked for with
# HYPOTHESIS_PROFILE=thorough.
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def data_root() -> Path | None:
    """Offline datasets: $GRAPHPAIR_DATA, else ../shared/data beside the checkout."""
    env = os.environ.get("GRAPHPAIR_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data")
    for path in candidates:
        if path.is_dir():
            return path
    return None


@pytest.fixture
def shared_data() -> Path:
    root = data_root()
    if root is None:
        pytest.skip("offline datasets not found (set GRAPHPAIR_DATA or provide ../shared/data)")
    return root


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_cuda = pytest.mark.skip(reason="no CUDA device available")
    for item in items:
        if "cuda" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_cuda)


@pytest.fixture(autouse=True)
def _cpu_unless_cuda(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """``device='auto'`` (every runner's default) means the CPU in tests not marked ``cuda``:
    golden records and CPU bit-reproducibility hold on a GPU machine too."""
    if "cuda" not in request.keywords:
        monkeypatch.setattr("graphpair.train._fields.auto_device", lambda: "cpu")


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Run a test on one torch thread. For tiny inputs and training runs torch's thread pool
    costs more than it gives on a small shared machine (karate: 0.11 s per run on one
    thread, 0.38 s on two). Modules opt in with ``pytestmark``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
