"""Every command, declared once; each host (gdbgomem.hosts) registers each of COMMANDS.

A new command: a Command subclass in the module of its subject, and one entry below.
"""

from __future__ import annotations

from typing import List

from gdbgomem.commands.arenas import ArenasCommand
from gdbgomem.commands.base import Command
from gdbgomem.commands.goroutines import GoroutineCommand, GoroutinesCommand
from gdbgomem.commands.heap import HeapCommand, SizeClassesCommand
from gdbgomem.commands.info import InfoCommand
from gdbgomem.commands.maps import MapsCommand
from gdbgomem.commands.offheap import OffHeapCommand
from gdbgomem.commands.pages import PagesCommand
from gdbgomem.commands.report import ReportCommand
from gdbgomem.commands.roots import PathCommand, RootsCommand
from gdbgomem.commands.spans import SpanCommand, SpansCommand
from gdbgomem.commands.stacks import BacktraceCommand, StackCommand
from gdbgomem.commands.threads import ThreadsCommand
from gdbgomem.commands.types import TypesCommand
from gdbgomem.render.report import Report, Styled, Table


class HelpCommand(Command):
    name = "go-help"
    summary = "list the gdbgomem commands"
    needs_go = False

    def run(self, rt, args):
        report = Report({"commands": [{"name": c.name, "summary": c.summary} for c in COMMANDS]})
        report.add(Table(["COMMAND", "WHAT IT SHOWS"], [[Styled(c.name, "function"), c.summary] for c in COMMANDS]))
        report.add("Every command takes --help and --json. In gdb also: go-goroutine GOID (gdb's own bt, frame and "
                   "print inside a goroutine) and go-watch-stack GOID (its stack's growth as it happens, live).")
        return report


COMMANDS: List[Command] = [
    InfoCommand(), GoroutinesCommand(), GoroutineCommand(), ThreadsCommand(), StackCommand(), BacktraceCommand(),
    HeapCommand(), SpansCommand(), SpanCommand(), ArenasCommand(), PagesCommand(), SizeClassesCommand(),
    OffHeapCommand(), MapsCommand(), TypesCommand(), RootsCommand(), PathCommand(), ReportCommand(), HelpCommand(),
]
