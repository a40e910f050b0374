"""Which words of a goroutine's stack frame hold live pointers, from the compiler's stack
maps, as the GC's scanframeworker reads them (mgcmark.go, stkframe.go getStackMap):

  - locals: FUNCDATA_LocalsPointerMaps, the bitmap chosen by PCDATA_StackMapIndex at the
    call the frame is stopped in, covering the words just below varp (the frame's top,
    less the return address and the saved frame pointer);
  - arguments: FUNCDATA_ArgsPointerMaps, the same index, from argp (the caller's sp);
  - stack objects: FUNCDATA_StackObjects, variables whose address is taken, each with its
    own pointer mask (scanned whole here; the GC scans one only when a pointer to it is
    found, so a dead one may keep its referents a little longer in our view).
A frame the maps do not cover (no map, an index out of range, a type given by a GC
program) is scanned word by word and said to be.
"""

from __future__ import annotations

import struct
from typing import Dict, Optional, Tuple

import numpy as np

from gdbgomem.runtime.cache import per_binary
from gdbgomem.runtime.gc_program import read_gc_program, run_gc_program
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.pclntab import Func

PCDATA_STACK_MAP_INDEX = 1
FUNCDATA_ARGS_POINTER_MAPS, FUNCDATA_LOCALS_POINTER_MAPS, FUNCDATA_STACK_OBJECTS = 0, 1, 2
ARGS_SIZE_UNKNOWN = -0x80000000   # abi.ArgsSizeUnknown: an assembly function's arguments
STACK_OBJECT_RECORD = struct.Struct("<iiiI")  # off, size, ptrBytes (negative: a GC program), gcdataoff
MAX_STACK_OBJECTS = 1 << 12
MAX_MAP_BITS = 1 << 20


def frame_pointer_offsets(rt: GoRuntime, func: Func, pc: int, frame_size: int) -> Optional[np.ndarray]:
    """Offsets from the frame's sp of the words that hold pointers (int64), None where the maps
    do not say. pc: where the frame is stopped (a return address, or a function's entry)."""
    target = pc if pc == func.entry else pc - 1
    index = rt.pclntab.pcdata_value(func, PCDATA_STACK_MAP_INDEX, target) if pc != func.entry else None
    index = 0 if index is None or index == -1 else index
    key = (func.entry, index, frame_size)
    cache = _offsets_cache(rt)
    if key not in cache:
        cache[key] = _offsets(rt, func, index, frame_size)
    return cache[key]


@per_binary
def _offsets_cache(rt: GoRuntime) -> Dict[Tuple[int, int, int], Optional[np.ndarray]]:
    return {}


def _offsets(rt: GoRuntime, func: Func, index: int, frame_size: int) -> Optional[np.ndarray]:
    fp = frame_size                          # the caller's sp, from this frame's sp
    varp = fp - 8                            # less the return address
    if varp > 0:
        varp -= 8                            # less the saved frame pointer (amd64 keeps one)
    words = []
    if varp > 0:
        locals_map = _stack_map(rt, func, FUNCDATA_LOCALS_POINTER_MAPS, index)
        if locals_map is None:
            return None
        bits, nbit = locals_map
        words += [varp - 8 * nbit + 8 * i for i in range(nbit) if bits >> i & 1]
    if func.args not in (0, ARGS_SIZE_UNKNOWN):
        args_map = _stack_map(rt, func, FUNCDATA_ARGS_POINTER_MAPS, index)
        if args_map is None:
            return None
        bits, nbit = args_map
        words += [fp + 8 * i for i in range(nbit) if bits >> i & 1]
    objects = _stack_objects(rt, func, varp, fp)
    if objects is None:
        return None
    return np.unique(np.array(words + objects, dtype=np.int64))


def _funcdata(rt: GoRuntime, func: Func, which: int) -> Optional[int]:
    offset = rt.pclntab.funcdata_offset(func, which)
    base = rt.moduledata_word("gofunc")
    return base + offset if offset is not None and base is not None else None


def _stack_map(rt: GoRuntime, func: Func, which: int, index: int) -> Optional[Tuple[int, int]]:
    """(bits, nbit) of bitmap `index` of a runtime.stackmap {n, nbit int32; bytedata}; None
    when the function has none or the index is out of range. A map of no bits is (0, 0)."""
    at = _funcdata(rt, func, which)
    head = rt.target.try_read(at, 8) if at else None
    if head is None:
        return None
    count, nbit = struct.unpack("<ii", head)
    if nbit == 0:
        return 0, 0
    if not 0 <= index < count or not 0 < nbit <= MAX_MAP_BITS:
        return None
    size = (nbit + 7) // 8
    raw = rt.target.try_read(at + 8 + index * size, size)
    return (int.from_bytes(raw, "little"), nbit) if raw is not None else None


def _stack_objects(rt: GoRuntime, func: Func, varp: int, argp: int) -> Optional[list]:
    """Pointer words (offsets from sp) of the frame's address-taken variables; [] for none."""
    at = _funcdata(rt, func, FUNCDATA_STACK_OBJECTS)
    if at is None:
        return []
    head = rt.target.try_read(at, 8)
    count = struct.unpack("<Q", head)[0] if head else None
    if count is None or count > MAX_STACK_OBJECTS:
        return None
    table = rt.target.try_read(at + 8, count * STACK_OBJECT_RECORD.size)
    rodata = rt.moduledata_word("rodata")
    if table is None or rodata is None:
        return None
    words = []
    for off, _size, ptr_bytes, gcdata_off in STACK_OBJECT_RECORD.iter_unpack(table):
        start = varp + off if off < 0 else argp + off
        if ptr_bytes < 0:  # a GC program (up to 1.23), as the runtime's materializeGCProg runs it
            program = read_gc_program(rt.target, rodata + gcdata_off)
            bits = run_gc_program(program, -ptr_bytes // 8) if program is not None else None
            if bits is None:
                return None
            words += [start + 8 * i for i, pointer in enumerate(bits) if pointer]
            continue
        mask = rt.target.try_read(rodata + gcdata_off, (ptr_bytes // 8 + 7) // 8) if ptr_bytes else b""
        if mask is None:
            return None
        bits = int.from_bytes(mask, "little")
        words += [start + 8 * i for i in range(ptr_bytes // 8) if bits >> i & 1]
    return words

