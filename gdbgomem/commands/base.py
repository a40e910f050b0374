"""Command: an argparse spec plus a run() that turns runtime data into a Report.

A command is declared once here and registered by every front end; the front
end only supplies the argument string, a GoProcess and a place to write.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Callable, List, Optional

from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report
from gdbgomem.render.text import render_json, render_text
from gdbgomem.runtime.process import GoProcess


class HelpRequested(Exception):
    """--help was given: the text to show instead of running the command."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


class CommandParser(argparse.ArgumentParser):
    """argparse that never exits the debugger: errors become one-line GoMemErrors."""

    def error(self, message: str):
        raise GoMemError(f"{self.prog}: {message}", f"see {self.prog} --help")

    def exit(self, status: int = 0, message: Optional[str] = None):
        if message:
            raise GoMemError(f"{self.prog}: {message.strip()}", f"see {self.prog} --help")
        raise HelpRequested(self.format_help())

    def print_help(self, file=None):
        raise HelpRequested(self.format_help())


class Command:
    """Subclasses set name/summary, add arguments, and implement run()."""

    name = ""
    summary = ""
    description = ""
    needs_go = True        # False: works without a Go program (go-help)
    needs_process = True   # False: the binary alone is enough (static tables)
    keep_quotes = False  # True: split arguments without removing quotes (debugger expressions)

    def parser(self) -> CommandParser:
        parser = CommandParser(prog=self.name, description=self.description or self.summary,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        self.add_arguments(parser)
        parser.add_argument("--json", action="store_true", help="print one JSON object (schema 1) instead of text")
        return parser

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare this command's own arguments."""

    def run(self, proc: GoProcess, args: argparse.Namespace) -> Report:
        raise NotImplementedError


def execute(command: Command, argument_string: str, get_process: Callable[[], GoProcess],
            color: bool) -> str:
    """Parse, run and render one command line; raises GoMemError for the user to see."""
    try:
        argv: List[str] = shlex.split(argument_string or "", posix=not command.keep_quotes)
    except ValueError as exc:
        raise GoMemError(f"{command.name}: {exc}", f"see {command.name} --help") from None
    try:
        args = command.parser().parse_args(argv)
    except HelpRequested as shown:
        return shown.text.rstrip("\n")
    proc = None
    if command.needs_go:  # go-help needs no program, and no debugger target either
        proc = get_process()
        proc.check(need_process=command.needs_process)
    report = command.run(proc, args)
    return render_json(report) if args.json else render_text(report, color)


def positive_int(text: str) -> int:
    """argparse type for counts and sizes: accepts 0x.. too."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value
