"""The end-to-end harness: each fixture started once per Go release and looked at by every host.

A Look is what one host printed for a fixture's commands: gdb or lldb attached to the live
process, or gdb, lldb or the standalone reader on a gcore core. The core is written at the
end of the live gdb session, so it holds the very state gdb looked at (the runtime's own
goroutines move on between two attaches). Looks are made on first use and kept; a release's
cores are deleted when the next release's first core is written (pytest runs one Go release
after the other), so at most two cores sit on disk.
"""

from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from devtools import fixtures, hostrun
from devtools.hostrun import HOSTS  # noqa: F401  (the hosts the truth tests run on)

TASKS = {  # the process's threads as /proc lists them, printed inside the host's own session
    "gdb": "python import os; print('TASKS', sorted(int(t) for t in "
           "os.listdir('/proc/%d/task' % gdb.selected_inferior().pid)))",
    "lldb": "script import os; print('TASKS', sorted(int(t) for t in "
            "os.listdir('/proc/%d/task' % lldb.debugger.GetSelectedTarget().GetProcess().GetProcessID())))",
}
CORES = fixtures.CACHE / "e2e-cores"


def goroutines_commands(truth: dict) -> List[str]:
    deep, locked = truth["deep"]["goid"], truth["locked"]["goid"]
    probe = truth["chan_probes"][0]["goid"]
    return ["go-info --json", "go-goroutines --json", "go-goroutines --all --json", "go-threads --json",
            "go-stack --json", f"go-stack {deep} --json", f"go-g {locked} --json", f"go-stack {probe} --json",
            "go-stack --m 0 --json", "go-bt --all --json", f"go-bt {probe} --json",
            f"go-g {truth['labeled']['goid']} --json", "go-goroutines --label job=fixture --label shard=3 --json",
            "go-goroutines --label job=other --json", "go-bt --all --group start --json",
            "go-bt --all --group label:job --json", "go-bt --all --group go --json", "go-bt --all --group start",
            f"go-stack {probe} --explain --json", f"go-stack {deep} --explain", f"go-stack {deep} --explain --json",
            "go-goroutines", "go-threads", f"go-stack {deep}", "go-bt --all"]


def heap_commands(truth: dict) -> List[str]:
    addresses = [s["addr"] for s in truth["samples"]] + truth["freed_addrs"] + truth["freed_ptr_addrs"]
    commands = ["go-heap --json", "go-spans --json", "go-spans --json --state free", "go-sizeclasses --json",
                "go-arenas --json", "go-spans --summary --json", "go-info --json", "go-pages --json",
                f"go-span {truth['samples'][1]['addr']} --json", "go-heap", "go-spans --summary", "go-arenas --map",
                "go-pages", "go-sizeclasses", "go-spans --state manual", "go-spans --json --state manual",
                "go-arenas --map --json", "go-maps --json", "go-maps runtime.mheap_ --json", "go-maps",
                "go-span runtime.mheap_", "go-offheap --json", "go-offheap", "go-arenas --explain --json",
                "go-arenas --explain", "go-arenas --resident --json", "go-arenas --map --resident",
                "go-pages --find 40 --json", "go-pages --find 40"]
    commands += [f"go-span {s['addr']} --explain --json" for s in truth["samples"]]
    commands += [f"go-span {a} --json --bytes 64" for a in addresses]
    commands += [f"go-pages --json --level 4 --chunk {a}" for a in chunk_probes(truth)]
    return commands


def chunk_probes(truth: dict) -> List[int]:
    """One sample address in each 4 MiB chunk that holds a sample (enough to cover the small heap)."""
    seen: Dict[int, int] = {}
    for sample in truth["samples"]:
        seen.setdefault(sample["addr"] >> 22, sample["addr"])
    return list(seen.values())


def owners_commands(truth: dict) -> List[str]:
    payload, node, tag = truth["payload_addr"], truth["node_addr"], truth["tag_addr"]
    return ["go-types --json", "go-types", "go-types --top 0", "go-spans --json", "go-roots --json", "go-roots",
            f"go-path {payload} --json", f"go-path {node} --json", f"go-path {tag} --json", f"go-path {payload}",
            f"go-span {tag} --infer --json",
            "go-path 0x10"]


COMMANDS = {"goroutines": goroutines_commands, "heap": heap_commands, "owners": owners_commands}


def gdb_only_commands(name: str, fixture) -> List[str]:
    """Go's own runtime-gdb.py, the peer the goroutine tests cross-check with; on the heap fixture,
    the pointer mask of its GC-program type through gdbgomem's Python API (type_mask_command)."""
    if name == "heap":
        return [type_mask_command(fixture.truth)]
    if name != "goroutines":
        return []
    peer = fixtures.goroot(fixture.version) / "src" / "runtime" / "runtime-gdb.py"
    probe = fixture.truth["chan_probes"][0]["goid"]
    return [f"source {peer}", "info goroutines", f"goroutine {probe} bt"]


def type_mask_command(truth: dict) -> str:
    """gdb prints MASK and the pointer words of gcProgObj's abi.Type, 1 per pointer, as
    abi_types.type_pointer_mask reads them from the type itself (not from any object)."""
    words = next(s["size"] for s in truth["samples"] if s["kind"] == "gcprog") // 8
    return ("python import gdbgomem; from gdbgomem.runtime.abi_types import type_pointer_mask; "
            f"m = type_pointer_mask(gdbgomem.current().rt, {truth['gcprog_type']}, {words}); "
            "print('MASK', None if m is None else ''.join('1' if b else '0' for b in m))")


@dataclass
class Look:
    """What one host printed for each command, on the live process or on its core."""

    host: str
    on_core: bool
    fixture: "fixtures.RunningFixture"
    outputs: Dict[str, str]
    tasks: List[int]  # the process's threads when the look was taken (for a core: when it was written)
    build_kind: str   # how the fixture was built (devtools.fixtures.BUILDS)

    @property
    def truth(self) -> dict:
        return self.fixture.truth

    def json(self, command: str) -> dict:
        return hostrun.json_of(self.outputs[command])


class Subject:
    """One running fixture of one Go release, and every look taken at it."""

    def __init__(self, name: str, fixture, build_kind: str):
        self.name, self.fixture, self.build_kind = name, fixture, build_kind
        self.commands = COMMANDS[name](fixture.truth)
        self._looks: Dict[Tuple[str, bool], Look] = {}
        self.core: Optional[Path] = None

    def look(self, host: str, on_core: bool = False) -> Look:
        key = (host, on_core)
        if key not in self._looks:
            if on_core or host == "standalone":
                self._looks[key] = self._core_look(host)
            else:
                self._looks[key] = self._live_look(host)
        return self._looks[key]

    def _live_look(self, host: str) -> Look:
        commands = list(self.commands) + [TASKS[host]]
        if host == "gdb":
            self.core = _core_path(f"{self.name}-{self.build_kind}", self.fixture.version)
            commands += gdb_only_commands(self.name, self.fixture) + [f"gcore {self.core}"]
        out = hostrun.run_host(host, commands, pid=self.fixture.pid)
        outputs = {c: out[i] for i, c in enumerate(commands)}
        if host == "gdb":
            assert self.core.exists(), f"gcore wrote no core: {out[len(commands) - 1][-2000:]}"
        return Look(host, False, self.fixture, outputs, _tasks(outputs[TASKS[host]]), self.build_kind)

    def core_file(self) -> Path:
        """The core of exactly what gdb's live look saw, written by that look if need be."""
        if self.core is None or not self.core.exists():  # never written, or deleted for another release's
            self._looks.pop(("gdb", False), None)
        self.look("gdb")
        return self.core

    def _core_look(self, host: str) -> Look:
        core = self.core_file()
        out = hostrun.run_host(host, self.commands, binary=self.fixture.binary, core=core)
        return Look(host, True, self.fixture, {c: out[i] for i, c in enumerate(self.commands)},
                    self.look("gdb").tasks, self.build_kind)


_SUBJECTS: Dict[Tuple[str, str, str], Subject] = {}
BUILDS = tuple(fixtures.BUILDS)  # every truth test runs on each way a fixture is built


def subject(running, name: str, version: str, build_kind: str = "debug") -> Subject:
    """The cached Subject of fixture `name` built by Go `version` as `build_kind` (one of
    devtools.fixtures.BUILDS), started by conftest's `running`."""
    key = (name, version, build_kind)
    if key not in _SUBJECTS:
        _SUBJECTS[key] = Subject(name, running(name, version, build_kind=build_kind), build_kind)
    return _SUBJECTS[key]


def _core_path(name: str, version: str) -> Path:
    """Where the core of a fixture goes; the cores of other releases are deleted first
    (about 1.2 GB each: Go's reserved heap address space is dumped too)."""
    CORES.mkdir(parents=True, exist_ok=True)
    for other in CORES.iterdir():
        if not other.name.endswith(f"-{version}.core"):
            other.unlink()
    for s in _SUBJECTS.values():  # looks at a deleted core stay valid; new ones need a new core
        if s.core is not None and not s.core.exists():
            s.core = None
    return CORES / f"{name}-{version}.core"


def _tasks(text: str) -> List[int]:
    """The printed list (lldb echoes the command line before its output)."""
    line = next(line for line in text.splitlines() if line.startswith("TASKS "))
    return ast.literal_eval(line[len("TASKS "):])


def remove_cores() -> None:
    shutil.rmtree(CORES, ignore_errors=True)


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
