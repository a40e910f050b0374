"""A goroutine that is running when gdb stops it: its frames come from its thread's registers,
and sysmon's preemption request shows in stackguard0."""

from __future__ import annotations

import pytest

from devtools import fixtures, hostrun

pytestmark = pytest.mark.e2e


@pytest.fixture
def spinner(ptrace_allowed, go_version):
    fixture = fixtures.start("spinner", go_version, godebug="asyncpreemptoff=1")
    try:
        goid = fixture.truth["goid"]
        out = hostrun.run_gdb(hostrun.attach(fixture.pid),
                             [f"go-g {goid} --json", f"go-stack {goid} --json", "go-threads --json", f"go-g {goid}"])
    finally:
        fixture.stop()
    return fixture.truth, out


def test_running_goroutine(spinner):
    truth, out = spinner
    g = hostrun.json_of(out[0])
    assert g["status"] == "running" and g["thread_id"] == truth["tid"] and g["m_id"] is not None
    assert g["function"] == "main.spin"  # from the thread's pc, not the stale g.sched
    assert g["stack_lo"] <= g["sp"] < g["stack_hi"]
    # sysmon asked the 100 ms-long run to yield; a loop without calls never looks
    assert g["preempt_requested"] is True and g["stackguard0"] == (1 << 64) - 1314
    assert "stackPreempt: preemption requested" in out[3]
    stack = hostrun.json_of(out[1])
    assert stack["sp_source"] == "thread registers" and stack["thread_id"] == truth["tid"]
    assert stack["preempt_requested"] is True
    assert stack["guard"] == stack["stack_lo"] + stack["stack_guard"]
    names = [f["function"] for f in stack["frames"]]
    assert names == ["main.spin", "runtime.goexit"], names
    assert stack["frames"][0]["pc"] == g["pc"] and stack["frames"][0]["line"] > 0
    thread = [t for t in hostrun.json_of(out[2])["threads"] if t["thread_id"] == truth["tid"]][0]
    assert thread["curg_goid"] == truth["goid"] and thread["lockedg_goid"] == truth["goid"]
    assert thread["running_on"] == "curg" and thread["p_id"] is not None
