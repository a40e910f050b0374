"""go-watch-stack on a goroutine that grows its stack after gdb stopped the program: every growth
is logged, the bounds chain from one to the next and end at the goroutine's own final stack,
which holds the local its deepest frame reported; on a core the command refuses in one line."""

from __future__ import annotations

import json
import re
import select

import pytest

from devtools import fixtures, hostrun

pytestmark = pytest.mark.e2e
LINE = re.compile(r"^goroutine (\d+)'s stack grew (\S+ \S+) -> (\S+ \S+) \((\S+) overflowed it\)\n"
                  r"  \[(0x[0-9a-f]+), (0x[0-9a-f]+)\) -> \[(0x[0-9a-f]+), (0x[0-9a-f]+)\)$", re.M)


def test_watch_stack_logs_each_growth(ptrace_allowed, go_version, tmp_path):
    fixture = fixtures.start("stackgrow", go_version)
    goid, core = fixture.truth["goid"], tmp_path / "stackgrow.core"
    try:
        commands = ["handle SIGUSR1 nostop noprint pass", f"go-g {goid} --json", f"go-watch-stack {goid}",
                    f"python import os, signal; os.kill({fixture.pid}, signal.SIGUSR1)", "continue",
                    f"go-g {goid} --json", "go-watch-stack --json", "go-watch-stack --stop",
                    "go-watch-stack --json", f"gcore {core}"]
        out = hostrun.run_gdb(hostrun.attach(fixture.pid), commands)
        assert select.select([fixture.process.stdout], [], [], 60)[0], "the fixture reported no growth"
        grown = json.loads(fixture.process.stdout.readline())["grown"]
    finally:
        fixture.stop()
    before, after = hostrun.json_of(out[1]), hostrun.json_of(out[5])
    assert f"watching goroutine {goid}'s stack" in out[2]
    growths = [m.groups() for m in LINE.finditer(out[4])]
    assert len(growths) >= 3, out[4]  # 100 frames of 1 KiB from at most 8 KiB: 8 -> 16 -> ... -> 128 KiB
    assert max(len(line) for line in out[4].splitlines() if line.startswith(("goroutine", "  "))) <= 80
    bounds = [(before["stack_lo"], before["stack_hi"])]
    for g, _, _, function, old_lo, old_hi, new_lo, new_hi in growths:
        assert int(g) == goid and function == "main.descend"
        assert (int(old_lo, 16), int(old_hi, 16)) == bounds[-1]  # each growth starts where the last ended
        bounds.append((int(new_lo, 16), int(new_hi, 16)))
        assert bounds[-1][1] - bounds[-1][0] == 2 * (bounds[-2][1] - bounds[-2][0])  # newstack doubles
    assert bounds[-1] == (after["stack_lo"], after["stack_hi"])  # the runtime's own final bounds
    assert after["stack_lo"] <= grown["deep_local"] < after["stack_hi"]
    assert hostrun.json_of(out[6])["goids"] == [goid] and len(hostrun.json_of(out[6])["breakpoints"]) >= 2
    assert hostrun.json_of(out[8]) == {"schema_version": 2, "goids": [], "breakpoints": []}
    on_core = hostrun.run_gdb([str(fixture.binary), str(core)], [f"go-watch-stack {goid}"])[0]
    assert on_core.strip().splitlines() == ["gdbgomem: go-watch-stack needs a running process: a core's stacks "
                                            "never grow again (attach gdb to the live program)"]
