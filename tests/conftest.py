"""Shared pytest setup: Go versions to test, live fixtures, and gdb sessions over them.

One fixture process is started per Go version and one batch gdb session
collects every command's JSON at once; the tests then compare field by field
with the fixture's own ground truth.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools import fixtures  # noqa: E402

# The binary reader caches layouts per build id; tests keep that cache out of the user's home.
os.environ.setdefault("GDBGOMEM_CACHE_DIR", str(fixtures.CACHE / "layout-cache"))


def pytest_generate_tests(metafunc):
    if "go_version" in metafunc.fixturenames:
        metafunc.parametrize("go_version", fixtures.go_versions(), scope="session")


def pytest_report_header(config):
    return [f"gdbgomem: Go versions {' '.join(fixtures.go_versions())}; gdb {shutil.which('gdb')}"]


@pytest.fixture(scope="session")
def ptrace_allowed():
    """Attach needs ptrace; skip (with the reason) where the sandbox forbids it."""
    probe = subprocess.Popen(["sleep", "30"])
    try:
        out = subprocess.run(["gdb", "-nx", "-batch", "-p", str(probe.pid), "-ex", "echo ok\\n"],
                             capture_output=True, text=True, timeout=60)
    finally:
        probe.kill()
        probe.wait()
    if "ok" not in out.stdout:
        pytest.skip(f"gdb cannot attach here (ptrace): {out.stderr.strip()[:300]}")
    return True


@pytest.fixture(scope="session")
def running(request, ptrace_allowed):
    """running(name, version, args, build_kind) -> a started fixture, one per distinct call, stopped
    at the end (build_kind: how it was built, one of devtools.fixtures.BUILDS)."""
    started = {}

    def get(name: str, version: str, args=(), build_kind: str = "debug"):
        key = (name, version, tuple(args), build_kind)
        if key not in started:
            started[key] = fixtures.start(name, version, list(args), build_kind=build_kind)
        return started[key]

    yield get
    for fixture in started.values():
        fixture.stop()
