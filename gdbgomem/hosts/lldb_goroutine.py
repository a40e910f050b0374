"""go-goroutine GOID in lldb: lldb's own bt, frame select and register read inside a parked goroutine.

No register or memory of the process is written. lldb's Python OS plugin
(target.process.python-os-plugin-path) may add threads of its own making: the selected
goroutine becomes one more thread, "goroutine N", whose only registers are the saved pc and
sp (g.sched, or g.syscallpc/sp in a system call) and a frame pointer; lldb then unwinds its
stack itself, with the binary's own unwind tables and symbols. The plugin's threads are asked
for again at every stop, so after the process runs the goroutine is gone (it has moved on).

lldb 16 walks Go code with two rules: Go's .debug_frame, which says nothing of rbp (lldb keeps
the callee's), and, for a function that begins with `push rbp; mov rbp, rsp` (nosplit ones such
as runtime.chanrecv1), rbp + 16. So rbp must be what the first such function needs, which is
not always g.sched.bp. The frame pointer given is the first of a few candidates with which
lldb's frames equal the runtime's own unwinding (gdbgomem's, from the function table), and the
command says how far they agree when none does all the way. A running goroutine is on its
thread's stack already: that thread is selected instead.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import List, Optional, Tuple

import lldb  # type: ignore[import-not-found]

from gdbgomem.commands.goroutine_select import GoroutineSelectCommand, saved_position, state
from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report
from gdbgomem.render.terminal import sanitize
from gdbgomem.runtime.goroutines import Goroutine
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.stack_view import stack_of_goroutine
from gdbgomem.runtime.threads import thread_of_goroutine
from gdbgomem.runtime.unwinder import Frame

# lldb imports the plugin file by its path, as a module of that name; a directory of its own
# keeps the rest of gdbgomem/hosts (gdb.py, lldb.py) off sys.path
PLUGIN = Path(__file__).resolve().parent / "lldb_os" / "gdbgomem_goroutine_thread.py"
SETTING = "target.process.python-os-plugin-path"
# The goroutine thread's id: above any Linux thread id (pid_max is at most 2**22), readable
TID_BASE = 1_000_000_000
CANDIDATES = 8  # frame pointers tried (g.sched.bp, then those of the first frames)
# rip, rsp and rbp at offsets 0, 8, 16; DWARF (= eh_frame) numbers of x86-64
REGISTERS = {"sets": ["goroutine"], "registers": [
    {"name": name, "bitsize": 64, "offset": 8 * i, "encoding": "uint", "format": "hex", "set": 0,
     "gcc": number, "dwarf": number, "generic": generic}
    for i, (name, number, generic) in enumerate((("rip", 16, "pc"), ("rsp", 7, "sp"), ("rbp", 6, "fp")))]}


def is_goroutine_thread(tid: int) -> bool:
    """A thread this module made, not one of the process's."""
    return tid >= TID_BASE


class Selection:
    """The goroutine shown as a thread: of which process, at which stop, with which registers."""

    def __init__(self):
        self.goid: Optional[int] = None
        self.target = None           # the SBTarget, to unload the plugin from
        self.process_id: Optional[int] = None
        self.stop_id: Optional[int] = None
        self.registers: Tuple[int, int, int] = (0, 0, 0)  # rip, rsp, rbp
        self.return_to: Optional[int] = None  # the thread selected before, for --reset

    def current(self, process) -> bool:
        """Selected in this process, and the process has not run since."""
        return self.goid is not None and process.IsValid() and process.GetUniqueID() == self.process_id \
            and process.GetStopID() == self.stop_id

    @property
    def tid(self) -> int:
        return TID_BASE + (self.goid or 0)


SELECTED = Selection()


class GoroutineThreads:
    """lldb's OS plugin class (its interface: get_thread_info, get_register_info, get_register_data).

    The constructor must not touch the process: lldb builds this object while it rebuilds its
    thread list, and asking for the threads then fills the list before the plugin is in place."""

    def __init__(self, process):
        self._process = process

    def get_thread_info(self):
        if not SELECTED.current(self._process):
            return []
        return [{"tid": SELECTED.tid, "name": f"goroutine {SELECTED.goid}", "queue": "", "state": "stopped",
                 "stop_reason": "none"}]

    def get_register_info(self):
        return REGISTERS

    def get_register_data(self, tid):
        return struct.pack("<3Q", *SELECTED.registers)


class GoroutineCommand(GoroutineSelectCommand):
    """lldb's version: the goroutine becomes a thread of lldb's own thread list."""

    summary = "look into a goroutine with lldb's own bt, frame select and register read"
    description = """\
Make goroutine GOID a thread of lldb's own ("goroutine GOID"), live or on a core,
and select it: lldb's bt, frame select, frame info and register read then work
in it. No register or memory is written. A running goroutine's thread is
selected instead. Resuming the process, or --reset, ends it. Without GOID:
which goroutine is selected."""

    def select(self, rt, g):
        return select(rt, g)

    def reset(self):
        forget()

    def selected(self):
        target = SELECTED.target
        return SELECTED.goid if target is not None and SELECTED.current(target.GetProcess()) else None


def select(rt: GoRuntime, g: Goroutine) -> Report:
    """Show goroutine g's frames to lldb as a thread; what was done."""
    target = rt.target.sbtarget
    process = target.GetProcess()
    thread = thread_of_goroutine(rt, g)
    if g.status == "running" and thread is not None and thread.regs is not None:
        forget()
        process.SetSelectedThreadByID(thread.regs.tid)
        index = process.GetSelectedThread().GetIndexID()
        return Report({"thread_index": index, "thread_id": thread.regs.tid}).add(
            f"goroutine {g.goid} is running on thread {thread.procid}: lldb thread #{index} selected, its frames "
            "are the goroutine's")
    pc, sp = saved_position(g)
    if SELECTED.goid is None or not SELECTED.current(process):
        theirs = _plugin_in_place(target)
        if theirs and theirs != str(PLUGIN):  # the setting is one for all: ours would replace it
            raise GoMemError(f"lldb has an OS plugin of its own loaded ({sanitize(theirs)}), which go-goroutine "
                             "would replace", f"settings clear {SETTING}, then go-goroutine again")
        SELECTED.return_to = process.GetSelectedThread().GetThreadID()
    frames = stack_of_goroutine(rt, g, thread).frames
    want = [(f.pc, f.sp) for f in frames if not f.inlined]
    SELECTED.goid, SELECTED.target = g.goid, target
    SELECTED.process_id, SELECTED.stop_id = process.GetUniqueID(), process.GetStopID()
    best = (-1, 0)
    for bp in _frame_pointers(g, frames):
        SELECTED.registers = (pc, sp, bp)
        agreed = _agreement(_show(target), want)
        best = max(best, (agreed, bp), key=lambda b: b[0])
        if agreed == len(want):
            break
    if SELECTED.registers[2] != best[1]:
        SELECTED.registers = (pc, sp, best[1])
        _show(target)
    shown = process.GetThreadByID(SELECTED.tid)
    if not shown.IsValid():
        forget()
        raise GoMemError("lldb did not take the goroutine's thread from gdbgomem's OS plugin",
                         f"is {SETTING} set to another plugin?")
    process.SetSelectedThread(shown)
    said = f"goroutine {g.goid} {state(g)}: lldb thread #{shown.GetIndexID()} is it (go-goroutine --reset to leave)"
    if best[0] < len(want):
        said += f"; lldb's own unwinding agrees with the runtime's for its first {best[0]} of {len(want)} " \
                f"frames only (go-bt {g.goid} has them all)"
    return Report({"thread_index": shown.GetIndexID(), "thread_id": SELECTED.tid, "frames": len(want),
                   "frames_lldb_agrees": best[0]}).add(said)


def _frame_pointers(g: Goroutine, frames: List[Frame]) -> List[int]:
    """g.sched.bp, then the frame pointer of each of the first frames (a Go function with a frame
    saves its caller's rbp just below its return address, at sp + size_on_stack - 16): the innermost
    one's where lldb finds a frame by rbp from the start (no DWARF, or g.sched.bp is not its own,
    as in a system call), a later one's where lldb first needs rbp further up."""
    found = [g.sched_bp] + [f.sp + f.size_on_stack - 16 for f in frames
                            if not f.inlined and (f.size_on_stack or 0) >= 16]
    return list(dict.fromkeys(found))[:CANDIDATES]


def _agreement(thread, want: List[Tuple[int, int]]) -> int:
    """How many of the runtime's physical frames (pc, sp) lldb's thread shows, from the innermost on
    (lldb's frames of inlined calls left out, as want leaves them out)."""
    agreed, index = 0, 0
    while agreed < len(want) and thread is not None:
        frame = thread.GetFrameAtIndex(index)
        if not frame.IsValid():
            break
        index += 1
        if frame.IsInlined():
            continue
        if (frame.GetPC(), frame.GetSP()) != want[agreed]:
            break
        agreed += 1
    return agreed


def _show(target):
    """Make lldb load the plugin anew, which drops its thread list; the goroutine's thread, if any."""
    _set_plugin(target, str(PLUGIN))
    thread = target.GetProcess().GetThreadByID(SELECTED.tid)
    return thread if thread.IsValid() else None


def _plugin_in_place(target) -> str:
    """The OS plugin path lldb has set now ("" for none)."""
    result = lldb.SBCommandReturnObject()
    target.GetDebugger().GetCommandInterpreter().HandleCommand(f"settings show {SETTING}", result)
    return (result.GetOutput() or "").partition("=")[2].strip().strip('"')


def _set_plugin(target, path: str) -> None:
    result = lldb.SBCommandReturnObject()
    quoted = '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'
    target.GetDebugger().GetCommandInterpreter().HandleCommand(f"settings set {SETTING} {quoted}", result)
    if not result.Succeeded():
        raise GoMemError(f"lldb refused its OS plugin setting: {result.GetError().strip()}",
                         f"see `settings show {SETTING}`")


def forget() -> None:
    """Back to the threads' own list: the plugin unloaded, the thread selected before reselected."""
    target, return_to = SELECTED.target, SELECTED.return_to
    SELECTED.__init__()
    if target is None or not target.IsValid():
        return
    _set_plugin(target, "")
    if return_to is not None:
        target.GetProcess().SetSelectedThreadByID(return_to)
