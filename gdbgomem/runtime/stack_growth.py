"""Stack growth as it happens: what runtime.copystack (stack.go) is asked to do, and what it did.

newstack, called through morestack when a function's prologue finds too little stack, calls
copystack(gp, newsize) with the goroutine's g in RAX and the new size in RBX (the register
ABI); gp.stack still holds the old bounds and gp.sched.pc the return address into the
function that overflowed (morestack saved it there). When copystack returns, gp.stack holds
the new bounds. The GC's shrinkstack calls copystack too, with a smaller size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import List, Optional, Tuple

from gdbgomem.runtime.goruntime import GoRuntime

MAX_FUNCTION = 1 << 14  # bytes of copystack disassembled for its returns


@dataclass
class Growth:
    goid: int
    g_address: int
    old_lo: int
    old_hi: int
    new_size: int
    function: Optional[str]  # the function whose prologue asked for more stack
    new_lo: Optional[int] = None
    new_hi: Optional[int] = None


def copystack_sites(rt: GoRuntime) -> Tuple[int, List[int]]:
    """(entry, addresses of its ret instructions) of runtime.copystack, from the target's text."""
    func = rt.pclntab.funcs_named(["runtime.copystack"]).get("runtime.copystack")
    if func is None:
        return 0, []
    code = rt.target.try_read(func.entry, min(func.end - func.entry, MAX_FUNCTION)) or b""
    import capstone  # imported on use, as by the symbol finder
    machine = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    return func.entry, [insn.address for insn in machine.disasm(code, func.entry) if insn.mnemonic == "ret"]


def _g_fields(rt: GoRuntime, g_address: int) -> Optional[Tuple[int, int, int, int]]:
    """(goid, stack.lo, stack.hi, sched.pc) read straight from memory (no per-stop cache: the
    process moves on between two calls without the debugger's resume events)."""
    layout = rt.layout("runtime.g")
    offsets = [layout.offset(name) for name in ("goid", "stack.lo", "stack.hi", "sched.pc")]
    data = rt.target.try_read(g_address, max(offsets) + 8)
    return tuple(struct.unpack_from("<Q", data, at)[0] for at in offsets) if data else None


def growth_at_entry(rt: GoRuntime, g_address: int, new_size: int) -> Optional[Growth]:
    fields = _g_fields(rt, g_address)
    if fields is None:
        return None
    goid, lo, hi, pc = fields
    return Growth(goid, g_address, lo, hi, new_size, rt.function_at(pc))


def growth_done(rt: GoRuntime, growth: Growth) -> Growth:
    fields = _g_fields(rt, growth.g_address)
    if fields is not None:
        growth.new_lo, growth.new_hi = fields[1], fields[2]
    return growth
