"""Unwind a Go stack with the binary's function table (pclntab), reading memory only.

Mirrors runtime/traceback.go (unwinder.next) for amd64: at a pc, the pcsp
table gives how far SP moved since the function's entry; the return address
sits just above that, and the caller's SP is one word higher. No register is
ever written, so the same code serves live processes and core files.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

from gdbgomem.runtime.pclntab import Func, PclnTab

FUNC_FLAG_TOPFRAME = 1  # abi.FuncFlagTopFrame: nothing to unwind past (goexit, mstart, rt0_go)
FUNC_FLAG_SPWRITE = 2   # abi.FuncFlagSPWrite: the function switches SP by hand; unwinding past is unsafe
MAX_FRAMES = 100_000    # a 1 GiB stack of 8 KiB-minimum frames fits; bounds cycles in corrupt stacks

# Frames whose caller was interrupted rather than calling: the saved pc is the
# faulting or preempted instruction itself, not a return address.
_TRAP_FUNCTIONS = frozenset({"runtime.sigpanic", "runtime.asyncPreempt"})


@dataclass
class Frame:
    """One physical frame: where it executes and the stack it occupies [sp, sp + frame_size)."""

    pc: int
    sp: int
    function: Optional[str]
    file: Optional[str]
    line: Optional[int]
    frame_size: Optional[int]
    entry: Optional[int] = None

    def to_json(self) -> dict:
        return {"function": self.function, "file": self.file, "line": self.line, "pc": self.pc,
                "sp": self.sp, "frame_size": self.frame_size, "entry": self.entry}


@dataclass
class Unwound:
    frames: List[Frame]
    stop_reason: str  # why the walk ended: "goexit", "top frame", "stack end", "unknown pc", ...


class StackWindow:
    """Words of a stack read in one block; falls back to a reader beyond the block."""

    def __init__(self, base: int, data: bytes, read: Optional[Callable[[int, int], Optional[bytes]]] = None):
        self.base, self.data, self._read = base, data, read

    def word(self, address: int) -> Optional[int]:
        off = address - self.base
        if 0 <= off and off + 8 <= len(self.data):
            return struct.unpack_from("<Q", self.data, off)[0]
        if self._read is None:
            return None
        raw = self._read(address, 8)
        return struct.unpack("<Q", raw)[0] if raw and len(raw) == 8 else None


def unwind(table: PclnTab, memory: StackWindow, pc: int, sp: int, stack_hi: int,
           exact_pc: bool = False) -> Unwound:
    """Walk from (pc, sp) towards stack_hi.

    exact_pc: pc is where the thread stopped (a live register), not a return
    address; its line is looked up at pc itself rather than pc-1.
    """
    frames: List[Frame] = []
    for _ in range(MAX_FRAMES):
        func = table.find_func(pc) if pc else None
        if func is None:
            return Unwound(frames, "unknown pc" if pc else "pc is zero")
        delta = table.sp_delta(func, pc)
        frame_size = delta + 8 if delta is not None and delta >= 0 else None
        file, line = _position(table, func, pc, exact_pc)
        frames.append(Frame(pc, sp, func.name, file, line, frame_size, func.entry))
        if func.name == "runtime.goexit":
            return Unwound(frames, "goexit")
        if func.flag & FUNC_FLAG_TOPFRAME:
            return Unwound(frames, "top frame")
        if func.flag & FUNC_FLAG_SPWRITE:
            return Unwound(frames, "stack switch")
        if frame_size is None:
            return Unwound(frames, "no frame size")
        caller_sp = sp + frame_size
        if caller_sp > stack_hi:
            return Unwound(frames, "stack end")
        return_pc = memory.word(caller_sp - 8)
        if return_pc is None:
            return Unwound(frames, "unreadable stack")
        exact_pc = func.name in _TRAP_FUNCTIONS
        pc, sp = return_pc, caller_sp
        if sp >= stack_hi:
            return Unwound(frames, "stack end")
    return Unwound(frames, "frame limit")


def _position(table: PclnTab, func: Func, pc: int, exact_pc: bool) -> Tuple[Optional[str], Optional[int]]:
    lookup = pc if exact_pc or pc <= func.entry else pc - 1
    where = table.file_line(func, lookup)
    return (where[0], where[1]) if where else (None, None)


_RUNTIME_PREFIXES = ("runtime.", "internal/runtime/", "runtime/internal/")


def is_runtime_function(name: Optional[str], file: Optional[str] = None) -> bool:
    """Runtime code by name, or by living in GOROOT's src/runtime: that also catches the
    runtime's implementations of other packages' functions (sync.runtime_SemacquireMutex,
    time.Sleep), which carry the other package's name."""
    if (name or "").startswith(_RUNTIME_PREFIXES):
        return True
    return bool(file) and (file.startswith("runtime/") or "/src/runtime/" in file)
