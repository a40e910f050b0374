"""Unwind a Go stack with the binary's function table (pclntab), reading memory only.

Mirrors runtime/traceback.go (unwinder.next) for amd64: at a pc, the pcsp
table gives how far SP moved since the function's entry; the return address
sits just above that, and the caller's SP is one word higher. No register is
ever written, so the same code serves live processes and core files. Each
physical frame is listed as the functions it runs, the inlined ones first
(gdbgomem.runtime.inline), as the runtime's traceback prints them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable, List, Optional

from gdbgomem.runtime.inline import InlineTrees, LogicalFrame
from gdbgomem.runtime.pclntab import Func, PclnTab

FUNC_FLAG_TOPFRAME = 1  # abi.FuncFlagTopFrame: nothing to unwind past (goexit, mstart, rt0_go)
FUNC_FLAG_SPWRITE = 2   # abi.FuncFlagSPWrite: the function switches SP by hand; unwinding past is unsafe
MAX_FRAMES = 100_000    # a 1 GiB stack of 8 KiB-minimum frames fits; bounds cycles in corrupt stacks
RETURN_ADDRESS = 8      # bytes a CALL pushes on amd64, above the callee's frame

# Frames whose caller was interrupted rather than calling: the saved pc is the
# faulting or preempted instruction itself, not a return address.
_TRAP_FUNCTIONS = frozenset({"runtime.sigpanic", "runtime.asyncPreempt"})


@dataclass
class Frame:
    """One function of a stack: a physical frame, which occupies [sp, sp + size_on_stack), or a call
    the compiler inlined into the physical frame that follows it (same pc and sp, no size).

    frame_size is the compiler's frame size, the one its stack check uses (obj6.go stacksplit):
    the locals the prologue's SUBQ makes room for plus the caller's BP it pushes; the pclntab's
    SP delta in the function's body. The return address the CALL pushed lies above it."""

    pc: int
    sp: int
    function: Optional[str]
    file: Optional[str]
    line: Optional[int]
    frame_size: Optional[int]
    entry: Optional[int] = None
    inlined: bool = False
    wrapper: bool = False  # code the compiler generated; tracebacks leave it out

    @property
    def size_on_stack(self) -> Optional[int]:
        """The frame and the return address above it: where the caller's frame starts."""
        return self.frame_size + RETURN_ADDRESS if self.frame_size is not None else None

    def to_json(self) -> dict:
        return {"function": self.function, "file": self.file, "line": self.line, "pc": self.pc,
                "sp": self.sp, "frame_size": self.frame_size, "size_on_stack": self.size_on_stack,
                "entry": self.entry, "inlined": self.inlined, "wrapper": self.wrapper}


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
           exact_pc: bool = False, inline: Optional[InlineTrees] = None) -> Unwound:
    """Walk from (pc, sp) towards stack_hi.

    exact_pc: pc is where the thread stopped (a live register), not a return
    address; its line is looked up at pc itself rather than pc-1. inline: the
    program's inline trees (None: physical frames only, by their table names).
    """
    frames: List[Frame] = []
    for _ in range(MAX_FRAMES):
        func = table.find_func(pc) if pc else None
        if func is None:
            return Unwound(frames, "unknown pc" if pc else "pc is zero")
        delta = table.sp_delta(func, pc)
        frame_size = delta if delta is not None and delta >= 0 else None
        lookup = pc if exact_pc or pc <= func.entry else pc - 1
        for logical in inline.logical_frames(func, lookup) if inline is not None else [_physical(table, func, lookup)]:
            if logical.inlined:
                frames.append(Frame(pc, sp, logical.function, logical.file, logical.line, None, None, True,
                                    logical.wrapper))
            else:
                frames.append(Frame(pc, sp, logical.function, logical.file, logical.line, frame_size, func.entry,
                                    False, logical.wrapper))
        if func.name == "runtime.goexit":
            return Unwound(frames, "goexit")
        if func.flag & FUNC_FLAG_TOPFRAME:
            return Unwound(frames, "top frame")
        if func.flag & FUNC_FLAG_SPWRITE:
            return Unwound(frames, "stack switch")
        if frame_size is None:
            return Unwound(frames, "no frame size")
        caller_sp = sp + frame_size + RETURN_ADDRESS
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


def _physical(table: PclnTab, func: Func, pc: int) -> LogicalFrame:
    where = table.file_line(func, pc)
    return LogicalFrame(func.name, where[0] if where else None, where[1] if where else None, False, False)


_PANICS = frozenset({"runtime.gopanic", "runtime.sigpanic", "runtime.panicwrap"})


def shown_frames(frames: List[Frame]) -> List[Frame]:
    """The frames a traceback shows: a wrapper only where it called a panic (traceback.go
    showfuncinfo and elideWrapperCalling; the callee is the frame before, shown or not)."""
    return [f for i, f in enumerate(frames) if not f.wrapper or (i > 0 and frames[i - 1].function in _PANICS)]


_RUNTIME_PREFIXES = ("runtime.", "internal/runtime/", "runtime/internal/")


def is_runtime_function(name: Optional[str], file: Optional[str] = None) -> bool:
    """Runtime code by name, or by living in GOROOT's src/runtime: that also catches the
    runtime's implementations of other packages' functions (sync.runtime_SemacquireMutex,
    time.Sleep), which carry the other package's name."""
    if (name or "").startswith(_RUNTIME_PREFIXES):
        return True
    return bool(file) and (file.startswith("runtime/") or "/src/runtime/" in file)
