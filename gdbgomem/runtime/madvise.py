"""How the runtime returns memory to the OS: the madvise advice of mem_linux.go sysUnusedOS.

The scavenger calls sysUnusedOS, which uses MADV_DONTNEED when debug.madvdontneed is set
(GODEBUG madvdontneed=1, the default on Linux since Go 1.16: runtime1.go parsedebugvars) and
otherwise adviseUnused: MADV_FREE, or MADV_DONTNEED after the kernel refused MADV_FREE. Both
variables are found where sysUnusedOS reads them, so the answer needs neither DWARF nor
symbols: the first 32-bit load from memory is adviseUnused, the first 32-bit compare of memory
with zero is debug.madvdontneed (the same code in Go 1.21 to 1.27).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Optional, Tuple

from gdbgomem.runtime.cache import per_binary, per_stop
from gdbgomem.runtime.goruntime import GoRuntime

MADV_DONTNEED, MADV_FREE = 4, 8   # Linux's advice numbers (defs_linux_amd64.go)
DEFAULT_MADVDONTNEED = 1          # runtime1.go: Linux's default since Go 1.16
MAX_CODE = 256                    # the reads come first in sysUnusedOS's body
LOAD = re.compile(r"^mov e\w+, dword ptr \[rip \+ (0x[0-9a-f]+)\]$")
COMPARE = re.compile(r"^cmp dword ptr \[rip \+ (0x[0-9a-f]+)\], 0$")


@dataclass(frozen=True)
class MadviseMode:
    madvdontneed: int   # debug.madvdontneed as the process has it
    advise_unused: int  # adviseUnused: MADV_FREE until the kernel refused it

    @property
    def advice(self) -> str:
        """What the scavenger passes to madvise now."""
        if self.madvdontneed and self.advise_unused:
            return "MADV_DONTNEED"
        return {MADV_FREE: "MADV_FREE", MADV_DONTNEED: "MADV_DONTNEED"}.get(self.advise_unused, "none")

    @property
    def from_godebug(self) -> bool:
        return self.madvdontneed != DEFAULT_MADVDONTNEED


@per_binary
def variable_addresses(rt: GoRuntime) -> Optional[Tuple[int, int]]:
    """(&debug.madvdontneed, &adviseUnused), from sysUnusedOS's machine code."""
    func = rt.pclntab.funcs_named(["runtime.sysUnusedOS"]).get("runtime.sysUnusedOS")
    code = rt.target.try_read(func.entry, MAX_CODE) if func is not None else None
    if not code:
        return None
    import capstone  # imported on use, as by the symbol finder
    machine = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    load = compare = None
    for insn in machine.disasm(code, func.entry):
        text = f"{insn.mnemonic} {insn.op_str}"
        found = LOAD.match(text) if load is None else None
        if found:
            load = insn.address + insn.size + int(found.group(1), 16)
        found = COMPARE.match(text) if compare is None else None
        if found:
            compare = insn.address + insn.size + int(found.group(1), 16)
        if load is not None and compare is not None:
            return compare, load
    return None


@per_stop
def madvise_mode(rt: GoRuntime) -> Optional[MadviseMode]:
    """The advice in use, None when sysUnusedOS is not the expected shape or unreadable."""
    found = variable_addresses(rt)
    if found is None:
        return None
    values = [rt.target.try_read(address, 4) for address in found]
    if None in values:
        return None
    madvdontneed, advise = (struct.unpack("<i", v)[0] for v in values)
    return MadviseMode(madvdontneed, advise)
