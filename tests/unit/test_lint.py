"""Pyflakes' checks over the code (undefined names, unused imports): a name lost in a move
fails here, not in a user's session."""

from __future__ import annotations

import subprocess
import sys

from devtools.fixtures import ROOT


def test_no_undefined_or_unused_names():
    checked = ["gdbgomem", "tests", "devtools", "bench"]
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "F,E9", *checked],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-1000:]
