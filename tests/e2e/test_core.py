"""The same commands on a core written by gdb's gcore give the same answers as the live process."""

from __future__ import annotations

import pytest

from devtools import gdbrun
from tests.e2e.session import session_for

pytestmark = pytest.mark.e2e

STABLE_G_KEYS = ("goid", "address", "status", "wait_reason", "stack_lo", "stack_hi", "sp", "pc", "function",
                 "user_function", "user_line", "start_function", "created_by", "m_id", "thread_id")


class LiveLook:
    """The live answers, taken in the same gdb session that writes the core: the runtime's own
    goroutines and idle threads move on between two attaches, so the core must be of this look."""

    def __init__(self, fixture, outputs):
        self.fixture, self.truth, self.outputs = fixture, fixture.truth, outputs

    def json(self, command):
        return gdbrun.json_of(self.outputs[command])


@pytest.fixture
def core_outputs(running, go_version, tmp_path):
    fixture = session_for(running, go_version).fixture
    core = tmp_path / "goroutines.core"
    deep = fixture.truth["deep"]["goid"]
    commands = ["go-info --json", "go-goroutines --json", "go-threads --json", f"go-stack {deep} --json",
                "go-stack --json", "go-bt --all --json"]
    live = gdbrun.run_gdb(gdbrun.attach(fixture.pid), commands + [f"gcore {core}"])
    assert core.exists(), "gcore wrote no core"
    out = gdbrun.run_gdb([str(fixture.binary), str(core)], commands)
    yield LiveLook(fixture, {c: live[i] for i, c in enumerate(commands)}), \
        {c: gdbrun.json_of(out[i]) for i, c in enumerate(commands)}
    core.unlink()  # about 1 GiB each: Go's reserved heap address space is dumped too


def test_core_matches_live(core_outputs):
    live, core = core_outputs
    assert core["go-info --json"]["core"] is True
    assert core["go-info --json"]["go_version"] == live.truth["go_version"]
    live_gs = {g["goid"]: g for g in live.json("go-goroutines --json")["goroutines"]}
    core_gs = {g["goid"]: g for g in core["go-goroutines --json"]["goroutines"]}
    assert set(core_gs) == set(live_gs)
    for goid, g in core_gs.items():
        for key in STABLE_G_KEYS:
            assert g[key] == live_gs[goid][key], (goid, key)
        assert g["waited_ns"] is None  # a core has no "now"
    live_ts = {t["id"]: t for t in live.json("go-threads --json")["threads"]}
    for t in core["go-threads --json"]["threads"]:
        mine = live_ts[t["id"]]
        for key in ("procid", "g0_stack_lo", "g0_stack_hi", "g0_origin", "curg", "lockedg", "sp", "pc"):
            assert t[key] == mine[key], (t["id"], key)
    deep = live.truth["deep"]["goid"]
    assert core[f"go-stack {deep} --json"]["frames"] == live.json(f"go-stack {deep} --json")["frames"]
    assert core["go-stack --json"]["frames"] == live.json("go-stack --json")["frames"]
    assert core["go-bt --all --json"] == live.json("go-bt --all --json")


HEAP_COMMANDS = ["go-heap --json", "go-spans --json", "go-arenas --json", "go-pages --json", "go-sizeclasses --json"]


def test_heap_commands_on_a_core_match_live(running, go_version, tmp_path):
    fixture = running("heap", go_version)
    sample = fixture.truth["samples"][1]["addr"]
    commands = HEAP_COMMANDS + [f"go-span {sample} --json"]
    core = tmp_path / "heap.core"
    live = gdbrun.run_gdb(gdbrun.attach(fixture.pid), commands + [f"gcore {core}"])
    try:
        dead = gdbrun.run_gdb([str(fixture.binary), str(core)], commands)
    finally:
        core.unlink(missing_ok=True)
    for i, command in enumerate(commands):
        mine, theirs = gdbrun.json_of(live[i]), gdbrun.json_of(dead[i])
        if command == "go-heap --json":
            assert mine.pop("resident_bytes") > 0 and theirs.pop("resident_bytes") is None  # no /proc for a core
        assert theirs == mine, command
