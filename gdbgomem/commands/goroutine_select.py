"""go-goroutine [GOID | --reset]: the arguments and answers every host shares.

What selecting a goroutine means differs per debugger (gdb: an unwinder under the thread's
own frame; lldb: a thread of its own), so each host subclasses this with the three actions.
"""

from __future__ import annotations

from typing import Optional, Tuple

from gdbgomem.commands.base import Command, positive_int
from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report
from gdbgomem.runtime.goroutines import Goroutine, find_goroutine
from gdbgomem.runtime.goruntime import GoRuntime


class GoroutineSelectCommand(Command):
    """Subclasses set summary and description, and implement select, reset and selected."""

    name = "go-goroutine"

    def add_arguments(self, parser):
        parser.add_argument("goid", nargs="?", type=positive_int, help="the goroutine (none: say which is selected)")
        parser.add_argument("--reset", action="store_true", help="back to the threads' own frames")

    def run(self, rt, args):
        if args.reset:
            self.reset()
            return Report({"goid": None}).add("back to the threads' own frames")
        if args.goid is None:
            goid = self.selected()
            said = f"goroutine {goid} is selected" if goid is not None else "no goroutine is selected"
            return Report({"goid": goid}).add(said)
        report = self.select(rt, parked_or_running(rt, args.goid))
        report.data = {"goid": args.goid, **report.data}
        return report

    def select(self, rt: GoRuntime, g: Goroutine) -> Report:
        """Show goroutine g's frames to the debugger's own commands; what was done."""
        raise NotImplementedError

    def reset(self) -> None:
        """Back to the threads' own frames."""
        raise NotImplementedError

    def selected(self) -> Optional[int]:
        """The goid whose frames the debugger shows, if any."""
        raise NotImplementedError


def parked_or_running(rt: GoRuntime, goid: int) -> Goroutine:
    """Goroutine goid, if it has frames to look at."""
    g = find_goroutine(rt, goid)
    if g.is_dead:
        raise GoMemError(f"goroutine {goid} is {g.status}: it has no frames", "go-goroutines lists the live ones")
    return g


def saved_position(g: Goroutine) -> Tuple[int, int]:
    """(pc, sp) a parked goroutine resumes from, which a debugger unwinds its frames from."""
    pc, sp = g.saved_position
    if not pc or not sp:
        raise GoMemError(f"goroutine {g.goid} has no saved position ({g.status})", "go-g shows what it has")
    return pc, sp


def state(g: Goroutine) -> str:
    """[waiting, chan receive] as the runtime's traceback heads a goroutine."""
    return f"[{g.status}{', ' + g.wait_reason if g.wait_reason else ''}]"
