"""go-goroutine GOID: gdb's own bt, frame, up, down, info locals and print inside a parked goroutine.

No register is written (a core could not take it anyway). A Python unwinder claims the
selected thread's innermost frame and says its caller's registers are the goroutine's saved
ones (g.sched, or g.syscallpc/sp in a system call): gdb then unwinds the goroutine's stack
itself, with the binary's DWARF, so every gdb command that reads frames works there. gdb
refuses a caller whose stack lies below its callee's ("previous frame inner to this frame"),
and a goroutine's stack usually lies below the thread's; the claimed frame's id is therefore
put just below the goroutine's stack pointer. That frame is the thread's own and `bt` leaves
it out (a frame filter), as it leaves out what lies past runtime.goexit: the goroutine's
frames are #1 and up. A running goroutine is on its thread's stack already: its thread is
selected instead. Resuming the process, or `go-goroutine --reset`, returns to the threads'
own frames.
"""

from __future__ import annotations

from typing import Optional

import gdb  # type: ignore[import-not-found]
from gdb.unwinder import Unwinder, register_unwinder  # type: ignore[import-not-found]

from gdbgomem.commands.goroutine_select import GoroutineSelectCommand, saved_position, state
from gdbgomem.render.report import Report
from gdbgomem.runtime.goroutines import Goroutine
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.threads import thread_of_goroutine

SUMMARY = "look into a goroutine with gdb's own bt, frame, up, down, info locals and print"
DESCRIPTION = """\
Make gdb's own frame commands (bt, frame N, up, down, info frame, info locals,
print) work inside goroutine GOID, live or on a core, without writing any
register. Its frames are #1 and up; #0 stays the thread's own, left out of bt.
A running goroutine's thread is selected instead. Resuming the process, or
--reset, returns to the threads' own frames. Without GOID: which is selected."""


class Selection:
    """The goroutine gdb's frames show, on which gdb thread; empty when none is."""

    def __init__(self):
        self.clear()

    def clear(self) -> None:
        self.goid: Optional[int] = None
        self.thread: Optional[int] = None
        self.registers = {}

    def active(self) -> bool:
        thread = gdb.selected_thread() if self.goid is not None else None
        return thread is not None and thread.num == self.thread


SELECTED = Selection()


class _FrameId:
    def __init__(self, sp, pc):
        self.sp, self.pc = sp, pc


class GoroutineUnwinder(Unwinder):
    """The selected thread's innermost frame, whose caller is the goroutine's top frame."""

    def __init__(self):
        super().__init__("gdbgomem-goroutine")

    def __call__(self, pending):
        if pending.level() != 0 or not SELECTED.active():
            return None
        sp, pc = pending.read_register("rsp"), pending.read_register("rip")
        info = pending.create_unwind_info(_FrameId(gdb.Value(SELECTED.registers["rsp"] - 16).cast(sp.type), pc))
        for register, value in SELECTED.registers.items():
            info.add_saved_register(register, gdb.Value(value).cast(pending.read_register(register).type))
        return info


class GoroutineFrameFilter:
    """bt shows the goroutine's frames only: not the thread's own first, nothing past goexit."""

    def __init__(self):
        self.name, self.priority, self.enabled = "gdbgomem-goroutine", 100, True
        gdb.frame_filters[self.name] = self

    def filter(self, frames):
        if not SELECTED.active():
            return frames
        return _goroutine_frames(frames)


def _goroutine_frames(frames):
    for decorator in frames:
        frame = decorator.inferior_frame()
        if frame.level() == 0:
            continue
        yield decorator
        if frame.name() == "runtime.goexit":
            return


class GoroutineCommand(GoroutineSelectCommand):
    """gdb's version: it changes what gdb's own frame commands see."""

    summary = SUMMARY
    description = DESCRIPTION

    def select(self, rt, g):
        return Report({}).add(select(rt, g))

    def reset(self):
        forget()

    def selected(self):
        return SELECTED.goid


def select(rt: GoRuntime, g: Goroutine) -> str:
    """Show goroutine g's frames to gdb; what was done, in words."""
    thread = thread_of_goroutine(rt, g)
    if g.status == "running" and thread is not None and thread.regs is not None:
        SELECTED.clear()
        gdb.invalidate_cached_frames()
        gdb.execute(f"thread {thread.regs.debugger_id}", to_string=True)
        return f"goroutine {g.goid} is running on thread {thread.procid}: gdb thread {thread.regs.debugger_id} " \
               "selected, its frames are the goroutine's"
    pc, sp = saved_position(g)
    SELECTED.goid, SELECTED.thread = g.goid, gdb.selected_thread().num
    SELECTED.registers = {"rip": pc, "rsp": sp, "rbp": g.sched_bp}
    gdb.invalidate_cached_frames()
    top = gdb.newest_frame().older()
    if top is not None:
        top.select()
    return f"goroutine {g.goid} {state(g)}: gdb's frames #1 and up are its own (go-goroutine --reset to leave)"


def forget(_event=None) -> None:
    """The process runs again (or another program is loaded): its goroutines moved on."""
    if SELECTED.goid is not None:
        SELECTED.clear()
        gdb.invalidate_cached_frames()


def register() -> None:
    register_unwinder(None, GoroutineUnwinder(), replace=True)
    GoroutineFrameFilter()
