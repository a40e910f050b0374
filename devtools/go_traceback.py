"""Parse the runtime's own traceback (runtime.Stack, a SIGQUIT with GOTRACEBACK=crash): the oracle
the backtrace tests compare gdbgomem with, goroutine by goroutine and frame by frame."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

HEADER = re.compile(r"^goroutine (\d+)(?: gp=0x[0-9a-f]+ m=\S+(?: mp=0x[0-9a-f]+)?)? \[([^\]]*)\]:$")
POSITION = re.compile(r"^\t(.*):(\d+)(?: \+0x[0-9a-f]+)?(?: fp=0x[0-9a-f]+ sp=(0x[0-9a-f]+) pc=(0x[0-9a-f]+))?$")
ELIDED = re.compile(r"^\.\.\.(\d+) frames elided\.\.\.$")


@dataclass
class DumpedFrame:
    function: str
    file: str
    line: int
    inlined: bool                 # printed with (...) for arguments
    sp: Optional[int] = None      # physical frames, at GOTRACEBACK=system or crash
    pc: Optional[int] = None


@dataclass
class DumpedGoroutine:
    goid: int
    state: str                    # the header's brackets up to the first comma: "chan receive", "syscall"
    frames: List[DumpedFrame] = field(default_factory=list)
    elided: int = 0               # frames the runtime left out in the middle ("...N frames elided...")
    created_by: Optional[DumpedFrame] = None


def shown_by_runtime_stack(frames: List[dict]) -> List[dict]:
    """The frames (gdbgomem's JSON frames, innermost first) runtime.Stack prints: it runs at
    traceback level 1 (mprof.go sets m.traceback = 1), where showfuncinfo leaves out functions of
    package runtime other than exported ones, and wrappers unless they called a panic."""
    shown = []
    for i, frame in enumerate(frames):
        name = frame["function"] or ""
        callee = frames[i - 1]["function"] if i > 0 else None
        if frame["wrapper"] and callee not in ("runtime.gopanic", "runtime.sigpanic", "runtime.panicwrap"):
            continue
        if name == "runtime.gopanic" and i > 0:
            shown.append(frame)
        elif "." in name and (not name.startswith("runtime.") or name[len("runtime."):][:1].isupper()):
            shown.append(frame)
    return shown


def parse(text: str) -> Dict[int, DumpedGoroutine]:
    """Every goroutine of the first section of a dump (a crash dump's further sections are the
    Ms' g0 stacks, printed from inside their signal handlers); goroutine 0 left out."""
    goroutines: Dict[int, DumpedGoroutine] = {}
    current: Optional[DumpedGoroutine] = None
    pending: Optional[str] = None  # a function line waiting for its position line
    for line in text.split("\n-----", 1)[0].splitlines():
        header = HEADER.match(line)
        if header:
            current = goroutines[int(header.group(1))] = DumpedGoroutine(int(header.group(1)),
                                                                         header.group(2).split(",")[0])
            continue
        if current is None:
            continue
        elided = ELIDED.match(line)
        position = POSITION.match(line)
        if elided:
            current.elided = int(elided.group(1))
        elif position and pending is not None:
            sp, pc = position.group(3), position.group(4)
            frame = DumpedFrame(pending.rsplit("(", 1)[0].removeprefix("created by ").split(" in goroutine ")[0],
                                position.group(1), int(position.group(2)), pending.endswith("(...)"),
                                int(sp, 16) if sp else None, int(pc, 16) if pc else None)
            if pending.startswith("created by "):
                current.created_by = frame
            else:
                current.frames.append(frame)
            pending = None
        elif line and not line.startswith("\t"):
            pending = line if "(" in line or line.startswith("created by ") else None
    return {goid: g for goid, g in goroutines.items() if goid > 0}
