"""A function's stack check as the compiler wrote it: its first instructions, disassembled.

Every Go function that may grow its stack starts by comparing SP (less the part of its frame
over StackSmall) with g.stackguard0, which R14 points at (the g register of the register ABI),
and jumps to a call of morestack when SP is not above it. The instructions are read from the
target's own text up to that conditional jump.
"""

from __future__ import annotations

from typing import List, Tuple

from gdbgomem.runtime.goruntime import GoRuntime

MAX_PROLOGUE = 48  # bytes: the check is at most a lea, a cmp and a jcc, a few bytes each


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
