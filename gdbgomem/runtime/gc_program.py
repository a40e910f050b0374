"""GC programs: how Go up to 1.23 stores the pointer mask of a type with over 16 384 words of
pointer data (abi.KindGCProg in the type's kind; GCData is a uint32 length, then the program).

The runtime expands a program with runGCProg (mbitmap.go). It is a byte code of four forms:
    00000000             stop
    0nnnnnnn b...        emit n bits, low bit first, from the next (n+7)/8 bytes
    1nnnnnnn c           repeat the last n bits c times (c a uvarint)
    10000000 n c         the same with n a uvarint
"""

from __future__ import annotations

import struct
from typing import List, Optional, Tuple

from gdbgomem.runtime.target import Target

MAX_PROGRAM_BYTES = 1 << 20


def read_gc_program(target: Target, at: int) -> Optional[bytes]:
    """A GC program as the compiler stores it (a type's GCData, a stack object's gcdata): a
    uint32 length, then the program."""
    head = target.try_read(at, 4)
    length = struct.unpack("<I", head)[0] if head else 0
    return target.try_read(at + 4, length) if 0 < length <= MAX_PROGRAM_BYTES else None


def run_gc_program(program: bytes, max_bits: int) -> Optional[List[bool]]:
    """The pointer bits a program emits; None when it is malformed, ends without its stop,
    or emits more than max_bits (a corrupt program must not fill memory)."""
    bits: List[bool] = []
    at = 0
    while at < len(program):
        op = program[at]
        at += 1
        count = op & 0x7F
        if not op & 0x80:
            if count == 0:
                return bits
            end = at + (count + 7) // 8
            if end > len(program) or len(bits) + count > max_bits:
                return None
            literal = int.from_bytes(program[at:end], "little")
            bits.extend(bool(literal >> i & 1) for i in range(count))
            at = end
            continue
        if count == 0:
            count, at = _uvarint(program, at)
        repeat, at = _uvarint(program, at)
        if count is None or repeat is None or not 0 < count <= len(bits) or len(bits) + count * repeat > max_bits:
            return None
        bits.extend(bits[-count:] * repeat)
    return None


def _uvarint(data: bytes, at: int) -> Tuple[Optional[int], int]:
    value = shift = 0
    while at < len(data) and shift < 64:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
    return None, at
