"""Command: an argparse spec plus a run() that turns runtime data into a Report.

A command is declared once and registered by every host; the host only supplies
the argument string, a GoRuntime and a place to write. run_for_user is the one
place where any failure becomes the one line a user reads, for every host.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import shlex
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, List, Optional

from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report
from gdbgomem.render.text import json_pieces, render_text
from gdbgomem.runtime.goruntime import GoRuntime


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

    def parser(self) -> CommandParser:
        parser = CommandParser(prog=self.name, description=self.description or self.summary,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        self.add_arguments(parser)
        parser.add_argument("--json", action="store_true", help="print one JSON object (schema 1) instead of text")
        return parser

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare this command's own arguments."""

    def run(self, rt: GoRuntime, args: argparse.Namespace) -> Report:
        raise NotImplementedError


def execute(command: Command, argument_string: str, get_runtime: Callable[[], GoRuntime],
            color: bool, width: int = 0) -> str:
    """Parse, run and render one command line, text fitted to width columns (0: no limit);
    raises GoMemError for the user to see."""
    return "".join(execute_pieces(command, argument_string, get_runtime, color, width))


def execute_pieces(command: Command, argument_string: str, get_runtime: Callable[[], GoRuntime],
                   color: bool, width: int = 0) -> List[str]:
    """execute(), its output in pieces for a host to write one after the other (JSON of long
    listings: text.json_pieces)."""
    try:
        argv: List[str] = shlex.split(argument_string or "")
    except ValueError as exc:
        raise GoMemError(f"{command.name}: {exc}", f"see {command.name} --help") from None
    try:
        args = command.parser().parse_args(argv)
    except HelpRequested as shown:
        return [shown.text.rstrip("\n")]
    args.width = width  # what the text must fit, for a command that draws to it (go-arenas --map)
    rt = None
    if command.needs_go:  # go-help needs no program, and no debugger target either
        rt = get_runtime()
        rt.check(need_process=command.needs_process)
    with _collector_paused():
        report = command.run(rt, args)
        return json_pieces(report) if args.json else [render_text(report, color, width)]


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off while a command runs: a listing creates a few
    objects per goroutine, none of them in cycles, and at 100 000 goroutines the collector's
    passes over them cost a fifth of the command. Reference counting still frees them; a
    cycle waits for the next collection after the command."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass(frozen=True)
class Outcome:
    """What a host shows for one command line: the output, or the one-line error."""

    pieces: Optional[List[str]] = None  # the output, to be written one after the other
    error: Optional[str] = None

    @property
    def output(self) -> Optional[str]:
        return "".join(self.pieces) if self.pieces is not None else None


def run_for_user(command: Command, argument_string: str, get_runtime: Callable[[], GoRuntime], color: bool,
                 debug: bool = False, debug_hint: str = "", width: int = 0) -> Outcome:
    """execute(), with every failure turned into `gdbgomem: <cause> (<what to do>)`.

    A GoMemError is the user's to act on; anything else is a bug of gdbgomem, reported
    in one line too so the debugger session goes on (with debug, its traceback first)."""
    try:
        return Outcome(pieces=execute_pieces(command, argument_string, get_runtime, color, width))
    except GoMemError as exc:
        return Outcome(error=f"gdbgomem: {exc}")
    except KeyboardInterrupt:
        return Outcome(error="gdbgomem: interrupted")
    except Exception as exc:
        if debug:
            traceback.print_exc()
        hint = f"{debug_hint}; " if debug_hint else ""
        return Outcome(error=f"gdbgomem: internal error in {command.name}: {type(exc).__name__}: {exc} ({hint}please "
                             "report it with the command, the Go version and what the target is)")


def positive_int(text: str) -> int:
    """argparse type for counts and sizes: accepts 0x.. too."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


def writable_path(command: str, path: str, example: str) -> str:
    """The absolute path of a file a command will write, or the one-line reason it cannot be
    written: checked before the work that fills it, and again by the write itself."""
    full = os.path.abspath(os.path.expanduser(path))
    folder = os.path.dirname(full)
    if os.path.isdir(full):
        raise GoMemError(f"{command}: {full} is a directory", f"give a file name, such as {example}")
    if not os.path.isdir(folder):
        raise GoMemError(f"{command}: cannot write {full}: no directory {folder}", "give a path in an existing directory")
    if not os.access(folder, os.W_OK) or (os.path.exists(full) and not os.access(full, os.W_OK)):
        raise GoMemError(f"{command}: cannot write {full}: permission denied", "give a path you can write")
    return full


def numpy_function(command: str, module: str, name: str) -> Callable:
    """A function of a runtime module built on numpy, imported only when a command needs it, so
    that every other command works in a debugger whose Python cannot import numpy."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise GoMemError(f"{command} needs numpy, which this Python cannot import ({exc})",
                         "install numpy for the debugger's Python: bash scripts/setup.sh does it in .venv") from None

