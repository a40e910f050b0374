"""Registers every gdbgomem command with gdb. Import this module inside gdb.

Owns the GoProcess cache: one per inferior, its snapshot dropped whenever the
inferior resumes, and dropped whole when the program or core changes.
"""

from __future__ import annotations

import os
import traceback

import gdb  # type: ignore[import-not-found]

from gdbgomem.commands import COMMANDS
from gdbgomem.commands.base import execute
from gdbgomem.errors import GoMemError
from gdbgomem.render.text import color_wanted
from gdbgomem.runtime.process import GoProcess
from gdbgomem.target.gdb import GdbTarget

_processes = {}


def _key(inferior):
    return inferior.num, inferior.pid, inferior.progspace.filename


def current_process() -> GoProcess:
    inferior = gdb.selected_inferior()
    key = _key(inferior)
    if key not in _processes:
        _processes.clear()
        _processes[key] = GoProcess(GdbTarget(inferior))
    return _processes[key]


def _on_resume(_event=None):
    for proc in _processes.values():
        proc.invalidate()


def _on_program_change(_event=None):
    _processes.clear()


class ColorParameter(gdb.Parameter):
    """Colors in gdbgomem output: auto (only on a terminal, never with NO_COLOR), on or off."""

    set_doc = "Set whether gdbgomem colors its output."
    show_doc = "Show whether gdbgomem colors its output."

    def __init__(self):
        super().__init__("gdbgomem-color", gdb.COMMAND_DATA, gdb.PARAM_ENUM, ["auto", "on", "off"])
        self.value = "auto"


class DebugParameter(gdb.Parameter):
    """Print Python tracebacks of internal errors (for bug reports)."""

    set_doc = "Set whether gdbgomem prints tracebacks of internal errors."
    show_doc = "Show whether gdbgomem prints tracebacks of internal errors."

    def __init__(self):
        super().__init__("gdbgomem-debug", gdb.COMMAND_MAINTENANCE, gdb.PARAM_BOOLEAN)
        self.value = False


_color = ColorParameter()
_debug = DebugParameter()


class GdbCommand(gdb.Command):
    """One gdbgomem command as a gdb command; the docstring is set per instance."""

    def __init__(self, command):
        self.__doc__ = f"{command.summary}\nUsage: {command.name} --help for the options."
        super().__init__(command.name, gdb.COMMAND_DATA, gdb.COMPLETE_NONE)
        self.command = command

    def invoke(self, argument, from_tty):
        try:
            color = color_wanted(_color.value, os.isatty(1))
            out = execute(self.command, argument, current_process, color)
        except GoMemError as exc:
            raise gdb.GdbError(f"gdbgomem: {exc}") from None
        except gdb.GdbError:
            raise
        except KeyboardInterrupt:
            raise gdb.GdbError("gdbgomem: interrupted") from None
        except Exception as exc:  # an internal error must not take gdb down or print a traceback
            if _debug.value:
                traceback.print_exc()
            raise gdb.GdbError(f"gdbgomem: internal error in {self.command.name}: {type(exc).__name__}: {exc} "
                               "(set gdbgomem-debug on for the traceback)") from None
        gdb.write(out)
        gdb.write("\n")


def register() -> None:
    for command in COMMANDS:
        GdbCommand(command)
    gdb.events.cont.connect(_on_resume)
    gdb.events.new_objfile.connect(_on_program_change)
    gdb.events.clear_objfiles.connect(_on_program_change)
    gdb.events.exited.connect(_on_program_change)
    if hasattr(gdb.events, "inferior_call"):
        gdb.events.inferior_call.connect(_on_resume)
    if hasattr(gdb.events, "memory_changed"):
        gdb.events.memory_changed.connect(_on_resume)


register()
