"""go-goroutine GOID in lldb: lldb's own bt inside a parked goroutine, live and on a core, through
gdbgomem's OS plugin thread, with no register written; its frames are the runtime's own."""

from __future__ import annotations

import re
from pathlib import PurePath

import pytest

from devtools import fixtures, go_traceback, hostrun
from tests.e2e.harness import subject

pytestmark = pytest.mark.e2e

# frame #3: 0x000000000052f5fe goroutines`main.chanWaiter at main.go:74
FRAME = re.compile(r"frame #(\d+): 0x([0-9a-f]+) \S+?`(\S+) at ([^:\s]+):(\d+)")


def lldb_frames(bt: str):
    """(pc, function, file name, line) of each frame lldb's bt printed; asm functions lose .abi0."""
    return [(int(pc, 16), name.removesuffix(".abi0"), file, int(line)) for _, pc, name, file, line in FRAME.findall(bt)]


@pytest.mark.parametrize("on_core", [False, True], ids=["live", "core"])
def test_lldb_bt_inside_a_goroutine(running, go_version, on_core):
    look = subject(running, "goroutines", go_version)
    fixture = look.fixture
    if on_core:
        look.look("gdb", on_core=True)  # the harness's core of the fixture
        target = [str(fixture.binary), "--core", str(look.core)]
    else:
        target = ["-p", str(fixture.pid)]
    goid = fixture.truth["chan_probes"][0]["goid"]
    out = hostrun.run_lldb(target, [f"go-goroutine {goid}", "bt", "go-goroutine", "thread list",
                                    f"go-bt {goid} --json", "go-goroutine --reset", "bt 1", "thread list",
                                    f"go-goroutine {goid} --json"])
    assert re.search(rf"goroutine {goid} \[waiting, chan receive\]: lldb thread #\d+ is it", out[0]), out[0]
    assert "agrees" not in out[0]
    assert f"name = 'goroutine {goid}'" in out[1] and f"goroutine {goid} is selected" in out[2]
    assert f"tid = {1_000_000_000 + goid}," in out[3]
    # lldb's own unwinding equals gdbgomem's, frame by frame: pc, function, file:line (lldb reads
    # the innermost frame's line at its pc, the line after the call the goroutine parked in)
    shown, ours = lldb_frames(out[1]), hostrun.json_of(out[4])["frames"]
    assert [(pc, name) for pc, name, _, _ in shown] == [(f["pc"], f["function"]) for f in ours]
    assert [(file, line) for _, _, file, line in shown[1:]] == [(PurePath(f["file"]).name, f["line"])
                                                                for f in ours[1:]]
    assert shown[-2][1:] == ("main.chanWaiter", "main.go", 74) and shown[-1][1] == "runtime.goexit"
    # and the runtime's own traceback of the goroutine (runtime.Stack, taken while it waited)
    theirs = go_traceback.parse(fixture.truth["stacks"])[goid]
    assert [(name, file, line) for _, name, file, line in shown if not name.startswith("runtime.")] == \
        [(f.function, PurePath(f.file).name, f.line) for f in theirs.frames]
    assert "back to the threads' own frames" in out[5]
    assert f"name = 'goroutine {goid}'" not in out[6] + out[7] and re.search(r"thread #1\b", out[6])
    assert hostrun.json_of(out[8])["frames_lldb_agrees"] == hostrun.json_of(out[8])["frames"] == len(ours)


def test_lldb_running_goroutine_selects_its_thread(ptrace_allowed):
    fixture = fixtures.start("spinner", fixtures.go_versions()[-1], godebug="asyncpreemptoff=1")
    try:
        out = hostrun.run_lldb(["-p", str(fixture.pid)], [f"go-goroutine {fixture.truth['goid']}", "bt"])
    finally:
        fixture.stop()
    assert f"running on thread {fixture.truth['tid']}: lldb thread #" in out[0]
    assert f"tid = {fixture.truth['tid']}" in out[1] or "main.spin" in out[1]
    assert any(name == "main.spin" for _, name, _, _ in lldb_frames(out[1]))


OTHER_PLUGIN = """
class OperatingSystemPlugIn:
    def __init__(self, process):
        self.process = process

    def get_thread_info(self):
        return []
"""


def test_lldb_keeps_a_plugin_of_the_users(running, tmp_path):
    """lldb has one OS plugin setting: go-goroutine does not replace one the user set."""
    fixture = running("goroutines", fixtures.go_versions()[-1])
    plugin = tmp_path / "their_plugin.py"
    plugin.write_text(OTHER_PLUGIN)
    setting = "target.process.python-os-plugin-path"
    goid = fixture.truth["chan_probes"][0]["goid"]
    out = hostrun.run_lldb(["-p", str(fixture.pid)], [f"settings set {setting} {plugin}", f"go-goroutine {goid}",
                                                      f"settings show {setting}"])
    assert out[1].strip().splitlines() == [
        f"error: gdbgomem: lldb has an OS plugin of its own loaded ({plugin}), which go-goroutine would replace "
        f"(settings clear {setting}, then go-goroutine again)"]
    assert str(plugin) in out[2]


def test_lldb_errors_are_one_line(running):
    fixture = running("goroutines", fixtures.go_versions()[-1])
    out = hostrun.run_lldb(["-p", str(fixture.pid)], ["go-goroutine 987654", "go-goroutine x", "go-goroutine"])
    assert out[0].strip().splitlines() == ["error: gdbgomem: no goroutine 987654 (list them with go-goroutines --all)"]
    assert out[1].strip().splitlines()[-1].startswith("error: gdbgomem: go-goroutine: argument goid")
    assert out[2].strip() == "no goroutine is selected"
    no_process = hostrun.run_lldb([str(fixture.binary)], ["go-goroutine 1"])[0]
    assert no_process.strip().splitlines()[-1].startswith("error: gdbgomem: no process")
    not_go = hostrun.run_lldb(["/bin/true"], ["go-goroutine 1"])[0]
    assert "error: gdbgomem: not a Go program" in not_go and "Traceback" not in not_go


def test_lldb_resuming_ends_it(ptrace_allowed):
    """The goroutine's thread lasts until the process runs: then it has moved on. lldb is stopped
    again by a SIGSTOP its own Python sends while `process continue` waits."""
    fixture = fixtures.start("goroutines", fixtures.go_versions()[-1])
    goid = fixture.truth["chan_probes"][0]["goid"]
    stop = f"script import os, signal, threading; threading.Timer(2, os.kill, ({fixture.pid}, signal.SIGSTOP)).start()"
    try:
        out = hostrun.run_lldb(["-p", str(fixture.pid)], [f"go-goroutine {goid}", stop, "process continue",
                                                          "go-goroutine", "thread list", f"go-goroutine {goid}", "bt"])
    finally:
        fixture.stop()
    assert "is it" in out[0] and "stopped" in out[2]
    assert out[3].strip() == "no goroutine is selected" and f"name = 'goroutine {goid}'" not in out[4]
    assert "is it" in out[5] and any(name == "main.chanWaiter" for _, name, _, _ in lldb_frames(out[6]))
