"""go-watch-stack GOID: log a goroutine's stack growths as they happen (gdb, live process).

Two kinds of internal breakpoints, set and removed by the command, never by the user: one at
runtime.copystack's entry, which notes the goroutine, its old bounds, the size asked for and
the function that overflowed, and one at each of its returns, which reads the new bounds and
prints the line. Each answers "do not stop" to gdb, so the program runs on; nothing of the
process is written but the breakpoints' own instructions, which gdb inserts and removes.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Set

import gdb  # type: ignore[import-not-found]

from gdbgomem.commands.base import Command, positive_int
from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report
from gdbgomem.render.text import hexaddr, humanize
from gdbgomem.runtime.goroutines import find_goroutine
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.stack_growth import Growth, copystack_sites, growth_at_entry, growth_done

NAME = "go-watch-stack"


def growth_lines(growth: Growth, width: int = 80) -> List[str]:
    """What happened and the bounds before and after, in lines of at most width columns
    (the function's name on a line of its own when it is too long to share one)."""
    old = growth.old_hi - growth.old_lo
    what = "grew" if growth.new_size > old else "shrank"
    head = f"goroutine {growth.goid}'s stack {what} {humanize(old)} -> {humanize(growth.new_size)}"
    new = f"[{hexaddr(growth.new_lo)}, {hexaddr(growth.new_hi)})" if growth.new_lo is not None else "?"
    out = [head, f"  [{hexaddr(growth.old_lo)}, {hexaddr(growth.old_hi)}) -> {new}"]
    if growth.function and growth.new_size > old:
        cause = f"({growth.function} overflowed it)"
        if len(head) + 1 + len(cause) <= width:
            out[0] = f"{head} {cause}"
        else:
            out.insert(1, f"  {cause}")
    return out


class _Site(gdb.Breakpoint):
    """An internal breakpoint that calls back and lets the program run on."""

    def __init__(self, address: int, callback):
        super().__init__(f"*0x{address:x}", internal=True)
        self.silent = True
        self.callback = callback

    def stop(self):
        try:
            self.callback()
        except Exception as exc:  # a failure of ours must not stop the user's program
            gdb.write(f"gdbgomem: go-watch-stack: {type(exc).__name__}: {exc}\n")
        return False


class Watch:
    """The goroutines watched, the breakpoints, and the growths under way per thread."""

    def __init__(self):
        self.rt: Optional[GoRuntime] = None
        self.goids: Set[int] = set()
        self.sites: List[_Site] = []
        self.pending: Dict[int, Growth] = {}

    def start(self, rt: GoRuntime, goid: int) -> None:
        if not self.sites:
            entry, returns = copystack_sites(rt)
            if not entry or not returns:
                raise GoMemError("runtime.copystack was not found in the program's text",
                                 "is it a Go program of 1.21 or later?")
            self.sites = [_Site(entry, self._entered)] + [_Site(at, self._returned) for at in returns]
        self.rt = rt
        self.goids.add(goid)

    def stop(self) -> None:
        for site in self.sites:
            if site.is_valid():
                site.delete()
        self.sites, self.pending, self.goids = [], {}, set()

    def _entered(self) -> None:
        frame = gdb.selected_frame()
        g, size = (int(frame.read_register(r)) & ((1 << 64) - 1) for r in ("rax", "rbx"))
        growth = growth_at_entry(self.rt, g, size)
        if growth is not None and growth.goid in self.goids:
            self.pending[gdb.selected_thread().num] = growth

    def _returned(self) -> None:
        growth = self.pending.pop(gdb.selected_thread().num, None)
        if growth is not None:
            gdb.write("".join(f"{line}\n" for line in growth_lines(growth_done(self.rt, growth))))


WATCH = Watch()


class WatchStackCommand(Command):
    """gdb only: it places breakpoints, which the offline reader and cores cannot have."""

    name = NAME
    summary = "log each stack growth of a goroutine as it happens (live process, gdb)"
    description = ("Log every growth of goroutine GOID's stack while the program runs: the old and\n"
                   "new bounds, the new size and the function whose prologue asked for more stack.\n"
                   "gdb stops at runtime.copystack's entry and returns on internal breakpoints of\n"
                   "its own, prints a line and lets the program run on; nothing else is written.\n"
                   "Several goroutines can be watched; --stop removes the breakpoints. Live only.\n"
                   "JSON: goids (watched), breakpoints (their addresses).")

    def add_arguments(self, parser):
        parser.add_argument("goid", nargs="?", type=positive_int, help="the goroutine to watch")
        parser.add_argument("--stop", action="store_true", help="stop watching and remove the breakpoints")

    def run(self, rt, args):
        if args.stop:
            WATCH.stop()
            return Report({"goids": [], "breakpoints": []}).add("no longer watching stacks")
        if rt.target.is_core:
            raise GoMemError("go-watch-stack needs a running process: a core's stacks never grow again",
                             "attach gdb to the live program")
        if args.goid is not None:
            g = find_goroutine(rt, args.goid)
            if g.is_dead:
                raise GoMemError(f"goroutine {args.goid} is {g.status}", "go-goroutines lists the live ones")
            WATCH.start(rt, args.goid)
        report = Report({"goids": sorted(WATCH.goids), "breakpoints": [s.location for s in WATCH.sites]})
        if args.goid is not None:
            report.add(f"watching goroutine {args.goid}'s stack, now {humanize(g.stack_size)} at "
                       f"[{hexaddr(g.stack_lo)}, {hexaddr(g.stack_hi)}): each growth is printed as the program "
                       f"runs ({NAME} --stop ends it)")
        else:
            report.add(f"watching {', '.join(map(str, sorted(WATCH.goids)))}" if WATCH.goids else "watching no stack")
        return report


def forget(_event=None) -> None:
    """The program is gone: its breakpoints went with it."""
    WATCH.stop()
