"""`gdbgomem core BINARY CORE [-- COMMAND ...]`: the commands on a core, without a debugger.

Same decoders, same output and JSON as inside gdb; only the Target differs.
With no command, an interactive prompt (history and completion by readline).
"""

from __future__ import annotations

import cmd
import os
import shlex
import sys
from typing import List, Optional

from gdbgomem.commands import COMMANDS
from gdbgomem.commands.base import execute
from gdbgomem.errors import GoMemError
from gdbgomem.render.text import color_wanted
from gdbgomem.runtime.process import GoProcess
from gdbgomem.target.core import CoreTarget

BY_NAME = {c.name: c for c in COMMANDS}
HISTORY = os.path.expanduser("~/.gdbgomem_history")


def run_command(proc: GoProcess, words: List[str]) -> str:
    """Run one command line (a command name and its arguments); GoMemError for the user."""
    if not words:
        return ""
    command = BY_NAME.get(words[0])
    if command is None:
        raise GoMemError(f"unknown command {words[0]!r}", "go-help lists the commands")
    argument = " ".join(shlex.quote(w) for w in words[1:]) if not command.keep_quotes else " ".join(words[1:])
    return execute(command, argument, lambda: proc, color_wanted("auto", sys.stdout.isatty()))


class Prompt(cmd.Cmd):
    """The interactive prompt: every go-* command, `quit` to leave."""

    prompt = "(gdbgomem) "

    def __init__(self, proc: GoProcess, banner: str):
        super().__init__()
        self.proc = proc
        self.intro = banner + "\ngo-help lists the commands; quit (or Ctrl-D) leaves."

    def default(self, line: str) -> bool:
        try:
            words = shlex.split(line, posix=False)
            out = run_command(self.proc, words)
        except GoMemError as exc:
            print(f"gdbgomem: {exc}", file=sys.stderr)
        except ValueError as exc:
            print(f"gdbgomem: {exc}", file=sys.stderr)
        else:
            if out:
                print(out)
        return False

    def completenames(self, text, *ignored):
        return [name for name in list(BY_NAME) + ["quit"] if name.startswith(text)]

    def completedefault(self, text, line, begidx, endidx):
        command = BY_NAME.get(line.split()[0]) if line.split() else None
        if command is None:
            return []
        options = [o for action in command.parser()._actions for o in action.option_strings]
        return [o for o in options if o.startswith(text)]

    def emptyline(self) -> bool:
        return False

    def do_quit(self, _arg) -> bool:
        return True

    do_EOF = do_quit


def main(binary: str, core: str, words: Optional[List[str]]) -> int:
    try:
        target = CoreTarget(binary, core)
        if target.core.truncated:
            print("gdbgomem: warning: the core file is truncated: memory past its end is lost; "
                  "what it saved still decodes", file=sys.stderr)
        proc = GoProcess(target)
        proc.check(need_process=False)  # each command checks for the state it needs
    except GoMemError as exc:
        print(f"gdbgomem: {exc}", file=sys.stderr)
        return 1
    if words:
        try:
            print(run_command(proc, words))
        except GoMemError as exc:
            print(f"gdbgomem: {exc}", file=sys.stderr)
            return 1
        return 0
    try:
        import readline
        if os.path.exists(HISTORY):
            readline.read_history_file(HISTORY)
    except (ImportError, OSError):
        readline = None
    Prompt(proc, f"{proc.version_string} core of pid {proc.target.pid} ({core})").cmdloop()
    if readline is not None:
        try:
            readline.write_history_file(HISTORY)
        except OSError:
            pass
    return 0
