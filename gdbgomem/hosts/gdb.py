"""gdb as a host: the Target over gdb's Python API, every command registered, caches dropped on resume.

Only this module imports gdb. Memory is read with Inferior.read_memory in blocks,
never by walking gdb.Value fields; gdb's own view of the binary's DWARF gives the
struct layouts and constants, turned into plain StructLayout objects once. One
GoRuntime per inferior: its per-stop cache is dropped whenever the inferior
resumes, and the whole runtime when the program or core changes.
"""

from __future__ import annotations

import os
import re
from typing import Dict, List, Optional

import gdb  # type: ignore[import-not-found]

from gdbgomem.commands import COMMANDS
from gdbgomem.commands.base import run_for_user
from gdbgomem.elf.binary import GoBinary
from gdbgomem.elf.corefile import CoreFile, build_mismatch
from gdbgomem.elf.layout import NESTING_LIMIT, Field, StructLayout
from gdbgomem.errors import MemoryReadError
from gdbgomem.hosts import gdb_goroutine, gdb_watch_stack, procfs
from gdbgomem.hosts.core_mappings import core_mappings
from gdbgomem.render.terminal import color_wanted, fitted
from gdbgomem.runtime import manifest
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.target import Mapping, Target, ThreadRegs


class GdbTarget(procfs.LocalProcess, Target):
    """The selected gdb inferior: a live process or a core file."""

    def __init__(self, inferior=None):
        self._inferior = inferior or gdb.selected_inferior()
        self._layouts: Dict[str, Optional[StructLayout]] = {}
        self._constants: Dict[str, Optional[int]] = {}
        self._binary_opened = False
        self._binary: Optional[GoBinary] = None
        self._bias: Optional[int] = None

    # -- memory ------------------------------------------------------------------------
    def read(self, address: int, size: int) -> bytes:
        if address < 0 or size < 0 or address + size > 1 << 64:
            raise MemoryReadError(address, size)
        try:
            return self._inferior.read_memory(address, size).tobytes()
        except (gdb.MemoryError, gdb.error, OverflowError, ValueError):
            raise MemoryReadError(address, size) from None

    def read_into(self, address: int, out: memoryview) -> bool:
        if address < 0 or address + len(out) > 1 << 64:
            return False
        try:
            memory = self._inferior.read_memory(address, len(out))
        except (gdb.MemoryError, gdb.error, OverflowError, ValueError):
            return False
        out[:] = memory.cast("B")  # gdb's buffer (of format "c"), copied once
        return True

    # -- symbols, types, constants -----------------------------------------------------
    # Facts of the binary come from gdbgomem's own reader of the executable first: it answers
    # from a layout cache kept per build id, where gdb's first lookup of a runtime symbol or
    # type expands the runtime's debug info (about 0.2 s, every session). gdb answers when the
    # executable cannot be read here (a remote target) or the reader does not know.
    def symbol_address(self, name: str) -> Optional[int]:
        linked = self.binary.symbol_address(name) if self.binary is not None else None
        if linked is not None:
            return linked + self.load_bias()
        symbol = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
        if symbol is not None:
            try:
                return int(symbol.value().address)
            except (gdb.error, TypeError):
                pass
        return None

    def symbol_size(self, name: str) -> Optional[int]:
        size = self.binary.symbol_size(name) if self.binary is not None else None
        if size is not None:
            return size
        symbol = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
        if symbol is not None:
            try:
                return symbol.type.sizeof
            except gdb.error:
                pass
        return None

    @property
    def binary(self) -> Optional[GoBinary]:  # type: ignore[override]
        """gdbgomem's own reader of the executable, for what gdb does not know; None when the
        file cannot be read here (a remote target)."""
        if not self._binary_opened:
            self._binary_opened = True
            path = self.executable
            if path:
                try:
                    self._binary = GoBinary(path, manifest.wish_list())
                except (OSError, ValueError):
                    pass
        return self._binary

    def _core_file(self) -> Optional[CoreFile]:
        """The core gdb has open, read by gdbgomem's own reader (the caller closes it)."""
        if not self.is_core:
            return None
        try:
            text = gdb.execute("info target", to_string=True)
        except gdb.error:
            return None
        found = re.search(r"Local core dump file:\s*`(.+)', file type", text)
        try:
            return CoreFile(found.group(1)) if found else None
        except (OSError, ValueError):
            return None

    def build_mismatch(self) -> Optional[str]:
        """gdb only warns that a core "may not match" its executable: compare their build ids."""
        core = self._core_file() if self.binary is not None else None
        if core is None:
            return None
        try:
            return build_mismatch(core, self.binary.gnu_build_id, self.binary.go_build_id)
        finally:
            core.close()

    def mappings(self) -> Optional[List[Mapping]]:
        if self.is_core:
            core = self._core_file()
            if core is None:
                return None
            try:
                return core_mappings(core)
            finally:
                core.close()
        pid = self._local_pid()
        return procfs.mappings(pid) if pid else None

    def load_bias(self) -> int:
        """Where a position-independent executable was loaded, from the auxiliary vector
        (AT_ENTRY minus the file's entry point; gdb reads it from a live process and a core)."""
        if self._bias is None:
            self._bias = 0
            if self.binary is not None and self.binary.is_pie:
                try:
                    text = gdb.execute("info auxv", to_string=True)
                except gdb.error:
                    text = ""
                for line in text.splitlines():
                    words = line.split()
                    if len(words) > 2 and words[1] == "AT_ENTRY" and words[-1].startswith("0x"):
                        self._bias = int(words[-1], 16) - self.binary.entry
        return self._bias

    def struct_layout(self, type_name: str) -> Optional[StructLayout]:
        if type_name not in self._layouts:
            layout = self.binary.struct_layout(type_name) if self.binary is not None else None
            if layout is None:
                gtype = _lookup_type(type_name)
                layout = _to_layout(type_name, gtype, 0) if gtype is not None else None
            self._layouts[type_name] = layout
        return self._layouts[type_name]

    def constant(self, name: str) -> Optional[int]:
        if name not in self._constants:
            value = self.binary.constant(name) if self.binary is not None else None
            if value is None:
                try:
                    value = int(gdb.parse_and_eval(f"'{name}'"))
                except (gdb.error, RuntimeError, ValueError):
                    value = None
            self._constants[name] = value
        return self._constants[name]

    def register_value(self, name: str) -> Optional[int]:
        """$N: gdb's value history; $name: a convenience variable, else a register of the selected
        frame. Only read: gdb's expression evaluator, which can assign, is never used."""
        try:
            if name.isdigit():
                value = gdb.history(int(name))
            else:
                value = gdb.convenience_variable(name)
                if value is None and gdb.selected_thread() is not None:
                    value = gdb.selected_frame().read_register(name)
            return int(value) & ((1 << 64) - 1) if value is not None else None
        except (gdb.error, RuntimeError, ValueError, TypeError):
            return None

    # -- threads -----------------------------------------------------------------------
    def threads(self) -> List[ThreadRegs]:
        """Registers of every thread; switches gdb's selection and puts it back."""
        selected = gdb.selected_thread()
        try:
            selected_frame = gdb.selected_frame() if selected is not None else None
        except gdb.error:
            selected_frame = None
        result = []
        try:
            for thread in sorted(self._inferior.threads(), key=lambda t: t.num):
                if not thread.is_valid() or thread.is_exited():
                    continue
                thread.switch()
                result.append(ThreadRegs(
                    tid=thread.ptid[1] or thread.ptid[0],
                    pc=_register("rip"), sp=_register("rsp"), bp=_register("rbp"),
                    fs_base=_register("fs_base"),
                    selected=selected is not None and thread.num == selected.num,
                    debugger_id=thread.num))
        finally:
            if selected is not None and selected.is_valid():
                selected.switch()
                if selected_frame is not None and selected_frame.is_valid():
                    selected_frame.select()
        return result

    # -- what the target is ------------------------------------------------------------
    def has_process(self) -> bool:
        return self._inferior.is_valid() and self._inferior.pid != 0

    @property
    def is_core(self) -> bool:
        connection = getattr(self._inferior, "connection", None)
        return connection is not None and connection.type == "core"

    @property
    def pid(self) -> Optional[int]:
        return self._inferior.pid or None

    @property
    def executable(self) -> Optional[str]:
        return self._inferior.progspace.filename

    def _local_pid(self) -> Optional[int]:
        """The pid of a live process on this machine, whose /proc gdbgomem may read; None for a
        core or a process behind gdbserver."""
        connection = getattr(self._inferior, "connection", None)
        return self.pid if connection is not None and connection.type == "native" else None


def _register(name: str) -> Optional[int]:
    try:
        return int(gdb.newest_frame().read_register(name)) & ((1 << 64) - 1)
    except (gdb.error, ValueError):
        return None


def _lookup_type(type_name: str):
    for candidate in (type_name, f"struct {type_name}"):
        try:
            return gdb.lookup_type(candidate).strip_typedefs()
        except gdb.error:
            continue
    return None


def _to_layout(name: str, gtype, depth: int) -> StructLayout:
    fields: Dict[str, Field] = {}
    for member in gtype.fields():
        if member.name is None or not hasattr(member, "bitpos"):
            continue
        mtype = member.type.strip_typedefs()
        inner = None
        if mtype.code == gdb.TYPE_CODE_STRUCT and depth < NESTING_LIMIT:
            inner = _to_layout(str(member.type), mtype, depth + 1)
        fields[member.name] = Field(member.bitpos // 8, mtype.sizeof, str(member.type), inner)
    return StructLayout(name, gtype.sizeof, fields)


# -- the commands and the events ------------------------------------------------------
_runtimes = {}


def _key(inferior):
    return inferior.num, inferior.pid, inferior.progspace.filename


def current_runtime() -> GoRuntime:
    inferior = gdb.selected_inferior()
    key = _key(inferior)
    if key not in _runtimes:
        _runtimes.clear()
        _runtimes[key] = GoRuntime(GdbTarget(inferior))
    return _runtimes[key]


def _on_resume(_event=None):
    for rt in _runtimes.values():
        rt.invalidate()


def _on_program_change(_event=None):
    _runtimes.clear()


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


# gdb.write copies what it is given into gdb's own output buffers; tens of megabytes (the JSON
# of 100 000 goroutines) go through faster a mebibyte at a time than in one piece.
WRITE_CHUNK = 1 << 20


class GdbCommand(gdb.Command):
    """One gdbgomem command as a gdb command; the docstring is set per instance."""

    def __init__(self, command):
        self.__doc__ = f"{command.summary}\nUsage: {command.name} --help for the options."
        super().__init__(command.name, gdb.COMMAND_DATA)
        self.command = command
        self._options = sorted(option for action in command.parser()._actions for option in action.option_strings)

    def complete(self, text, word):
        """TAB completes the command's options. gdb breaks words at '-' too, so the completions
        returned are what follows `word` in each option matching the whole typed token."""
        token = text.split()[-1] if text and not text[-1].isspace() else ""
        word = word or ""
        return [option[len(token) - len(word):] for option in self._options if option.startswith(token)]

    def invoke(self, argument, from_tty):
        outcome = run_for_user(self.command, argument, current_runtime, color_wanted(_color.value, os.isatty(1)),
                               debug=_debug.value, debug_hint="set gdbgomem-debug on for the traceback",
                               width=fitted(gdb.parameter("width")))  # `set width N`; unlimited in batch mode
        if outcome.error is not None:
            raise gdb.GdbError(outcome.error)
        for piece in outcome.pieces:
            for start in range(0, len(piece), WRITE_CHUNK):
                gdb.write(piece[start:start + WRITE_CHUNK])
        gdb.write("\n")


def register() -> None:
    for command in COMMANDS:
        GdbCommand(command)
    GdbCommand(gdb_goroutine.GoroutineCommand())  # gdb's own frames: this host only
    gdb_goroutine.register()
    GdbCommand(gdb_watch_stack.WatchStackCommand())  # breakpoints: this host, live processes only
    gdb.events.exited.connect(gdb_watch_stack.forget)
    gdb.events.cont.connect(gdb_goroutine.forget)
    gdb.events.exited.connect(gdb_goroutine.forget)
    gdb.events.cont.connect(_on_resume)
    gdb.events.new_objfile.connect(_on_program_change)
    gdb.events.clear_objfiles.connect(_on_program_change)
    gdb.events.exited.connect(_on_program_change)
    if hasattr(gdb.events, "inferior_call"):
        gdb.events.inferior_call.connect(_on_resume)
    if hasattr(gdb.events, "memory_changed"):
        gdb.events.memory_changed.connect(_on_resume)


register()
