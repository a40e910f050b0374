"""Registers every gdbgomem command with lldb: `command script import gdbgomem.frontends.lldb`.

Same names, arguments, help, text and JSON as in gdb. One GoProcess per lldb
target; its snapshot is dropped whenever the process has stopped again since.
"""

from __future__ import annotations

import os
import traceback


from gdbgomem.commands import COMMANDS
from gdbgomem.commands.base import execute
from gdbgomem.errors import GoMemError
from gdbgomem.render.text import color_wanted
from gdbgomem.runtime.process import GoProcess
from gdbgomem.target.lldb import LldbTarget

_processes = {}


def current_process(debugger) -> GoProcess:
    target = debugger.GetSelectedTarget()
    if not target.IsValid():
        raise GoMemError("no target", "load a Go program: lldb ./prog, lldb -p PID, or target create --core")
    key = (target.GetExecutable().fullpath, target.GetProcess().GetProcessID())
    entry = _processes.get(key)
    if entry is None:
        _processes.clear()
        entry = _processes[key] = [GoProcess(LldbTarget(target)), None]
    proc, seen = entry
    stop = proc.target.stop_id()
    if stop != seen:
        proc.invalidate()
        entry[1] = stop
    return proc


class _LldbCommand:
    """Base of the per-command classes lldb instantiates (command script add -c)."""

    command = None

    def __init__(self, debugger, internal_dict):
        self.debugger = debugger

    def get_short_help(self):
        return self.command.summary

    def get_long_help(self):
        return self.command.parser().format_help()

    def __call__(self, debugger, argument, exe_ctx, result):
        try:
            color = color_wanted(os.environ.get("GDBGOMEM_COLOR", "auto"), os.isatty(1))
            out = execute(self.command, argument, lambda: current_process(debugger), color)
        except GoMemError as exc:
            result.SetError(f"gdbgomem: {exc}")
            return
        except Exception as exc:  # an internal error must not take lldb down
            if os.environ.get("GDBGOMEM_DEBUG"):
                traceback.print_exc()
            result.SetError(f"gdbgomem: internal error in {self.command.name}: {type(exc).__name__}: {exc} "
                            "(GDBGOMEM_DEBUG=1 prints the traceback)")
            return
        result.AppendMessage(out)


def __lldb_init_module(debugger, internal_dict):
    for command in COMMANDS:
        class_name = "Command_" + command.name.replace("-", "_")
        globals()[class_name] = type(class_name, (_LldbCommand,), {"command": command})
        debugger.HandleCommand(f"command script add -o -c {__name__}.{class_name} {command.name}")
