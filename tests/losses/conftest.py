"""Loss-test fixtures: every test starts with the once-per-process warnings re-armed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graphpair.losses import _common


@pytest.fixture(autouse=True)
def _rearm_warnings() -> Iterator[None]:
    # Warnings are emitted once per process per loss; a test expecting one must not depend on
    # which tests ran before it.
    _common._WARNED.clear()
    yield
    _common._WARNED.clear()
