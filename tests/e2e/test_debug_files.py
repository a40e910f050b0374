"""Separate debug files (objcopy --only-keep-debug, then strip with a .gnu_debuglink): every host
reads the DWARF from the debug file, found beside the binary or named with --debug-file, and a
wrong or misplaced file gets one line that says what to do."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from devtools import fixtures, hostrun
from devtools.fixtures import ROOT
from gdbgomem.elf.debug_files import candidates

pytestmark = pytest.mark.e2e
GDBGOMEM = str(ROOT / ".venv" / "bin" / "gdbgomem")


@pytest.fixture(scope="module")
def split_build(tmp_path_factory, ptrace_allowed):
    """The goroutines fixture split into a stripped executable and its debug file, running, and
    a gcore core of it; layout caches of its own, so each look reads the files afresh."""
    if shutil.which("objcopy") is None:
        pytest.skip("objcopy is not installed (binutils)")
    version = fixtures.go_versions()[-1]
    where = tmp_path_factory.mktemp("split")
    built = fixtures.build("goroutines", version)
    program, debug = where / "goroutines", where / "goroutines.debug"
    subprocess.run(["objcopy", "--only-keep-debug", str(built), str(debug)], check=True)
    subprocess.run(["objcopy", "--strip-all", f"--add-gnu-debuglink={debug}", str(built), str(program)], check=True)
    fixture = fixtures.start("goroutines", version, executable=program)
    core = where / "goroutines.core"
    try:
        hostrun.run_gdb(hostrun.attach(fixture.pid), [f"gcore {core}"])
        yield fixture, program, debug, core
    finally:
        fixture.stop()
        core.unlink(missing_ok=True)


def go_info(monkeypatch, tmp_path, argv):
    monkeypatch.setenv("GDBGOMEM_CACHE_DIR", str(tmp_path))
    out = subprocess.run([GDBGOMEM, "core", *argv, "--", "go-info", "--json"], capture_output=True, text=True,
                         timeout=300)
    return out


def test_every_host_reads_the_debug_file_beside_the_binary(split_build, monkeypatch, tmp_path):
    fixture, program, _debug, core = split_build
    monkeypatch.setenv("GDBGOMEM_CACHE_DIR", str(tmp_path))
    for host, where in (("gdb", {"pid": fixture.pid}), ("lldb", {"pid": fixture.pid}),
                        ("standalone", {"binary": program, "core": core})):
        out = hostrun.run_host(host, ["go-info --json", "go-goroutines --json"], **where)
        info = hostrun.json_of(out[0])
        assert info["layout_source"] == "DWARF", host
        listed = hostrun.json_of(out[1])["goroutines"]
        for kind, count in fixture.truth["counts"].items():
            assert sum(g["start_function"] == kind for g in listed) == count, (host, kind)


def test_debug_file_moved_away_then_named(split_build, monkeypatch, tmp_path):
    _fixture, program, debug, core = split_build
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    moved = elsewhere / debug.name
    shutil.move(str(debug), moved)
    try:
        alone = go_info(monkeypatch, tmp_path / "c1", [str(program), str(core)])
        assert hostrun.json_of(alone.stdout)["layout_source"] == "table"  # the layout table of its release
        named = go_info(monkeypatch, tmp_path / "c2", [str(program), str(core), "--debug-file", str(moved)])
        assert hostrun.json_of(named.stdout)["layout_source"] == "DWARF", named.stderr
        other = fixtures.build("heap", fixtures.go_versions()[-1])  # another program's
        wrong = go_info(monkeypatch, tmp_path / "c3", [str(program), str(core), "--debug-file", str(other)])
        assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1
        assert "is the debug file of another build" in wrong.stderr and "(give the debug file of this build)" \
            in wrong.stderr
        as_binary = go_info(monkeypatch, tmp_path / "c4", [str(moved), str(core)])
        assert as_binary.returncode == 1 and as_binary.stderr.count("\n") == 1
        assert "is a separate debug file" in as_binary.stderr and "--debug-file" in as_binary.stderr
    finally:
        shutil.move(str(moved), debug)


def test_where_debug_files_are_looked_for():
    found = list(candidates("/opt/app/bin/server", "ab12cd", ("server.debug", 7)))
    assert found == [("/usr/lib/debug/.build-id/ab/12cd.debug", None), ("/opt/app/bin/server.debug", 7),
                     ("/opt/app/bin/.debug/server.debug", 7), ("/usr/lib/debug/opt/app/bin/server.debug", 7)]
    assert os.path.isabs(found[0][0])
