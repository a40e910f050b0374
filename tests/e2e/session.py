"""One gdb batch session per Go version over the goroutines fixture, its outputs cached."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List

from devtools import fixtures, gdbrun


@dataclass
class GoroutinesSession:
    """Everything the foundation tests look at, collected by one attach."""

    fixture: "fixtures.RunningFixture"
    outputs: Dict[str, str] = field(default_factory=dict)

    @property
    def truth(self) -> dict:
        return self.fixture.truth

    def json(self, command: str) -> dict:
        return gdbrun.json_of(self.outputs[command])


def commands_for(truth: dict) -> List[str]:
    deep, locked = truth["deep"]["goid"], truth["locked"]["goid"]
    return [
        "go-info --json", "go-goroutines --json", "go-goroutines --all --json", "go-threads --json",
        "go-stack --json", f"go-stack {deep} --json", f"go-g {locked} --json",
        f"go-stack {truth['chan_probes'][0]['goid']} --json", "go-stack --m 0 --json",
        "python import os; print('TASKS', sorted(int(t) for t in os.listdir('/proc/%d/task' % gdb.selected_inferior().pid)))",
        "go-goroutines", "go-threads", f"go-stack {deep}",
    ]


def collect(fixture, extra: List[str] = ()) -> GoroutinesSession:
    commands = commands_for(fixture.truth) + list(extra)
    parts = gdbrun.run_gdb(gdbrun.attach(fixture.pid), commands)
    return GoroutinesSession(fixture, {c: parts[i] for i, c in enumerate(commands)})


_SESSIONS: Dict[str, GoroutinesSession] = {}


def session_for(running, version: str) -> GoroutinesSession:
    """The cached session for a version (the fixture is started by conftest's `running`)."""
    if version not in _SESSIONS:
        fixture = running("goroutines", version)
        peer = str(fixtures.goroot(version) / "src" / "runtime" / "runtime-gdb.py")
        probe = fixture.truth["chan_probes"][0]["goid"]
        _SESSIONS[version] = collect(fixture, ["go-bt --all --json", f"go-bt {probe} --json", "go-bt --all",
                                               f"source {peer}", "info goroutines", f"goroutine {probe} bt"])
    return _SESSIONS[version]


PEER_LINE = re.compile(r"^([* ])\s*(\d+)\s+(\S+)\s+(\S+)?")


def parse_peer(text: str) -> Dict[int, dict]:
    """runtime-gdb.py's `info goroutines`: '* 1 running runtime.futex' per goroutine."""
    out = {}
    for line in text.splitlines():
        match = PEER_LINE.match(line)
        if match:
            out[int(match.group(2))] = {"has_m": match.group(1) == "*", "status": match.group(3),
                                        "function": match.group(4)}
    return out
