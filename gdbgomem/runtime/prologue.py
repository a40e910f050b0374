"""A function's stack check as the compiler wrote it: its first instructions, disassembled.

Every Go function that may grow its stack starts by comparing SP (less the part of its frame
over StackSmall) with g.stackguard0, which R14 points at (the g register of the register ABI),
and jumps to a call of morestack when SP is not above it. The instructions are read from the
target's own text up to that conditional jump.
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

from gdbgomem.runtime.goruntime import GoRuntime

MAX_PROLOGUE = 48  # bytes: the check is at most a lea, a cmp and a jcc, a few bytes each
MAX_FRAME_SETUP = 32  # bytes after the check: push rbp, mov rbp, rsp, sub rsp, N
SUB_RSP = re.compile(r"^sub rsp, (0x[0-9a-f]+|\d+)$")


def prologue(rt: GoRuntime, entry: int) -> List[Tuple[int, str]]:
    """(address, instruction) from the entry to the first conditional jump; [] when there is
    none in the first MAX_PROLOGUE bytes (a NOSPLIT function, which checks nothing)."""
    code = rt.target.try_read(entry, MAX_PROLOGUE)
    if not code:
        return []
    import capstone  # imported on use, as by the symbol finder
    machine = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    found = []
    for insn in machine.disasm(code, entry):
        found.append((insn.address, f"{insn.mnemonic} {insn.op_str}".strip()))
        if insn.mnemonic.startswith("j") and insn.mnemonic != "jmp":
            return found
    return []


def frame_allocation(rt: GoRuntime, entry: int) -> Optional[Tuple[int, str]]:
    """(bytes, instruction) of the `sub rsp, N` that makes room for the locals, right after the
    stack check (obj6.go: PUSHQ BP, MOVQ SP, BP, then ADJSP by the locals); None when the frame
    has no locals beyond the saved BP, or the code is not that shape."""
    code = rt.target.try_read(entry, MAX_PROLOGUE + MAX_FRAME_SETUP)
    if not code:
        return None
    import capstone
    machine = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    checked = False
    for insn in machine.disasm(code, entry):
        text = f"{insn.mnemonic} {insn.op_str}".strip()
        if not checked:
            checked = insn.mnemonic.startswith("j") and insn.mnemonic != "jmp"
            continue
        found = SUB_RSP.match(text)
        if found:
            return int(found.group(1), 0), text
        if text not in ("push rbp", "mov rbp, rsp"):
            return None
    return None
