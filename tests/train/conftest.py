from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_thread: None) -> None:
    """Every training test here is tiny: one torch thread (``tests/conftest.py``)."""
