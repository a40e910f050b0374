"""End-to-end setup: the cores the harness writes are removed when the session ends."""

from __future__ import annotations

import pytest

from tests.e2e import harness


@pytest.fixture(scope="session", autouse=True)
def _remove_cores_at_the_end():
    yield
    harness.remove_cores()
