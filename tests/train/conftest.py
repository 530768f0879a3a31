from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    # The runs here are tiny; on a small shared machine torch's thread pool costs more than it
    # gives (karate: 0.11 s per run on one thread, 0.38 s on two).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
