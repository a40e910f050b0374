"""A cgo program: every M's g0 stack is one the system made, checked against /proc/PID/maps."""

from __future__ import annotations

import ast

import pytest

from devtools import hostrun

pytestmark = pytest.mark.e2e

PROC_COMMANDS = [
    "python import os; print('TASKS', sorted(int(t) for t in os.listdir('/proc/%d/task' % gdb.selected_inferior().pid)))",
    "python print('MAPS', [(int(l.split()[0].split('-')[0], 16), int(l.split()[0].split('-')[1], 16), l.split()[-1]) "
    "for l in open('/proc/%d/maps' % gdb.selected_inferior().pid)])",
]


@pytest.fixture
def cgo(running, go_version):
    fixture = running("cgothreads", go_version)
    out = hostrun.run_gdb(hostrun.attach(fixture.pid), ["go-threads --json", "go-info --json", *PROC_COMMANDS,
                                                       "go-goroutines --json", "go-threads"])
    tasks = ast.literal_eval(out[2].split("TASKS", 1)[1].strip())
    maps = ast.literal_eval(out[3].split("MAPS", 1)[1].strip())
    counts = {"info": hostrun.json_of(out[1]), "goroutines": hostrun.json_of(out[4])["goroutines"], "text": out[5]}
    return fixture.truth, hostrun.json_of(out[0])["threads"], tasks, maps, counts


def mapping_of(maps, address):
    return next(((lo, hi, name) for lo, hi, name in maps if lo <= address < hi), None)


def test_counts_leave_out_the_cgo_callback_placeholder(cgo):
    """The extra M kept for C threads that call Go has no OS thread until one does, and its g is a
    placeholder (1.26+ names it "waiting for cgo callback"): neither counts as the program's."""
    truth, threads, tasks, _maps, counts = cgo
    assert counts["info"]["threads"] == len(tasks) == sum(1 for t in threads if t["thread_id"])
    user = [g for g in counts["goroutines"] if not (g["start_function"] or "").startswith("runtime.")
            or g["start_function"] == "runtime.main"]
    assert len(user) == truth["num_goroutine"]
    assert "waiting_for_cgo_callback" not in {g["status"] for g in counts["goroutines"]}
    # in the text, the extra M's g0 shows no stack rather than an empty one at 0x0
    extra = [t for t in threads if t["isextra"] and not t["thread_id"]]
    assert extra and all(t["g0_stack_lo"] == t["g0_stack_hi"] == 0 for t in extra)
    rows = {line.split()[0]: line.split() for line in counts["text"].splitlines() if line.split() and line.split()[0].isdigit()}
    for t in extra:
        assert rows[str(t["m_id"])][1:4] == ["-", "-", "-"], counts["text"]
    assert "0x0-0x0" not in counts["text"]


def test_every_g0_is_a_system_stack(cgo):
    """...but the main thread's, which the kernel made: with cgo its g0 is all of it."""
    truth, threads, tasks, maps, _counts = cgo
    real = [t for t in threads if not t["isextra"]]
    assert sorted(t["thread_id"] for t in real) == tasks
    assert {t["g0_origin"] for t in threads if not t["is_m0"]} == {"system"}
    assert [t["g0_origin"] for t in threads if t["is_m0"]] == ["kernel"]
    for t in real:
        lo, hi = t["g0_stack_lo"], t["g0_stack_hi"]
        if t["is_m0"]:
            # the main thread's stack as pthread_getattr_np reports it: its top is in [stack]
            assert mapping_of(maps, hi - 1)[2] == "[stack]"
            assert t["thread_id"] == truth["pid"]
        else:
            # a pthread stack: an anonymous mapping holds it, with glibc's guard page
            # just below (pthread_attr_getstack, which cgo asks, counts the guard in)
            stack = mapping_of(maps, hi - 1)
            guard = mapping_of(maps, stack[0] - 1)
            assert stack[0] <= lo or (guard is not None and guard[0] <= lo), (t, stack, guard)
            assert t["g0_stack_size"] >= 64 * 1024
        if t["running_on"] == "g0":
            assert lo <= t["sp"] < hi
    locked = {t["thread_id"]: t["lockedg_goid"] for t in real}
    assert all(locked[tid] is not None for tid in truth["locked_tids"])
