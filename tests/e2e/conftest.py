"""End-to-end setup: the cores the harness writes are removed when the session ends."""

from __future__ import annotations

import pytest

from devtools import fixtures
from tests.e2e import harness


def pytest_collection_modifyitems(config, items):
    """A module that sets BETWEEN_RELEASES(params) -> bool runs its whole host and build matrix on
    the oldest and the newest release, and on the releases between only the parameters the
    predicate keeps (every release is still tested; CI stays within its time)."""
    versions = fixtures.go_versions()
    edges = {versions[0], versions[-1]}
    kept, dropped = [], []
    for item in items:
        keep_between = getattr(item.module, "BETWEEN_RELEASES", None)
        params = getattr(getattr(item, "callspec", None), "params", {})
        between = "go_version" in params and params["go_version"] not in edges
        (dropped if keep_between is not None and between and not keep_between(params) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session", autouse=True)
def _remove_cores_at_the_end():
    yield
    harness.remove_cores()
