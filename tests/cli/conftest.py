from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_thread: None) -> None:
    """The CLI tests here train tiny models: one torch thread (``tests/conftest.py``)."""
