"""The README's install path: pip install into a fresh virtualenv, `gdbgomem gdbinit`, gdb finds it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from devtools.fixtures import ROOT
from gdbgomem import releases

pytestmark = pytest.mark.e2e


def test_pip_install_then_gdbinit(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(ROOT)],
                   check=True, capture_output=True, text=True)
    init = subprocess.run([str(venv / "bin" / "gdbgomem"), "gdbinit"], check=True, capture_output=True,
                          text=True).stdout
    assert str(ROOT) not in init, "a non-editable install must not point back at the checkout"
    script = tmp_path / "gdbinit"
    script.write_text(init)
    out = subprocess.run(["gdb", "-nx", "-batch", "-x", str(script), "-ex", "go-help", "-ex", "go-stack --help"],
                         capture_output=True, text=True, timeout=120)
    assert "go-goroutines" in out.stdout and "usage: go-stack" in out.stdout, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    # the data files travel with the package: the release list and the layout tables
    data = subprocess.run([str(venv / "bin" / "python"), "-c", "from gdbgomem import releases; "
                           "from gdbgomem.runtime.layout_tables import shipped_releases; "
                           "print(len(releases.tested_releases()), len(shipped_releases()))"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert data.stdout.split() == [str(len(releases.tested_releases()))] * 2, data.stdout + data.stderr


def test_gdbinit_example_loads_the_package_on_path(tmp_path):
    """The top-level gdbinit.example asks the gdbgomem command on PATH for its lines."""
    example = str(ROOT / "gdbinit.example")
    on_path = dict(os.environ, PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}")
    out = subprocess.run(["gdb", "-nx", "-batch", "-x", example, "-ex", "go-help"], capture_output=True, text=True,
                         timeout=120, env=on_path)
    assert "go-goroutines" in out.stdout and "go-pages" in out.stdout, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    # not installed: one line that says so, and gdb goes on
    bare = dict(os.environ, PATH=str(tmp_path))
    out = subprocess.run(["/usr/bin/gdb", "-nx", "-batch", "-x", example, "-ex", "echo gdb goes on\\n"],
                         capture_output=True, text=True, timeout=120, env=bare)
    assert "gdbgomem not loaded: the gdbgomem command did not answer" in out.stdout + out.stderr
    assert "gdb goes on" in out.stdout and "Traceback" not in out.stderr
