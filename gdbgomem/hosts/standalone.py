"""No debugger as a host: `gdbgomem core BINARY CORE [-- COMMAND ...]` and gdbgomem.open_core().

The Target reads memory from the core's PT_LOAD segments first, then from the
executable's own file-backed segments (cores leave out read-only text and data
that the file already holds); symbols, layouts and constants come from the
GoBinary it holds. The commands run with the same decoders, output and JSON as
inside gdb; with no command, an interactive prompt (history and completion by
readline).
"""

from __future__ import annotations

import cmd
import os
import shlex
import sys
from typing import List, Optional

from gdbgomem.commands import COMMANDS
from gdbgomem.commands.base import run_for_user
from gdbgomem.elf.binary import GoBinary
from gdbgomem.elf.corefile import CoreFile, build_mismatch
from gdbgomem.hosts.core_mappings import core_mappings
from gdbgomem.errors import GoMemError, MemoryReadError
from gdbgomem.render.terminal import color_wanted, output_width
from gdbgomem.runtime import manifest
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.target import Mapping, Target, ThreadRegs


class CoreTarget(Target):
    """A core file of a Go program, read with the program's binary."""

    def __init__(self, binary_path: str, core_path: str, debug_file: Optional[str] = None):
        try:
            self.binary = GoBinary(binary_path, manifest.wish_list(), debug_file=debug_file)
        except (OSError, ValueError) as exc:
            if debug_file and debug_file in str(exc):
                raise GoMemError(f"cannot use the debug file: {exc}", "give the debug file of this build") from None
            raise GoMemError(f"cannot read the binary: {exc}", "give the program's executable") from None
        if self.binary.is_debug_file:
            raise GoMemError(f"{binary_path} is a separate debug file (its code and data were taken out)",
                             "give the program's executable as BINARY and this file with --debug-file")
        try:
            self.core = CoreFile(core_path)
        except (OSError, ValueError) as exc:
            raise GoMemError(f"cannot read the core: {exc}", "give a core dump of the program") from None
        self.bias = self._load_bias()
        self._check_same_program()

    def _check_same_program(self) -> None:
        """A core of another program decodes to nonsense: refuse it when the build ids say so."""
        mismatch = build_mismatch(self.core, self.binary.gnu_build_id, self.binary.go_build_id)
        if mismatch:
            raise GoMemError(mismatch, "give the executable that produced the core")

    def _load_bias(self) -> int:
        """Where a position-independent executable was loaded: its first mapping in the core."""
        if not self.binary.is_pie:
            return 0
        name = self.binary.path.rsplit("/", 1)[-1]
        for start, _end, offset, path in self.core.mapped_files():
            if offset == 0 and path.rsplit("/", 1)[-1] == name:
                return start - min(vaddr for vaddr, _m, _o, _f in self.binary.segments())
        return 0

    # -- memory ------------------------------------------------------------------------
    def read(self, address: int, size: int) -> bytes:
        data = self.core.read(address, size, fallback=self._from_binary)
        if data is None or len(data) != size:
            if self.core.truncated:
                raise MemoryReadError(address, size, "the core file is truncated: memory past its end is lost; "
                                      "commands that need only saved memory still work")
            if self.core.is_mapped(address):
                raise MemoryReadError(address, size, "the process had this memory but the core did not save it: "
                                      "/proc/PID/coredump_filter must keep anonymous memory (0x33, the default) "
                                      "for the Go heap to be in a core; go-sizeclasses still works")
            raise MemoryReadError(address, size, "the address was not mapped in the process")
        return data

    def _from_binary(self, address: int, size: int) -> Optional[bytes]:
        return self.binary.read_file_backed(address - self.bias, size)

    # -- symbols, types, constants -----------------------------------------------------
    def symbol_address(self, name: str) -> Optional[int]:
        address = self.binary.symbol_address(name)
        return address + self.bias if address is not None else None

    def load_bias(self) -> int:
        return self.bias

    def register_value(self, name: str) -> Optional[int]:
        """A register of the core's first thread (the one that crashed, or gdb's current one)."""
        threads = self.core.threads
        return threads[0].register(_REGISTER_ALIASES.get(name, name)) if threads else None

    # -- threads -----------------------------------------------------------------------
    def threads(self) -> List[ThreadRegs]:
        """The core's threads; the first (the one that crashed, or gdb's current thread) is
        selected, and they are numbered 1.. as gdb numbers a core's threads."""
        return [ThreadRegs(t.tid, t.pc, t.sp, t.bp, t.fs_base, selected=(i == 0), debugger_id=i + 1)
                for i, t in enumerate(self.core.threads)]

    # -- what the target is ------------------------------------------------------------
    def has_process(self) -> bool:
        return True

    @property
    def is_core(self) -> bool:
        return True

    @property
    def pid(self) -> Optional[int]:
        return self.core.pid

    @property
    def executable(self) -> Optional[str]:
        return self.binary.path

    def mappings(self) -> Optional[List[Mapping]]:
        return core_mappings(self.core)


_REGISTER_ALIASES = {"pc": "rip", "sp": "rsp", "fp": "rbp"}  # gdb's names for them


# -- the command line and the prompt -----------------------------------------------------
BY_NAME = {c.name: c for c in COMMANDS}
HISTORY = os.path.expanduser("~/.gdbgomem_history")


def run_command(rt: GoRuntime, words: List[str]) -> bool:
    """Run one command line (a command name and its arguments): its output to stdout, or
    its one-line error to stderr. True when it succeeded."""
    if not words:
        return True
    command = BY_NAME.get(words[0])
    if command is None:
        print(f"gdbgomem: unknown command {words[0]!r} (go-help lists the commands)", file=sys.stderr)
        return False
    argument = " ".join(shlex.quote(w) for w in words[1:])
    outcome = run_for_user(command, argument, lambda: rt, color_wanted("auto", sys.stdout.isatty()),
                           debug=bool(os.environ.get("GDBGOMEM_DEBUG")),
                           debug_hint="GDBGOMEM_DEBUG=1 prints the traceback", width=output_width(sys.stdout.isatty()))
    if outcome.error is not None:
        print(outcome.error, file=sys.stderr)
        return False
    if any(outcome.pieces):
        for piece in outcome.pieces:
            sys.stdout.write(piece)
        sys.stdout.write("\n")
    return True


class Prompt(cmd.Cmd):
    """The interactive prompt: every go-* command, `quit` to leave."""

    prompt = "(gdbgomem) "

    def __init__(self, rt: GoRuntime, banner: Optional[str]):
        """banner None: commands come from a pipe or a file, read without a prompt or a banner."""
        super().__init__()
        self.rt = rt
        self.failed = False  # some command gave an error (the exit status of a piped session)
        if banner is None:
            self.prompt = ""
        else:
            self.intro = banner + "\ngo-help lists the commands; quit (or Ctrl-D) leaves."

    def default(self, line: str) -> bool:
        try:
            words = shlex.split(line, posix=False)
        except ValueError as exc:
            print(f"gdbgomem: {exc}", file=sys.stderr)
            self.failed = True
            return False
        self.failed |= not run_command(self.rt, words)
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


def open_runtime(binary: str, core: str, debug_file: Optional[str] = None) -> GoRuntime:
    """The Go runtime of a core, read with its executable (and its separate debug file, when
    given; one is also looked for where gdb looks); a GoMemError when they cannot be read."""
    target = CoreTarget(binary, core, debug_file)
    if target.core.truncated:
        print("gdbgomem: warning: the core file is truncated: memory past its end is lost; "
              "what it saved still decodes", file=sys.stderr)
    rt = GoRuntime(target)
    rt.check(need_process=False)  # each command checks for the state it needs
    return rt


def main(binary: str, core: str, words: Optional[List[str]], debug_file: Optional[str] = None) -> int:
    """One command (words), or the commands typed at a prompt, or piped in one a line."""
    try:
        rt = open_runtime(binary, core, debug_file)
    except GoMemError as exc:
        print(f"gdbgomem: {exc}", file=sys.stderr)
        return 1
    if words:
        return 0 if run_command(rt, words) else 1
    if not sys.stdin.isatty():
        prompt = Prompt(rt, None)
        prompt.cmdloop()
        return 1 if prompt.failed else 0
    try:
        import readline
        if os.path.exists(HISTORY):
            readline.read_history_file(HISTORY)
    except (ImportError, OSError):
        readline = None
    Prompt(rt, f"{rt.version_string} core of pid {rt.target.pid} ({core})").cmdloop()
    if readline is not None:
        try:
            readline.write_history_file(HISTORY)
        except OSError:
            pass
    return 0
