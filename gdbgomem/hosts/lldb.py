"""lldb as a host: `command script import gdbgomem.hosts.lldb` (what `gdbgomem lldbinit` prints).

The Target takes memory and threads from lldb's SB API; lldb reads Go symbols but
not Go's DWARF types (SBTarget.FindFirstType("runtime.g") is invalid), so struct
layouts and constants come from the GoBinary it holds, the reader the standalone
host uses too. Every command is registered with the same names, arguments, help,
text and JSON as in gdb. One GoRuntime per lldb target; its per-stop cache is
dropped whenever the process has stopped again since (lldb's stop id). Only this
module imports lldb.
"""

from __future__ import annotations

import os
from typing import List, Optional

import lldb  # type: ignore[import-not-found]

from gdbgomem.commands import COMMANDS
from gdbgomem.commands.base import run_for_user
from gdbgomem.elf.binary import GoBinary
from gdbgomem.errors import GoMemError, MemoryReadError
from gdbgomem.hosts import lldb_goroutine, procfs
from gdbgomem.render.terminal import color_wanted, fitted, output_width
from gdbgomem.runtime import manifest
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.target import Mapping, Target, ThreadRegs


class LldbTarget(procfs.LocalProcess, Target):
    """The selected lldb target: a live process or a core."""

    def __init__(self, target):
        self._target = target
        path = target.GetExecutable().fullpath
        # a separate debug file lldb loaded (target symbols add, or found by itself)
        symbols = target.GetModuleAtIndex(0).GetSymbolFileSpec().fullpath if target.GetNumModules() else None
        try:
            self.binary = GoBinary(path, manifest.wish_list(), debug_file=symbols if symbols != path else None)
        except (OSError, ValueError) as exc:
            raise GoMemError(f"cannot read the binary: {exc}", "load a Go executable with `target create`") from None
        self._mem_fd: Optional[int] = None
        self._mem_pid: Optional[int] = None
        self._bias: Optional[int] = None

    def _proc_mem(self) -> Optional[int]:
        """/proc/PID/mem of a live local process, when this process may read it.

        lldb on Linux reads memory through lldb-server's gdb-remote packets, at about
        50 MB/s (measured); the kernel's file does GB/s. The process is stopped by lldb
        all the same; where the file cannot be read (another user, ptrace_scope), lldb's
        own path is used."""
        process = self._target.GetProcess()  # asked once: a read of 100 000 goroutines calls this 10 000 times
        pid = process.GetProcessID() or None if process.IsValid() and process.GetPluginName() != "elf-core" else None
        if pid != self._mem_pid:
            if self._mem_fd is not None:
                os.close(self._mem_fd)
            self._mem_fd, self._mem_pid = None, pid
            if pid and self._is_local:
                self._mem_fd = procfs.open_memory(pid)
        return self._mem_fd

    @property
    def _is_local(self) -> bool:
        """A process on this machine (lldb's host platform), whose /proc is ours to read."""
        return self._target.GetPlatform().GetName() == "host"

    @property
    def _process(self):
        return self._target.GetProcess()

    @property
    def sbtarget(self):
        """lldb's own target, for what changes lldb's view (go-goroutine's thread)."""
        return self._target

    # -- memory ------------------------------------------------------------------------
    def read(self, address: int, size: int) -> bytes:
        if address < 0 or size < 0 or address + size > 1 << 64:
            raise MemoryReadError(address, size)
        if size == 0:
            return b""
        fd = self._proc_mem()
        if fd is not None:
            try:
                data = os.pread(fd, size, address)
                if len(data) == size:
                    return data
            except (OSError, OverflowError):
                pass  # unmapped here, beyond a file offset, or not ours to read: lldb decides
        error = lldb.SBError()
        data = self._process.ReadMemory(address, size, error)
        if error.Success() and data is not None and len(data) == size:
            return bytes(data)
        # lldb does not serve a core's read-only text and data from the executable: the file can
        data = self.binary.read_file_backed(address - self.load_bias(), size) if self.is_core else None
        if data is None:
            raise MemoryReadError(address, size)
        return data

    def read_into(self, address: int, out: memoryview) -> bool:
        fd = self._proc_mem() if 0 <= address and address + len(out) <= 1 << 64 else None
        if fd is not None:
            try:
                if os.preadv(fd, [out], address) == len(out):  # straight into the buffer
                    return True
            except (OSError, OverflowError):
                pass
        return super().read_into(address, out)

    def load_bias(self) -> int:
        """Where lldb has the executable's ELF header minus where it was linked (symbols or not)."""
        if self._bias is None:
            header = self._target.GetModuleAtIndex(0).GetObjectFileHeaderAddress().GetLoadAddress(self._target)
            linked = self.binary.header_address()
            self._bias = header - linked if header != lldb.LLDB_INVALID_ADDRESS and linked is not None else 0
        return self._bias

    # -- symbols, types, constants -----------------------------------------------------
    def symbol_address(self, name: str) -> Optional[int]:
        address = self._lldb_symbol(name)
        if address is not None:
            return address
        linked = self.binary.symbol_address(name)
        return linked + self.load_bias() if linked is not None else None

    def _lldb_symbol(self, name: str) -> Optional[int]:
        found = self._target.FindSymbols(name)
        for i in range(found.GetSize()):
            symbol = found.GetContextAtIndex(i).GetSymbol()
            if symbol.IsValid() and symbol.GetName() == name:
                address = symbol.GetStartAddress().GetLoadAddress(self._target)
                if address != lldb.LLDB_INVALID_ADDRESS:
                    return address
        return None

    def register_value(self, name: str) -> Optional[int]:
        """A register of the selected frame, read (lldb's evaluator, which can assign, is never used)."""
        frame = self._process.GetSelectedThread().GetSelectedFrame() if self._process.IsValid() else None
        register = frame.FindRegister(name) if frame is not None and frame.IsValid() else None
        return register.GetValueAsUnsigned() if register is not None and register.IsValid() else None

    # -- threads -----------------------------------------------------------------------
    def threads(self) -> List[ThreadRegs]:
        process = self._process
        selected = process.GetSelectedThread().GetThreadID()
        out = []
        for thread in process:
            if lldb_goroutine.is_goroutine_thread(thread.GetThreadID()):
                continue  # go-goroutine's: a goroutine, not a thread of the process
            frame = thread.GetFrameAtIndex(0)
            out.append(ThreadRegs(
                tid=thread.GetThreadID(), pc=frame.GetPC(), sp=frame.GetSP(),
                bp=_register(frame, "rbp"), fs_base=_register(frame, "fs_base"),
                selected=thread.GetThreadID() == selected, debugger_id=thread.GetIndexID()))
        return out

    # -- what the target is ------------------------------------------------------------
    def has_process(self) -> bool:
        process = self._process
        return process.IsValid() and process.GetState() not in (lldb.eStateInvalid, lldb.eStateExited,
                                                                lldb.eStateDetached, lldb.eStateUnloaded)

    @property
    def is_core(self) -> bool:
        return self._process.IsValid() and self._process.GetPluginName() == "elf-core"

    @property
    def pid(self) -> Optional[int]:
        return self._process.GetProcessID() or None if self._process.IsValid() else None

    @property
    def executable(self) -> Optional[str]:
        return self._target.GetExecutable().fullpath

    def _local_pid(self) -> Optional[int]:
        """The pid of a live process on this machine, whose /proc gdbgomem may read."""
        return self.pid if not self.is_core and self._is_local else None

    def mappings(self) -> Optional[List[Mapping]]:
        """A live local process: /proc. A core: lldb's memory regions, which it takes from the
        core's segments and file note (SB API has no path of the core to read it ourselves)."""
        if not self.is_core:
            pid = self._local_pid()
            return procfs.mappings(pid) if pid else None
        regions = self._process.GetMemoryRegions()
        found = []
        for i in range(regions.GetSize()):
            info = lldb.SBMemoryRegionInfo()
            if not regions.GetMemoryRegionAtIndex(i, info) or not info.IsMapped():
                continue
            perms = "".join(c if on else "-" for c, on in (("r", info.IsReadable()), ("w", info.IsWritable()),
                                                          ("x", info.IsExecutable()))) + "p"
            found.append(Mapping(info.GetRegionBase(), info.GetRegionEnd(), perms, info.GetName() or ""))
        return found

    def stop_id(self) -> int:
        """Changes every time the process stops: this host's cue to drop decoded state."""
        return self._process.GetStopID() if self._process.IsValid() else 0


def _register(frame, name: str) -> Optional[int]:
    value = frame.FindRegister(name)
    return value.GetValueAsUnsigned() if value.IsValid() else None


# -- the commands ---------------------------------------------------------------------
_runtimes = {}


def current_runtime(debugger) -> GoRuntime:
    target = debugger.GetSelectedTarget()
    if not target.IsValid():
        raise GoMemError("no target", "load a Go program: lldb ./prog, lldb -p PID, or target create --core")
    symbols = target.GetModuleAtIndex(0).GetSymbolFileSpec().fullpath if target.GetNumModules() else None
    key = (target.GetExecutable().fullpath, target.GetProcess().GetProcessID(), symbols)  # `target symbols add`
    entry = _runtimes.get(key)
    if entry is None:
        _runtimes.clear()
        entry = _runtimes[key] = [GoRuntime(LldbTarget(target)), None]
    rt, seen = entry
    stop = rt.target.stop_id()
    if stop != seen:
        rt.invalidate()
        entry[1] = stop
    return rt


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
        color = color_wanted(os.environ.get("GDBGOMEM_COLOR", "auto"), os.isatty(1))
        # lldb's term-width setting on a terminal, else COLUMNS; no limit into a file or pipe
        width = fitted(debugger.GetTerminalWidth()) if os.isatty(1) else output_width(False)
        outcome = run_for_user(self.command, argument, lambda: current_runtime(debugger), color,
                               debug=bool(os.environ.get("GDBGOMEM_DEBUG")),
                               debug_hint="GDBGOMEM_DEBUG=1 prints the traceback", width=width)
        if outcome.error is not None:
            result.SetError(outcome.error)
        else:
            result.AppendMessage(outcome.output)


def __lldb_init_module(debugger, internal_dict):
    for command in COMMANDS + [lldb_goroutine.GoroutineCommand()]:  # lldb's own frames: per host
        class_name = "Command_" + command.name.replace("-", "_")
        globals()[class_name] = type(class_name, (_LldbCommand,), {"command": command})
        debugger.HandleCommand(f"command script add -o -c {__name__}.{class_name} {command.name}")
