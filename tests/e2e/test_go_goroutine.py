"""go-goroutine GOID in gdb: gdb's own bt, frame, info locals and print inside a parked goroutine,
live and on a core, with no register written."""

from __future__ import annotations

import re

import pytest

from devtools import fixtures, hostrun
from tests.e2e.harness import subject

pytestmark = pytest.mark.e2e


def probe_goid(fixture) -> int:
    return fixture.truth["chan_probes"][0]["goid"]


def look_inside(target, probe):
    goid, local = probe["goid"], probe["local_addr"]
    first = hostrun.run_gdb(target, [f"go-goroutine {goid}", "bt", "go-goroutine"])
    levels = dict((name, int(level)) for level, name in re.findall(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \(",
                                                                   first[1], re.M))
    out = hostrun.run_gdb(target, [f"go-goroutine {goid}", f"frame {levels['main.chanWaiter']}", "info locals",
                                   "p &local", "go-goroutine --reset", "bt 1", f"go-goroutine {goid}",
                                   f"frame {levels['main.chanWaiter']}", "info frame"])
    return first, levels, out, local


@pytest.mark.parametrize("on_core", [False, True], ids=["live", "core"])
def test_gdb_frames_inside_a_goroutine(running, go_version, on_core):
    look = subject(running, "goroutines", go_version)
    fixture = look.fixture
    if on_core:
        look.look("gdb", on_core=True)  # the harness's core of the fixture
        target = [str(fixture.binary), str(look.core)]
    else:
        target = hostrun.attach(fixture.pid)
    first, levels, out, local = look_inside(target, fixture.truth["chan_probes"][0])
    assert "gdb's frames #1 and up are its own" in first[0]
    assert min(levels.values()) == 1 and "runtime.futex" not in levels  # the thread's own frame is left out
    assert list(levels)[-1] == "runtime.goexit" and levels["main.chanWaiter"] == levels["runtime.goexit"] - 1
    assert f"goroutine {fixture.truth['chan_probes'][0]['goid']} is selected" in first[2]
    assert "main.chanWaiter" in out[1] and re.search(r"^local = ", out[2], re.M)
    if "lvalue" not in out[3]:  # (the compiler may describe the array as held in registers here)
        assert out[3].rstrip().endswith(hex(local))  # the local the goroutine itself reported
    assert "back to the threads' own frames" in out[4] and re.search(r"^#0 ", out[5], re.M)
    # gdb's own unwinding of the goroutine agrees with gdbgomem's: the frame's CFA is sp + frame size
    ours = next(f for f in look.look("gdb").json(f"go-stack {probe_goid(fixture)} --json")["frames"]
                if f["function"] == "main.chanWaiter")
    assert re.search(rf"frame at {hex(ours['sp'] + ours['size_on_stack'])}:", out[8]), out[8]


def test_a_running_goroutine_selects_its_thread(ptrace_allowed):
    fixture = fixtures.start("spinner", fixtures.go_versions()[-1], godebug="asyncpreemptoff=1")
    try:
        out = hostrun.run_gdb(hostrun.attach(fixture.pid), [f"go-goroutine {fixture.truth['goid']}", "bt"])
    finally:
        fixture.stop()
    assert f"running on thread {fixture.truth['tid']}" in out[0]
    assert "main.spin" in out[1]


def test_errors_are_one_line(running):
    fixture = running("goroutines", fixtures.go_versions()[-1])
    out = hostrun.run_gdb(hostrun.attach(fixture.pid), ["go-goroutine 987654", "go-goroutine x"])
    assert out[0].strip().splitlines()[-1] == "gdbgomem: no goroutine 987654 (list them with go-goroutines --all)"
    assert out[1].strip().splitlines()[-1].startswith("gdbgomem: go-goroutine: argument goid")
